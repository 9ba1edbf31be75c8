/*
 * http.h — the metrics endpoint: a tiny HTTP/1.0 server on its own thread
 * that answers GET /metrics with caad_metrics_render() and 404 otherwise.
 * One connection at a time, bounded reads: a scraper is the only client.
 */
#ifndef CAAD_HTTP_H
#define CAAD_HTTP_H

#include <stddef.h>

#include "metrics.h"

typedef struct caad_http caad_http_t;

/* Bind and listen on addr ("host:port", "[v6]:port"); *port gets the bound
 * port. NULL with one line in err on failure. Nothing runs yet. */
caad_http_t *caad_http_listen(const char *addr, int *port, char *err, size_t errlen);

/* Serve m on a thread of its own. CAA_EOK or CAA_ETHREAD. */
int caad_http_start(caad_http_t *h, caad_metrics_t *m);

/* What a request head (NUL-terminated) asks for: GET or HEAD of /metrics
 * (a query string allowed), or anything else (404). */
typedef enum caad_http_route {
	CAAD_HTTP_NOT_FOUND = 0,
	CAAD_HTTP_GET,
	CAAD_HTTP_HEAD,
} caad_http_route_t;
caad_http_route_t caad_http_route(const char *req);

/* Stop the thread (if started), close the socket, free. */
void caad_http_free(caad_http_t *h);

#endif
