/* SPDX-License-Identifier: MIT */
/*
 * The secure object pool (common/secpool.h): zeroed, aligned, disjoint
 * objects; wiped on free; slabs given back; failure injection through the
 * ntm_alloc hooks; and the control sessions of a pooled identity.
 */
#include "common/secpool.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/ctrl.h"
#include "common/noise.h"
#include "ntm_test.h"

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

static void test_alloc_zeroed_aligned_and_counted(void)
{
	struct ntm_secpool *p;
	struct ntm_secpool_stats st;
	uint8_t *a, *b;

	CU_ASSERT_EQUAL_FATAL(ntm_secpool_create(&p), 0);
	a = ntm_secpool_alloc(p, 100);
	b = ntm_secpool_alloc(p, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL((uintptr_t)a % 16, 0);
	CU_ASSERT_EQUAL((uintptr_t)b % 16, 0);
	CU_ASSERT_TRUE(is_zero(a, 100));
	CU_ASSERT_TRUE(a + 100 <= b || b + 100 <= a);
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, 2);
	CU_ASSERT_EQUAL(st.slabs, 1);
	CU_ASSERT_EQUAL(st.bytes, NTM_SECPOOL_SLAB_BYTES);
	ntm_secpool_free(p, a);
	ntm_secpool_free(p, b);
	ntm_secpool_free(p, NULL);
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, 0);
	CU_ASSERT_EQUAL(st.slabs, 1); /* the last slab of a class is kept */
	CU_ASSERT_PTR_NULL(ntm_secpool_alloc(p, NTM_SECPOOL_OBJ_MAX + 1));
	CU_ASSERT_PTR_NOT_NULL(a = ntm_secpool_alloc(p, NTM_SECPOOL_OBJ_MAX));
	ntm_secpool_free(p, a);
	ntm_secpool_destroy(p);
	ntm_secpool_destroy(NULL);
}

static void test_wiped_on_free_and_reused(void)
{
	struct ntm_secpool *p;
	uint8_t *a, *again;

	CU_ASSERT_EQUAL_FATAL(ntm_secpool_create(&p), 0);
	a = ntm_secpool_alloc(p, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	memset(a, 0xa5, 200);
	ntm_secpool_free(p, a);
	/* The slab is still held (the only one): the freed bytes must be zero now. */
	CU_ASSERT_TRUE(is_zero(a, 200));
	again = ntm_secpool_alloc(p, 180); /* the same 256-byte class: the same object */
	CU_ASSERT_PTR_EQUAL(again, a);
	CU_ASSERT_TRUE(is_zero(again, 180));
	ntm_secpool_free(p, again);
	ntm_secpool_destroy(p);
}

/* Many objects over many slabs, of two classes, each filled with its own byte. */
static void test_many_objects_disjoint_and_slabs_returned(void)
{
	enum { N = 600, SZ = 1000 };
	static uint8_t *obj[N];
	struct ntm_secpool *p;
	struct ntm_secpool_stats st;
	bool ok = true;

	CU_ASSERT_EQUAL_FATAL(ntm_secpool_create(&p), 0);
	for (size_t i = 0; i < N; i++) {
		obj[i] = ntm_secpool_alloc(p, i % 2 ? SZ : SZ / 4);
		CU_ASSERT_PTR_NOT_NULL_FATAL(obj[i]);
		memset(obj[i], (int)(i % 251) + 1, i % 2 ? SZ : SZ / 4);
	}
	for (size_t i = 0; i < N; i++) {
		for (size_t j = 0; j < (i % 2 ? SZ : SZ / 4U); j++) {
			ok = ok && obj[i][j] == (uint8_t)((i % 251) + 1);
		}
	}
	CU_ASSERT_TRUE(ok);
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, N);
	CU_ASSERT_TRUE(st.slabs >= 6); /* 300 x ~1 KiB does not fit one 64 KiB slab */
	CU_ASSERT_TRUE(st.slabs <= 8);
	/* Free the odd ones backwards, the even ones forwards: slabs go back. */
	for (size_t i = N; i-- > 0;) {
		if (i % 2) {
			ntm_secpool_free(p, obj[i]);
		}
	}
	for (size_t i = 0; i < N; i += 2) {
		ntm_secpool_free(p, obj[i]);
	}
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, 0);
	CU_ASSERT_EQUAL(st.slabs, 2); /* one kept per class used */
	/* Full slabs again, then a free in the middle is found by the next alloc. */
	for (size_t i = 0; i < N; i++) {
		obj[i] = ntm_secpool_alloc(p, SZ);
		CU_ASSERT_PTR_NOT_NULL_FATAL(obj[i]);
	}
	ntm_secpool_get_stats(p, &st);
	const size_t slabs = st.slabs;
	uint8_t *mid = obj[N / 3];
	ntm_secpool_free(p, mid);
	obj[N / 3] = ntm_secpool_alloc(p, SZ);
	CU_ASSERT_PTR_EQUAL(obj[N / 3], mid);
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.slabs, slabs);
	for (size_t i = 0; i < N; i++) {
		ntm_secpool_free(p, obj[i]);
	}
	ntm_secpool_destroy(p);
}

