/*
 * t_wire.c — bad input is refused, never reinterpreted (issue 8 §2): every
 * string field of every request message (caa.v1 and va.CAA/DoCAA) with an
 * embedded NUL, invalid UTF-8 or a control character; validation methods a CA
 * cannot mean; incomplete DoCAA requests; IP literals given as type "dns";
 * request lines without a path on the metrics endpoint. Messages are packed
 * by hand (protobuf-c cannot put a NUL into a string), from the field numbers
 * of proto/caa/v1/caa.proto and Boulder's va.proto.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"

/* One string field made hostile: its path as caad names it, and its octets. */
typedef struct hostile {
	const char *field;
	const char *p;
	size_t n;
} hostile_t;

/* Field num of w: the hostile octets when prefix+name is the hostile field,
 * else good (left out when ""). */
static void put(pbw_t *w, unsigned num, const hostile_t *h, const char *prefix, const char *name,
                const char *good)
{
	char path[128];
	snprintf(path, sizeof(path), "%s%s", prefix, name);
	if (h != NULL && strcmp(h->field, path) == 0)
		pbw_bytes(w, num, h->p, h->n);
	else if (good[0] != '\0')
		pbw_str(w, num, good);
}

/* caa.v1.CheckRequest (prefix "" or "authorizations[i].") */
static void check_msg(pbw_t *w, const hostile_t *h, const char *prefix, const char *value,
                      const char *method)
{
	pbw_t id = {.len = 0};
	put(&id, 1, h, prefix, "identifier.type", "dns");
	put(&id, 2, h, prefix, "identifier.value", value);
	pbw_msg(w, 1, &id);
	put(w, 2, h, prefix, "account_uri", ACCOUNT_1);
	put(w, 3, h, prefix, "validation_method", method);
	put(w, 5, h, prefix, "policy", "strict-critical");
}

static void order_msg(pbw_t *w, const hostile_t *h, const char *method1)
{
	static const char *const names[] = {"issue-permit.lab", "www.nocaa.lab"};
	for (int i = 0; i < 2; i++) {
		char prefix[32];
		pbw_t e = {.len = 0};
		snprintf(prefix, sizeof(prefix), "authorizations[%d].", i);
		check_msg(&e, h, prefix, names[i], i == 1 ? method1 : "dns-01");
		pbw_msg(w, 1, &e);
	}
}

static void evaluate_msg(pbw_t *w, const hostile_t *h, const char *value, const char *method)
{
	pbw_t id = {.len = 0}, label = {.len = 0}, rec = {.len = 0};
	put(&id, 1, h, "", "identifier.type", "dns");
	put(&id, 2, h, "", "identifier.value", value);
	pbw_msg(w, 1, &id);
	put(w, 2, h, "", "account_uri", ACCOUNT_1);
	put(w, 3, h, "", "validation_method", method);
	put(w, 5, h, "", "policy", "strict-critical");
	put(&label, 1, h, "", "labels[0].name", "shop.example");
	pbw_int(&rec, 1, 0);
	put(&rec, 2, h, "", "labels[0].records[0].tag", "issue");
	put(&rec, 3, h, "", "labels[0].records[0].value", "ca.example");
	put(&rec, 5, h, "", "labels[0].records[0].note", "names this CA");
	pbw_msg(&label, 2, &rec);
	put(&label, 3, h, "", "labels[0].error", "NODATA");
	put(&label, 4, h, "", "labels[0].why", "given by the test");
	pbw_msg(w, 8, &label);
}

/* va.IsCAAValidRequest: identifier (5) unless legacy, then domain (1). */
static void docaa_msg(pbw_t *w, const hostile_t *h, bool legacy, const char *value,
                      const char *method, int64_t account)
{
	if (legacy) {
		put(w, 1, h, "", "domain", value);
	} else {
		pbw_t id = {.len = 0};
		put(&id, 1, h, "", "identifier.type", "dns");
		put(&id, 2, h, "", "identifier.value", value);
		pbw_msg(w, 5, &id);
		pbw_int(w, 6, 77);
	}
	put(w, 2, h, "", "validationMethod", method);
	if (account != 0)
		pbw_int(w, 3, account);
}

