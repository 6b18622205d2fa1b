/* SPDX-License-Identifier: MIT */
#include "conf.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "alloc.h"
#include "crypto.h"
#include "key.h"
#include "log.h"

/*
 * The parser works in place on one private copy of the text: it writes a NUL
 * at the end of every key, value and section name, and the entries point into
 * that copy. Entries live in one flat array in file order; a section is the
 * run [first, first + count) of it. The copy is wiped on destroy because a
 * config may hold an inline PrivateKey.
 */

struct ntm_conf_entry {
	const char *key;
	const char *value;
	unsigned line;
};

struct ntm_conf_section {
	const struct ntm_conf *conf;
	const char *name;
	unsigned line;
	size_t first;
	size_t count;
};

struct ntm_conf {
	char *name;
	char *text; /* text_len + 1 bytes */
	size_t text_len;
	bool private;
	struct ntm_conf_section *sections;
	size_t n_sections, cap_sections;
	struct ntm_conf_entry *entries;
	size_t n_entries, cap_entries;
};

static void clear_err(struct ntm_conf_err *err)
{
	err->line = 0;
	err->msg[0] = '\0';
}

/* Fill err with "name:line: ..." (or "name: ..." for line 0) and return rc. */
__attribute__((format(printf, 5, 6))) static int
fail(struct ntm_conf_err *err, int rc, const char *name, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	err->line = line;
	if (line > 0) {
		n = snprintf(err->msg, sizeof(err->msg), "%s:%u: ", name, line);
	} else {
		n = snprintf(err->msg, sizeof(err->msg), "%s: ", name);
	}
	if (n >= 0 && (size_t)n < sizeof(err->msg)) {
		va_start(ap, fmt);
		vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static bool is_name(const char *s, size_t n)
{
	if (n == 0 || n > NTM_CONF_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(s[i])) {
			return false;
		}
	}
	return true;
}

/* Trim blanks around s[0..*n), NUL-terminate, return the new start. */
static char *trim(char *s, size_t *n)
{
	size_t len = *n;

	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1])) {
		len--;
	}
	s[len] = '\0';
	*n = len;
	return s;
}

/* Make room for `need` elements; returns the (possibly moved) array or NULL. */
static void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap) {
		return arr;
	}
	ncap = *cap ? *cap * 2 : 8;
	p = ntm_realloc(arr, ncap * size);
	if (p != NULL) {
		*cap = ncap;
	}
	return p;
}

static int add_section(struct ntm_conf *conf, const char *name, unsigned line,
		       struct ntm_conf_err *err)
{
	struct ntm_conf_section *s;

	s = grow(conf->sections, &conf->cap_sections, conf->n_sections + 1, sizeof(*s));
	if (s == NULL) {
		return fail(err, -ENOMEM, conf->name, line, "out of memory");
	}
	conf->sections = s;
	s[conf->n_sections++] = (struct ntm_conf_section){
		.conf = conf, .name = name, .line = line, .first = conf->n_entries, .count = 0
	};
	return 0;
}

static int add_entry(struct ntm_conf *conf, const char *key, const char *value, unsigned line,
		     struct ntm_conf_err *err)
{
	struct ntm_conf_entry *e;

	e = grow(conf->entries, &conf->cap_entries, conf->n_entries + 1, sizeof(*e));
	if (e == NULL) {
		return fail(err, -ENOMEM, conf->name, line, "out of memory");
	}
	conf->entries = e;
	e[conf->n_entries++] = (struct ntm_conf_entry){ .key = key, .value = value, .line = line };
	conf->sections[conf->n_sections - 1].count++;
	return 0;
}

/* s[0..n) is trimmed, non-empty and starts with '['. */
static int parse_header(struct ntm_conf *conf, char *s, size_t n, unsigned line,
			struct ntm_conf_err *err)
{
	char *name;
	size_t len;

	if (n < 2 || s[n - 1] != ']') {
		return fail(err, -EINVAL, conf->name, line, "malformed section header");
	}
	len = n - 2;
	name = trim(s + 1, &len);
	if (len == 0) {
		return fail(err, -EINVAL, conf->name, line, "empty section name");
	}
	if (!is_name(name, len)) {
		return fail(err, -EINVAL, conf->name, line, "malformed section header");
	}
	return add_section(conf, name, line, err);
}

/* s[0..n) is trimmed and non-empty. */
static int parse_entry(struct ntm_conf *conf, char *s, size_t n, unsigned line,
		       struct ntm_conf_err *err)
{
	char *eq = memchr(s, '=', n);
	char *key, *value;
	size_t klen, vlen;