static void test_null_pool_is_sodium_malloc(void)
{
	uint8_t *a = ntm_secpool_alloc(NULL, 64);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_TRUE(is_zero(a, 64));
	ntm_secpool_free(NULL, a);
	ntm_secpool_free(NULL, NULL);
}

static void test_alloc_failure_injection(void)
{
	struct ntm_secpool *p;
	struct ntm_secpool_stats st;
	void *a;

	ntm_alloc_fail_after(0);
	CU_ASSERT_EQUAL(ntm_secpool_create(&p), -ENOMEM);
	CU_ASSERT_PTR_NULL(p);
	ntm_alloc_fail_reset();
	CU_ASSERT_EQUAL_FATAL(ntm_secpool_create(&p), 0);
	a = ntm_secpool_alloc(p, 32); /* a slab exists: the next failure is not a slab's */
	ntm_alloc_fail_after(0);
	CU_ASSERT_PTR_NULL(ntm_secpool_alloc(p, 32));
	ntm_alloc_fail_after(1);
	void *b = ntm_secpool_alloc(p, 32);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NULL(ntm_secpool_alloc(p, 32));
	ntm_alloc_fail_reset();
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, 2);
	ntm_secpool_free(p, a);
	ntm_secpool_free(p, b);
	ntm_secpool_destroy(p);
}

/* Control sessions of a pooled identity live in the pool; every failure unwinds. */
static void test_ctrl_sessions_in_pool(void)
{
	uint8_t priv[32], peer_priv[32], peer_pub[32];
	struct ntm_noise_identity *id;
	struct ntm_ctrl_session *s = NULL;
	struct ntm_secpool *p;
	struct ntm_secpool_stats st;
	int rc = -ENOMEM;

	randombytes_buf(priv, sizeof(priv));
	randombytes_buf(peer_priv, sizeof(peer_priv));
	CU_ASSERT_EQUAL_FATAL(crypto_scalarmult_base(peer_pub, peer_priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_noise_identity_create_profile(priv, NTM_NOISE_CONTROL, &id), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_secpool_create(&p), 0);
	ntm_noise_identity_set_pool(id, p);
	CU_ASSERT_PTR_EQUAL(ntm_noise_identity_pool(id), p);
	for (long n = 0; n < 10 && rc == -ENOMEM; n++) {
		ntm_alloc_fail_after(n);
		rc = ntm_ctrl_session_create(id, peer_pub, NULL, &s);
		ntm_alloc_fail_reset();
		ntm_secpool_get_stats(p, &st);
		if (rc == -ENOMEM) {
			CU_ASSERT_PTR_NULL(s);
			CU_ASSERT_EQUAL(st.objects, 0); /* nothing left behind */
		}
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, 2); /* the session and its handshake */
	ntm_ctrl_session_destroy(s);
	ntm_secpool_get_stats(p, &st);
	CU_ASSERT_EQUAL(st.objects, 0);
	ntm_noise_identity_destroy(id);
	ntm_secpool_destroy(p);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_alloc_zeroed_aligned_and_counted),
		NTM_TEST(test_wiped_on_free_and_reused),
		NTM_TEST(test_many_objects_disjoint_and_slabs_returned),
		NTM_TEST(test_null_pool_is_sodium_malloc),
		NTM_TEST(test_alloc_failure_injection),
		NTM_TEST(test_ctrl_sessions_in_pool),
	};

	if (sodium_init() < 0) {
		return 99;
	}
	return ntm_test_run("secpool", cases, sizeof(cases) / sizeof(cases[0]));
}
