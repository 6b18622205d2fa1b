/* SPDX-License-Identifier: MIT */
#include "key.h"

#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A key file holds 44 characters and a newline; allow generous whitespace. */
enum { KEY_FILE_MAX = 256 };

static void set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_len == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

int ntm_key_generate(struct ntm_key *priv)
{
	if (sodium_init() < 0) {
		sodium_memzero(priv, sizeof(*priv));
		return -EIO;
	}
	randombytes_buf(priv->b, sizeof(priv->b));
	/* RFC 7748 section 5: clear the cofactor bits, set bit 254. */
	priv->b[0] &= 248;
	priv->b[31] &= 127;
	priv->b[31] |= 64;
	return 0;
}

int ntm_key_public(struct ntm_key *pub, const struct ntm_key *priv)
{
	uint8_t out[NTM_KEY_LEN];
	int rc = 0;

	if (crypto_scalarmult_curve25519_base(out, priv->b) != 0) {
		rc = -EINVAL;
	}
	memcpy(pub->b, out, sizeof(pub->b));
	sodium_memzero(out, sizeof(out));
	return rc;
}

void ntm_key_to_base64(char out[NTM_KEY_B64_SIZE], const struct ntm_key *key)
{
	sodium_bin2base64(out, NTM_KEY_B64_SIZE, key->b, sizeof(key->b),
			  sodium_base64_VARIANT_ORIGINAL);
}

int ntm_key_from_base64(struct ntm_key *key, const char *s, size_t len)
{
	size_t bin_len = 0;

	sodium_memzero(key, sizeof(*key));
	/* 32 bytes are 42 full characters, one with 4 bits of data, one '='. */
	if (len != NTM_KEY_B64_LEN || s[NTM_KEY_B64_LEN - 1] != '=') {
		return -EINVAL;
	}
	/* With b64_end NULL libsodium demands that every character is consumed,
	 * and it rejects non-zero trailing bits, so each key has one text form. */
	if (sodium_base642bin(key->b, sizeof(key->b), s, len, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != sizeof(key->b)) {
		sodium_memzero(key, sizeof(*key));
		return -EINVAL;
	}
	return 0;
}

static bool is_trailing_space(char c)
{
	/* What `wg pubkey` skips after the key: NUL and C-locale isspace(). */
	return c == '\0' || c == ' ' || (c >= '\t' && c <= '\r');
}

int ntm_key_from_text(struct ntm_key *key, const char *s, size_t len)
{
	sodium_memzero(key, sizeof(*key));
	if (len < NTM_KEY_B64_LEN) {
		return -EINVAL;
	}
	for (size_t i = NTM_KEY_B64_LEN; i < len; i++) {
		if (!is_trailing_space(s[i])) {
			return -EBADMSG;
		}
	}
	return ntm_key_from_base64(key, s, NTM_KEY_B64_LEN);
}

int ntm_key_from_config(struct ntm_key *key, const char *value, bool is_private, char *why,
			size_t why_len)
{
	sodium_memzero(key, sizeof(*key));
	if (!is_private) {
		snprintf(why, why_len,
			 "the file may be read by group or others (chmod 600 it, "
			 "or use PrivateKeyFile)");
		return -EPERM;
	}
	if (ntm_key_from_base64(key, value, strlen(value)) < 0) {
		snprintf(why, why_len, "not a base64 key of 32 bytes (44 characters)");
		return -EINVAL;
	}
	return 0;
}

bool ntm_key_equal(const struct ntm_key *a, const struct ntm_key *b)
{
	return sodium_memcmp(a->b, b->b, NTM_KEY_LEN) == 0;
}

bool ntm_key_is_zero(const struct ntm_key *key)
{
	return sodium_is_zero(key->b, NTM_KEY_LEN) != 0;
}

void ntm_key_wipe(struct ntm_key *key)
{
	sodium_memzero(key, sizeof(*key));
}

int ntm_key_check_mode(const char *path, const struct stat *st, char *why, size_t why_len)
{
	if (!S_ISREG(st->st_mode)) {
		set_why(why, why_len, "%s: not a regular file", path);
		return -EINVAL;
	}
	if ((st->st_mode & 077) != 0) {
		set_why(why, why_len,
			"%s: mode %04o lets group or others access a private key; run: chmod 600 "
			"%s",
			path, (unsigned)(st->st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

/* Reads the whole (small) file into buf; -EFBIG if it holds more than cap - 1 bytes. */
static int read_small(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			return 0;
		}
		*len += (size_t)n;
		if (*len == cap) {
			return -EFBIG;
		}
	}
}

int ntm_key_load_file(const char *path, struct ntm_key *key, char *why, size_t why_len)
{
	char text[KEY_FILE_MAX];
	struct stat st;
	size_t len = 0;
	int fd, rc;

	sodium_memzero(key, sizeof(*key));
	set_why(why, why_len, "%s", "");
	/* O_NONBLOCK: a FIFO at the path must not hang start-up. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		set_why(why, why_len, "%s: %s", path, ntm_strerror(rc));
		return rc;
	}
	/* fstat on the descriptor we read from: no window for a swap. */
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		set_why(why, why_len, "%s: %s", path, ntm_strerror(rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		set_why(why, why_len, "%s: not a regular file", path);
		goto out;
	}
	rc = ntm_key_check_mode(path, &st, why, why_len);
	if (rc < 0) {
		goto out;
	}
	rc = read_small(fd, text, sizeof(text), &len);
	if (rc < 0) {
		set_why(why, why_len, "%s: %s", path,
			rc == -EFBIG ? "too long for a key file" : ntm_strerror(rc));
		rc = rc == -EFBIG ? -EINVAL : rc;
		goto out;
	}
	rc = ntm_key_from_text(key, text, len);
	if (rc < 0) {
		set_why(why, why_len, "%s: not a base64 Curve25519 key (44 characters)", path);
		rc = -EINVAL;
	}
out:
	sodium_memzero(text, sizeof(text));
	close(fd);
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Splits path into its directory ("." if none) and writes the temp template. */
static int temp_names(const char *path, char *dir, char *tmp, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL) {
		n = snprintf(dir, cap, ".");
	} else if (slash == path) {
		n = snprintf(dir, cap, "/");
	} else {
		n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
	}
	if (n < 0 || (size_t)n >= cap) {
		return -ENAMETOOLONG;
	}
	n = snprintf(tmp, cap, "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path);
	if (n < 0 || (size_t)n >= cap) {
		return -ENAMETOOLONG;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
	}
	close(fd);
	return rc;
}

/* Creates, fills and syncs the temporary file; it is left in place on success. */
static int write_temp(char *tmp, const struct ntm_key *key)
{
	char text[NTM_KEY_B64_SIZE + 1];
	int fd, rc;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	ntm_key_to_base64(text, key);
	text[NTM_KEY_B64_LEN] = '\n';
	/* mkostemp uses 0600 already; say so explicitly, whatever the libc. */
	rc = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (rc == 0) {
		rc = write_all(fd, text, NTM_KEY_B64_LEN + 1);
	}
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	sodium_memzero(text, sizeof(text));
	if (rc < 0) {
		unlink(tmp);
	}
	return rc;
}

int ntm_key_save_file(const char *path, const struct ntm_key *key)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int rc;

	rc = temp_names(path, dir, tmp, sizeof(dir));
	if (rc < 0) {
		return rc;
	}
	rc = write_temp(tmp, key);
	if (rc < 0) {
		return rc;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	return sync_dir(dir);
}
