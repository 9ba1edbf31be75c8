/*
 * t_rpc.c — every method of caad, as a client sees it: caa.v1 Check,
 * CheckOrder and Evaluate, Boulder's va.CAA/DoCAA (hand-packed), health,
 * and unknown methods.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cases.h"

#define URN_CAA "urn:ietf:params:acme:error:caa"
#define URN_DNS "urn:ietf:params:acme:error:dns"

static bool starts(const char *s, const char *p)
{
	return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

void case_check(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	creq_t r;

	int64_t before = unix_ms();
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	if (m != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED, "verdict %d", m->verdict);
		CHECK(m->reason == CAA__V1__REASON__AUTHORIZED, "reason %d", m->reason);
		CHECK_STR(m->identifier ? m->identifier->value : NULL, "issue-permit.lab");
		CHECK_STR(m->identifier ? m->identifier->type : NULL, "dns");
		CHECK_STR(m->relevant_domain, "issue-permit.lab");
		CHECK(m->n_records == 1, "%zu records", m->n_records);
		if (m->n_records == 1) {
			CHECK_STR(m->records[0]->tag, "issue");
			CHECK_STR(m->records[0]->value, "ca.example");
			CHECK(m->records[0]->authorizes && m->records[0]->decided, "record flags");
			CHECK(m->records[0]->note[0] != '\0', "record note empty");
		}
		CHECK(m->dnssec == CAA__V1__DNSSEC__SECURE, "dnssec %d", m->dnssec);
		CHECK(m->problem == NULL, "problem on a permitted check");
		CHECK(m->checked_at && m->checked_at->seconds * 1000 >= before - 1000 &&
		          m->checked_at->seconds * 1000 <= unix_ms() + 1000,
		      "checked_at");
		CHECK(!m->reused, "reused on the first check");
		CHECK(m->queries >= 1, "queries %u", m->queries);
		CHECK(m->elapsed_ms > 0, "elapsed_ms %g", m->elapsed_ms);
		CHECK(m->n_trace == 0, "trace without explain");
		CHECK_STR(m->policy, "");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	creq(&r, "www.issue-deny.lab");
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__FORBIDDEN, "verdict %d", m->verdict);
		CHECK(m->reason == CAA__V1__REASON__NOT_AUTHORIZED, "reason %d", m->reason);
		CHECK(m->problem != NULL, "no problem");
		if (m->problem) {
			CHECK_STR(m->problem->type, URN_CAA);
			CHECK(m->problem->status == 403, "status %d", m->problem->status);
			CHECK_STR(m->problem->detail,
			          "While processing CAA for www.issue-deny.lab: CAA "
			          "record for issue-deny.lab prevents issuance");
			CHECK_STR(m->problem->identifier ? m->problem->identifier->value : NULL,
			          "www.issue-deny.lab");
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	creq(&r, "a.servfail.lab");
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED, "verdict %d", m->verdict);
		CHECK(m->reason == CAA__V1__REASON__DNS_SERVFAIL, "reason %d", m->reason);
		CHECK(m->problem && strcmp(m->problem->type, URN_DNS) == 0 &&
		          m->problem->status == 400,
		      "dns problem");
		CHECK(m->problem &&
		          starts(m->problem->detail, "While processing CAA for "
		                                     "a.servfail.lab: DNS problem: SERVFAIL "
		                                     "looking up CAA for "),
		      "detail %s", m->problem ? m->problem->detail : "");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	creq(&r, "a.b.issue-permit.lab");
	r.m.explain = true;
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->n_trace == 4, "%zu trace labels", m->n_trace);
		if (m->n_trace == 4) {
			CHECK_STR(m->trace[0]->name, "a.b.issue-permit.lab");
			CHECK_STR(m->trace[2]->name, "issue-permit.lab");
			CHECK_STR(m->trace[2]->outcome, "PRESENT");
			CHECK(m->trace[2]->relevant && !m->trace[0]->relevant, "relevant label");
			CHECK(m->trace[2]->n_records == 1, "trace records");
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	/* normalised: case and a trailing dot; wildcard kept; IP not applicable */
	creq(&r, "Issue-Permit.LAB.");
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK_STR(m->identifier->value, "issue-permit.lab");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	creq(&r, "*.wild1.lab");
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED, "wildcard verdict %d", m->verdict);
		CHECK_STR(m->identifier->value, "*.wild1.lab");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	creq(&r, "192.0.2.1");
	r.id.type = "ip";
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->verdict == CAA__V1__VERDICT__PERMITTED &&
		          m->reason == CAA__V1__REASON__NOT_APPLICABLE,
		      "ip: %d %d", m->verdict, m->reason);
		CHECK_STR(m->identifier->type, "ip");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	/* RFC 8657 parameters reach the decision */
	creq(&r, "acct.lab");
	r.m.account_uri = "https://ca.example/acme/acct/2";
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->reason == CAA__V1__REASON__ACCOUNT_URI_MISMATCH, "acct reason %d",
		      m->reason);
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	creq(&r, "vm.lab");
	r.m.validation_method = "http-01";
	if ((m = t_check(ch, &r)) != NULL) {
		CHECK(m->reason == CAA__V1__REASON__VALIDATION_METHOD_MISMATCH, "vm reason %d",
		      m->reason);
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	/* the audit lines */
	json_t *l = h_log_find(&p, "check", "identifier", "www.issue-deny.lab", 2000);
	CHECK(l != NULL, "no audit line for www.issue-deny.lab");
	if (l != NULL) {
		CHECK_STR(json_string_value(json_object_get(l, "verdict")), "FORBIDDEN");
		CHECK_STR(json_string_value(json_object_get(l, "rpc")), "Check");
		CHECK_STR(json_string_value(json_object_get(l, "relevant_domain")),
		          "issue-deny.lab");
		CHECK_STR(json_string_value(json_object_get(l, "account_uri")), ACCOUNT_1);
		CHECK_STR(json_string_value(json_object_get(l, "validation_method")), "dns-01");
		CHECK(starts(json_string_value(json_object_get(l, "peer")), "ipv4:127.0.0.1:"),
		      "peer");
		CHECK_STR(json_string_value(json_object_get(json_object_get(l, "problem"), "type")),
		          URN_CAA);
		CHECK_STR(json_string_value(json_array_get(json_object_get(l, "records"), 0)),
		          "0 issue \"other-ca.example\"");
		CHECK(json_is_number(json_object_get(l, "elapsed_ms")) &&
		          json_is_integer(json_object_get(l, "queries")) &&
		          json_is_string(json_object_get(l, "time")) &&
		          json_is_string(json_object_get(l, "dnssec")),
		      "audit fields");
		json_decref(l);
	}
	l = h_log_find(&p, "check", "identifier", "a.servfail.lab", 2000);
	CHECK(l && json_string_value(json_object_get(l, "failed_label")) != NULL,
	      "a failure names its label");
	json_decref(l);
	t_stop(&p, ch);
}

