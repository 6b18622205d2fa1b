/* SPDX-License-Identifier: MIT */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

/*
 * The injection counter is process-wide test state; daemons never set it, so
 * it stays at -1 (off) and costs one compare per allocation.
 */
static long fail_after = -1;

bool ntm_alloc_should_fail(void)
{
	if (fail_after < 0) {
		return false;
	}
	if (fail_after == 0) {
		return true;
	}
	fail_after--;
	return false;
}

void *ntm_malloc(size_t n)
{
	if (ntm_alloc_should_fail()) {
		return NULL;
	}
	return malloc(n ? n : 1);
}

void *ntm_calloc(size_t nmemb, size_t size)
{
	if (ntm_alloc_should_fail()) {
		return NULL;
	}
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *ntm_realloc(void *p, size_t n)
{
	if (ntm_alloc_should_fail()) {
		return NULL;
	}
	return realloc(p, n ? n : 1);
}

char *ntm_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = ntm_malloc(len + 1);

	if (d == NULL) {
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *ntm_strdup(const char *s)
{
	return ntm_strndup(s, strlen(s));
}

void ntm_free(void *p)
{
	free(p);
}

void ntm_alloc_fail_after(long n)
{
	fail_after = n;
}

void ntm_alloc_fail_reset(void)
{
	fail_after = -1;
}

bool ntm_close_null(const void *obj, void (*done)(void *arg), void *arg)
{
	if (obj != NULL) {
		return false;
	}
	if (done != NULL) {
		done(arg);
	}
	return true;
}
