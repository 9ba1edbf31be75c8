/*
 * tls.h — the listener's credentials from the config's tls section (none,
 * TLS, or mutual TLS when client_ca is set) and the peer identity of a call.
 */
#ifndef CAAD_TLS_H
#define CAAD_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#include "config.h"

/*
 * Read and check the files of cfg->tls and of every remote's tls with
 * OpenSSL: the certificate chain and key parse and belong together,
 * client_ca (a remote's ca) holds at least one certificate. Needs no gRPC (used by --check-config).
 * CAA_EOK, or CAA_ECONFIG with one line naming the key in err.
 */
int caad_tls_check(const caa_config_t *cfg, char *err, size_t errlen);

/* The channel credentials for remote r: plain without its tls section; TLS
 * verified by its ca (else the system roots) with its client certificate
 * when it has one. NULL with err on failure. Release with
 * grpc_channel_credentials_release(). */
grpc_channel_credentials *caad_tls_remote_creds(const caa_remote_config_t *r, char *err,
                                                size_t errlen);

/*
 * Server credentials for cfg (insecure without tls). After grpc_init().
 * NULL with err on failure. Release with grpc_server_credentials_release().
 * With tls, *rotor is where a reload stages the next certificate (else
 * NULL); it must outlive the listener (free after grpc_shutdown).
 */
typedef struct caad_tls_rotor caad_tls_rotor_t;
grpc_server_credentials *caad_tls_server_creds(const caa_config_t *cfg, caad_tls_rotor_t **rotor,
                                               char *err, size_t errlen);
/* Read cfg's tls files now; handshakes from the next one on use them
 * (gRPC's certificate config fetcher). Connections already up keep theirs.
 * CAA_EOK (also with rotor NULL), or CAA_ECONFIG with err. */
int caad_tls_rotor_stage(caad_tls_rotor_t *rotor, const caa_config_t *cfg, char *err,
                         size_t errlen);
void caad_tls_rotor_free(caad_tls_rotor_t *rotor);

/* "tls", "mtls" or "none": what the listener asks of clients. */
const char *caad_tls_mode(const caa_config_t *cfg);

/* The client certificate's subject (or its first SAN, or CN) of a call over
 * TLS; NULL without a client certificate. Free with free(). */
char *caad_tls_peer_identity(grpc_call *call);

/*
 * Whether a call's client may use caad: true without tls.client_names;
 * with it, only when the verified client certificate carries a DNS SAN
 * (case-insensitive) or a URI SAN (exact) equal to one of the names. A DNS
 * name matches only a DNS SAN, a URI only a URI SAN; IP and e-mail SANs and
 * the subject never match. Refused (false), *sans gets the certificate's DNS
 * and URI SANs for the audit line ("DNS:ra.example", "URI:spiffe://..."),
 * NULL-terminated, or NULL when there are none or memory ran out; free with
 * caad_tls_sans_free().
 */
bool caad_tls_client_allowed(grpc_call *call, const caa_tls_config_t *t, char ***sans);
void caad_tls_sans_free(char **sans);

#endif