/* A CheckOrder of names answered with status want (asserted): the answer
 * when want is OK (NULL only with a recorded failure), else NULL. */
static Caa__V1__CheckOrderResponse *order(grpc_channel *ch, const char *const *names, size_t n,
                                          grpc_status_code want)
{
	Caa__V1__CheckOrderRequest req = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	creq_t *r = calloc(n ? n : 1, sizeof(*r));
	Caa__V1__CheckRequest **list = calloc(n ? n : 1, sizeof(*list));
	for (size_t i = 0; i < n; i++) {
		creq(&r[i], names[i]);
		list[i] = &r[i].m;
	}
	req.n_authorizations = n;
	req.authorizations = list;
	gc_result_t res;
	Caa__V1__CheckOrderResponse *m = (Caa__V1__CheckOrderResponse *)t_call(
	    ch, M_ORDER, &req.base, &caa__v1__check_order_response__descriptor, CALL_MS, &res);
	CHECK(res.status == want, "CheckOrder of %zu: %s %s, want %s", n,
	      gc_status_name(res.status), res.details ? res.details : "", gc_status_name(want));
	CHECK((m != NULL) == (want == GRPC_STATUS_OK), "CheckOrder of %zu: %s answer", n,
	      m ? "an unexpected" : "no");
	gc_result_free(&res);
	free(list);
	free(r);
	return m;
}

