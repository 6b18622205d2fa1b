/* SPDX-License-Identifier: MIT */
/*
 * Revocation across domains (dc/fedrevoke.h): without it a node of another
 * domain that was directed to one of ours keeps its tunnel after our admin
 * revoked that node, since only our own nodes hear PEER_REVOKED.
 */
#include "fedint.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "dc/fedrevoke.h"

static struct fedrevoke_table *table(struct dc_ctrl *c)
{
	return c != NULL && c->fed != NULL ? &c->fed->revoked : NULL;
}

static struct fedrevoke_entry *find(struct fedrevoke_table *t, int idx, bool ours,
				    const uint8_t key[NTM_KEY_LEN])
{
	for (size_t i = 0; i < FEDREVOKE_MAX; i++) {
		struct fedrevoke_entry *e = &t->e[i];

		if (e->used && e->idx == idx && e->ours == ours &&
		    sodium_memcmp(e->key.b, key, NTM_KEY_LEN) == 0) {
			return e;
		}
	}
	return NULL;
}

void dc_fedrevoke_note(struct dc_ctrl *c, int idx, bool ours, const uint8_t key[NTM_KEY_LEN])
{
	struct fedrevoke_table *t = table(c);
	struct fedrevoke_entry *e;

	if (t == NULL || find(t, idx, ours, key) != NULL) {
		return;
	}
	e = &t->e[t->next];
	t->next = (t->next + 1) % FEDREVOKE_MAX;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->ours = ours;
	e->idx = idx;
	memcpy(e->key.b, key, NTM_KEY_LEN);
}

/* 0 when sent; the entry is forgotten then. */
static int send_revoked(struct dc_ctrl *c, struct fedrevoke_entry *e)
{
	struct ntm_ctrl_msg m;
	int rc;

	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_REVOKED, 0);
	m.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) | NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	memcpy(m.pubkey, e->key.b, sizeof(m.pubkey));
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", e->fqdn);
	rc = dc_fedrelay_send_dc(c, e->idx, &m);
	if (rc == 0) {
		ntm_log_info("federation: FED_REVOKED %s sent to the DC of %s", e->fqdn,
			     c->cc.cfg->federation[e->idx].domain);
		e->used = false;
	}
	return rc;
}

size_t dc_fedrevoke_revoked(struct dc_ctrl *c, const struct ntm_key *key, const char *fqdn)
{
	struct fedrevoke_table *t = table(c);
	size_t n = 0;

	for (size_t i = 0; t != NULL && i < FEDREVOKE_MAX; i++) {
		struct fedrevoke_entry *e = &t->e[i];

		if (!e->used || !e->ours || !ntm_key_equal(&e->key, key)) {
			continue;
		}
		n++;
		snprintf(e->fqdn, sizeof(e->fqdn), "%s", fqdn);
		if (send_revoked(c, e) < 0) {
			e->pending = true; /* the sweep sends it once a session is up */
			e->until_ms = uv_now(c->loop) + FEDREVOKE_RETRY_MS;
			fed_dom_kick(c->fed, e->idx);
		}
	}
	return n;
}

void dc_fedrevoke_retry(struct dc_ctrl *c)
{
	struct fedrevoke_table *t = table(c);
	uint64_t now = c != NULL ? uv_now(c->loop) : 0;

	for (size_t i = 0; t != NULL && i < FEDREVOKE_MAX; i++) {
		struct fedrevoke_entry *e = &t->e[i];

		if (!e->used || !e->pending) {
			continue;
		}
		if (now >= e->until_ms) {
			ntm_log_warn("federation: FED_REVOKED %s to the DC of %s: no session, "
				     "dropped",
				     e->fqdn, c->cc.cfg->federation[e->idx].domain);
			e->used = false;
		} else if (send_revoked(c, e) < 0) {
			fed_dom_kick(c->fed, e->idx);
		}
	}
}

bool dc_fedrevoke_handle(struct dc_ctrl *c, int idx, const struct ntm_ctrl_msg *m)
{
	struct fedrevoke_table *t = table(c);
	const char *dom = c->cc.cfg->federation[idx].domain;
	struct fedrevoke_entry *e = t != NULL ? find(t, idx, false, m->pubkey) : NULL;
	char name[DC_FQDN_SIZE];
	struct ntm_key key;
	size_t n;

	if (dc_fqdn_normalize(m->fqdn, 0, name, NULL, 0) < 0 || !dc_fqdn_is_under(name, dom) ||
	    e == NULL) {
		ntm_log_warn("federation: FED_REVOKED %s from the DC of %s: not a node we learned "
			     "from it, ignored",
			     m->fqdn, dom);
		return false;
	}
	memcpy(key.b, m->pubkey, sizeof(key.b));
	n = dc_ctrl_tell_revoked(c, &key, name);
	e->used = false; /* forgotten: a second one is ignored */
	ntm_log_info("federation: FED_REVOKED %s from the DC of %s: %zu peer(s) told", name, dom,
		     n);
	return true;
}
