/*
 * webhook.c — step-ca's AUTHORIZING webhook (webhook.h). What step-ca sends
 * (smallstep/certificates webhook/types.go RequestBody, signed in
 * authority/provisioner/webhook.go) is checked in this order, each failure
 * answered before any DNS work: the webhook exists (404), the body is signed
 * (401) with this webhook's secret (403), is JSON (400), and its timestamp is
 * within CAAD_WEBHOOK_MAX_SKEW_S of now (403). Then the DNS SANs go through
 * caad_handle_order on a local call (rpc.h): the reuse window, audit lines,
 * metrics and corroboration of every CheckOrder apply. Every error answers
 * allow false: nothing here turns into a permission.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509v3.h>

#include "caad.h"
#include "codes.h"
#include "pbjson.h"
#include "util.h"
#include "webhook.h"

#define MAX_SECRET 1024 /* octets of a decoded secret (step-ca's are 64) */

typedef struct {
	caad_http_reply_t *reply;
} pending_t;

/* {"allow": false, "error": {"code": code, "message": msg}} or {"allow": true}. */
static void answer(caad_http_reply_t *reply, unsigned status, const char *code, const char *msg)
{
	json_t *o = code == NULL ? json_pack("{s:b}", "allow", 1)
	                         : json_pack("{s:b, s:{s:s, s:s}}", "allow", 0, "error", "code",
	                                     code, "message", msg);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	caad_http_answer(reply, body ? status : 500, "application/json", body,
	                 body ? strlen(body) : 0);
}

int caad_webhook_secret(const char *text, uint8_t *key, size_t size)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	uint8_t *d;
	size_t len;
	if (n == 0 || !caad_pbjson_base64(text, n, &d, &len))
		return -1;
	bool fits = len > 0 && len <= size && len <= INT_MAX;
	if (fits)
		memcpy(key, d, len);
	OPENSSL_cleanse(d, len);
	free(d);
	return fits ? (int)len : -1;
}

/* The secret of w, decoded: its length, or -1 with why in err. */
static int read_secret(const caa_webhook_config_t *w, uint8_t *key, size_t size, char *err,
                       size_t errlen)
{
	FILE *f = fopen(w->secret_file, "re");
	if (f == NULL) {
		caa_set_err(err, errlen, "cannot read %s: %s", w->secret_file, strerror(errno));
		return -1;
	}
	char text[2 * MAX_SECRET];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	int len = caad_webhook_secret(text, key, size);
	if (len < 0)
		caa_set_err(err, errlen, "%s does not hold a base64 secret", w->secret_file);
	return len;
}

int caad_webhook_check(const caa_config_t *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_webhooks; i++) {
		uint8_t key[MAX_SECRET];
		char why[512];
		if (read_secret(&cfg->webhooks[i], key, sizeof(key), why, sizeof(why)) < 0) {
			caa_set_err(err, errlen, "webhooks[%zu].secret_file: %s", i, why);
			return CAA_ECONFIG;
		}
		OPENSSL_cleanse(key, sizeof(key));
	}
	return CAA_EOK;
}

/* The name's webhook in cfg, or NULL. */
static const caa_webhook_config_t *find(const caa_config_t *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_webhooks; i++)
		if (strcmp(cfg->webhooks[i].name, name) == 0)
			return &cfg->webhooks[i];
	return NULL;
}

/* The signature header is 64 hex digits of HMAC-SHA256(key, body). */
static bool signed_by(const char *hex, const uint8_t *key, int key_len, const char *body,
                      size_t len)
{
	uint8_t want[32], got[32];
	unsigned got_len = 0;
	if (strlen(hex) != 2 * sizeof(want))
		return false;
	for (size_t i = 0; i < sizeof(want); i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		want[i] = (uint8_t)(hi << 4 | lo);
	}
	if (HMAC(EVP_sha256(), key, key_len, (const unsigned char *)(body ? body : ""), len, got,
	         &got_len) == NULL ||
	    got_len != sizeof(got))
		return false;
	return CRYPTO_memcmp(want, got, sizeof(got)) == 0;
}