void case_order(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);

	static const char *const four[] = {"issue-permit.lab", "www.issue-deny.lab",
	                                   "a.servfail.lab", "www.nocaa.lab"};
	static const int want[] = {CAA__V1__VERDICT__PERMITTED, CAA__V1__VERDICT__FORBIDDEN,
	                           CAA__V1__VERDICT__LOOKUP_FAILED, CAA__V1__VERDICT__PERMITTED};
	Caa__V1__CheckOrderResponse *m = order(ch, four, 4, GRPC_STATUS_OK);
	if (m != NULL) {
		CHECK(m->n_results == 4, "%zu results", m->n_results);
		for (size_t i = 0; i < m->n_results && i < 4; i++) {
			CHECK_STR(m->results[i]->identifier->value, four[i]);
			CHECK((int)m->results[i]->verdict == want[i], "result %zu verdict %d", i,
			      m->results[i]->verdict);
		}
		Caa__V1__Problem *pr = m->problem;
		CHECK(pr != NULL, "no aggregated problem");
		if (pr != NULL) {
			CHECK_STR(pr->type, URN_CAA);
			CHECK(pr->status == 403, "status %d", pr->status);
			CHECK(starts(pr->detail,
			             "Rechecking CAA for \"www.issue-deny.lab\" and 1 more "
			             "identifiers failed"),
			      "detail %s", pr->detail);
			CHECK(pr->n_subproblems == 2, "%zu sub-problems", pr->n_subproblems);
			if (pr->n_subproblems == 2) {
				CHECK_STR(pr->subproblems[0]->type, URN_CAA);
				CHECK_STR(pr->subproblems[0]->identifier->value,
				          "www.issue-deny.lab");
				CHECK_STR(pr->subproblems[1]->type, URN_DNS);
				CHECK_STR(pr->subproblems[1]->identifier->value, "a.servfail.lab");
			}
		}
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}

	/* one failure: the problem is that failure's */
	m = order(ch, four, 2, GRPC_STATUS_OK);
	if (m != NULL) {
		CHECK(m->problem && m->problem->n_subproblems == 0 &&
		          strcmp(m->problem->detail, "While processing CAA for www.issue-deny.lab: "
		                                     "CAA record for issue-deny.lab prevents "
		                                     "issuance") == 0,
		      "single failure problem");
		protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	/* all permitted: no problem; names sharing parents */
	static const char *const many[] = {"a.issue-permit.lab", "b.issue-permit.lab",
	                                   "c.issue-permit.lab", "issue-permit.lab",
	                                   "d.e.issue-permit.lab"};
	m = order(ch, many, 5, GRPC_STATUS_OK);
	CHECK(m != NULL && m->problem == NULL && m->n_results == 5, "all permitted");
	if (m != NULL)
		protobuf_c_message_free_unpacked(&m->base, NULL);

	m = order(ch, four, 0, GRPC_STATUS_INVALID_ARGUMENT); /* empty order */

	/* one audit line per identifier, sharing the call number */
	json_t *a = h_log_find(&p, "check", "identifier", "a.servfail.lab", 2000);
	json_t *b = h_log_find(&p, "check", "identifier", "www.nocaa.lab", 2000);
	CHECK(a && b, "order audit lines");
	if (a && b) {
		CHECK_STR(json_string_value(json_object_get(a, "rpc")), "CheckOrder");
		CHECK(json_integer_value(json_object_get(a, "call")) ==
		          json_integer_value(json_object_get(b, "call")),
		      "one call number per order");
		CHECK(json_integer_value(json_object_get(json_object_get(b, "order"), "index")) ==
		              3 &&
		          json_integer_value(
		              json_object_get(json_object_get(b, "order"), "size")) == 4,
		      "order position");
	}
	json_decref(a);
	json_decref(b);
	t_stop(&p, ch);
}

/* Evaluate helpers: labels on the heap, freed by ev_free. */
typedef struct ev {
	Caa__V1__EvaluateRequest m;
	Caa__V1__Identifier id;
	Caa__V1__LabelRRset *labels[200];
	Caa__V1__Record *recs[64];
	size_t n_recs;
} ev_t;

