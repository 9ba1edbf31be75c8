/*
 * cli.h — the caa command: exit statuses (docs/cli.md) and the subcommands
 * main.c dispatches to. A subcommand gets argv from its own name on, with
 * argv[0] = "caa evaluate" (for messages), and returns an exit status.
 */
#ifndef CAA_CLI_H
#define CAA_CLI_H

#include <stdbool.h>
#include <stddef.h>

enum cli_exit {
	CLI_EXIT_PERMITTED = 0,   /* every identifier permitted */
	CLI_EXIT_REFUSED = 1,     /* some identifier forbidden */
	CLI_EXIT_USAGE = 2,       /* usage or config error (also bad names, unreadable files) */
	CLI_EXIT_UNREACHABLE = 3, /* the server could not be reached or gave a gRPC error */
	CLI_EXIT_LOOKUP = 4,      /* none forbidden, but some lookup failed or was not
	                           * completed: worth a retry, unlike 1 */
};

struct caa_result;

/*
 * The exit status of n results (results[i] NULL: not answered) and the status
 * owed to errors met on the way (0, or 3): 3 wins, then 1 (a forbidden
 * identifier is final), then 4 (some lookup failed or a result is missing),
 * else 0.
 */
int cli_exit_status(struct caa_result *const *results, size_t n, int error_status);

/* "-" as a file argument: standard input. */
bool cli_is_stdin(const char *path);

/* The worse of two exit statuses, in that order: 2, 3, 1, 4, 0. */
int cli_exit_worse(int a, int b);

/* caa evaluate --records FILE ... NAME...: decide from a records file, no DNS. */
int cli_evaluate(int argc, char **argv);

/* caa check (--config FILE | --server HOST:PORT) ... NAME...: one check per name. */
int cli_check(int argc, char **argv);

/* caa order ... NAME... | --cert FILE | --csr FILE: all identifiers of one order. */
int cli_order(int argc, char **argv);

/* caa scan (--issuer DOMAIN... | --config FILE) [options] [FILE]: a list of names. */
int cli_scan(int argc, char **argv);

#endif
