/* grpc_status.c — gRPC status code names, in code order (grpc/status.h). */
#include "grpc_status.h"

const char *caa_grpc_status_name(int code)
{
	static const char *const names[CAA_GRPC_STATUS_COUNT] = {
	    "OK",
	    "CANCELLED",
	    "UNKNOWN",
	    "INVALID_ARGUMENT",
	    "DEADLINE_EXCEEDED",
	    "NOT_FOUND",
	    "ALREADY_EXISTS",
	    "PERMISSION_DENIED",
	    "RESOURCE_EXHAUSTED",
	    "FAILED_PRECONDITION",
	    "ABORTED",
	    "OUT_OF_RANGE",
	    "UNIMPLEMENTED",
	    "INTERNAL",
	    "UNAVAILABLE",
	    "DATA_LOSS",
	    "UNAUTHENTICATED",
	};
	return code >= 0 && code < CAA_GRPC_STATUS_COUNT ? names[code] : "UNKNOWN_STATUS";
}
