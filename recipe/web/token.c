/* SPDX-License-Identifier: MIT */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rcp_token_generate(char out[RCP_TOKEN_TEXT])
{
	uint8_t raw[RCP_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, RCP_TOKEN_TEXT, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

bool rcp_token_is_valid(const char *s)
{
	return s != NULL && strlen(s) == RCP_TOKEN_TEXT - 1 &&
	       strspn(s, "0123456789abcdef") == RCP_TOKEN_TEXT - 1;
}

void rcp_token_hash(const char *token, uint8_t out[RCP_TOKEN_HASH])
{
	(void)crypto_generichash(out, RCP_TOKEN_HASH, (const unsigned char *)token, strlen(token),
				 NULL, 0);
}

bool rcp_token_matches(const char *token, const uint8_t hash[RCP_TOKEN_HASH])
{
	uint8_t h[RCP_TOKEN_HASH];
	bool ok;

	if (!rcp_token_is_valid(token)) {
		return false;
	}
	rcp_token_hash(token, h);
	ok = sodium_memcmp(h, hash, RCP_TOKEN_HASH) == 0;
	sodium_memzero(h, sizeof(h));
	return ok;
}

int rcp_token_read_file(const char *path, char out[RCP_TOKEN_TEXT], char *why, size_t whylen)
{
	char buf[RCP_TOKEN_TEXT + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		rc = -EINVAL;
	} else if (st.st_mode & 077) {
		snprintf(why, whylen, "%s: readable by group or others (chmod 600 it)", path);
		rc = -EPERM;
	} else if ((n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
	} else {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!rcp_token_is_valid(buf)) {
			snprintf(why, whylen, "%s: expected 64 lowercase hex characters", path);
			rc = -EINVAL;
		} else {
			memcpy(out, buf, RCP_TOKEN_TEXT);
		}
	}
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int rcp_token_load_file(const char *path, uint8_t hash[RCP_TOKEN_HASH], char *why, size_t whylen)
{
	char t[RCP_TOKEN_TEXT];
	int rc = rcp_token_read_file(path, t, why, whylen);

	if (rc == 0) {
		rcp_token_hash(t, hash);
	}
	sodium_memzero(t, sizeof(t));
	return rc;
}
