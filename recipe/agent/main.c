/* SPDX-License-Identifier: MIT */
/*
 * ntm-agent: options, configuration, the loop and signals. The agent itself
 * lives in agent.c (points and engine), serve.c (CoAP resources), perform.c
 * (actions here), send.c (action delivery) and control.c (control socket).
 */
#include <coap3/coap.h>
#include <string.h>
#include <uv.h>

#include "common/daemon.h"
#include "common/log.h"
#include "recipe/agent/agent.h"
#include "recipe/agent/provision.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-agent",
	.conf_page = "ntm-agent.conf(5)",
	.socket_help = "/run/ntm/agent.sock",
	.socket = "/run/ntm/agent.sock",
};

struct daemon {
	uv_loop_t loop;
	struct rcp_agent_config *cfg;
	struct rcp_agent *agent;
	struct ntm_daemon_signals sig;
	int exit_code;
};

/* libcoap's own messages, through our logger (warnings and worse only). */
static void coap_log_to_ntm(coap_log_t level, const char *message)
{
	size_t n = strlen(message);

	while (n > 0 && message[n - 1] == '\n') {
		n--;
	}
	ntm_log(level <= LOG_ERR ? NTM_LOG_ERR : NTM_LOG_WARN, "coap: %.*s", (int)n, message);
}

static void on_agent_closed(void *arg)
{
	struct daemon *d = arg;

	d->agent = NULL;
}

static void on_stop(void *arg, int signum)
{
	struct daemon *d = arg;

	ntm_log_info("%s: shutting down", strsignal(signum));
	ntm_daemon_signals_close(&d->sig);
	rcp_agent_close(d->agent, on_agent_closed, d);
}

static void on_hup(void *arg, int signum)
{
	ntm_log_info("SIGHUP: nothing is reloadable yet; restart ntm-agent to apply changes");
}

static void start(struct daemon *d, const char *socket)
{
	char why[512] = "";
	int rc;

	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	rc = rcp_agent_create(&d->loop, d->cfg, &d->agent, why, sizeof(why));
	if (rc == 0) {
		rc = rcp_agent_control_open(d->agent, socket);
		snprintf(why, sizeof(why), "control socket %s: %s", socket, ntm_strerror(rc));
	}
	if (rc < 0) {
		ntm_log_err("%s", why);
		d->exit_code = 1;
		ntm_daemon_signals_close(&d->sig);
		rcp_agent_close(d->agent, on_agent_closed, d);
		return;
	}
	ntm_log_info("agent %s ready: %zu sensors and actions, %zu peers", d->cfg->fqdn,
		     d->cfg->n_points, d->cfg->n_peers);
}

int main(int argc, char **argv)
{
	struct daemon d = { .exit_code = 0 };
	struct ntm_daemon_opts o;
	struct ntm_conf_err err;
	char why[512] = "";
	int rc = ntm_daemon_parse_options(&spec, argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_daemon_init(&spec, &o);
	if (rcp_agent_config_load(o.config, &d.cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	if (rcp_provision_run(d.cfg, why, sizeof(why)) < 0) {
		ntm_fatal("provisioning: %s", why);
	}
	ntm_daemon_detach(&o);
	coap_startup();
	coap_set_log_handler(coap_log_to_ntm);
	coap_set_log_level(LOG_WARNING);
	ntm_daemon_loop_init(&d.loop);
	start(&d, o.socket);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	rcp_agent_config_destroy(d.cfg);
	coap_cleanup();
	if (ntm_daemon_loop_close(&d.loop) < 0) {
		return 1;
	}
	ntm_log_info("stopped");
	return d.exit_code;
}
