/* SPDX-License-Identifier: MIT */
/*
 * What a command driver's program prints (recipe/agent/command.c): the
 * reading parser for each point type and the action result text. A reading
 * that parses must be of the point's type and format back to text that
 * parses to the same value; the result text must be printable, one line,
 * and fit. Also the untyped reading another device's GET answers with, as
 * the run-time policy check takes it (rcp_value_parse_reading, polfetch.c):
 * the same round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "recipe/agent/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reading(const struct rcp_point_conf *p, const char *s, size_t len)
{
	char why[128], text[RCP_VALUE_TEXT_MAX];
	struct rcp_value v, again;
	int n;

	if (rcp_command_parse_reading(p, s, len, &v, why, sizeof(why)) < 0) {
		if (v.type != RCP_VAL_NONE || why[0] == '\0') {
			abort();
		}
		return;
	}
	if (!rcp_point_accepts(p, &v)) {
		abort();
	}
	n = rcp_value_format(&v, text, sizeof(text));
	if (n < 0 || rcp_command_parse_reading(p, text, (size_t)n, &again, why, sizeof(why)) < 0 ||
	    !rcp_value_eq(&v, &again)) {
		abort();
	}
	rcp_value_fini(&again);
	rcp_value_fini(&v);
}

static void check_untyped(const char *s, size_t len)
{
	char text[RCP_VALUE_TEXT_MAX];
	struct rcp_value v, again;
	int n;

	if (rcp_value_parse_reading(s, len, &v) < 0) {
		if (v.type != RCP_VAL_NONE) {
			abort();
		}
		return;
	}
	n = rcp_value_format(&v, text, sizeof(text));
	if (n < 0 || rcp_value_parse_reading(text, (size_t)n, &again) < 0 ||
	    !rcp_value_eq(&v, &again)) {
		abort();
	}
	rcp_value_fini(&again);
	rcp_value_fini(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[] = { "open", "closed", "ajar" };
	const struct rcp_point_conf points[] = {
		{ .type = RCP_POINT_NUMBER },
		{ .type = RCP_POINT_BOOLEAN },
		{ .type = RCP_POINT_ENUM,
		  .values = { words[0], words[1], words[2] },
		  .n_values = 3 },
	};
	char result[64];
	size_t n;

	if (size > RCP_COMMAND_OUT_MAX) {
		return 0; /* the runner never hands over more */
	}
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		check_reading(&points[i], (const char *)data, size);
	}
	check_untyped((const char *)data, size);
	rcp_command_result_text((const char *)data, size, result, sizeof(result));
	n = strlen(result);
	if (n == 0 || n >= sizeof(result)) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if (result[i] < 0x20 || result[i] > 0x7e) {
			abort();
		}
	}
	return 0;
}
