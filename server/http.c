/*
 * http.c — caad's HTTP server on libmicrohttpd (http.h). caad binds the
 * socket itself (so metrics_listen errors name the key and the port is known
 * before gRPC starts) and hands it to one libmicrohttpd daemon: a pool of
 * epoll threads, non-blocking sockets, its connection and memory limits. A
 * request is matched against a small table of method + path → handler.
 */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "codes.h"
#include "http.h"
#include "util.h"

typedef struct route {
	char method[8], path[64];
	size_t max_body;
	caad_http_handler_fn fn;
	caad_http_async_fn async;
	void *arg;
} route_t;

struct caad_http {
	int fd;
	struct MHD_Daemon *mhd;
	route_t routes[CAAD_HTTP_MAX_ROUTES];
	size_t n_routes;
	pthread_mutex_t tls_lock; /* cred */
	caad_http_cred_t *cred;   /* HTTPS: what the next handshake hands out */
	char *trust;              /* PEM text of client_ca: mTLS */
	atomic_uint due;          /* asynchronous answers not given yet */
	atomic_bool stopping;     /* caad_http_free: no new request starts */
};

/* A certificate chain and its key, parsed; each handshake gets a copy. */
struct caad_http_cred {
	gnutls_x509_crt_t *chain;
	unsigned n;
	gnutls_x509_privkey_t key;
};

/* One request in progress: its route (or error status) and its body so far;
 * for an asynchronous route, its answer (lock: the answer may come from any
 * thread, before or after the connection is suspended). */
struct caad_http_reply {
	caad_http_t *h;
	struct MHD_Connection *conn;
	int route; /* index, or -status */
	bool too_big, started;
	char *body;
	size_t len;
	char peer[64], *identity;
	pthread_mutex_t lock;
	bool answered, suspended;
	int fd; /* the connection's socket, for caad_http_gone */
	unsigned status;
	const char *ctype;
	char *answer;
	size_t answer_len;
};
typedef struct caad_http_reply pending_t;

/* Split "host:port" / "[v6]:port" into host and port (in buf). */
static bool split_addr(const char *addr, char *buf, size_t size, const char **host,
                       const char **port)
{
	if (strlen(addr) >= size)
		return false;
	strcpy(buf, addr);
	char *colon = strrchr(buf, ':');
	if (colon == NULL)
		return false;
	*colon = '\0';
	*port = colon + 1;
	*host = buf;
	if (buf[0] == '[') {
		size_t n = strlen(buf);
		if (n < 2 || buf[n - 1] != ']')
			return false;
		buf[n - 1] = '\0';
		*host = buf + 1;
	}
	return **port != '\0';
}

