/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/idemcost: what the durable idempotency record costs the
 * action device (ntm-agent's idem.c, WAL: the begin with synchronous=FULL,
 * the finish with NORMAL, so one disk sync per key): N fresh keys, each
 * recorded PENDING (committed before the action runs) and then DONE with
 * its result, timed with CLOCK_MONOTONIC. The same on an
 * in-memory database (no fsync) is the baseline measured in the same run.
 *
 *   idemcost DIR [N]      (DIR: a directory on the agents' file system)
 *
 * Prints one line per database: min/avg/median/max of begin and finish, ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recipe/agent/idem.h"

enum { N_DEFAULT = 200, N_MAX = 10000 };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *what, double *v, int n)
{
	double s = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp);
	for (int i = 0; i < n; i++) {
		s += v[i];
	}
	printf(" %s %.3f/%.3f/%.3f/%.3f", what, v[0], s / n, v[n / 2], v[n - 1]);
}

static int run(const char *label, const char *path, int n)
{
	static double begin[N_MAX], finish[N_MAX];
	struct rcp_idem_record rec;
	struct rcp_idem *s;
	char why[256], key[64];

	if (rcp_idem_open(path, &s, why, sizeof(why)) < 0) {
		fprintf(stderr, "idemcost: %s\n", why);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		double t0, t1, t2;

		snprintf(key, sizeof(key), "a.example.net/bench/%d/0", i + 1);
		t0 = now_ms();
		if (rcp_idem_begin(s, key, "a.example.net", "b.example.net/power", &rec) < 0) {
			fprintf(stderr, "idemcost: begin %s failed\n", key);
			rcp_idem_close(s);
			return 1;
		}
		t1 = now_ms();
		if (rcp_idem_finish(s, key, 68, "done") < 0) {
			fprintf(stderr, "idemcost: finish %s failed\n", key);
			rcp_idem_close(s);
			return 1;
		}
		t2 = now_ms();
		begin[i] = t1 - t0;
		finish[i] = t2 - t1;
	}
	rcp_idem_close(s);
	printf("%-28s n=%d min/avg/med/max ms:", label, n);
	stats("begin", begin, n);
	stats("finish", finish, n);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	int n = argc > 2 ? atoi(argv[2]) : N_DEFAULT, rc;

	if (argc < 2 || n < 1 || n > N_MAX) {
		fprintf(stderr, "usage: idemcost DIR [N (1..%d)]\n", N_MAX);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/idemcost.db", argv[1]);
	rc = run("durable (begin FULL)", path, n);
	unlink(path);
	snprintf(path, sizeof(path), "%s/idemcost.db-wal", argv[1]);
	unlink(path);
	snprintf(path, sizeof(path), "%s/idemcost.db-shm", argv[1]);
	unlink(path);
	return rc != 0 ? rc : run("baseline (in memory)", ":memory:", n);
}
