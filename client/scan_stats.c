/*
 * scan_stats.c — rows and the summary of `caa scan` (scan_stats.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "rr.h"
#include "scan_stats.h"

/* ---- string map ---- */

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t slot(const scan_map_t *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);
	while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(scan_map_t *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	scan_map_t n = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(uint64_t)), cap, m->n};
	if (n.keys == NULL || n.counts == NULL) {
		free(n.keys);
		free(n.counts);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == NULL)
			continue;
		size_t j = slot(&n, m->keys[i]);
		n.keys[j] = m->keys[i];
		n.counts[j] = m->counts[i];
	}
	free(m->keys);
	free(m->counts);
	*m = n;
	return 0;
}

int scan_map_add(scan_map_t *m, const char *key, uint64_t by)
{
	if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
		return -1;
	size_t i = slot(m, key);
	if (m->keys[i] != NULL) {
		m->counts[i] += by;
		return 0;
	}
	if ((m->keys[i] = strdup(key)) == NULL)
		return -1;
	m->counts[i] = by;
	m->n++;
	return 1;
}

int scan_set_add(scan_set_t *m, const char *key)
{
	return scan_map_add(m, key, 1);
}

bool scan_set_has(const scan_set_t *m, const char *key)
{
	return m->cap > 0 && m->keys[slot(m, key)] != NULL;
}

void scan_set_free(scan_set_t *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->counts);
	*m = (scan_map_t){0};
}

/* ---- one name under every profile ---- */

/* Decide under pol from res's trace: the labels as the climb saw them. */
static int redecide(const caa_result_t *res, const caa_request_t *base, const caa_policy_t *pol,
                    caa_result_t **out, bool *undecided)
{
	caa_request_t req = *base;
	req.type = res->reason == CAA_R_NOT_APPLICABLE ? "ip" : "dns";
	req.identifier = res->identifier;
	req.policy = pol->name;
	req.trace = req.explain = false;
	caa_name_t name;
	*undecided = false;
	if (res->reason == CAA_R_NOT_APPLICABLE ||
	    caa_name_parse_typed("dns", res->identifier, strlen(res->identifier), &name) != CAA_EOK)
		return caa_evaluate(pol, &req, NULL, 0, false, out); /* IP or .onion */
	size_t n = res->n_trace, n_rrs = 0;
	for (size_t i = 0; i < n; i++)
		n_rrs += res->trace[i].n_records;
	caa_label_t *labels = calloc(n ? n : 1, sizeof(*labels));
	caa_rr_t *rrs = calloc(n_rrs ? n_rrs : 1, sizeof(*rrs));
	int rc = CAA_ENOMEM;
	if (labels == NULL || rrs == NULL)
		goto out;
	caa_rr_t *next = rrs;
	for (size_t i = 0; i < n; i++) {
		const caa_trace_t *t = &res->trace[i];
		labels[i] = (caa_label_t){.name = t->name,
		                          .outcome = t->outcome,
		                          .dnssec = t->dnssec,
		                          .rrs = next,
		                          .n_rrs = t->n_records,
		                          .why = t->why,
		                          .retries = t->retries,
		                          .elapsed_us = t->elapsed_us};
		for (size_t k = 0; k < t->n_records; k++, next++) {
			const caa_record_t *r = &t->records[k];
			*next = (caa_rr_t){.flags = r->flags,
			                   .tag_len = (uint8_t)strlen(r->tag),
			                   .value_len = (uint16_t)strlen(r->value),
			                   .malformed = r->malformed,
			                   .tag = r->tag,
			                   .value = r->value};
		}
	}
	/* A label the climb did not need under the first profile (PENDING) may be
	 * one this profile needs: then it fails closed, and the row says so. */
	size_t idx;
	*undecided =
	    n < name.n_labels || caa_policy_select(labels, n, pol, &idx) == CAA_SEL_UNDECIDED;
	rc = caa_evaluate(pol, &req, labels, n, false, out);
out:
	free(labels);
	free(rrs);
	return rc;
}

