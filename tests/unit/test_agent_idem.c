/* SPDX-License-Identifier: MIT */
/*
 * The agent's idempotency store on a real SQLite file: a new key is
 * recorded, a known key returns its record without writing, results and
 * the sequence number survive close/open (a restart), a PENDING record
 * stays PENDING, bad keys and a bad path are refused.
 */
#include "recipe/agent/idem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ntm_test.h"

struct fixture {
	char dir[64];
	char path[96];
	struct rcp_idem *s;
	char why[RCP_IDEM_WHY_MAX];
};

static void fx_init(struct fixture *fx)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_agent_idem.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/agent.db", fx->dir);
	CU_ASSERT_EQUAL_FATAL(rcp_idem_open(fx->path, &fx->s, fx->why, sizeof(fx->why)), 0);
}

static void fx_reopen(struct fixture *fx)
{
	rcp_idem_close(fx->s);
	CU_ASSERT_EQUAL_FATAL(rcp_idem_open(fx->path, &fx->s, fx->why, sizeof(fx->why)), 0);
}

static void fx_fini(struct fixture *fx)
{
	char f[128];

	rcp_idem_close(fx->s);
	unlink(fx->path);
	snprintf(f, sizeof(f), "%s-wal", fx->path);
	unlink(f);
	snprintf(f, sizeof(f), "%s-shm", fx->path);
	unlink(f);
	rmdir(fx->dir);
}

static void test_new_then_known(void)
{
	struct fixture fx;
	struct rcp_idem_record rec;
	uint64_t n;

	fx_init(&fx);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "a.example.net/r/1/0", "a.example.net",
				       "b.example.net/power", &rec),
			0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "a.example.net/r/1/0", "a.example.net",
				       "b.example.net/power", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_PENDING);
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "a.example.net/r/1/0", 68, "done"), 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "a.example.net/r/1/0", "x.example.net",
				       "b.example.net/x", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_DONE);
	CU_ASSERT_EQUAL(rec.code, 68);
	CU_ASSERT_STRING_EQUAL(rec.result, "done");
	/* A result is stored once: finishing again finds no PENDING record. */
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "a.example.net/r/1/0", 131, "refused"), -ENOENT);
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "never-begun", 68, "done"), -ENOENT);
	CU_ASSERT_EQUAL(rcp_idem_count(fx.s, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	fx_fini(&fx);
}

static void test_survives_restart(void)
{
	struct fixture fx;
	struct rcp_idem_record rec;
	uint64_t seq;

	fx_init(&fx);
	CU_ASSERT_EQUAL(rcp_idem_seq_load(fx.s, &seq), 0);
	CU_ASSERT_EQUAL(seq, 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "k1", "a.example.net", "b.example.net/p", &rec), 0);
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "k1", 131, "refused: policy line 1"), 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "k2", "a.example.net", "b.example.net/p", &rec), 0);
	CU_ASSERT_EQUAL(rcp_idem_seq_store(fx.s, 7), 0);
	CU_ASSERT_EQUAL(rcp_idem_seq_store(fx.s, 5), 0); /* never goes back */
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "k1", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_DONE);
	CU_ASSERT_EQUAL(rec.code, 131);
	CU_ASSERT_STRING_EQUAL(rec.result, "refused: policy line 1");
	/* Stopped between recording and finishing: still PENDING, never redone. */
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "k2", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_PENDING);
	CU_ASSERT_EQUAL(rcp_idem_seq_load(fx.s, &seq), 0);
	CU_ASSERT_EQUAL(seq, 7);
	fx_fini(&fx);
}

