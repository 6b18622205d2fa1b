/* SPDX-License-Identifier: MIT */
#ifndef NTM_CONF_H
#define NTM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/*
 * A strict INI reader in wg-quick's syntax, shared by every daemon.
 *
 *   [Section]            names case-insensitive, [A-Za-z0-9_.-], may repeat
 *   Key = Value          keys case-insensitive, same characters; whitespace
 *                        around key and value is trimmed; the value may be
 *                        empty; no multi-line values
 *   # comment            '#' starts a comment anywhere on a line (as wg)
 *
 * Blank lines are ignored and a CR before LF is dropped. Errors: a line longer
 * than NTM_CONF_LINE_MAX bytes, a NUL or other control byte (tab excepted),
 * an entry before any section, a line that is neither a section header nor
 * `key = value`, an empty or invalid key, a malformed section header.
 *
 * Reading is two steps. ntm_conf_parse()/ntm_conf_load() turn text into an
 * ordered list of sections and entries and check syntax only. ntm_conf_apply()
 * then walks it against a schema supplied by the daemon: unknown sections and
 * keys, duplicated single-valued keys and setter failures become errors.
 *
 * Every error is one line naming file, line and reason, e.g.
 * "ntm-node.conf:12: unknown key 'Foo' in [Interface]". Values are never
 * copied into messages by this module (a value may be a private key), and
 * keys longer than NTM_CONF_NAME_MAX are refused without being echoed, so
 * that a base64 key pasted on a line of its own does not end up in a log.
 */

enum {
	NTM_CONF_LINE_MAX = 4096,	   /* bytes per line, without the line ending */
	NTM_CONF_FILE_MAX = 1 << 20,	   /* bytes per file */
	NTM_CONF_NAME_MAX = 32,		   /* bytes per key or section name */
	NTM_CONF_ERR_MAX = 1024,	   /* bytes of an error message, NUL included */
	NTM_CONF_WHY_MAX = 256,		   /* bytes of the `why` buffer given to setters */
	NTM_CONF_SCHEMA_KEYS_MAX = 64,	   /* keys per section definition */
	NTM_CONF_SCHEMA_SECTIONS_MAX = 32, /* section definitions per schema */
};

/* The error record filled by every fallible call here; print `msg` as is. */
struct ntm_conf_err {
	unsigned line; /* 1-based, 0 when the error is not about one line */
	char msg[NTM_CONF_ERR_MAX];
};

struct ntm_conf;
struct ntm_conf_section;
struct ntm_conf_entry;

/*
 * Parse `len` bytes of `text` (borrowed; need not be NUL-terminated). `name`
 * (borrowed, copied) is the file name used in messages. On success *conf is
 * a new object the caller frees with ntm_conf_destroy(); on failure *conf is
 * NULL, err->msg says why and the return is -EINVAL (syntax), -EFBIG (over
 * NTM_CONF_FILE_MAX) or -ENOMEM. A conf parsed from a buffer is never
 * private (see ntm_conf_is_private).
 */
NTM_MUST_CHECK int ntm_conf_parse(const char *name, const char *text, size_t len,
				  struct ntm_conf **conf, struct ntm_conf_err *err);

/*
 * Read and parse the regular file at `path` (borrowed, used as the name in
 * messages), at most NTM_CONF_FILE_MAX bytes. Also records whether the file's
 * mode gives group or others any permission (fstat on the opened fd). A
 * directory, FIFO or device is refused (-EINVAL) without blocking, a file
 * that grows while being read is -EAGAIN. Returns as ntm_conf_parse, or the
 * negative errno of open/fstat/read, with "path: reason" in err->msg.
 */
NTM_MUST_CHECK int ntm_conf_load(const char *path, struct ntm_conf **conf,
				 struct ntm_conf_err *err);

/*
 * What a daemon's config_load does: ntm_conf_load(path), then
 * build(ctx, conf, err) on the result (a daemon's *_config_from_conf), then
 * the conf is destroyed. Returns the first failure, err as they set it.
 */