static void ev_init(ev_t *e, const char *ident)
{
	memset(e, 0, sizeof(*e));
	caa__v1__evaluate_request__init(&e->m);
	caa__v1__identifier__init(&e->id);
	e->id.value = (char *)ident;
	e->m.identifier = &e->id;
	e->m.account_uri = ACCOUNT_1;
	e->m.validation_method = "dns-01";
	e->m.labels = e->labels;
}

static Caa__V1__LabelRRset *ev_label(ev_t *e, const char *name, const char *error)
{
	Caa__V1__LabelRRset *l = calloc(1, sizeof(*l));
	caa__v1__label_rrset__init(l);
	l->name = (char *)name;
	l->error = (char *)(error ? error : "");
	l->records = calloc(8, sizeof(*l->records));
	e->labels[e->m.n_labels++] = l;
	return l;
}

static void ev_record(ev_t *e, Caa__V1__LabelRRset *l, unsigned flags, const char *tag,
                      const char *value)
{
	Caa__V1__Record *r = calloc(1, sizeof(*r));
	caa__v1__record__init(r);
	r->flags = flags;
	r->tag = (char *)tag;
	r->value = (char *)value;
	l->records[l->n_records++] = r;
	e->recs[e->n_recs++] = r;
}

static void ev_free(ev_t *e)
{
	for (size_t i = 0; i < e->m.n_labels; i++) {
		free(e->labels[i]->records);
		free(e->labels[i]);
	}
	for (size_t i = 0; i < e->n_recs; i++)
		free(e->recs[i]);
}

static Caa__V1__CheckResponse *evaluate(grpc_channel *ch, ev_t *e, grpc_status_code *code,
                                        char *msg, size_t msglen)
{
	gc_result_t res;
	Caa__V1__EvaluateResponse *m = (Caa__V1__EvaluateResponse *)t_call(
	    ch, M_EVALUATE, &e->m.base, &caa__v1__evaluate_response__descriptor, CALL_MS, &res);
	*code = res.status;
	if (msg)
		snprintf(msg, msglen, "%s", res.details ? res.details : "");
	gc_result_free(&res);
	ev_free(e);
	if (m == NULL)
		return NULL;
	Caa__V1__CheckResponse *r = m->result;
	m->result = NULL;
	protobuf_c_message_free_unpacked(&m->base, NULL);
	return r;
}

