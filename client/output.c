/*
 * output.c — caa's human and JSON output (output.h). The human form is for a
 * person reading a terminal: the verdict first, then the problem exactly as
 * the CA would send it, then (explain) the climb with the relevant RRset and
 * what each of its records contributed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "output.h"

#define RECORD_COLUMN_MAX 48 /* longer records push their note further right */

static void put_lower(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s, out);
}

/* Presentation text of s ('"' escaped when quoted: a record value between
 * quotes); returns the columns written. Free text (a problem's detail, why)
 * is printed unquoted, exactly as the CA would send it. */
static size_t put_escaped(FILE *out, const char *s, bool quoted)
{
	char buf[256];
	size_t len = strlen(s), n = caa_json_escape(buf, sizeof(buf), s, len, quoted);
	if (n < sizeof(buf)) {
		fputs(buf, out);
		return n;
	}
	/* Rare long values: escape octet by octet rather than allocate. */
	for (size_t i = 0; i < len; i++) {
		caa_json_escape(buf, sizeof(buf), s + i, 1, quoted);
		fputs(buf, out);
	}
	return n;
}

static size_t record_width(const caa_record_t *r)
{
	if (r->malformed)
		return 3 + strlen(" (malformed RDATA)");
	return 3 + 1 + strlen(r->tag) + 2 +
	       caa_json_escape(NULL, 0, r->value, strlen(r->value), true) + 1;
}

static void put_issuers(FILE *out, const caa_policy_t *pol)
{
	if (pol->n_issuer_domains == 0) {
		fputs(" (no issuer domain is configured)", out);
		return;
	}
	fputs(" (", out);
	for (size_t i = 0; i < pol->n_issuer_domains; i++)
		fprintf(out, "%s%s", i > 0 ? ", " : "", pol->issuer_domains[i]);
	fputs(pol->n_issuer_domains == 1 ? " is configured)" : " are configured)", out);
}

static void put_records(FILE *out, const caa_record_t *recs, size_t n, const caa_policy_t *pol)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		size_t w = record_width(&recs[i]);
		if (w > col && w <= RECORD_COLUMN_MAX)
			col = w;
	}
	for (size_t i = 0; i < n; i++) {
		const caa_record_t *r = &recs[i];
		size_t w = (size_t)fprintf(out, "      %3u", r->flags) - 6;
		if (r->malformed) {
			fputs(" (malformed RDATA)", out);
			w += strlen(" (malformed RDATA)");
		} else {
			fprintf(out, " %s \"", r->tag);
			w += 1 + strlen(r->tag) + 2 + put_escaped(out, r->value, true) + 1;
			fputc('"', out);
		}
		if (r->note != CAA_NOTE_NONE) {
			fprintf(out, "%*s%s", (int)(w < col ? col - w : 0) + 3, "",
			        caa_note_text(r->note));
			if (r->note == CAA_NOTE_OTHER_ISSUER && pol != NULL)
				put_issuers(out, pol);
		}
		fputc('\n', out);
	}
}

/* The columns of one label of the climb. */
typedef struct trace_row {
	bool not_needed; /* above the deciding label, nothing to show: one text */
	char outcome[48];
	char dnssec[24];
	char retries[32];
	char time[32];
	const char *marker;
} trace_row_t;