typedef int (*ntm_conf_build_cb)(void *ctx, const struct ntm_conf *conf, struct ntm_conf_err *err);
NTM_MUST_CHECK int ntm_conf_load_build(const char *path, ntm_conf_build_cb build, void *ctx,
				       struct ntm_conf_err *err);

/* Frees everything, wiping the text first (it may hold keys). Accepts NULL. */
void ntm_conf_destroy(struct ntm_conf *conf);

/*
 * True only for a conf loaded from a file with no group/other permission bit
 * (0600 and 0400 pass, 0640 or 0604 do not). A daemon refuses an inline
 * PrivateKey when this is false.
 */
bool ntm_conf_is_private(const struct ntm_conf *conf);

/* The name given to parse/load; valid until ntm_conf_destroy(). */
const char *ntm_conf_name(const struct ntm_conf *conf);

/*
 * Iteration in file order. Returned pointers and strings are owned by the
 * conf and valid until ntm_conf_destroy(); *_at() returns NULL past the end.
 * Names and keys are as spelled in the file; compare them case-insensitively.
 */
size_t ntm_conf_section_count(const struct ntm_conf *conf);
const struct ntm_conf_section *ntm_conf_section_at(const struct ntm_conf *conf, size_t i);
const char *ntm_conf_section_name(const struct ntm_conf_section *s);
unsigned ntm_conf_section_line(const struct ntm_conf_section *s);
size_t ntm_conf_entry_count(const struct ntm_conf_section *s);
const struct ntm_conf_entry *ntm_conf_entry_at(const struct ntm_conf_section *s, size_t i);
const char *ntm_conf_entry_key(const struct ntm_conf_entry *e);
const char *ntm_conf_entry_value(const struct ntm_conf_entry *e);
unsigned ntm_conf_entry_line(const struct ntm_conf_entry *e);

/* ---------------------------------------------------------------- schema */

/*
 * Store one value into `target`. `value` is borrowed for the call only.
 * Return 0, or a negative errno and a reason in `why` (whylen bytes, starts
 * as ""). The reason must not quote a secret value. An empty reason is
 * replaced by ntm_strerror(rc).
 */
typedef int (*ntm_conf_set_cb)(void *target, const char *value, char *why, size_t whylen);

/*
 * Make the target for one occurrence of a section (e.g. append a peer to the
 * caller's list) and return it in *target. The caller owns it: apply never
 * frees targets, also not when it fails later.
 */
typedef int (*ntm_conf_open_cb)(void *ctx, void **target, char *why, size_t whylen);

/* Cross-key checks after all entries of one occurrence were set. */
typedef int (*ntm_conf_check_cb)(void *target, char *why, size_t whylen);

/* Receives one warning line ("file:line: ..."), borrowed for the call. */
typedef void (*ntm_conf_warn_cb)(void *ctx, const char *msg);

enum ntm_conf_key_kind {
	NTM_CONF_KEY_ONCE,    /* at most once per section occurrence */
	NTM_CONF_KEY_MULTI,   /* may repeat; the setter sees every value in order */
	NTM_CONF_KEY_IGNORED, /* known but unsupported (wg-quick's DNS, PostUp...): warn */
};

struct ntm_conf_key_def {
	const char *name; /* NULL ends a table */
	enum ntm_conf_key_kind kind;
	ntm_conf_set_cb set; /* NULL only for NTM_CONF_KEY_IGNORED */
	bool required;	     /* must appear in every occurrence */
};

enum ntm_conf_section_flags {
	NTM_CONF_SECTION_REPEAT = 1 << 0,   /* may appear more than once ([Peer]) */
	NTM_CONF_SECTION_REQUIRED = 1 << 1, /* must appear at least once */
};

