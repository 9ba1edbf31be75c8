/*
 * test_proto.c — the generated protobuf-c code against the contract:
 * Boulder's va/core wire bytes (as caa-loadgen encodes them by hand), round
 * trips of caa.v1 messages, enum numbers and names equal to include/caa/types.h, and
 * the gRPC method paths derived from the service descriptors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "caa/v1/caa.pb-c.h"
#include "core/core.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "va/va.pb-c.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                             \
			fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__, __LINE__,   \
			        #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void check_bytes(const char *what, const uint8_t *got, size_t got_len, const uint8_t *want,
                        size_t want_len)
{
	if (got_len == want_len && memcmp(got, want, want_len) == 0)
		return;
	fprintf(stderr, "%s: encoded bytes differ\n  got ", what);
	for (size_t i = 0; i < got_len; i++)
		fprintf(stderr, "%02x", got[i]);
	fprintf(stderr, "\n want ");
	for (size_t i = 0; i < want_len; i++)
		fprintf(stderr, "%02x", want[i]);
	fprintf(stderr, "\n");
	failures++;
}

/* Pack msg into a malloc'd buffer. */
static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(*len ? *len : 1);
	if (buf == NULL) {
		perror("malloc");
		exit(1);
	}
	size_t n = protobuf_c_message_pack(msg, buf);
	CHECK(n == *len);
	return buf;
}

/* ---- enums: numbers and names equal include/caa/types.h ---- */

static void check_enum(const ProtobufCEnumDescriptor *d, int first, int last,
                       const char *(*name)(int), const char *zero)
{
	CHECK(d->n_values == (unsigned)(last - first + 2)); /* plus the 0 value */
	const ProtobufCEnumValue *v0 = protobuf_c_enum_descriptor_get_value(d, 0);
	CHECK(v0 != NULL);
	if (v0)
		CHECK_STR(v0->name, zero);
	for (int i = first; i <= last; i++) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, i);
		CHECK(v != NULL);
		if (v == NULL)
			continue;
		CHECK_STR(v->name, name(i));
		/* and back: the name finds the same number */
		const ProtobufCEnumValue *w =
		    protobuf_c_enum_descriptor_get_value_by_name(d, name(i));
		CHECK(w != NULL && w->value == i);
	}
}

static const char *verdict_name(int v)
{
	return caa_verdict_name((caa_verdict_t)v);
}
static const char *reason_name(int v)
{
	return caa_reason_name((caa_reason_t)v);
}
static const char *dnssec_name(int v)
{
	return caa_dnssec_name((caa_dnssec_t)v);
}

static void test_enums(void)
{
	_Static_assert((int)CAA__V1__VERDICT__PERMITTED == (int)CAA_PERMITTED, "verdict");
	_Static_assert((int)CAA__V1__VERDICT__FORBIDDEN == (int)CAA_FORBIDDEN, "verdict");
	_Static_assert((int)CAA__V1__VERDICT__LOOKUP_FAILED == (int)CAA_LOOKUP_FAILED, "verdict");
	_Static_assert((int)CAA__V1__REASON__NO_CAA == (int)CAA_R_NO_CAA, "reason");
	_Static_assert((int)CAA__V1__REASON__DNSSEC_BOGUS == (int)CAA_R_DNSSEC_BOGUS, "reason");
	_Static_assert((int)CAA__V1__REASON__INTERNAL == (int)CAA_R_INTERNAL, "reason");
	_Static_assert((int)CAA__V1__REASON__DNS_NODATA_WITHOUT_SOA ==
	                   (int)CAA_R_DNS_NODATA_WITHOUT_SOA,
	               "reason");
	_Static_assert((int)CAA__V1__REASON__NOT_CORROBORATED == (int)CAA_R_NOT_CORROBORATED,
	               "reason");
	_Static_assert((int)CAA__V1__DNSSEC__SECURE == (int)CAA_DNSSEC_SECURE, "dnssec");
	_Static_assert((int)CAA__V1__DNSSEC__INDETERMINATE == (int)CAA_DNSSEC_INDETERMINATE,
	               "dnssec");

	check_enum(&caa__v1__verdict__descriptor, CAA_PERMITTED, CAA_LOOKUP_FAILED, verdict_name,
	           "VERDICT_UNSPECIFIED");
	check_enum(&caa__v1__reason__descriptor, CAA_R_NO_CAA, CAA_R_NOT_CORROBORATED, reason_name,
	           "REASON_UNSPECIFIED");
	check_enum(&caa__v1__dnssec__descriptor, CAA_DNSSEC_SECURE, CAA_DNSSEC_INDETERMINATE,
	           dnssec_name, "DNSSEC_UNSPECIFIED");
}