/* Add s (a DNS name) to names[*n] unless it is there already. */
static void add_name(const char **names, size_t *n, size_t max, const char *s, bool *over)
{
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp(names[i], s) == 0)
			return;
	if (*n == max)
		*over = true;
	else
		names[(*n)++] = s;
}

/* Whether a SAN of type t with value v becomes a DNS name in step-ca's
 * certificate (go.step.sm/crypto x509util SubjectAlternativeName.Set: the
 * type is compared lowercased, and "" or "auto" is guessed by SplitSANs: an
 * IP address, a URI with a scheme, something with an '@', else a DNS name). */
static bool san_is_dns(const char *t, const char *v)
{
	if (strcasecmp(t, "dns") == 0)
		return true;
	if (t[0] != '\0' && strcasecmp(t, "auto") != 0)
		return false;
	unsigned char ip[16];
	if (inet_pton(AF_INET, v, ip) == 1 || inet_pton(AF_INET6, v, ip) == 1)
		return false;
	const char *p = v; /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
			p++;
		if (*p == ':')
			return false;
	}
	return strchr(v, '@') == NULL;
}

/* The dNSNames of a subjectAltName extension's value (base64 DER
 * GeneralNames, parsed by OpenSSL) appended to keep as JSON strings. false
 * when malformed. */
static bool san_extension(const char *b64text, json_t *keep)
{
	uint8_t *der;
	size_t len;
	if (!caad_pbjson_base64(b64text, strlen(b64text), &der, &len))
		return false;
	const unsigned char *p = der;
	GENERAL_NAMES *names =
	    len > 0 && len <= LONG_MAX ? d2i_GENERAL_NAMES(NULL, &p, (long)len) : NULL;
	bool ok = names != NULL && p == der + len; /* nothing after the sequence */
	for (int i = 0; ok && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
		int l = ASN1_STRING_length(g->d.dNSName);
		for (int k = 0; ok && k < l; k++)
			ok = s[k] > 0 && s[k] < 0x80;
		ok = ok &&
		     json_array_append_new(keep, json_stringn((const char *)s, (size_t)l)) == 0;
	}
	GENERAL_NAMES_free(names);
	free(der);
	return ok;
}

/* The DNS SANs of the x509Certificate: dnsNames, the sans step-ca makes
 * DNS names of (san_is_dns; IP, email, URI and other SANs are not CAA's
 * business), and the dNSNames of a subjectAltName extension (2.5.29.17:
 * with one, step-ca puts it in the certificate instead of dnsNames and
 * sans). Strings borrowed from cert or keep. -1 when a field has the wrong
 * type or there are too many. */
static ssize_t dns_sans(const json_t *cert, const char **names, size_t max, json_t *keep)
{
	size_t n = 0;
	bool over = false;
	const json_t *dns = json_object_get(cert, "dnsNames");
	const json_t *sans = json_object_get(cert, "sans");
	if ((dns != NULL && !json_is_array(dns) && !json_is_null(dns)) ||
	    (sans != NULL && !json_is_array(sans) && !json_is_null(sans)))
		return -1;
	size_t i;
	const json_t *v;
	json_array_foreach(dns, i, v)
	{
		if (!json_is_string(v))
			return -1;
		add_name(names, &n, max, json_string_value(v), &over);
	}
	json_array_foreach(sans, i, v)
	{
		const json_t *type = json_object_get(v, "type");
		const json_t *value = json_object_get(v, "value");
		if (!json_is_string(type) || !json_is_string(value))
			return -1;
		if (san_is_dns(json_string_value(type), json_string_value(value)))
			add_name(names, &n, max, json_string_value(value), &over);
	}
	const json_t *exts = json_object_get(cert, "extensions");
	if (exts != NULL && !json_is_array(exts) && !json_is_null(exts))
		return -1;
	json_array_foreach(exts, i, v)
	{
		const json_t *id = json_object_get(v, "id");
		const json_t *value = json_object_get(v, "value");
		if (!json_is_string(id))
			return -1;
		if (strcmp(json_string_value(id), "2.5.29.17") != 0)
			continue;
		if (!json_is_string(value) || !san_extension(json_string_value(value), keep))
			return -1;
	}
	json_array_foreach(keep, i, v)
	{
		add_name(names, &n, max, json_string_value(v), &over);
	}
	return over ? -1 : (ssize_t)n;
}

