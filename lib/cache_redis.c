/*
 * cache_redis.c — the "redis" reuse-cache backend (docs/reuse-window.md, "The
 * Redis backend"): entries of caa_cache_backend_t kept in one Redis shared by
 * the replicas of a perspective.
 *
 * Blocking calls on a small pool of connections (hiredis' synchronous API),
 * each bounded by cache.redis.timeout: the callers are caad's call threads
 * and completion workers, never its DNS loop, so a slow Redis delays only the
 * call that asked (docs/benchmarks.md, "Reuse through Redis").
 *
 * Failing closed: a get that fails, times out or reads anything but an entry
 * this file wrote is a miss (the check goes to DNS). A refusal that cannot be
 * stored raises a floor in the process: no permission checked at or before
 * it is stored or reused here afterwards. Reconnecting after a failure raises
 * the floor to now, since Redis may have lost refusals (a restart without
 * persistence) while this process could not see it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cache.h"
#include "codes.h"
#include "util.h"

#define POOL_MAX       8     /* connections: callers beyond wait up to the timeout */
#define BACKOFF_MIN_MS 50    /* first wait after a failed connect */
#define BACKOFF_MAX_MS 5000  /* doubling up to this */
#define LOG_EVERY_MS   10000 /* at most one error line this often */
#define SECRET_MIN     16    /* octets of cache.redis.key_file */
#define SECRET_MAX     4096
#define PASSWORD_MAX   1024

/*
 * put as one step: keep the held entry if it is newer (caa_cache_entry_newer:
 * later, or as old and a refusal against a permission), else store the offer
 * with its TTL. A held value this file did not write counts as absent.
 * KEYS[1] key; ARGV: value "at:refused:reason:meta", at, refused, ttl ms.
 */
static const char put_script[] = "local o=redis.call('GET',KEYS[1])\n"
                                 "if o then\n"
                                 " local a,r=string.match(o,'^(%d+):([01]):%d+:')\n"
                                 " if a then\n"
                                 "  a=tonumber(a) r=tonumber(r)\n"
                                 "  local na=tonumber(ARGV[2]) local nr=tonumber(ARGV[3])\n"
                                 "  if a>na or (a==na and r==1 and nr==0) then return 0 end\n"
                                 " end\n"
                                 "end\n"
                                 "redis.call('SET',KEYS[1],ARGV[1],'PX',ARGV[4])\n"
                                 "return 1\n";

typedef struct redis_be {
	char *host; /* NULL for a unix socket */
	char *path; /* the socket */
	int port;
	char *password; /* NULL = no AUTH */
	unsigned db;
	char *prefix; /* key_prefix + perspective + ":" */
	struct timeval tv;
	uint64_t ttl_ms; /* window + skew: a refusal outlives at_ms + window */
	char sha[41];    /* of put_script, set by the first SCRIPT LOAD */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	redisContext *idle[POOL_MAX];
	size_t n_idle, n_open;
	int64_t retry_at_ms; /* no connect before (monotonic) */
	int64_t backoff_ms;
	bool failed;   /* since the last good connect */
	int64_t floor; /* no permission at or before this is stored or reused */
	int64_t logged_at_ms;
	uint64_t unlogged;
	caa_cache_log_fn log;
	void *log_arg;

	atomic_uint_fast64_t errors;
} redis_be_t;

/* --- errors ----------------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Count an error; log it unless one was logged in the last LOG_EVERY_MS.
 * Called with r->mu held. */
