/* SPDX-License-Identifier: MIT */
#include "render.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

enum { TABLE_MAX_COLUMNS = 32 };

struct table {
	const char *names[TABLE_MAX_COLUMNS];
	size_t width[TABLE_MAX_COLUMNS];
	size_t n;
};

enum { CELL_MAX = 512 };

static const char *scalar_text(json_object *v)
{
	if (v == NULL) {
		return "-";
	}
	if (json_object_is_type(v, json_type_string)) {
		return json_object_get_string(v);
	}
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
}

static bool is_zero(json_object *v)
{
	return (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0) ||
	       json_object_is_type(v, json_type_null);
}

static void append(char *buf, size_t cap, const char *sep, const char *s)
{
	size_t len = strlen(buf);

	if (len > 0) {
		snprintf(buf + len, cap - len, "%s", sep);
		len = strlen(buf);
	}
	snprintf(buf + len, cap - len, "%s", s);
}

/*
 * The text of a cell or value, into buf: strings unquoted, null "-", an
 * array of scalars "a,b", an object of scalars "k=v k=v" without its zero
 * members (drop counters read as "replay=3"), anything deeper as JSON.
 */
static const char *value_text(json_object *v, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *item = json_object_array_get_idx(v, i);

			if (json_object_is_type(item, json_type_object) ||
			    json_object_is_type(item, json_type_array)) {
				return scalar_text(v);
			}
			append(buf, cap, ",", scalar_text(item));
		}
		return buf[0] != '\0' ? buf : "-";
	}
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val)
		{
			char kv[CELL_MAX];

			if (json_object_is_type(val, json_type_object) ||
			    json_object_is_type(val, json_type_array)) {
				return scalar_text(v);
			}
			if (!is_zero(val)) {
				snprintf(kv, sizeof(kv), "%s=%s", key, scalar_text(val));
				append(buf, cap, " ", kv);
			}
		}
		return buf[0] != '\0' ? buf : "-";
	}
	return scalar_text(v);
}

/* Display width in bytes; UTF-8 continuation bytes do not count. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return n;
}

static void put_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

static void put_padded(FILE *out, const char *s, size_t width, bool last)
{
	put_text(out, s);
	if (!last) {
		for (size_t w = text_width(s); w < width + 2; w++) {
			fputc(' ', out);
		}
	}
}

static void add_column(struct table *t, const char *name, json_object *v)
{
	size_t i;

	for (i = 0; i < t->n && strcmp(t->names[i], name) != 0; i++) {
	}
	if (i == t->n) {
		if (t->n == TABLE_MAX_COLUMNS) {
			return;
		}
		t->names[t->n] = name;
		t->width[t->n] = text_width(name);
		t->n++;
	}
	char cell[CELL_MAX];
	size_t w = text_width(value_text(v, cell, sizeof(cell)));

	if (w > t->width[i]) {
		t->width[i] = w;
	}
}

static void put_header(FILE *out, const struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		char *up = ntm_strdup(t->names[i]);

		for (char *p = up; p != NULL && *p != '\0'; p++) {
			*p = (char)toupper((unsigned char)*p);
		}
		put_padded(out, up != NULL ? up : t->names[i], t->width[i], i + 1 == t->n);
		ntm_free(up);
	}
	fputc('\n', out);
}

/* Columns are the union of the rows' keys in order of first appearance. */
static void render_table(FILE *out, json_object *rows)
{
	size_t n = json_object_array_length(rows);
	struct table t = { .n = 0 };

	for (size_t r = 0; r < n; r++) {
		json_object_object_foreach(json_object_array_get_idx(rows, r), key, val)
		{
			add_column(&t, key, val);
		}
	}
	put_header(out, &t);
	for (size_t r = 0; r < n; r++) {
		json_object *row = json_object_array_get_idx(rows, r);

		for (size_t i = 0; i < t.n; i++) {
			json_object *v = NULL;
			char cell[CELL_MAX];

			json_object_object_get_ex(row, t.names[i], &v);
			put_padded(out, value_text(v, cell, sizeof(cell)), t.width[i],
				   i + 1 == t.n);
		}
		fputc('\n', out);
	}
}

static void render_object(FILE *out, json_object *obj)
{
	json_object_object_foreach(obj, key, val)
	{
		char cell[CELL_MAX];

		put_text(out, key);
		fputs(": ", out);
		put_text(out, value_text(val, cell, sizeof(cell)));
		fputc('\n', out);
	}
}

static bool is_array_of_objects(json_object *v)
{
	size_t n = json_object_array_length(v);

	for (size_t i = 0; i < n; i++) {
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_object)) {
			return false;
		}
	}
	return n > 0;
}

void ntmctl_render(FILE *out, json_object *data)
{
	if (data == NULL) {
		return;
	}
	if (json_object_is_type(data, json_type_object)) {
		render_object(out, data);
	} else if (json_object_is_type(data, json_type_array)) {
		if (is_array_of_objects(data)) {
			render_table(out, data);
			return;
		}
		if (json_object_array_length(data) == 0) {
			fputs("(none)\n", out);
			return;
		}
		for (size_t i = 0; i < json_object_array_length(data); i++) {
			char cell[CELL_MAX];

			put_text(out, value_text(json_object_array_get_idx(data, i), cell,
						 sizeof(cell)));
			fputc('\n', out);
		}
	} else {
		put_text(out, scalar_text(data));
		fputc('\n', out);
	}
}

void ntmctl_render_resolve(FILE *out, json_object *data)
{
	static const char *const keys[] = { "fqdn", "vip4", "vip6", "path", "ms" };

	if (!json_object_is_type(data, json_type_object)) {
		ntmctl_render(out, data);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_object *v = NULL;

		char cell[CELL_MAX];

		json_object_object_get_ex(data, keys[i], &v);
		if (i > 0) {
			fputc(' ', out);
		}
		put_text(out, value_text(v, cell, sizeof(cell)));
	}
	fputc('\n', out);
}

void ntmctl_render_json(FILE *out, json_object *data)
{
	int flags =
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;

	fputs(data == NULL ? "null" : json_object_to_json_string_ext(data, flags), out);
	fputc('\n', out);
}

void ntmctl_render_text(FILE *out, const char *text)
{
	put_text(out, text != NULL ? text : "");
}