void case_evaluate(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	grpc_status_code code;
	char msg[512];
	ev_t e;
	Caa__V1__CheckResponse *r;

	ev_init(&e, "www.shop.example");
	ev_record(&e, ev_label(&e, "shop.example", NULL), 0, "issue", "other-ca.example");
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->verdict == CAA__V1__VERDICT__FORBIDDEN &&
	          r->reason == CAA__V1__REASON__NOT_AUTHORIZED &&
	          strcmp(r->relevant_domain, "shop.example") == 0 && r->problem &&
	          strcmp(r->problem->type, URN_CAA) == 0,
	      "forbidden: %s", gc_status_name(code));
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	/* an error above the relevant RRset does not matter; explain gives the climb */
	ev_init(&e, "www.shop.example");
	e.m.explain = true;
	ev_record(&e, ev_label(&e, "SHOP.example.", NULL), 0, "issue", "ca.example");
	ev_label(&e, "example", "SERVFAIL");
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->verdict == CAA__V1__VERDICT__PERMITTED && r->n_trace == 3,
	      "error above relevant");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	ev_init(&e, "www.shop.example");
	ev_label(&e, "www.shop.example", "SERVFAIL");
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->verdict == CAA__V1__VERDICT__LOOKUP_FAILED &&
	          r->reason == CAA__V1__REASON__DNS_SERVFAIL,
	      "servfail");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	ev_init(&e, "shop.example");
	Caa__V1__LabelRRset *bl = ev_label(&e, "shop.example", "BOGUS");
	bl->why = "signature expired";
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->reason == CAA__V1__REASON__DNSSEC_BOGUS && r->problem &&
	          strstr(r->problem->detail, "DNSSEC: signature expired"),
	      "bogus");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	/* octets outside printable ASCII travel as \DDD both ways */
	ev_init(&e, "shop.example");
	ev_record(&e, ev_label(&e, "shop.example", NULL), 0, "tbs", "\\200\\001x\\\\");
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->reason == CAA__V1__REASON__NO_RESTRICTING_PROPERTY && r->n_records == 1 &&
	          strcmp(r->records[0]->value, "\\200\\001x\\\\") == 0,
	      "\\DDD round trip: %s", r && r->n_records ? r->records[0]->value : "");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	ev_init(&e, "shop.example");
	ev_record(&e, ev_label(&e, "shop.example", NULL), 128, "tbs", "x");
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->verdict == CAA__V1__VERDICT__FORBIDDEN &&
	          r->reason == CAA__V1__REASON__CRITICAL_TAG,
	      "critical");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	ev_init(&e, "shop.example");
	Caa__V1__LabelRRset *ml = ev_label(&e, "shop.example", NULL);
	ev_record(&e, ml, 0, "issue", "ca.example");
	ml->records[0]->malformed = true;
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->verdict == CAA__V1__VERDICT__FORBIDDEN, "malformed record");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	ev_init(&e, "192.0.2.7");
	e.id.type = "ip";
	r = evaluate(ch, &e, &code, NULL, 0);
	CHECK(r && r->reason == CAA__V1__REASON__NOT_APPLICABLE, "ip");
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);

	/* refusals name the field */
	ev_init(&e, "www.shop.example");
	ev_label(&e, "other.example", NULL);
	r = evaluate(ch, &e, &code, msg, sizeof(msg));
	CHECK(!r && code == GRPC_STATUS_INVALID_ARGUMENT && strstr(msg, "labels[0].name"),
	      "foreign label: %s %s", gc_status_name(code), msg);
	ev_init(&e, "shop.example");
	ev_label(&e, "shop.example", "BANANA");
	r = evaluate(ch, &e, &code, msg, sizeof(msg));
	CHECK(!r && code == GRPC_STATUS_INVALID_ARGUMENT && strstr(msg, "labels[0].error"),
	      "bad error: %s", msg);
	ev_init(&e, "shop.example");
	ev_label(&e, "shop.example", NULL);
	ev_label(&e, "Shop.Example.", NULL);
	r = evaluate(ch, &e, &code, msg, sizeof(msg));
	CHECK(!r && code == GRPC_STATUS_INVALID_ARGUMENT && strstr(msg, "given twice"),
	      "duplicate label: %s", msg);
	ev_init(&e, "shop.example");
	ev_record(&e, ev_label(&e, "shop.example", NULL), 0, "issue", "bad\\9");
	r = evaluate(ch, &e, &code, msg, sizeof(msg));
	CHECK(!r && code == GRPC_STATUS_INVALID_ARGUMENT && strstr(msg, "records[0].value"),
	      "bad escape: %s", msg);
	ev_init(&e, "shop.example");
	for (int i = 0; i < 129; i++)
		ev_label(&e, "shop.example", NULL);
	r = evaluate(ch, &e, &code, msg, sizeof(msg));
	CHECK(!r && code == GRPC_STATUS_INVALID_ARGUMENT && strstr(msg, "at most 128"),
	      "too many labels: %s", msg);

	/* account_uri and account_id of different accounts: refused as Check
	 * refuses them, though the URI alone would be authorised */
	static const struct {
		const char *uri;
		int64_t id;
	} disagree[] = {{ACCOUNT_1, 2}, {"https://other.example/acct/1", 1}, {"1", 1}};
	for (size_t i = 0; i < sizeof(disagree) / sizeof(disagree[0]); i++) {
		ev_init(&e, "shop.example");
		ev_record(&e, ev_label(&e, "shop.example", NULL), 0, "issue",
		          "ca.example; accounturi=https://ca.example/acme/acct/1");
		e.m.account_uri = (char *)disagree[i].uri;
		e.m.account_id = disagree[i].id;
		r = evaluate(ch, &e, &code, msg, sizeof(msg));
		char want[128];
		snprintf(want, sizeof(want),
		         "account_uri \"%s\" and account_id %lld: ", disagree[i].uri,
		         (long long)disagree[i].id);
		CHECK(!r && code == GRPC_STATUS_INVALID_ARGUMENT &&
		          strncmp(msg, want, strlen(want)) == 0 &&
		          strstr(msg, "name different accounts"),
		      "Evaluate %s + %lld: %s %s", disagree[i].uri, (long long)disagree[i].id,
		      gc_status_name(code), msg);
		if (r)
			protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	ev_init(&e, "shop.example"); /* ACCOUNT_1 is prefix + "1": one account */
	ev_record(&e, ev_label(&e, "shop.example", NULL), 0, "issue",
	          "ca.example; accounturi=https://ca.example/acme/acct/1");
	e.m.account_id = 1;
	r = evaluate(ch, &e, &code, msg, sizeof(msg));
	CHECK(r && r->verdict == CAA__V1__VERDICT__PERMITTED, "Evaluate agreeing forms: %s %s",
	      gc_status_name(code), msg);
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	t_stop(&p, ch);
}

