/* SPDX-License-Identifier: MIT */
/*
 * A calling DC whose domain's [Federation] section pins no key
 * (dc/federation.h): its session starts on probation like any unknown
 * key; its FED_HELLO names the domain, and we look that domain's key record
 * up ourselves (_ntm-key.DOMAIN, AD bit requested). Only a key record that
 * the validating resolver marked AD and that holds the very key of the
 * session makes it that domain's DC; anything else is FED_NOT_ALLOWED.
 */
#include "fedint.h"

#include <string.h>

#include "common/alloc.h"
#include "common/log.h"

struct fed_verify {
	struct dc_fed *f;
	struct ntm_key key; /* the session's */
	int idx;
	struct ntm_ctrl_msg hello;
};

static int section_of(const struct dc_config *cfg, const char *domain)
{
	for (size_t i = 0; i < cfg->n_federation; i++) {
		if (strcmp(cfg->federation[i].domain, domain) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static void send_answer(struct dc_fed *f, struct dc_csess *s, const struct ntm_ctrl_msg *a)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, plain, sizeof(plain));
	if (ntm_ctrl_msg_encode(&w, a) < 0 ||
	    dc_ctrl_send(f->ctrl, s, w.data, w.len, uv_now(f->loop)) < 0) {
		ntm_log_debug("federation: cannot answer a calling DC now");
	}
}

static void on_key(int err, const uint8_t *msg, size_t len, void *arg)
{
	struct fed_verify *v = arg;
	struct dc_fed *f = v->f;
	const char *domain = f->cfg->federation[v->idx].domain;
	struct dc_csess *s = f->closing ? NULL : dc_ctable_by_key(&f->ctrl->table, v->key.b);
	struct ntm_ctrl_msg a;
	struct ntm_key key;
	bool found, ad;

	if (s != NULL) {
		fed_key_parse(err, msg, len, &key, &found, &ad);
		if (found && ad && ntm_key_equal(&key, &v->key)) {
			ntm_log_info(
				"federation: the DC of %s called with its DNSSEC-validated key",
				domain);
			s->fed = v->idx + 1;
			if (!s->enrolled) {
				s->enrolled = true;
				f->ctrl->table.n_probation--;
			}
			if (dc_fedserver_handle(f->ctrl, s, &v->hello, &a)) {
				send_answer(f, s, &a);
			}
		} else {
			ntm_log_warn("federation: a DC calling itself %s: %s: refused", domain,
				     !found ? "no key record"
				     : !ad  ? "its key record is not DNSSEC-validated"
					    : "not the key of its key record");
			f->ctrl->st.errors_sent++;
			(void)dc_register_error(&a, v->hello.req_id, NTM_CTRL_E_FED_NOT_ALLOWED,
						"your key is not DNSSEC-validated here");
			send_answer(f, s, &a);
		}
	}
	ntm_free(v);
}

bool dc_fed_verify_caller(struct dc_fed *f, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			  struct ntm_ctrl_msg *a)
{
	int idx =
		f != NULL && m->kind == NTM_CTRL_FED_HELLO ? section_of(f->cfg, m->fed_domain) : -1;
	struct fed_verify *v;

	if (idx < 0 || f->cfg->federation[idx].has_key) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_FED_NOT_ALLOWED,
					"your domain is not federated with this one");
		return true;
	}
	v = ntm_calloc(1, sizeof(*v));
	if (v == NULL) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_INTERNAL, "out of memory");
		return true;
	}
	*v = (struct fed_verify){ .f = f, .key = s->pub, .idx = idx, .hello = *m };
	if (fed_key_query(f, m->fed_domain, on_key, v) < 0) {
		ntm_free(v);
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_INTERNAL, "DNS lookup failed");
		return true;
	}
	return false;
}
