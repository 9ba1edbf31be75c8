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

void caad_log_write(const char *text, size_t len)
{
	pthread_mutex_lock(&log_lock);
	while (len > 0) {
		ssize_t w = write(STDERR_FILENO, text, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* nowhere to report it: the line is lost */
		text += w;
		len -= (size_t)w;
	}
	pthread_mutex_unlock(&log_lock);
}

void caad_log(const char *msg, json_t *fields)
{
	char when[40];
	caad_log_time(when, sizeof(when), (long long)caa_wall_ms());

	/* time and msg first: people read the start of a line */
	json_t *line = json_pack("{s:s, s:s}", "time", when, "msg", msg);
	if (line != NULL && fields != NULL)
		json_object_update(line, fields);
	json_decref(fields);
	if (line == NULL)
		return;
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
	                                  JSON_ENSURE_ASCII);
	json_decref(line);
	if (text == NULL)
		return;
	size_t len = strlen(text);
	text[len] = '\n'; /* replaces the NUL: written with its length */
	caad_log_write(text, len + 1);
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