static void trace_row(const caa_trace_t *t, bool above, const caa_policy_t *pol, trace_row_t *r)
{
	memset(r, 0, sizeof(*r));
	if (above && (t->outcome == CAA_OUT_PENDING || t->outcome == CAA_OUT_EMPTY)) {
		r->not_needed = true;
		return;
	}
	switch (t->outcome) {
	case CAA_OUT_PRESENT:
		snprintf(r->outcome, sizeof(r->outcome), "%zu CAA", t->n_records);
		break;
	case CAA_OUT_NODATA_NOSOA: {
		/* RFC 2308 asks for an SOA; by default the answer still counts as empty
		 * (docs/failures.md 2, 5). Without the policy (a caad's answer): a label
		 * that did not decide was counted as empty. */
		bool empty = pol != NULL ? !pol->nodata_without_soa_error : !t->relevant;
		snprintf(r->outcome, sizeof(r->outcome), "NODATA without SOA%s",
		         empty ? ", counted as empty" : "");
		break;
	}
	default:
		snprintf(r->outcome, sizeof(r->outcome), "%s", caa_json_outcome_name(t->outcome));
		break;
	}
	if (t->outcome != CAA_OUT_BOGUS &&
	    (t->dnssec == CAA_DNSSEC_SECURE || t->dnssec == CAA_DNSSEC_INSECURE ||
	     t->dnssec == CAA_DNSSEC_BOGUS)) {
		const char *d = caa_dnssec_name(t->dnssec);
		size_t k = (size_t)snprintf(r->dnssec, sizeof(r->dnssec), "dnssec ");
		for (; *d && k + 1 < sizeof(r->dnssec); d++)
			r->dnssec[k++] = (char)((*d >= 'A' && *d <= 'Z') ? *d + 32 : *d);
		r->dnssec[k] = '\0';
	}
	if (t->retries > 0)
		snprintf(r->retries, sizeof(r->retries), "%u retr%s", t->retries,
		         t->retries == 1 ? "y" : "ies");
	if (t->elapsed_us > 0)
		snprintf(r->time, sizeof(r->time), "%.1f ms", t->elapsed_us / 1000.0);
	if (t->relevant)
		r->marker = t->outcome == CAA_OUT_PRESENT ? "<- relevant RRset"
		                                          : "<- lookup failed here: decides";
	else if (above)
		r->marker = "(not needed: decided below)";
}

static void widen(size_t *w, const char *s)
{
	size_t n = strlen(s);
	if (n > *w)
		*w = n;
}

/* One column: the text padded to width, three spaces after it; nothing for an
 * empty column. Trailing padding is never written (see put_trace). */
static void put_col(FILE *out, const char *s, size_t width, bool left, size_t *owed)
{
	if (width == 0)
		return;
	size_t n = strlen(s);
	if (left) {
		if (n > 0) {
			fprintf(out, "%*s%s", (int)*owed, "", s);
			*owed = 0;
		}
		*owed += width - n + 3;
	} else {
		fprintf(out, "%*s%s", (int)(*owed + width - n), "", s);
		*owed = 3;
	}
}

/* The climb: every label from the full name up, what it answered (outcome,
 * DNSSEC state, retries, time, in columns), which label decided, the
 * records of each RRset and why a lookup failed. Labels above the deciding
 * one did not matter. */
static void put_trace(FILE *out, const caa_result_t *res, const caa_policy_t *pol)
{
	size_t decisive = res->n_trace, wname = 0, wout = 0, wdnssec = 0, wretry = 0, wtime = 0;
	for (size_t i = 0; i < res->n_trace; i++) {
		if (res->trace[i].relevant && decisive == res->n_trace)
			decisive = i;
		widen(&wname, res->trace[i].name);
	}
	for (size_t i = 0; i < res->n_trace; i++) {
		trace_row_t r;
		trace_row(&res->trace[i], i > decisive, pol, &r);
		widen(&wout, r.outcome);
		widen(&wdnssec, r.dnssec);
		widen(&wretry, r.retries);
		widen(&wtime, r.time);
	}
	for (size_t i = 0; i < res->n_trace; i++) {
		const caa_trace_t *t = &res->trace[i];
		trace_row_t r;
		size_t owed = wname - strlen(t->name) + 3;
		trace_row(t, i > decisive, pol, &r);
		fprintf(out, "    %s.", t->name);
		if (r.not_needed) {
			fprintf(out, "%*snot needed: decided below\n", (int)owed, "");
			continue;
		}
		put_col(out, r.outcome, wout, true, &owed);
		put_col(out, r.dnssec, wdnssec, true, &owed);
		put_col(out, r.retries, wretry, true, &owed);
		if (r.time[0] != '\0')
			put_col(out, r.time, wtime, false, &owed);
		else
			owed += wtime ? wtime + 3 : 0;
		if (r.marker != NULL)
			fprintf(out, "%*s%s", (int)owed, "", r.marker);
		fputc('\n', out);
		put_records(out, t->records, t->n_records, t->relevant ? pol : NULL);
		if (t->why != NULL && t->why[0] != '\0') {
			fputs("        why: ", out);
			put_escaped(out, t->why, false);
			fputc('\n', out);
		}
	}
}

void output_problem_human(FILE *out, const caa_problem_t *p, int indent)
{
	fprintf(out, "%*s%s (%d) ", indent, "", caa_problem_urn(p->type), p->status);
	put_escaped(out, p->detail ? p->detail : "", false);
	fputc('\n', out);
	for (size_t i = 0; i < p->n_subproblems; i++)
		output_problem_human(out, &p->subproblems[i], indent + 2);
}

