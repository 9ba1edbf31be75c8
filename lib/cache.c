/*
 * cache.c — the reuse window (docs/semantics.md §7) over a pluggable backend: which
 * results may be stored, the key and its digest, the window's edges, and the
 * reused result. Backends (cache_memory.c, cache_redis.c) only map digests to
 * entries (time, reason, refused) and keep the newest of each.
 *
 * The digest is SipHash-2-4 with 128-bit output under a 16-octet key drawn
 * from getrandom() for each cache. Why SipHash: the identifier, and often the
 * account URI, come from applicants, and a colliding key would hand one
 * (identifier, account) the permission checked for another. A keyed PRF makes
 * collisions both negligible (2^-128 per pair, about 2^-89 for any collision among 2^20 entries)
 * and impossible to aim for without the key, which never leaves the process.
 * A fast unkeyed or seeded-but-not-PRF hash (xxHash, MurmurHash3) has known
 * seed-independent collisions. SipHash costs ~100 ns for a key, far below
 * the lock and the cache miss of the lookup.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache.h"
#include "codes.h"
#include "name.h"
#include "siphash.h"
#include "util.h"

struct caa_cache {
	const caa_cache_backend_t *be;
	void *impl;
	uint64_t window_ms;
	uint8_t key[16];
	uint8_t generation[CAA_CONFIG_GENERATION_LEN]; /* of the config that decides */
};

/* --- SipHash-2-4-128, streaming (the one implementation is siphash.c) ------------------ */

typedef caa_siphash_t sip_t;

static void sip_init(sip_t *s, const uint8_t key[16])
{
	caa_siphash_init(s, key, 16);
}

static void sip_update(sip_t *s, const void *in, size_t len)
{
	caa_siphash_update(s, in, len);
}

static void sip_final(sip_t *s, uint8_t out[16])
{
	caa_siphash_final(s, out);
}

void caa_cache_siphash128(const uint8_t key[16], const void *in, size_t len, uint8_t out[16])
{
	caa_siphash128(key, in, len, out);
}

/* --- keys ------------------------------------------------------------------------------- */

/* The account forms of a key, tagged, each "" when absent (cache.h). */
typedef struct acct_forms {
	const char *uri;
	char id[24]; /* "id:" and at most 19 digits */
} acct_forms_t;

static void acct_forms(const char *uri, int64_t id, acct_forms_t *f)
{
	f->uri = uri != NULL && uri[0] != '\0' ? uri : NULL;
	f->id[0] = '\0';
	if (id > 0) /* the decision reads an id <= 0 as none */
		snprintf(f->id, sizeof(f->id), "id:%" PRId64, id);
}

/* generation identifier \0 [uri:U] \0 [id:N] \0 method \0 policy (cache.h) */
static void key_digest(const caa_cache_t *c, const caa_name_t *name, const acct_forms_t *acct,
                       const char *method, const char *policy, uint8_t out[16])
{
	sip_t s;
	sip_init(&s, c->key);
	sip_update(&s, c->generation, sizeof(c->generation));
	if (name->wildcard)
		sip_update(&s, "*.", 2);
	sip_update(&s, name->text, name->len);
	sip_update(&s, "", 1);
	if (acct->uri != NULL) {
		sip_update(&s, "uri:", 4);
		sip_update(&s, acct->uri, strlen(acct->uri));
	}
	sip_update(&s, "", 1);
	sip_update(&s, acct->id, strlen(acct->id) + 1);
	sip_update(&s, method ? method : "", method ? strlen(method) + 1 : 1);
	sip_update(&s, policy ? policy : "", policy ? strlen(policy) : 0);
	sip_final(&s, out);
}

static int parse_identifier(const char *type, const char *ident, caa_name_t *name)
{
	if (ident == NULL)
		return CAA_ENAME_EMPTY;
	return caa_name_parse_typed(type ? type : "dns", ident, strlen(ident), name);
}

/* The digest of a request's key; a CAA_ENAME_* code for a bad identifier. */
static int request_digest(const caa_cache_t *c, const caa_request_t *req, caa_name_t *name,
                          uint8_t d[16])
{
	acct_forms_t acct;
	int rc;
	if ((rc = parse_identifier(req->type, req->identifier, name)) != CAA_EOK)
		return rc;
	acct_forms(req->account_uri, req->account_id, &acct);
	key_digest(c, name, &acct, req->method, req->policy, d);
	return CAA_EOK;
}

int caa_cache_digest(const caa_cache_t *c, const caa_cache_key_t *k, uint8_t out[16])
{
	acct_forms_t acct;
	caa_name_t name;
	int rc;

	if (c == NULL || k == NULL || out == NULL)
		return CAA_EINVAL;
	if ((rc = parse_identifier("dns", k->identifier, &name)) != CAA_EOK)
		return rc;
	acct_forms(k->account_uri, k->account_id, &acct);
	key_digest(c, &name, &acct, k->method, k->policy, out);
	return CAA_EOK;
}

