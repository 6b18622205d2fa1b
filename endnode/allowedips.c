/* SPDX-License-Identifier: MIT */
#include "allowedips.h"

#include <stdbool.h>
#include <string.h>

#include "common/alloc.h"

/*
 * One uncompressed binary trie per family: the node at depth d on the path
 * of an address's first d bits stands for that /d prefix, and `peer` is set
 * when the prefix is in the table. The root (depth 0) always exists. A node
 * with no peer and no children is pruned, so the trie never holds dead
 * branches. Depth is at most 128, which bounds every recursion below.
 */
struct trie_node {
	struct trie_node *child[2];
	struct en_peer *peer;
};

struct en_allowedips {
	struct trie_node root4;
	struct trie_node root6;
};

static unsigned bit_at(const uint8_t *addr, unsigned i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

static bool is_empty(const struct trie_node *n)
{
	return n->peer == NULL && n->child[0] == NULL && n->child[1] == NULL;
}

/* Frees the empty subtrees below n (n itself stays). */
static void prune(struct trie_node *n)
{
	for (int b = 0; b < 2; b++) {
		struct trie_node *c = n->child[b];

		if (c == NULL) {
			continue;
		}
		prune(c);
		if (is_empty(c)) {
			ntm_free(c);
			n->child[b] = NULL;
		}
	}
}

static void free_subtree(struct trie_node *n)
{
	for (int b = 0; b < 2; b++) {
		if (n->child[b] != NULL) {
			free_subtree(n->child[b]);
			ntm_free(n->child[b]);
			n->child[b] = NULL;
		}
	}
}

int en_allowedips_create(struct en_allowedips **out)
{
	*out = ntm_calloc(1, sizeof(**out));
	return *out == NULL ? -ENOMEM : 0;
}

void en_allowedips_destroy(struct en_allowedips *t)
{
	if (t == NULL) {
		return;
	}
	free_subtree(&t->root4);
	free_subtree(&t->root6);
	ntm_free(t);
}

/* The root for a family and its address width in bits, or NULL. */
static struct trie_node *root_of(const struct en_allowedips *t, int family, unsigned *bits)
{
	if (family == AF_INET) {
		*bits = 32;
		return (struct trie_node *)&t->root4;
	}
	if (family == AF_INET6) {
		*bits = 128;
		return (struct trie_node *)&t->root6;
	}
	*bits = 0;
	return NULL;
}

static int check_prefix(const struct en_allowedips *t, const struct ntm_prefix *p,
			struct trie_node **root)
{
	unsigned bits;

	*root = root_of(t, p->family, &bits);
	if (*root == NULL || p->prefix_len > bits || ntm_prefix_has_host_bits(p)) {
		return -EINVAL;
	}
	return 0;
}

int en_allowedips_insert(struct en_allowedips *t, const struct ntm_prefix *p, struct en_peer *peer)
{
	struct trie_node *n;
	int rc = check_prefix(t, p, &n);
	struct trie_node *root = n;

	if (rc < 0 || peer == NULL) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < p->prefix_len; i++) {
		unsigned b = bit_at(p->addr, i);

		if (n->child[b] == NULL) {
			n->child[b] = ntm_calloc(1, sizeof(*n));
			if (n->child[b] == NULL) {
				prune(root);
				return -ENOMEM;
			}
		}
		n = n->child[b];
	}
	n->peer = peer;
	return 0;
}

int en_allowedips_remove(struct en_allowedips *t, const struct ntm_prefix *p)
{
	struct trie_node *n;
	int rc = check_prefix(t, p, &n);
	struct trie_node *root = n;

	if (rc < 0) {
		return -ENOENT;
	}
	for (unsigned i = 0; i < p->prefix_len && n != NULL; i++) {
		n = n->child[bit_at(p->addr, i)];
	}
	if (n == NULL || n->peer == NULL) {
		return -ENOENT;
	}
	n->peer = NULL;
	prune(root);
	return 0;
}

static void clear_peer(struct trie_node *n, const struct en_peer *peer)
{
	if (n->peer == peer) {
		n->peer = NULL;
	}
	for (int b = 0; b < 2; b++) {
		if (n->child[b] != NULL) {
			clear_peer(n->child[b], peer);
		}
	}
}

void en_allowedips_remove_peer(struct en_allowedips *t, const struct en_peer *peer)
{
	clear_peer(&t->root4, peer);
	prune(&t->root4);
	clear_peer(&t->root6, peer);
	prune(&t->root6);
}

struct en_peer *en_allowedips_lookup(const struct en_allowedips *t, int family, const uint8_t *addr)
{
	unsigned bits;
	const struct trie_node *n = root_of(t, family, &bits);
	struct en_peer *best = NULL;

	for (unsigned i = 0; n != NULL; i++) {
		if (n->peer != NULL) {
			best = n->peer;
		}
		if (i == bits) {
			break;
		}
		n = n->child[bit_at(addr, i)];
	}
	return best;
}

struct walk {
	const struct en_peer *peer;
	en_allowedips_each_cb cb;
	void *ctx;
	struct ntm_prefix cur; /* the path so far */
};

static void walk_node(struct walk *w, const struct trie_node *n, unsigned depth)
{
	if (n->peer == w->peer) {
		w->cur.prefix_len = (uint8_t)depth;
		w->cb(w->ctx, &w->cur);
	}
	for (unsigned b = 0; b < 2; b++) {
		uint8_t mask = (uint8_t)(0x80 >> (depth % 8));

		if (n->child[b] == NULL) {
			continue;
		}
		if (b) {
			w->cur.addr[depth / 8] |= mask;
		} else {
			w->cur.addr[depth / 8] &= (uint8_t)~mask;
		}
		walk_node(w, n->child[b], depth + 1);
		w->cur.addr[depth / 8] &= (uint8_t)~mask;
	}
}

void en_allowedips_foreach(const struct en_allowedips *t, const struct en_peer *peer,
			   en_allowedips_each_cb cb, void *ctx)
{
	struct walk w = { .peer = peer, .cb = cb, .ctx = ctx };

	if (peer == NULL) {
		return;
	}
	w.cur.family = AF_INET;
	walk_node(&w, &t->root4, 0);
	memset(&w.cur, 0, sizeof(w.cur));
	w.cur.family = AF_INET6;
	walk_node(&w, &t->root6, 0);
}
