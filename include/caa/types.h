/*
 * types.h — the verdict, reason and DNSSEC enums every part of libcaa's API
 * speaks, with their proto names. <caa/caa.h> includes it with the rest.
 */
#ifndef CAA_TYPES_H
#define CAA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codes.h"
#include "export.h"

/* The verdict. Never PERMITTED on a lookup failure or an internal error. */
typedef enum caa_verdict {
	CAA_PERMITTED = 1,
	CAA_FORBIDDEN = 2,
	CAA_LOOKUP_FAILED = 3,
} caa_verdict_t;

/* Why. Values match caa.v1.Reason in proto/caa/v1/caa.proto. */
typedef enum caa_reason {
	CAA_R_NO_CAA = 1,                     /* no relevant RRset */
	CAA_R_NO_RESTRICTING_PROPERTY = 2,    /* RRset has no issue/issuewild that applies */
	CAA_R_AUTHORIZED = 3,                 /* a property names us and its parameters pass */
	CAA_R_NOT_AUTHORIZED = 4,             /* properties name other CAs or nobody */
	CAA_R_CRITICAL_TAG = 5,               /* a critical tag we must not ignore */
	CAA_R_ACCOUNT_URI_MISMATCH = 6,       /* names us, accounturi does not match */
	CAA_R_VALIDATION_METHOD_MISMATCH = 7, /* names us, validationmethods excludes the method */
	CAA_R_MALFORMED_PROPERTY = 8,         /* the only restricting properties do not parse */
	CAA_R_NOT_APPLICABLE = 9,             /* IP identifier or .onion: CAA does not apply */
	CAA_R_DNS_SERVFAIL = 10,
	CAA_R_DNS_TIMEOUT = 11,
	CAA_R_DNS_NXDOMAIN_TLD = 12,
	CAA_R_DNS_REFUSED = 13,
	CAA_R_DNS_NETWORK = 14,
	CAA_R_DNSSEC_BOGUS = 15,
	CAA_R_DNS_NOTIMP = 16,
	CAA_R_DNS_FORMERR = 17,
	CAA_R_INTERNAL = 18,               /* a bug or resource failure: fails closed */
	CAA_R_DNS_NODATA_WITHOUT_SOA = 19, /* only under nodata_without_soa "error" */
	CAA_R_NOT_CORROBORATED = 20, /* permitted here, the remote perspectives' quorum failed */
} caa_reason_t;

/* DNSSEC state of what decided the result (weakest link over the labels used). */
typedef enum caa_dnssec {
	CAA_DNSSEC_SECURE = 1,
	CAA_DNSSEC_INSECURE = 2,
	CAA_DNSSEC_BOGUS = 3,
	CAA_DNSSEC_INDETERMINATE = 4,
} caa_dnssec_t;

/* Name of an enum value exactly as in the proto ("PERMITTED", "NO_CAA", "SECURE"). */
CAA_EXPORT const char *caa_verdict_name(caa_verdict_t v);
CAA_EXPORT const char *caa_reason_name(caa_reason_t r);
CAA_EXPORT const char *caa_dnssec_name(caa_dnssec_t d);

#endif