/* ---- Boulder's wire format ---- */

/* IsCAAValidRequest as caa-loadgen -wire new encodes it: 2, 3, 5 {1, 2}, 6. */
/* clang-format off */
static const uint8_t req_new[] = {
	0x12, 0x06, 'd', 'n', 's', '-', '0', '1', /* validationMethod = 2 */
	0x18, 0xb9, 0x60,                         /* accountURIID = 3: 12345 */
	0x2a, 0x12,                               /* identifier = 5, 18 bytes */
	0x0a, 0x03, 'd', 'n', 's',                /*   type = 1 */
	0x12, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', /* value = 2 */
	0x30, 0x63,                               /* authzID = 6: 99 */
};

/* caa-loadgen -wire both: also domain = 1 and the old string authzID = 4. */
static const uint8_t req_both[] = {
	0x0a, 0x0d, '*', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', /* domain = 1 */
	0x12, 0x06, 'd', 'n', 's', '-', '0', '1',                                     /* 2 */
	0x18, 0x01,                                                                   /* 3: 1 */
	0x22, 0x02, '4', '2',                                                         /* 4: "42" */
	0x2a, 0x14, 0x0a, 0x03, 'd', 'n', 's',                                        /* 5 */
	0x12, 0x0d, '*', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
	0x30, 0x2a, /* 6: 42 */
};
/* clang-format on */

static void test_boulder_request(void)
{
	Core__Identifier id = CORE__IDENTIFIER__INIT;
	id.type = "dns";
	id.value = "example.com";
	Va__IsCAAValidRequest req = VA__IS_CAAVALID_REQUEST__INIT;
	req.identifier = &id;
	req.validationmethod = "dns-01";
	req.accounturiid = 12345;
	req.authzid = 99;

	size_t len;
	uint8_t *buf = pack(&req.base, &len);
	check_bytes("IsCAAValidRequest", buf, len, req_new, sizeof req_new);
	CHECK(len > 0 && buf[0] == 0x12); /* validationMethod: field 2, length-delimited */

	Va__IsCAAValidRequest *got = va__is_caavalid_request__unpack(NULL, len, buf);
	CHECK(got != NULL);
	if (got) {
		CHECK_STR(got->domain, ""); /* proto3 strings unpack as "", never NULL */
		CHECK_STR(got->validationmethod, "dns-01");
		CHECK(got->accounturiid == 12345);
		CHECK(got->authzid == 99);
		CHECK(got->identifier != NULL);
		if (got->identifier) {
			CHECK_STR(got->identifier->type, "dns");
			CHECK_STR(got->identifier->value, "example.com");
		}
		va__is_caavalid_request__free_unpacked(got, NULL);
	}
	free(buf);

	/* Both layouts at once: the old string authzID (4) is skipped, not an error. */
	got = va__is_caavalid_request__unpack(NULL, sizeof req_both, req_both);
	CHECK(got != NULL);
	if (got) {
		CHECK_STR(got->domain, "*.example.com");
		CHECK_STR(got->validationmethod, "dns-01");
		CHECK(got->accounturiid == 1);
		CHECK(got->authzid == 42);
		CHECK(got->identifier != NULL);
		if (got->identifier)
			CHECK_STR(got->identifier->value, "*.example.com");
		va__is_caavalid_request__free_unpacked(got, NULL);
	}

	/* An all-default request is zero bytes; zero bytes unpack to defaults. */
	Va__IsCAAValidRequest empty = VA__IS_CAAVALID_REQUEST__INIT;
	CHECK(protobuf_c_message_get_packed_size(&empty.base) == 0);
	got = va__is_caavalid_request__unpack(NULL, 0, (const uint8_t *)"");
	CHECK(got != NULL);
	if (got) {
		CHECK(got->identifier == NULL);
		CHECK_STR(got->validationmethod, "");
		va__is_caavalid_request__free_unpacked(got, NULL);
	}
}