int scan_row_decide(scan_row_t *row, caa_result_t *res, const caa_request_t *base,
                    const caa_policy_t *const *pols, size_t n_profiles)
{
	row->res[0] = res;
	if (res->verdict == CAA_LOOKUP_FAILED)
		row->error_class = caa_reason_name(res->reason);
	for (size_t p = 1; p < n_profiles; p++) {
		int rc = redecide(res, base, pols[p], &row->res[p], &row->undecided[p]);
		if (rc != CAA_EOK)
			return rc;
	}
	return CAA_EOK;
}

const char *scan_row_verdict(const scan_row_t *row, size_t p)
{
	return row->res[p] != NULL ? caa_verdict_name(row->res[p]->verdict) : "ERROR";
}

const char *scan_row_reason(const scan_row_t *row, size_t p)
{
	if (row->res[p] != NULL)
		return caa_reason_name(row->res[p]->reason);
	return row->error_class != NULL ? row->error_class : "INTERNAL";
}

void scan_row_clear(scan_row_t *row, size_t n_profiles)
{
	for (size_t p = 0; p < n_profiles; p++)
		caa_result_free(row->res[p]);
	*row = (scan_row_t){0};
}

/* ---- the summary ---- */

int scan_stats_init(scan_stats_t *st, size_t n_profiles)
{
	*st = (scan_stats_t){.n_profiles = n_profiles};
	return 0;
}

static bool is_tag(const char *tag, const char *want)
{
	return strcasecmp(tag, want) == 0;
}

/* Does an issue/issuewild value carry parameter key (RFC 8659 §4.2)? */
static bool has_param(const char *value, const char *key)
{
	const char *p = strchr(value, ';');
	size_t klen = strlen(key);
	while (p != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, key, klen) == 0) {
			const char *q = p + klen;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=')
				return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

/* The issuer domain of an issue/issuewild value, lowercased: "" for ";". */
static void issuer_of(const char *value, char *buf, size_t len)
{
	while (*value == ' ' || *value == '\t')
		value++;
	size_t n = 0;
	for (; *value != '\0' && *value != ';' && n + 1 < len; value++)
		buf[n++] = (char)tolower((unsigned char)*value);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
}

static int count_records(scan_stats_t *st, const caa_result_t *res)
{
	bool malformed = res->reason == CAA_R_MALFORMED_PROPERTY, acct = false, vm = false;
	int rc = 0;
	for (size_t i = 0; i < res->n_records; i++) {
		const caa_record_t *r = &res->records[i];
		st->records++;
		/* RDATA that did not parse, or a value that does not (authorises nobody) */
		if (r->malformed || r->note == CAA_NOTE_MALFORMED_VALUE) {
			st->malformed_records++;
			malformed = true;
			continue;
		}
		if (r->flags & CAA_FLAG_CRITICAL) {
			char tag[256];
			size_t k = 0;
			for (; r->tag[k] != '\0' && k + 1 < sizeof(tag); k++)
				tag[k] = (char)tolower((unsigned char)r->tag[k]);
			tag[k] = '\0';
			rc |= scan_map_add(&st->critical_tags, tag, 1) < 0;
		}
		if (!is_tag(r->tag, "issue") && !is_tag(r->tag, "issuewild"))
			continue;
		acct |= has_param(r->value, "accounturi");
		vm |= has_param(r->value, "validationmethods");
		char issuer[256];
		issuer_of(r->value, issuer, sizeof(issuer));
		/* each issuer once per name */
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++) {
			const caa_record_t *o = &res->records[k];
			char other[256];
			if (o->malformed ||
			    (!is_tag(o->tag, "issue") && !is_tag(o->tag, "issuewild")))
				continue;
			issuer_of(o->value, other, sizeof(other));
			seen = strcmp(other, issuer) == 0;
		}
		if (!seen)
			rc |= scan_map_add(&st->issuers, issuer[0] ? issuer : ";", 1) < 0;
	}
	st->names_malformed += malformed;
	st->accounturi_names += acct;
	st->validationmethods_names += vm;
	return rc ? -1 : 0;
}