/* The CheckOrder's end (any thread): step-ca's answer. */
static void on_done(void *arg, grpc_status_code code, const char *message,
                    const ProtobufCMessage *msg)
{
	caad_http_reply_t *reply = arg;
	if (code != GRPC_STATUS_OK) {
		answer(reply, 200,
		       code == GRPC_STATUS_INVALID_ARGUMENT ? "rejectedIdentifier"
		                                            : "serverInternal",
		       message);
		return;
	}
	const Caa__V1__CheckOrderResponse *r = (const Caa__V1__CheckOrderResponse *)msg;
	bool all = r->n_results > 0;
	for (size_t i = 0; i < r->n_results; i++)
		all = all && r->results[i]->verdict == CAA__V1__VERDICT__PERMITTED;
	if (all && r->problem == NULL) {
		answer(reply, 200, NULL, NULL);
		return;
	}
	/* the ACME problem type's last part: "caa", "dns", "serverInternal" */
	const char *type = r->problem && r->problem->type ? r->problem->type : "";
	const char *colon = strrchr(type, ':');
	const char *detail = r->problem && r->problem->detail && r->problem->detail[0]
	                         ? r->problem->detail
	                         : "CAA check did not permit issuance";
	answer(reply, 200, colon && colon[1] ? colon + 1 : "caa", detail);
}

/* Pack the CheckOrderRequest for names under w into *out (malloc'ed). */
static int pack_order(const caa_webhook_config_t *w, const char **names, size_t n, uint8_t **out,
                      size_t *len)
{
	Caa__V1__CheckRequest *reqs = calloc(n, sizeof(*reqs));
	Caa__V1__CheckRequest **ptrs = calloc(n, sizeof(*ptrs));
	Caa__V1__Identifier *ids = calloc(n, sizeof(*ids));
	int rc = CAA_ENOMEM;
	if (reqs && ptrs && ids) {
		for (size_t i = 0; i < n; i++) {
			caa__v1__identifier__init(&ids[i]);
			ids[i].type = (char *)"dns";
			ids[i].value = (char *)names[i];
			caa__v1__check_request__init(&reqs[i]);
			reqs[i].identifier = &ids[i];
			reqs[i].account_uri = w->account_uri;
			reqs[i].validation_method = w->validation_method;
			reqs[i].policy = w->policy;
			ptrs[i] = &reqs[i];
		}
		Caa__V1__CheckOrderRequest m = CAA__V1__CHECK_ORDER_REQUEST__INIT;
		m.n_authorizations = n;
		m.authorizations = ptrs;
		*len = caa__v1__check_order_request__get_packed_size(&m);
		if ((*out = malloc(*len ? *len : 1)) != NULL) {
			caa__v1__check_order_request__pack(&m, *out);
			rc = CAA_EOK;
		}
	}
	free(reqs);
	free(ptrs);
	free(ids);
	return rc;
}

/* Everything up to the DNS, on the http thread: answered here on any
 * refusal. true when the order's call took over the generation d. */
