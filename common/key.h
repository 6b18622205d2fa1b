/* SPDX-License-Identifier: MIT */
#ifndef NTM_KEY_H
#define NTM_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Curve25519 static keys in WireGuard's text format: standard base64
 * (RFC 4648 section 4 alphabet) of 32 bytes, i.e. 43 characters and one '='
 * of padding. Private keys are clamped like `wg genkey` does (RFC 7748
 * section 5, decodeScalar25519). Every primitive comes from libsodium.
 *
 * struct ntm_key is a plain value type. Whoever holds a private key wipes it
 * with ntm_key_wipe() (sodium_memzero) on every exit path; long-lived private
 * keys belong in sodium_malloc'd memory.
 */

enum {
	NTM_KEY_LEN = 32,
	NTM_KEY_B64_LEN = 44,			/* characters, without the NUL */
	NTM_KEY_B64_SIZE = NTM_KEY_B64_LEN + 1, /* buffer size, with the NUL */
};

struct ntm_key {
	uint8_t b[NTM_KEY_LEN];
};

/* A fresh random private key, clamped (k[0] &= 248, k[31] &= 127, k[31] |= 64). */
NTM_MUST_CHECK int ntm_key_generate(struct ntm_key *priv);

/*
 * The public key of `priv` (X25519 with the base point; the scalar is clamped
 * internally, so unclamped private keys give the same result as `wg pubkey`).
 * `pub` may alias `priv`. Returns -EINVAL if libsodium refuses the scalar.
 */
NTM_MUST_CHECK int ntm_key_public(struct ntm_key *pub, const struct ntm_key *priv);

/* Writes the 44-character base64 text and a NUL into `out`. */
void ntm_key_to_base64(char out[NTM_KEY_B64_SIZE], const struct ntm_key *key);

/*
 * Decodes exactly NTM_KEY_B64_LEN characters of `s` (need not be
 * NUL-terminated): valid alphabet, one '=' of padding, zero trailing bits, 32
 * bytes. Returns -EINVAL otherwise; `key` is zeroed on entry and on failure.
 */
NTM_MUST_CHECK int ntm_key_from_base64(struct ntm_key *key, const char *s, size_t len);

/*
 * Like ntm_key_from_base64 for text read from a file or stdin, as `wg pubkey`
 * and `wg set ... private-key FILE` accept it: the key in the first 44 bytes,
 * followed only by whitespace or NUL bytes. Returns -EINVAL for a bad key and
 * -EBADMSG for trailing garbage after a well-formed key length.
 */
NTM_MUST_CHECK int ntm_key_from_text(struct ntm_key *key, const char *s, size_t len);

/* sodium_memcmp: constant time. */
bool ntm_key_equal(const struct ntm_key *a, const struct ntm_key *b);
bool ntm_key_is_zero(const struct ntm_key *key);
void ntm_key_wipe(struct ntm_key *key);

struct stat;

/*
 * The rule for any file that holds a private key (a PrivateKeyFile, or a
 * config file with an inline PrivateKey): a regular file and mode & 077 == 0
 * (0600 and 0400 pass). `st` comes from fstat on the descriptor the caller
 * then reads. Returns -EINVAL (not a regular file) or -EACCES (too open) and
 * a reason naming the file, its mode and the fix in why[why_len] (if not NULL).
 */
NTM_MUST_CHECK int ntm_key_check_mode(const char *path, const struct stat *st, char *why,
				      size_t why_len);

/*
 * Reads a PrivateKeyFile (base64 key, optional trailing whitespace). The file
 * must be a regular file that neither group nor others may access (mode & 077
 * == 0; checked with fstat on the opened descriptor). On failure returns a
 * negative errno (-EACCES for a too-open mode, -EINVAL for bad contents) and,
 * if `why` is not NULL, writes a one-line reason naming the file into
 * why[why_len]. `key` is zeroed on entry and on failure.
 */
NTM_MUST_CHECK int ntm_key_load_file(const char *path, struct ntm_key *key, char *why,
				     size_t why_len);

/*
 * An inline `PrivateKey = BASE64` of a config file (DESIGN "Identities and
 * security"): refused with -EPERM unless the file is private (`is_private`:
 * ntm_conf_is_private), -EINVAL when it is not a key; the reason (never the
 * value) goes to why[why_len]. `key` is zeroed on entry.
 */
NTM_MUST_CHECK int ntm_key_from_config(struct ntm_key *key, const char *value, bool is_private,
				       char *why, size_t why_len);

/*
 * Writes the key as base64 plus a newline, atomically: a 0600 temporary file
 * in the same directory, fsync, rename over `path`, fsync of the directory.
 * On failure `path` is untouched and the temporary file is removed.
 */
NTM_MUST_CHECK int ntm_key_save_file(const char *path, const struct ntm_key *key);

#endif
