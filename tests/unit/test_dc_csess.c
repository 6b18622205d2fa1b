/* SPDX-License-Identifier: MIT */
/*
 * The DC's control session table (dc/csess.c): sized by MaxSessions, found
 * by key and by index, slot in the low bits of an index, least recently
 * active session evicted when full (probation first), secrets in the
 * server's secure pool and all of them given back.
 */
#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/secpool.h"
#include "dc/ctrl_internal.h"
#include "ntm_test.h"

struct fixture {
	struct dc_ctrl c;
};

static void setup(struct fixture *f, size_t max)
{
	uint8_t priv[32];

	memset(f, 0, sizeof(*f));
	randombytes_buf(priv, sizeof(priv));
	CU_ASSERT_EQUAL_FATAL(ntm_noise_identity_create_profile(priv, NTM_NOISE_CONTROL, &f->c.id),
			      0);
	CU_ASSERT_EQUAL_FATAL(ntm_secpool_create(&f->c.secpool), 0);
	ntm_noise_identity_set_pool(f->c.id, f->c.secpool);
	CU_ASSERT_EQUAL_FATAL(dc_ctable_init(&f->c.table, max), 0);
}

static void teardown(struct fixture *f)
{
	struct ntm_secpool_stats st;

	dc_ctable_fini(&f->c.table);
	ntm_secpool_get_stats(f->c.secpool, &st);
	CU_ASSERT_EQUAL(st.objects, 0); /* every session's secrets given back */
	ntm_noise_identity_destroy(f->c.id);
	ntm_secpool_destroy(f->c.secpool);
}

static void random_pub(uint8_t pub[NTM_KEY_LEN])
{
	uint8_t priv[32];

	randombytes_buf(priv, sizeof(priv));
	CU_ASSERT_EQUAL_FATAL(crypto_scalarmult_base(pub, priv), 0);
}

/* A session as dc/ctrl.c makes one for an enrolled key (or a probation one). */
static struct dc_csess *add(struct fixture *f, const uint8_t pub[NTM_KEY_LEN], bool enrolled,
			    uint64_t last_rx)
{
	struct dc_csess *s = NULL;

	CU_ASSERT_EQUAL_FATAL(dc_ctable_add(&f->c, pub, &s), 0);
	if (enrolled) {
		s->enrolled = true;
		f->c.table.n_probation--;
	}
	s->last_rx_ms = last_rx;
	return s;
}

