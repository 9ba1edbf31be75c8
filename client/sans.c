/*
 * sans.c — identifiers from a certificate's or CSR's subjectAltName (sans.h).
 * A certificate chain file (fullchain.pem) works: the first certificate is the
 * leaf. DER is accepted too, so `openssl x509 -outform der` output can be used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "sans.h"
#include "util.h"

const char *sans_path_name(const char *path)
{
	return cli_is_stdin(path) ? "standard input" : path;
}

static bool already_listed(const sans_list_t *list, const char *type, const char *value)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i].type, type) == 0 &&
		    strcasecmp(list->items[i].value, value) == 0)
			return true;
	return false;
}

static int append(sans_list_t *list, const char *path, const char *type, const char *value,
                  size_t len)
{
	char *copy = strndup(value, len);
	if (copy == NULL)
		return -1;
	if (already_listed(list, type, copy)) {
		free(copy);
		return 0;
	}
	sans_ident_t *items = realloc(list->items, (list->n + 1) * sizeof(*items));
	if (items == NULL) {
		free(copy);
		return -1;
	}
	list->items = items;
	list->items[list->n].type = type;
	list->items[list->n].value = copy;
	list->items[list->n].path = path;
	list->n++;
	return 0;
}

/* The subjectAltName extension of the certificate or request, NULL if none.
 * Either kind is taken from either option, PEM first, then DER; csr only
 * says which to try first. The input is in memory, so it can be re-read. */
static GENERAL_NAMES *read_names(const unsigned char *data, size_t len, bool csr, bool *parsed,
                                 bool *was_req)
{
	GENERAL_NAMES *gens = NULL;
	*parsed = false;
	for (int k = 0; k < 4 && !*parsed; k++) {
		bool der = k >= 2, req = (k % 2 == 0) == csr;
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		if (bio == NULL)
			return NULL;
		if (req) {
			X509_REQ *r = der ? d2i_X509_REQ_bio(bio, NULL)
			                  : PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
			if (r != NULL) {
				*parsed = *was_req = true;
				STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(r);
				if (exts != NULL)
					gens =
					    X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
				sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
				X509_REQ_free(r);
			}
		} else {
			X509 *x = der ? d2i_X509_bio(bio, NULL)
			              : PEM_read_bio_X509(bio, NULL, NULL, NULL);
			if (x != NULL) {
				*parsed = true;
				*was_req = false;
				gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
				X509_free(x);
			}
		}
		BIO_free(bio);
	}
	return gens;
}

/* The whole file at path ("-": standard input) in *data. Returns 0 or errno. */
static int slurp(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = cli_is_stdin(path) ? stdin : fopen(path, "rb");
	if (f == NULL)
		return errno != 0 ? errno : EIO;
	size_t cap = 0, n = 0;
	unsigned char *buf = NULL;
	int rc = 0;
	for (;;) {
		if (n == cap) {
			/* a certificate is a few KiB; a chain file a few more */
			if (cap >= SANS_MAX_INPUT) {
				rc = EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 16384;
			unsigned char *b = realloc(buf, cap);
			if (b == NULL) {
				rc = ENOMEM;
				break;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = EIO;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Append one SAN; 1 when it is of a type we skip, -1 with err on error. */
static int add_name(sans_list_t *list, const GENERAL_NAME *gn, const char *path, char *err,
                    size_t errlen)
{
	if (gn->type == GEN_DNS) {
		const char *s = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
		int len = ASN1_STRING_length(gn->d.dNSName);
		if (len <= 0 || memchr(s, '\0', (size_t)len) != NULL) {
			caa_set_err(err, errlen,
			            "%s: a DNS subjectAltName is empty or holds a NUL octet", path);
			return -1;
		}
		if (append(list, path, "dns", s, (size_t)len) != 0)
			goto nomem;
		return 0;
	}
	if (gn->type == GEN_IPADD) {
		const unsigned char *a = ASN1_STRING_get0_data(gn->d.iPAddress);
		int len = ASN1_STRING_length(gn->d.iPAddress);
		char text[INET6_ADDRSTRLEN];
		if ((len != 4 && len != 16) ||
		    inet_ntop(len == 4 ? AF_INET : AF_INET6, a, text, sizeof(text)) == NULL) {
			caa_set_err(err, errlen, "%s: an IP subjectAltName has %d octets", path,
			            len);
			return -1;
		}
		if (append(list, path, "ip", text, strlen(text)) != 0)
			goto nomem;
		return 0;
	}
	return 1;
nomem:
	caa_set_err(err, errlen, "%s: out of memory", path);
	return -1;
}

int sans_load(const char *path, bool csr, sans_list_t *list, char *err, size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0;
	errno = 0;
	int e = slurp(path, &data, &len);
	if (e != 0) {
		caa_set_err(err, errlen, "%s: %s", sans_path_name(path), strerror(e));
		return -1;
	}
	bool parsed, was_req = false;
	GENERAL_NAMES *gens = read_names(data, len, csr, &parsed, &was_req);
	free(data);
	ERR_clear_error();
	if (!parsed) {
		caa_set_err(err, errlen, "%s: not a PEM or DER certificate or certificate request",
		            sans_path_name(path));
		return -1;
	}
	path = sans_path_name(path);
	const char *what = was_req ? "certificate request" : "certificate";

	size_t found = 0; /* DNS and IP SANs, duplicates included */
	int rc = 0;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		rc = add_name(list, sk_GENERAL_NAME_value(gens, i), path, err, errlen);
		if (rc < 0)
			break;
		found += rc == 0;
		rc = 0;
	}
	GENERAL_NAMES_free(gens);
	if (rc == 0 && found == 0) {
		caa_set_err(err, errlen, "%s: the %s has no DNS or IP subjectAltName", path, what);
		rc = -1;
	}
	return rc;
}

void sans_free(sans_list_t *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i].value);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
