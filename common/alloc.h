/* SPDX-License-Identifier: MIT */
#ifndef NTM_ALLOC_H
#define NTM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Every heap allocation in ntm goes through these, so that tests can make the
 * n-th allocation fail and prove each error path unwinds cleanly.
 * The result is freed with ntm_free(); NULL means out of memory.
 */
void *ntm_malloc(size_t n);
void *ntm_calloc(size_t nmemb, size_t size);
void *ntm_realloc(void *p, size_t n);
char *ntm_strdup(const char *s);
char *ntm_strndup(const char *s, size_t n);
void ntm_free(void *p);

/*
 * Test hook: after `n` more successful allocations, every further one fails
 * until ntm_alloc_fail_reset(). n < 0 disables injection (the default).
 * Only unit tests call this.
 */
void ntm_alloc_fail_after(long n);
void ntm_alloc_fail_reset(void);

/*
 * For allocators outside this module (sodium_malloc for secrets): counts as
 * one allocation and returns true when the injected failure fires.
 */
bool ntm_alloc_should_fail(void);

/*
 * The NULL case of the modules' asynchronous close(obj, done, arg), which
 * accept NULL as free() does (dc/admin, ctrl, dnsserver, relays; rs/control,
 * server; endnode/dnsstub, node, tun, udp): with `obj` NULL, calls done(arg)
 * now, when set, and returns true: there is nothing to close. Returns false
 * otherwise, with nothing done.
 */
bool ntm_close_null(const void *obj, void (*done)(void *arg), void *arg);

#endif