/* The call's status, its message into msg. */
static grpc_status_code send_raw(grpc_channel *ch, const char *method, const pbw_t *w, char *msg,
                                 size_t msglen)
{
	return t_raw(ch, method, w->buf, w->len, msg, msglen);
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Refused INVALID_ARGUMENT, the message naming field first and saying want. */
static void refused(grpc_status_code code, const char *msg, const char *what, const char *field,
                    const char *want)
{
	CHECK(code == GRPC_STATUS_INVALID_ARGUMENT && starts(msg, field) && strstr(msg, want),
	      "%s: %s \"%s\" (want INVALID_ARGUMENT \"%s...%s...\")", what, gc_status_name(code),
	      msg, field, want);
}

/* ---- strings: NUL, UTF-8, control characters, in every field ---- */

/* What is appended to a field's good value, and what the refusal must say. */
static const struct variant {
	const char *what, *tail;
	size_t n;
	const char *want;
} variants[] = {
    {"embedded NUL", "\0.evil.example", 14, "NUL"},
    {"lone 0xff", "\xff", 1, "not valid UTF-8"},
    {"overlong '/'", "\xc0\xaf", 2, "not valid UTF-8"},
    {"UTF-16 surrogate", "\xed\xa0\x80", 3, "not valid UTF-8"},
    {"cut sequence", "\xe2\x82", 2, "not valid UTF-8"},
    {"past U+10FFFF", "\xf4\x90\x80\x80", 4, "not valid UTF-8"},
    {"ESC", "\x1b[31m", 5, "control character U+001B"},
    {"newline", "\nforged: line", 13, "control character U+000A"},
    {"DEL", "\x7f", 1, "control character U+007F"},
    {"C1 NEL", "\xc2\x85", 2, "control character U+0085"},
};

/* The field of a message kind and the good value the variants extend. */
typedef struct field {
	const char *path, *good;
} field_t;

static void strings_of(grpc_channel *ch, const char *rpc, const field_t *fields, size_t n,
                       void (*build)(pbw_t *, const hostile_t *))
{
	char msg[512];
	for (size_t f = 0; f < n; f++) {
		for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
			char bytes[256], what[160];
			size_t gl = strlen(fields[f].good);
			memcpy(bytes, fields[f].good, gl);
			memcpy(bytes + gl, variants[v].tail, variants[v].n);
			hostile_t h = {fields[f].path, bytes, gl + variants[v].n};
			pbw_t w = {.len = 0};
			build(&w, &h);
			snprintf(what, sizeof(what), "%s %s: %s", rpc, fields[f].path,
			         variants[v].what);
			grpc_status_code code = send_raw(ch, rpc, &w, msg, sizeof(msg));
			refused(code, msg, what, fields[f].path, variants[v].want);
		}
	}
	/* the same message without a hostile field is answered */
	pbw_t w = {.len = 0};
	build(&w, NULL);
	grpc_status_code code = send_raw(ch, rpc, &w, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_OK, "%s without a hostile field: %s %s", rpc,
	      gc_status_name(code), msg);
}

static void build_check(pbw_t *w, const hostile_t *h)
{
	check_msg(w, h, "", "issue-permit.lab", "dns-01");
}
static void build_order(pbw_t *w, const hostile_t *h)
{
	order_msg(w, h, "dns-01");
}
static void build_evaluate(pbw_t *w, const hostile_t *h)
{
	evaluate_msg(w, h, "www.shop.example", "dns-01");
}
static void build_docaa(pbw_t *w, const hostile_t *h)
{
	docaa_msg(w, h, false, "issue-permit.lab", "dns-01", 1);
}
static void build_docaa_legacy(pbw_t *w, const hostile_t *h)
{
	docaa_msg(w, h, true, "issue-permit.lab", "dns-01", 1);
}