static void test_boulder_response(void)
{
	Core__ProblemDetails pd = CORE__PROBLEM_DETAILS__INIT;
	pd.problemtype = "caa";
	pd.detail = "x";
	pd.httpstatus = 403;
	Va__IsCAAValidResponse resp = VA__IS_CAAVALID_RESPONSE__INIT;
	resp.problem = &pd;
	resp.perspective = "p1";
	resp.rir = "RIPE";

	/* clang-format off */
	static const uint8_t want[] = {
		0x0a, 0x0b,                   /* problem = 1, 11 bytes */
		0x0a, 0x03, 'c', 'a', 'a',    /*   problemType = 1 */
		0x12, 0x01, 'x',              /*   detail = 2 */
		0x18, 0x93, 0x03,             /*   httpStatus = 3: 403 */
		0x1a, 0x02, 'p', '1',         /* perspective = 3 */
		0x22, 0x04, 'R', 'I', 'P', 'E', /* rir = 4 */
	};
	/* clang-format on */
	size_t len;
	uint8_t *buf = pack(&resp.base, &len);
	check_bytes("IsCAAValidResponse", buf, len, want, sizeof want);

	Va__IsCAAValidResponse *got = va__is_caavalid_response__unpack(NULL, len, buf);
	CHECK(got != NULL);
	if (got) {
		CHECK(got->problem != NULL);
		if (got->problem) {
			CHECK_STR(got->problem->problemtype, "caa");
			CHECK_STR(got->problem->detail, "x");
			CHECK(got->problem->httpstatus == 403);
		}
		CHECK_STR(got->perspective, "p1");
		CHECK_STR(got->rir, "RIPE");
		va__is_caavalid_response__free_unpacked(got, NULL);
	}
	free(buf);

	/* Permitted: no problem field on the wire. */
	Va__IsCAAValidResponse ok = VA__IS_CAAVALID_RESPONSE__INIT;
	ok.perspective = "p1";
	buf = pack(&ok.base, &len);
	static const uint8_t want_ok[] = {0x1a, 0x02, 'p', '1'};
	check_bytes("IsCAAValidResponse (permitted)", buf, len, want_ok, sizeof want_ok);
	free(buf);
}

/* ---- caa.v1 round trips ---- */

