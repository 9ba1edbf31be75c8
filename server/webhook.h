/*
 * webhook.h — step-ca's AUTHORIZING provisioner webhook (docs/integrations.md
 * "step-ca"): POST /webhooks/<name> on the http listener. The body is signed
 * by step-ca (X-Smallstep-Signature: hex HMAC-SHA256 of the raw body, keyed
 * with the base64-decoded secret); every DNS SAN of its x509Certificate is
 * checked as one CheckOrder under the webhook's profile, method and account,
 * and the answer is step-ca's {"allow": ...}.
 */
#ifndef CAAD_WEBHOOK_H
#define CAAD_WEBHOOK_H

#include <stdint.h>

#include "http.h"
#include "reload.h"

#define CAAD_WEBHOOK_PATH        "/webhooks/"
#define CAAD_WEBHOOK_MAX_BODY    (256u * 1024u) /* a certificate with many SANs fits */
#define CAAD_WEBHOOK_MAX_SKEW_S  300            /* body timestamp older/newer: refused */
#define CAAD_WEBHOOK_DEADLINE_MS 8000           /* step-ca gives up after 10 s */

/* Serve every webhook of the current generation's config on h (before
 * caad_http_start): the name is looked up per request, so a reload adds,
 * removes and re-keys webhooks. CAA_EOK or the code of caad_http_handle. */
int caad_webhook_register(caad_http_t *h, caad_gens_t *gens);

/* Each webhook's secret_file is readable and holds base64 (for startup and
 * reload: the error names the key). CAA_EOK, or CAA_ECONFIG with err. */
int caad_webhook_check(const caa_config_t *cfg, char *err, size_t errlen);

/* The step-ca secret in text (base64, surrounding white space ignored)
 * decoded into key (at most size octets): its length, or -1. */
int caad_webhook_secret(const char *text, uint8_t *key, size_t size);

#endif
