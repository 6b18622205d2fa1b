/* SPDX-License-Identifier: MIT */
#ifndef RCP_RECIPE_H
#define RCP_RECIPE_H

/*
 * Recipe language: the AST value types, their limits, and the text form
 * (strict parser and canonical printer). The grammar is in parser.c and in
 * ntm-recipe(5). Everything in librecipe is pure logic: no I/O, no clocks.
 *
 * Every AST node and string is heap memory owned by its parent; a whole
 * recipe is freed with rcp_recipe_free() and a parsed file with
 * rcp_file_free().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Limits of the language; the parsers check every one of them. */
enum rcp_limit {
	RCP_TEXT_MAX = 65536,	     /* bytes of one recipe or policy text */
	RCP_INSTALL_MAX = 16384,     /* bytes of one recipe's canonical text on a device */
	RCP_RECIPES_MAX = 256,	     /* recipes in one file */
	RCP_RULES_MAX = 256,	     /* forbid rules in one policy */
	RCP_NAME_MAX = 64,	     /* recipe name */
	RCP_IDENT_MAX = 32,	     /* enumeration word, parameter name */
	RCP_STRING_MAX = 256,	     /* quoted string (bytes, after unescaping) */
	RCP_FQDN_MAX = 253,	     /* host part of a resource reference */
	RCP_LABEL_MAX = 63,	     /* one DNS label */
	RCP_PATH_MAX = 128,	     /* resource part of a resource reference */
	RCP_DEPTH_MAX = 8,	     /* nested parentheses in a condition */
	RCP_CONDS_MAX = 32,	     /* comparisons in one condition */
	RCP_ACTIONS_MAX = 16,	     /* do + notify lines in one recipe */
	RCP_PARAMS_MAX = 8,	     /* name=value parameters of one action */
	RCP_DURATION_MAX_S = 604800, /* one week */
	RCP_TTL_MIN_S = 1,	     /* "within": the range of an agent's ActionDeadline */
	RCP_TTL_MAX_S = 86400,
	RCP_INT_DIGITS_MAX = 12, /* digits before the decimal point */
	RCP_FRAC_DIGITS_MAX = 6, /* digits after it */
	RCP_NUM_SCALE = 1000000, /* numbers are stored as value * 10^6 */
	RCP_ERRMSG_MAX = 160,
};

/*
 * A parse error. Text errors carry the 1-based line and byte column of the
 * offending token; JSON errors have line 0 and name the JSON path in msg
 * (e.g. "$.when.all[1].value: expected number").
 */
struct rcp_error {
	unsigned line;
	unsigned col;
	char msg[RCP_ERRMSG_MAX];
};

enum rcp_value_type {
	RCP_VAL_NONE = 0, /* no value (an action without one; an unknown reading) */
	RCP_VAL_NUMBER,
	RCP_VAL_BOOL,
	RCP_VAL_TEXT, /* an enumeration word or a quoted string: the same kind */
};

/*
 * A value. Numbers are fixed point (value * RCP_NUM_SCALE) so that text,
 * JSON and comparisons are exact. `text` is owned, NUL-terminated, valid
 * UTF-8 without control characters.
 */
struct rcp_value {
	enum rcp_value_type type;
	bool b;
	int64_t num;
	char *text;
};

enum rcp_op {
	RCP_OP_EQ,
	RCP_OP_NE,
	RCP_OP_LT,
	RCP_OP_LE,
	RCP_OP_GT,
	RCP_OP_GE,
};

enum rcp_cond_kind {
	RCP_COND_CMP, /* resource OP value [for DURATION] */
	RCP_COND_AND, /* all kids hold (n_kids >= 2) */
	RCP_COND_OR,  /* at least one kid holds (n_kids >= 2) */
};

/* A condition tree. line/col locate the node in text (0 when from JSON). */
struct rcp_cond {
	enum rcp_cond_kind kind;
	unsigned line, col;
	char *resource; /* CMP: "fqdn/path", owned */
	enum rcp_op op;
	struct rcp_value value;
	uint64_t for_ms;	/* CMP: must hold continuously this long; 0 = at once */
	struct rcp_cond **kids; /* AND/OR: owned array of owned nodes */
	size_t n_kids;
};

struct rcp_param {
	char *name; /* owned identifier */
	struct rcp_value value;
};

enum rcp_action_kind {
	RCP_ACT_DO,	/* set target (a resource) to value, with params */
	RCP_ACT_NOTIFY, /* notify target ("owner" or a resource) with message */
};

struct rcp_action {
	enum rcp_action_kind kind;
	unsigned line, col;
	char *target;		  /* owned: "fqdn/path", or "owner" for NOTIFY */
	struct rcp_value value;	  /* DO: optional; NOTIFY: NONE or TEXT message */
	struct rcp_param *params; /* DO only; owned array */
	size_t n_params;
};

enum rcp_mode {
	RCP_MODE_EDGE,	/* fire when the trigger becomes true, re-arm when false */
	RCP_MODE_LEVEL, /* fire on each evaluation while true (see every_ms) */
};

