/*
 * t_audit.c — the audit line as evidence (docs/caad.md#audit): written
 * before the answer or no answer (a full filesystem fails the check closed),
 * reopened on SIGUSR1 without losing or doubling a line, malformed records
 * in RFC 3597 form, a call whose client is gone logged as unanswered, and
 * every line of a lab session valid against docs/audit.schema.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cases.h"

/* Every line of path with "msg" == msg (NULL: every line), parsed, as an
 * array. A line that is not JSON, or has no newline, is a failure. */
static json_t *file_lines(const char *path, const char *msg)
{
	json_t *all = json_array();
	char *text = h_slurp(path);
	if (text == NULL)
		return all;
	for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		CHECK(nl != NULL, "%s: a line without its newline: %.80s", path, line);
		if (nl == NULL)
			break;
		*nl = '\0';
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);
		CHECK(j != NULL, "%s: not JSON: %.120s", path, line);
		if (j == NULL)
			continue;
		const char *m = json_string_value(json_object_get(j, "msg"));
		if (msg == NULL || (m != NULL && strcmp(m, msg) == 0))
			json_array_append(all, j);
		json_decref(j);
	}
	free(text);
	return all;
}

static json_t *audit_config(const char *file, bool required)
{
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	json_object_set_new(cfg, "audit",
	                    json_pack("{s:s, s:b}", "file", file, "required", required));
	return cfg;
}

static grpc_status_code check_status(grpc_channel *ch, const char *name, int *verdict)
{
	creq_t r;
	creq(&r, name);
	gc_result_t res;
	Caa__V1__CheckResponse *m = (Caa__V1__CheckResponse *)t_call(
	    ch, M_CHECK, &r.m.base, &caa__v1__check_response__descriptor, CALL_MS, &res);
	grpc_status_code st = res.status;
	if (verdict != NULL)
		*verdict = m ? (int)m->verdict : -1;
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	gc_result_free(&res);
	return st;
}

static double failures(const caad_proc_t *p)
{
	char *page = h_http_get(p->metrics_port, "/metrics");
	double v = metric(page, "caad_audit_write_failures_total");
	free(page);
	return v;
}

/* ---- a full filesystem ---- */

static char full_dir[512];
static bool mounted;

void case_audit_full_prepare(void)
{
	snprintf(full_dir, sizeof(full_dir), "%s/full", h_tmp);
	mkdir(full_dir, 0700);
	/* mount(2) itself, not mount(8): no fork, and EPERM is a clean answer */
	mounted = mount("tmpfs", full_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0;
	if (!mounted)
		fprintf(stderr, "audit_full: no tmpfs (%s): /dev/full instead\n", strerror(errno));
}

/* Fill the filesystem of dir with dir/filler until it is full. */
static void fill(const char *filler)
{
	int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "%s: %s", filler, strerror(errno));
	char block[4096];
	memset(block, 'x', sizeof(block));
	size_t chunk = sizeof(block);
	while (fd >= 0 && chunk > 0) {
		if (write(fd, block, chunk) < 0)
			chunk /= 2; /* the last pages: smaller pieces until nothing fits */
	}
	if (fd >= 0)
		close(fd);
}