	if (eq == NULL) {
		return fail(err, -EINVAL, conf->name, line,
			    "expected '[Section]' or 'Key = Value'");
	}
	klen = (size_t)(eq - s);
	vlen = n - klen - 1;
	key = trim(s, &klen);
	value = trim(eq + 1, &vlen);
	if (klen == 0) {
		return fail(err, -EINVAL, conf->name, line, "empty key");
	}
	if (conf->n_sections == 0) {
		return fail(err, -EINVAL, conf->name, line, "entry before any section");
	}
	/* Not echoed: an over-long or odd "key" may be a pasted base64 secret. */
	if (klen > NTM_CONF_NAME_MAX) {
		return fail(err, -EINVAL, conf->name, line, "key too long (more than %d bytes)",
			    NTM_CONF_NAME_MAX);
	}
	if (!is_name(key, klen)) {
		return fail(err, -EINVAL, conf->name, line,
			    "invalid key (letters, digits, '_', '-', '.' only)");
	}
	return add_entry(conf, key, value, line, err);
}

/* One line without its line ending, NUL-terminated at s[n]. */
static int parse_line(struct ntm_conf *conf, char *s, size_t n, unsigned line,
		      struct ntm_conf_err *err)
{
	char *hash;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0') {
			return fail(err, -EINVAL, conf->name, line, "NUL byte");
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return fail(err, -EINVAL, conf->name, line, "control character 0x%02x", c);
		}
	}
	hash = memchr(s, '#', n);
	if (hash != NULL) {
		n = (size_t)(hash - s);
	}
	s = trim(s, &n);
	if (n == 0) {
		return 0;
	}
	if (s[0] == '[') {
		return parse_header(conf, s, n, line, err);
	}
	return parse_entry(conf, s, n, line, err);
}