void case_wire_strings(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	static const field_t check[] = {
	    {"identifier.type", "dns"},    {"identifier.value", "issue-permit.lab"},
	    {"account_uri", ACCOUNT_1},    {"validation_method", "dns-01"},
	    {"policy", "strict-critical"},
	};
	strings_of(ch, M_CHECK, check, sizeof(check) / sizeof(check[0]), build_check);
	static const field_t order[] = {
	    {"authorizations[0].identifier.type", "dns"},
	    {"authorizations[1].identifier.value", "www.nocaa.lab"},
	    {"authorizations[1].account_uri", ACCOUNT_1},
	    {"authorizations[0].validation_method", "dns-01"},
	    {"authorizations[1].policy", "strict-critical"},
	};
	strings_of(ch, M_ORDER, order, sizeof(order) / sizeof(order[0]), build_order);
	static const field_t evaluate[] = {
	    {"identifier.type", "dns"},
	    {"identifier.value", "www.shop.example"},
	    {"account_uri", ACCOUNT_1},
	    {"validation_method", "dns-01"},
	    {"policy", "strict-critical"},
	    {"labels[0].name", "shop.example"},
	    {"labels[0].error", "NODATA"},
	    {"labels[0].why", "given by the test"},
	    {"labels[0].records[0].tag", "issue"},
	    {"labels[0].records[0].value", "ca.example"},
	    {"labels[0].records[0].note", "names this CA"},
	};
	strings_of(ch, M_EVALUATE, evaluate, sizeof(evaluate) / sizeof(evaluate[0]),
	           build_evaluate);
	static const field_t docaa[] = {
	    {"identifier.type", "dns"},
	    {"identifier.value", "issue-permit.lab"},
	    {"validationMethod", "dns-01"},
	};
	strings_of(ch, M_DOCAA, docaa, sizeof(docaa) / sizeof(docaa[0]), build_docaa);
	static const field_t legacy[] = {{"domain", "issue-permit.lab"}};
	strings_of(ch, M_DOCAA, legacy, 1, build_docaa_legacy);

	/* Only the answered sanity calls reached the checker: Check 1, CheckOrder 2,
	 * DoCAA 2 audit lines (Evaluate writes none). */
	for (int i = 0; i < 600 && h_log_count(&p, "check") < 5; i++)
		usleep(50000); /* the log is read on another thread */
	CHECK(h_log_count(&p, "check") == 5, "%zu audit lines, want 5 (the sanity calls)",
	      h_log_count(&p, "check"));
	CHECK(t_health(ch, "") == 1, "not healthy after hostile strings");
	t_stop(&p, ch);
}

/* ---- validation methods ---- */

/* Methods a CA cannot mean: INVALID_ARGUMENT, whatever the records say. */
static const char *const bad_methods[] = {
    "dns-02",  "foo",      "tls-sni-01",     "dns-01 ",        " dns-01",  "DNS-01",
    "Http-01", "ca-tbr-7", "dns-persist-01", "http-01,dns-01", "dns-01;x",
};
static const char *const good_methods[] = {"", "http-01", "dns-01", "tls-alpn-01",
                                           "dns-account-01"};

