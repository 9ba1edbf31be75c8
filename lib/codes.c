/* codes.c — texts for the error enum of codes.h. */
#include "codes.h"

const char *caa_strerror(int code)
{
	switch ((enum caa_code)code) {
	case CAA_EOK: return "ok";
	case CAA_ENOMEM: return "out of memory";
	case CAA_EINVAL: return "invalid argument";
	case CAA_ENOTSUP: return "not supported";
	case CAA_EIO: return "input/output error";
	case CAA_ELIMIT: return "size limit exceeded";
	case CAA_ESHUTDOWN: return "shutting down";
	case CAA_ETIMEOUT: return "deadline exceeded";
	case CAA_ECANCELED: return "cancelled";
	case CAA_EINTERNAL: return "internal error";
	case CAA_ETHREAD: return "cannot start threads";
	case CAA_ENAME_EMPTY: return "identifier is empty";
	case CAA_ENAME_TOOLONG: return "identifier is longer than 253 octets";
	case CAA_ENAME_LABELLEN: return "a label is longer than 63 octets";
	case CAA_ENAME_EMPTYLABEL: return "identifier has an empty label";
	case CAA_ENAME_CHAR:
		return "identifier has a character other than letters, digits, hyphen and dot";
	case CAA_ENAME_HYPHEN: return "a label starts or ends with a hyphen";
	case CAA_ENAME_WILDCARD: return "'*' is only allowed as a single leading \"*.\" label";
	case CAA_ENAME_IDN: return "an xn-- label is not valid punycode";
	case CAA_ENAME_RLDH:
		return "a label has \"--\" in positions 3-4 but is not an xn-- A-label";
	case CAA_ENAME_UNICODE:
		return "identifier is not ASCII: convert IDNs to their xn-- A-label form";
	case CAA_ENAME_NUMERIC_TLD: return "the last label is all digits";
	case CAA_ENAME_TYPE: return "identifier type must be \"dns\" or \"ip\"";
	case CAA_ENOTAPPLICABLE: return "CAA does not apply to IP addresses and .onion names";
	case CAA_ENAME_IP: return "identifier of type \"ip\" is not an IPv4 or IPv6 address";
	case CAA_ERR_SHORT: return "CAA RDATA is shorter than its flags and tag length";
	case CAA_ERR_TAGLEN0: return "CAA RDATA has tag length 0";
	case CAA_ERR_TAGLEN: return "CAA RDATA tag length runs past the record";
	case CAA_ERR_TAGCHAR: return "CAA tag has a character outside [A-Za-z0-9]";
	case CAA_ERR_VALUE: return "CAA issue value does not match RFC 8659 section 4.2";
	case CAA_ECONFIG: return "configuration error";
	case CAA_ERECORDS: return "records file error";
	case CAA_EDNS: return "DNS resolver could not be set up";
	case CAA_EBUSY: return "too many checks in flight";
	case CAA_ENAME_DNS_IP:
		return "identifier of type \"dns\" is an IP address: give it type \"ip\"";
	case CAA_EMETHOD:
		return "not a validation method this CA uses (an ACME method or one in "
		       "method_labels)";
	case CAA_EACCOUNT: return "the account URI and the account id name different accounts";
	case CAA_EACCOUNT_PREFIX:
		return "the account URI is no account_uri_prefixes entry followed by an account id";
	case CAA_EMSG: return "malformed DNS message";
	}
	return "unknown error";
}

/* Names of the public enums, exactly as in proto/caa/v1/caa.proto. */
#include "types.h"

const char *caa_verdict_name(caa_verdict_t v)
{
	switch (v) {
	case CAA_PERMITTED: return "PERMITTED";
	case CAA_FORBIDDEN: return "FORBIDDEN";
	case CAA_LOOKUP_FAILED: return "LOOKUP_FAILED";
	}
	return "VERDICT_UNSPECIFIED";
}

const char *caa_reason_name(caa_reason_t r)
{
	switch (r) {
	case CAA_R_NO_CAA: return "NO_CAA";
	case CAA_R_NO_RESTRICTING_PROPERTY: return "NO_RESTRICTING_PROPERTY";
	case CAA_R_AUTHORIZED: return "AUTHORIZED";
	case CAA_R_NOT_AUTHORIZED: return "NOT_AUTHORIZED";
	case CAA_R_CRITICAL_TAG: return "CRITICAL_TAG";
	case CAA_R_ACCOUNT_URI_MISMATCH: return "ACCOUNT_URI_MISMATCH";
	case CAA_R_VALIDATION_METHOD_MISMATCH: return "VALIDATION_METHOD_MISMATCH";
	case CAA_R_MALFORMED_PROPERTY: return "MALFORMED_PROPERTY";
	case CAA_R_NOT_APPLICABLE: return "NOT_APPLICABLE";
	case CAA_R_DNS_SERVFAIL: return "DNS_SERVFAIL";
	case CAA_R_DNS_TIMEOUT: return "DNS_TIMEOUT";
	case CAA_R_DNS_NXDOMAIN_TLD: return "DNS_NXDOMAIN_TLD";
	case CAA_R_DNS_REFUSED: return "DNS_REFUSED";
	case CAA_R_DNS_NETWORK: return "DNS_NETWORK";
	case CAA_R_DNSSEC_BOGUS: return "DNSSEC_BOGUS";
	case CAA_R_DNS_NOTIMP: return "DNS_NOTIMP";
	case CAA_R_DNS_FORMERR: return "DNS_FORMERR";
	case CAA_R_INTERNAL: return "INTERNAL";
	case CAA_R_DNS_NODATA_WITHOUT_SOA: return "DNS_NODATA_WITHOUT_SOA";
	case CAA_R_NOT_CORROBORATED: return "NOT_CORROBORATED";
	}
	return "REASON_UNSPECIFIED";
}

const char *caa_dnssec_name(caa_dnssec_t d)
{
	switch (d) {
	case CAA_DNSSEC_SECURE: return "SECURE";
	case CAA_DNSSEC_INSECURE: return "INSECURE";
	case CAA_DNSSEC_BOGUS: return "BOGUS";
	case CAA_DNSSEC_INDETERMINATE: return "INDETERMINATE";
	}
	return "DNSSEC_UNSPECIFIED";
}
