/*
 * log.c — JSON lines on stderr (log.h). A CA keeps these as audit evidence,
 * so a line is built completely first and written with one locked write(2)
 * (stderr is unbuffered: nothing is held back in stdio).
 */
#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/support/log.h>

#include "log.h"
#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void caad_log_time(char *buf, size_t size, long long unix_ms)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char day[24];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", day, (int)(unix_ms % 1000));
}

int caad_write_all(int fd, const char *text, size_t len, size_t *written)
{
	if (written != NULL)
		*written = 0;
	while (len > 0) {
		ssize_t w = write(fd, text, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) { /* a regular file that cannot take more: as full */
			errno = ENOSPC;
			return -1;
		}
		text += w; /* a short write: the rest goes next */
		len -= (size_t)w;
		if (written != NULL)
			*written += (size_t)w;
	}
	return 0;
}

int caad_log_write(const char *text, size_t len)
{
	pthread_mutex_lock(&log_lock);
	int rc = caad_write_all(STDERR_FILENO, text, len, NULL);
	int e = errno;
	pthread_mutex_unlock(&log_lock);
	errno = e;
	return rc;
}

char *caad_log_text(const char *msg, json_t *fields, size_t *len)
{
	char when[40];
	caad_log_time(when, sizeof(when), (long long)caa_wall_ms());

	/* time and msg first: people read the start of a line */
	json_t *line = json_pack("{s:s, s:s}", "time", when, "msg", msg);
	if (line != NULL && fields != NULL)
		json_object_update(line, fields);
	json_decref(fields);
	if (line == NULL)
		return NULL;
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
	                                  JSON_ENSURE_ASCII);
	json_decref(line);
	if (text == NULL)
		return NULL;
	*len = strlen(text);
	text[(*len)++] = '\n'; /* replaces the NUL: written with its length */
	return text;
}

void caad_log(const char *msg, json_t *fields)
{
	size_t len;
	char *text = caad_log_text(msg, fields, &len);
	if (text == NULL)
		return;
	caad_log_write(text, len);
	free(text);
}

static atomic_bool grpc_quiet = true;

static void grpc_log_line(gpr_log_func_args *args)
{
	if (atomic_load(&grpc_quiet))
		return;
	const char *sev = args->severity == GPR_LOG_SEVERITY_ERROR  ? "error"
	                  : args->severity == GPR_LOG_SEVERITY_INFO ? "info"
	                                                            : "debug";
	caad_log("grpc", json_pack("{s:s, s:s, s:s, s:i}", "level", sev, "text",
	                           args->message ? args->message : "", "file",
	                           args->file ? args->file : "", "line", args->line));
}

void caad_log_grpc_quiet(bool quiet)
{
	atomic_store(&grpc_quiet, quiet);
}

void caad_log_grpc_init(void)
{
	/* Severity stays gRPC's own (GRPC_VERBOSITY, default ERROR). */
	gpr_set_log_function(grpc_log_line);
}