/* Make key's record `age` seconds old, as if it had been written then. */
static void backdate(struct fixture *fx, const char *key, int age)
{
	char sql[256];
	sqlite3 *db;

	CU_ASSERT_EQUAL_FATAL(sqlite3_open(fx->path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "UPDATE action SET created = CAST(strftime('%%s','now') AS INTEGER) - %d "
		 "WHERE key = '%s'",
		 age, key);
	CU_ASSERT_EQUAL(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

/*
 * Records older than the retention go; younger ones stay and still stop a
 * repeated key (exactly once within the retention); a pruned key is new.
 */
static void test_prune(void)
{
	struct fixture fx;
	struct rcp_idem_record rec;
	uint64_t n;

	fx_init(&fx);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "old", "a.example.net", "b.example.net/p", &rec), 0);
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "old", 68, "done"), 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "edge", "a.example.net", "b.example.net/p", &rec), 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "new", "a.example.net", "b.example.net/p", &rec), 0);
	backdate(&fx, "old", 8 * 86400);
	backdate(&fx, "edge", 86400 - 60);
	CU_ASSERT_EQUAL(rcp_idem_prune(fx.s, 86400, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(rcp_idem_count(fx.s, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "edge", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "new", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rcp_idem_prune(fx.s, 86400, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "old", "a.example.net", "b.example.net/p", &rec), 0);
	fx_fini(&fx);
}

/*
 * A process that dies between recording a key and storing its result (no
 * close, no clean stop): after the restart the key is PENDING, so a retry
 * is answered "outcome unknown" and nothing acts again; a key whose result
 * was stored (synchronous=NORMAL, in the WAL) is DONE with that result.
 */
static void test_crash_between_begin_and_finish(void)
{
	struct fixture fx;
	struct rcp_idem_record rec;
	int status = -1;
	pid_t pid;

	fx_init(&fx);
	rcp_idem_close(fx.s);
	fx.s = NULL;
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct rcp_idem *s;
		char why[RCP_IDEM_WHY_MAX];

		if (rcp_idem_open(fx.path, &s, why, sizeof(why)) < 0 ||
		    rcp_idem_begin(s, "begun", "a.example.net", "b.example.net/p", &rec) != 0 ||
		    rcp_idem_begin(s, "done", "a.example.net", "b.example.net/p", &rec) != 0 ||
		    rcp_idem_finish(s, "done", 68, "switched") != 0) {
			_exit(1);
		}
		_exit(0); /* no rcp_idem_close(): the WAL is left as a crash leaves it */
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL_FATAL(rcp_idem_open(fx.path, &fx.s, fx.why, sizeof(fx.why)), 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "begun", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_PENDING);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "done", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_DONE);
	CU_ASSERT_EQUAL(rec.code, 68);
	CU_ASSERT_STRING_EQUAL(rec.result, "switched");
	/* A finish after the restart still stores the result of the begun key once. */
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "begun", 160, "interrupted"), 0);
	CU_ASSERT_EQUAL(rcp_idem_finish(fx.s, "done", 160, "again"), -ENOENT);
	/* The next begin is durable again (synchronous back to FULL). */
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "next", "a.example.net", "b.example.net/p", &rec), 0);
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "next", "a.example.net", "b.example.net/p", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rec.state, RCP_IDEM_PENDING);
	fx_fini(&fx);
}

/* Reserved numbers are given back at a clean stop: seq_set may go down. */
static void test_seq_set(void)
{
	struct fixture fx;
	uint64_t seq;

	fx_init(&fx);
	CU_ASSERT_EQUAL(rcp_idem_seq_store(fx.s, 64), 0);
	CU_ASSERT_EQUAL(rcp_idem_seq_set(fx.s, 3), 0);
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_idem_seq_load(fx.s, &seq), 0);
	CU_ASSERT_EQUAL(seq, 3);
	CU_ASSERT_EQUAL(rcp_idem_seq_set(fx.s, UINT64_MAX), -ERANGE);
	fx_fini(&fx);
}

static void test_bad_input(void)
{
	struct fixture fx;
	struct rcp_idem_record rec;
	struct rcp_idem *s = (void *)1;
	char why[RCP_IDEM_WHY_MAX];
	char longkey[RCP_IDEM_KEY_MAX + 2];

	fx_init(&fx);
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, longkey, "a", "b", &rec), -EINVAL);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "", "a", "b", &rec), -EINVAL);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "k'); DROP TABLE action; --", "a", "b", &rec), 0);
	CU_ASSERT_EQUAL(rcp_idem_begin(fx.s, "k'); DROP TABLE action; --", "a", "b", &rec),
			-EEXIST);
	CU_ASSERT_EQUAL(rcp_idem_seq_store(fx.s, UINT64_MAX), -ERANGE);
	fx_fini(&fx);
	CU_ASSERT(rcp_idem_open("/nonexistent-dir/x/agent.db", &s, why, sizeof(why)) < 0);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT(why[0] != '\0');
	rcp_idem_close(NULL);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_new_then_known), NTM_TEST(test_survives_restart),
	NTM_TEST(test_prune),	       NTM_TEST(test_crash_between_begin_and_finish),
	NTM_TEST(test_seq_set),	       NTM_TEST(test_bad_input),
};

NTM_TEST_MAIN("agent_idem", cases)
