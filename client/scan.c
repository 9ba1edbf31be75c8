/*
 * scan.c — `caa scan` (docs/cli.md "caa scan"): check a list of names
 * in-process as the CA would, for CAA research. Names stream in (a file or
 * stdin, one per line or a CSV column), checks run concurrently on one climb
 * context under --rate and --max-in-flight, a row per name streams out (JSON
 * Lines or CSV) as its check completes, and a summary closes the run.
 *
 * Several --profile: the climb runs once per name under the first profile
 * (with its trace), and every other profile decides from the same labels with
 * caa_evaluate, so all profiles see one set of lookups. A label the first
 * climb did not need but another profile would is reported, never guessed.
 *
 * Memory stays flat in the number of names: only names in flight are held
 * (plus, with --resume, the names already in the output).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "cli.h"
#include "climb.h"
#include "name.h"
#include "output.h"
#include "rr.h"
#include "scan_stats.h"
#include "util.h"

static const char usage_text[] =
    "usage: caa scan (--issuer DOMAIN... | --config FILE) [options] [FILE | -]\n"
    "\n"
    "Check every name of FILE (default: standard input; one name per line, or a\n"
    "CSV column) in-process as the CA would, and write one row per name as its\n"
    "check completes, then a summary.\n"
    "\n"
    "  --issuer DOMAIN        as the CA with this issuer domain, built-in defaults\n"
    "                         (repeatable; see caa check)\n"
    "  --unbound-conf FILE    with --issuer: resolve with this libunbound config\n"
    "  --trust-anchor FILE    with --issuer: this DNSSEC trust anchor file\n"
    "  --config FILE          a caad config: issuer domains, policy, profiles, DNS\n"
    "  --account-uri URI      ACME account URL, for accounturi (RFC 8657)\n"
    "  --method M             validation method, for validationmethods (dns-01, ...)\n"
    "  --profile NAME         decide under this profile (\"default\": the default\n"
    "                         policy); repeatable: every profile decides from the\n"
    "                         same lookups, and the summary shows where they differ\n"
    "  --csv-column NAME      the input is CSV with a header; names are in column NAME\n"
    "  --format jsonl|csv     rows as JSON Lines (default) or CSV\n"
    "  --output FILE          write rows to FILE instead of standard output\n"
    "  --resume               skip names already in --output FILE and append\n"
    "  --rate N               start at most N checks a second (N or N/s)\n"
    "  --max-in-flight N      at most N checks at once (default 1000)\n"
    "  --timeout DUR          deadline of each check (default: dns.timeout)\n"
    "  --summary-only         no rows, only the summary\n"
    "  --summary-json         the summary as one JSON object\n"
    "  --top N                issuers listed in the summary (default 10)\n"
    "  --quiet                no progress line on a terminal\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 every name checked and written (whatever the verdicts), 1 the\n"
    "scan did not complete (interrupted, output not written), 2 usage, config or\n"
    "input error\n";

enum {
	OPT_ISSUER = 256,
	OPT_UNBOUND_CONF,
	OPT_TRUST_ANCHOR,
	OPT_CONFIG,
	OPT_PROFILE,
	OPT_CSV_COLUMN,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_RESUME,
	OPT_RATE,
	OPT_MAX_IN_FLIGHT,
	OPT_TIMEOUT,
	OPT_SUMMARY_ONLY,
	OPT_SUMMARY_JSON,
	OPT_TOP,
	OPT_QUIET,
	OPT_ACCOUNT_URI,
	OPT_METHOD,
};

static const struct option options[] = {
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"unbound-conf", required_argument, NULL, OPT_UNBOUND_CONF},
    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"csv-column", required_argument, NULL, OPT_CSV_COLUMN},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"rate", required_argument, NULL, OPT_RATE},
    {"max-in-flight", required_argument, NULL, OPT_MAX_IN_FLIGHT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"summary-only", no_argument, NULL, OPT_SUMMARY_ONLY},
    {"summary-json", no_argument, NULL, OPT_SUMMARY_JSON},
    {"top", required_argument, NULL, OPT_TOP},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"account-uri", required_argument, NULL, OPT_ACCOUNT_URI},
    {"method", required_argument, NULL, OPT_METHOD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define SCAN_DEFAULT_IN_FLIGHT 1000

typedef struct scan {
	check_run_t run; /* issuer / config / DNS options, as caa check takes them */
	const char *profiles[SCAN_PROFILES_MAX];
	size_t n_profiles;
	const char *input, *output, *csv_column;
	caa_request_t base; /* --account-uri, --method: every name's request */
	bool csv_out, resume, summary_only, summary_json, quiet, progress;
	double rate; /* checks started per second; 0 = no limit */
	size_t max_in_flight;
	unsigned top;

	caa_config_t *cfg;
	const caa_policy_t *pols[SCAN_PROFILES_MAX];
	caa_ctx_t *ctx;
	FILE *in, *out;
	int csv_index; /* column of the names, -1 = plain lines */
	char *line;
	size_t line_cap;
	bool eof;
	scan_set_t done; /* --resume: names already written */

	size_t in_flight;
	uint64_t total; /* names in the input when known (a regular file), else 0 */
	int64_t t0_us, last_progress_us, rate_t0_us;
	uint64_t rate_started;
	bool write_failed;
	scan_stats_t stats;
} scan_t;