static void full_case(const char *file, const char *filler)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, audit_config(file, true), &ch);
	if (filler != NULL)
		CHECK(check_status(ch, "issue-permit.lab", NULL) == GRPC_STATUS_OK,
		      "before: not OK");
	double before = failures(&p);
	if (filler != NULL)
		fill(filler);
	/* fail closed: no answer, least of all PERMITTED, without the line. The
	 * audit file's last page may still take a few lines: then the first
	 * write that needs a new page fails, and every one after it. */
	int verdict = -1, n_ok = 0;
	grpc_status_code st;
	while ((st = check_status(ch, "issue-permit.lab", &verdict)) == GRPC_STATUS_OK &&
	       filler != NULL && n_ok < 64)
		n_ok++;
	CHECK(st == GRPC_STATUS_UNAVAILABLE, "full: %s after %d answers", gc_status_name(st), n_ok);
	for (int i = 0; i < 3; i++) {
		st = check_status(ch, "www.nocaa.lab", &verdict);
		CHECK(st == GRPC_STATUS_UNAVAILABLE, "full: %s (verdict %d)", gc_status_name(st),
		      verdict);
	}
	CHECK(failures(&p) >= before + 3, "caad_audit_write_failures_total %g, was %g",
	      failures(&p), before);
	if (filler != NULL) {
		/* space returns: answers and lines come back, whole */
		unlink(filler);
		CHECK(check_status(ch, "www.issue-deny.lab", &verdict) == GRPC_STATUS_OK &&
		          verdict == CAA__V1__VERDICT__FORBIDDEN,
		      "after: verdict %d", verdict);
		json_t *lines = file_lines(file, "check");
		size_t i;
		json_t *l;
		bool found = false;
		json_array_foreach(lines, i, l)
		{
			const char *id = json_string_value(json_object_get(l, "identifier"));
			found |= h_str_eq(id, "www.issue-deny.lab");
			CHECK(!h_str_eq(id, "www.nocaa.lab"), "a line of a check that failed");
		}
		CHECK(found, "no line for the check after space returned");
		json_decref(lines);
	}
	t_stop(&p, ch);

	/* audit.required false: answered, the loss counted */
	if (filler != NULL)
		fill(filler);
	t_start(&p, audit_config(file, false), &ch);
	before = failures(&p);
	for (int i = 0; i < 64 && failures(&p) < before + 1; i++)
		CHECK(check_status(ch, "issue-permit.lab", &verdict) == GRPC_STATUS_OK &&
		          verdict == CAA__V1__VERDICT__PERMITTED,
		      "not required: verdict %d", verdict);
	CHECK(failures(&p) >= before + 1, "not required: failure not counted");
	t_stop(&p, ch);
	if (filler != NULL)
		unlink(filler);
}

void case_audit_full(void)
{
	char file[600], filler[600];
	if (mounted) {
		snprintf(file, sizeof(file), "%s/audit.log", full_dir);
		snprintf(filler, sizeof(filler), "%s/filler", full_dir);
		full_case(file, filler);
		umount2(full_dir, MNT_DETACH);
	}
	full_case("/dev/full", NULL); /* where no mount is allowed, and as well */
}

/* ---- logrotate: rename + SIGUSR1 under load ---- */

typedef struct loader {
	grpc_channel *ch;
	int ok, other;
	pthread_t th;
} loader_t;

static atomic_bool rotating; /* the loaders call until the rotations are done */

static void *load(void *arg)
{
	loader_t *ld = arg;
	static const char *const names[] = {"issue-permit.lab", "issue-deny.lab", "www.nocaa.lab",
	                                    "malformed.lab"};
	for (int i = 0; i < 50 || atomic_load(&rotating); i++) {
		if (check_status(ld->ch, names[i % 4], NULL) == GRPC_STATUS_OK)
			ld->ok++;
		else
			ld->other++;
	}
	return NULL;
}

void case_audit_rotate(void)
{
	char file[600], old[4][620];
	snprintf(file, sizeof(file), "%s/audit.log", h_tmp);
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, audit_config(file, true), &ch);
	loader_t ld[4];
	atomic_store(&rotating, true);
	for (int i = 0; i < 4; i++) {
		ld[i] = (loader_t){.ch = ch};
		pthread_create(&ld[i].th, NULL, load, &ld[i]);
	}
	struct stat st;
	off_t base = stat(file, &st) == 0 ? st.st_size : 0; /* the listening line */
	for (int k = 0; k < 4; k++) {
		/* each file gets lines before it is rotated away */
		for (int w = 0; w < 1000 && (stat(file, &st) != 0 || st.st_size <= base); w++)
			usleep(10000);
		base = 0;
		snprintf(old[k], sizeof(old[k]), "%s.%d", file, k + 1);
		CHECK(rename(file, old[k]) == 0, "rename: %s", strerror(errno));
		kill(p.pid, SIGUSR1);
		/* reopened before the next rename */
		for (int w = 0; w < 200 && access(file, F_OK) != 0; w++)
			usleep(10000);
	}
	atomic_store(&rotating, false);
	int ok = 0, other = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(ld[i].th, NULL);
		ok += ld[i].ok;
		other += ld[i].other;
	}
	CHECK(other == 0, "%d calls not OK", other);
	/* every answered call has exactly one line, in one of the files */
	json_t *calls = json_object();
	size_t n = 0, files = 0;
	for (int k = 0; k <= 4; k++) {
		json_t *lines = file_lines(k < 4 ? old[k] : file, "check");
		files += json_array_size(lines) > 0;
		size_t i;
		json_t *l;
		json_array_foreach(lines, i, l)
		{
			char key[32];
			snprintf(key, sizeof(key), "%lld",
			         (long long)json_integer_value(json_object_get(l, "call")));
			CHECK(json_object_get(calls, key) == NULL, "call %s logged twice", key);
			json_object_set_new(calls, key, json_true());
			n++;
		}
		json_decref(lines);
	}
	CHECK(n == (size_t)ok, "%zu lines for %d answers", n, ok);
	printf("audit_rotate: %d answers, %zu lines in %zu of 5 files\n", ok, n, files);
	CHECK(files >= 4, "the load did not span the rotations (%zu files with lines)", files);
	CHECK(h_log_count(&p, "audit reopened") == 4, "%zu reopens logged",
	      h_log_count(&p, "audit reopened"));
	json_decref(calls);
	t_stop(&p, ch);
}