int scan_stats_add(scan_stats_t *st, const char *name, const scan_row_t *row)
{
	const caa_result_t *res = row->res[0];
	int rc = 0;
	st->names++;
	rc |= scan_map_add(&st->verdicts, scan_row_verdict(row, 0), 1) < 0;
	if (res == NULL || res->verdict == CAA_LOOKUP_FAILED)
		st->failures++;
	if (row->error_class != NULL)
		rc |= scan_map_add(&st->errors, row->error_class, 1) < 0;
	if (res != NULL) {
		if (res->dnssec != 0)
			rc |= scan_map_add(&st->dnssec, caa_dnssec_name(res->dnssec), 1) < 0;
		if (res->relevant_domain[0] != '\0')
			st->with_rrset++;
		rc |= count_records(st, res);
	}
	for (size_t p = 1; p < st->n_profiles; p++) {
		const char *a = scan_row_verdict(row, 0), *b = scan_row_verdict(row, p);
		st->undecided[p] += row->undecided[p];
		if (strcmp(a, b) == 0)
			continue;
		st->differ[p]++;
		char key[64];
		snprintf(key, sizeof(key), "%s -> %s", a, b);
		rc |= scan_map_add(&st->transitions[p], key, 1) < 0;
		for (size_t k = 0; k < 3; k++)
			if (st->examples[p][k] == NULL) {
				st->examples[p][k] = strdup(name);
				break;
			}
	}
	return rc ? -1 : 0;
}

/* The entries of m by count, highest first (ties by key); *n gets how many. */
static size_t *by_count(const scan_map_t *m, size_t *n)
{
	size_t *idx = calloc(m->n ? m->n : 1, sizeof(*idx)), k = 0;
	*n = 0;
	if (idx == NULL)
		return NULL;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != NULL)
			idx[k++] = i;
	for (size_t i = 1; i < k; i++) /* insertion sort: the maps are small */
		for (size_t j = i; j > 0; j--) {
			size_t a = idx[j - 1], b = idx[j];
			if (m->counts[a] > m->counts[b] ||
			    (m->counts[a] == m->counts[b] && strcmp(m->keys[a], m->keys[b]) <= 0))
				break;
			idx[j - 1] = b;
			idx[j] = a;
		}
	*n = k;
	return idx;
}

static json_t *map_json(const scan_map_t *m, size_t top)
{
	json_t *o = json_object();
	size_t n;
	size_t *idx = by_count(m, &n);
	for (size_t k = 0; o != NULL && idx != NULL && k < n && k < top; k++)
		json_object_set_new(o, m->keys[idx[k]],
		                    json_integer((json_int_t)m->counts[idx[k]]));
	free(idx);
	return o;
}

