/* SPDX-License-Identifier: MIT */
/*
 * The sender's durable outbox on a real SQLite file: a stored request
 * survives close/open (a restart) byte for byte, an acknowledgement removes
 * it, a key is stored once, limits are refused, requests whose TTL ran out
 * are reported and deleted while the others stay, and an allocation
 * failure during a reload fails cleanly (ASan checks for leaks). The
 * writer (obwriter.h) commits on a pool thread: every request it reported
 * on disk is there after a crash of the process, also when it was closed
 * with writes still queued; a batch is one transaction.
 */
#include "recipe/agent/outbox.h"
#include "recipe/agent/obwriter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "ntm_test.h"

struct fixture {
	char dir[64];
	char path[96];
	struct rcp_outbox *ob;
	char why[256];
};

struct seen {
	unsigned n;
	char keys[4][RCP_IDEM_KEY_MAX + 1];
	char payload[4][64];
	int64_t expires[4];
	int stop_after; /* return -ECANCELED after this many; 0: never */
};

static void fx_init(struct fixture *fx)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_agent_outbox.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/agent.db", fx->dir);
	CU_ASSERT_EQUAL_FATAL(rcp_outbox_open(fx->path, &fx->ob, fx->why, sizeof(fx->why)), 0);
}

static void fx_reopen(struct fixture *fx)
{
	rcp_outbox_close(fx->ob);
	CU_ASSERT_EQUAL_FATAL(rcp_outbox_open(fx->path, &fx->ob, fx->why, sizeof(fx->why)), 0);
}

