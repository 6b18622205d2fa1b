/* SPDX-License-Identifier: MIT */
/*
 * The agent's life cycle, its points (sensors and actions with their last
 * values) and the trigger engine. The engine gets the recipes whose trigger
 * reads a resource of this device; every point is polled from its driver at
 * PollInterval and each change is fed to the engine. Readings of other
 * devices are not fetched yet (CoAP Observe of the peer comes with the
 * recipe server), so a trigger is evaluated on the device that owns its
 * sensors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "recipe/agent/agent_internal.h"
#include "recipe/agent/driver.h"
#include "recipe/loop.h"

static void arm_engine(struct rcp_agent *a);

struct point *rcp_agent_point(struct rcp_agent *a, enum rcp_point_kind kind, const char *name)
{
	for (size_t i = 0; i < a->n_points; i++) {
		if (a->points[i].conf->kind == kind && strcmp(a->points[i].conf->name, name) == 0) {
			return &a->points[i];
		}
	}
	return NULL;
}

void rcp_agent_point_set(struct rcp_agent *a, struct point *p, const struct rcp_value *v)
{
	struct rcp_value copy;
	int rc;

	if (rcp_value_eq(&p->value, v)) {
		return;
	}
	if (rcp_value_copy(&copy, v) < 0) {
		ntm_log_err("%s: out of memory", p->resource);
		return;
	}
	rcp_value_fini(&p->value);
	p->value = copy;
	rcp_agent_serve_changed(a, p);
	if (a->engine != NULL) {
		rc = rcp_engine_update(a->engine, p->resource, v, uv_now(a->loop));
		if (rc < 0) {
			ntm_log_err("engine: %s: %s", p->resource, ntm_strerror(rc));
		}
		arm_engine(a);
	}
}

/* ---------------------------------------------------------------- engine */

/*
 * Reserve the sequence numbers up to seq + RCP_AGENT_SEQ_BLOCK - 1 with one
 * durable write, so that only one firing in a block waits for the disk.
 * A crash skips the rest of a block; a clean stop gives it back (close).
 */
static void reserve_seq(struct rcp_agent *a, uint64_t seq)
{
	uint64_t upto = seq + RCP_AGENT_SEQ_BLOCK - 1;

	if (rcp_idem_seq_store(a->idem, upto) < 0) {
		ntm_log_err("cannot reserve sequence numbers up to %llu", (unsigned long long)upto);
		upto = seq; /* as before: the key leaves anyway */
	}
	a->seq_stored = upto;
}

static void on_fire(const struct rcp_firing *f, void *arg)
{
	struct rcp_agent *a = arg;
	char key[RCP_IDEM_KEY_MAX + 1];

	if (f->seq > a->seq_stored) {
		/* Durable before the key leaves: keys stay unique across restarts. */
		reserve_seq(a, f->seq);
	}
	a->seq_last = f->seq > a->seq_last ? f->seq : a->seq_last;
	if (f->action->kind == RCP_ACT_NOTIFY) {
		ntm_log_info("recipe %s: notify %s%s%s", f->recipe, f->action->target,
			     f->action->value.type == RCP_VAL_TEXT ? ": " : "",
			     f->action->value.type == RCP_VAL_TEXT ? f->action->value.text : "");
		return;
	}
	snprintf(key, sizeof(key), "%s/%s/%llu/%zu", a->cfg->fqdn, f->recipe,
		 (unsigned long long)f->seq, f->index);
	a->stats.fired++;
	ntm_log_info("recipe %s fired (seq %llu): %s", f->recipe, (unsigned long long)f->seq,
		     f->action->target);
	rcp_agent_send_action(a, key, f->action, (uint32_t)(f->ttl_ms / 1000));
}

static void on_engine_timer(uv_timer_t *t)
{
	struct rcp_agent *a = t->data;
	int rc = rcp_engine_tick(a->engine, uv_now(a->loop));

	if (rc < 0) {
		ntm_log_err("engine: tick: %s", ntm_strerror(rc));
	}
	arm_engine(a);
}

