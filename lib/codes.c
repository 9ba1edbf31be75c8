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
	case CAA_ENAME_EMPTY: return "identifier is empty";
	case CAA_ENAME_TOOLONG: return "identifier is longer than 253 octets";
	case CAA_ENAME_LABELLEN: return "a label is longer than 63 octets";
	case CAA_ENAME_EMPTYLABEL: return "identifier has an empty label";
	case CAA_ENAME_CHAR: return "identifier has a character other than letters, digits, hyphen and dot";
	case CAA_ENAME_HYPHEN: return "a label starts or ends with a hyphen";
	case CAA_ENAME_WILDCARD: return "'*' is only allowed as a single leading \"*.\" label";
	case CAA_ENAME_IDN: return "an xn-- label is not valid punycode";
	case CAA_ENAME_RLDH: return "a label has \"--\" in positions 3-4 but is not an xn-- A-label";
	case CAA_ENAME_UNICODE: return "identifier is not ASCII: convert IDNs to their xn-- A-label form";
	case CAA_ENAME_NUMERIC_TLD: return "the last label is all digits";
	case CAA_ENAME_TYPE: return "identifier type must be \"dns\" or \"ip\"";
	case CAA_ENOTAPPLICABLE: return "CAA does not apply to IP addresses and .onion names";
	case CAA_ERR_SHORT: return "CAA RDATA is shorter than its flags and tag length";
	case CAA_ERR_TAGLEN0: return "CAA RDATA has tag length 0";
	case CAA_ERR_TAGLEN: return "CAA RDATA tag length runs past the record";
	case CAA_ERR_TAGCHAR: return "CAA tag has a character outside [A-Za-z0-9]";
	case CAA_ERR_VALUE: return "CAA issue value does not match RFC 8659 section 4.2";
	case CAA_ECONFIG: return "configuration error";
	case CAA_ERECORDS: return "records file error";
	case CAA_EDNS: return "DNS resolver could not be set up";
	case CAA_EBUSY: return "too many checks in flight";
	}
	return "unknown error";
}