void case_wire_methods(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	/* a profile whose method_labels add one: accepted with that profile only */
	json_t *profiles = json_object_get(cfg, "profiles");
	if (profiles == NULL)
		json_object_set_new(cfg, "profiles", profiles = json_object());
	json_object_set_new(
	    profiles, "persist",
	    json_pack("{s:{s:[s]}}", "method_labels", "ca-tbr-22", "dns-persist-01"));
	t_start(&p, cfg, &ch);
	char msg[512], what[128];
	grpc_status_code code;
	for (size_t i = 0; i < sizeof(bad_methods) / sizeof(bad_methods[0]); i++) {
		const char *m = bad_methods[i];
		char field[64];
		pbw_t w = {.len = 0};
		check_msg(&w, NULL, "", "issue-permit.lab", m);
		code = send_raw(ch, M_CHECK, &w, msg, sizeof(msg));
		snprintf(what, sizeof(what), "Check method \"%s\"", m);
		snprintf(field, sizeof(field), "validation_method \"%s\": ", m);
		refused(code, msg, what, field, "not a validation method");

		w.len = 0;
		order_msg(&w, NULL, m);
		code = send_raw(ch, M_ORDER, &w, msg, sizeof(msg));
		snprintf(what, sizeof(what), "CheckOrder method \"%s\"", m);
		refused(code, msg, what, "authorizations[1].validation_method",
		        "not a validation "
		        "method");

		w.len = 0;
		evaluate_msg(&w, NULL, "www.shop.example", m);
		code = send_raw(ch, M_EVALUATE, &w, msg, sizeof(msg));
		snprintf(what, sizeof(what), "Evaluate method \"%s\"", m);
		refused(code, msg, what, "validation_method", "not a validation method");

		w.len = 0;
		docaa_msg(&w, NULL, false, "issue-permit.lab", m, 1);
		code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
		snprintf(what, sizeof(what), "DoCAA method \"%s\"", m);
		refused(code, msg, what, "validationMethod", "not a validation method");
	}
	for (size_t i = 0; i < sizeof(good_methods) / sizeof(good_methods[0]); i++) {
		const char *m = good_methods[i];
		pbw_t w = {.len = 0};
		check_msg(&w, NULL, "", "issue-permit.lab", m);
		code = send_raw(ch, M_CHECK, &w, msg, sizeof(msg));
		CHECK(code == GRPC_STATUS_OK, "Check method \"%s\": %s %s", m, gc_status_name(code),
		      msg);
		w.len = 0;
		evaluate_msg(&w, NULL, "www.shop.example", m);
		code = send_raw(ch, M_EVALUATE, &w, msg, sizeof(msg));
		CHECK(code == GRPC_STATUS_OK, "Evaluate method \"%s\": %s %s", m,
		      gc_status_name(code), msg);
		if (m[0] == '\0')
			continue; /* DoCAA: empty is incomplete (case wire_docaa) */
		w.len = 0;
		docaa_msg(&w, NULL, false, "issue-permit.lab", m, 1);
		code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
		CHECK(code == GRPC_STATUS_OK, "DoCAA method \"%s\": %s %s", m, gc_status_name(code),
		      msg);
	}

	/* a method the profile's method_labels name is one the CA can mean there */
	creq_t r;
	creq(&r, "issue-permit.lab");
	r.m.validation_method = "dns-persist-01";
	r.m.policy = "persist";
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED, "dns-persist-01 under persist");
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	t_stop(&p, ch);
}

/* ---- DoCAA: incomplete requests, as Boulder refuses them ---- */

void case_wire_docaa(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	char msg[512];
	grpc_status_code code;
	static const struct {
		const char *what, *value, *method;
		int64_t account;
		bool legacy;
		const char *field;
	} rows[] = {
	    {"no identifier", "", "dns-01", 1, false, "identifier"},
	    {"no domain", "", "dns-01", 1, true, "identifier"},
	    {"no validationMethod", "issue-permit.lab", "", 1, false, "validationMethod"},
	    {"no validationMethod (legacy)", "issue-permit.lab", "", 1, true, "validationMethod"},
	    {"no accountURIID", "issue-permit.lab", "dns-01", 0, false, "accountURIID"},
	    {"no accountURIID (legacy)", "issue-permit.lab", "dns-01", 0, true, "accountURIID"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pbw_t w = {.len = 0};
		docaa_msg(&w, NULL, rows[i].legacy, rows[i].value, rows[i].method, rows[i].account);
		code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
		char want[64];
		snprintf(want, sizeof(want), ": %s missing", rows[i].field);
		refused(code, msg, rows[i].what, "incomplete IsCAAValid request", want);
	}
	/* an identifier message with an empty value is no identifier */
	pbw_t w = {.len = 0}, id = {.len = 0};
	pbw_str(&id, 1, "dns");
	pbw_msg(&w, 5, &id);
	pbw_str(&w, 2, "dns-01");
	pbw_int(&w, 3, 1);
	code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
	refused(code, msg, "empty identifier", "incomplete IsCAAValid request",
	        ": identifier "
	        "missing");
	/* a negative account is no account */
	w.len = 0;
	docaa_msg(&w, NULL, false, "issue-permit.lab", "dns-01", -1);
	code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
	refused(code, msg, "negative accountURIID", "accountURIID", "negative");
	/* complete: answered */
	w.len = 0;
	docaa_msg(&w, NULL, false, "issue-permit.lab", "dns-01", 1);
	code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_OK, "complete request: %s %s", gc_status_name(code), msg);
	t_stop(&p, ch);
}