static void map_text(FILE *out, const char *label, const scan_map_t *m, size_t top)
{
	fprintf(out, "  %s:", label);
	size_t n;
	size_t *idx = by_count(m, &n);
	for (size_t k = 0; idx != NULL && k < n && k < top; k++)
		fprintf(out, "%s %s %lu", k ? "," : "", m->keys[idx[k]],
		        (unsigned long)m->counts[idx[k]]);
	if (n == 0)
		fputs(" none", out);
	else if (n > top)
		fprintf(out, ", ... (%zu in all)", m->n);
	fputc('\n', out);
	free(idx);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

static const char *profile_name(const char *p)
{
	return p[0] ? p : "default";
}

void scan_stats_print(FILE *out, const scan_stats_t *st, const char *const *profiles,
                      size_t n_profiles, unsigned top, bool json)
{
	if (json) {
		json_t *diff = json_array();
		for (size_t p = 1; p < n_profiles; p++) {
			json_t *ex = json_array();
			for (size_t k = 0; k < 3 && st->examples[p][k]; k++)
				json_array_append_new(ex, json_string(st->examples[p][k]));
			json_array_append_new(diff,
			                      json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "profile",
			                                profile_name(profiles[p]), "against",
			                                profile_name(profiles[0]), "differ",
			                                (json_int_t)st->differ[p], "undecided",
			                                (json_int_t)st->undecided[p], "transitions",
			                                map_json(&st->transitions[p], SIZE_MAX),
			                                "examples", ex));
		}
		json_t *o = json_pack(
		    "{s:I, s:I, s:I, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
		    "names", (json_int_t)st->names, "skipped", (json_int_t)st->skipped, "failures",
		    (json_int_t)st->failures, "verdicts", map_json(&st->verdicts, SIZE_MAX),
		    "with_relevant_rrset", (json_int_t)st->with_rrset, "issuers",
		    map_json(&st->issuers, top), "critical_tags",
		    map_json(&st->critical_tags, SIZE_MAX), "records", (json_int_t)st->records,
		    "malformed_records", (json_int_t)st->malformed_records, "names_with_malformed",
		    (json_int_t)st->names_malformed, "accounturi_names",
		    (json_int_t)st->accounturi_names, "validationmethods_names",
		    (json_int_t)st->validationmethods_names, "errors",
		    map_json(&st->errors, SIZE_MAX), "dnssec", map_json(&st->dnssec, SIZE_MAX),
		    "profiles", diff);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		fprintf(out, "%s\n", text ? text : "{\"error\":\"out of memory\"}");
		free(text);
		json_decref(o);
		return;
	}
	fprintf(out, "summary: %lu names", (unsigned long)st->names);
	if (st->skipped)
		fprintf(out, " (%lu skipped: already in the output)", (unsigned long)st->skipped);
	fputc('\n', out);
	map_text(out, "verdicts", &st->verdicts, SIZE_MAX);
	fprintf(out, "  relevant CAA RRset: %lu names (%.1f%%)\n", (unsigned long)st->with_rrset,
	        pct(st->with_rrset, st->names));
	char label[64];
	snprintf(label, sizeof(label), "issuers named (top %u, names)", top);
	map_text(out, label, &st->issuers, top);
	map_text(out, "critical tags (records)", &st->critical_tags, SIZE_MAX);
	fprintf(out,
	        "  RFC 8657: accounturi in %lu names (%.1f%% of those with an RRset), "
	        "validationmethods in %lu (%.1f%%)\n",
	        (unsigned long)st->accounturi_names, pct(st->accounturi_names, st->with_rrset),
	        (unsigned long)st->validationmethods_names,
	        pct(st->validationmethods_names, st->with_rrset));
	fprintf(out,
	        "  malformed records: %lu of %lu (names with one, or MALFORMED_PROPERTY: %lu)\n",
	        (unsigned long)st->malformed_records, (unsigned long)st->records,
	        (unsigned long)st->names_malformed);
	map_text(out, "errors by class", &st->errors, SIZE_MAX);
	map_text(out, "DNSSEC", &st->dnssec, SIZE_MAX);
	for (size_t p = 1; p < n_profiles; p++) {
		fprintf(out, "  profile %s against %s: %lu names differ", profile_name(profiles[p]),
		        profile_name(profiles[0]), (unsigned long)st->differ[p]);
		if (st->undecided[p])
			fprintf(out,
			        " (%lu needed a label the first profile did not look up: failed "
			        "closed)",
			        (unsigned long)st->undecided[p]);
		fputc('\n', out);
		if (st->differ[p] > 0) {
			map_text(out, "  changes", &st->transitions[p], SIZE_MAX);
			fputs("    e.g.", out);
			for (size_t k = 0; k < 3 && st->examples[p][k]; k++)
				fprintf(out, " %s", st->examples[p][k]);
			fputc('\n', out);
		}
	}
}

void scan_stats_free(scan_stats_t *st, size_t n_profiles)
{
	scan_set_free(&st->verdicts);
	scan_set_free(&st->issuers);
	scan_set_free(&st->critical_tags);
	scan_set_free(&st->errors);
	scan_set_free(&st->dnssec);
	for (size_t p = 0; p < n_profiles && p < SCAN_PROFILES_MAX; p++) {
		scan_set_free(&st->transitions[p]);
		for (size_t k = 0; k < 3; k++)
			free(st->examples[p][k]);
	}
}