static void test_init_limits_and_slot_bits(void)
{
	struct dc_ctable t;

	CU_ASSERT_EQUAL(dc_ctable_init(&t, 0), -EINVAL);
	CU_ASSERT_EQUAL(dc_ctable_init(&t, DC_CONFIG_MAX_SESSIONS_MAX + 1), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(dc_ctable_init(&t, 100000), 0);
	CU_ASSERT_EQUAL(t.slot_bits, 17);
	CU_ASSERT_EQUAL(t.n_free, 100000);
	dc_ctable_fini(&t);
	CU_ASSERT_EQUAL_FATAL(dc_ctable_init(&t, DC_CONFIG_MAX_SESSIONS_MAX), 0);
	CU_ASSERT_EQUAL(t.slot_bits, 20);
	dc_ctable_fini(&t);
	ntm_alloc_fail_after(1);
	CU_ASSERT_EQUAL(dc_ctable_init(&t, 64), -ENOMEM);
	ntm_alloc_fail_reset();
	CU_ASSERT_PTR_NULL(t.slots);
}

static void test_find_by_key_and_index_bits(void)
{
	struct fixture f;
	uint8_t pub[40][NTM_KEY_LEN];
	struct dc_csess *s[40];
	bool slot_seen[64] = { false };

	setup(&f, 40);
	for (int i = 0; i < 40; i++) {
		random_pub(pub[i]);
		s[i] = add(&f, pub[i], true, 1000);
		CU_ASSERT_TRUE(s[i]->slot < 40);
		CU_ASSERT_FALSE(slot_seen[s[i]->slot]);
		slot_seen[s[i]->slot] = true;
	}
	CU_ASSERT_EQUAL(f.c.table.n, 40);
	CU_ASSERT_EQUAL(f.c.table.n_free, 0);
	for (int i = 0; i < 40; i++) {
		uint32_t idx = dc_ctable_new_index(&f.c.table, s[i]);

		CU_ASSERT_PTR_EQUAL(dc_ctable_by_key(&f.c.table, pub[i]), s[i]);
		CU_ASSERT_EQUAL(idx & 63, s[i]->slot); /* 40 slots: 6 bits */
		CU_ASSERT_NOT_EQUAL(idx >> 6, 0);
		/* No keypair carries that index yet: a data message for it finds nothing. */
		CU_ASSERT_PTR_NULL(dc_ctable_by_index(&f.c.table, idx));
	}
	CU_ASSERT_PTR_NULL(dc_ctable_by_index(&f.c.table, 63)); /* slot past the table */
	dc_ctable_remove(&f.c.table, s[7]);
	CU_ASSERT_PTR_NULL(dc_ctable_by_key(&f.c.table, pub[7]));
	CU_ASSERT_EQUAL(f.c.table.n_free, 1);
	teardown(&f);
}

static void test_full_table_evicts_probation_then_lru(void)
{
	struct fixture f;
	uint8_t pub[18][NTM_KEY_LEN];
	struct dc_csess *s[18];

	setup(&f, 16);
	for (int i = 0; i < 16; i++) {
		random_pub(pub[i]);
		/* Session 5 is on probation (not enrolled) and the most recently active. */
		s[i] = add(&f, pub[i], i != 5, i == 5 ? 9999 : (uint64_t)(100 + (i * 37) % 16));
	}
	CU_ASSERT_EQUAL(f.c.table.n_probation, 1);
	random_pub(pub[16]);
	s[16] = add(&f, pub[16], true, 5000);
	CU_ASSERT_PTR_NULL(dc_ctable_by_key(&f.c.table, pub[5])); /* probation goes first */
	CU_ASSERT_EQUAL(f.c.table.n_probation, 0);
	CU_ASSERT_EQUAL(f.c.table.n, 16);
	/* Next: the least recently active enrolled one, i = 0 (last_rx 100). */
	random_pub(pub[17]);
	s[17] = add(&f, pub[17], true, 5001);
	CU_ASSERT_PTR_NULL(dc_ctable_by_key(&f.c.table, pub[0]));
	for (int i = 1; i < 18; i++) {
		if (i != 5) {
			CU_ASSERT_PTR_EQUAL(dc_ctable_by_key(&f.c.table, pub[i]), s[i]);
		}
	}
	teardown(&f);
}

static void test_add_failure_leaves_table_intact(void)
{
	struct fixture f;
	uint8_t pub[NTM_KEY_LEN];
	struct dc_csess *s = NULL;
	int rc = -ENOMEM;

	setup(&f, 16);
	random_pub(pub);
	for (long n = 0; n < 10 && rc == -ENOMEM; n++) {
		ntm_alloc_fail_after(n);
		rc = dc_ctable_add(&f.c, pub, &s);
		ntm_alloc_fail_reset();
		if (rc == -ENOMEM) {
			CU_ASSERT_PTR_NULL(s);
			CU_ASSERT_EQUAL(f.c.table.n, 0);
			CU_ASSERT_EQUAL(f.c.table.n_free, 16);
			CU_ASSERT_PTR_NULL(dc_ctable_by_key(&f.c.table, pub));
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_EQUAL(dc_ctable_by_key(&f.c.table, pub), s);
	teardown(&f);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_init_limits_and_slot_bits),
		NTM_TEST(test_find_by_key_and_index_bits),
		NTM_TEST(test_full_table_evicts_probation_then_lru),
		NTM_TEST(test_add_failure_leaves_table_intact),
	};

	if (sodium_init() < 0) {
		return 99;
	}
	return ntm_test_run("dc_csess", cases, sizeof(cases) / sizeof(cases[0]));
}
