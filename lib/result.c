/* result.c — placeholder until the module lands. */
