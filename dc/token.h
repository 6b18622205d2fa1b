/* SPDX-License-Identifier: MIT */
#ifndef DC_TOKEN_H
#define DC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/err.h"

/*
 * One-time enrolment tokens. A token is 32 random bytes (randombytes_buf),
 * shown to the admin once as 43 characters of unpadded base64url (RFC 4648
 * section 5), so that it survives shells, URLs and config files unquoted.
 * The DC stores only HASH("ntm-dc enrolment token v1" || token bytes), with
 * BLAKE2s (common/crypto.h): the token carries 256 bits of entropy, so the
 * hash needs no salt, and a copy of the database does not let anyone enrol.
 * Pure functions; nothing here touches the store.
 */

enum {
	DC_TOKEN_LEN = 32,
	DC_TOKEN_TEXT_LEN = 43, /* characters, without the NUL */
	DC_TOKEN_TEXT_SIZE = DC_TOKEN_TEXT_LEN + 1,
	DC_TOKEN_HASH_LEN = NTM_CRYPTO_HASH_LEN,
	DC_TOKEN_TTL_DEFAULT = 24 * 3600, /* seconds */
	DC_TOKEN_TTL_MAX = 366 * 24 * 3600,
};

/*
 * A fresh token: its text into text[DC_TOKEN_TEXT_SIZE] and its hash into
 * hash[DC_TOKEN_HASH_LEN]. The caller wipes `text` (sodium_memzero) once it
 * has been shown. Needs ntm_crypto_init() first.
 */
void dc_token_generate(char text[DC_TOKEN_TEXT_SIZE], uint8_t hash[DC_TOKEN_HASH_LEN]);

/*
 * The hash of the token in text[0..len) (need not be NUL-terminated).
 * Returns -EINVAL (hash zeroed) unless it is exactly 43 characters of
 * base64url decoding to 32 bytes.
 */
NTM_MUST_CHECK int dc_token_hash(const char *text, size_t len, uint8_t hash[DC_TOKEN_HASH_LEN]);

#endif
