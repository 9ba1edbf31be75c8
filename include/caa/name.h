/*
 * name.h — identifiers: normalise and validate (docs/semantics.md §1), and enumerate the
 * labels whose CAA RRsets the climb queries (full name up to the TLD, never
 * the root).
 */
#ifndef CAA_NAME_H
#define CAA_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "export.h"

#define CAA_NAME_MAX   253 /* octets, presentation form, no trailing dot */
#define CAA_LABELS_MAX 127 /* labels in a 253-octet name */

/* A normalised DNS identifier. */
typedef struct caa_name {
	char text[CAA_NAME_MAX +
	          1];     /* lowercase, no trailing dot, no "*.": the name CAA is checked at */
	uint8_t len;      /* strlen(text) */
	bool wildcard;    /* the identifier was "*.text" */
	uint8_t n_labels; /* labels in text */
	uint8_t label_off[CAA_LABELS_MAX]; /* offset of label i in text; label 0 is the leftmost */
} caa_name_t;

/*
 * Normalise and validate a DNS identifier of len octets (not NUL-terminated):
 * lowercase ASCII, one trailing dot stripped, a single leading "*." taken as
 * the wildcard flag. Accepts LDH labels and valid xn-- A-labels.
 * Returns CAA_EOK; CAA_ENOTAPPLICABLE for an IPv4/IPv6 address or a name under
 * .onion (out is still filled for display, out->text holds the input lowercased
 * if it fits); or a CAA_ENAME_* code naming the problem (see codes.h).
 */
CAA_EXPORT int caa_name_parse(const char *in, size_t len, caa_name_t *out);

/*
 * Same, for an identifier with an ACME type: "dns" goes to caa_name_parse(),
 * except that an IPv4/IPv6 address is CAA_ENAME_DNS_IP (an address is no DNS
 * name); "ip" returns CAA_ENOTAPPLICABLE for an IPv4/IPv6 address and
 * CAA_ENAME_IP for anything else; any other type CAA_ENAME_TYPE.
 */
CAA_EXPORT int caa_name_parse_typed(const char *type, const char *value, size_t len,
                                    caa_name_t *out);

/* The suffix starting at label i (0 = the full name, n_labels-1 = the TLD),
 * NUL-terminated, pointing into name->text. */
CAA_EXPORT const char *caa_name_suffix(const caa_name_t *name, unsigned i);

/* True when in (len octets) is an IPv4 or IPv6 address literal. */
CAA_EXPORT bool caa_name_is_ip(const char *in, size_t len);

#endif
