/*
 * fuzz_records.c — libFuzzer target for caa_records_parse(): arbitrary text
 * in, abort() when an answer breaks records.h. The names looked up are the
 * first tokens of the input's lines, so the owners the file defines are hit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define NAMES_MAX 16

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Every view readable (ASan checks the reads), every field consistent. */
static void check_labels(const caa_name_t *name, const caa_label_t *labels, size_t size)
{
	static const char *const issuers[] = {"ca.example"};
	caa_policy_t pol;
	caa_policy_init(&pol);
	pol.issuer_domains = issuers;
	pol.n_issuer_domains = 1;

	for (unsigned i = 0; i < name->n_labels; i++) {
		const caa_label_t *l = &labels[i];
		CHECK(l->name == caa_name_suffix(name, i));
		CHECK(l->outcome >= CAA_OUT_PRESENT && l->outcome <= CAA_OUT_BOGUS);
		CHECK((l->dnssec == CAA_DNSSEC_BOGUS) == (l->outcome == CAA_OUT_BOGUS));
		CHECK(l->dnssec == CAA_DNSSEC_BOGUS || l->dnssec == CAA_DNSSEC_INDETERMINATE);
		CHECK(l->retries == 0 && l->elapsed_us == 0);
		if (l->why != NULL)
			CHECK(strlen(l->why) < size); /* decoded from a token of the input */
		if (l->outcome != CAA_OUT_PRESENT) {
			CHECK(l->n_rrs == 0 && l->rrs == NULL);
			continue;
		}
		CHECK(l->n_rrs >= 1 && l->n_rrs <= CAA_RECORDS_MAX_PER_OWNER && l->rrs != NULL);
		unsigned sum = 0;
		for (size_t j = 0; j < l->n_rrs; j++) {
			const caa_rr_t *rr = &l->rrs[j];
			CHECK(rr->tag != NULL && rr->value != NULL);
			if (rr->malformed) {
				CHECK(rr->tag_len == 0 && rr->value_len == 0);
				continue;
			}
			CHECK(rr->tag_len >= 1);
			for (size_t k = 0; k < rr->tag_len; k++)
				CHECK(is_alnum(rr->tag[k]));
			for (size_t k = 0; k < rr->value_len; k++)
				sum += (unsigned char)rr->value[k];
		}
		(void)sum;
		caa_query_t q = {.wildcard = name->wildcard, .method = "dns-01"};
		caa_decision_t d;
		caa_policy_eval(&pol, &q, l->rrs, l->n_rrs, &d, NULL);
		CHECK(d.verdict == CAA_PERMITTED || d.verdict == CAA_FORBIDDEN);
		CHECK(d.decided_by >= -1 && d.decided_by < (int)l->n_rrs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	caa_records_t *recs = NULL, *again = NULL;
	char err[256], err2[256];

	int rc = caa_records_parse(text, size, &recs, err, sizeof(err));
	int rc2 = caa_records_parse(text, size, &again, err2, sizeof(err2));
	CHECK(rc == rc2);
	caa_records_free(again);
	if (rc != CAA_EOK) {
		CHECK(recs == NULL);
		CHECK(rc == CAA_ERECORDS || rc == CAA_ELIMIT || rc == CAA_ENOMEM);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && strcmp(err, err2) == 0);
		CHECK(rc != CAA_ERECORDS || strncmp(err, "line ", 5) == 0);
		return 0;
	}
	CHECK(recs != NULL);

	/* Look up the first token of each line (the owners), and its parents. */
	const char *p = text, *end = text + size;
	for (int n = 0; p < end && n < NAMES_MAX; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *tok_end = p;
		while (tok_end < eol && *tok_end != ' ' && *tok_end != '\t' && *tok_end != '\r')
			tok_end++;
		caa_name_t name;
		caa_label_t labels[CAA_LABELS_MAX];
		if (caa_name_parse(p, (size_t)(tok_end - p), &name) == CAA_EOK) {
			caa_records_labels(recs, &name, labels);
			check_labels(&name, labels, size);
		}
		p = nl ? nl + 1 : end;
	}
	caa_records_free(recs);
	return 0;
}