/* ---- va.CAA/DoCAA, Boulder's field numbers ---- */

typedef struct boulder_answer {
	bool has_problem;
	char type[64], detail[512], perspective[64], rir[16];
	int64_t status;
} boulder_answer_t;

static void copy_field(char *dst, size_t size, const uint8_t *p, size_t n)
{
	snprintf(dst, size, "%.*s", (int)n, (const char *)p);
}

/* Decode IsCAAValidResponse by field number. */
static bool boulder_decode(const uint8_t *d, size_t len, boulder_answer_t *a)
{
	memset(a, 0, sizeof(*a));
	size_t off = 0, n;
	unsigned f, wt;
	uint64_t v;
	const uint8_t *p;
	while (off < len) {
		if (!pbr_next(d, len, &off, &f, &wt, &v, &p, &n))
			return false;
		if (f == 1 && wt == 2) { /* problem: ProblemDetails */
			a->has_problem = true;
			size_t o2 = 0, n2;
			unsigned f2, w2;
			uint64_t v2;
			const uint8_t *p2;
			while (o2 < n && pbr_next(p, n, &o2, &f2, &w2, &v2, &p2, &n2)) {
				if (f2 == 1 && w2 == 2)
					copy_field(a->type, sizeof(a->type), p2, n2);
				else if (f2 == 2 && w2 == 2)
					copy_field(a->detail, sizeof(a->detail), p2, n2);
				else if (f2 == 3 && w2 == 0)
					a->status = (int64_t)v2;
			}
		} else if (f == 3 && wt == 2) {
			copy_field(a->perspective, sizeof(a->perspective), p, n);
		} else if (f == 4 && wt == 2) {
			copy_field(a->rir, sizeof(a->rir), p, n);
		}
	}
	return true;
}

/* identifier field 5 (new) or domain field 1 (legacy, with string authzID 4). */
static grpc_status_code docaa(grpc_channel *ch, bool legacy, const char *name, int64_t account,
                              boulder_answer_t *a, char *msg, size_t msglen)
{
	pbw_t w = {.len = 0}, id = {.len = 0};
	if (legacy) {
		pbw_str(&w, 1, name);
		pbw_str(&w, 4, "old-authz-1");
	} else if (name != NULL) {
		pbw_str(&id, 1, "dns");
		pbw_str(&id, 2, name);
		pbw_msg(&w, 5, &id);
		pbw_int(&w, 6, 77);
	}
	pbw_str(&w, 2, "dns-01");
	if (account)
		pbw_int(&w, 3, account);
	gc_result_t res;
	if (gc_call(ch, M_DOCAA, w.buf, w.len, CALL_MS, &res) != 0)
		return GRPC_STATUS_UNKNOWN;
	grpc_status_code code = res.status;
	if (msg)
		snprintf(msg, msglen, "%s", res.details);
	if (code == GRPC_STATUS_OK)
		CHECK(boulder_decode(res.data ? res.data : (const uint8_t *)"", res.len, a),
		      "DoCAA answer does not decode");
	gc_result_free(&res);
	return code;
}