static bool serve(caad_t *d, const caad_http_req_t *req, caad_http_reply_t *reply)
{
	const caa_webhook_config_t *w = find(d->cfg, req->path + strlen(CAAD_WEBHOOK_PATH));
	bool taken = false;
	if (w == NULL) {
		answer(reply, 404, "notFound", "no such webhook");
		return false;
	}
	const char *sig = caad_http_header(req, "X-Smallstep-Signature");
	if (sig == NULL) {
		answer(reply, 401, "unauthorized", "X-Smallstep-Signature missing");
		return false;
	}
	uint8_t key[MAX_SECRET];
	char err[512];
	int key_len = read_secret(w, key, sizeof(key), err, sizeof(err));
	if (key_len < 0) {
		answer(reply, 500, "serverInternal", "the webhook's secret cannot be read");
		return false;
	}
	bool ok = signed_by(sig, key, key_len, req->body, req->body_len);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		answer(reply, 403, "forbidden", "X-Smallstep-Signature does not match the body");
		return false;
	}
	json_error_t jerr;
	json_t *body =
	    req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	const json_t *ts = json_object_get(body, "timestamp");
	const json_t *cert = json_object_get(body, "x509Certificate");
	int64_t when;
	int32_t nanos;
	const char **names = calloc(CAAD_MAX_ORDER, sizeof(*names));
	json_t *keep = json_array(); /* names from a subjectAltName extension */
	ssize_t n = -1;
	uint8_t *packed = NULL;
	size_t len = 0;
	if (!json_is_object(body)) {
		answer(reply, 400, "badRequest", "the body is not a JSON object");
	} else if (!json_is_string(ts) || !caad_pbjson_time(json_string_value(ts), &when, &nanos)) {
		answer(reply, 400, "badRequest", "timestamp missing or not an RFC 3339 time");
	} else if (when < caa_wall_ms() / 1000 - CAAD_WEBHOOK_MAX_SKEW_S ||
	           when > caa_wall_ms() / 1000 + CAAD_WEBHOOK_MAX_SKEW_S) {
		answer(reply, 403, "forbidden", "stale request: timestamp too far from now");
	} else if (!json_is_object(cert)) {
		answer(reply, 200, "badRequest",
		       "no x509Certificate: caad checks X.509 certificates only");
	} else if (names == NULL || keep == NULL) {
		answer(reply, 500, "serverInternal", "out of memory");
	} else if ((n = dns_sans(cert, names, CAAD_MAX_ORDER, keep)) < 0) {
		answer(
		    reply, 200, "badRequest",
		    "x509Certificate: dnsNames, sans or a subjectAltName extension malformed, or "
		    "more than 1000 DNS names");
	} else if (n == 0) {
		answer(reply, 200, NULL, NULL); /* no DNS name: CAA has nothing to forbid */
	} else if (pack_order(w, names, (size_t)n, &packed, &len) != CAA_EOK) {
		answer(reply, 500, "serverInternal", "out of memory");
	} else {
		char rpc[80];
		snprintf(rpc, sizeof(rpc), "webhook/%s", w->name);
		caad_call_t *call = caad_call_local_new(rpc, packed, len, req->peer, req->identity,
		                                        CAAD_WEBHOOK_DEADLINE_MS, on_done, reply);
		if (call == NULL) {
			answer(reply, 500, "serverInternal", "out of memory");
		} else {
			caad_call_local_gone(call, caad_http_gone, reply);
			/* the call holds the generation to its end, as a gRPC call does */
			caad_call_on_end(call, caad_gens_release, d);
			taken = true;
			caad_handle_order(call, d);
			caad_call_release(call); /* the handler's reference */
		}
	}
	free(packed);
	free(names);
	json_decref(keep);
	json_decref(body);
	return taken;
}

static void on_post(void *arg, const caad_http_req_t *req, caad_http_reply_t *reply)
{
	caad_t *d = caad_gens_acquire(arg);
	if (d == NULL) {
		answer(reply, 503, "serverInternal", "caad is shutting down");
		return;
	}
	if (!serve(d, req, reply))
		caad_gens_release(d);
}

int caad_webhook_register(caad_http_t *h, caad_gens_t *gens)
{
	return caad_http_handle_async(h, "POST", CAAD_WEBHOOK_PATH, CAAD_WEBHOOK_MAX_BODY, on_post,
	                              gens);
}
