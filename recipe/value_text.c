/* SPDX-License-Identifier: MIT */
/*
 * Values as plain text, for device drivers and the CoAP resources of the
 * agent: a reading is "28.5", "true" or "absent", without the quoting of the
 * recipe language (a driver's output is one value, not a recipe clause).
 */
#include <stdio.h>
#include <string.h>

#include "recipe/recipe.h"
#include "recipe/recipe_internal.h"

int rcp_value_parse_number(const char *s, size_t len, struct rcp_value *out)
{
	int64_t num;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rcp_number_parse(s, len, &num);
	if (rc < 0) {
		return rc;
	}
	out->type = RCP_VAL_NUMBER;
	out->num = num;
	return 0;
}

int rcp_value_parse_reading(const char *s, size_t len, struct rcp_value *out)
{
	char buf[RCP_VALUE_TEXT_MAX];

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL) {
		return -EINVAL;
	}
	if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0)) {
		out->type = RCP_VAL_BOOL;
		out->b = len == 4;
		return 0;
	}
	if (rcp_value_parse_number(s, len, out) == 0) {
		return 0;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return rcp_value_set_text(out, buf);
}

int rcp_value_format(const struct rcp_value *v, char *buf, size_t cap)
{
	char num[RCP_NUMBUF];
	int n;

	if (cap == 0) {
		return -ENOSPC;
	}
	buf[0] = '\0';
	switch (v->type) {
	case RCP_VAL_NUMBER:
		rcp_number_format(v->num, num);
		n = snprintf(buf, cap, "%s", num);
		break;
	case RCP_VAL_BOOL:
		n = snprintf(buf, cap, "%s", v->b ? "true" : "false");
		break;
	case RCP_VAL_TEXT:
		n = snprintf(buf, cap, "%s", v->text);
		break;
	default:
		n = 0;
		break;
	}
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}