/* ---- what the line says ---- */

void case_audit_rfc3597(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, h_lab_config(), &ch);
	int verdict;
	CHECK(check_status(ch, "malformed.lab", &verdict) == GRPC_STATUS_OK &&
	          verdict == CAA__V1__VERDICT__FORBIDDEN,
	      "verdict %d", verdict);
	json_t *l = h_log_find(&p, "check", "identifier", "malformed.lab", 5000);
	json_t *recs = json_object_get(l, "records");
	/* the lab's record is "\# 4 000a6973": tag length 10, 2 octets of it */
	bool found = false;
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r)
	{
		found |= h_str_eq(json_string_value(r), "\\# 4 000a6973");
		CHECK(!h_str_eq(json_string_value(r), "0 \"\""), "malformed record as 0 \"\"");
	}
	CHECK(found, "no RFC 3597 record in %zu records", json_array_size(recs));
	json_decref(l);
	t_stop(&p, ch);
}

/* The client's deadline passes while caad cannot answer (stopped): the
 * line says the answer reached nobody instead of holding a verdict. */
static void unanswered_call(caad_proc_t *p, grpc_channel *ch, const char *name)
{
	creq_t r;
	creq(&r, name);
	pcall_t c;
	pcall_start(&c, ch, M_CHECK, &r.m.base, 1500);
	/* the call is in caad, waiting for DNS (drop.lab never answers) */
	for (int i = 0; i < 1000; i++) {
		char *page = h_http_get(p->metrics_port, "/metrics");
		double n = metric(page, "caad_checks_in_flight");
		free(page);
		if (n >= 1)
			break;
		usleep(1000);
	}
	kill(p->pid, SIGSTOP);
	usleep(2000000); /* past the client's deadline */
	kill(p->pid, SIGCONT);
	pcall_join(&c);
	CHECK(c.res.status == GRPC_STATUS_DEADLINE_EXCEEDED, "%s", gc_status_name(c.res.status));
	gc_result_free(&c.res);
}

void case_audit_unanswered(void)
{
	caad_proc_t p;
	grpc_channel *ch;
	json_t *cfg = h_lab_config();
	json_object_set_new(cfg, "metrics_listen", json_string("127.0.0.1:0"));
	t_start(&p, cfg, &ch);
	CHECK(t_health(ch, "") == 1, "not healthy at start");
	unanswered_call(&p, ch, "ua.drop.lab");
	json_t *l = h_log_find(&p, "check", "identifier", "ua.drop.lab", 15000);
	CHECK(l != NULL, "no line");
	json_t *answered = json_object_get(l, "answered");
	CHECK(json_is_false(answered), "answered: %s", answered ? "true" : "missing");
	CHECK(json_object_get(l, "verdict") == NULL, "a verdict the client never saw: %s",
	      h_str(json_string_value(json_object_get(l, "verdict"))));
	CHECK(json_string_value(json_object_get(l, "error")) != NULL, "no error");
	json_decref(l);
	t_stop(&p, ch);
}

/* ---- a lab session against the schema ---- */

