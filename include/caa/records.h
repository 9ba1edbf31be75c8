/*
 * records.h — records files: hand-written RRsets for what-if evaluation
 * (`caa evaluate --records FILE`) and tests. The format is zone-file
 * presentation lines as dig prints them, plus status lines for lookups that
 * failed; docs/records-file.md describes it:
 *
 *   ; comment
 *   shop.example.   300  IN  CAA  0 issue "ca.example; accounturi=https://ca.example/acme/acct/1"
 *   shop.example.        IN  CAA  128 tbs "x"
 *   bad.example.             CAA  \# 3 000041            ; generic RDATA (RFC 3597), malformed here
 *   example.            SERVFAIL                        ; this label's lookup failed
 *   broken.example.     BOGUS "signature expired"
 *
 * Status words: NODATA, NXDOMAIN, NODATA-NO-SOA, SERVFAIL, REFUSED, NOTIMP,
 * FORMERR, TIMEOUT, NETWORK, BOGUS (optional quoted reason). A label the file
 * does not mention answered NODATA.
 *
 * Names are absolute whether or not they end in a dot, until a $ORIGIN line:
 * after it, "@" is the origin and a name without a trailing dot is relative to
 * it (zone-file rules). $TTL is read and ignored. A line starting with a blank
 * continues the previous owner. An owner has either CAA records or one status.
 */
#ifndef CAA_RECORDS_H
#define CAA_RECORDS_H

#include <stddef.h>

#include "name.h"
#include "policy.h"
#include "export.h"

/* Limits: larger text, or more records at one owner, is refused with CAA_ELIMIT. */
#define CAA_RECORDS_MAX_SIZE      (1024 * 1024)
#define CAA_RECORDS_MAX_PER_OWNER 1024

typedef struct caa_records caa_records_t;

/*
 * Parse records text (len octets). On error returns CAA_ERECORDS (CAA_ELIMIT
 * for the limits above, CAA_ENOMEM) and writes "line N: what is wrong" into err
 * (errlen octets, may be 0). Owner names are normalised (lowercase, trailing
 * dot optional); TTL and class are optional. *out is set only on success.
 */
CAA_EXPORT int caa_records_parse(const char *text, size_t len, caa_records_t **out, char *err,
                                 size_t errlen);
/* Same for a file; err is "PATH: line N: ..." or "PATH: <system error>" (CAA_EIO). */
CAA_EXPORT int caa_records_load(const char *path, caa_records_t **out, char *err, size_t errlen);

/*
 * Fill labels[0..name->n_labels) with the outcome of each suffix of name as the
 * file describes it (dnssec INDETERMINATE unless BOGUS). The labels borrow
 * from recs and name; they stay valid while both live. recs NULL: all NODATA.
 */
CAA_EXPORT void caa_records_labels(const caa_records_t *recs, const caa_name_t *name,
                                   caa_label_t *labels);

CAA_EXPORT void caa_records_free(caa_records_t *recs);

#endif
