/*
 * evaluate.c — `caa evaluate`: what would a CA decide if DNS answered as a
 * records file says? Config (or --issuer) → records file → per-label outcomes
 * → caa_evaluate() → output. The same decision code as a live check; no DNS.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "output.h"
#include "records.h"
#include "result.h"

#define ISSUERS_MAX 16

static const char usage_text[] =
    "usage: caa evaluate --records FILE [--config FILE | --issuer DOMAIN]... [options]\n"
    "                    NAME...\n"
    "\n"
    "Decide whether a CA may issue for each NAME if DNS answered as FILE says\n"
    "(docs/records-file.md). No DNS is queried.\n"
    "\n"
    "  --records FILE       CAA records and lookup failures per name (required)\n"
    "  --config FILE        caad config: issuer_domains, account_uri_prefixes, policy\n"
    "  --issuer DOMAIN      act as the CA with this issuer domain (repeatable);\n"
    "                       replaces the config's issuer_domains. Without --config\n"
    "                       at least one --issuer is required.\n"
    "  --account-uri URI    ACME account URL, for accounturi (RFC 8657)\n"
    "  --account-id N       account number, matched via account_uri_prefixes\n"
    "  --method M           validation method (dns-01, http-01, ...) for validationmethods\n"
    "  --policy NAME        a profile of the config instead of the default policy\n"
    "  --explain            show every label, the relevant RRset and each record's part\n"
    "  --json               one caa.v1 CheckResponse JSON object per line\n"
    "  -h, --help           this text\n"
    "\n"
    "exit status: 0 all permitted, 1 some forbidden, 2 usage, config or records\n"
    "file error, 4 none forbidden but some lookup failed (as the records say)\n";

enum {
	OPT_RECORDS = 256,
	OPT_CONFIG,
	OPT_ISSUER,
	OPT_ACCOUNT_URI,
	OPT_ACCOUNT_ID,
	OPT_METHOD,
	OPT_POLICY,
	OPT_JSON,
	OPT_EXPLAIN
};

static const struct option options[] = {
    {"records", required_argument, NULL, OPT_RECORDS},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"account-uri", required_argument, NULL, OPT_ACCOUNT_URI},
    {"account-id", required_argument, NULL, OPT_ACCOUNT_ID},
    {"method", required_argument, NULL, OPT_METHOD},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"json", no_argument, NULL, OPT_JSON},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct args {
	const char *records;
	const char *config;
	caa_name_t issuers[ISSUERS_MAX];
	const char *issuer_text[ISSUERS_MAX]; /* issuers[i].text, for the policy */
	size_t n_issuers;
	const char *account_uri;
	int64_t account_id;
	const char *method;
	const char *policy;
	bool json, explain;
} args_t;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("caa evaluate: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	return CLI_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, args_t *a)
{
	int c;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_RECORDS: a->records = optarg; break;
		case OPT_CONFIG: a->config = optarg; break;
		case OPT_ACCOUNT_URI: a->account_uri = optarg; break;
		case OPT_METHOD: a->method = optarg; break;
		case OPT_POLICY: a->policy = optarg; break;
		case OPT_JSON: a->json = true; break;
		case OPT_EXPLAIN: a->explain = true; break;
		case OPT_ISSUER: {
			if (a->n_issuers == ISSUERS_MAX)
				return usage_error("more than %d --issuer options", ISSUERS_MAX);
			caa_name_t *n = &a->issuers[a->n_issuers];
			int rc = caa_name_parse(optarg, strlen(optarg), n);
			if (rc == CAA_EOK && n->wildcard)
				rc = CAA_ENAME_WILDCARD;
			if (rc != CAA_EOK) {
				fprintf(stderr, "caa evaluate: --issuer %s: %s\n", optarg,
				        caa_strerror(rc));
				return CLI_EXIT_USAGE;
			}
			a->issuer_text[a->n_issuers++] = n->text;
			break;
		}
		case OPT_ACCOUNT_ID: {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v <= 0)
				return usage_error("--account-id: expected a positive integer, "
				                   "got \"%s\"",
				                   optarg);
			a->account_id = v;
			break;
		}
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_PERMITTED;
		default: /* getopt_long has said what was wrong */
			fputc('\n', stderr);
			fputs(usage_text, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (a->records == NULL)
		return usage_error("--records FILE is required");
	if (optind == argc)
		return usage_error("no NAME given");
	return -1; /* go on */
}

/* Every name is checked before anything is printed: a typo in the fifth name
 * must not leave four results and an error behind. */
static int check_names(char **names, int n)
{
	for (int i = 0; i < n; i++) {
		caa_name_t name;
		int rc = caa_name_parse(names[i], strlen(names[i]), &name);
		if (rc != CAA_EOK && rc != CAA_ENOTAPPLICABLE) {
			fprintf(stderr, "caa evaluate: \"%s\": %s\n", names[i], caa_strerror(rc));
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

static int evaluate_one(const args_t *a, const caa_policy_t *pol, const caa_records_t *recs,
                        const char *ident)
{
	caa_request_t req = {
	    /* as `caa check`: a NAME that is an address is an IP identifier */
	    .type = caa_name_is_ip(ident, strlen(ident)) ? "ip" : "dns",
	    .identifier = ident,
	    .account_uri = a->account_uri,
	    .account_id = a->account_id,
	    .method = a->method,
	    .policy = a->policy,
	    .explain = a->explain,
	};
	caa_label_t labels[CAA_LABELS_MAX];
	caa_name_t name;
	caa_result_t *res;
	size_t n = 0;

	/* IP and .onion names need no labels: caa_evaluate answers NOT_APPLICABLE. */
	if (caa_name_parse(ident, strlen(ident), &name) == CAA_EOK) {
		caa_records_labels(recs, &name, labels);
		n = name.n_labels;
	}
	int rc = caa_evaluate(pol, &req, labels, n, a->explain, &res);
	if (rc != CAA_EOK) {
		fprintf(stderr, "caa evaluate: \"%s\": %s\n", ident, caa_strerror(rc));
		return CLI_EXIT_USAGE;
	}
	if (a->json) {
		if (output_result_json(stdout, res) != 0)
			fprintf(stderr, "caa evaluate: \"%s\": %s\n", ident,
			        caa_strerror(CAA_ENOMEM));
	} else {
		output_result_human(stdout, res, pol, a->explain);
	}
	rc = cli_exit_status(&res, 1, CLI_EXIT_PERMITTED);
	caa_result_free(res);
	return rc;
}

int cli_evaluate(int argc, char **argv)
{
	args_t a = {0};
	caa_config_t *cfg = NULL;
	caa_records_t *recs = NULL;
	char err[1024];
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	if ((rc = check_names(argv + optind, argc - optind)) >= 0)
		return rc;

	rc =
	    a.config ? caa_config_load(a.config, &cfg, err, sizeof(err)) : caa_config_default(&cfg);
	if (rc != CAA_EOK) {
		fprintf(stderr, "caa evaluate: %s\n", a.config ? err : caa_strerror(rc));
		return CLI_EXIT_USAGE;
	}
	const caa_policy_t *base = caa_config_policy(cfg, a.policy);
	if (base == NULL) {
		fprintf(stderr, "caa evaluate: --policy %s: no such profile in %s\n", a.policy,
		        a.config ? a.config : "the default config");
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	caa_request_t opts = {.account_uri = a.account_uri,
	                      .account_id = a.account_id,
	                      .method = a.method,
	                      .policy = a.policy};
	if (output_request_refusal(stderr, "caa evaluate", base, &opts) != CAA_EOK) {
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	caa_policy_t pol = *base;
	if (a.n_issuers > 0) {
		pol.issuer_domains = a.issuer_text;
		pol.n_issuer_domains = a.n_issuers;
	}
	if (pol.n_issuer_domains == 0) {
		fprintf(stderr, "caa evaluate: no issuer domain: give --issuer DOMAIN, or --config "
		                "FILE with \"issuer_domains\"\n");
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}

	rc = caa_records_load(a.records, &recs, err, sizeof(err));
	if (rc != CAA_EOK) {
		fprintf(stderr, "caa evaluate: %s\n", err);
		caa_config_free(cfg);
		return CLI_EXIT_USAGE;
	}

	int status = CLI_EXIT_PERMITTED;
	for (int i = optind; i < argc; i++) {
		status = cli_exit_worse(status, evaluate_one(&a, &pol, recs, argv[i]));
	}
	caa_records_free(recs);
	caa_config_free(cfg);
	return status;
}