static void test_check_response(void)
{
	Caa__V1__Identifier id = CAA__V1__IDENTIFIER__INIT;
	id.type = "dns";
	id.value = "www.shop.example";

	Caa__V1__Record r0 = CAA__V1__RECORD__INIT, r1 = CAA__V1__RECORD__INIT;
	r0.flags = 0;
	r0.tag = "issue";
	r0.value = "other-ca.example";
	r0.note = "names another CA";
	r0.decided = 1;
	r1.flags = 128;
	r1.tag = "iodef";
	r1.value = "mailto:sec@shop.example";
	r1.note = "not restricting";
	Caa__V1__Record *recs[] = {&r0, &r1};

	Caa__V1__Problem sub = CAA__V1__PROBLEM__INIT;
	sub.type = "urn:ietf:params:acme:error:dns";
	sub.detail = "While processing CAA for www.shop.example: DNS problem: SERVFAIL";
	sub.status = 400;
	sub.identifier = &id;
	Caa__V1__Problem *subs[] = {&sub};
	Caa__V1__Problem prob = CAA__V1__PROBLEM__INIT;
	prob.type = "urn:ietf:params:acme:error:caa";
	prob.detail = "While processing CAA for www.shop.example: CAA record for shop.example "
	              "prevents issuance";
	prob.status = 403;
	prob.identifier = &id;
	prob.n_subproblems = 1;
	prob.subproblems = subs;

	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = 1700000000;
	ts.nanos = 123000000;

	Caa__V1__Perspective p0 = CAA__V1__PERSPECTIVE__INIT;
	p0.name = "remote-1";
	p0.rir = "RIPE";
	p0.verdict = CAA__V1__VERDICT__FORBIDDEN;
	p0.problem = &prob;
	p0.elapsed_ms = 12.5;
	Caa__V1__Perspective *persp[] = {&p0};

	Caa__V1__TraceLabel t0 = CAA__V1__TRACE_LABEL__INIT, t1 = CAA__V1__TRACE_LABEL__INIT;
	t0.name = "www.shop.example";
	t0.outcome = "NODATA";
	t0.dnssec = CAA__V1__DNSSEC__INSECURE;
	t0.elapsed_ms = 0.4;
	t1.name = "shop.example";
	t1.outcome = "PRESENT";
	t1.n_records = 2;
	t1.records = recs;
	t1.dnssec = CAA__V1__DNSSEC__INSECURE;
	t1.why = "EDE 22: No Reachable Authority";
	t1.elapsed_ms = 0.5;
	t1.retries = 2;
	t1.relevant = 1;
	Caa__V1__TraceLabel *trace[] = {&t0, &t1};

	Caa__V1__CheckResponse resp = CAA__V1__CHECK_RESPONSE__INIT;
	resp.identifier = &id;
	resp.verdict = CAA__V1__VERDICT__FORBIDDEN;
	resp.reason = CAA__V1__REASON__NOT_AUTHORIZED;
	resp.relevant_domain = "shop.example";
	resp.n_records = 2;
	resp.records = recs;
	resp.dnssec = CAA__V1__DNSSEC__INSECURE;
	resp.problem = &prob;
	resp.checked_at = &ts;
	resp.reused = 1;
	resp.n_perspectives = 1;
	resp.perspectives = persp;
	resp.n_trace = 2;
	resp.trace = trace;
	resp.queries = 3;
	resp.elapsed_ms = 1.25;
	resp.policy = "strict-2023";

	size_t len;
	uint8_t *buf = pack(&resp.base, &len);
	/* identifier = 1 (0x0a), then verdict = 2 varint (0x10 0x02), reason = 3 (0x18 0x04). */
	CHECK(len > 2 && buf[0] == 0x0a);
	size_t off = 2 + buf[1];
	CHECK(len > off + 4 && buf[off] == 0x10 && buf[off + 1] == 2 && buf[off + 2] == 0x18 &&
	      buf[off + 3] == 4);

	Caa__V1__CheckResponse *got = caa__v1__check_response__unpack(NULL, len, buf);
	CHECK(got != NULL);
	if (got == NULL) {
		free(buf);
		return;
	}
	CHECK(got->identifier && strcmp(got->identifier->value, "www.shop.example") == 0 &&
	      strcmp(got->identifier->type, "dns") == 0);
	CHECK(got->verdict == (Caa__V1__Verdict)CAA_FORBIDDEN);
	CHECK(got->reason == (Caa__V1__Reason)CAA_R_NOT_AUTHORIZED);
	CHECK_STR(got->relevant_domain, "shop.example");
	CHECK(got->n_records == 2);
	if (got->n_records == 2) {
		CHECK(got->records[0]->flags == 0 && got->records[0]->decided &&
		      !got->records[0]->authorizes && !got->records[0]->malformed);
		CHECK_STR(got->records[0]->tag, "issue");
		CHECK_STR(got->records[0]->value, "other-ca.example");
		CHECK_STR(got->records[0]->note, "names another CA");
		CHECK(got->records[1]->flags == 128 && !got->records[1]->decided);
		CHECK_STR(got->records[1]->tag, "iodef");
	}
	CHECK(got->dnssec == (Caa__V1__Dnssec)CAA_DNSSEC_INSECURE);
	CHECK(got->problem != NULL);
	if (got->problem) {
		CHECK_STR(got->problem->type, "urn:ietf:params:acme:error:caa");
		CHECK(got->problem->status == 403);
		CHECK(got->problem->identifier &&
		      strcmp(got->problem->identifier->value, "www.shop.example") == 0);
		CHECK(got->problem->n_subproblems == 1);
		if (got->problem->n_subproblems == 1) {
			CHECK(got->problem->subproblems[0]->status == 400);
			CHECK_STR(got->problem->subproblems[0]->type,
			          "urn:ietf:params:acme:error:dns");
			CHECK(got->problem->subproblems[0]->n_subproblems == 0);
		}
	}
	CHECK(got->checked_at && got->checked_at->seconds == 1700000000 &&
	      got->checked_at->nanos == 123000000);
	CHECK(got->reused);
	CHECK(got->n_perspectives == 1);
	if (got->n_perspectives == 1) {
		CHECK_STR(got->perspectives[0]->name, "remote-1");
		CHECK_STR(got->perspectives[0]->rir, "RIPE");
		CHECK(got->perspectives[0]->verdict == CAA__V1__VERDICT__FORBIDDEN);
		CHECK(got->perspectives[0]->problem != NULL);
		CHECK(got->perspectives[0]->elapsed_ms == 12.5);
	}
	CHECK(got->n_trace == 2);
	if (got->n_trace == 2) {
		CHECK_STR(got->trace[0]->name, "www.shop.example");
		CHECK_STR(got->trace[0]->outcome, "NODATA");
		CHECK_STR(got->trace[0]->why, "");
		CHECK(got->trace[0]->n_records == 0 && !got->trace[0]->relevant);
		CHECK(got->trace[0]->elapsed_ms == 0.4);
		CHECK_STR(got->trace[1]->outcome, "PRESENT");
		CHECK(got->trace[1]->n_records == 2 && got->trace[1]->relevant &&
		      got->trace[1]->retries == 2 &&
		      got->trace[1]->dnssec == CAA__V1__DNSSEC__INSECURE);
		CHECK_STR(got->trace[1]->why, "EDE 22: No Reachable Authority");
	}
	CHECK(got->queries == 3);
	CHECK(got->elapsed_ms == 1.25);
	CHECK_STR(got->policy, "strict-2023");

	/* Re-packing what was unpacked gives the same bytes. */
	size_t len2;
	uint8_t *buf2 = pack(&got->base, &len2);
	check_bytes("CheckResponse repack", buf2, len2, buf, len);
	free(buf2);
	caa__v1__check_response__free_unpacked(got, NULL);
	free(buf);

	/* Permitted: problem absent after a round trip. */
	Caa__V1__CheckResponse ok = CAA__V1__CHECK_RESPONSE__INIT;
	ok.identifier = &id;
	ok.verdict = CAA__V1__VERDICT__PERMITTED;
	ok.reason = CAA__V1__REASON__NO_CAA;
	buf = pack(&ok.base, &len);
	got = caa__v1__check_response__unpack(NULL, len, buf);
	CHECK(got != NULL);
	if (got) {
		CHECK(got->problem == NULL && got->checked_at == NULL && got->n_trace == 0);
		CHECK_STR(got->relevant_domain, "");
		caa__v1__check_response__free_unpacked(got, NULL);
	}
	free(buf);
}

