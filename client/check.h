/*
 * check.h — `caa check` and `caa order` inside the client: what the command
 * line asked for (check_run_t, filled by check.c), and the two ways to answer
 * it — in-process with libcaa's climb (local.c, --config) or through a caad
 * over gRPC (remote.c, --server) — which both hand back caa_result_t, so the
 * output code (output.c) is the same for both.
 */
#ifndef CAA_CLI_CHECK_H
#define CAA_CLI_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "output.h"
#include "result.h"

/* Default deadline of a call to caad (--timeout). */
#define CHECK_SERVER_TIMEOUT_MS 30000

typedef struct check_run {
	const char *prog;       /* "caa check" / "caa order", for messages */
	bool order;             /* one CheckOrder of all identifiers instead of one Check each */
	bool order_output;      /* print as `caa order` (else one result per identifier) */
	bool problem_on_stderr; /* identifiers from --cert / --csr: a refusal also prints
	                         * the order's problem on stderr */

	const char *config; /* --config: in-process */
	/* --issuer: in-process with the built-in defaults (local.c) */
	const char **issuers;
	size_t n_issuers;
	const char *unbound_conf; /* --unbound-conf, with --issuer; NULL = root hints */
	const char *trust_anchor; /* --trust-anchor, with --issuer; NULL = the default */
	const char *server;       /* --server HOST:PORT: through caad */

	/* TLS to caad: tls is set by --tls, --ca, --tls-cert or --tls-key */
	bool tls;
	const char *ca;          /* PEM roots that verify caad; NULL = gRPC's default roots */
	const char *tls_cert;    /* client certificate (mTLS), PEM */
	const char *tls_key;     /* its private key, PEM */
	const char *server_name; /* name to verify in caad's certificate instead of HOST */
	bool verbose;            /* gRPC core logging on stderr */

	caa_request_t *reqs; /* one per identifier, in command-line order */
	size_t n;
	uint64_t timeout_ms; /* --timeout; 0 = not given */
	bool json, explain;
} check_run_t;

/*
 * What came back. results[i] answers reqs[i]; NULL when that check could not
 * be answered (the reason was printed on stderr). aggregate is the order's
 * problem (orders only; NULL when all permitted). pol, when not NULL, is the
 * policy the results were decided under (in-process only).
 */
typedef struct check_answer {
	caa_result_t **results;
	size_t n;
	caa_problem_t *aggregate;
	const caa_policy_t *pol;
	caa_config_t *cfg; /* owns pol (in-process) */
	int error_status;  /* exit status owed to the NULL results (1, 3), 0 if none */
} check_answer_t;

/*
 * Run every request in-process under run->config / through run->server.
 * Returns -1 when *ans is filled (then print it and free it with
 * check_answer_free), or an exit status (enum cli_exit) after printing why.
 */
int check_local(const check_run_t *run, check_answer_t *ans);

/*
 * The config of an in-process run: run->config, or with --issuer the built-in
 * defaults (caa_config_default's) with those issuer domains and the --unbound-conf
 * / --trust-anchor paths, through the config parser so that they are checked
 * alike. *what names it in messages. Returns CAA_EOK, or a code with err set.
 */
int check_config(const check_run_t *run, caa_config_t **cfg, const char **what, char *err,
                 size_t errlen);
int check_remote(const check_run_t *run, check_answer_t *ans);

void check_answer_free(check_answer_t *ans);

#endif