static void arm_engine(struct rcp_agent *a)
{
	uint64_t deadline, now = uv_now(a->loop);

	if (a->pending_close > 0 || rcp_engine_next_deadline(a->engine, &deadline) < 0) {
		uv_timer_stop(&a->engine_timer);
		return;
	}
	uv_timer_start(&a->engine_timer, on_engine_timer, deadline > now ? deadline - now : 0, 0);
}

/* ---------------------------------------------------------------- loading */

static int read_text(const char *path, char **out, size_t *len, char *why, size_t whylen)
{
	char *buf = ntm_malloc(RCP_TEXT_MAX + 1);
	ssize_t n = -1;
	int fd;

	*out = NULL;
	if (buf == NULL) {
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		n = read(fd, buf, RCP_TEXT_MAX + 1);
		close(fd);
	}
	if (n < 0 || n > RCP_TEXT_MAX) {
		snprintf(why, whylen, "%s: %s", path, n < 0 ? strerror(errno) : "too long");
		ntm_free(buf);
		return n < 0 ? -EIO : -EMSGSIZE;
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}

bool rcp_agent_cond_reads_host(const struct rcp_cond *c, const char *fqdn)
{
	size_t n = strlen(fqdn);

	if (c->kind == RCP_COND_CMP) {
		return strncmp(c->resource, fqdn, n) == 0 && c->resource[n] == '/';
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		if (rcp_agent_cond_reads_host(c->kids[i], fqdn)) {
			return true;
		}
	}
	return false;
}

/* Registration-time warnings; the recipe server will refuse such recipes. */
static void check_recipes(struct rcp_agent *a)
{
	char path[RCP_LOOP_PATH_MAX];
	struct rcp_report rep;

	for (size_t i = 0; i < a->recipes->n; i++) {
		if (rcp_policy_check_recipe(a->policy, a->recipes->recipes[i], &rep) < 0) {
			ntm_log_warn("recipe %s: %s by the policy: %s",
				     a->recipes->recipes[i]->name,
				     rep.verdict == RCP_VERDICT_REFUSED ? "refused" : "flagged",
				     rep.reason);
		}
	}
	if (rcp_loop_find((const struct rcp_recipe *const *)a->recipes->recipes, a->recipes->n,
			  path, sizeof(path)) == -ELOOP) {
		ntm_log_warn("recipes form a loop: %s", path);
	}
}

/* The engine gets its own parse, so that engine and `recipes` own theirs. */
static int load_engine(struct rcp_agent *a, const char *text, size_t len, char *why, size_t whylen)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	int rc = rcp_parse(text, len, &f, &err);

	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		if (!rcp_agent_cond_reads_host(f->recipes[i]->when, a->cfg->fqdn)) {
			continue;
		}
		struct rcp_recipe *r = rcp_file_take(f, i);

		rc = rcp_engine_add(a->engine, r, uv_now(a->loop));
		if (rc < 0) {
			rcp_recipe_free(r);
			snprintf(why, whylen, "engine: %s", ntm_strerror(rc));
		} else {
			ntm_log_info("recipe %s: triggered here", r->name);
		}
	}
	rcp_file_free(f);
	return rc;
}