static void test_requests(void)
{
	Caa__V1__Identifier id = CAA__V1__IDENTIFIER__INIT;
	id.type = "dns";
	id.value = "*.example.com";
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = 1700000000;
	Caa__V1__CheckRequest a = CAA__V1__CHECK_REQUEST__INIT;
	a.identifier = &id;
	a.account_uri = "https://ca.example/acme/acct/1";
	a.validation_method = "dns-01";
	a.validated_at = &ts;
	a.policy = "strict-2023";
	a.explain = 1;
	a.account_id = 1;
	Caa__V1__CheckRequest b = CAA__V1__CHECK_REQUEST__INIT;
	b.identifier = &id;
	Caa__V1__CheckRequest *auths[] = {&a, &b};
	Caa__V1__CheckOrderRequest order = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	order.n_authorizations = 2;
	order.authorizations = auths;

	size_t len;
	uint8_t *buf = pack(&order.base, &len);
	Caa__V1__CheckOrderRequest *got = caa__v1__check_order_request__unpack(NULL, len, buf);
	CHECK(got != NULL && got->n_authorizations == 2);
	if (got && got->n_authorizations == 2) {
		Caa__V1__CheckRequest *g = got->authorizations[0];
		CHECK(g->identifier && strcmp(g->identifier->value, "*.example.com") == 0);
		CHECK_STR(g->account_uri, "https://ca.example/acme/acct/1");
		CHECK_STR(g->validation_method, "dns-01");
		CHECK(g->validated_at && g->validated_at->seconds == 1700000000);
		CHECK_STR(g->policy, "strict-2023");
		CHECK(g->explain && g->account_id == 1);
		g = got->authorizations[1];
		CHECK(g->validated_at == NULL && !g->explain && g->account_id == 0);
		CHECK_STR(g->account_uri, "");
	}
	if (got)
		caa__v1__check_order_request__free_unpacked(got, NULL);
	free(buf);

	Caa__V1__Record r = CAA__V1__RECORD__INIT;
	r.tag = "issue";
	r.value = "ca.example";
	Caa__V1__Record *recs[] = {&r};
	Caa__V1__LabelRRset l0 = CAA__V1__LABEL_RRSET__INIT, l1 = CAA__V1__LABEL_RRSET__INIT;
	l0.name = "example.com";
	l0.n_records = 1;
	l0.records = recs;
	l0.dnssec = CAA__V1__DNSSEC__SECURE;
	l1.name = "com";
	l1.error = "SERVFAIL";
	l1.why = "EDE 9: DNSKEY Missing";
	Caa__V1__LabelRRset *labels[] = {&l0, &l1};
	Caa__V1__EvaluateRequest ev = CAA__V1__EVALUATE_REQUEST__INIT;
	ev.identifier = &id;
	ev.validation_method = "http-01";
	ev.n_labels = 2;
	ev.labels = labels;
	buf = pack(&ev.base, &len);
	Caa__V1__EvaluateRequest *eg = caa__v1__evaluate_request__unpack(NULL, len, buf);
	CHECK(eg != NULL && eg->n_labels == 2);
	if (eg && eg->n_labels == 2) {
		CHECK_STR(eg->labels[0]->name, "example.com");
		CHECK(eg->labels[0]->n_records == 1 &&
		      eg->labels[0]->dnssec == CAA__V1__DNSSEC__SECURE);
		CHECK_STR(eg->labels[0]->error, "");
		CHECK_STR(eg->labels[1]->error, "SERVFAIL");
		CHECK_STR(eg->labels[1]->why, "EDE 9: DNSKEY Missing");
		CHECK_STR(eg->validation_method, "http-01");
	}
	if (eg)
		caa__v1__evaluate_request__free_unpacked(eg, NULL);
	free(buf);

	/* Health. */
	Grpc__Health__V1__HealthCheckResponse hr = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	hr.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	buf = pack(&hr.base, &len);
	static const uint8_t want_hr[] = {0x08, 0x01};
	check_bytes("HealthCheckResponse", buf, len, want_hr, sizeof want_hr);
	free(buf);
}

