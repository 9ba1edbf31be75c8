/*
 * check.c — `caa check` and `caa order` (docs/cli.md): read the command line
 * and the identifiers (NAMEs, and the SANs of --csr / --cert files), check
 * every identifier before anything is asked, run the checks in-process
 * (local.c) or through caad (remote.c), print, and turn the verdicts into the
 * exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check.h"
#include "cli.h"
#include "name.h"
#include "sans.h"

static const char usage_check[] =
    "usage: caa check (--issuer DOMAIN... | --config FILE | --server HOST:PORT)\n"
    "                 [options] NAME... | --cert FILE|-\n"
    "\n"
    "Check whether the CA may issue for each NAME, looking CAA up in DNS now:\n"
    "in-process as the CA with these issuer domains and the built-in defaults\n"
    "(--issuer), in-process with a config's resolver settings and policy\n"
    "(--config), or through a caad (--server). One result per NAME, checked\n"
    "concurrently; the names of --cert / --csr files are checked as one order.\n";

static const char usage_order[] =
    "usage: caa order (--issuer DOMAIN... | --config FILE | --server HOST:PORT)\n"
    "                 [options] NAME...\n"
    "       caa order ... --cert CERT.pem | --csr REQUEST.pem [NAME...]\n"
    "\n"
    "Check all identifiers of one order at once (one CheckOrder: shared parent\n"
    "labels are looked up once) and print each result and the order's problem\n"
    "as the CA would send it, with one sub-problem per failing identifier.\n";

static const char usage_options[] =
    "\n"
    "  --issuer DOMAIN        check in-process as the CA with this issuer domain\n"
    "                         (repeatable), no config file: full DNSSEC-validating\n"
    "                         recursion from the root hints, default policy\n"
    "  --unbound-conf FILE    with --issuer: resolve with this libunbound config\n"
    "  --trust-anchor FILE    with --issuer: this DNSSEC trust anchor file instead\n"
    "                         of /usr/share/dns/root.key\n"
    "  --config FILE          check in-process with this caad config (no server)\n"
    "  --server HOST:PORT     ask this caad over gRPC (plaintext unless a TLS option)\n"
    "  --tls                  TLS to the server, verified with gRPC's default roots\n"
    "  --ca FILE              TLS, verifying the server with these PEM roots\n"
    "  --tls-cert FILE        client certificate for mutual TLS (PEM; with --tls-key)\n"
    "  --tls-key FILE         its private key (PEM)\n"
    "  --server-name NAME     expect NAME in the server's certificate instead of HOST\n"
    "  --cert FILE            add the DNS and IP subjectAltNames of a certificate\n"
    "                         (first of a chain) or a certificate request, PEM or\n"
    "                         DER; \"-\" reads standard input; repeatable. The CN is\n"
    "                         not read: the SANs are the names. A refusal also\n"
    "                         prints the order's problem on stderr\n"
    "  --csr FILE             the same, trying a certificate request first\n"
    "  --account-uri URI      ACME account URL, for accounturi (RFC 8657)\n"
    "  --account-id N         account number, matched via account_uri_prefixes\n"
    "  --method M             validation method (dns-01, http-01, ...)\n"
    "  --policy NAME          a profile of the config instead of the default policy\n"
    "  --validated-at TIME    when the authorization was validated (RFC 3339, e.g.\n"
    "                         2026-11-23T08:00:00Z): inside the recheck window the\n"
    "                         result is reused without DNS\n"
    "  --timeout DUR          deadline (500ms, 10s, 1m); in-process default: the\n"
    "                         config's dns.timeout; with --server default 30s\n"
    "  --explain              show the climb: every label, the relevant RRset, each\n"
    "                         record's part, retries, times, DNSSEC state\n"
    "  --json                 proto3 JSON: one CheckResponse per line (check), one\n"
    "                         CheckOrderResponse (order)\n"
    "  --verbose              let gRPC log on stderr (--server)\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 all permitted, 1 some forbidden, 2 usage or config error,\n"
    "3 the server could not be reached or answered with a gRPC error, 4 none\n"
    "forbidden but some lookup failed (or could not be completed)\n";

enum {
	OPT_CONFIG = 256,
	OPT_SERVER,
	OPT_TLS,
	OPT_CA,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_SERVER_NAME,
	OPT_CSR,
	OPT_CERT,
	OPT_ACCOUNT_URI,
	OPT_ACCOUNT_ID,
	OPT_METHOD,
	OPT_POLICY,
	OPT_VALIDATED_AT,
	OPT_TIMEOUT,
	OPT_EXPLAIN,
	OPT_JSON,
	OPT_VERBOSE,
	OPT_ISSUER,
	OPT_UNBOUND_CONF,
	OPT_TRUST_ANCHOR,
};

static const struct option options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"server", required_argument, NULL, OPT_SERVER},
    {"tls", no_argument, NULL, OPT_TLS},
    {"ca", required_argument, NULL, OPT_CA},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"server-name", required_argument, NULL, OPT_SERVER_NAME},
    {"csr", required_argument, NULL, OPT_CSR},
    {"cert", required_argument, NULL, OPT_CERT},
    {"account-uri", required_argument, NULL, OPT_ACCOUNT_URI},
    {"account-id", required_argument, NULL, OPT_ACCOUNT_ID},
    {"method", required_argument, NULL, OPT_METHOD},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"validated-at", required_argument, NULL, OPT_VALIDATED_AT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"json", no_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"unbound-conf", required_argument, NULL, OPT_UNBOUND_CONF},
    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A --csr or --cert file, in command-line order. */
