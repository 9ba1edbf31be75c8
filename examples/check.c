/*
 * check.c — libcaa's synchronous check (docs/libcaa.md): load a config, make
 * a context, check each identifier in turn, print one line for each.
 *
 *   cc -o check check.c $(pkg-config --cflags --libs caa)
 *   ./check /etc/caad/caad.json www.example.com '*.example.org'
 *
 * Prints "IDENTIFIER VERDICT REASON", and the problem's detail on the next
 * line when there is one. Exit status: 0 when every identifier is permitted,
 * 1 when one is not, 2 on an error.
 */
#include <stdio.h>

#include <caa/caa.h>

static void print_result(const caa_result_t *res)
{
	printf("%s %s %s\n", res->identifier, caa_verdict_name(res->verdict),
	       caa_reason_name(res->reason));
	if (res->problem != NULL)
		printf("  %s\n", res->problem->detail);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CONFIG IDENTIFIER...\n", argv[0]);
		return 2;
	}
	fprintf(stderr, "libcaa %s\n", caa_version());

	char err[512];
	caa_config_t *cfg = NULL;
	if (caa_config_load(argv[1], &cfg, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	/* the context resolves with cfg's dns settings and borrows cfg: free it last */
	caa_ctx_t *ctx = NULL;
	if (caa_ctx_new(cfg, &ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "%s\n", err);
		caa_config_free(cfg);
		return 2;
	}

	int status = 0;
	for (int i = 2; i < argc; i++) {
		/* borrowed strings; unset fields: type "dns", default policy, no account */
		caa_request_t req = {.identifier = argv[i], .method = "dns-01"};
		caa_result_t *res = NULL;
		int rc = caa_check(ctx, &req, &res);
		if (rc != CAA_EOK) {
			/* a bad identifier, or the context failed: never "permitted" */
			printf("%s error: %s\n", argv[i], caa_strerror(rc));
			status = 2;
			continue;
		}
		print_result(res);
		if (res->verdict != CAA_PERMITTED && status == 0)
			status = 1;
		caa_result_free(res);
	}

	caa_ctx_free(ctx);
	caa_config_free(cfg);
	return status;
}