/* ---- method paths ---- */

static void check_service(const ProtobufCServiceDescriptor *sd, const char *const *paths,
                          const ProtobufCMessageDescriptor *const *in,
                          const ProtobufCMessageDescriptor *const *out, unsigned n)
{
	CHECK(sd->n_methods == n);
	for (unsigned i = 0; i < n && i < sd->n_methods; i++) {
		char path[256];
		snprintf(path, sizeof path, "/%s/%s", sd->name, sd->methods[i].name);
		CHECK_STR(path, paths[i]);
		CHECK(sd->methods[i].input == in[i]);
		CHECK(sd->methods[i].output == out[i]);
	}
}

static void test_services(void)
{
	static const char *const caa_paths[] = {"/caa.v1.CAA/Check", "/caa.v1.CAA/CheckOrder",
	                                        "/caa.v1.CAA/Evaluate"};
	const ProtobufCMessageDescriptor *const caa_in[] = {
	    &caa__v1__check_request__descriptor, &caa__v1__check_order_request__descriptor,
	    &caa__v1__evaluate_request__descriptor};
	const ProtobufCMessageDescriptor *const caa_out[] = {
	    &caa__v1__check_response__descriptor, &caa__v1__check_order_response__descriptor,
	    &caa__v1__evaluate_response__descriptor};
	check_service(&caa__v1__caa__descriptor, caa_paths, caa_in, caa_out, 3);

	static const char *const va_paths[] = {"/va.CAA/DoCAA"};
	const ProtobufCMessageDescriptor *const va_in[] = {&va__is_caavalid_request__descriptor};
	const ProtobufCMessageDescriptor *const va_out[] = {&va__is_caavalid_response__descriptor};
	check_service(&va__caa__descriptor, va_paths, va_in, va_out, 1);

	static const char *const h_paths[] = {"/grpc.health.v1.Health/Check",
	                                      "/grpc.health.v1.Health/Watch"};
	const ProtobufCMessageDescriptor *const h_in[] = {
	    &grpc__health__v1__health_check_request__descriptor,
	    &grpc__health__v1__health_check_request__descriptor};
	const ProtobufCMessageDescriptor *const h_out[] = {
	    &grpc__health__v1__health_check_response__descriptor,
	    &grpc__health__v1__health_check_response__descriptor};
	check_service(&grpc__health__v1__health__descriptor, h_paths, h_in, h_out, 2);

	/* Full message names, as used in gRPC reflection and error messages. */
	CHECK_STR(caa__v1__check_response__descriptor.name, "caa.v1.CheckResponse");
	CHECK_STR(va__is_caavalid_request__descriptor.name, "va.IsCAAValidRequest");
	CHECK_STR(core__problem_details__descriptor.name, "core.ProblemDetails");
	CHECK_STR(google__protobuf__timestamp__descriptor.name, "google.protobuf.Timestamp");
}

int main(void)
{
	test_enums();
	test_boulder_request();
	test_boulder_response();
	test_check_response();
	test_requests();
	test_services();
	if (failures) {
		fprintf(stderr, "test_proto: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_proto: all checks passed\n");
	return 0;
}
