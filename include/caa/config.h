/*
 * config.h — the JSON config of docs/config.md, shared by caad and caa. Unknown
 * keys, wrong types and impossible values are errors whose text names the key
 * (e.g. "dns.timeout: expected a duration like \"10s\", got \"ten\"").
 */
#ifndef CAA_CONFIG_H
#define CAA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "export.h"

/* Config text larger than this is refused (CAA_ELIMIT). */
#define CAA_CONFIG_MAX_SIZE (1024 * 1024)

typedef struct caa_tls_config {
	char *cert; /* PEM paths; NULL when absent */
	char *key;
	char *client_ca;     /* set => mTLS required */
	char **client_names; /* server only: SAN DNS names (lowercase) or URIs a client
	                      * certificate must carry one of; NULL = any client_ca client */
	size_t n_client_names;
	char *ca; /* remotes only: CA bundle that verifies the remote; NULL = system roots */
	char *server_name; /* remotes only: the name its certificate must carry; NULL = the
	                    * address's host */
	bool set;          /* remotes only: the section was given, so the channel is TLS even
	                    * when no key is in it (a remote without it is plain gRPC) */
} caa_tls_config_t;

typedef struct caa_remote_config {
	char *name;
	char *rir;
	char *address;
	caa_tls_config_t tls;
} caa_remote_config_t;

/* A step-ca AUTHORIZING webhook served at POST /webhooks/<name> (docs/integrations.md). */
typedef struct caa_webhook_config {
	char *name;              /* 1-64 letters, digits, '-', '_', '.' */
	char *secret_file;       /* holds the base64 secret step-ca shows; read per request */
	char *policy;            /* profile applied; "" = the default policy */
	char *validation_method; /* for validationmethods; "" = none (RFC 8657 §4) */
	char *account_uri;       /* for accounturi; "" = none */
} caa_webhook_config_t;

typedef struct caa_config {
	char *listen;         /* default "127.0.0.1:8053" */
	caa_tls_config_t tls; /* all NULL = plaintext */
	char *metrics_listen; /* NULL = off */
	struct {
		char *listen;         /* the HTTP(S) listener; NULL = off */
		caa_tls_config_t tls; /* cert + key = HTTPS; client_ca = mTLS */
	} http;
	caa_webhook_config_t *webhooks; /* served on http.listen */
	size_t n_webhooks;
	char **issuer_domains; /* lowercase, no trailing dot */
	size_t n_issuer_domains;
	char **account_uri_prefixes;
	size_t n_account_uri_prefixes;
	uint64_t recheck_window_ms; /* default 7h */
	size_t max_in_flight;       /* checks in flight before RESOURCE_EXHAUSTED; default 10000 */

	struct {
		char *unbound_conf;        /* NULL = full recursion from root hints */
		uint64_t timeout_ms;       /* overall per check, default 10s */
		uint64_t query_timeout_ms; /* per query, default 3s */
		unsigned retries;          /* default 2 */
		char *trust_anchor_file;   /* NULL = /usr/share/dns/root.key */
		unsigned max_per_zone; /* concurrent queries per registered domain (zone.h), default
		                          16 */
		unsigned max_outstanding; /* queries held by libunbound at once, default 1024 */
	} dns;

	caa_policy_t policy;    /* the default profile; name "" */
	caa_policy_t *profiles; /* named profiles: default policy overridden by their keys */
	size_t n_profiles;

	struct {
		char *backend;      /* "memory" (default) or "redis" */
		size_t max_entries; /* default 1000000 (memory) */
		struct {
			char *address;  /* "host:port", "[v6]:port" or "unix:/path"; required */
			char *key_file; /* the fleet's shared digest secret; required */
			char *password_file; /* NULL = no AUTH */
			char *key_prefix;    /* default "caa:" */
			uint64_t timeout_ms; /* bounds every Redis call; default 100ms */
			unsigned db;         /* SELECT; default 0 */
		} redis;
	} cache;

	struct {
		char *name; /* default "primary" */
		char *rir;  /* default "" */
		caa_remote_config_t *remotes;
		size_t n_remotes;
		unsigned min_remotes;       /* 0 = "br" (the default): the BR §3.2.2.9 minimum
		                             * on the date, checked by caad against its clock
		                             * (server/schedule.h); 1..64 = an override (labs,
		                             * private CAs), checked by the parser */
		uint64_t remote_timeout_ms; /* default 5s */
	} perspective;

	struct {
		char *file;    /* NULL = the audit lines go to stderr with the log */
		bool required; /* default true: a check whose line cannot be written fails */
	} audit;

	/* storage for policy strings (method_labels) the policies borrow; every string
	 * and array above lives there too, so do not replace them: caa_config_free()
	 * frees that storage, not the fields */
	void *priv;
} caa_config_t;

/*
 * Parse a config from JSON text (len octets) / from a file. On error returns
 * CAA_ECONFIG (or CAA_EIO / CAA_ENOMEM) and writes a one-line message naming the
 * key into err (errlen octets, may be 0). *out is set only on success.
 * Text over CAA_CONFIG_MAX_SIZE is CAA_ELIMIT; caa_config_load puts "PATH: "
 * in front of the message. docs/config.md lists every key and error.
 */
CAA_EXPORT int caa_config_parse(const char *json, size_t len, caa_config_t **out, char *err,
                                size_t errlen);
CAA_EXPORT int caa_config_load(const char *path, caa_config_t **out, char *err, size_t errlen);

/* A config with every default (no issuer domains). */
CAA_EXPORT int caa_config_default(caa_config_t **out);

/*
 * The generation of cfg: SHA-256 over everything in it that can change a
 * verdict — issuer_domains, account_uri_prefixes, the default policy and
 * every profile by name (all knobs, method_labels spelled out), and the DNS
 * settings a check depends on (unbound_conf and trust_anchor_file by path and
 * content — read now — with the files the unbound.conf names: include:,
 * trust anchors, root hints, zone files; timeout, query_timeout, retries) and
 * the perspective's remotes, quorum and remote_timeout. Not in it: listen,
 * tls, metrics_listen, max_in_flight, recheck_window (the reuse window
 * applies the live one), dns.max_per_zone, cache, the perspective's own name
 * and rir. Equal configs give equal
 * generations whatever their key order, profile order or spelling of
 * defaults; the reuse cache keys every permission with it. Returns CAA_EOK,
 * CAA_EINVAL, or CAA_EINTERNAL when the hash is not available or a named file
 * fails while being read.
 */
#define CAA_CONFIG_GENERATION_LEN 32
CAA_EXPORT int caa_config_generation(const caa_config_t *cfg,
                                     uint8_t out[CAA_CONFIG_GENERATION_LEN]);

/* The policy of a profile; NULL or "" is the default. NULL if no such profile. */
CAA_EXPORT const caa_policy_t *caa_config_policy(const caa_config_t *cfg, const char *profile);

CAA_EXPORT void caa_config_free(caa_config_t *cfg);

/* Parse a duration "500ms", "10s", "5m", "7h" (a non-negative integer and a unit).
 * Returns CAA_EOK or CAA_EINVAL. */
CAA_EXPORT int caa_duration_parse(const char *text, uint64_t *ms);

#endif