/* What each flag means to a person reading an explanation. */
static const char *flag_text(unsigned flag)
{
	switch (flag) {
	case CAA_RESULT_NODATA_WITHOUT_SOA:
		return "a label answered NODATA without an SOA record (RFC 2308 wants one); "
		       "counted as empty";
	case CAA_RESULT_RETRIED: return "some lookups needed retries";
	case CAA_RESULT_INSECURE_LOOKUP_FAILURE:
		return "a lookup failed in a zone proven insecure and counted as empty "
		       "(insecure_lookup_failure_permits)";
	}
	return "";
}

static void put_flags(FILE *out, unsigned flags)
{
	for (unsigned bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
		if (!(flags & bit))
			continue;
		const char *name = caa_result_flag_name(bit);
		if (name != NULL)
			fprintf(out, "    flag %s: %s\n", name, flag_text(bit));
		else
			fprintf(out, "    flag 0x%x\n", bit);
	}
}

/* "2026-11-23T13:45:01.123Z" */
static void put_time(FILE *out, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		fprintf(out, "%lld ms after the epoch", (long long)ms);
		return;
	}
	fprintf(out, "%s.%03dZ", buf, (int)(ms % 1000));
}

/* The columns of one remote perspective. */
typedef struct perspective_row {
	char who[160]; /* "name (RIR)", escaped as free text */
	const char *outcome;
	const char *verdict; /* "" when it gave none (not needed) */
	char time[32];
} perspective_row_t;

static void perspective_row(const caa_perspective_t *p, perspective_row_t *r)
{
	char who[sizeof(r->who)];
	const char *name = p->name ? p->name : "", *rir = p->rir ? p->rir : "";
	if (rir[0] != '\0')
		snprintf(who, sizeof(who), "%s (%s)", name, rir);
	else
		snprintf(who, sizeof(who), "%s", name);
	caa_json_escape(r->who, sizeof(r->who), who, strlen(who), false);
	r->outcome = caa_mpic_state_name(p->state);
	r->verdict = p->verdict != 0 ? caa_verdict_name(p->verdict) : "";
	r->time[0] = '\0';
	if (p->elapsed_us > 0)
		snprintf(r->time, sizeof(r->time), "%.1f ms", p->elapsed_us / 1000.0);
}

/* Each remote perspective a caad asked, in configured order, in columns: who,
 * how it ended, its verdict, its time; below it the problem it contributed. */
static void put_perspectives(FILE *out, const caa_result_t *res)
{
	size_t wwho = 0, wout = 0, wverdict = 0, wtime = 0;
	perspective_row_t r;
	for (size_t i = 0; i < res->n_perspectives; i++) {
		perspective_row(&res->perspectives[i], &r);
		widen(&wwho, r.who);
		widen(&wout, r.outcome);
		widen(&wverdict, r.verdict);
		widen(&wtime, r.time);
	}
	for (size_t i = 0; i < res->n_perspectives; i++) {
		size_t owed = 0;
		perspective_row(&res->perspectives[i], &r);
		fputs("    perspective ", out);
		put_col(out, r.who, wwho, true, &owed);
		put_col(out, r.outcome, wout, true, &owed);
		put_col(out, r.verdict, wverdict, true, &owed);
		if (r.time[0] != '\0')
			put_col(out, r.time, wtime, false, &owed);
		fputc('\n', out);
		if (res->perspectives[i].problem != NULL)
			output_problem_human(out, res->perspectives[i].problem, 6);
	}
}

/* "  perspectives 4/5 corroborated": corroboration at a glance, explained or not. */
static void put_quorum(FILE *out, const caa_result_t *res)
{
	if (res->n_perspectives > 0)
		fprintf(out, "  perspectives %zu/%zu corroborated\n",
		        caa_perspectives_passed(res->perspectives, res->n_perspectives),
		        res->n_perspectives);
}

/* The explanation below the verdict line and the problem. */
static void put_explanation(FILE *out, const caa_result_t *res, const caa_policy_t *pol)
{
	if (res->reused) {
		fputs("    reused: ", out);
		if (res->checked_at_ms != 0) {
			fputs("checked or validated at ", out);
			put_time(out, res->checked_at_ms);
			fputs(", ", out);
		}
		fputs("inside the recheck window: no DNS queried\n", out);
	}
	if (res->reason == CAA_R_NOT_APPLICABLE)
		fputs("    CAA does not apply to IP addresses and .onion names: no DNS queried\n",
		      out);
	put_trace(out, res, pol);
	put_flags(out, res->flags);
	put_perspectives(out, res);
	if (res->queries > 0 || res->elapsed_us > 0)
		fprintf(out, "    %u quer%s, %.1f ms\n", res->queries,
		        res->queries == 1 ? "y" : "ies", res->elapsed_us / 1000.0);
}