void case_docaa(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "perspective",
	                    json_pack("{s:s, s:s}", "name", "test-east", "rir", "ARIN"));
	t_start(&p, cfg, &ch);
	boulder_answer_t a;
	char msg[512];
	grpc_status_code code;

	code = docaa(ch, false, "issue-permit.lab", 1, &a, NULL, 0);
	CHECK(code == GRPC_STATUS_OK && !a.has_problem, "permitted: %s", gc_status_name(code));
	CHECK_STR(a.perspective, "test-east");
	CHECK_STR(a.rir, "ARIN");

	code = docaa(ch, true, "www.issue-deny.lab", 1, &a, NULL, 0);
	CHECK(code == GRPC_STATUS_OK && a.has_problem, "legacy domain: %s", gc_status_name(code));
	CHECK_STR(a.type, "caa");
	CHECK(a.status == 403, "httpStatus %lld", (long long)a.status);
	CHECK_STR(a.detail, "While processing CAA for www.issue-deny.lab: CAA record for "
	                    "issue-deny.lab prevents issuance");

	/* accountURIID against accounturi=https://ca.example/acme/acct/1 */
	code = docaa(ch, false, "acct.lab", 1, &a, NULL, 0);
	CHECK(code == GRPC_STATUS_OK && !a.has_problem, "account 1");
	code = docaa(ch, false, "acct.lab", 2, &a, NULL, 0);
	CHECK(code == GRPC_STATUS_OK && a.has_problem && strcmp(a.type, "caa") == 0, "account 2");

	code = docaa(ch, false, "a.servfail.lab", 1, &a, NULL, 0);
	CHECK(code == GRPC_STATUS_OK && a.has_problem && strcmp(a.type, "dns") == 0 &&
	          a.status == 400,
	      "servfail: %s %lld", a.type, (long long)a.status);
	code = docaa(ch, false, "*.wild1.lab", 1, &a, NULL, 0);
	CHECK(code == GRPC_STATUS_OK && !a.has_problem, "wildcard");

	code = docaa(ch, false, NULL, 1, &a, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_INVALID_ARGUMENT && strstr(msg, "identifier"),
	      "no identifier: %s %s", gc_status_name(code), msg);
	code = docaa(ch, false, "a..lab", 1, &a, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_INVALID_ARGUMENT, "bad name: %s", gc_status_name(code));

	json_t *l = h_log_find(&p, "check", "identifier", "issue-permit.lab", 2000);
	CHECK(l && strcmp(json_string_value(json_object_get(l, "rpc")), "DoCAA") == 0 &&
	          json_integer_value(json_object_get(l, "authz_id")) == 77 &&
	          json_integer_value(json_object_get(l, "account_id")) == 1,
	      "DoCAA audit line");
	json_decref(l);
	t_stop(&p, ch);
}

void case_health(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	CHECK(t_health(ch, "") == 1, "\"\" not SERVING");
	CHECK(t_health(ch, "caa.v1.CAA") == 1, "caa.v1.CAA not SERVING");
	CHECK(t_health(ch, "va.CAA") == 1, "va.CAA not SERVING");
	Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = "no.Such";
	gc_result_t res;
	t_call(ch, M_HEALTH, &req.base, NULL, 5000, &res);
	CHECK(res.status == GRPC_STATUS_NOT_FOUND, "unknown service: %s",
	      gc_status_name(res.status));
	gc_result_free(&res);
	t_call(ch, M_WATCH, &req.base, NULL, 5000, &res);
	CHECK(res.status == GRPC_STATUS_UNIMPLEMENTED, "Watch: %s", gc_status_name(res.status));
	gc_result_free(&res);
	t_stop(&p, ch);
}

void case_unknown_method(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	CHECK(t_health(ch, "") == 1, "not serving");
	static const char *const paths[] = {"/caa.v1.CAA/Nope", "/no.Such/Thing",
	                                    "/va.CAA/IsCAAValid"};
	/* answered UNIMPLEMENTED, not left to the deadline (a bound that only
	 * catches a hang: that call would end DEADLINE_EXCEEDED) */
	for (size_t i = 0; i < 3; i++) {
		gc_result_t res;
		gc_call(ch, paths[i], "", 0, CALL_MS, &res);
		CHECK(res.status == GRPC_STATUS_UNIMPLEMENTED, "%s: %s", paths[i],
		      gc_status_name(res.status));
		gc_result_free(&res);
	}
	creq_t r;
	creq(&r, "issue-permit.lab");
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	t_stop(&p, ch);
}