typedef struct job {
	scan_t *s;
	char name[]; /* in the same allocation */
} job_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("caa scan: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	return CLI_EXIT_USAGE;
}

static int parse_count(const char *text, const char *opt, size_t max, size_t *out)
{
	char *end;
	*out = 0;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v == 0 || v > max)
		return usage_error("%s: expected a number from 1 to %zu, got \"%s\"", opt, max,
		                   text);
	*out = (size_t)v;
	return -1;
}

static int parse_args(int argc, char **argv, scan_t *s)
{
	check_run_t *r = &s->run;
	size_t v = 0;
	int c, rc;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_ISSUER: {
			const char **a = realloc(r->issuers, (r->n_issuers + 1) * sizeof(*a));
			if (a == NULL)
				return usage_error("out of memory");
			r->issuers = a;
			r->issuers[r->n_issuers++] = optarg;
			break;
		}
		case OPT_UNBOUND_CONF: r->unbound_conf = optarg; break;
		case OPT_TRUST_ANCHOR: r->trust_anchor = optarg; break;
		case OPT_CONFIG: r->config = optarg; break;
		case OPT_PROFILE:
			if (s->n_profiles == SCAN_PROFILES_MAX)
				return usage_error("more than %d --profile options",
				                   SCAN_PROFILES_MAX);
			s->profiles[s->n_profiles++] = strcmp(optarg, "default") == 0 ? "" : optarg;
			break;
		case OPT_CSV_COLUMN: s->csv_column = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "csv") == 0)
				s->csv_out = true;
			else if (strcmp(optarg, "jsonl") == 0)
				s->csv_out = false;
			else
				return usage_error("--format: expected jsonl or csv, got \"%s\"",
				                   optarg);
			break;
		case OPT_OUTPUT: s->output = optarg; break;
		case OPT_RESUME: s->resume = true; break;
		case OPT_RATE: {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno != 0 || end == optarg || !(d > 0 && d <= 1e7) ||
			    (*end != '\0' && strcmp(end, "/s") != 0))
				return usage_error(
				    "--rate: expected checks a second like \"500\" or "
				    "\"500/s\", got \"%s\"",
				    optarg);
			s->rate = d;
			break;
		}
		case OPT_MAX_IN_FLIGHT:
			if ((rc = parse_count(optarg, "--max-in-flight", 1000000, &v)) >= 0)
				return rc;
			s->max_in_flight = v;
			break;
		case OPT_TIMEOUT:
			if (caa_duration_parse(optarg, &r->timeout_ms) != CAA_EOK ||
			    r->timeout_ms == 0)
				return usage_error("--timeout: expected a duration like \"10s\" or "
				                   "\"500ms\", got \"%s\"",
				                   optarg);
			break;
		case OPT_SUMMARY_ONLY: s->summary_only = true; break;
		case OPT_SUMMARY_JSON: s->summary_json = true; break;
		case OPT_TOP:
			if ((rc = parse_count(optarg, "--top", 1000, &v)) >= 0)
				return rc;
			s->top = (unsigned)v;
			break;
		case OPT_QUIET: s->quiet = true; break;
		case OPT_ACCOUNT_URI: s->base.account_uri = optarg; break;
		case OPT_METHOD: s->base.method = optarg; break;
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_PERMITTED;
		default:
			fputc('\n', stderr);
			fputs(usage_text, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if ((r->config != NULL) == (r->n_issuers > 0))
		return usage_error(r->config
		                       ? "--issuer and --config exclude each other"
		                       : "give --issuer DOMAIN (built-in defaults) or --config "
		                         "FILE");
	if (r->n_issuers == 0 && (r->unbound_conf != NULL || r->trust_anchor != NULL))
		return usage_error("--unbound-conf and --trust-anchor go with --issuer");
	if (optind < argc - 1)
		return usage_error("one input FILE at most");
	s->input = optind < argc ? argv[optind] : "-";
	if (s->resume && s->output == NULL)
		return usage_error("--resume needs --output FILE");
	if (s->resume && s->summary_only)
		return usage_error("--resume and --summary-only exclude each other (no rows)");
	if (s->n_profiles == 0)
		s->profiles[s->n_profiles++] = "";
	return -1;
}

