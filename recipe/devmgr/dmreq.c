/* SPDX-License-Identifier: MIT */
#include "dmreq.h"

#include <stdio.h>
#include <string.h>

#include "recipe/web/jreq.h"

enum { BODY_MAX = 16384 };

bool rcp_dm_links_ok(const char *s)
{
	bool quoted = false, entry_start = true;

	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (entry_start) {
			if (*s != '<' || strchr(s, '>') == NULL) {
				return false;
			}
			entry_start = false;
		}
		if (*s < 0x20 || *s > 0x7e) {
			return false;
		}
		if (*s == '"') {
			quoted = !quoted;
		} else if (*s == ',' && !quoted) {
			entry_start = true;
		}
	}
	return !quoted && !entry_start;
}

int rcp_dm_parse_model(const char *body, size_t len, struct rcp_dm_model *out, char *why,
		       size_t whylen)
{
	static const char *const keys[] = { "name", "links", NULL };
	struct json_object *o;
	const char *name, *links;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rcp_jreq_parse_only(body, len, BODY_MAX, keys, &o, why, whylen);
	if (rc == 0) {
		rc = rcp_jreq_string(o, "name", RCP_DM_ID_MAX, true, &name, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(o, "links", RCP_DM_LINKS_MAX, true, &links, why, whylen);
	}
	if (rc == 0 && !rcp_jreq_is_ident(name, RCP_DM_ID_MAX)) {
		rc = -EINVAL;
		snprintf(why, whylen, "\"name\": expected [A-Za-z0-9._:-]");
	}
	if (rc == 0 && !rcp_dm_links_ok(links)) {
		rc = -EINVAL;
		snprintf(why, whylen, "\"links\": expected CoRE link format (</path>;rt=...,...)");
	}
	if (rc == 0) {
		snprintf(out->name, sizeof(out->name), "%s", name);
		snprintf(out->links, sizeof(out->links), "%s", links);
	}
	json_object_put(o);
	return rc;
}

static int check_key(const char *field, const char *b64, char *why, size_t whylen)
{
	struct ntm_key k;
	int rc = ntm_key_from_base64(&k, b64, strlen(b64));

	if (rc < 0) {
		snprintf(why, whylen, "\"%s\": expected a base64 Curve25519 public key", field);
		return -EINVAL;
	}
	return 0;
}

/* Field checks after the strings were read (all present). */
static int check_device(const char *const v[7], char *why, size_t whylen)
{
	if (!rcp_jreq_is_ident(v[0], RCP_DM_ID_MAX) || !rcp_jreq_is_ident(v[1], RCP_DM_ID_MAX)) {
		snprintf(why, whylen, "\"id\"/\"model\": expected [A-Za-z0-9._:-]");
		return -EINVAL;
	}
	if (check_key("public_key", v[2], why, whylen) < 0 ||
	    check_key("dc_key", v[5], why, whylen) < 0) {
		return -EINVAL;
	}
	if (!rcp_jreq_is_fqdn(v[3])) {
		snprintf(why, whylen, "\"fqdn\": expected a DNS name");
		return -EINVAL;
	}
	if (strchr(v[4], ':') == NULL || strchr(v[4], ' ') != NULL) {
		snprintf(why, whylen, "\"dc_endpoint\": expected host:port");
		return -EINVAL;
	}
	if (strncmp(v[6], "http://", 7) != 0 && strncmp(v[6], "https://", 8) != 0) {
		snprintf(why, whylen, "\"recipe_server\": expected an http(s):// URL");
		return -EINVAL;
	}
	return 0;
}

int rcp_dm_parse_device(const char *body, size_t len, struct rcp_dm_device *out, char *why,
			size_t whylen)
{
	static const char *const keys[] = { "id",	   "model",  "public_key",    "fqdn",
					    "dc_endpoint", "dc_key", "recipe_server", NULL };
	static const size_t max[] = { RCP_DM_ID_MAX,   RCP_DM_ID_MAX,	    NTM_KEY_B64_SIZE - 1,
				      RCP_DM_FQDN_MAX, RCP_DM_ENDPOINT_MAX, NTM_KEY_B64_SIZE - 1,
				      RCP_DM_URL_MAX };
	char *const dst[] = { out->id,		out->model,  out->public_key,	out->fqdn,
			      out->dc_endpoint, out->dc_key, out->recipe_server };
	const char *v[7];
	struct json_object *o;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rcp_jreq_parse_only(body, len, BODY_MAX, keys, &o, why, whylen);
	for (size_t i = 0; rc == 0 && i < 7; i++) {
		rc = rcp_jreq_string(o, keys[i], max[i], true, &v[i], why, whylen);
	}
	if (rc == 0) {
		rc = check_device(v, why, whylen);
	}
	for (size_t i = 0; rc == 0 && i < 7; i++) {
		snprintf(dst[i], max[i] + 1, "%s", v[i]);
	}
	json_object_put(o);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}