bool caa_cache_entry_newer(const caa_cache_entry_t *a, const caa_cache_entry_t *b)
{
	return a->at_ms > b->at_ms || (a->at_ms == b->at_ms && a->refused && !b->refused);
}

/* --- the cache -------------------------------------------------------------------------- */

int caa_cache_new_backend(const caa_cache_backend_t *be, void *impl, const caa_config_t *cfg,
                          const uint8_t key[16], caa_cache_t **out)
{
	caa_cache_t *c;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (be == NULL || cfg == NULL || out == NULL || be->get == NULL || be->put == NULL ||
	    be->count == NULL || be->free == NULL) {
		if (be != NULL && be->free != NULL)
			be->free(impl);
		return CAA_EINVAL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		be->free(impl);
		return CAA_ENOMEM;
	}
	c->be = be;
	c->impl = impl;
	c->window_ms = cfg->recheck_window_ms;
	if ((rc = caa_config_generation(cfg, c->generation)) != CAA_EOK) {
		caa_cache_free(c);
		return rc;
	}
	if (key != NULL) {
		memcpy(c->key, key, sizeof(c->key));
	} else {
		ssize_t got;
		/* 16 octets: one call, blocks only until the kernel pool is seeded */
		do {
			got = getrandom(c->key, sizeof(c->key), 0);
		} while (got < 0 && errno == EINTR);
		if (got != (ssize_t)sizeof(c->key)) {
			caa_cache_free(c);
			return CAA_EINTERNAL;
		}
	}
	*out = c;
	return CAA_EOK;
}

int caa_cache_new(const caa_config_t *cfg, caa_cache_t **out, char *err, size_t errlen)
{
	uint8_t key[16];
	void *impl;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL || out == NULL)
		return CAA_EINVAL;
	if (cfg->cache.backend != NULL && strcmp(cfg->cache.backend, "redis") == 0) {
		if ((rc = caa_cache_redis_new(cfg, &impl, key, err, errlen)) != CAA_EOK)
			return rc;
		rc = caa_cache_new_backend(&caa_cache_redis_backend, impl, cfg, key, out);
		memset(key, 0, sizeof(key));
		if (rc != CAA_EOK && err != NULL && errlen > 0)
			caa_set_err(err, errlen, "cache: %s", caa_strerror(rc));
		return rc;
	}
	if (cfg->cache.backend != NULL && strcmp(cfg->cache.backend, "memory") != 0) {
		if (err != NULL && errlen > 0)
			caa_set_err(
			    err, errlen,
			    "cache.backend: \"%s\" is not supported; use \"memory\" or \"redis\"",
			    cfg->cache.backend);
		return CAA_ECONFIG;
	}
	if ((rc = caa_cache_memory_new(cfg->cache.max_entries, &impl)) != CAA_EOK) {
		if (err != NULL && errlen > 0) {
			if (rc == CAA_EINVAL)
				caa_set_err(err, errlen,
				            "cache.max_entries: must be 1 to 17179869183, got %zu",
				            cfg->cache.max_entries);
			else
				caa_set_err(err, errlen, "cache: %s", caa_strerror(rc));
		}
		return rc == CAA_EINVAL ? CAA_ECONFIG : rc;
	}
	rc = caa_cache_new_backend(&caa_cache_memory_backend, impl, cfg, NULL, out);
	if (rc != CAA_EOK && err != NULL && errlen > 0)
		caa_set_err(err, errlen, "cache: %s", caa_strerror(rc));
	return rc;
}

void caa_cache_free(caa_cache_t *c)
{
	if (c == NULL)
		return;
	c->be->free(c->impl);
	free(c);
}

const uint8_t *caa_cache_generation(const caa_cache_t *c)
{
	return c->generation;
}

size_t caa_cache_count(const caa_cache_t *c)
{
	return c == NULL ? 0 : c->be->count(c->impl);
}

const char *caa_cache_backend_name(const caa_cache_t *c)
{
	return c == NULL ? "" : c->be->name;
}

uint64_t caa_cache_errors(const caa_cache_t *c)
{
	return c == NULL || c->be->errors == NULL ? 0 : c->be->errors(c->impl);
}

void caa_cache_set_log(caa_cache_t *c, caa_cache_log_fn fn, void *arg)
{
	if (c != NULL && c->be->set_log != NULL)
		c->be->set_log(c->impl, fn, arg);
}

/* Only a real DNS answer that permits is worth reusing. */
static bool storable_reason(caa_reason_t r)
{
	return r == CAA_R_AUTHORIZED || r == CAA_R_NO_CAA || r == CAA_R_NO_RESTRICTING_PROPERTY;
}

