/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_AGENT_H
#define RCP_AGENT_AGENT_H

/*
 * The on-device recipe agent: the device's sensors and actions as CoAP
 * resources, its recipes in a trigger engine, and the delivery of fired
 * actions to the action devices (at least once, with an idempotency key the
 * action device persists before it acts). See ntm-agent(8).
 */

#include <uv.h>

#include "recipe/agent/config.h"

struct rcp_agent;

typedef void (*rcp_agent_closed_cb)(void *arg);

/*
 * Start the agent on loop: open the database, load recipes and policy, bind
 * CoAP on cfg->listen, read every point once and start polling. cfg is
 * borrowed and must outlive the agent. On failure *out is NULL, why says
 * what failed, and the loop must still be run (handles may be closing).
 */
NTM_MUST_CHECK int rcp_agent_create(uv_loop_t *loop, const struct rcp_agent_config *cfg,
				    struct rcp_agent **out, char *why, size_t whylen);

/*
 * Serve the control socket at path (copied; ntm-agent(8) lists the
 * commands). 0, or a negative errno after the reason was logged.
 */
NTM_MUST_CHECK int rcp_agent_control_open(struct rcp_agent *a, const char *path);

/*
 * Stop: close every handle and free the agent in the last close callback,
 * then done(arg). Requests still in flight are reported as abandoned.
 * NULL-safe (done is still called).
 */
void rcp_agent_close(struct rcp_agent *a, rcp_agent_closed_cb done, void *arg);

#endif
