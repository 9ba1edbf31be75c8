/* problem.c — placeholder until the module lands. */