caad_http_t *caad_http_listen(const char *key, const char *addr, int *port, char *err,
                              size_t errlen)
{
	char buf[256];
	const char *host, *svc;
	if (!split_addr(addr, buf, sizeof(buf), &host, &svc)) {
		caa_set_err(err, errlen, "%s: \"%s\" is not host:port", key, addr);
		return NULL;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(*host ? host : NULL, svc, &hints, &ai);
	if (rc != 0) {
		caa_set_err(err, errlen, "%s: %s: %s", key, addr, gai_strerror(rc));
		return NULL;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		caa_set_err(err, errlen, "%s: cannot listen on %s: %s", key, addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portbuf[16];
	/* unchecked, a failure left portbuf uninitialised for atoi */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, portbuf, sizeof(portbuf),
	                NI_NUMERICSERV) != 0) {
		caa_set_err(err, errlen, "%s: cannot read the bound port of %s", key, addr);
		close(fd);
		return NULL;
	}
	*port = (int)strtol(portbuf, NULL, 10);

	caad_http_t *h = calloc(1, sizeof(*h));
	if (h == NULL || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		caa_set_err(err, errlen, "%s: out of resources", key);
		free(h);
		close(fd);
		return NULL;
	}
	h->fd = fd;
	pthread_mutex_init(&h->tls_lock, NULL);
	return h;
}

static int add_route(caad_http_t *h, const char *method, const char *path, size_t max_body,
                     caad_http_handler_fn fn, caad_http_async_fn async, void *arg)
{
	route_t *r = &h->routes[h->n_routes < CAAD_HTTP_MAX_ROUTES ? h->n_routes : 0];
	if ((fn == NULL) == (async == NULL) || strlen(method) >= sizeof(r->method) ||
	    strlen(path) >= sizeof(r->path) || path[0] != '/' || h->mhd != NULL)
		return CAA_EINVAL;
	for (size_t i = 0; i < h->n_routes; i++)
		if (strcmp(h->routes[i].method, method) == 0 &&
		    strcmp(h->routes[i].path, path) == 0)
			return CAA_EINVAL;
	if (h->n_routes == CAAD_HTTP_MAX_ROUTES)
		return CAA_ENOMEM;
	strcpy(r->method, method);
	strcpy(r->path, path);
	r->max_body = max_body;
	r->fn = fn;
	r->async = async;
	r->arg = arg;
	h->n_routes++;
	return CAA_EOK;
}

int caad_http_handle(caad_http_t *h, const char *method, const char *path, size_t max_body,
                     caad_http_handler_fn fn, void *arg)
{
	return add_route(h, method, path, max_body, fn, NULL, arg);
}

int caad_http_handle_async(caad_http_t *h, const char *method, const char *path, size_t max_body,
                           caad_http_async_fn fn, void *arg)
{
	return add_route(h, method, path, max_body, NULL, fn, arg);
}

/* path is route's, or under it when route ends in '/'. */
static bool path_matches(const char *route, const char *path)
{
	size_t n = strlen(route);
	if (n > 1 && route[n - 1] == '/')
		return strncmp(route, path, n) == 0 && path[n] != '\0';
	return strcmp(route, path) == 0;
}

static char *read_pem(const char *key, const char *file, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = f ? open_memstream(&buf, &len) : NULL;
	if (out != NULL) {
		char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, out);
		bool bad = ferror(f) != 0;
		if (fclose(out) != 0 || bad) {
			free(buf);
			buf = NULL;
		}
	}
	if (f != NULL)
		fclose(f);
	if (buf == NULL || len == 0) {
		caa_set_err(err, errlen, "%s.%s: cannot read %s: %s", key, file, path,
		            buf ? "empty file" : strerror(errno));
		free(buf);
		return NULL;
	}
	return buf;
}

void caad_http_cred_free(caad_http_cred_t *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n; i++)
		gnutls_x509_crt_deinit(c->chain[i]);
	gnutls_free(c->chain);
	if (c->key != NULL)
		gnutls_x509_privkey_deinit(c->key);
	free(c);
}

/* Whether the chain's first certificate carries key's public key. */
static bool key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	return gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &na) ==
	           GNUTLS_E_SUCCESS &&
	       gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &nb) ==
	           GNUTLS_E_SUCCESS &&
	       na == nb && memcmp(a, b, na) == 0;
}

/* Parse cert_pem (the chain, leaf first; the CAs after it sorted, as GnuTLS
 * sorts a chain loaded with gnutls_certificate_set_x509_key_mem) and key_pem
 * into c; the key must be the leaf's. */