struct rcp_recipe {
	char *name; /* owned */
	unsigned line, col;
	struct rcp_cond *when; /* owned */
	enum rcp_mode mode;
	uint64_t every_ms; /* LEVEL only: at most one firing per every_ms; 0 = no limit */
	uint64_t ttl_ms; /* "within D": its actions must be acknowledged by then; 0 = device default
			  */
	struct rcp_action *actions; /* owned array, n_actions >= 1 */
	size_t n_actions;
};

/* The recipes of one text (or one JSON array), in order; names are unique. */
struct rcp_file {
	struct rcp_recipe **recipes; /* owned array of owned recipes */
	size_t n;
};

/* Values. rcp_value_fini frees the text and resets to NONE (NULL-safe). */
void rcp_value_fini(struct rcp_value *v);
/* Deep copy; dst is overwritten (not freed first). */
NTM_MUST_CHECK int rcp_value_copy(struct rcp_value *dst, const struct rcp_value *src);
/* Set dst to an owned copy of the text s (validated: -EINVAL if not allowed). */
NTM_MUST_CHECK int rcp_value_set_text(struct rcp_value *dst, const char *s);
/* Nearest fixed-point number; -ERANGE outside the language's range or NaN. */
NTM_MUST_CHECK int rcp_value_set_double(struct rcp_value *dst, double d);
bool rcp_value_eq(const struct rcp_value *a, const struct rcp_value *b);

/*
 * Compare a reading x against the constant c: 1 when `x op c` holds, 0 when
 * it does not, -1 when it cannot be decided (x is NONE, or its type differs
 * from c's, or an ordering operator meets a non-number).
 */
int rcp_value_compare(const struct rcp_value *x, enum rcp_op op, const struct rcp_value *c);

/*
 * A number in the language's strict decimal form ("-?D{1,12}(.D{1,6})?",
 * len bytes, no whitespace) into *out (zeroed on entry): -EINVAL, -ERANGE.
 */
NTM_MUST_CHECK int rcp_value_parse_number(const char *s, size_t len, struct rcp_value *out);

enum { RCP_VALUE_TEXT_MAX = RCP_STRING_MAX + 1 }; /* rcp_value_format: always enough */

/*
 * A reading of unknown type as another device serves it (the inverse of
 * rcp_value_format): "true" / "false" a boolean, the strict decimal form a
 * number, any other text allowed in the language a text; len bytes, no
 * surrounding whitespace, no NUL. *out is zeroed on entry and owns its
 * text. -EINVAL when it is none of these, -ENOMEM.
 */
NTM_MUST_CHECK int rcp_value_parse_reading(const char *s, size_t len, struct rcp_value *out);

/*
 * Plain text of v into buf (cap bytes): "28.5", "true", the text itself
 * unquoted, "" for NONE. Returns the length, or -ENOSPC (buf then "").
 */
NTM_MUST_CHECK int rcp_value_format(const struct rcp_value *v, char *buf, size_t cap);

/* "==", "<=", ... (static strings). */
const char *rcp_op_str(enum rcp_op op);

/* Free a tree / recipe / file; all accept NULL. */
void rcp_cond_free(struct rcp_cond *c);
void rcp_recipe_free(struct rcp_recipe *r);
void rcp_file_free(struct rcp_file *f);

/*
 * Structural equality, ignoring line and column: what the round-trip tests
 * (text -> AST -> JSON -> AST, AST -> text -> AST) compare.
 */
bool rcp_cond_eq(const struct rcp_cond *a, const struct rcp_cond *b);
bool rcp_recipe_eq(const struct rcp_recipe *a, const struct rcp_recipe *b);
bool rcp_file_eq(const struct rcp_file *a, const struct rcp_file *b);

/* Detach recipe i from f (its slot becomes NULL); the caller owns the result. */
struct rcp_recipe *rcp_file_take(struct rcp_file *f, size_t i);

/*
 * Parse recipe text (len bytes, need not be NUL-terminated). On success *out
 * is a new file the caller frees with rcp_file_free(). On failure *out is
 * NULL, nothing is allocated, and err (if not NULL) names line, column and
 * reason. Returns 0, -EINVAL (syntax or limit), -EMSGSIZE (text too long) or
 * -ENOMEM.
 */
NTM_MUST_CHECK int rcp_parse(const char *text, size_t len, struct rcp_file **out,
			     struct rcp_error *err);

/*
 * Canonical text of a file / recipe / condition / value; parsing it gives an
 * equal AST. *out is a NUL-terminated string the caller frees with ntm_free().
 */
NTM_MUST_CHECK int rcp_file_print(const struct rcp_file *f, char **out);
NTM_MUST_CHECK int rcp_recipe_print(const struct rcp_recipe *r, char **out);

/* Lower-level predicates shared by the text and JSON forms. */
bool rcp_is_resource_ref(const char *s, size_t len);
bool rcp_is_recipe_name(const char *s, size_t len);
bool rcp_is_ident(const char *s, size_t len);
bool rcp_is_keyword(const char *s, size_t len);

#endif