struct ntm_conf_section_def {
	const char *name; /* NULL ends a table */
	const struct ntm_conf_key_def *keys;
	unsigned flags;
	/*
	 * With `open`, each occurrence gets its own target from open(ctx, ...);
	 * otherwise every setter receives `target`. A repeatable section needs
	 * `open`. `check` (optional) runs after each occurrence.
	 */
	void *target;
	ntm_conf_open_cb open;
	void *ctx;
	ntm_conf_check_cb check;
};

struct ntm_conf_schema {
	const struct ntm_conf_section_def *sections;
	ntm_conf_warn_cb warn; /* NULL: ntm_log_warn */
	void *warn_ctx;
};

/*
 * Apply `conf` to `schema` (both borrowed) in file order, stopping at the
 * first error. Messages: "unknown section [X]", "duplicate section [X]
 * (first at line N)", "missing section [X]", "unknown key 'K' in [X]",
 * "duplicate key 'K' in [X] (first at line N)", "missing key 'K' in [X]",
 * "invalid K in [X]: why", "[X]: why" (open/check). Returns 0, the setter's
 * negative errno, or -EINVAL. A malformed schema is -EINVAL with "schema: ...".
 */
NTM_MUST_CHECK int ntm_conf_apply(const struct ntm_conf *conf, const struct ntm_conf_schema *schema,
				  struct ntm_conf_err *err);

/* ---------------------------------------------------------------- values */

/* Decimal in [min, max], no sign, no junk. -EINVAL (not a number), -ERANGE. */
NTM_MUST_CHECK int ntm_conf_parse_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out,
				      char *why, size_t whylen);

/*
 * A group for a control socket (ControlGroup): a name, or a number for a
 * group that has none. -ENOENT ("no such group"), -EINVAL, -ERANGE, -ENOMEM.
 */
NTM_MUST_CHECK int ntm_conf_parse_group(const char *value, gid_t *out, char *why, size_t whylen);

/*
 * Pieces of the daemons' config builders (dc/config.c, rs/config.c) that read
 * the same in both.
 *
 * ntm_conf_fail: writes `msg` as the reason and returns `rc`.
 * ntm_conf_private_key: PrivateKey (inline, from_file false: refused unless
 * the file is private) or PrivateKeyFile (from_file true: `value` names a
 * 0600 key file) into *slot, allocated in secure memory on first use.
 * ntm_conf_addr_list_add: one item of an address list key, refused when it
 * is listed twice or the list already holds `max`.
 * ntm_conf_alloc_config: the start of a builder: clears `err` and returns
 * `size` zeroed bytes, or NULL with "NAME: out of memory" in `err`.
 */
struct ntm_addr;
struct ntm_key;
int ntm_conf_fail(char *why, size_t whylen, int rc, const char *msg);
NTM_MUST_CHECK int ntm_conf_private_key(const struct ntm_conf *conf, struct ntm_key **slot,
					const char *value, bool from_file, char *why,
					size_t whylen);
NTM_MUST_CHECK int ntm_conf_addr_list_add(struct ntm_addr *list, size_t *n, size_t max,
					  const char *item, char *why, size_t whylen);
void *ntm_conf_alloc_config(const struct ntm_conf *conf, size_t size, struct ntm_conf_err *err);

/* true/false, yes/no, on/off, 1/0, case-insensitive. */
NTM_MUST_CHECK int ntm_conf_parse_bool(const char *value, bool *out, char *why, size_t whylen);

/* Called once per list item; `item` is trimmed, non-empty, valid for the call. */
typedef int (*ntm_conf_item_cb)(void *ctx, const char *item, char *why, size_t whylen);

/*
 * Split a comma-separated value ("a, b,c") and call `cb` for each item in
 * order, stopping at the first failure and returning it. An empty item
 * ("a, ,b", "a,", "") is -EINVAL; an item longer than NTM_CONF_LINE_MAX is
 * -E2BIG.
 */
NTM_MUST_CHECK int ntm_conf_split_list(const char *value, ntm_conf_item_cb cb, void *ctx, char *why,
				       size_t whylen);

#endif
