/*
 * main.c — the caa command: pick the subcommand, hand it the rest of argv,
 * return its exit status (docs/cli.md: 0 all permitted, 1 some forbidden, 2
 * usage or config error, 3 server unreachable, 4 some lookup failed).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "result.h"

#ifndef CAA_VERSION
#define CAA_VERSION "unknown"
#endif

int cli_exit_status(struct caa_result *const *results, size_t n, int error_status)
{
	if (error_status == CLI_EXIT_UNREACHABLE || error_status == CLI_EXIT_USAGE)
		return error_status;
	bool forbidden = false, failed = error_status != CLI_EXIT_PERMITTED;
	for (size_t i = 0; i < n; i++) {
		if (results[i] == NULL)
			failed = true;
		else if (results[i]->verdict == CAA_FORBIDDEN)
			forbidden = true;
		else if (results[i]->verdict != CAA_PERMITTED)
			failed = true; /* LOOKUP_FAILED, or anything unknown: never 0 */
	}
	return forbidden ? CLI_EXIT_REFUSED : failed ? CLI_EXIT_LOOKUP : CLI_EXIT_PERMITTED;
}

bool cli_is_stdin(const char *path)
{
	return path[0] == '-' && path[1] == '\0';
}

static int exit_rank(int status)
{
	switch (status) {
	case CLI_EXIT_PERMITTED: return 0;
	case CLI_EXIT_LOOKUP: return 1;
	case CLI_EXIT_REFUSED: return 2;
	case CLI_EXIT_UNREACHABLE: return 3;
	default: return 4; /* usage, and anything unknown */
	}
}

int cli_exit_worse(int a, int b)
{
	return exit_rank(a) >= exit_rank(b) ? a : b;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"check", cli_check, "check names against DNS, in-process (--config) or via caad (--server)"},
    {"order", cli_order, "check all names of an order at once (also from --cert / --csr)"},
    {"evaluate", cli_evaluate, "decide from a records file, without DNS"},
    {"scan", cli_scan, "check a list of names in-process, for CAA research"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: caa <command> [options] NAME...\n\ncommands:\n", out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'caa <command> --help' for the options of a command.\n"
	      "exit status: 0 all permitted, 1 some forbidden, 2 usage or config error,\n"
	      "3 server unreachable or gRPC error, 4 none forbidden but some lookup failed\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CLI_EXIT_PERMITTED;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("caa %s\n", CAA_VERSION);
		return CLI_EXIT_PERMITTED;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		/* getopt_long prefixes its messages with argv[0]: "caa evaluate: ..." */
		char prog[32];
		snprintf(prog, sizeof(prog), "caa %s", commands[i].name);
		argv[1] = prog;
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "caa: unknown command \"%s\"\n\n", cmd);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
