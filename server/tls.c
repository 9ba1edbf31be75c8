/*
 * tls.c — listener credentials and peer identity (tls.h). The files are
 * checked with OpenSSL first because gRPC only finds a bad key at the first
 * handshake, long after caad said it was listening.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "codes.h"
#include "tls.h"
#include "util.h"

#define PEM_MAX (1024 * 1024)

/* Whole file as a NUL-terminated string, or NULL with err naming key. */
static char *read_pem(const char *key, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		caa_set_err(err, errlen, "%s: %s: %s", key, path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(PEM_MAX + 1);
	size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
	bool bad = ferror(f) != 0;
	fclose(f);
	if (buf == NULL || bad || n > PEM_MAX) {
		caa_set_err(err, errlen, "%s: %s: %s", key, path,
		            buf == NULL ? "out of memory"
		            : bad       ? "read error"
		                        : "larger than 1 MiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static const char *ssl_error(void)
{
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	return e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown error"
	         : "no PEM data";
}

/* Count the certificates in pem (0 when none parse). */
static int count_certs(const char *pem, X509 **first)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	int n = 0;
	X509 *x;
	if (bio == NULL)
		return 0;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n == 0 && first != NULL)
			*first = x;
		else
			X509_free(x);
		n++;
	}
	ERR_clear_error(); /* the read that ended the loop */
	BIO_free(bio);
	return n;
}

/* The files of one tls section: cert (chain) and key parse and belong
 * together; the CA file (ca_key names it: "client_ca" or "ca") holds a
 * certificate. where: "tls" or "perspective.remotes[i].tls". */
static int check_files(const char *where, const caa_tls_config_t *t, const char *ca_key,
                       const char *ca_path, char *err, size_t errlen)
{
	int rc = CAA_ECONFIG;
	char *cert = NULL, *key = NULL, *ca = NULL, k[96];
	X509 *leaf = NULL;
	EVP_PKEY *pkey = NULL;
	if (t->cert != NULL) {
		snprintf(k, sizeof(k), "%s.cert", where);
		if (!(cert = read_pem(k, t->cert, err, errlen)))
			goto out;
		snprintf(k, sizeof(k), "%s.key", where);
		if (!(key = read_pem(k, t->key, err, errlen)))
			goto out;
	}
	snprintf(k, sizeof(k), "%s.%s", where, ca_key);
	if (ca_path && !(ca = read_pem(k, ca_path, err, errlen)))
		goto out;
	if (cert != NULL && count_certs(cert, &leaf) == 0) {
		caa_set_err(err, errlen, "%s.cert: %s: no PEM certificate in it", where, t->cert);
		goto out;
	}
	if (cert != NULL) {
		BIO *bio = BIO_new_mem_buf(key, -1);
		pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (pkey == NULL) {
			caa_set_err(err, errlen, "%s.key: %s: no PEM private key in it (%s)", where,
			            t->key, ssl_error());
			goto out;
		}
		if (X509_check_private_key(leaf, pkey) != 1) {
			ERR_clear_error();
			caa_set_err(err, errlen,
			            "%s.key: %s does not belong to the certificate in %s", where,
			            t->key, t->cert);
			goto out;
		}
	}
	if (ca != NULL && count_certs(ca, NULL) == 0) {
		caa_set_err(err, errlen, "%s: %s: no PEM certificate in it", k, ca_path);
		goto out;
	}
	rc = CAA_EOK;
out:
	X509_free(leaf);
	EVP_PKEY_free(pkey);
	free(cert);
	free(key);
	free(ca);
	return rc;
}

int caad_tls_check(const caa_config_t *cfg, char *err, size_t errlen)
{
	/* the config parser made sure key and client_ca need cert */
	if (cfg->tls.cert != NULL &&
	    check_files("tls", &cfg->tls, "client_ca", cfg->tls.client_ca, err, errlen) != CAA_EOK)
		return CAA_ECONFIG;
	for (size_t i = 0; i < cfg->perspective.n_remotes; i++) {
		const caa_tls_config_t *t = &cfg->perspective.remotes[i].tls;
		char where[64];
		snprintf(where, sizeof(where), "perspective.remotes[%zu].tls", i);
		if (t->set && check_files(where, t, "ca", t->ca, err, errlen) != CAA_EOK)
			return CAA_ECONFIG;
	}
	return CAA_EOK;
}

grpc_channel_credentials *caad_tls_remote_creds(const caa_remote_config_t *r, char *err,
                                                size_t errlen)
{
	const caa_tls_config_t *t = &r->tls;
	if (!t->set)
		return grpc_insecure_credentials_create();
	char *ca = NULL, *cert = NULL, *key = NULL;
	grpc_channel_credentials *creds = NULL;
	if ((t->ca && !(ca = read_pem("tls.ca", t->ca, err, errlen))) ||
	    (t->cert && !(cert = read_pem("tls.cert", t->cert, err, errlen))) ||
	    (t->key && !(key = read_pem("tls.key", t->key, err, errlen))))
		goto out;
	grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
	/* without ca, gRPC's own roots (the system's) verify the remote */
	creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
	if (creds == NULL)
		caa_set_err(err, errlen, "perspective.remotes %s: tls: gRPC refused the files",
		            r->name);
out:
	free(ca);
	free(cert);
	free(key);
	return creds;
}

const char *caad_tls_mode(const caa_config_t *cfg)
{
	if (cfg->tls.cert == NULL)
		return "none";
	return cfg->tls.client_ca ? "mtls" : "tls";
}

/* The listener's certificate as gRPC wants it: read from the files of t now. */
static grpc_ssl_server_certificate_config *server_cert_config(const caa_tls_config_t *t, char *err,
                                                              size_t errlen)
{
	char *cert = read_pem("tls.cert", t->cert, err, errlen);
	char *key = cert ? read_pem("tls.key", t->key, err, errlen) : NULL;
	char *ca = NULL;
	grpc_ssl_server_certificate_config *config = NULL;
	if (key == NULL)
		goto out;
	if (t->client_ca && !(ca = read_pem("tls.client_ca", t->client_ca, err, errlen)))
		goto out;
	grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
	/* mTLS: the CA is always given explicitly, never taken from the
	 * environment (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH would widen it). */
	/* gRPC asserts roots in a fetched config even when it asks for no
	 * client certificate (docs/platform.md): then they are never used */
	config = grpc_ssl_server_certificate_config_create(ca ? ca : cert, &pair, 1);
	if (config == NULL)
		caa_set_err(err, errlen, "tls: gRPC refused the certificate or key");
out:
	free(cert);
	free(key);
	free(ca);
	return config;
}

struct caad_tls_rotor {
	pthread_mutex_t lock;
	grpc_ssl_server_certificate_config *next; /* handed to gRPC at the next handshake */
};

/* gRPC asks before every handshake: a staged certificate is new once. */
static grpc_ssl_certificate_config_reload_status
fetch_cert(void *arg, grpc_ssl_server_certificate_config **config)
{
	caad_tls_rotor_t *rot = arg;
	pthread_mutex_lock(&rot->lock);
	*config = rot->next; /* gRPC takes it over */
	rot->next = NULL;
	pthread_mutex_unlock(&rot->lock);
	return *config ? GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW
	               : GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
}

grpc_server_credentials *caad_tls_server_creds(const caa_config_t *cfg, caad_tls_rotor_t **rotor,
                                               char *err, size_t errlen)
{
	const caa_tls_config_t *t = &cfg->tls;
	*rotor = NULL;
	if (t->cert == NULL)
		return grpc_insecure_server_credentials_create();
	caad_tls_rotor_t *rot = calloc(1, sizeof(*rot));
	if (rot == NULL) {
		caa_set_err(err, errlen, "%s", caa_strerror(CAA_ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&rot->lock, NULL);
	/* the first fetch, when the port is added, must find a certificate */
	if ((rot->next = server_cert_config(t, err, errlen)) == NULL) {
		caad_tls_rotor_free(rot);
		return NULL;
	}
	grpc_ssl_server_credentials_options *o =
	    grpc_ssl_server_credentials_create_options_using_config_fetcher(
	        t->client_ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
	                     : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
	        fetch_cert, rot);
	grpc_server_credentials *creds =
	    o ? grpc_ssl_server_credentials_create_with_options(o) : NULL;
	if (creds == NULL) {
		caa_set_err(err, errlen, "tls: gRPC refused the certificate or key");
		caad_tls_rotor_free(rot);
		return NULL;
	}
	*rotor = rot;
	return creds;
}

int caad_tls_rotor_stage(caad_tls_rotor_t *rot, const caa_config_t *cfg, char *err, size_t errlen)
{
	if (rot == NULL)
		return CAA_EOK;
	grpc_ssl_server_certificate_config *config = server_cert_config(&cfg->tls, err, errlen);
	if (config == NULL)
		return CAA_ECONFIG;
	pthread_mutex_lock(&rot->lock);
	grpc_ssl_server_certificate_config *old = rot->next;
	rot->next = config;
	pthread_mutex_unlock(&rot->lock);
	if (old != NULL) /* staged, never fetched: nobody connected since */
		grpc_ssl_server_certificate_config_destroy(old);
	return CAA_EOK;
}

void caad_tls_rotor_free(caad_tls_rotor_t *rot)
{
	if (rot == NULL)
		return;
	if (rot->next != NULL)
		grpc_ssl_server_certificate_config_destroy(rot->next);
	pthread_mutex_destroy(&rot->lock);
	free(rot);
}

/* First value of property name in ctx, malloc'ed; NULL when absent. */
static char *first_property(const grpc_auth_context *ctx, const char *name)
{
	grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, name);
	const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
	if (p == NULL || p->value == NULL)
		return NULL;
	char *s = malloc(p->value_length + 1);
	if (s != NULL) {
		memcpy(s, p->value, p->value_length);
		s[p->value_length] = '\0';
	}
	return s;
}

char *caad_tls_peer_identity(grpc_call *call)
{
	grpc_auth_context *ctx = grpc_call_auth_context(call);
	if (ctx == NULL)
		return NULL;
	char *id = NULL;
	if (grpc_auth_context_peer_is_authenticated(ctx)) {
		id = first_property(ctx, GRPC_X509_SUBJECT_PROPERTY_NAME);
		if (id == NULL)
			id = first_property(ctx, GRPC_X509_SAN_PROPERTY_NAME);
		if (id == NULL)
			id = first_property(ctx, GRPC_X509_CN_PROPERTY_NAME);
	}
	grpc_auth_context_release(ctx);
	return id;
}

void caad_tls_sans_free(char **sans)
{
	for (size_t i = 0; sans != NULL && sans[i] != NULL; i++)
		free(sans[i]);
	free(sans);
}

/* Whether SAN value v (len octets, of type DNS or URI) equals a listed name. */
static bool name_listed(const caa_tls_config_t *t, bool dns, const char *v, size_t len)
{
	if (memchr(v, '\0', len) != NULL)
		return false; /* "ra.example\0.evil" is not ra.example */
	for (size_t i = 0; i < t->n_client_names; i++) {
		const char *n = t->client_names[i];
		/* the config made URIs the names with a colon */
		if ((strchr(n, ':') == NULL) != dns || strlen(n) != len)
			continue;
		if (dns ? strncasecmp(n, v, len) == 0 : memcmp(n, v, len) == 0)
			return true;
	}
	return false;
}

/* The leaf certificate of the call's verified peer, or NULL. */
static X509 *peer_cert(grpc_call *call)
{
	grpc_auth_context *ctx = grpc_call_auth_context(call);
	if (ctx == NULL)
		return NULL;
	char *pem = NULL;
	if (grpc_auth_context_peer_is_authenticated(ctx))
		pem = first_property(ctx, GRPC_X509_PEM_CERT_PROPERTY_NAME);
	grpc_auth_context_release(ctx);
	if (pem == NULL)
		return NULL;
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	ERR_clear_error();
	BIO_free(bio);
	free(pem);
	return x;
}

bool caad_tls_client_allowed(grpc_call *call, const caa_tls_config_t *t, char ***sans)
{
	*sans = NULL;
	if (t->n_client_names == 0)
		return true;
	X509 *x = peer_cert(call);
	GENERAL_NAMES *gens = x ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	bool allowed = false;
	char **list = n > 0 ? calloc((size_t)n + 1, sizeof(*list)) : NULL;
	size_t k = 0;
	for (int i = 0; i < n && !allowed; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS && g->type != GEN_URI)
			continue;
		const ASN1_IA5STRING *a =
		    g->type == GEN_DNS ? g->d.dNSName : g->d.uniformResourceIdentifier;
		const char *v = (const char *)ASN1_STRING_get0_data(a);
		size_t len = (size_t)ASN1_STRING_length(a);
		allowed = name_listed(t, g->type == GEN_DNS, v, len);
		if (list != NULL && (list[k] = malloc(len + 5)) != NULL) {
			memcpy(list[k], g->type == GEN_DNS ? "DNS:" : "URI:", 4);
			memcpy(list[k] + 4, v, len);
			list[k][len + 4] = '\0'; /* an embedded NUL just cuts it short */
			k++;
		}
	}
	GENERAL_NAMES_free(gens);
	X509_free(x);
	if (allowed || k == 0) {
		caad_tls_sans_free(list);
		list = NULL;
	}
	*sans = list;
	return allowed;
}