static int parse_text(struct ntm_conf *conf, struct ntm_conf_err *err)
{
	char *p = conf->text, *end = conf->text + conf->text_len;
	unsigned line = 0;
	int rc;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		line++;
		if (n > 0 && p[n - 1] == '\r') {
			n--;
		}
		if (n > NTM_CONF_LINE_MAX) {
			return fail(err, -EINVAL, conf->name, line,
				    "line too long (more than %d bytes)", NTM_CONF_LINE_MAX);
		}
		p[n] = '\0';
		rc = parse_line(conf, p, n, line, err);
		if (rc < 0) {
			return rc;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static void wipe_free(char *buf, size_t len)
{
	if (buf != NULL) {
		sodium_memzero(buf, len);
		ntm_free(buf);
	}
}

/* Takes ownership of buf (len + 1 bytes) in every case. */
static int parse_owned(const char *name, char *buf, size_t len, bool private, struct ntm_conf **out,
		       struct ntm_conf_err *err)
{
	struct ntm_conf *conf = ntm_calloc(1, sizeof(*conf));
	int rc;

	if (conf == NULL) {
		wipe_free(buf, len + 1);
		return fail(err, -ENOMEM, name, 0, "out of memory");
	}
	conf->text = buf;
	conf->text_len = len;
	conf->private = private;
	conf->name = ntm_strdup(name);
	if (conf->name == NULL) {
		ntm_conf_destroy(conf);
		return fail(err, -ENOMEM, name, 0, "out of memory");
	}
	rc = parse_text(conf, err);
	if (rc < 0) {
		ntm_conf_destroy(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

int ntm_conf_parse(const char *name, const char *text, size_t len, struct ntm_conf **conf,
		   struct ntm_conf_err *err)
{
	char *buf;

	*conf = NULL;
	clear_err(err);
	if (len > NTM_CONF_FILE_MAX) {
		return fail(err, -EFBIG, name, 0, "file too large (more than %d bytes)",
			    NTM_CONF_FILE_MAX);
	}
	buf = ntm_malloc(len + 1);
	if (buf == NULL) {
		return fail(err, -ENOMEM, name, 0, "out of memory");
	}
	if (len > 0) {
		memcpy(buf, text, len);
	}
	buf[len] = '\0';
	return parse_owned(name, buf, len, false, conf, err);
}

/* Read all of a regular file into a new buffer with one spare byte. */
static int read_file(int fd, const char *path, char **out, size_t *len, mode_t *mode,
		     struct ntm_conf_err *err)
{
	struct stat st;
	size_t cap, got = 0;
	char *buf;

	if (fstat(fd, &st) < 0) {
		int rc = -errno;

		return fail(err, rc, path, 0, "%s", ntm_strerror(rc));
	}
	if (!S_ISREG(st.st_mode)) {
		return fail(err, -EINVAL, path, 0, "not a regular file");
	}
	if (st.st_size > NTM_CONF_FILE_MAX) {
		return fail(err, -EFBIG, path, 0, "file too large (more than %d bytes)",
			    NTM_CONF_FILE_MAX);
	}
	/* One byte more than fstat said, to notice a file that grew meanwhile. */
	cap = (size_t)st.st_size + 1;
	buf = ntm_malloc(cap);
	if (buf == NULL) {
		return fail(err, -ENOMEM, path, 0, "out of memory");
	}
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int rc = -errno;

			wipe_free(buf, cap);
			return fail(err, rc, path, 0, "%s", ntm_strerror(rc));
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	if (got == cap) {
		wipe_free(buf, cap);
		return fail(err, -EAGAIN, path, 0, "file changed while being read");
	}
	*out = buf;
	*len = got;
	*mode = st.st_mode;
	return 0;
}

int ntm_conf_load(const char *path, struct ntm_conf **conf, struct ntm_conf_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int fd, rc;

	*conf = NULL;
	clear_err(err);
	/* O_NONBLOCK: a FIFO must not hang start-up before fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		return fail(err, rc, path, 0, "%s", ntm_strerror(rc));
	}
	rc = read_file(fd, path, &buf, &len, &mode, err);
	close(fd);
	if (rc < 0) {
		return rc;
	}
	return parse_owned(path, buf, len, (mode & (S_IRWXG | S_IRWXO)) == 0, conf, err);
}

void ntm_conf_destroy(struct ntm_conf *conf)
{
	if (conf == NULL) {
		return;
	}
	wipe_free(conf->text, conf->text_len + 1);
	ntm_free(conf->sections);
	ntm_free(conf->entries);
	ntm_free(conf->name);
	ntm_free(conf);
}

bool ntm_conf_is_private(const struct ntm_conf *conf)
{
	return conf->private;
}

const char *ntm_conf_name(const struct ntm_conf *conf)
{
	return conf->name;
}

size_t ntm_conf_section_count(const struct ntm_conf *conf)
{
	return conf->n_sections;
}

const struct ntm_conf_section *ntm_conf_section_at(const struct ntm_conf *conf, size_t i)
{
	return i < conf->n_sections ? &conf->sections[i] : NULL;
}

const char *ntm_conf_section_name(const struct ntm_conf_section *s)
{
	return s->name;
}

unsigned ntm_conf_section_line(const struct ntm_conf_section *s)
{
	return s->line;
}

size_t ntm_conf_entry_count(const struct ntm_conf_section *s)
{
	return s->count;
}

const struct ntm_conf_entry *ntm_conf_entry_at(const struct ntm_conf_section *s, size_t i)
{
	return i < s->count ? &s->conf->entries[s->first + i] : NULL;
}

const char *ntm_conf_entry_key(const struct ntm_conf_entry *e)
{
	return e->key;
}

const char *ntm_conf_entry_value(const struct ntm_conf_entry *e)
{
	return e->value;
}

unsigned ntm_conf_entry_line(const struct ntm_conf_entry *e)
{
	return e->line;
}

int ntm_conf_load_build(const char *path, ntm_conf_build_cb build, void *ctx,
			struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc = ntm_conf_load(path, &conf, err);

	if (rc < 0) {
		return rc;
	}
	rc = build(ctx, conf, err);
	ntm_conf_destroy(conf);
	return rc;
}

int ntm_conf_fail(char *why, size_t whylen, int rc, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return rc;
}

int ntm_conf_private_key(const struct ntm_conf *conf, struct ntm_key **slot, const char *value,
			 bool from_file, char *why, size_t whylen)
{
	if (*slot == NULL) {
		*slot = ntm_crypto_secure_alloc(sizeof(**slot));
		if (*slot == NULL) {
			return -ENOMEM;
		}
	}
	if (from_file) {
		return ntm_key_load_file(value, *slot, why, whylen);
	}
	return ntm_key_from_config(*slot, value, ntm_conf_is_private(conf), why, whylen);
}

int ntm_conf_addr_list_add(struct ntm_addr *list, size_t *n, size_t max, const char *item,
			   char *why, size_t whylen)
{
	struct ntm_addr a;
	int rc = ntm_addr_parse(item, 0, &a, why, whylen);

	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < *n; i++) {
		if (ntm_addr_equal(&list[i], &a)) {
			return ntm_conf_fail(why, whylen, -EEXIST, "an address is listed twice");
		}
	}
	if (*n == max) {
		snprintf(why, whylen, "more than %zu addresses", max);
		return -E2BIG;
	}
	list[(*n)++] = a;
	return 0;
}

void *ntm_conf_alloc_config(const struct ntm_conf *conf, size_t size, struct ntm_conf_err *err)
{
	void *cfg;

	err->line = 0;
	err->msg[0] = '\0';
	cfg = ntm_calloc(1, size);
	if (cfg == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", ntm_conf_name(conf));
	}
	return cfg;
}
