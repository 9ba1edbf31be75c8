/* version.c — caa_version(): the version this library was built as. */
#include "version.h"

const char *caa_version(void)
{
	return CAA_VERSION_STRING;
}
