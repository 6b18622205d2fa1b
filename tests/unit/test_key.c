/* SPDX-License-Identifier: MIT */
#include "common/key.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntm_test.h"

static void hex_to_key(const char *hex, struct ntm_key *key)
{
	CU_ASSERT_FATAL(ntm_test_unhex(key->b, NTM_KEY_LEN, hex) == NTM_KEY_LEN);
}

/* RFC 7748 section 6.1 (X25519): Alice's and Bob's key pairs. */
static void test_rfc7748_vector(void)
{
	static const char *const priv_hex[] = {
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	};
	static const char *const pub_hex[] = {
		"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	};
	struct ntm_key priv, pub, want;

	for (size_t i = 0; i < 2; i++) {
		hex_to_key(priv_hex[i], &priv);
		hex_to_key(pub_hex[i], &want);
		CU_ASSERT_EQUAL(ntm_key_public(&pub, &priv), 0);
		CU_ASSERT_TRUE(ntm_key_equal(&pub, &want));
		/* pub may alias priv. */
		CU_ASSERT_EQUAL(ntm_key_public(&priv, &priv), 0);
		CU_ASSERT_TRUE(ntm_key_equal(&priv, &want));
	}
}

static void test_generate_is_clamped(void)
{
	struct ntm_key a, b;

	for (int i = 0; i < 64; i++) {
		CU_ASSERT_EQUAL(ntm_key_generate(&a), 0);
		CU_ASSERT_EQUAL(a.b[0] & 7, 0);
		CU_ASSERT_EQUAL(a.b[31] & 0x80, 0);
		CU_ASSERT_EQUAL(a.b[31] & 0x40, 0x40);
	}
	CU_ASSERT_EQUAL(ntm_key_generate(&b), 0);
	CU_ASSERT_FALSE(ntm_key_equal(&a, &b));
	ntm_key_wipe(&a);
	CU_ASSERT_TRUE(ntm_key_is_zero(&a));
}

static void test_base64_round_trip(void)
{
	char text[NTM_KEY_B64_SIZE];
	struct ntm_key k, back;

	/* The known encoding of Alice's public key (WireGuard format). */
	hex_to_key("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", &k);
	ntm_key_to_base64(text, &k);
	CU_ASSERT_STRING_EQUAL(text, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(ntm_key_generate(&k), 0);
		ntm_key_to_base64(text, &k);
		CU_ASSERT_EQUAL(strlen(text), NTM_KEY_B64_LEN);
		CU_ASSERT_EQUAL(ntm_key_from_base64(&back, text, strlen(text)), 0);
		CU_ASSERT_TRUE(ntm_key_equal(&k, &back));
	}
}

static void test_base64_malformed(void)
{
	static const char good[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
	static const char *const bad[] = {
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",	 /* 43: no padding */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo==", /* 45 */
		"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo=",	 /* URL-safe alphabet */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Spjqqb mo=",	 /* space inside */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=",	 /* non-zero trailing bits */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm==",	 /* 31 bytes */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmoA",	 /* 33 bytes, no '=' */
		"=SDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",	 /* padding first */
		"",
	};
	struct ntm_key k;

	CU_ASSERT_EQUAL(ntm_key_from_base64(&k, good, strlen(good)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&k, 0xaa, sizeof(k));
		CU_ASSERT_EQUAL(ntm_key_from_base64(&k, bad[i], strlen(bad[i])), -EINVAL);
		CU_ASSERT_TRUE(ntm_key_is_zero(&k));
	}
	/* Embedded NUL inside the 44 bytes. */
	char nul[NTM_KEY_B64_SIZE];
	memcpy(nul, good, sizeof(nul));
	nul[10] = '\0';
	CU_ASSERT_EQUAL(ntm_key_from_base64(&k, nul, NTM_KEY_B64_LEN), -EINVAL);
}

static void test_from_text_trailing(void)
{
	static const char good[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
	char buf[128];
	struct ntm_key k;

	snprintf(buf, sizeof(buf), "%s\n", good);
	CU_ASSERT_EQUAL(ntm_key_from_text(&k, buf, strlen(buf)), 0);
	snprintf(buf, sizeof(buf), "%s \t\r\n\n", good);
	CU_ASSERT_EQUAL(ntm_key_from_text(&k, buf, strlen(buf) + 1), 0); /* with the NUL */
	snprintf(buf, sizeof(buf), "%s\nx", good);
	CU_ASSERT_EQUAL(ntm_key_from_text(&k, buf, strlen(buf)), -EBADMSG);
	snprintf(buf, sizeof(buf), " %s", good);
	CU_ASSERT_NOT_EQUAL(ntm_key_from_text(&k, buf, strlen(buf)), 0);
	CU_ASSERT_EQUAL(ntm_key_from_text(&k, good, 43), -EINVAL);
}

/* A private temp dir per test; removed by rm_tree. */
static void make_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/ntm_test_key.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(dir);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	CU_ASSERT_EQUAL(fchmod(fd, mode), 0);
	close(fd);
}

static void test_load_file_modes(void)
{
	static const mode_t refused[] = { 0640, 0604, 0660, 0644, 0601, 0610, 0700 | 0007 };
	static const mode_t allowed[] = { 0600, 0400 };
	char dir[64], path[PATH_MAX], why[512];
	struct ntm_key k, want;

	make_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/priv", dir);
	CU_ASSERT_EQUAL(ntm_key_from_base64(&want, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
					    NTM_KEY_B64_LEN),
			0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		unlink(path);
		write_file(path, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n", refused[i]);
		CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), -EACCES);
		CU_ASSERT_TRUE(ntm_key_is_zero(&k));
		/* The message names the file, its mode and the fix. */
		CU_ASSERT_PTR_NOT_NULL(strstr(why, path));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "chmod 600"));
		char mode[16];
		snprintf(mode, sizeof(mode), "%04o", (unsigned)refused[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, mode));
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		unlink(path);
		write_file(path, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n", allowed[i]);
		CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), 0);
		CU_ASSERT_TRUE(ntm_key_equal(&k, &want));
	}
	rm_tree(dir);
}

