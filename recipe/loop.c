/* SPDX-License-Identifier: MIT */
/*
 * Recipe loop detection: depth-first search with an explicit stack over the
 * "A's action may fire B" graph (edges computed on demand, O(n^2) pairs of
 * at most 16 actions x 32 comparisons). A back edge to a recipe still on the
 * stack closes a cycle, which is printed from that recipe around to itself.
 */
#include <string.h>

#include "common/alloc.h"
#include "loop.h"

enum { WHITE, GRAY, BLACK };

static bool cond_reads(const struct rcp_cond *c, const char *resource)
{
	if (c->kind == RCP_COND_CMP) {
		return strcmp(c->resource, resource) == 0;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		if (cond_reads(c->kids[i], resource)) {
			return true;
		}
	}
	return false;
}

static bool leads_to(const struct rcp_recipe *a, const struct rcp_recipe *b)
{
	for (size_t i = 0; i < a->n_actions; i++) {
		if (a->actions[i].kind == RCP_ACT_DO && cond_reads(b->when, a->actions[i].target)) {
			return true;
		}
	}
	return false;
}

/* Append s to path; what does not fit is cut and the path ends in "...". */
static void append(char *path, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s), keep;

	if (*len >= cap) {
		return; /* already cut */
	}
	if (*len + n + 1 <= cap) {
		memcpy(path + *len, s, n + 1);
		*len += n;
		return;
	}
	if (cap < 4) {
		return;
	}
	keep = *len < cap - 4 ? cap - 4 - *len : 0;
	memcpy(path + *len, s, keep);
	memcpy(path + cap - 4, "...", 4);
	*len = cap;
}

struct walk {
	const struct rcp_recipe *const *r; /* borrowed */
	size_t n;
	unsigned char *color;
	size_t *stack; /* the current DFS path */
	size_t *next;  /* per recipe: next successor to try */
	char *path;
	size_t cap;
};

static void write_cycle(const struct walk *w, size_t depth, size_t v)
{
	size_t i = 0, len = 0;

	while (w->stack[i] != v) {
		i++;
	}
	for (; i < depth; i++) {
		append(w->path, w->cap, &len, w->r[w->stack[i]]->name);
		append(w->path, w->cap, &len, " -> ");
	}
	append(w->path, w->cap, &len, w->r[v]->name);
}

/* DFS from s; true when a cycle was found (and written). */
static bool dfs(struct walk *w, size_t s)
{
	size_t depth = 0, u, v;

	w->stack[depth++] = s;
	w->color[s] = GRAY;
	w->next[s] = 0;
	while (depth > 0) {
		u = w->stack[depth - 1];
		if (w->next[u] == w->n) {
			w->color[u] = BLACK;
			depth--;
			continue;
		}
		v = w->next[u]++;
		if (w->color[v] == BLACK || !leads_to(w->r[u], w->r[v])) {
			continue;
		}
		if (w->color[v] == GRAY) {
			write_cycle(w, depth, v);
			return true;
		}
		w->color[v] = GRAY;
		w->next[v] = 0;
		w->stack[depth++] = v;
	}
	return false;
}

int rcp_loop_find(const struct rcp_recipe *const *recipes, size_t n, char *path, size_t cap)
{
	struct walk w = { .r = recipes, .n = n, .path = path, .cap = cap };
	int rc = 0;

	if (cap > 0) {
		path[0] = '\0';
	}
	w.color = ntm_calloc(n, sizeof(*w.color));
	w.stack = ntm_calloc(n, sizeof(*w.stack));
	w.next = ntm_calloc(n, sizeof(*w.next));
	if (w.color == NULL || w.stack == NULL || w.next == NULL) {
		rc = -ENOMEM;
	}
	for (size_t s = 0; s < n && rc == 0; s++) {
		if (w.color[s] == WHITE && dfs(&w, s)) {
			rc = -ELOOP;
		}
	}
	ntm_free(w.next);
	ntm_free(w.stack);
	ntm_free(w.color);
	return rc;
}
