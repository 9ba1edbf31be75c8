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
 */
#ifndef CAA_RECORDS_H
#define CAA_RECORDS_H

#include <stddef.h>

#include "name.h"
#include "policy.h"

typedef struct caa_records caa_records_t;

/*
 * Parse records text (len octets). On error returns CAA_ERECORDS (or CAA_ENOMEM)
 * and writes "line N: what is wrong" into err. Owner names are normalised
 * (lowercase, trailing dot optional); TTL and class are optional.
 */
int caa_records_parse(const char *text, size_t len, caa_records_t **out, char *err,
                      size_t errlen);
int caa_records_load(const char *path, caa_records_t **out, char *err, size_t errlen);

/*
 * Fill labels[0..name->n_labels) with the outcome of each suffix of name as the
 * file describes it (dnssec INDETERMINATE unless BOGUS). The labels borrow
 * from recs and name; they stay valid while both live.
 */
void caa_records_labels(const caa_records_t *recs, const caa_name_t *name, caa_label_t *labels);

void caa_records_free(caa_records_t *recs);

#endif
