/* SPDX-License-Identifier: MIT */
#ifndef NTM_TEST_H
#define NTM_TEST_H

/*
 * Shared CUnit scaffolding: each tests/unit/test_<module>.c lists its cases in
 * a `struct ntm_test_case` array and calls ntm_test_run(); the exit status is
 * the number of failures (automake: 0 pass, 77 skip, 99 hard error).
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ntm_test_case {
	const char *name;
	void (*fn)(void);
};

#define NTM_TEST(fn) { #fn, fn }

static inline int ntm_test_run(const char *suite_name, const struct ntm_test_case *cases, size_t n)
{
	CU_pSuite suite;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		return 99;
	}
	suite = CU_add_suite(suite_name, NULL, NULL);
	if (suite == NULL) {
		CU_cleanup_registry();
		return 99;
	}
	for (size_t i = 0; i < n; i++) {
		if (CU_add_test(suite, cases[i].name, cases[i].fn) == NULL) {
			CU_cleanup_registry();
			return 99;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures > 0 ? (failures > 98 ? 98 : (int)failures) : 0;
}

/* Known-answer vectors are written in hex: decode `hex` into `out` (cap bytes). */
static inline size_t ntm_test_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	CU_ASSERT_FATAL(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		CU_ASSERT_FATAL(sscanf(hex + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* True when the `len` bytes at `got` are exactly the bytes `hex` spells. */
static inline bool ntm_test_eq_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[512];

	return ntm_test_unhex(want, sizeof(want), hex) == len && memcmp(got, want, len) == 0;
}

#define NTM_TEST_MAIN(suite, cases)                                                    \
	int main(void)                                                                 \
	{                                                                              \
		return ntm_test_run(suite, cases, sizeof(cases) / sizeof((cases)[0])); \
	}

#endif
