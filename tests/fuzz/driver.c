/* SPDX-License-Identifier: MIT */
/*
 * Standalone replacement for libFuzzer's main(), linked when the tree is
 * built without --enable-fuzzing. With no arguments it replays the target's
 * seed corpus (found from the program's name, see corpus_path) and then a
 * bounded, deterministic set of mutations of every seed (truncations, bit
 * flips, byte stores), so that `make check` under ASan/UBSan exercises the
 * parser beyond the seeds without a coverage-guided engine. Arguments name
 * extra files or directories to replay (e.g. a crash reproducer).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_MAX_INPUT = 1 << 20, FUZZ_MUTATIONS_PER_SEED = 256 };

static unsigned long inputs_run;

static uint32_t next_rand(uint32_t *state)
{
	/* xorshift32: reproducible across runs and machines. */
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static void run_one(const uint8_t *data, size_t len)
{
	/* A private heap copy so that ASan catches reads past the end. */
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL) {
		fprintf(stderr, "fuzz driver: out of memory\n");
		exit(99);
	}
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	inputs_run++;
}

static void mutate_and_run(const uint8_t *seed, size_t len, uint32_t salt)
{
	uint8_t *m = malloc(len + 8);
	uint32_t st = 0x9e3779b9u ^ salt ^ (uint32_t)len;

	if (m == NULL) {
		exit(99);
	}
	for (size_t cut = 0; cut < len; cut++) {
		run_one(seed, cut);
	}
	for (int i = 0; i < FUZZ_MUTATIONS_PER_SEED && len > 0; i++) {
		size_t n = len;

		memcpy(m, seed, len);
		for (int k = 0; k <= (int)(next_rand(&st) % 4); k++) {
			size_t pos = next_rand(&st) % n;

			if (next_rand(&st) & 1) {
				m[pos] ^= (uint8_t)(1u << (next_rand(&st) % 8));
			} else {
				static const uint8_t edge[] = { 0x00, 0xff, 0x7f, 0x80, '\n', '[', '=', ',' };

				m[pos] = edge[next_rand(&st) % sizeof(edge)];
			}
		}
		run_one(m, n);
	}
	free(m);
}

static int run_file(const char *path, int mutate)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len;

	if (f == NULL) {
		fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(FUZZ_MAX_INPUT);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	len = fread(buf, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	run_one(buf, len);
	if (mutate) {
		mutate_and_run(buf, len, (uint32_t)inputs_run);
	}
	free(buf);
	return 0;
}

static int run_path(const char *path, int mutate)
{
	struct stat st;
	struct dirent **names;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		return run_file(path, mutate);
	}
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char child[4096];

		if (names[i]->d_name[0] != '.') {
			snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
			if (run_file(child, mutate) < 0) {
				rc = -1;
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/*
 * tests/fuzz/fuzz_NAME replays $srcdir/tests/fuzz/corpus/NAME: one driver
 * serves every target, and automake exports srcdir to the tests it runs.
 */
static int corpus_path(const char *argv0, char *out, size_t cap)
{
	const char *base = strrchr(argv0, '/');
	const char *srcdir = getenv("srcdir");

	base = base ? base + 1 : argv0;
	if (strncmp(base, "fuzz_", 5) != 0 || base[5] == '\0') {
		return -1;
	}
	snprintf(out, cap, "%s/tests/fuzz/corpus/%s", srcdir ? srcdir : ".", base + 5);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			rc |= run_path(argv[i], 0);
		}
	} else {
		char path[4096];

		if (corpus_path(argv[0], path, sizeof(path)) < 0) {
			fprintf(stderr, "usage: %s [FILE|DIR...]\n", argv[0]);
			return 2;
		}
		rc = run_path(path, 1);
	}
	printf("fuzz replay: %lu inputs, %s\n", inputs_run, rc ? "with errors" : "no crash");
	/* An empty corpus is a defect, not a pass. */
	return (rc != 0 || inputs_run == 0) ? 1 : 0;
}