typedef struct san_file {
	const char *path;
	bool csr;
} san_file_t;

typedef struct args {
	check_run_t run;
	const char *account_uri, *method, *policy;
	int64_t account_id, validated_at_ms;
	san_file_t *files;
	size_t n_files;
	sans_list_t sans;
	const char **source; /* per request: the file it came from, NULL for a NAME */
} args_t;

static void usage(FILE *out, const args_t *a)
{
	fputs(a->run.order ? usage_order : usage_check, out);
	fputs(usage_options, out);
}

static int usage_error(const args_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const args_t *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", a->run.prog);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	usage(stderr, a);
	return CLI_EXIT_USAGE;
}

static int two_digits(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * RFC 3339 date-time ("2026-11-23T08:00:00Z", "2026-11-23t08:00:00.250+02:00")
 * into Unix milliseconds. Returns 0, or -1 when text is not one.
 */
static int parse_rfc3339(const char *text, int64_t *ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t len = strlen(text);
	if (len < sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		char c = text[i];
		bool ok = shape[i] == 'd'   ? (c >= '0' && c <= '9')
		          : shape[i] == 'T' ? (c == 'T' || c == 't')
		                            : c == shape[i];
		if (!ok)
			return -1;
	}
	struct tm tm = {0};
	tm.tm_year = two_digits(text) * 100 + two_digits(text + 2) - 1900;
	tm.tm_mon = two_digits(text + 5) - 1;
	tm.tm_mday = two_digits(text + 8);
	tm.tm_hour = two_digits(text + 11);
	tm.tm_min = two_digits(text + 14);
	tm.tm_sec = two_digits(text + 17);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	const char *p = text + sizeof(shape) - 1;
	int frac_ms = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac_ms *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h = two_digits(p + 1), m = two_digits(p + 4);
		if (h < 0 || h > 23 || m < 0 || m > 59)
			return -1;
		offset_min = (*p == '-' ? -1 : 1) * (h * 60 + m);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac_ms;
	return 0;
}

static int add_file(args_t *a, const char *path, bool csr)
{
	san_file_t *f = realloc(a->files, (a->n_files + 1) * sizeof(*f));
	if (f == NULL) {
		fprintf(stderr, "%s: out of memory\n", a->run.prog);
		return CLI_EXIT_USAGE;
	}
	a->files = f;
	a->files[a->n_files++] = (san_file_t){path, csr};
	return -1;
}

static int parse_args(int argc, char **argv, args_t *a)
{
	check_run_t *r = &a->run;
	int c;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG: r->config = optarg; break;
		case OPT_SERVER: r->server = optarg; break;
		case OPT_TLS: r->tls = true; break;
		case OPT_CA:
			r->ca = optarg;
			r->tls = true;
			break;
		case OPT_TLS_CERT:
			r->tls_cert = optarg;
			r->tls = true;
			break;
		case OPT_TLS_KEY:
			r->tls_key = optarg;
			r->tls = true;
			break;
		case OPT_SERVER_NAME: r->server_name = optarg; break;
		case OPT_ACCOUNT_URI: a->account_uri = optarg; break;
		case OPT_METHOD: a->method = optarg; break;
		case OPT_POLICY: a->policy = optarg; break;
		case OPT_EXPLAIN: r->explain = true; break;
		case OPT_JSON: r->json = true; break;
		case OPT_VERBOSE: r->verbose = true; break;
		case OPT_UNBOUND_CONF: r->unbound_conf = optarg; break;
		case OPT_TRUST_ANCHOR: r->trust_anchor = optarg; break;
		case OPT_ISSUER: {
			const char **v = realloc(r->issuers, (r->n_issuers + 1) * sizeof(*v));
			if (v == NULL) {
				fprintf(stderr, "%s: out of memory\n", r->prog);
				return CLI_EXIT_USAGE;
			}
			r->issuers = v;
			r->issuers[r->n_issuers++] = optarg;
			break;
		}
		case OPT_CSR:
		case OPT_CERT: {
			int rc = add_file(a, optarg, c == OPT_CSR);
			if (rc >= 0)
				return rc;
			break;
		}
		case OPT_ACCOUNT_ID: {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v <= 0)
				return usage_error(a,
				                   "--account-id: expected a positive integer, "
				                   "got \"%s\"",
				                   optarg);
			a->account_id = v;
			break;
		}
		case OPT_VALIDATED_AT:
			if (parse_rfc3339(optarg, &a->validated_at_ms) != 0 ||
			    a->validated_at_ms <= 0)
				return usage_error(a,
				                   "--validated-at: expected an RFC 3339 time like "
				                   "\"2026-11-23T08:00:00Z\", got \"%s\"",
				                   optarg);
			break;
		case OPT_TIMEOUT:
			if (caa_duration_parse(optarg, &r->timeout_ms) != CAA_EOK ||
			    r->timeout_ms == 0)
				return usage_error(a,
				                   "--timeout: expected a duration like \"10s\" or "
				                   "\"500ms\", got \"%s\"",
				                   optarg);
			break;
		case 'h': usage(stdout, a); return CLI_EXIT_PERMITTED;
		default: /* getopt_long has said what was wrong */
			fputc('\n', stderr);
			usage(stderr, a);
			return CLI_EXIT_USAGE;
		}
	}
	int modes = (r->config != NULL) + (r->server != NULL) + (r->n_issuers > 0);
	if (modes != 1)
		return usage_error(a, modes > 1
		                          ? "--issuer, --config and --server exclude each other"
		                          : "give --issuer DOMAIN (in-process, built-in "
		                            "defaults), --config FILE (in-process) or "
		                            "--server HOST:PORT (through caad)");
	if (r->n_issuers == 0 && (r->unbound_conf != NULL || r->trust_anchor != NULL))
		return usage_error(a, "--unbound-conf and --trust-anchor go with --issuer (a "
		                      "config file has \"dns\" for them)");
	if (r->server == NULL && (r->tls || r->server_name != NULL || r->verbose))
		return usage_error(a, "TLS options, --server-name and --verbose need --server");
	if ((r->tls_cert == NULL) != (r->tls_key == NULL))
		return usage_error(a, "--tls-cert and --tls-key go together");
	if (optind == argc && a->n_files == 0)
		return usage_error(a, "no NAME given (nor --csr / --cert)");
	return -1; /* go on */
}