void t_audit_validate(caad_proc_t *p, const char *name)
{
	char log[600], schema[600], script[600];
	snprintf(log, sizeof(log), "%s/%s", h_tmp, name);
	FILE *f = fopen(log, "w");
	CHECK(f != NULL, "%s: %s", log, strerror(errno));
	if (f == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_lines; i++)
		fprintf(f, "%s\n", p->lines[i]);
	pthread_mutex_unlock(&p->lock);
	fclose(f);
	snprintf(schema, sizeof(schema), "%s/docs/audit.schema.json", h_source);
	snprintf(script, sizeof(script), "%s/tests/server/audit_schema.py", h_source);
	char *argv[] = {"python3", script, schema, log, NULL};
	CHECK(h_spawn_wait(argv) == 0, "%s: lines that do not follow %s", name, schema);
}

void case_audit_schema(void)
{
	char file[600];
	snprintf(file, sizeof(file), "%s/audit.log", h_tmp);
	caad_proc_t p;
	grpc_channel *ch;
	t_start(&p, audit_config(file, true), &ch);
	static const char *const names[] = {"issue-permit.lab", "www.issue-deny.lab",
	                                    "malformed.lab",    "servfail.lab",
	                                    "nosoa.lab",        "issue-permit.lab"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		check_status(ch, names[i], NULL);
	/* optional fields left out, not "": no method, no policy, no account */
	creq_t r;
	creq(&r, "www.nocaa.lab");
	r.m.validation_method = NULL;
	r.m.account_uri = NULL;
	Caa__V1__CheckResponse *cm = t_check(ch, &r);
	if (cm)
		protobuf_c_message_free_unpacked(&cm->base, NULL);
	/* an order */
	Caa__V1__CheckOrderRequest oreq = CAA__V1__CHECK_ORDER_REQUEST__INIT;
	creq_t o[2];
	Caa__V1__CheckRequest *list[2] = {&o[0].m, &o[1].m};
	creq(&o[0], "order.lab");
	creq(&o[1], "www.issue-deny.lab");
	oreq.n_authorizations = 2;
	oreq.authorizations = list;
	gc_result_t res;
	ProtobufCMessage *om = t_call(ch, M_ORDER, &oreq.base,
	                              &caa__v1__check_order_response__descriptor, CALL_MS, &res);
	CHECK(res.status == GRPC_STATUS_OK, "order: %s", gc_status_name(res.status));
	if (om)
		protobuf_c_message_free_unpacked(om, NULL);
	gc_result_free(&res);
	/* DoCAA, Boulder's wire: identifier, method, account */
	pbw_t id = {.len = 0}, w = {.len = 0};
	pbw_str(&id, 1, "dns");
	pbw_str(&id, 2, "issue-permit.lab");
	pbw_msg(&w, 5, &id);
	pbw_int(&w, 6, 77);
	pbw_str(&w, 2, "dns-01");
	pbw_int(&w, 3, 1);
	char msg[256];
	CHECK(t_raw(ch, M_DOCAA, w.buf, w.len, msg, sizeof(msg)) == GRPC_STATUS_OK, "DoCAA: %s",
	      msg);
	unanswered_call(&p, ch, "schema.drop.lab");
	json_t *ua = h_log_find(&p, "check", "identifier", "schema.drop.lab", 15000);
	json_decref(ua);

	grpc_channel_destroy(ch);
	CHECK(h_stop(&p, SIGTERM, 15000) == 0, "exit status");
	t_audit_validate(&p, "stderr.log");

	json_t *lines = file_lines(file, NULL);
	size_t i;
	json_t *l;
	bool optional_ok = false;
	json_array_foreach(lines, i, l)
	{
		if (!h_str_eq(json_string_value(json_object_get(l, "identifier")), "www.nocaa.lab"))
			continue;
		optional_ok =
		    json_object_get(l, "validation_method") == NULL &&
		    json_object_get(l, "policy") == NULL &&
		    json_object_get(l, "account_uri") == NULL &&
		    h_str_eq(json_string_value(json_object_get(l, "identifier_type")), "dns");
	}
	CHECK(optional_ok, "optional fields: printed as \"\" or identifier_type missing");
	CHECK(json_array_size(lines) >= 12, "%zu lines in the audit file", json_array_size(lines));
	json_decref(lines);

	char schema[600], script[600];
	snprintf(schema, sizeof(schema), "%s/docs/audit.schema.json", h_source);
	snprintf(script, sizeof(script), "%s/tests/server/audit_schema.py", h_source);
	char *argv[] = {"python3", script, schema, file, NULL};
	CHECK(h_spawn_wait(argv) == 0, "audit file: lines that do not follow %s", schema);
	if (h_failures)
		h_log_dump(&p);
	h_free(&p);
}