static void test_load_file_errors(void)
{
	char dir[64], path[PATH_MAX], why[512];
	struct ntm_key k;

	make_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/priv", dir);
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, path));
	write_file(path, "not a key\n", 0600);
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), -EINVAL);
	unlink(path);
	write_file(path, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= extra\n", 0600);
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), -EINVAL);
	unlink(path);
	/* A directory is not a key file, whatever its mode. */
	CU_ASSERT_EQUAL(mkdir(path, 0700), 0);
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, NULL, 0), -EINVAL);
	rmdir(path);
	/* A FIFO is refused at once instead of blocking start-up on open. */
	CU_ASSERT_EQUAL(mkfifo(path, 0600), 0);
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not a regular file"));
	unlink(path);
	/* A huge file is refused without reading all of it. */
	char big[1024];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", NTM_KEY_B64_LEN);
	write_file(path, big, 0600);
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &k, why, sizeof(why)), -EINVAL);
	rm_tree(dir);
}

static void test_save_file_atomic(void)
{
	char dir[64], path[PATH_MAX], why[512], buf[128];
	struct ntm_key k, back;
	struct stat st;
	mode_t old = umask(0);
	int fd;

	make_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/priv", dir);
	/* An old file with other contents is replaced as a whole. */
	write_file(path, "old contents that are longer than a key, by quite a lot.....\n", 0644);
	CU_ASSERT_EQUAL(ntm_key_generate(&k), 0);
	CU_ASSERT_EQUAL(ntm_key_save_file(path, &k), 0);
	umask(old);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, NTM_KEY_B64_LEN + 1);
	fd = open(path, O_RDONLY);
	CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), NTM_KEY_B64_LEN + 1);
	close(fd);
	CU_ASSERT_EQUAL(buf[NTM_KEY_B64_LEN], '\n');
	CU_ASSERT_EQUAL(ntm_key_load_file(path, &back, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(ntm_key_equal(&k, &back));
	/* No temporary file is left behind: the directory holds only "priv". */
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	CU_ASSERT_EQUAL(n, 1);
	/* A save into a missing directory fails and leaves nothing. */
	snprintf(path, sizeof(path), "%s/missing/priv", dir);
	CU_ASSERT_EQUAL(ntm_key_save_file(path, &k), -ENOENT);
	ntm_key_wipe(&k);
	rm_tree(dir);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_rfc7748_vector),	   NTM_TEST(test_generate_is_clamped),
	NTM_TEST(test_base64_round_trip),  NTM_TEST(test_base64_malformed),
	NTM_TEST(test_from_text_trailing), NTM_TEST(test_load_file_modes),
	NTM_TEST(test_load_file_errors),   NTM_TEST(test_save_file_atomic),
};

NTM_TEST_MAIN("key", cases)