__attribute__((format(printf, 2, 3))) static void note_locked(redis_be_t *r, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	uint64_t total = atomic_fetch_add(&r->errors, 1) + 1;
	int64_t now = mono_ms();

	if (r->log == NULL || (r->logged_at_ms != 0 && now - r->logged_at_ms < LOG_EVERY_MS)) {
		r->unlogged++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->log(r->log_arg, "redis", text, total, r->unlogged);
	r->logged_at_ms = now;
	r->unlogged = 0;
}

/* note_locked("what: detail") under r->mu; detail NULL for none. */
static void note(redis_be_t *r, const char *what, const char *detail)
{
	pthread_mutex_lock(&r->mu);
	if (detail != NULL)
		note_locked(r, "%s: %s", what, detail);
	else
		note_locked(r, "%s", what);
	pthread_mutex_unlock(&r->mu);
}

/* --- connections ------------------------------------------------------------------------ */

/* One command; NULL (and the connection is spoiled) on a transport error. */
static redisReply *command(redisContext *c, int argc, const char **argv, const size_t *lens)
{
	return redisCommandArgv(c, argc, argv, lens);
}

/* AUTH, SELECT, SCRIPT LOAD on a new connection: NULL with *why on failure. */
static redisContext *connect_one(redis_be_t *r, const char **why)
{
	redisContext *c = r->host != NULL ? redisConnectWithTimeout(r->host, r->port, r->tv)
	                                  : redisConnectUnixWithTimeout(r->path, r->tv);
	redisReply *rep = NULL;
	char db[16];

	*why = "out of memory";
	if (c == NULL)
		return NULL;
	if (c->err != 0 || redisSetTimeout(c, r->tv) != REDIS_OK) {
		*why = "cannot connect";
		goto fail;
	}
	if (r->password != NULL) {
		const char *argv[] = {"AUTH", r->password};
		if ((rep = command(c, 2, argv, NULL)) == NULL || rep->type != REDIS_REPLY_STATUS) {
			*why = "AUTH refused";
			goto fail;
		}
		freeReplyObject(rep);
	}
	if (r->db != 0) {
		const char *argv[] = {"SELECT", db};
		snprintf(db, sizeof(db), "%u", r->db);
		if ((rep = command(c, 2, argv, NULL)) == NULL || rep->type != REDIS_REPLY_STATUS) {
			*why = "SELECT refused";
			goto fail;
		}
		freeReplyObject(rep);
	}
	const char *argv[] = {"SCRIPT", "LOAD", put_script};
	if ((rep = command(c, 3, argv, NULL)) == NULL || rep->type != REDIS_REPLY_STRING ||
	    rep->len != 40) {
		*why = "SCRIPT LOAD refused";
		goto fail;
	}
	pthread_mutex_lock(&r->mu);
	memcpy(r->sha, rep->str, 40);
	r->sha[40] = '\0';
	pthread_mutex_unlock(&r->mu);
	freeReplyObject(rep);
	return c;
fail:
	if (rep != NULL)
		freeReplyObject(rep);
	redisFree(c);
	return NULL;
}

/* A connection, or NULL (counted and logged) when none comes within the
 * timeout or Redis is in its backoff. */
static redisContext *acquire(redis_be_t *r)
{
	struct timespec until;
	redisContext *c = NULL;
	const char *why;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += r->tv.tv_sec;
	until.tv_nsec += (long)r->tv.tv_usec * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->n_idle > 0) {
			c = r->idle[--r->n_idle];
			pthread_mutex_unlock(&r->mu);
			return c;
		}
		if (mono_ms() < r->retry_at_ms) {
			note_locked(r, "%s", "Redis unreachable, retrying later");
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		if (r->n_open < POOL_MAX)
			break;
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) {
			note_locked(r, "%s", "no Redis connection free within cache.redis.timeout");
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
	}
	r->n_open++;
	pthread_mutex_unlock(&r->mu);

	c = connect_one(r, &why);

	pthread_mutex_lock(&r->mu);
	if (c == NULL) {
		r->n_open--;
		r->backoff_ms =
		    r->backoff_ms == 0
		        ? BACKOFF_MIN_MS
		        : (r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2);
		r->retry_at_ms = mono_ms() + r->backoff_ms;
		r->failed = true;
		note_locked(r, "%s", why);
		pthread_cond_signal(&r->cv);
	} else {
		r->backoff_ms = 0;
		r->retry_at_ms = 0;
		if (r->failed) {
			/* Redis may have lost refusals while unreachable (a restart):
			 * nothing checked before now is trusted from it */
			int64_t now = caa_wall_ms();
			if (now > r->floor)
				r->floor = now;
			r->failed = false;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return c;
}

/* Give c back; a spoiled one (a transport error, a reply out of step) is closed. */
static void release(redis_be_t *r, redisContext *c, bool ok)
{
	pthread_mutex_lock(&r->mu);
	if (ok && c->err == 0) {
		r->idle[r->n_idle++] = c;
		c = NULL;
	} else {
		r->n_open--;
		r->failed = true;
	}
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (c != NULL)
		redisFree(c);
}

/* --- entries ---------------------------------------------------------------------------- */

static void make_key(const redis_be_t *r, const uint8_t d[16], char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	char h[33];
	for (size_t i = 0; i < 16; i++) {
		h[2 * i] = hex[d[i] >> 4];
		h[2 * i + 1] = hex[d[i] & 15];
	}
	h[32] = '\0';
	snprintf(out, outlen, "%s%s", r->prefix, h);
}

/* "at:refused:reason:meta", exactly as put writes it; false for anything else. */
static bool decode(const char *s, size_t len, caa_cache_entry_t *e)
{
	char buf[32], *end;
	const char *colon;
	unsigned long long at, reason;
	size_t head;

	/* the head "at:refused:reason:" is digits and colons; meta is the rest */
	if (len == 0 || (colon = memchr(s, ':', len)) == NULL || (size_t)(colon - s) + 4 > len ||
	    colon[2] != ':' ||
	    (colon = memchr(colon + 3, ':', len - (size_t)(colon + 3 - s))) == NULL)
		return false;
	head = (size_t)(colon - s);
	if (head >= sizeof(buf) || len - head - 1 > CAA_CACHE_META_MAX)
		return false;
	memcpy(buf, s, head);
	buf[head] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return false;
	errno = 0;
	at = strtoull(buf, &end, 10);
	if (errno != 0 || at > (unsigned long long)CAA_CACHE_AT_MAX || end[0] != ':' ||
	    (end[1] != '0' && end[1] != '1') || end[2] != ':' || end[3] < '0' || end[3] > '9')
		return false;
	e->refused = end[1] == '1';
	reason = strtoull(end + 3, &end, 10);
	if (errno != 0 || *end != '\0' || reason > CAA_R_NOT_CORROBORATED)
		return false;
	e->at_ms = (int64_t)at;
	e->reason = (caa_reason_t)reason;
	e->meta_len = (uint8_t)(len - head - 1);
	memcpy(e->meta, colon + 1, e->meta_len);
	return true;
}

static bool redis_get(void *impl, const uint8_t digest[16], caa_cache_entry_t *out)
{
	redis_be_t *r = impl;
	char key[160];
	redisContext *c;
	redisReply *rep;
	bool ok, held = false;
	int64_t floor;

	if ((c = acquire(r)) == NULL)
		return false;
	make_key(r, digest, key, sizeof(key));
	const char *argv[] = {"GET", key};
	rep = command(c, 2, argv, NULL);
	ok = rep != NULL && (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_NIL);
	if (ok && rep->type == REDIS_REPLY_STRING) {
		held = decode(rep->str, rep->len, out);
		if (!held)
			note(r, "a value in Redis is not a cache entry: read as a miss", NULL);
	} else if (!ok) {
		note(r, "GET failed",
		     rep != NULL && rep->type == REDIS_REPLY_ERROR ? rep->str
		     : c->err != 0                                 ? c->errstr
		                                                   : "unexpected reply");
	}
	if (rep != NULL)
		freeReplyObject(rep);
	release(r, c, ok);
	if (!held)
		return false;
	pthread_mutex_lock(&r->mu);
	floor = r->floor;
	pthread_mutex_unlock(&r->mu);
	/* a refusal lost at or after it may have beaten this permission */
	return out->refused || out->at_ms > floor;
}

/* Raise the floor for a refusal that could not be stored (cache.h). */
static void lost_refusal(redis_be_t *r, const caa_cache_entry_t *e)
{
	if (!e->refused)
		return;
	pthread_mutex_lock(&r->mu);
	if (e->at_ms > r->floor)
		r->floor = e->at_ms;
	pthread_mutex_unlock(&r->mu);
}

static int redis_put(void *impl, const uint8_t digest[16], const caa_cache_entry_t *e)
{
	redis_be_t *r = impl;
	char key[160], val[48 + CAA_CACHE_META_MAX], at[24], ttl[24], sha[41];
	redisContext *c;
	redisReply *rep;
	bool ok;

	if (e->at_ms < 0 || e->at_ms > CAA_CACHE_AT_MAX)
		return CAA_EINVAL;
	pthread_mutex_lock(&r->mu);
	bool below = !e->refused && e->at_ms <= r->floor;
	pthread_mutex_unlock(&r->mu);
	if (below)
		return CAA_EOK;
	if ((c = acquire(r)) == NULL) {
		lost_refusal(r, e);
		return CAA_EOK; /* a cache that cannot store fails no check */
	}
	make_key(r, digest, key, sizeof(key));
	int n = snprintf(val, sizeof(val), "%" PRId64 ":%d:%d:", e->at_ms, e->refused ? 1 : 0,
	                 (int)e->reason);
	size_t meta_len = e->refused || e->meta_len > CAA_CACHE_META_MAX ? 0 : e->meta_len;
	memcpy(val + n, e->meta, meta_len);
	snprintf(at, sizeof(at), "%" PRId64, e->at_ms);
	snprintf(ttl, sizeof(ttl), "%" PRIu64, r->ttl_ms);
	pthread_mutex_lock(&r->mu);
	memcpy(sha, r->sha, sizeof(sha));
	pthread_mutex_unlock(&r->mu);
	const char *argv[] = {"EVALSHA", sha, "1", key, val, at, e->refused ? "1" : "0", ttl};
	size_t lens[8];
	for (size_t i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	lens[4] = (size_t)n + meta_len;
	rep = command(c, 8, argv, lens);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		/* the script cache was flushed (SCRIPT FLUSH, a failover) */
		freeReplyObject(rep);
		argv[0] = "EVAL";
		argv[1] = put_script;
		lens[0] = 4;
		lens[1] = strlen(put_script);
		rep = command(c, 8, argv, lens);
	}
	ok = rep != NULL && rep->type == REDIS_REPLY_INTEGER;
	if (!ok) {
		note(r, "put failed",
		     rep != NULL && rep->type == REDIS_REPLY_ERROR ? rep->str
		     : c->err != 0                                 ? c->errstr
		                                                   : "unexpected reply");
		lost_refusal(r, e);
	}
	/* an error reply leaves the connection in step; a transport error does not */
	bool in_step = ok || (rep != NULL && c->err == 0);
	if (rep != NULL)
		freeReplyObject(rep);
	release(r, c, in_step);
	return CAA_EOK;
}

/* Keys under this prefix are not counted (SCAN is O(N)): DBSIZE of the
 * selected database, whatever it holds. 0 when Redis does not answer. */
static size_t redis_count(void *impl)
{
	redis_be_t *r = impl;
	redisContext *c;
	redisReply *rep;
	size_t n = 0;

	if ((c = acquire(r)) == NULL)
		return 0;
	const char *argv[] = {"DBSIZE"};
	rep = command(c, 1, argv, NULL);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
		n = (size_t)rep->integer;
	release(r, c, rep != NULL && rep->type == REDIS_REPLY_INTEGER);
	if (rep != NULL)
		freeReplyObject(rep);
	return n;
}

static uint64_t redis_errors(void *impl)
{
	redis_be_t *r = impl;
	return atomic_load(&r->errors);
}

static void redis_set_log(void *impl, caa_cache_log_fn fn, void *arg)
{
	redis_be_t *r = impl;
	pthread_mutex_lock(&r->mu);
	r->log = fn;
	r->log_arg = arg;
	pthread_mutex_unlock(&r->mu);
}

static void redis_free(void *impl)
{
	redis_be_t *r = impl;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_idle; i++)
		redisFree(r->idle[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->host);
	free(r->path);
	if (r->password != NULL)
		OPENSSL_cleanse(r->password, strlen(r->password));
	free(r->password);
	free(r->prefix);
	free(r);
}

const caa_cache_backend_t caa_cache_redis_backend = {
    .name = "redis",
    .get = redis_get,
    .put = redis_put,
    .count = redis_count,
    .free = redis_free,
    .errors = redis_errors,
    .set_log = redis_set_log,
};

/* --- setup ------------------------------------------------------------------------------ */

/* The whole file, at most max octets, trailing whitespace cut. CAA_EOK, CAA_EIO. */
static int read_secret(const char *path, size_t max, char *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	if (f == NULL)
		return CAA_EIO;
	n = fread(buf, 1, max + 1, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad || n > max)
		return CAA_EIO;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	                 buf[n - 1] == '\t'))
		n--;
	*len = n;
	return CAA_EOK;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* host:port, [v6]:port or unix:path (the config parser checked the form). */
static int parse_address(redis_be_t *r, const char *a)
{
	const char *colon;
	char *end;
	long port;
	if (strncmp(a, "unix:", 5) == 0)
		return (r->path = dup_n(a + 5, strlen(a + 5))) != NULL ? CAA_EOK : CAA_ENOMEM;
	if ((colon = strrchr(a, ':')) == NULL)
		return CAA_EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port <= 0 || port > 65535)
		return CAA_EINVAL;
	r->port = (int)port;
	if (a[0] == '[' && colon > a + 1 && colon[-1] == ']')
		r->host = dup_n(a + 1, (size_t)(colon - a - 2));
	else
		r->host = dup_n(a, (size_t)(colon - a));
	return r->host != NULL ? CAA_EOK : CAA_ENOMEM;
}