/*
 * What a permission reuses, at most CAA_CACHE_META_MAX octets:
 *   dnssec [" " relevant_domain [" " flags " " tag " " value]]
 * (dnssec one digit, flags decimal; a normalised domain and a tag hold no
 * space, the value is the rest). What does not fit is left out, the record
 * first, then the domain: never cut in the middle, so what is shown is what
 * was checked.
 */
static void meta_encode(const caa_result_t *res, caa_cache_entry_t *e)
{
	const char *rel = res->relevant_domain != NULL ? res->relevant_domain : "";
	const caa_record_t *rec = NULL;
	int n;

	e->meta_len = 0;
	if (res->dnssec < CAA_DNSSEC_SECURE || res->dnssec > CAA_DNSSEC_INDETERMINATE)
		return; /* not from a check: nothing to show */
	if (res->decided_by >= 0 && (size_t)res->decided_by < res->n_records)
		rec = &res->records[res->decided_by];
	if (rec != NULL && rel[0] != '\0' && rec->tag != NULL && rec->value != NULL &&
	    strchr(rec->tag, ' ') == NULL && !rec->malformed &&
	    (n = snprintf(e->meta, sizeof(e->meta), "%d %s %u %s %s", (int)res->dnssec, rel,
	                  (unsigned)rec->flags, rec->tag, rec->value)) > 0 &&
	    (size_t)n < sizeof(e->meta)) {
		e->meta_len = (uint8_t)n;
		return;
	}
	if (rel[0] != '\0' && strchr(rel, ' ') == NULL &&
	    (n = snprintf(e->meta, sizeof(e->meta), "%d %s", (int)res->dnssec, rel)) > 0 &&
	    (size_t)n < sizeof(e->meta)) {
		e->meta_len = (uint8_t)n;
		return;
	}
	e->meta_len = (uint8_t)snprintf(e->meta, sizeof(e->meta), "%d", (int)res->dnssec);
}

/*
 * What a result tells the cache. PERMITTED from DNS with a storable reason →
 * a permission. Any other answer from DNS (FORBIDDEN, LOOKUP_FAILED, a
 * permission not worth reusing) → a refusal: the newest check did not earn a
 * permission, so none checked before it may be reused after it. A reused
 * result is no news (storing it would move its time forward and extend the
 * window for ever); NOT_APPLICABLE has no DNS behind it.
 */
static int entry_of(const caa_result_t *res, caa_cache_entry_t *e)
{
	if (res->reused || res->reason == CAA_R_NOT_APPLICABLE)
		return CAA_ENOTAPPLICABLE;
	e->reason = res->reason;
	e->refused = !(res->verdict == CAA_PERMITTED && storable_reason(res->reason));
	e->at_ms = res->checked_at_ms;
	e->meta_len = 0;
	if (!e->refused)
		meta_encode(res, e);
	if (e->at_ms > 0 && e->at_ms <= CAA_CACHE_AT_MAX)
		return CAA_EOK;
	if (!e->refused)
		return CAA_EINVAL;
	/* A refusal without a time still refuses: it counts as checked now (not
	 * as the end of time, which an evicted refusal would leave as a floor
	 * no permission ever passes again). */
	e->at_ms = caa_wall_ms();
	return e->at_ms > 0 && e->at_ms <= CAA_CACHE_AT_MAX ? CAA_EOK : CAA_EINVAL;
}

int caa_cache_put(caa_cache_t *c, const caa_cache_key_t *k, const caa_result_t *res)
{
	caa_cache_entry_t e;
	uint8_t d[16];
	int rc;

	if (c == NULL || k == NULL || res == NULL)
		return CAA_EINVAL;
	if ((rc = entry_of(res, &e)) != CAA_EOK)
		return rc == CAA_ENOTAPPLICABLE ? CAA_EOK : rc;
	if ((rc = caa_cache_digest(c, k, d)) != CAA_EOK)
		return rc;
	return c->be->put(c->impl, d, &e);
}

int caa_cache_put_request(caa_cache_t *c, const caa_request_t *req, const caa_result_t *res)
{
	caa_cache_entry_t e;
	caa_name_t name;
	uint8_t d[16];
	int rc;

	if (c == NULL || req == NULL || res == NULL)
		return CAA_EINVAL;
	if ((rc = entry_of(res, &e)) != CAA_EOK)
		return rc == CAA_ENOTAPPLICABLE ? CAA_EOK : rc;
	if ((rc = request_digest(c, req, &name, d)) != CAA_EOK)
		return rc;
	return c->be->put(c->impl, d, &e);
}

/*
 * The window: a time at is reusable at now when  -SKEW <= now - at < window.
 * At exactly the window it is not (recheck); a time slightly in the future
 * (clocks differ) counts as now; one further ahead is not trusted at all.
 */
