/*
 * rr.h — CAA resource records: RDATA wire parsing (RFC 8659 §4.1), tag
 * classification, and the issue/issuewild value grammar (RFC 8659 §4.2) with
 * the RFC 8657 parameters accounturi and validationmethods.
 *
 * Nothing here allocates: parsed views point into the caller's buffers, so the
 * hot path (parse + decide) costs no malloc.
 */
#ifndef CAA_RR_H
#define CAA_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "export.h"

#define CAA_FLAG_CRITICAL 0x80 /* the issuer-critical bit */
#define CAA_FLAG_ONE      0x01 /* often set by operators who meant "critical" */

/* One CAA record. tag and value are NOT NUL-terminated; they point into the
 * RDATA (or other storage) the record was parsed from. */
typedef struct caa_rr {
	uint8_t flags;
	uint8_t tag_len;
	uint16_t value_len;
	bool malformed; /* RDATA did not parse: tag/value are empty */
	const char *tag;
	const char *value;
	const uint8_t *rdata; /* malformed: the RDATA as it came (rdata_len octets), else NULL */
	uint16_t rdata_len;
} caa_rr_t;

/* Recognised tags (case-insensitive). */
typedef enum caa_tag {
	CAA_TAG_UNKNOWN = 0,
	CAA_TAG_ISSUE,
	CAA_TAG_ISSUEWILD,
	CAA_TAG_IODEF,
	CAA_TAG_ISSUEMAIL,
	CAA_TAG_ISSUEVMC,
	CAA_TAG_CONTACTEMAIL,
	CAA_TAG_CONTACTPHONE,
} caa_tag_t;

/*
 * Parse CAA RDATA (flags, tag length, tag, value) into *out, which points into
 * rdata. Returns CAA_EOK, or CAA_ERR_SHORT / CAA_ERR_TAGLEN0 / CAA_ERR_TAGLEN /
 * CAA_ERR_TAGCHAR; on error *out is a record with malformed = true and the flags
 * byte kept when there was one. len above 65535 (RDLENGTH is 16 bits) gives
 * CAA_ELIMIT. On error tag and value are "" (never NULL) with length 0.
 */
CAA_EXPORT int caa_rr_parse(const uint8_t *rdata, size_t len, caa_rr_t *out);

/* Classify a tag (ASCII case-insensitive). */
CAA_EXPORT caa_tag_t caa_rr_tag(const char *tag, size_t len);

/* Parsed issue/issuewild value. All pointers point into the value text. */
typedef struct caa_issue_value {
	const char *issuer; /* issuer-domain-name; issuer_len 0 = "nobody" */
	size_t issuer_len;
	unsigned n_accounturi; /* how many accounturi parameters (0, 1, more) */
	const char *accounturi;
	size_t accounturi_len;
	unsigned n_methods;     /* how many validationmethods parameters */
	bool methods_malformed; /* a label outside [A-Za-z0-9-]+ (or empty) */
	const char *methods;    /* the raw comma-separated list */
	size_t methods_len;
} caa_issue_value_t;

/*
 * Parse an issue/issuewild value with the grammar of RFC 8659 §4.2, exactly:
 * whitespace around ';' and '=', empty parameter values, a trailing ';',
 * case-insensitive parameter tags; unknown parameters ignored.
 * Returns CAA_EOK, or CAA_ERR_VALUE when the text does not match the grammar
 * (then *out is zeroed: an empty issuer that authorises nobody).
 * The grammar allows a trailing ';' only after the issuer ("ca.example;"),
 * never after a parameter ("ca.example; a=b;" is CAA_ERR_VALUE). Duplicate
 * parameters are counted; accounturi and methods point at the first one, and
 * methods_malformed is set if any copy is malformed. An empty validationmethods
 * value is a well-formed empty list (RFC 8657 §4). value NULL with len > 0
 * gives CAA_EINVAL.
 */
CAA_EXPORT int caa_rr_issue_value_parse(const char *value, size_t len, caa_issue_value_t *out);

/*
 * Iterate the labels of a validationmethods list: on each call sets *label and
 * *label_len to the next label and returns true; returns false at the end.
 * *pos starts at 0. Only meaningful when methods_malformed is false.
 */
CAA_EXPORT bool caa_rr_methods_next(const caa_issue_value_t *v, size_t *pos, const char **label,
                                    size_t *label_len);

#endif
