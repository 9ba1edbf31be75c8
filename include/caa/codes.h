/*
 * codes.h — the one error enum of libcaa, caad and caa, and caa_strerror().
 *
 * Functions return CAA_EOK (0) or a negative code from this list; results come
 * back through out-parameters. Never errno.
 */
#ifndef CAA_CODES_H
#define CAA_CODES_H

#include "export.h"

enum caa_code {
	CAA_EOK = 0,

	/* generic */
	CAA_ENOMEM = -1,    /* out of memory */
	CAA_EINVAL = -2,    /* invalid argument (a caller bug) */
	CAA_ENOTSUP = -3,   /* not supported */
	CAA_EIO = -4,       /* file could not be read */
	CAA_ELIMIT = -5,    /* a documented size limit was exceeded */
	CAA_ESHUTDOWN = -6, /* the context is shutting down */
	CAA_ETIMEOUT = -7,  /* the overall deadline ran out */
	CAA_ECANCELED = -8, /* the caller cancelled */
	CAA_EINTERNAL = -9, /* internal error (a bug): fails closed */
	CAA_ETHREAD = -10,  /* a thread could not be started */

	/* identifiers (name.c) */
	CAA_ENAME_EMPTY = -20,       /* empty identifier */
	CAA_ENAME_TOOLONG = -21,     /* longer than 253 octets */
	CAA_ENAME_LABELLEN = -22,    /* a label longer than 63 octets */
	CAA_ENAME_EMPTYLABEL = -23,  /* empty label (".." or leading dot) */
	CAA_ENAME_CHAR = -24,        /* a character outside letters, digits, hyphen */
	CAA_ENAME_HYPHEN = -25,      /* a label starts or ends with a hyphen */
	CAA_ENAME_WILDCARD = -26,    /* '*' anywhere but a single leading "*." */
	CAA_ENAME_IDN = -27,         /* an xn-- label that is not valid punycode */
	CAA_ENAME_RLDH = -28,        /* "--" in positions 3-4 of a label not starting "xn" */
	CAA_ENAME_UNICODE = -29,     /* non-ASCII: convert to an xn-- A-label first */
	CAA_ENAME_NUMERIC_TLD = -30, /* all-numeric last label */
	CAA_ENAME_TYPE = -31,        /* identifier type is neither "dns" nor "ip" */
	CAA_ENOTAPPLICABLE = -32,    /* IP or .onion identifier: CAA does not apply */
	CAA_ENAME_IP = -33,          /* identifier of type "ip" that is not an IP address */

	/* CAA RDATA and values (rr.c) */
	CAA_ERR_SHORT = -40,   /* RDATA shorter than flags + tag length */
	CAA_ERR_TAGLEN0 = -41, /* tag length 0 */
	CAA_ERR_TAGLEN = -42,  /* tag length runs past the RDATA */
	CAA_ERR_TAGCHAR = -43, /* tag with a character outside [A-Za-z0-9] */
	CAA_ERR_VALUE = -44,   /* issue/issuewild value does not match RFC 8659 §4.2 */

	/* config and records files */
	CAA_ECONFIG = -60,  /* config error: the error text names the key */
	CAA_ERECORDS = -61, /* records file error: the error text names the line */

	/* the climb */
	CAA_EDNS = -80,  /* libunbound could not be set up */
	CAA_EBUSY = -81, /* too many checks in flight */

	/* DNS messages (dnsmsg.c) */
	CAA_EMSG = -90, /* a malformed DNS message */

	/* requests (name.c, policy.c) */
	CAA_ENAME_DNS_IP = -100,    /* identifier of type "dns" that is an IP address */
	CAA_EMETHOD = -101,         /* validation method the CA cannot mean */
	CAA_EACCOUNT = -102,        /* account_uri and account_id name different accounts */
	CAA_EACCOUNT_PREFIX = -103, /* account URI under no account_uri_prefixes entry (mpic.c) */
};

/* A short constant English text for code; never NULL. */
CAA_EXPORT const char *caa_strerror(int code);

#endif
