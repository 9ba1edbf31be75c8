/*
 * remote_none.c — check_remote() for a caa built without gRPC
 * (CAA_BUILD_SERVER=OFF): say so instead of pretending to connect.
 */
#include <stdio.h>

#include "check.h"
#include "cli.h"

int check_remote(const check_run_t *run, check_answer_t *ans)
{
	(void)ans;
	fprintf(stderr,
	        "%s: --server: this caa was built without gRPC (CAA_BUILD_SERVER=OFF); "
	        "use --config FILE to check in-process\n",
	        run->prog);
	return CLI_EXIT_USAGE;
}