static bool cred_parse(caad_http_cred_t *c, const char *key, const char *cert, const char *pkey,
                       char *cert_pem, char *key_pem, char *err, size_t errlen)
{
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	int e = gnutls_x509_crt_list_import2(&c->chain, &c->n, &d, GNUTLS_X509_FMT_PEM,
	                                     GNUTLS_X509_CRT_LIST_SORT);
	if (e < 0 || c->n == 0) {
		c->n = 0;
		/* GnuTLS sorts at most 16 certificates and says only "unimplemented" */
		caa_set_err(err, errlen, "%s.cert: %s: %s%s", key, cert,
		            e == GNUTLS_E_UNIMPLEMENTED_FEATURE ? "more than 16 certificates: "
		                                                : "",
		            e < 0 ? gnutls_strerror(e) : "no certificate");
		return false;
	}
	d = (gnutls_datum_t){(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
	if ((e = gnutls_x509_privkey_init(&c->key)) < 0 ||
	    (e = gnutls_x509_privkey_import2(c->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		caa_set_err(err, errlen, "%s.key: %s: %s", key, pkey, gnutls_strerror(e));
		return false;
	}
	if (!key_matches(c->chain[0], c->key)) {
		caa_set_err(err, errlen, "%s.key: %s is not the key of %s", key, pkey, cert);
		return false;
	}
	return true;
}

caad_http_cred_t *caad_http_cred_load(const char *key, const char *cert, const char *pkey,
                                      char *err, size_t errlen)
{
	char *cert_pem = read_pem(key, "cert", cert, err, errlen);
	char *key_pem = cert_pem ? read_pem(key, "key", pkey, err, errlen) : NULL;
	caad_http_cred_t *c = NULL;
	if (key_pem != NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			caa_set_err(err, errlen, "%s: %s", key, caa_strerror(CAA_ENOMEM));
		else if (!cred_parse(c, key, cert, pkey, cert_pem, key_pem, err, errlen)) {
			caad_http_cred_free(c);
			c = NULL;
		}
		explicit_bzero(key_pem, strlen(key_pem)); /* no copy of the key's text left */
	}
	free(key_pem);
	free(cert_pem);
	return c;
}

int caad_http_tls(caad_http_t *h, const char *key, const char *cert, const char *pkey,
                  const char *client_ca, char *err, size_t errlen)
{
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
	    MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) != MHD_YES) {
		caa_set_err(err, errlen, "%s: this libmicrohttpd has no TLS certificate callback",
		            key);
		return CAA_ECONFIG;
	}
	caad_http_cred_t *c = caad_http_cred_load(key, cert, pkey, err, errlen);
	if (c == NULL)
		return CAA_EIO;
	caad_http_tls_swap(h, c);
	if (client_ca != NULL &&
	    (h->trust = read_pem(key, "client_ca", client_ca, err, errlen)) == NULL)
		return CAA_EIO;
	/* a file without a PEM certificate (a key, DER) would trust no CA at
	 * all: every client refused, the config accepted without a word */
	gnutls_x509_crt_t *cas = NULL;
	unsigned n = 0;
	int e = 0;
	if (h->trust != NULL) {
		gnutls_datum_t d = {(unsigned char *)h->trust, (unsigned)strlen(h->trust)};
		e = gnutls_x509_crt_list_import2(&cas, &n, &d, GNUTLS_X509_FMT_PEM, 0);
		for (unsigned i = 0; e >= 0 && i < n; i++)
			gnutls_x509_crt_deinit(cas[i]);
		gnutls_free(cas);
		if (e < 0 || n == 0) {
			caa_set_err(err, errlen, "%s.client_ca: %s: %s", key, client_ca,
			            e < 0 ? gnutls_strerror(e) : "no PEM certificate");
			return CAA_ECONFIG;
		}
	}
	return CAA_EOK;
}

void caad_http_tls_swap(caad_http_t *h, caad_http_cred_t *c)
{
	pthread_mutex_lock(&h->tls_lock);
	caad_http_cred_t *old = h->cred;
	h->cred = c;
	pthread_mutex_unlock(&h->tls_lock);
	caad_http_cred_free(old); /* each handshake took copies */
}

int caad_http_tls_same_trust(const caad_http_t *h, const char *key, const char *client_ca,
                             char *err, size_t errlen)
{
	if (h->trust == NULL || client_ca == NULL)
		return CAA_EOK; /* mTLS on or off is the caller's (same_listeners) */
	char *now = read_pem(key, "client_ca", client_ca, err, errlen);
	if (now == NULL)
		return CAA_EIO;
	bool same = strcmp(now, h->trust) == 0;
	free(now);
	if (!same)
		caa_set_err(err, errlen,
		            "%s.client_ca: %s changed: cannot change on reload (restart "
		            "caad)",
		            key, client_ca);
	return same ? CAA_EOK : CAA_ECONFIG;
}

/* Copies of c's chain and key for one handshake (GnuTLS frees them). */
static int cred_copy(const caad_http_cred_t *c, gnutls_pcert_st **certs, unsigned *n,
                     gnutls_privkey_t *key)
{
	gnutls_pcert_st *p = gnutls_calloc(c->n, sizeof(*p));
	unsigned done = 0;
	gnutls_privkey_t k = NULL;
	if (p == NULL)
		return -1;
	while (done < c->n && gnutls_pcert_import_x509(&p[done], c->chain[done], 0) == 0)
		done++;
	if (done == c->n && gnutls_privkey_init(&k) == 0 &&
	    gnutls_privkey_import_x509(k, c->key, GNUTLS_PRIVKEY_IMPORT_COPY) == 0) {
		*certs = p;
		*n = done;
		*key = k;
		return 0;
	}
	if (k != NULL)
		gnutls_privkey_deinit(k);
	while (done > 0)
		gnutls_pcert_deinit(&p[--done]);
	gnutls_free(p);
	return -1;
}

/* GnuTLS asks at every handshake: the credentials current now. libmicrohttpd
 * passes no closure; it keeps the connection as the session's pointer, and
 * on_connection put the listener in the connection's socket context
 * (docs/platform.md#libmicrohttpd). */
static int retrieve_cert(gnutls_session_t s, const struct gnutls_cert_retr_st *info,
                         gnutls_pcert_st **certs, unsigned *n, gnutls_ocsp_data_st **ocsp,
                         unsigned *n_ocsp, gnutls_privkey_t *key, unsigned *flags)
{
	(void)info;
	*ocsp = NULL;
	*n_ocsp = 0;
	*n = 0;
	struct MHD_Connection *conn = gnutls_session_get_ptr(s);
	const union MHD_ConnectionInfo *ci =
	    conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	caad_http_t *h = ci ? ci->socket_context : NULL;
	if (h == NULL)
		return -1; /* no certificate: the handshake fails */
	pthread_mutex_lock(&h->tls_lock);
	int rc = h->cred ? cred_copy(h->cred, certs, n, key) : -1;
	pthread_mutex_unlock(&h->tls_lock);
	*flags = GNUTLS_CERT_RETR_DEINIT_ALL;
	return rc;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	(void)c;
	*socket_context = code == MHD_CONNECTION_NOTIFY_STARTED ? cls : NULL;
}

const char *caad_http_header(const caad_http_req_t *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int caad_http_match(const caad_http_t *h, const char *method, const char *path)
{
	/* a GET route answers HEAD: libmicrohttpd sends the head without the body */
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	int found = -404;
	for (size_t i = 0; i < h->n_routes; i++) {
		if (!path_matches(h->routes[i].path, path))
			continue;
		if (strcmp(h->routes[i].method, m) == 0)
			return (int)i;
		found = -405;
	}
	return found;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body, size_t len,
                             const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO; /* libmicrohttpd closes the connection */
	}
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Whether the request's Content-Type is application/json (parameters aside). */
static bool json_request(struct MHD_Connection *c)
{
	const char *ct =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	static const char json[] = "application/json";
	return ct != NULL && strncasecmp(ct, json, sizeof(json) - 1) == 0 &&
	       strchr("; \t", ct[sizeof(json) - 1]) != NULL;
}

/* A short error page: plain text, or the JSON error body (docs/api.md
 * "HTTP errors") to a JSON request. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status)
{
	static const struct {
		unsigned status;
		const char *code, *text;
	} pages[] = {
	    {MHD_HTTP_FORBIDDEN, "PERMISSION_DENIED", "client certificate required"},
	    {MHD_HTTP_NOT_FOUND, "NOT_FOUND", "not found"},
	    {MHD_HTTP_METHOD_NOT_ALLOWED, "UNIMPLEMENTED", "method not allowed"},
	    {MHD_HTTP_CONTENT_TOO_LARGE, "RESOURCE_EXHAUSTED", "request body too large"},
	    {MHD_HTTP_SERVICE_UNAVAILABLE, "UNAVAILABLE", "caad is shutting down"},
	};
	const char *code = "INTERNAL", *text = "internal error";
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		if (pages[i].status == status) {
			code = pages[i].code;
			text = pages[i].text;
		}
	}
	bool json = json_request(c);
	char buf[128];
	if (json)
		snprintf(buf, sizeof(buf), "{\"code\": \"%s\", \"message\": \"%s\"}\n", code, text);
	else
		snprintf(buf, sizeof(buf), "%s\n", text);
	char *body = strdup(buf);
	if (body == NULL)
		return MHD_NO;
	return reply(c, status, body, strlen(body),
	             json ? "application/json" : "text/plain; charset=utf-8");
}

void caad_http_answer(caad_http_reply_t *p, unsigned status, const char *content_type, char *body,
                      size_t len)
{
	pthread_mutex_lock(&p->lock);
	if (p->answered) { /* a bug: the first answer stands */
		pthread_mutex_unlock(&p->lock);
		free(body);
		return;
	}
	p->answered = true;
	p->status = status;
	p->ctype = content_type;
	p->answer = body;
	p->answer_len = len;
	caad_http_t *h = p->h;
	if (p->suspended)
		MHD_resume_connection(p->conn); /* on_request queues the answer */
	pthread_mutex_unlock(&p->lock);
	atomic_fetch_sub(&h->due, 1);
}

bool caad_http_gone(void *reply)
{
	const caad_http_reply_t *p = reply;
	/* a suspended connection is not polled by libmicrohttpd and its socket
	 * stays open until resumed: a hang-up, or end of stream under a peek
	 * (which consumes nothing), means the client left. Data still unread
	 * (a TLS alert before the FIN) hides the end: then it counts as there. */
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	if (p->fd < 0 || poll(&pfd, 1, 0) != 1)
		return false;
	if ((pfd.revents & (POLLHUP | POLLERR)) != 0)
		return true;
	char octet;
	return (pfd.revents & POLLIN) != 0 && recv(p->fd, &octet, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* The answer given (or an error page when the handler's body was NULL). */
static enum MHD_Result queue_answer(struct MHD_Connection *c, pending_t *p)
{
	char *body = p->answer;
	p->answer = NULL;
	if (body == NULL)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
	return reply(c, p->status, body, p->answer_len, p->ctype);
}

static enum MHD_Result run_async(caad_http_t *h, struct MHD_Connection *c, pending_t *p,
                                 const route_t *r, const caad_http_req_t *req)
{
	if (p->started) { /* resumed: the answer is in */
		pthread_mutex_lock(&p->lock);
		bool ready = p->answered;
		pthread_mutex_unlock(&p->lock);
		return ready ? queue_answer(c, p) : MHD_YES;
	}
	/* counted before "stopping" is read (caad_http_free stores it, then reads
	 * due): either caad_http_free waits for this answer, or it is refused here.
	 * The head passed the check in on_request, but its body may come in after
	 * caad_http_free started (a suspension then would abort MHD_stop_daemon) */
	atomic_fetch_add(&h->due, 1);
	if (atomic_load(&h->stopping)) {
		atomic_fetch_sub(&h->due, 1);
		return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE);
	}
	p->started = true;
	p->conn = c;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	p->fd = ci != NULL ? ci->connect_fd : -1;
	r->async(r->arg, req, p);
	pthread_mutex_lock(&p->lock);
	bool ready = p->answered;
	if (!ready) {
		p->suspended = true;
		MHD_suspend_connection(c);
	}
	pthread_mutex_unlock(&p->lock);
	return ready ? queue_answer(c, p) : MHD_YES;
}

/* Over mTLS: false when the client sent no certificate client_ca verifies;
 * else its DN (RFC 4514) in *identity (NULL when unknown). Over plain HTTP
 * or TLS without client_ca: true, no identity. */
static bool client_verified(const caad_http_t *h, struct MHD_Connection *c, char **identity)
{
	*identity = NULL;
	if (h->trust == NULL)
		return true;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return false;
	gnutls_session_t s = (gnutls_session_t)ci->tls_session;
	unsigned status = 0;
	unsigned n = 0;
	/* the chain to client_ca, and a leaf fit for a TLS client (an
	 * extendedKeyUsage without clientAuth is refused; none at all is any use) */
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
	                                 (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) != GNUTLS_E_SUCCESS ||
	    status != 0)
		return false;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0)
		return false;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) == GNUTLS_E_SUCCESS) {
		gnutls_datum_t dn = {NULL, 0};
		if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) ==
		        GNUTLS_E_SUCCESS &&
		    gnutls_x509_crt_get_dn3(crt, &dn, 0) == GNUTLS_E_SUCCESS) {
			*identity = strndup((const char *)dn.data, dn.size);
			gnutls_free(dn.data);
		}
		gnutls_x509_crt_deinit(crt);
	}
	return true;
}