/* The requests: NAMEs first, then the SANs of each file not already named. */
static int build_requests(args_t *a, char **names, size_t n_names)
{
	char err[512];
	for (size_t i = 0; i < a->n_files; i++) {
		if (sans_load(a->files[i].path, a->files[i].csr, &a->sans, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", a->run.prog, err);
			return CLI_EXIT_USAGE;
		}
	}
	size_t cap = n_names + a->sans.n;
	a->run.reqs = calloc(cap ? cap : 1, sizeof(*a->run.reqs));
	a->source = calloc(cap ? cap : 1, sizeof(*a->source));
	if (a->run.reqs == NULL || a->source == NULL) {
		fprintf(stderr, "%s: out of memory\n", a->run.prog);
		return CLI_EXIT_USAGE;
	}
	caa_request_t base = {
	    .account_uri = a->account_uri,
	    .account_id = a->account_id,
	    .method = a->method,
	    .policy = a->policy,
	    .validated_at_ms = a->validated_at_ms,
	    .explain = a->run.explain,
	};
	size_t n = 0;
	for (size_t i = 0; i < n_names; i++) {
		caa_request_t *q = &a->run.reqs[n++];
		*q = base;
		q->identifier = names[i];
		q->type = caa_name_is_ip(names[i], strlen(names[i])) ? "ip" : "dns";
	}
	for (size_t i = 0; i < a->sans.n; i++) {
		const sans_ident_t *s = &a->sans.items[i];
		bool dup = false;
		for (size_t k = 0; k < n_names && !dup; k++)
			dup = strcasecmp(names[k], s->value) == 0;
		if (dup)
			continue;
		a->source[n] = s->path;
		caa_request_t *q = &a->run.reqs[n++];
		*q = base;
		q->identifier = s->value;
		q->type = s->type;
	}
	a->run.n = n;
	return -1;
}

/* Every identifier is checked before anything is asked: a typo in the fifth
 * name must not leave four results and an error behind. */
static int check_identifiers(const args_t *a)
{
	for (size_t i = 0; i < a->run.n; i++) {
		const caa_request_t *q = &a->run.reqs[i];
		caa_name_t name;
		int rc = caa_name_parse_typed(q->type, q->identifier, strlen(q->identifier), &name);
		if (rc != CAA_EOK && rc != CAA_ENOTAPPLICABLE) {
			fprintf(stderr, "%s: \"%s\"%s%s: %s\n", a->run.prog, q->identifier,
			        a->source[i] ? " from " : "", a->source[i] ? a->source[i] : "",
			        caa_strerror(rc));
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

static int print_answer(const check_run_t *run, const check_answer_t *ans)
{
	bool complete = true;
	for (size_t i = 0; i < ans->n; i++)
		complete &= ans->results[i] != NULL;
	int status = cli_exit_status(ans->results, ans->n, ans->error_status);

	int rc = 0;
	if (run->order_output && run->json) {
		if (complete)
			rc = output_order_json(stdout, ans->results, ans->n, ans->aggregate);
	} else if (run->order_output) {
		output_order_human(stdout, ans->results, ans->n, ans->aggregate, ans->pol,
		                   run->explain);
	} else {
		size_t printed = 0;
		for (size_t i = 0; i < ans->n; i++) {
			const caa_result_t *r = ans->results[i];
			if (r == NULL)
				continue;
			if (run->json) {
				rc |= output_result_json(stdout, r);
				continue;
			}
			/* explanations of several names: a blank line between them */
			if (run->explain && printed++ > 0)
				fputc('\n', stdout);
			output_result_human(stdout, r, ans->pol, run->explain);
		}
	}
	if (fflush(stdout) != 0 || rc != 0) {
		fprintf(stderr, "%s: could not write the results: %s\n", run->prog,
		        rc != 0 ? caa_strerror(CAA_ENOMEM) : strerror(errno));
		if (status == CLI_EXIT_PERMITTED)
			status = CLI_EXIT_LOOKUP;
	}
	/* A command-run validator (docs/integrations.md) reads stderr: the order's
	 * problem, as the ACME client would get it. Nothing there on success. */
	if (run->problem_on_stderr && status != CLI_EXIT_PERMITTED && ans->aggregate != NULL) {
		fprintf(stderr, "%s: refused:\n", run->prog);
		output_problem_human(stderr, ans->aggregate, 2);
	}
	return status;
}

static int run_command(int argc, char **argv, bool order)
{
	args_t a = {0};
	check_answer_t ans = {0};
	a.run.prog = argv[0];
	a.run.order = order;
	a.run.order_output = order;

	int rc = parse_args(argc, argv, &a);
	/* A certificate is one issuance: its names are one order, also for
	 * `caa check` (printed one line per name). */
	if (rc < 0 && a.n_files > 0)
		a.run.order = a.run.problem_on_stderr = true;
	if (rc < 0)
		rc = build_requests(&a, argv + optind, (size_t)(argc - optind));
	if (rc < 0)
		rc = check_identifiers(&a);
	if (rc < 0)
		rc = a.run.server ? check_remote(&a.run, &ans) : check_local(&a.run, &ans);
	if (rc < 0)
		rc = print_answer(&a.run, &ans);
	check_answer_free(&ans);
	sans_free(&a.sans);
	free(a.run.reqs);
	free(a.source);
	free(a.files);
	free(a.run.issuers);
	return rc;
}

int cli_check(int argc, char **argv)
{
	return run_command(argc, argv, false);
}

int cli_order(int argc, char **argv)
{
	return run_command(argc, argv, true);
}

void check_answer_free(check_answer_t *ans)
{
	for (size_t i = 0; ans->results != NULL && i < ans->n; i++)
		caa_result_free(ans->results[i]);
	free(ans->results);
	caa_problem_free(ans->aggregate);
	caa_config_free(ans->cfg);
	*ans = (check_answer_t){0};
}
