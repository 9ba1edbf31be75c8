/* grpc_status.h — names of gRPC status codes ("UNAVAILABLE"), as gRPC's own
 * documentation spells them; for logs, metrics and messages. */
#ifndef CAA_GRPC_STATUS_H
#define CAA_GRPC_STATUS_H

/* Name of a grpc_status_code value; "UNKNOWN_STATUS" outside 0..16. */
const char *caa_grpc_status_name(int code);

/* Number of standard codes (0 OK .. 16 UNAUTHENTICATED). */
#define CAA_GRPC_STATUS_COUNT 17

#endif
