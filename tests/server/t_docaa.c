/*
 * t_docaa.c — va.CAA/DoCAA takes DNS identifiers only, as Boulder's VA does
 * (va/caa.go at 2d00c8e: `ident.Type != identifier.TypeDNS` → MalformedError
 * "Identifier type for CAA check was not DNS"; its RA skips CAA for "ip"):
 * an identifier of any other type, "ip" and "" included, is refused before
 * any DNS or audit line, while caa.v1 answers type "ip" PERMITTED /
 * NOT_APPLICABLE. Messages are packed by hand from Boulder's
 * field numbers (IsCAAValidRequest: identifier 5 {type 1, value 2},
 * validationMethod 2, accountURIID 3, authzID 6).
 */
#include <stdio.h>

#include "cases.h"

static grpc_status_code docaa_typed(grpc_channel *ch, const char *type, const char *value,
                                    char *msg, size_t msglen)
{
	pbw_t w = {.len = 0}, id = {.len = 0};
	if (type != NULL)
		pbw_str(&id, 1, type);
	pbw_str(&id, 2, value);
	pbw_msg(&w, 5, &id);
	pbw_str(&w, 2, "dns-01");
	pbw_int(&w, 3, 1);
	pbw_int(&w, 6, 77);
	return t_raw(ch, M_DOCAA, w.buf, w.len, msg, msglen);
}

void case_docaa_ident_type(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	char msg[512], want[128];
	static const struct {
		const char *type, *value;
	} rows[] = {
	    {"ip", "192.0.2.1"},         {"ip", "2001:db8::1"},
	    {"", "issue-permit.lab"},    {NULL, "issue-permit.lab"},
	    {"DNS", "issue-permit.lab"}, {"email", "a@issue-permit.lab"},
	    {"ip", "issue-permit.lab"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		grpc_status_code code =
		    docaa_typed(ch, rows[i].type, rows[i].value, msg, sizeof(msg));
		snprintf(want, sizeof(want),
		         "identifier.type \"%s\": Identifier type for CAA check was not DNS",
		         rows[i].type ? rows[i].type : "");
		CHECK(code == GRPC_STATUS_INVALID_ARGUMENT && strcmp(msg, want) == 0,
		      "DoCAA type %s%s%s %s: %s \"%s\" (want INVALID_ARGUMENT \"%s\")",
		      rows[i].type ? "\"" : "", rows[i].type ? rows[i].type : "(unset)",
		      rows[i].type ? "\"" : "", rows[i].value, gc_status_name(code), msg, want);
	}
	/* type "dns" is answered */
	grpc_status_code code = docaa_typed(ch, "dns", "issue-permit.lab", msg, sizeof(msg));
	CHECK(code == GRPC_STATUS_OK, "DoCAA type \"dns\": %s %s", gc_status_name(code), msg);

	/* caa.v1 keeps type "ip": not applicable, no DNS */
	creq_t r;
	creq(&r, "192.0.2.1");
	r.id.type = "ip";
	Caa__V1__CheckResponse *m = t_check(ch, &r);
	CHECK(m && m->verdict == CAA__V1__VERDICT__PERMITTED &&
	          m->reason == CAA__V1__REASON__NOT_APPLICABLE && m->queries == 0,
	      "Check type ip: not applicable");
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);

	/* refused calls reach no checker: the two answered calls' lines only
	 * (waited for: the log is read as caad writes it) */
	json_t *l = h_log_find(&p, "check", "identifier", "192.0.2.1", 5000);
	CHECK(l != NULL, "no audit line for the answered Check");
	json_decref(l);
	CHECK(h_log_count(&p, "check") == 2, "%zu audit lines, want 2 (the answered calls)",
	      h_log_count(&p, "check"));
	t_stop(&p, ch);
}
