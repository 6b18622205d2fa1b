/* SPDX-License-Identifier: MIT */
#include "dnssetup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { LINE_MAX_LEN = 1024, NS_MAX = 2, ADDR_TEXT = 64 };

/* The stub's addresses at port 53 ("100.80.0.1:53" -> "100.80.0.1"); false when none. */
static bool stub_servers(json_object *data, char out[NS_MAX][ADDR_TEXT], size_t *n)
{
	json_object *l = NULL;

	*n = 0;
	if (!json_object_object_get_ex(data, "listen", &l) ||
	    !json_object_is_type(l, json_type_array)) {
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(l) && *n < NS_MAX; i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(l, i));
		const char *colon = a != NULL ? strrchr(a, ':') : NULL;
		size_t len;

		if (colon == NULL || strcmp(colon, ":53") != 0) {
			continue; /* resolv.conf cannot name another port */
		}
		len = (size_t)(colon - a);
		if (a[0] == '[' && len >= 2 && a[len - 1] == ']') {
			a++;
			len -= 2;
		}
		if (len == 0 || len >= ADDR_TEXT) {
			continue;
		}
		memcpy(out[*n], a, len);
		out[(*n)++][len] = '\0';
	}
	return *n > 0;
}

static void print_fragment(FILE *f, json_object *data, char ns[NS_MAX][ADDR_TEXT], size_t n)
{
	json_object *ifname = NULL, *domains = NULL;

	json_object_object_get_ex(data, "interface", &ifname);
	json_object_object_get_ex(data, "domains", &domains);
	fprintf(f, "# ntm: the DNS stub of ntm-node on %s answers the overlay names (%s)\n",
		ifname != NULL ? json_object_get_string(ifname) : "?",
		domains != NULL ? json_object_to_json_string_ext(domains, JSON_C_TO_STRING_PLAIN)
				: "[]");
	fputs("# and forwards every other name to its upstream resolvers.\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "nameserver %s\n", ns[i]);
	}
}

/* True when `line` is "nameserver X" for one of the stub's addresses. */
static bool names_stub(const char *line, char ns[NS_MAX][ADDR_TEXT], size_t n)
{
	char ip[ADDR_TEXT];

	if (sscanf(line, " nameserver %63s", ip) != 1) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ip, ns[i]) == 0) {
			return true;
		}
	}
	return false;
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "re"), *out;
	char buf[4096];
	size_t k;
	int rc = 0;

	if (in == NULL) {
		return -errno;
	}
	out = fopen(to, "wxe");
	if (out == NULL) {
		rc = errno == EEXIST ? 0 : -errno; /* the first backup is the original: keep it */
		fclose(in);
		return rc;
	}
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, k, out) != k) {
			rc = -EIO;
		}
	}
	fclose(in);
	return fclose(out) != 0 ? -EIO : rc;
}

/* Writes the new file next to `path` and renames it over. */
static int rewrite(const char *path, json_object *data, char ns[NS_MAX][ADDR_TEXT], size_t n)
{
	char tmp[4096], line[LINE_MAX_LEN];
	FILE *in = fopen(path, "re"), *out;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.ntm-new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
		if (fd >= 0) {
			close(fd);
		}
		if (in != NULL) {
			fclose(in);
		}
		return -errno;
	}
	print_fragment(out, data, ns, n);
	while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
		if (!names_stub(line, ns, n) && strncmp(line, "# ntm: ", 7) != 0 &&
		    strcmp(line, "# and forwards every other name to its upstream resolvers.\n") !=
			    0) {
			fputs(line, out);
		}
	}
	if (in != NULL) {
		fclose(in);
	}
	if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0) {
		unlink(tmp);
		return -EIO;
	}
	return rename(tmp, path) == 0 ? 0 : -errno;
}

int ntmctl_dns_setup(json_object *data, bool apply, const char *path)
{
	char ns[NS_MAX][ADDR_TEXT], backup[4096];
	struct stat st;
	size_t n;
	int rc;

	if (!stub_servers(data, ns, &n)) {
		fputs("ntmctl: the DNS stub listens on no address at port 53 (yet): nothing to "
		      "configure\n",
		      stderr);
		return 1;
	}
	if (!apply) {
		print_fragment(stdout, data, ns, n);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		fprintf(stderr,
			"ntmctl: %s is a symbolic link (managed by a resolver service): not "
			"touched; configure that service instead\n",
			path);
		return 1;
	}
	snprintf(backup, sizeof(backup), "%s.ntm-backup", path);
	rc = access(path, F_OK) == 0 ? copy_file(path, backup) : 0;
	if (rc == 0) {
		rc = rewrite(path, data, ns, n);
	}
	if (rc < 0) {
		fprintf(stderr, "ntmctl: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	printf("%s: the DNS stub (%s) comes first now; the original is in %s\n", path, ns[0],
	       backup);
	return 0;
}