/* ---- IP literals are identifiers of type "ip", never "dns" ---- */

static const char *const ip_literals[] = {"192.0.2.1", "2001:db8::1", "[::1]", "::ffff:192.0.2.1",
                                          "[2001:DB8::1]"};

void case_wire_ip_literal(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	char msg[512], what[128];
	grpc_status_code code;
	for (size_t i = 0; i < sizeof(ip_literals) / sizeof(ip_literals[0]); i++) {
		const char *ip = ip_literals[i];
		const char *want = "identifier of type \"dns\" is an IP address";
		for (int t = 0; t < 2; t++) { /* "dns", and "" (which means "dns") */
			creq_t r;
			creq(&r, ip);
			r.id.type = t ? "" : "dns";
			gc_result_t res;
			t_call(ch, M_CHECK, &r.m.base, NULL, CALL_MS, &res);
			snprintf(what, sizeof(what), "Check type \"%s\" %s", r.id.type, ip);
			refused(res.status, res.details ? res.details : "", what,
			        "identifier.value", want);
			gc_result_free(&res);
		}
		pbw_t w = {.len = 0}, e = {.len = 0};
		check_msg(&e, NULL, "", "issue-permit.lab", "dns-01");
		pbw_msg(&w, 1, &e);
		e.len = 0;
		check_msg(&e, NULL, "", ip, "dns-01");
		pbw_msg(&w, 1, &e);
		code = send_raw(ch, M_ORDER, &w, msg, sizeof(msg));
		snprintf(what, sizeof(what), "CheckOrder %s", ip);
		refused(code, msg, what, "authorizations[1].identifier.value", want);

		w.len = 0;
		evaluate_msg(&w, NULL, ip, "dns-01");
		code = send_raw(ch, M_EVALUATE, &w, msg, sizeof(msg));
		snprintf(what, sizeof(what), "Evaluate %s", ip);
		/* labels[0] is not a label of an IP: refused either way, the
		 * identifier first */
		refused(code, msg, what, "identifier.value", want);

		for (int legacy = 0; legacy < 2; legacy++) {
			w.len = 0;
			docaa_msg(&w, NULL, legacy, ip, "dns-01", 1);
			code = send_raw(ch, M_DOCAA, &w, msg, sizeof(msg));
			snprintf(what, sizeof(what), "DoCAA%s %s", legacy ? " (domain)" : "", ip);
			refused(code, msg, what, legacy ? "domain" : "identifier.value", want);
		}
	}
	/* type "ip": CAA does not apply */
	creq_t r;
	creq(&r, "192.0.2.1");
	r.id.type = "ip";
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED &&
	          m->reason == CAA__V1__REASON__NOT_APPLICABLE && m->queries == 0,
	      "type ip: not applicable");
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	CHECK(h_log_count(&p, "check") <= 1, "a refused request reached the checker");
	t_stop(&p, ch);
}

/* ---- the metrics endpoint: request lines without a path ---- */

void case_wire_metrics_http(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	t_start(&p, cfg, &ch);
	static const char *const heads[] = {
	    "\n\n",        "\r\n\r\n", "G\n\n",        "GE\r\n\r\n", "GET\n\n",
	    "GET\r\n\r\n", "HEAD\n\n", "HEAD\r\n\r\n", "GET \n\n",   "POST\n\n",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		/* libmicrohttpd answers 400 or closes; never a page */
		char *page = h_http_raw_eof(p.metrics_port, heads[i]);
		CHECK(page && !strstr(page, " 200 "), "request head %zu: %.40s", i,
		      page ? page : "");
		free(page);
	}
	char *page = h_http_get(p.metrics_port, "/metrics");
	CHECK(page && starts(page, "HTTP/1.1 200"), "GET /metrics after bad heads");
	free(page);
	t_stop(&p, ch);
}
