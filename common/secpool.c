/* SPDX-License-Identifier: MIT */
/*
 * Size classes of GRAIN bytes; each class keeps a list of its slabs in which
 * every slab with a free object comes before every full one, so allocation
 * looks at the head only. Invariant: the payload bytes of a free object are
 * zero (the slab is zeroed when made, an object is wiped when freed), so
 * allocation hands out zeroed memory without touching it again.
 */
#include "secpool.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "crypto.h"

enum {
	HDR = 16, /* struct objhdr, rounded so that payloads stay 16-byte aligned */
	GRAIN = 64,
	NCLASS = (NTM_SECPOOL_OBJ_MAX + HDR) / GRAIN,
};

struct slab;

/* In front of every object. */
struct objhdr {
	struct slab *slab;
	struct objhdr *next_free; /* while free */
};

/* At the start of its own sodium_malloc region, followed by the objects. */
struct slab {
	struct slab *prev, *next;
	struct objhdr *free;
	size_t nfree, nobj;
	unsigned cls;
};

struct cls {
	struct slab *head, *tail;
	size_t nslabs;
};

struct ntm_secpool {
	struct cls cls[NCLASS];
	size_t objects, slabs;
};

_Static_assert(sizeof(struct objhdr) <= HDR, "object header fits");
_Static_assert(NTM_SECPOOL_SLAB_BYTES % 4096 == 0, "a slab is whole pages (page-aligned)");

static size_t first_offset(void)
{
	return (sizeof(struct slab) + HDR - 1) / HDR * HDR;
}

static size_t stride_of(unsigned cls)
{
	return ((size_t)cls + 1) * GRAIN;
}

int ntm_secpool_create(struct ntm_secpool **out)
{
	*out = NULL;
	if (sodium_init() < 0) {
		return -ENOMEM;
	}
	*out = ntm_calloc(1, sizeof(**out));
	return *out != NULL ? 0 : -ENOMEM;
}

static void unlink_slab(struct cls *c, struct slab *s)
{
	*(s->prev != NULL ? &s->prev->next : &c->head) = s->next;
	*(s->next != NULL ? &s->next->prev : &c->tail) = s->prev;
	s->prev = s->next = NULL;
}

static void push_head(struct cls *c, struct slab *s)
{
	s->prev = NULL;
	s->next = c->head;
	*(c->head != NULL ? &c->head->prev : &c->tail) = s;
	c->head = s;
}

static void push_tail(struct cls *c, struct slab *s)
{
	s->next = NULL;
	s->prev = c->tail;
	*(c->tail != NULL ? &c->tail->next : &c->head) = s;
	c->tail = s;
}

void ntm_secpool_destroy(struct ntm_secpool *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < NCLASS; i++) {
		while (p->cls[i].head != NULL) {
			struct slab *s = p->cls[i].head;

			unlink_slab(&p->cls[i], s);
			sodium_free(s); /* wipes */
		}
	}
	ntm_free(p);
}

/* A zeroed slab of class `cls` with every object on its free list. */
static struct slab *slab_new(struct ntm_secpool *p, unsigned cls)
{
	size_t stride = stride_of(cls), off = first_offset();
	uint8_t *base = sodium_malloc(NTM_SECPOOL_SLAB_BYTES);
	struct slab *s = (struct slab *)base;

	if (base == NULL) {
		return NULL;
	}
	memset(base, 0, NTM_SECPOOL_SLAB_BYTES);
	s->cls = cls;
	for (; off + stride <= NTM_SECPOOL_SLAB_BYTES; off += stride) {
		struct objhdr *o = (struct objhdr *)(base + off);

		o->slab = s;
		o->next_free = s->free;
		s->free = o;
		s->nobj++;
	}
	s->nfree = s->nobj;
	p->cls[cls].nslabs++;
	p->slabs++;
	return s;
}

void *ntm_secpool_alloc(struct ntm_secpool *p, size_t n)
{
	struct objhdr *o;
	struct slab *s;
	struct cls *c;
	unsigned cls;

	if (p == NULL) {
		return ntm_crypto_secure_alloc(n);
	}
	if (n > NTM_SECPOOL_OBJ_MAX || ntm_alloc_should_fail()) {
		return NULL;
	}
	cls = (unsigned)((n + HDR + GRAIN - 1) / GRAIN - 1);
	c = &p->cls[cls];
	s = c->head;
	if (s == NULL || s->nfree == 0) {
		s = slab_new(p, cls);
		if (s == NULL) {
			return NULL;
		}
		push_head(c, s);
	}
	o = s->free;
	s->free = o->next_free;
	o->next_free = NULL;
	if (--s->nfree == 0) {
		unlink_slab(c, s);
		push_tail(c, s); /* full slabs go behind every slab with room */
	}
	p->objects++;
	return (uint8_t *)o + HDR;
}

void ntm_secpool_free(struct ntm_secpool *p, void *obj)
{
	struct objhdr *o;
	struct slab *s;
	struct cls *c;

	if (p == NULL) {
		ntm_crypto_secure_free(obj);
		return;
	}
	if (obj == NULL) {
		return;
	}
	o = (struct objhdr *)((uint8_t *)obj - HDR);
	s = o->slab;
	c = &p->cls[s->cls];
	sodium_memzero(obj, stride_of(s->cls) - HDR);
	o->next_free = s->free;
	s->free = o;
	s->nfree++;
	p->objects--;
	if (s->nfree == s->nobj && c->nslabs > 1) {
		unlink_slab(c, s);
		c->nslabs--;
		p->slabs--;
		sodium_free(s);
	} else if (s->nfree == 1) {
		unlink_slab(c, s); /* it was full: now it has room, so to the front */
		push_head(c, s);
	}
}

void ntm_secpool_get_stats(const struct ntm_secpool *p, struct ntm_secpool_stats *out)
{
	out->objects = p->objects;
	out->slabs = p->slabs;
	out->bytes = p->slabs * NTM_SECPOOL_SLAB_BYTES;
}
