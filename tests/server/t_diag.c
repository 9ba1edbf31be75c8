/*
 * t_diag.c — caad's deadlines and the diagnosis over the socket: under load, a
 * check bounded by the client's deadline answers before it, with its DNS
 * problem; a client that asks to explain gets the diagnosed cause, and nobody
 * else waits for a diagnosis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

static Caa__V1__CheckResponse *unpack(const gc_result_t *res)
{
	if (res->status != GRPC_STATUS_OK || res->data == NULL)
		return NULL;
	return caa__v1__check_response__unpack(NULL, res->len, res->data);
}

static void free_resp(Caa__V1__CheckResponse *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* The trace label that decided, or NULL. */
static const Caa__V1__TraceLabel *relevant(const Caa__V1__CheckResponse *m)
{
	for (size_t i = 0; m != NULL && i < m->n_trace; i++)
		if (m->trace[i]->relevant)
			return m->trace[i];
	return NULL;
}

/* 64 calls in flight against a zone whose server went silent, with a 5 s
 * client deadline tighter than dns.timeout: every call ends OK with the DNS
 * problem (LOOKUP_FAILED, "query timed out"), none DEADLINE_EXCEEDED — the
 * explaining ones too, whose diagnosis must fit in the same time. No timing
 * is asserted: the client's deadline is the bound. */
void case_deadline_load(void)
{
	enum { N = 64, EXPLAIN_EVERY = 4, DEADLINE_MS = 5000 };
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(json_object_get(cfg, "dns"), "timeout", json_string("20s"));
	t_start(&p, cfg, &ch);
	static pcall_t c[N];
	static creq_t r[N];
	static char names[N][48];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "load%d.drop.lab", i);
		creq(&r[i], names[i]);
		r[i].m.explain = i % EXPLAIN_EVERY == 0;
		pcall_start(&c[i], ch, M_CHECK, &r[i].m.base, DEADLINE_MS);
	}
	int problems = 0, deadline = 0, other = 0;
	for (int i = 0; i < N; i++) {
		pcall_join(&c[i]);
		Caa__V1__CheckResponse *m = unpack(&c[i].res);
		const Caa__V1__Problem *pr = m ? m->problem : NULL;
		if (m != NULL && m->verdict == CAA__V1__VERDICT__LOOKUP_FAILED && pr != NULL &&
		    h_str_eq(pr->type, "urn:ietf:params:acme:error:dns") &&
		    strstr(pr->detail, "query timed out") != NULL &&
		    strstr(pr->detail, names[i]) != NULL) {
			problems++;
		} else {
			if (c[i].res.status == GRPC_STATUS_DEADLINE_EXCEEDED)
				deadline++;
			else
				other++;
			fprintf(stderr, "  %s: %s %s verdict %d problem %s\n", names[i],
			        gc_status_name(c[i].res.status), h_str(c[i].res.details),
			        m ? (int)m->verdict : -1, pr ? h_str(pr->detail) : "(none)");
		}
		free_resp(m);
		gc_result_free(&c[i].res);
	}
	CHECK(problems == N,
	      "%d of %d calls got their DNS problem (%d DEADLINE_EXCEEDED, %d other)", problems, N,
	      deadline, other);
	/* the audit line is the check's, with no error */
	json_t *l = h_log_find(&p, "check", "identifier", names[N - 1], 3000);
	CHECK(l != NULL && json_object_get(l, "error") == NULL &&
	          h_str_eq(json_string_value(json_object_get(l, "reason")), "DNS_TIMEOUT"),
	      "audit line of %s: %s", names[N - 1], l ? "error or reason" : "missing");
	json_decref(l);
	t_stop(&p, ch);
}

/* Two calls for one failing name at once: the explaining one gets the
 * diagnosed cause in its trace, the other its answer without a trace. */
void case_diag_explain(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	creq_t plain, expl;
	creq(&plain, "a.refused.lab");
	creq(&expl, "a.refused.lab");
	expl.m.explain = 1;
	pcall_t a, b;
	pcall_start(&a, ch, M_CHECK, &plain.m.base, CALL_MS);
	pcall_start(&b, ch, M_CHECK, &expl.m.base, CALL_MS);
	pcall_join(&a);
	pcall_join(&b);
	Caa__V1__CheckResponse *ma = unpack(&a.res), *mb = unpack(&b.res);
	CHECK(ma && ma->verdict == CAA__V1__VERDICT__LOOKUP_FAILED && ma->n_trace == 0, "plain: %s",
	      gc_status_name(a.res.status));
	const Caa__V1__TraceLabel *t = relevant(mb);
	CHECK(mb && mb->verdict == CAA__V1__VERDICT__LOOKUP_FAILED && t != NULL &&
	          strstr(t->why, "diagnosis: ") != NULL &&
	          strstr(t->why, "answered REFUSED to CAA a.refused.lab") != NULL,
	      "explained: %s, why: %s", gc_status_name(b.res.status), t ? t->why : "(no label)");
	free_resp(ma);
	free_resp(mb);
	gc_result_free(&a.res);
	gc_result_free(&b.res);
	t_stop(&p, ch);
}
