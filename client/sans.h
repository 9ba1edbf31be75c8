/*
 * sans.h — the identifiers of a certificate or a certificate request: its
 * subjectAltName DNS names (type "dns") and IP addresses (type "ip"), read with
 * OpenSSL, for pre-flight checks before a renewal (`caa order --cert
 * current.pem`, docs/failures.md 1).
 */
#ifndef CAA_CLI_SANS_H
#define CAA_CLI_SANS_H

#include <stdbool.h>
#include <stddef.h>

/* One identifier taken from a SAN; both strings are owned by the list. */
typedef struct sans_ident {
	const char *type; /* "dns" or "ip" (static strings) */
	char *value;      /* DNS name as written in the SAN, or the address in text form */
	const char *path; /* the file it came from (the path given to sans_load) */
} sans_ident_t;

typedef struct sans_list {
	sans_ident_t *items;
	size_t n;
} sans_list_t;

/* Input larger than this is refused (EFBIG): a chain file is a few KiB. */
#define SANS_MAX_INPUT (1024 * 1024)

/*
 * Append the SANs of the PEM (or DER) file at path ("-": standard input) to
 * list, in the order the extension lists them. The file may hold a
 * certificate (the first of a chain) or a certificate request (PKCS #10);
 * csr says which to try first. Other SAN types (email, URI, ...) are skipped.
 * The subject's CN is never read: the SANs are authoritative (the Baseline
 * Requirements require a CN to repeat one of them).
 * Returns 0, or -1 with a one-line message in err (errlen octets): the file
 * cannot be read or parsed, or it has no DNS or IP SAN at all.
 */
int sans_load(const char *path, bool csr, sans_list_t *list, char *err, size_t errlen);

/* How messages name path: "standard input" for "-". */
const char *sans_path_name(const char *path);

/* Free what list holds (the list itself is the caller's). */
void sans_free(sans_list_t *list);

#endif
