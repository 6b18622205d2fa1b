/* SPDX-License-Identifier: MIT */
#ifndef RCP_TOKEN_H
#define RCP_TOKEN_H

/*
 * Bearer tokens of the HTTP APIs (admin, recipe-server, device provisioning
 * secrets, user API tokens). A token is 64 lowercase hex characters (32
 * random bytes); servers store and compare only its BLAKE2b-256 hash
 * (crypto_generichash), so a stolen database holds no usable token.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum {
	RCP_TOKEN_BYTES = 32,
	RCP_TOKEN_TEXT = 2 * RCP_TOKEN_BYTES + 1, /* hex + NUL */
	RCP_TOKEN_HASH = 32,
};

/* A new random token as hex text into out. */
void rcp_token_generate(char out[RCP_TOKEN_TEXT]);

/* True for exactly 64 lowercase hex characters. */
bool rcp_token_is_valid(const char *s);

/* BLAKE2b-256 of the token text. */
void rcp_token_hash(const char *token, uint8_t out[RCP_TOKEN_HASH]);

/* Constant-time: does `token` (may be NULL or malformed: false) hash to `hash`? */
bool rcp_token_matches(const char *token, const uint8_t hash[RCP_TOKEN_HASH]);

/*
 * Read a token file (one token, optional trailing newline) and store its
 * hash. The file must be a regular file without group/other permissions.
 * -EPERM, -EINVAL, or open/read errors, with "path: reason" in why.
 */
NTM_MUST_CHECK int rcp_token_load_file(const char *path, uint8_t hash[RCP_TOKEN_HASH], char *why,
				       size_t whylen);

/* The same check, keeping the token text itself (a client's credential). */
NTM_MUST_CHECK int rcp_token_read_file(const char *path, char out[RCP_TOKEN_TEXT], char *why,
				       size_t whylen);

#endif
