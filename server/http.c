/*
 * http.c — the metrics endpoint (http.h). poll() on the listening socket and
 * an eventfd that says "stop"; each request gets 2 s to arrive whole.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codes.h"
#include "http.h"
#include "util.h"

#define REQUEST_MAX 4096
#define REQUEST_MS  2000

struct caad_http {
	int fd, stopfd;
	bool running;
	pthread_t thread;
	caad_metrics_t *m;
};

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
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
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
	if (h == NULL || (h->stopfd = eventfd(0, EFD_CLOEXEC)) < 0) {
		caa_set_err(err, errlen, "metrics_listen: out of resources");
		free(h);
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Read until the end of the request head (or give up). */
static bool read_request(int fd, char *buf, size_t size)
{
	size_t n = 0;
	int64_t end = (int64_t)(caa_now_us() / 1000u) + REQUEST_MS;
	while (n + 1 < size) {
		int64_t left = end - (int64_t)(caa_now_us() / 1000u);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
		if (r <= 0)
			return false;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return true;
	}
	return false;
}

caad_http_route_t caad_http_route(const char *req)
{
	/* The path only after a whole "GET " or "HEAD ": a shorter head ("GET\n\n")
	 * has its NUL before where the path would start. */
	caad_http_route_t r;
	const char *path;
	if (strncmp(req, "GET ", 4) == 0) {
		r = CAAD_HTTP_GET;
		path = req + 4;
	} else if (strncmp(req, "HEAD ", 5) == 0) {
		r = CAAD_HTTP_HEAD;
		path = req + 5;
	} else {
		return CAAD_HTTP_NOT_FOUND;
	}
	size_t plen = strcspn(path, " ?\r\n");
	return plen == 8 && strncmp(path, "/metrics", 8) == 0 ? r : CAAD_HTTP_NOT_FOUND;
}

static void serve(caad_http_t *h, int fd)
{
	char req[REQUEST_MAX];
	if (!read_request(fd, req, sizeof(req)))
		return;
	caad_http_route_t route = caad_http_route(req);
	bool get = route == CAAD_HTTP_GET;
	if (route == CAAD_HTTP_NOT_FOUND) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
		                         "Content-Length: 22\r\n\r\nonly /metrics is here\n";
		write_all(fd, nf, sizeof(nf) - 1);
		return;
	}
	char *body = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);
	if (f == NULL)
		return;
	caad_metrics_render(h->m, f);
	fclose(f);
	char hdr[160];
	int n = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	                 "Content-Length: %zu\r\n\r\n",
	                 blen);
	write_all(fd, hdr, (size_t)n);
	if (get)
		write_all(fd, body, blen);
	free(body);
}

static void *http_thread(void *arg)
{
	caad_http_t *h = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = h->fd, .events = POLLIN},
		                      {.fd = h->stopfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(h, c);
		close(c);
	}
	return NULL;
}

int caad_http_start(caad_http_t *h, caad_metrics_t *m)
{
	h->m = m;
	if (pthread_create(&h->thread, NULL, http_thread, h) != 0)
		return CAA_ETHREAD;
	h->running = true;
	return CAA_EOK;
}

void caad_http_free(caad_http_t *h)
{
	if (h == NULL)
		return;
	if (h->running) {
		uint64_t one = 1;
		ssize_t w = write(h->stopfd, &one, sizeof(one));
		(void)w;
		pthread_join(h->thread, NULL);
	}
	close(h->fd);
	close(h->stopfd);
	free(h);
}
