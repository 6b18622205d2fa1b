/* SPDX-License-Identifier: MIT */
#include "err.h"

#include <string.h>

const char *ntm_strerror(int err)
{
	if (err == 0) {
		return "success";
	}
	if (err > 0) {
		return "invalid error code (positive)";
	}
	/* strerror() is thread-unsafe in theory but returns a static table entry
	 * for every errno glibc knows, which is all we ever pass. */
	return strerror(-err);
}