int caa_cache_redis_new(const caa_config_t *cfg, void **impl, uint8_t key[16], char *err,
                        size_t errlen)
{
	const char *why = NULL;
	char *buf = NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t len;
	redis_be_t *r;
	int rc;

	*impl = NULL;
	if (cfg->cache.redis.address == NULL || cfg->cache.redis.key_file == NULL) {
		caa_set_err(err, errlen, "cache.redis: address and key_file are required");
		return CAA_ECONFIG;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || (buf = malloc(SECRET_MAX + 1)) == NULL) {
		free(r);
		return CAA_ENOMEM;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	atomic_init(&r->errors, 0);
	r->tv.tv_sec = (time_t)(cfg->cache.redis.timeout_ms / 1000);
	r->tv.tv_usec = (suseconds_t)(cfg->cache.redis.timeout_ms % 1000) * 1000;
	r->db = cfg->cache.redis.db;
	r->ttl_ms = cfg->recheck_window_ms + CAA_CACHE_SKEW_MS;
	rc = parse_address(r, cfg->cache.redis.address);
	if (rc != CAA_EOK) {
		why = "cache.redis.address: not host:port, [v6]:port or unix:/path";
		goto out;
	}
	len = strlen(cfg->cache.redis.key_prefix) + strlen(cfg->perspective.name) + 2;
	if ((r->prefix = malloc(len)) == NULL) {
		rc = CAA_ENOMEM;
		goto out;
	}
	snprintf(r->prefix, len, "%s%s:", cfg->cache.redis.key_prefix, cfg->perspective.name);
	/* the digest key: the first 16 octets of SHA-256 over the fleet's secret */
	if ((rc = read_secret(cfg->cache.redis.key_file, SECRET_MAX, buf, &len)) != CAA_EOK ||
	    len < SECRET_MIN) {
		why = rc != CAA_EOK ? "cache.redis.key_file: cannot read it (or over 4096 octets)"
		                    : "cache.redis.key_file: the secret must be at least 16 octets";
		rc = CAA_ECONFIG;
		goto out;
	}
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
		rc = CAA_EINTERNAL;
		why = "cache.redis.key_file: no SHA-256";
		goto out;
	}
	memcpy(key, md, 16);
	if (cfg->cache.redis.password_file != NULL) {
		if (read_secret(cfg->cache.redis.password_file, PASSWORD_MAX, buf, &len) !=
		        CAA_EOK ||
		    len == 0 || memchr(buf, '\0', len) != NULL) {
			why = "cache.redis.password_file: cannot read a password from it";
			rc = CAA_ECONFIG;
			goto out;
		}
		if ((r->password = dup_n(buf, len)) == NULL) {
			rc = CAA_ENOMEM;
			goto out;
		}
	}
	rc = CAA_EOK;
out:
	OPENSSL_cleanse(buf, SECRET_MAX + 1);
	OPENSSL_cleanse(md, sizeof(md));
	free(buf);
	if (rc != CAA_EOK) {
		if (why != NULL)
			caa_set_err(err, errlen, "%s", why);
		else
			caa_set_err(err, errlen, "cache.redis: %s", caa_strerror(rc));
		redis_free(r);
		return rc;
	}
	*impl = r;
	return CAA_EOK;
}