/* "ipv4:ADDR:PORT" / "ipv6:[ADDR]:PORT", as gRPC names its peers. */
static void peer_name(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char a[INET6_ADDRSTRLEN] = "";
	snprintf(buf, size, "unknown");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, size, "ipv4:%s:%u", a, (unsigned)ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "ipv6:[%s]:%u", a, (unsigned)ntohs(in6->sin6_port));
	}
}

static enum MHD_Result run_route(caad_http_t *h, struct MHD_Connection *c, pending_t *p,
                                 const char *method, const char *url)
{
	const route_t *r = &h->routes[p->route];
	caad_http_req_t req = {.method = method,
	                       .path = url,
	                       .body = p->body,
	                       .body_len = p->len,
	                       .peer = p->peer,
	                       .identity = p->identity,
	                       .conn = c};
	if (r->async != NULL)
		return run_async(h, c, p, r, &req);
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	if (out == NULL)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
	const char *ctype = "text/plain; charset=utf-8";
	unsigned status = r->fn(r->arg, &req, out, &ctype);
	if (fclose(out) != 0) {
		free(body);
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	return reply(c, status, body, len, ctype);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **state)
{
	(void)version;
	caad_http_t *h = cls;
	pending_t *p = *state;
	if (p == NULL) {
		/* stopping: a kept-alive connection's next request starts no work
		 * (caad_http_free waits for every answer due) */
		if (atomic_load(&h->stopping))
			return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE);
		/* the head is complete: route it; an error answers before any body is read */
		int route = caad_http_match(h, method, url);
		if (route < 0)
			return reply_error(c, (unsigned)-route);
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > h->routes[route].max_body)
			return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE);
		char *identity;
		if (!client_verified(h, c, &identity))
			return reply_error(c, MHD_HTTP_FORBIDDEN);
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			free(identity);
			return MHD_NO;
		}
		p->h = h;
		p->route = route;
		p->identity = identity;
		peer_name(c, p->peer, sizeof(p->peer));
		pthread_mutex_init(&p->lock, NULL);
		*state = p;
		return MHD_YES;
	}
	if (p->started)
		return run_route(h, c, p, method, url);
	if (*upload_size > 0) {
		size_t n = *upload_size, max = h->routes[p->route].max_body;
		*upload_size = 0;
		if (p->too_big || n > max - p->len) {
			p->too_big = true; /* chunked past the limit: read on, then refuse */
			return MHD_YES;
		}
		char *b = realloc(p->body, p->len + n + 1);
		if (b == NULL)
			return MHD_NO;
		memcpy(b + p->len, upload_data, n);
		p->len += n;
		b[p->len] = '\0';
		p->body = b;
		return MHD_YES;
	}
	if (p->too_big)
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE);
	return run_route(h, c, p, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	pending_t *p = *state;
	if (p != NULL) {
		free(p->body);
		free(p->identity);
		free(p->answer);
		pthread_mutex_destroy(&p->lock);
		free(p);
		*state = NULL;
	}
}