static int load_recipes(struct rcp_agent *a, char *why, size_t whylen)
{
	struct rcp_error err;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (a->cfg->recipes != NULL) {
		rc = read_text(a->cfg->recipes, &text, &len, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_parse(text != NULL ? text : "", len, &a->recipes, &err);
		if (rc < 0) {
			snprintf(why, whylen, "%s:%u:%u: %s", a->cfg->recipes, err.line, err.col,
				 err.msg);
		}
	}
	if (rc == 0) {
		rc = load_engine(a, text != NULL ? text : "", len, why, whylen);
	}
	ntm_free(text);
	return rc;
}

static int load_policy(struct rcp_agent *a, char *why, size_t whylen)
{
	struct rcp_error err;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (a->cfg->policy != NULL) {
		rc = read_text(a->cfg->policy, &text, &len, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_policy_parse(text != NULL ? text : "", len, &a->policy, &err);
		if (rc < 0) {
			snprintf(why, whylen, "%s:%u:%u: %s", a->cfg->policy, err.line, err.col,
				 err.msg);
		}
	}
	ntm_free(text);
	return rc;
}

/* ---------------------------------------------------------------- points */

static void read_point(struct rcp_agent *a, struct point *p)
{
	char why[256];
	struct rcp_value v;
	int rc;

	if (p->conf->driver == RCP_DRIVER_COMMAND) {
		/* An action's program is run to act, never to read: its value is the last one set.
		 */
		if (p->conf->kind == RCP_POINT_SENSOR) {
			rcp_agent_command_read(a, p);
		}
		return;
	}
	rc = rcp_driver_read(p->conf, &v, why, sizeof(why));
	if (rc < 0) {
		ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN, "%s: %s", p->resource,
				    why);
		return;
	}
	rcp_agent_point_set(a, p, &v);
	rcp_value_fini(&v);
}

static void on_poll_timer(uv_timer_t *t)
{
	struct rcp_agent *a = t->data;

	for (size_t i = 0; i < a->n_points; i++) {
		read_point(a, &a->points[i]);
	}
	rcp_coapio_kick(a->io);
}

static void on_sweep_timer(uv_timer_t *t)
{
	rcp_agent_send_sweep(t->data);
	rcp_agent_install_sweep(t->data);
}

/* Idempotency records older than KeyRetention (idem.h says why that is safe). */
static void on_prune_timer(uv_timer_t *t)
{
	struct rcp_agent *a = t->data;
	uint64_t n;
	int rc = rcp_idem_prune(a->idem, a->cfg->retention_s, &n);

	if (rc < 0) {
		ntm_log_err("%s: pruning idempotency records: %s", a->cfg->database,
			    ntm_strerror(rc));
		return;
	}
	a->stats.pruned += n;
	if (n > 0) {
		ntm_log_info("%llu idempotency record(s) older than %u s removed",
			     (unsigned long long)n, a->cfg->retention_s);
	}
}

static int init_points(struct rcp_agent *a)
{
	a->points = ntm_calloc(a->cfg->n_points > 0 ? a->cfg->n_points : 1, sizeof(*a->points));
	if (a->points == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->cfg->n_points; i++) {
		struct point *p = &a->points[i];

		p->agent = a;
		p->conf = &a->cfg->points[i];
		snprintf(p->resource, sizeof(p->resource), "%s/%s", a->cfg->fqdn, p->conf->name);
		a->n_points++;
	}
	return 0;
}

/* ---------------------------------------------------------------- life cycle */

static int open_state(struct rcp_agent *a, char *why, size_t whylen)
{
	const struct rcp_engine_cfg ec = { .fire = on_fire, .arg = a };
	struct rcp_engine_cfg ecs = ec;
	int rc = rcp_idem_open(a->cfg->database, &a->idem, why, whylen);

	if (rc == 0) {
		rc = rcp_outbox_open(a->cfg->database, &a->outbox, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_obwriter_open(a->loop, a->cfg->database, rcp_agent_send_stored, a, &a->obw,
				       why, whylen);
	}
	if (rc == 0) {
		rc = rcp_idem_seq_load(a->idem, &a->seq_stored);
	}
	if (rc < 0) {
		return rc;
	}
	a->seq_last = a->seq_stored;
	ecs.first_seq = a->seq_stored + 1;
	reserve_seq(a, ecs.first_seq); /* the first firing does not wait for the disk */
	rc = rcp_engine_create(&ecs, &a->engine);
	if (rc == 0) {
		rc = load_policy(a, why, whylen);
	}
	if (rc == 0) {
		rc = load_recipes(a, why, whylen);
	}
	if (rc == 0) {
		check_recipes(a);
		rc = rcp_agent_install_open(a, why, whylen);
	}
	return rc;
}

static int start(struct rcp_agent *a, char *why, size_t whylen)
{
	int rc = open_state(a, why, whylen);

	if (rc == 0) {
		rc = init_points(a);
	}
	if (rc == 0) {
		rc = rcp_agent_serve_init(a, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_agent_overlay_init(a, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_agent_send_init(a, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_coapio_create(a->loop, a->coap, &a->io);
		if (rc < 0) {
			snprintf(why, whylen, "coap on the loop: %s", ntm_strerror(rc));
		}
	}
	if (rc < 0) {
		return rc;
	}
	on_poll_timer(&a->poll_timer);
	uv_timer_start(&a->poll_timer, on_poll_timer, a->cfg->poll_ms, a->cfg->poll_ms);
	uv_timer_start(&a->sweep_timer, on_sweep_timer, 0, RCP_AGENT_SWEEP_MS);
	uv_timer_start(&a->prune_timer, on_prune_timer, 0, RCP_AGENT_PRUNE_MS);
	return 0;
}

int rcp_agent_create(uv_loop_t *loop, const struct rcp_agent_config *cfg, struct rcp_agent **out,
		     char *why, size_t whylen)
{
	struct rcp_agent *a;
	int rc;

	*out = NULL;
	a = ntm_calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	a->loop = loop;
	a->cfg = cfg;
	a->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(5000, 10);
	uv_timer_init(loop, &a->poll_timer);
	uv_timer_init(loop, &a->engine_timer);
	uv_timer_init(loop, &a->sweep_timer);
	uv_timer_init(loop, &a->prune_timer);
	uv_timer_init(loop, &a->polcheck_timer);
	a->poll_timer.data = a->engine_timer.data = a->sweep_timer.data = a->prune_timer.data = a;
	a->polcheck_timer.data = a;
	rc = start(a, why, whylen);
	if (rc < 0) {
		if (why[0] == '\0') {
			snprintf(why, whylen, "%s", ntm_strerror(rc));
		}
		rcp_agent_close(a, NULL, NULL);
		return rc;
	}
	*out = a;
	return 0;
}

static void free_agent(struct rcp_agent *a)
{
	rcp_agent_send_fini(a);
	rcp_agent_jobs_cancel(a);
	rcp_agent_polcheck_fini(a);
	rcp_agent_install_fini(a);
	rcp_agent_whowait_fini(a);
	for (size_t i = 0; i < a->n_peers; i++) {
		if (a->peers[i].session != NULL) {
			coap_session_release(a->peers[i].session);
		}
	}
	if (a->coap != NULL) {
		coap_free_context(a->coap);
	}
	for (size_t i = 0; i < a->n_points; i++) {
		rcp_value_fini(&a->points[i].value);
	}
	ntm_free(a->points);
	ntm_free(a->peers);
	rcp_engine_destroy(a->engine);
	rcp_file_free(a->recipes);
	rcp_policy_free(a->policy);
	if (a->idem != NULL && a->seq_stored > a->seq_last &&
	    rcp_idem_seq_set(a->idem, a->seq_last) < 0) {
		ntm_log_warn("cannot give back the unused sequence numbers");
	}
	rcp_idem_close(a->idem);
	rcp_outbox_close(a->outbox);
	ntm_free(a);
}

static void on_closed(void *arg)
{
	struct rcp_agent *a = arg;
	rcp_agent_closed_cb done = a->done;
	void *done_arg = a->done_arg;

	if (--a->pending_close > 0) {
		return;
	}
	free_agent(a);
	if (done != NULL) {
		done(done_arg);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	on_closed(h->data);
}

void rcp_agent_close(struct rcp_agent *a, rcp_agent_closed_cb done, void *arg)
{
	if (a == NULL) {
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	a->done = done;
	a->done_arg = arg;
	a->pending_close = 8;
	/* Programs are killed now; their own handles close on their own. */
	rcp_agent_jobs_cancel(a);
	/* Queued outbox writes end first: a fired request is on disk before exit. */
	rcp_obwriter_close(a->obw, on_closed, a);
	a->obw = NULL;
	uv_close((uv_handle_t *)&a->poll_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->engine_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->sweep_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->prune_timer, on_handle_closed);
	uv_close((uv_handle_t *)&a->polcheck_timer, on_handle_closed);
	rcp_coapio_close(a->io, on_closed, a);
	a->io = NULL;
	rcp_agent_control_close(a, on_closed, a);
	rcp_agent_overlay_close(a, on_closed, a);
}
