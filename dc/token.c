/* SPDX-License-Identifier: MIT */
#include "token.h"

#include <sodium.h>
#include <string.h>

static const char label[] = "ntm-dc enrolment token v1";

static void hash_bytes(const uint8_t token[DC_TOKEN_LEN], uint8_t hash[DC_TOKEN_HASH_LEN])
{
	ntm_crypto_hash2(hash, label, sizeof(label) - 1, token, DC_TOKEN_LEN);
}

void dc_token_generate(char text[DC_TOKEN_TEXT_SIZE], uint8_t hash[DC_TOKEN_HASH_LEN])
{
	uint8_t token[DC_TOKEN_LEN];

	randombytes_buf(token, sizeof(token));
	sodium_bin2base64(text, DC_TOKEN_TEXT_SIZE, token, sizeof(token),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	hash_bytes(token, hash);
	sodium_memzero(token, sizeof(token));
}

int dc_token_hash(const char *text, size_t len, uint8_t hash[DC_TOKEN_HASH_LEN])
{
	uint8_t token[DC_TOKEN_LEN];
	size_t got = 0;
	const char *end = NULL;
	int rc = -EINVAL;

	memset(hash, 0, DC_TOKEN_HASH_LEN);
	/* sodium_base642bin refuses non-zero padding bits, so one text maps to one token. */
	if (len == DC_TOKEN_TEXT_LEN &&
	    sodium_base642bin(token, sizeof(token), text, len, NULL, &got, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    got == DC_TOKEN_LEN && end == text + len) {
		hash_bytes(token, hash);
		rc = 0;
	}
	sodium_memzero(token, sizeof(token));
	return rc;
}
