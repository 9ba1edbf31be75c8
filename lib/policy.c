/* policy.c — the CAA decision (CAA.md §1–§5): relevant RRset selection and evaluation. */
#include <string.h>

#include "policy.h"

void caa_policy_init(caa_policy_t *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->name = "";
	pol->critical = CAA_CRITICAL_UNKNOWN;
	pol->flag1_is_critical = true;
	pol->tld_nxdomain_error = true;
	pol->nodata_without_soa_error = false;
}