static bool inside_window(uint64_t window_ms, int64_t at, int64_t now)
{
	if (at <= 0)
		return false;
	if (at > now) /* now > 0 here, so at - now cannot overflow */
		return at - now <= CAA_CACHE_SKEW_MS;
	return (uint64_t)(now - at) < window_ms;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* meta_encode's text back into res (the dnssec, relevant domain and
 * deciding record it holds); false when it is not what meta_encode writes. */
static bool meta_decode(const char *meta, size_t len, caa_result_t *res)
{
	char buf[CAA_CACHE_META_MAX + 1], *rel, *flags, *tag, *value, *end;
	unsigned long f;

	if (len == 0 || len > CAA_CACHE_META_MAX || memchr(meta, '\0', len) != NULL)
		return false;
	memcpy(buf, meta, len);
	buf[len] = '\0';
	if (buf[0] < '1' || buf[0] > '4' || (buf[1] != '\0' && buf[1] != ' '))
		return false;
	res->dnssec = (caa_dnssec_t)(buf[0] - '0');
	if (buf[1] == '\0')
		return true;
	rel = buf + 2;
	if ((flags = strchr(rel, ' ')) != NULL)
		*flags++ = '\0';
	if (rel[0] == '\0')
		return false;
	free(res->relevant_domain);
	if ((res->relevant_domain = dup_str(rel)) == NULL)
		return false;
	if (flags == NULL)
		return true;
	if ((tag = strchr(flags, ' ')) == NULL)
		return false;
	*tag++ = '\0';
	if ((value = strchr(tag, ' ')) == NULL)
		return false;
	*value++ = '\0';
	errno = 0;
	f = strtoul(flags, &end, 10);
	if (flags[0] < '0' || flags[0] > '9' || *end != '\0' || f > 255 || tag[0] == '\0')
		return false;
	if ((res->records = calloc(1, sizeof(*res->records))) == NULL)
		return false;
	res->n_records = 1;
	res->records[0].flags = (uint8_t)f;
	res->records[0].tag = dup_str(tag);
	res->records[0].value = dup_str(value);
	if (res->records[0].tag == NULL || res->records[0].value == NULL)
		return false;
	res->decided_by = 0;
	return true;
}

static caa_result_t *reused_result(const caa_name_t *name, const char *policy, int64_t at,
                                   caa_reason_t reason, const caa_cache_entry_t *e)
{
	caa_result_t *res = calloc(1, sizeof(*res));
	if (res == NULL)
		return NULL;
	res->verdict = CAA_PERMITTED;
	res->reason = reason;
	res->reused = true;
	res->checked_at_ms = at;
	res->decided_by = -1;
	res->dnssec = CAA_DNSSEC_INDETERMINATE;
	res->identifier = malloc((size_t)name->len + 3);
	res->policy = dup_str(policy ? policy : "");
	res->relevant_domain = dup_str("");
	if (res->identifier == NULL || res->policy == NULL || res->relevant_domain == NULL ||
	    (e != NULL && e->meta_len > 0 && !meta_decode(e->meta, e->meta_len, res))) {
		caa_result_free(res);
		return NULL;
	}
	if (res->decided_by == 0 && reason == CAA_R_AUTHORIZED)
		res->records[0].note = CAA_NOTE_AUTHORIZES; /* what decided it */
	strcpy(res->identifier, name->wildcard ? "*." : "");
	strcat(res->identifier, name->text);
	return res;
}

bool caa_cache_reuse(caa_cache_t *c, const caa_request_t *req, int64_t now_ms, caa_result_t **out)
{
	caa_reason_t reason = CAA_R_AUTHORIZED;
	caa_cache_entry_t e = {0};
	bool stored = false;
	caa_name_t name;
	int64_t at;

	if (out == NULL)
		return false;
	*out = NULL;
	if (c == NULL || req == NULL || c->window_ms == 0 || now_ms <= 0 ||
	    req->validated_at_ms < 0)
		return false;
	if (req->validated_at_ms > 0) {
		/* The RA's validation time decides alone, stored entries or not. */
		if (parse_identifier(req->type, req->identifier, &name) != CAA_EOK)
			return false;
		at = req->validated_at_ms;
	} else {
		uint8_t d[16];
		if (request_digest(c, req, &name, d) != CAA_EOK || !c->be->get(c->impl, d, &e) ||
		    e.refused || !storable_reason(e.reason))
			return false;
		at = e.at_ms;
		reason = e.reason;
		stored = true;
	}
	if (!inside_window(c->window_ms, at, now_ms))
		return false;
	/* a stored entry whose metadata does not read is garbage: a miss */
	*out = reused_result(&name, req->policy, at, reason, stored ? &e : NULL);
	return *out != NULL;
}