static void fx_fini(struct fixture *fx)
{
	char cmd[128];

	rcp_outbox_close(fx->ob);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void put(struct fixture *fx, const char *key, const char *payload, int64_t fired,
		int64_t expires, int want)
{
	struct rcp_outbox_entry e = { .fired_s = fired, .expires_s = expires };

	snprintf(e.key, sizeof(e.key), "%s", key);
	snprintf(e.target, sizeof(e.target), "b.example.net/power");
	e.payload = (char *)payload;
	e.len = strlen(payload);
	CU_ASSERT_EQUAL(rcp_outbox_put(fx->ob, &e), want);
}

static int on_entry(struct rcp_outbox_entry *e, void *arg)
{
	struct seen *s = arg;

	CU_ASSERT_FATAL(s->n < 4);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", e->key);
	snprintf(s->payload[s->n], sizeof(s->payload[0]), "%.*s", (int)e->len, e->payload);
	CU_ASSERT_STRING_EQUAL(e->target, "b.example.net/power");
	s->expires[s->n] = e->expires_s;
	s->n++;
	ntm_free(e->payload);
	return s->stop_after > 0 && s->n == (unsigned)s->stop_after ? -ECANCELED : 0;
}

static void test_persist_reload_ack(void)
{
	struct fixture fx;
	struct seen s = { 0 };
	uint64_t n;

	fx_init(&fx);
	put(&fx, "a.example.net/r/2/0", "{\"key\":\"a.example.net/r/2/0\",\"value\":true}", 200,
	    260, 0);
	put(&fx, "a.example.net/r/1/0", "{\"key\":\"a.example.net/r/1/0\",\"value\":false}", 100,
	    160, 0);
	put(&fx, "a.example.net/r/1/0", "{}", 100, 160, -EEXIST);
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(rcp_outbox_load(fx.ob, on_entry, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	/* Oldest firing first, and the first payload stored wins. */
	CU_ASSERT_STRING_EQUAL(s.keys[0], "a.example.net/r/1/0");
	CU_ASSERT_STRING_EQUAL(s.payload[0], "{\"key\":\"a.example.net/r/1/0\",\"value\":false}");
	CU_ASSERT_EQUAL(s.expires[0], 160);
	CU_ASSERT_STRING_EQUAL(s.keys[1], "a.example.net/r/2/0");
	/* The acknowledgement of r/1/0: gone, also after a restart. */
	CU_ASSERT_EQUAL(rcp_outbox_remove(fx.ob, "a.example.net/r/1/0"), 0);
	CU_ASSERT_EQUAL(rcp_outbox_remove(fx.ob, "a.example.net/r/1/0"), -ENOENT);
	fx_reopen(&fx);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(rcp_outbox_load(fx.ob, on_entry, &s), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_STRING_EQUAL(s.keys[0], "a.example.net/r/2/0");
	fx_fini(&fx);
}

static void test_ttl_expiry(void)
{
	struct fixture fx;
	struct seen s = { 0 };
	uint64_t n;

	fx_init(&fx);
	put(&fx, "k1", "p1", 100, 150, 0);
	put(&fx, "k2", "p2", 110, 200, 0);
	put(&fx, "k3", "p3", 120, 201, 0);
	CU_ASSERT_EQUAL(rcp_outbox_expire(fx.ob, 149, on_entry, &s, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(rcp_outbox_expire(fx.ob, 200, on_entry, &s, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.keys[0], "k1");
	CU_ASSERT_STRING_EQUAL(s.keys[1], "k2");
	CU_ASSERT_STRING_EQUAL(s.payload[1], "p2");
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(rcp_outbox_load(fx.ob, on_entry, &s), 0);
	CU_ASSERT_STRING_EQUAL(s.keys[0], "k3");
	fx_fini(&fx);
}

static void test_limits_and_stop(void)
{
	struct fixture fx;
	struct seen s = { .stop_after = 1 };
	struct rcp_outbox_entry e = { .fired_s = 1, .expires_s = 2 };
	char big[RCP_OUTBOX_PAYLOAD_MAX + 2];
	uint64_t n;

	fx_init(&fx);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(&fx, "", "p", 1, 2, -EMSGSIZE);
	put(&fx, "k", big, 1, 2, -EMSGSIZE);
	e.payload = "";
	e.len = 0;
	CU_ASSERT_EQUAL(rcp_outbox_put(fx.ob, &e), -EMSGSIZE); /* no key */
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	put(&fx, "k1", "p1", 1, 9, 0);
	put(&fx, "k2", "p2", 2, 9, 0);
	/* A callback's error stops the load and is returned; the rows stay. */
	CU_ASSERT_EQUAL(rcp_outbox_load(fx.ob, on_entry, &s), -ECANCELED);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	fx_fini(&fx);
}

static void test_alloc_failure(void)
{
	struct fixture fx;
	struct seen s = { 0 };
	struct rcp_outbox *ob;
	uint64_t n;

	fx_init(&fx);
	put(&fx, "k1", "p1", 1, 9, 0);
	put(&fx, "k2", "p2", 2, 9, 0);
	/* The first payload copy succeeds, the second fails. */
	ntm_alloc_fail_after(1);
	CU_ASSERT_EQUAL(rcp_outbox_load(fx.ob, on_entry, &s), -ENOMEM);
	ntm_alloc_fail_reset();
	CU_ASSERT_EQUAL(s.n, 1);
	ntm_alloc_fail_after(0);
	CU_ASSERT_EQUAL(rcp_outbox_open(fx.path, &ob, fx.why, sizeof(fx.why)), -ENOMEM);
	ntm_alloc_fail_reset();
	CU_ASSERT_PTR_NULL(ob);
	/* Nothing was lost: both are still there for the next start. */
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	fx_fini(&fx);
}

static void test_bad_path(void)
{
	struct rcp_outbox *ob;
	char why[256] = "";

	CU_ASSERT_EQUAL(rcp_outbox_open("/nonexistent/dir/agent.db", &ob, why, sizeof(why)), -EIO);
	CU_ASSERT_PTR_NULL(ob);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "/nonexistent/dir/agent.db"));
}

static void test_batch(void)
{
	struct fixture fx;
	uint64_t n;

	fx_init(&fx);
	CU_ASSERT_EQUAL(rcp_outbox_batch_begin(fx.ob), 0);
	put(&fx, "k/1/0", "{}", 100, 160, 0);
	put(&fx, "k/1/1", "{}", 100, 160, 0);
	put(&fx, "k/1/0", "{}", 100, 160, -EEXIST);
	CU_ASSERT_EQUAL(rcp_outbox_batch_commit(fx.ob), 0);
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	/* A commit without a transaction fails, and the connection still works. */
	CU_ASSERT_EQUAL(rcp_outbox_batch_commit(fx.ob), -EIO);
	put(&fx, "k/2/0", "{}", 100, 160, 0);
	fx_fini(&fx);
}

struct wstate {
	unsigned done, closed;
	char keys[8][RCP_IDEM_KEY_MAX + 1];
	int rc[8];
};

static void on_written(const char *key, int rc, void *arg)
{
	struct wstate *ws = arg;

	CU_ASSERT_FATAL(ws->done < 8);
	snprintf(ws->keys[ws->done], sizeof(ws->keys[0]), "%s", key);
	ws->rc[ws->done++] = rc;
}

static void on_wclosed(void *arg)
{
	((struct wstate *)arg)->closed++;
}

static int wput(struct rcp_obwriter *w, const char *key)
{
	struct rcp_outbox_entry e = { .fired_s = 100, .expires_s = 4000000000LL };
	char payload[64];

	snprintf(e.key, sizeof(e.key), "%s", key);
	snprintf(e.target, sizeof(e.target), "b.example.net/power");
	snprintf(payload, sizeof(payload), "{\"key\":\"%s\"}", key);
	e.payload = payload; /* copied: this buffer goes at return */
	e.len = strlen(payload);
	return rcp_obwriter_put(w, &e);
}

/*
 * In a child: three requests, the loop run until the writer reported the
 * first two on disk, then _exit() with the third one maybe still written:
 * the child says through its status how many were reported.
 */
static int child_writes(const char *path)
{
	struct wstate ws = { 0 };
	struct rcp_obwriter *w;
	char why[256];
	uv_loop_t loop;

	if (uv_loop_init(&loop) < 0 ||
	    rcp_obwriter_open(&loop, path, on_written, &ws, &w, why, sizeof(why)) < 0 ||
	    wput(w, "c/1/0") < 0 || wput(w, "c/2/0") < 0) {
		return 100;
	}
	while (ws.done < 2) {
		uv_run(&loop, UV_RUN_ONCE);
	}
	if (ws.rc[0] != 0 || ws.rc[1] != 0 || wput(w, "c/3/0") < 0) {
		return 101;
	}
	return (int)ws.done;
}

static void test_writer_crash(void)
{
	struct fixture fx;
	struct seen s = { 0 };
	int status = -1;
	pid_t pid;

	fx_init(&fx);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		_exit(child_writes(fx.path)); /* no close: as a crash leaves it */
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 2);
	fx_reopen(&fx);
	CU_ASSERT_EQUAL(rcp_outbox_load(fx.ob, on_entry, &s), 0);
	/* The two reported on disk are there, byte for byte; the third may be. */
	CU_ASSERT_FATAL(s.n >= 2);
	CU_ASSERT_STRING_EQUAL(s.keys[0], "c/1/0");
	CU_ASSERT_STRING_EQUAL(s.payload[0], "{\"key\":\"c/1/0\"}");
	CU_ASSERT_STRING_EQUAL(s.keys[1], "c/2/0");
	fx_fini(&fx);
}

static void test_writer_close_flushes(void)
{
	struct fixture fx;
	struct wstate ws = { 0 };
	struct rcp_obwriter *w;
	uv_loop_t loop;
	uint64_t n;
	char key[32];

	fx_init(&fx);
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	CU_ASSERT_EQUAL_FATAL(
		rcp_obwriter_open(&loop, fx.path, on_written, &ws, &w, fx.why, sizeof(fx.why)), 0);
	for (unsigned i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "w/%u/0", i);
		CU_ASSERT_EQUAL(wput(w, key), 0);
	}
	CU_ASSERT_EQUAL(ws.done, 0); /* never from inside a put */
	CU_ASSERT_EQUAL(rcp_obwriter_pending(w), 5);
	rcp_obwriter_close(w, on_wclosed, &ws);
	CU_ASSERT_EQUAL(ws.closed, 0); /* a write runs: closed when all are done */
	CU_ASSERT_EQUAL(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(ws.closed, 1);
	CU_ASSERT_EQUAL_FATAL(ws.done, 5);
	for (unsigned i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "w/%u/0", i);
		CU_ASSERT_STRING_EQUAL(ws.keys[i], key); /* in order */
		CU_ASSERT_EQUAL(ws.rc[i], 0);
	}
	CU_ASSERT_EQUAL(rcp_outbox_count(fx.ob, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	/* Closing an idle writer calls back at once; NULL too. */
	CU_ASSERT_EQUAL_FATAL(
		rcp_obwriter_open(&loop, fx.path, on_written, &ws, &w, fx.why, sizeof(fx.why)), 0);
	CU_ASSERT_EQUAL(wput(w, "w/0/0"), 0);
	CU_ASSERT_EQUAL(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(ws.rc[5], 0); /* already stored: not an error, not stored twice */
	rcp_obwriter_close(w, on_wclosed, &ws);
	CU_ASSERT_EQUAL(ws.closed, 2);
	rcp_obwriter_close(NULL, on_wclosed, &ws);
	CU_ASSERT_EQUAL(ws.closed, 3);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
	fx_fini(&fx);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_persist_reload_ack), NTM_TEST(test_ttl_expiry),
		NTM_TEST(test_limits_and_stop),	   NTM_TEST(test_alloc_failure),
		NTM_TEST(test_bad_path),	   NTM_TEST(test_batch),
		NTM_TEST(test_writer_crash),	   NTM_TEST(test_writer_close_flushes),
	};

	return ntm_test_run("agent_outbox", cases, sizeof(cases) / sizeof(cases[0]));
}
