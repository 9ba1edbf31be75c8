/*
 * http.c — caad's HTTP server on libmicrohttpd (http.h). caad binds the
 * socket itself (so metrics_listen errors name the key and the port is known
 * before gRPC starts) and hands it to one libmicrohttpd daemon: an internal
 * epoll thread, non-blocking sockets, its connection and memory limits. A
 * request is matched against a small table of method + path → handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "codes.h"
#include "http.h"
#include "util.h"

typedef struct route {
	char method[8], path[64];
	size_t max_body;
	caad_http_handler_fn fn;
	void *arg;
} route_t;

struct caad_http {
	int fd;
	struct MHD_Daemon *mhd;
	route_t routes[CAAD_HTTP_MAX_ROUTES];
	size_t n_routes;
};

/* One request in progress: its route (or error status) and its body so far. */
typedef struct pending {
	int route; /* index, or -status */
	bool too_big;
	char *body;
	size_t len;
} pending_t;

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

caad_http_t *caad_http_listen(const char *addr, int *port, char *err, size_t errlen)
{
	char buf[256];
	const char *host, *svc;
	if (!split_addr(addr, buf, sizeof(buf), &host, &svc)) {
		caa_set_err(err, errlen, "metrics_listen: \"%s\" is not host:port", addr);
		return NULL;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(*host ? host : NULL, svc, &hints, &ai);
	if (rc != 0) {
		caa_set_err(err, errlen, "metrics_listen: %s: %s", addr, gai_strerror(rc));
		return NULL;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		caa_set_err(err, errlen, "metrics_listen: cannot listen on %s: %s", addr,
		            strerror(errno));
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
		caa_set_err(err, errlen, "metrics_listen: cannot read the bound port of %s", addr);
		close(fd);
		return NULL;
	}
	*port = (int)strtol(portbuf, NULL, 10);

	caad_http_t *h = calloc(1, sizeof(*h));
	if (h == NULL || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		caa_set_err(err, errlen, "metrics_listen: out of resources");
		free(h);
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

int caad_http_handle(caad_http_t *h, const char *method, const char *path, size_t max_body,
                     caad_http_handler_fn fn, void *arg)
{
	route_t *r = &h->routes[h->n_routes];
	if (fn == NULL || strlen(method) >= sizeof(r->method) || strlen(path) >= sizeof(r->path) ||
	    path[0] != '/' || h->mhd != NULL)
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
	r->arg = arg;
	h->n_routes++;
	return CAA_EOK;
}

int caad_http_match(const caad_http_t *h, const char *method, const char *path)
{
	/* a GET route answers HEAD: libmicrohttpd sends the head without the body */
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	int found = -404;
	for (size_t i = 0; i < h->n_routes; i++) {
		if (strcmp(h->routes[i].path, path) != 0)
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

/* A short plain-text error page. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status)
{
	const char *text = status == MHD_HTTP_NOT_FOUND            ? "not found\n"
	                   : status == MHD_HTTP_METHOD_NOT_ALLOWED ? "method not allowed\n"
	                   : status == MHD_HTTP_CONTENT_TOO_LARGE  ? "request body too large\n"
	                                                           : "internal error\n";
	char *body = strdup(text);
	if (body == NULL)
		return MHD_NO;
	return reply(c, status, body, strlen(body), "text/plain; charset=utf-8");
}

static enum MHD_Result run_route(caad_http_t *h, struct MHD_Connection *c, const pending_t *p,
                                 const char *method, const char *url)
{
	const route_t *r = &h->routes[p->route];
	caad_http_req_t req = {.method = method, .path = url, .body = p->body, .body_len = p->len};
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
		/* the head is complete: route it; an error answers before any body is read */
		int route = caad_http_match(h, method, url);
		if (route < 0)
			return reply_error(c, (unsigned)-route);
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > h->routes[route].max_body)
			return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE);
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return MHD_NO;
		p->route = route;
		*state = p;
		return MHD_YES;
	}
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
	if (caad_http_handle(h, "GET", "/metrics", 0, metrics_page, m) != CAA_EOK)
		return CAA_EINVAL;
	/* no MHD_USE_ERROR_LOG: a client's garbage is its own business, not caad's log */
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	                          on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
	                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)CAAD_HTTP_MAX_CONNECTIONS,
	                          MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	                          (unsigned)CAAD_HTTP_MAX_PER_ADDRESS,
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CAAD_HTTP_IDLE_TIMEOUT_S,
	                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CAAD_HTTP_MAX_HEAD,
	                          MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	return h->mhd != NULL ? CAA_EOK : CAA_ETHREAD;
}

void caad_http_free(caad_http_t *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd); /* closes the listening socket too */
	else
		close(h->fd);
	free(h);
}
