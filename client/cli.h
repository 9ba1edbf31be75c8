/*
 * cli.h — the caa command: exit statuses (docs/cli.md) and the subcommands
 * main.c dispatches to. A subcommand gets argv from its own name on, with
 * argv[0] = "caa evaluate" (for messages), and returns an exit status.
 */
#ifndef CAA_CLI_H
#define CAA_CLI_H

enum cli_exit {
	CLI_EXIT_PERMITTED = 0,   /* every identifier permitted */
	CLI_EXIT_REFUSED = 1,     /* some identifier forbidden or its lookup failed */
	CLI_EXIT_USAGE = 2,       /* usage or config error (also bad names, unreadable files) */
	CLI_EXIT_UNREACHABLE = 3, /* the server could not be reached or gave a gRPC error */
};

/* caa evaluate --records FILE ... NAME...: decide from a records file, no DNS. */
int cli_evaluate(int argc, char **argv);

/* caa check (--config FILE | --server HOST:PORT) ... NAME...: one check per name. */
int cli_check(int argc, char **argv);

/* caa order ... NAME... | --cert FILE | --csr FILE: all identifiers of one order. */
int cli_order(int argc, char **argv);

#endif