/* ---- input ---- */

/*
 * Field k of a CSV line (RFC 4180: "..." quotes, "" inside them) into buf.
 * Returns 0, or -1 when the line has fewer fields.
 */
static int csv_field(const char *line, int k, char *buf, size_t len)
{
	const char *p = line;
	for (int i = 0;; i++) {
		size_t n = 0;
		bool quoted = *p == '"';
		if (quoted)
			p++;
		while (*p != '\0') {
			if (quoted && *p == '"') {
				if (p[1] == '"') {
					p++;
				} else {
					quoted = false;
					p++;
					continue;
				}
			} else if (!quoted && *p == ',') {
				break;
			}
			if (i == k && n + 1 < len)
				buf[n++] = *p;
			p++;
		}
		if (i == k) {
			buf[n] = '\0';
			return 0;
		}
		if (*p != ',')
			return -1;
		p++;
	}
}

static char *trim(char *t)
{
	while (*t == ' ' || *t == '\t')
		t++;
	size_t n = strlen(t);
	while (n > 0 &&
	       (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
		t[--n] = '\0';
	return t;
}

/* The next name into buf; false at the end of the input. */
static bool next_name(scan_t *s, char *buf, size_t len)
{
	while (!s->eof) {
		ssize_t got = getline(&s->line, &s->line_cap, s->in);
		if (got < 0) {
			s->eof = true;
			break;
		}
		char *t = trim(s->line);
		if (s->csv_index >= 0) {
			if (csv_field(t, s->csv_index, buf, len) != 0)
				continue;
			t = trim(buf);
			memmove(buf, t, strlen(t) + 1);
		} else {
			if (*t == '\0' || *t == '#')
				continue;
			snprintf(buf, len, "%s", t);
		}
		if (buf[0] != '\0')
			return true;
	}
	return false;
}

static int open_input(scan_t *s)
{
	s->csv_index = -1;
	s->in = cli_is_stdin(s->input) ? stdin : fopen(s->input, "r");
	if (s->in == NULL) {
		fprintf(stderr, "caa scan: %s: %s\n", s->input, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	struct stat st;
	if (s->in != stdin && fstat(fileno(s->in), &st) == 0 && S_ISREG(st.st_mode)) {
		/* a file: count its lines for the ETA, then read it from the start */
		int ch;
		uint64_t n = 0;
		while ((ch = getc_unlocked(s->in)) != EOF)
			n += ch == '\n';
		s->total = n;
		rewind(s->in);
	}
	if (s->csv_column == NULL)
		return -1;
	if (getline(&s->line, &s->line_cap, s->in) < 0) {
		fprintf(stderr, "caa scan: %s: empty, no CSV header\n", s->input);
		return CLI_EXIT_USAGE;
	}
	char field[256];
	const char *header = trim(s->line);
	for (int k = 0; csv_field(header, k, field, sizeof(field)) == 0; k++)
		if (strcmp(trim(field), s->csv_column) == 0) {
			s->csv_index = k;
			break;
		}
	if (s->csv_index < 0) {
		fprintf(stderr, "caa scan: %s: no column \"%s\" in the CSV header\n", s->input,
		        s->csv_column);
		return CLI_EXIT_USAGE;
	}
	if (s->total > 0)
		s->total--;
	return -1;
}

/* ---- output ---- */

static const char csv_header[] =
    "name,verdict,reason,relevant_domain,records,dnssec,error_class,elapsed_ms";

/*
 * --resume: the names of the rows already in the output (JSON Lines: "name";
 * CSV: the first field), and a row cut short by a kill is cut off, so that
 * appending starts on a fresh line.
 */
static int load_done(scan_t *s)
{
	FILE *f = fopen(s->output, "r+");
	if (f == NULL)
		return errno == ENOENT
		           ? -1
		           : (fprintf(stderr, "caa scan: %s: %s\n", s->output, strerror(errno)),
		              CLI_EXIT_USAGE);
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	off_t good = 0;
	char name[1024];
	while ((got = getline(&line, &cap, f)) > 0) {
		if (line[got - 1] != '\n')
			break; /* cut short */
		good += got;
		line[got - 1] = '\0';
		const char *n = NULL;
		json_t *row = NULL;
		if (s->csv_out) {
			if (strcmp(line, csv_header) != 0 &&
			    csv_field(line, 0, name, sizeof(name)) == 0)
				n = name;
		} else if ((row = json_loads(line, 0, NULL)) != NULL) {
			n = json_string_value(json_object_get(row, "name"));
		}
		if (n != NULL && scan_set_add(&s->done, n) < 0) {
			json_decref(row);
			free(line);
			fclose(f);
			fprintf(stderr, "caa scan: %s\n", caa_strerror(CAA_ENOMEM));
			return CLI_EXIT_USAGE;
		}
		json_decref(row);
	}
	free(line);
	int rc = ftruncate(fileno(f), good);
	fclose(f);
	if (rc != 0) {
		fprintf(stderr, "caa scan: %s: %s\n", s->output, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	return -1;
}

static int open_output(scan_t *s)
{
	if (s->summary_only)
		return -1;
	if (s->output == NULL) {
		s->out = stdout;
	} else {
		if (s->resume) {
			int rc = load_done(s);
			if (rc >= 0)
				return rc;
		}
		s->out = fopen(s->output, s->resume ? "a" : "w");
		if (s->out == NULL) {
			fprintf(stderr, "caa scan: %s: %s\n", s->output, strerror(errno));
			return CLI_EXIT_USAGE;
		}
	}
	if (s->csv_out && (!s->resume || (fseek(s->out, 0, SEEK_END) == 0 && ftell(s->out) == 0))) {
		fputs(csv_header, s->out);
		for (size_t p = 1; p < s->n_profiles; p++)
			fprintf(s->out, ",verdict:%s,reason:%s", s->profiles[p], s->profiles[p]);
		fputc('\n', s->out);
	}
	return -1;
}

static void json_str(FILE *out, const char *t)
{
	putc_unlocked('"', out);
	for (const unsigned char *p = (const unsigned char *)t; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			putc_unlocked('\\', out);
			putc_unlocked(*p, out);
		} else if (*p < 0x20 || *p >= 0x7f) {
			/* names are ASCII; whatever else a line or a malformed record
			 * holds stays valid JSON (an octet as \u00XX) */
			fprintf(out, "\\u%04x", *p);
		} else {
			putc_unlocked(*p, out);
		}
	}
	putc_unlocked('"', out);
}

/* One CSV field, quoted when it must be. */
static void csv_str(FILE *out, const char *t)
{
	if (strpbrk(t, ",\"\r\n") == NULL) {
		fputs(t, out);
		return;
	}
	putc_unlocked('"', out);
	for (; *t != '\0'; t++) {
		if (*t == '"')
			putc_unlocked('"', out);
		putc_unlocked(*t, out);
	}
	putc_unlocked('"', out);
}

/* The records of the relevant RRset as one CSV field: `0 issue "ca.example"; ...`. */
static void csv_records(FILE *out, const caa_result_t *res)
{
	size_t len = 0;
	for (size_t i = 0; i < res->n_records; i++)
		len += strlen(res->records[i].tag) + strlen(res->records[i].value) + 32;
	char *buf = malloc(len + 1), *p = buf;
	if (buf == NULL) {
		csv_str(out, "?");
		return;
	}
	*p = '\0';
	for (size_t i = 0; i < res->n_records; i++) {
		const caa_record_t *r = &res->records[i];
		p += sprintf(p, "%s%u %s \"%s\"%s", i ? "; " : "", r->flags, r->tag, r->value,
		             r->malformed ? " (malformed)" : "");
	}
	csv_str(out, buf);
	free(buf);
}

/* elapsed_us as milliseconds, "%.1f" of elapsed_us / 1000.0 to the octet,
 * without printf's floating point on every row: only a tie (x.x5 ms), where
 * the double's binary value decides, is left to printf. */
static void put_ms(FILE *out, uint32_t us)
{
	if (us % 100 == 50) {
		fprintf(out, "%.1f", us / 1000.0);
		return;
	}
	uint32_t tenths = us / 100 + (us % 100 > 50);
	char buf[16], *p = buf + sizeof(buf);
	*--p = (char)('0' + tenths % 10);
	*--p = '.';
	tenths /= 10;
	do
		*--p = (char)('0' + tenths % 10);
	while ((tenths /= 10) != 0);
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), out);
}

/* Rows are most of what a scan writes: fputs and putc, no format strings. */
static void write_row(scan_t *s, const char *name, const scan_row_t *row)
{
	FILE *out = s->out;
	const caa_result_t *res = row->res[0];
	const char *verdict = scan_row_verdict(row, 0);
	const char *reason = scan_row_reason(row, 0);
	const char *relevant = res ? res->relevant_domain : "";
	const char *dnssec = res && res->dnssec ? caa_dnssec_name(res->dnssec) : "";
	const char *error = row->error_class ? row->error_class : "";
	uint32_t us = res ? res->elapsed_us : 0;
	if (s->csv_out) {
		csv_str(out, name);
		putc_unlocked(',', out);
		fputs(verdict, out);
		putc_unlocked(',', out);
		fputs(reason, out);
		putc_unlocked(',', out);
		csv_str(out, relevant);
		putc_unlocked(',', out);
		if (res)
			csv_records(out, res);
		putc_unlocked(',', out);
		fputs(dnssec, out);
		putc_unlocked(',', out);
		fputs(error, out);
		putc_unlocked(',', out);
		put_ms(out, us);
		for (size_t p = 1; p < s->n_profiles; p++) {
			putc_unlocked(',', out);
			fputs(scan_row_verdict(row, p), out);
			putc_unlocked(',', out);
			fputs(scan_row_reason(row, p), out);
		}
		putc_unlocked('\n', out);
		return;
	}
	fputs("{\"name\":", out);
	json_str(out, name);
	fputs(",\"verdict\":\"", out);
	fputs(verdict, out);
	fputs("\",\"reason\":\"", out);
	fputs(reason, out);
	fputs("\",\"relevant_domain\":", out);
	json_str(out, relevant);
	fputs(",\"records\":[", out);
	for (size_t i = 0; res && i < res->n_records; i++) {
		const caa_record_t *r = &res->records[i];
		fprintf(out, "%s{\"flags\":%u,\"tag\":", i ? "," : "", r->flags);
		json_str(out, r->tag);
		fputs(",\"value\":", out);
		json_str(out, r->value);
		if (r->malformed)
			fputs(",\"malformed\":true", out);
		putc_unlocked('}', out);
	}
	fputs("],\"dnssec\":\"", out);
	fputs(dnssec, out);
	fputs("\",\"error_class\":", out);
	if (row->error_class)
		json_str(out, error);
	else
		fputs("null", out);
	fputs(",\"elapsed_ms\":", out);
	put_ms(out, us);
	if (s->n_profiles > 1) {
		fputs(",\"profiles\":{", out);
		for (size_t p = 0; p < s->n_profiles; p++) {
			fprintf(out, "%s", p ? "," : "");
			json_str(out, s->profiles[p][0] ? s->profiles[p] : "default");
			fprintf(out, ":{\"verdict\":\"%s\",\"reason\":\"%s\"%s}",
			        scan_row_verdict(row, p), scan_row_reason(row, p),
			        row->undecided[p] ? ",\"undecided\":true" : "");
		}
		putc_unlocked('}', out);
	}
	fputs("}\n", out);
}

/* ---- checks ---- */

static void finish(scan_t *s, const char *name, scan_row_t *row)
{
	if (scan_stats_add(&s->stats, name, row) != 0 && !s->write_failed) {
		fprintf(stderr, "caa scan: the summary: %s\n", caa_strerror(CAA_ENOMEM));
		s->write_failed = true;
		stop_requested = 1;
	}
	if (s->out != NULL) {
		write_row(s, name, row);
		if (ferror(s->out) && !s->write_failed) {
			fprintf(stderr, "caa scan: %s: %s\n",
			        s->output ? s->output : "standard output", strerror(errno));
			s->write_failed = true;
			stop_requested = 1;
		}
	}
	scan_row_clear(row, s->n_profiles);
}

static void on_check(void *arg, int rc, caa_result_t *res)
{
	job_t *j = arg;
	scan_t *s = j->s;
	scan_row_t row = {0};
	s->in_flight--;
	if (rc != CAA_EOK || res == NULL) {
		caa_result_free(res);
		row.error_class = "INTERNAL";
		row.error_rc = rc != CAA_EOK ? rc : CAA_EINTERNAL;
	} else {
		(void)scan_row_decide(&row, res, &s->base, s->pols,
		                      s->n_profiles); /* INTERNAL rows */
	}
	finish(s, j->name, &row);
	free(j);
}

/* A name that is not one: a row saying so, no DNS. */
static void bad_name(scan_t *s, const char *name, int rc)
{
	scan_row_t row = {.error_class = "BAD_NAME", .error_rc = rc};
	finish(s, name, &row);
}

/* Start the check of name; false when the context is full (try again later). */
static bool start(scan_t *s, const char *name)
{
	/* a name that is not one: caa_check_async parses it and says so */
	const char *type = caa_name_is_ip(name, strlen(name)) ? "ip" : "dns";
	size_t len = strlen(name) + 1;
	job_t *j = malloc(sizeof(*j) + len);
	if (j == NULL) {
		scan_row_t row = {.error_class = "INTERNAL", .error_rc = CAA_ENOMEM};
		finish(s, name, &row);
		return true;
	}
	j->s = s;
	memcpy(j->name, name, len);
	caa_request_t req = s->base;
	req.type = type;
	req.identifier = j->name;
	req.policy = s->profiles[0];
	req.trace = s->n_profiles > 1; /* the labels, for the other profiles */
	int rc = caa_check_async(s->ctx, &req, s->run.timeout_ms, on_check, j, NULL);
	if (rc == CAA_EOK) {
		s->in_flight++;
		s->rate_started++;
		return true;
	}
	free(j);
	if (rc == CAA_EBUSY)
		return false;
	bad_name(s, name, rc);
	return true;
}

static void progress(scan_t *s, bool last)
{
	int64_t now = (int64_t)caa_now_us();
	if (!s->progress || (!last && now - s->last_progress_us < 250000))
		return;
	s->last_progress_us = now;
	double secs = (now - s->t0_us) / 1e6;
	uint64_t done = s->stats.names;
	double rate = secs > 0 ? done / secs : 0;
	char eta[32] = "";
	if (s->total > 0 && rate > 0 && done <= s->total) {
		uint64_t left = (uint64_t)((s->total - done) / rate);
		snprintf(eta, sizeof(eta), "  ETA %lu:%02lu", (unsigned long)(left / 60),
		         (unsigned long)(left % 60));
	}
	char of[32] = "";
	if (s->total > 0)
		snprintf(of, sizeof(of), "/%lu", (unsigned long)s->total);
	fprintf(stderr, "\rcaa scan: %lu%s done  %.0f/s%s  failures %lu  in flight %zu   %s",
	        (unsigned long)done, of, rate, eta, (unsigned long)s->stats.failures, s->in_flight,
	        last ? "\n" : "");
}

/* How long until --rate lets the next check start (0: now). */
static int rate_wait_ms(scan_t *s)
{
	if (s->rate <= 0)
		return 0;
	double due = s->rate_t0_us + s->rate_started * 1e6 / s->rate;
	int64_t now = (int64_t)caa_now_us();
	if (due <= now)
		return 0;
	return (int)((due - now) / 1000) + 1;
}

static void run(scan_t *s)
{
	char name[1024];
	bool have = false; /* name holds one not yet started (context full) */
	s->t0_us = s->rate_t0_us = (int64_t)caa_now_us();
	for (;;) {
		int wait = -1;
		while (!stop_requested && s->in_flight < s->max_in_flight) {
			if ((wait = rate_wait_ms(s)) > 0)
				break;
			if (!have && !(have = next_name(s, name, sizeof(name))))
				break;
			if (s->resume && scan_set_has(&s->done, name)) {
				s->stats.skipped++;
				have = false;
				continue;
			}
			if (!start(s, name))
				break; /* full: let some finish */
			have = false;
		}
		bool feeding = !stop_requested && (have || !s->eof);
		if (s->in_flight == 0 && !feeding)
			break;
		/* wake for the progress line and for --rate */
		int ms = s->progress ? 250 : -1;
		if (wait > 0 && (ms < 0 || wait < ms))
			ms = wait;
		if (s->in_flight == 0)
			usleep((useconds_t)(ms > 0 ? ms : 1) * 1000);
		else
			caa_ctx_wait(s->ctx, ms);
		progress(s, false);
	}
	progress(s, true);
}

static int setup(scan_t *s)
{
	char err[1024];
	const char *what;
	if (check_config(&s->run, &s->cfg, &what, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "caa scan: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	for (size_t p = 0; p < s->n_profiles; p++) {
		s->pols[p] = caa_config_policy(s->cfg, s->profiles[p]);
		if (s->pols[p] == NULL) {
			fprintf(stderr, "caa scan: --profile %s: no such profile in %s\n",
			        s->profiles[p], what);
			return CLI_EXIT_USAGE;
		}
		/* refused before anything is asked, as caa check does */
		if (output_request_refusal(stderr, "caa scan", s->pols[p], &s->base) != CAA_EOK)
			return CLI_EXIT_USAGE;
	}
	if (s->pols[0]->n_issuer_domains == 0) {
		fprintf(stderr,
		        "caa scan: %s has no \"issuer_domains\": every name would be "
		        "forbidden\n",
		        what);
		return CLI_EXIT_USAGE;
	}
	/* the context's own cap must not refuse what --max-in-flight allows */
	if (s->cfg->max_in_flight < s->max_in_flight)
		s->cfg->max_in_flight = s->max_in_flight;
	if (caa_ctx_new(s->cfg, &s->ctx, err, sizeof(err)) != CAA_EOK) {
		fprintf(stderr, "caa scan: %s: %s\n", what, err);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

int cli_scan(int argc, char **argv)
{
	scan_t s = {.max_in_flight = SCAN_DEFAULT_IN_FLIGHT, .top = 10};
	s.run.prog = "caa scan";
	int rc = parse_args(argc, argv, &s);
	if (rc < 0)
		rc = open_input(&s);
	if (rc < 0)
		rc = open_output(&s);
	if (rc < 0 && scan_stats_init(&s.stats, s.n_profiles) != 0) {
		fprintf(stderr, "caa scan: %s\n", caa_strerror(CAA_ENOMEM));
		rc = CLI_EXIT_USAGE;
	}
	if (rc < 0)
		rc = setup(&s);
	if (rc < 0) {
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		s.progress = !s.quiet && isatty(STDERR_FILENO);
		run(&s);
		bool interrupted = stop_requested != 0;
		if (s.out != NULL && fflush(s.out) != 0 && !s.write_failed) {
			fprintf(stderr, "caa scan: %s: %s\n",
			        s.output ? s.output : "standard output", strerror(errno));
			s.write_failed = true;
		}
		/* the summary goes where the rows do not */
		FILE *sum = s.out == stdout ? stderr : stdout;
		scan_stats_print(sum, &s.stats, s.profiles, s.n_profiles, s.top, s.summary_json);
		if (interrupted && !s.write_failed)
			fprintf(stderr,
			        "caa scan: interrupted: %lu names written; --resume goes on\n",
			        (unsigned long)s.stats.names);
		rc = interrupted || s.write_failed ? CLI_EXIT_REFUSED : CLI_EXIT_PERMITTED;
	}
	if (s.ctx != NULL)
		caa_ctx_free(s.ctx);
	caa_config_free(s.cfg);
	if (s.in != NULL && s.in != stdin)
		fclose(s.in);
	if (s.out != NULL && s.out != stdout)
		fclose(s.out);
	free(s.line);
	free(s.run.issuers);
	scan_set_free(&s.done);
	scan_stats_free(&s.stats, s.n_profiles);
	return rc;
}
