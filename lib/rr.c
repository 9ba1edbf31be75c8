/* rr.c — placeholder until the module lands. */