static void put_verdict_line(FILE *out, const caa_result_t *res)
{
	const char *relevant = res->relevant_domain;
	fprintf(out, "%s  %s  relevant %s  %s", caa_verdict_name(res->verdict), res->identifier,
	        (relevant && relevant[0]) ? relevant : "-", caa_reason_name(res->reason));
	if (res->dnssec != 0) {
		fputs("  dnssec ", out);
		put_lower(out, caa_dnssec_name(res->dnssec));
	}
	if (res->reused)
		fputs("  reused", out);
	if (res->policy != NULL && res->policy[0] != '\0')
		fprintf(out, "  policy %s", res->policy);
	fputc('\n', out);
}

void output_result_human(FILE *out, const caa_result_t *res, const caa_policy_t *pol, bool explain)
{
	put_verdict_line(out, res);
	if (res->problem != NULL)
		output_problem_human(out, res->problem, 2);
	put_quorum(out, res);
	if (explain)
		put_explanation(out, res, pol);
}

void output_order_human(FILE *out, caa_result_t *const *results, size_t n,
                        const caa_problem_t *aggregate, const caa_policy_t *pol, bool explain)
{
	size_t forbidden = 0, failed = 0, missing = 0;
	for (size_t i = 0; i < n; i++) {
		const caa_result_t *r = results[i];
		if (r == NULL) {
			missing++;
			continue;
		}
		forbidden += r->verdict == CAA_FORBIDDEN;
		failed += r->verdict != CAA_FORBIDDEN && r->verdict != CAA_PERMITTED;
		/* Without explain each failure's problem is in the aggregate below:
		 * one line per identifier keeps a 100-name order readable (and the
		 * corroboration line, when remotes were asked). */
		if (explain) {
			output_result_human(out, r, pol, true);
			fputc('\n', out); /* one block per identifier */
		} else {
			put_verdict_line(out, r);
			put_quorum(out, r);
		}
	}
	size_t refused = forbidden + failed + missing;
	if (refused == 0) {
		fprintf(out, "ORDER  %zu identifier%s  all permitted\n", n, n == 1 ? "" : "s");
	} else {
		fprintf(out, "ORDER  %zu identifier%s  %zu not permitted:", n, n == 1 ? "" : "s",
		        refused);
		const char *sep = " ";
		if (forbidden > 0) {
			fprintf(out, "%s%zu forbidden", sep, forbidden);
			sep = ", ";
		}
		if (failed > 0) {
			fprintf(out, "%s%zu lookup failed", sep, failed);
			sep = ", ";
		}
		if (missing > 0)
			fprintf(out, "%s%zu not answered", sep, missing);
		fputc('\n', out);
	}
	if (aggregate != NULL)
		output_problem_human(out, aggregate, 2);
}

static int dump_line(FILE *out, json_t *j)
{
	int rc = json_dumpf(j, out, CAA_JSON_DUMP_FLAGS);
	json_decref(j);
	fputc('\n', out);
	return rc;
}

int output_result_json(FILE *out, const caa_result_t *res)
{
	json_t *j = caa_result_json(res);
	return j != NULL ? dump_line(out, j) : -1;
}

int output_order_json(FILE *out, caa_result_t *const *results, size_t n,
                      const caa_problem_t *aggregate)
{
	json_t *j = caa_order_json(results, n, aggregate);
	return j != NULL ? dump_line(out, j) : -1;
}

int output_request_refusal(FILE *err, const char *prog, const caa_policy_t *pol,
                           const caa_request_t *req)
{
	int rc = caa_request_validate(pol, req);
	if (rc == CAA_EACCOUNT)
		fprintf(err, "%s: --account-uri %s and --account-id %lld: %s\n", prog,
		        req->account_uri, (long long)req->account_id, caa_strerror(rc));
	else if (rc != CAA_EOK)
		fprintf(err, "%s: --method %s: %s\n", prog, req->method ? req->method : "",
		        caa_strerror(rc));
	return rc;
}
