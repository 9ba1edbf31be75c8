/*
 * output.c — caa's human and JSON output (output.h). The human form is for a
 * person reading a terminal: the verdict first, then the problem exactly as
 * the CA would send it, then (explain) the climb with the relevant RRset and
 * what each of its records contributed.
 */
#include <string.h>

#include "json.h"
#include "output.h"

#define RECORD_COLUMN_MAX 48 /* longer records push their note further right */

static void put_lower(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s, out);
}

/* Presentation text of s, '"' escaped; returns the columns written. */
static size_t put_escaped(FILE *out, const char *s)
{
	char buf[256];
	size_t len = strlen(s), n = caa_json_escape(buf, sizeof(buf), s, len, true);
	if (n < sizeof(buf)) {
		fputs(buf, out);
		return n;
	}
	/* Rare long values: escape octet by octet rather than allocate. */
	for (size_t i = 0; i < len; i++) {
		caa_json_escape(buf, sizeof(buf), s + i, 1, true);
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
			w += 1 + strlen(r->tag) + 2 + put_escaped(out, r->value) + 1;
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

static void put_outcome(FILE *out, const caa_trace_t *t, const caa_policy_t *pol)
{
	switch (t->outcome) {
	case CAA_OUT_PRESENT:
		fprintf(out, "%zu CAA", t->n_records);
		break;
	case CAA_OUT_NODATA_NOSOA:
		/* RFC 2308 asks for no SOA: by default an answer (FAILURES.md 2, 5). */
		fputs("NODATA without SOA", out);
		if (pol != NULL && !pol->nodata_without_soa_error)
			fputs(", counted as empty", out);
		break;
	default:
		fputs(caa_json_outcome_name(t->outcome), out);
		break;
	}
	if (t->why != NULL && t->why[0] != '\0') {
		fputs(" (", out);
		put_escaped(out, t->why);
		fputc(')', out);
	}
	if (t->outcome != CAA_OUT_BOGUS &&
	    (t->dnssec == CAA_DNSSEC_SECURE || t->dnssec == CAA_DNSSEC_INSECURE ||
	     t->dnssec == CAA_DNSSEC_BOGUS)) {
		fputs(", dnssec ", out);
		put_lower(out, caa_dnssec_name(t->dnssec));
	}
	if (t->retries > 0)
		fprintf(out, ", %u retr%s", t->retries, t->retries == 1 ? "y" : "ies");
	if (t->elapsed_us > 0)
		fprintf(out, ", %.1f ms", t->elapsed_us / 1000.0);
}

/* The climb: every label from the full name up, what it answered, and which
 * label decided. Labels above the deciding one did not matter. */
static void put_trace(FILE *out, const caa_result_t *res, const caa_policy_t *pol)
{
	size_t width = 0, decisive = res->n_trace;
	for (size_t i = 0; i < res->n_trace; i++) {
		size_t w = strlen(res->trace[i].name) + 1;
		if (w > width)
			width = w;
		if (res->trace[i].relevant && decisive == res->n_trace)
			decisive = i;
	}
	for (size_t i = 0; i < res->n_trace; i++) {
		const caa_trace_t *t = &res->trace[i];
		bool above = i > decisive;
		int pad = (int)(width - strlen(t->name) - 1) + 3;

		fprintf(out, "    %s.%*s", t->name, pad, "");
		if (above && (t->outcome == CAA_OUT_PENDING || t->outcome == CAA_OUT_EMPTY)) {
			fputs("not needed: decided below\n", out);
			continue;
		}
		put_outcome(out, t, pol);
		if (t->relevant)
			fputs(t->outcome == CAA_OUT_PRESENT ? "   <- relevant RRset"
			                                    : "   <- lookup failed here: decides",
			      out);
		else if (above)
			fputs("   (not needed: decided below)", out);
		fputc('\n', out);
		put_records(out, t->records, t->n_records, t->relevant ? pol : NULL);
	}
}

void output_problem_human(FILE *out, const caa_problem_t *p, int indent)
{
	fprintf(out, "%*s%s (%d) ", indent, "", caa_problem_urn(p->type), p->status);
	put_escaped(out, p->detail ? p->detail : "");
	fputc('\n', out);
	for (size_t i = 0; i < p->n_subproblems; i++)
		output_problem_human(out, &p->subproblems[i], indent + 2);
}

void output_result_human(FILE *out, const caa_result_t *res, const caa_policy_t *pol,
                         bool explain)
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
	if (res->problem != NULL)
		output_problem_human(out, res->problem, 2);
	if (explain)
		put_trace(out, res, pol);
}

int output_result_json(FILE *out, const caa_result_t *res)
{
	json_t *j = caa_result_json(res);
	if (j == NULL)
		return -1;
	int rc = json_dumpf(j, out, CAA_JSON_DUMP_FLAGS);
	json_decref(j);
	fputc('\n', out);
	return rc;
}