static unsigned metrics_page(void *arg, const caad_http_req_t *req, FILE *out,
                             const char **content_type)
{
	(void)req;
	caad_metrics_render(arg, out);
	*content_type = "text/plain; version=0.0.4; charset=utf-8";
	return MHD_HTTP_OK;
}

int caad_http_start(caad_http_t *h, caad_metrics_t *m)
{
	if (m != NULL && caad_http_handle(h, "GET", "/metrics", 0, metrics_page, m) != CAA_EOK)
		return CAA_EINVAL;
	bool tls = h->cred != NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	/* the TLS options come first; an unused one is skipped as MHD_OPTION_ARRAY of nothing.
	 * The certificate comes from retrieve_cert at each handshake (SIGHUP swaps it);
	 * the client CA is read once (MHD_OPTION_HTTPS_MEM_TRUST only) */
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_CERT_CALLBACK2, 0, (void *)retrieve_cert},
	    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
	    {h->trust ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, h->trust},
	    {MHD_OPTION_END, 0, NULL}};
	struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
	/* no MHD_USE_ERROR_LOG: a client's garbage is its own business, not caad's log */
	h->mhd = MHD_start_daemon(
	    flags | (tls ? MHD_USE_TLS : 0), 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY,
	    tls ? tls_opts : none, MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CAAD_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)CAAD_HTTP_MAX_PER_ADDRESS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CAAD_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CAAD_HTTP_MAX_HEAD, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)CAAD_HTTP_THREADS, MHD_OPTION_END);
	return h->mhd != NULL ? CAA_EOK : CAA_ETHREAD;
}

unsigned caad_http_due(caad_http_t *h)
{
	return h != NULL ? atomic_load(&h->due) : 0;
}

void caad_http_free(caad_http_t *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL) {
		/* a suspended connection must be resumed before the daemon stops
		 * (MHD_stop_daemon panics, aborting caad, on one still suspended):
		 * wait for every answer due, however long its check takes (each is
		 * bounded by its deadline, dns.timeout and remote_timeout); no new
		 * request adds to them meanwhile (a new connection's requests get
		 * 503). No MHD_quiesce_daemon: under a thread pool with epoll it
		 * races the workers' own removal of the listening socket from their
		 * epoll sets and panics ("Failed to remove listen FD from epoll set",
		 * libmicrohttpd 0.9.75-0.9.77); MHD_stop_daemon closes the socket */
		atomic_store(&h->stopping, true);
		while (atomic_load(&h->due) > 0)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		MHD_stop_daemon(h->mhd);
	} else {
		close(h->fd);
	}
	caad_http_cred_free(h->cred);
	pthread_mutex_destroy(&h->tls_lock);
	free(h->trust);
	free(h);
}
