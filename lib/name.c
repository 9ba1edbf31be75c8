/* name.c — placeholder until the module lands. */
