/* SPDX-License-Identifier: MIT */
#include "tun.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"

enum {
	/* An IP packet on the TUN is at most 64 KiB. */
	TUN_MAX_PACKET = 65535,
	/* Packets read per poll wakeup before yielding back to the loop. */
	TUN_READ_BUDGET = 64,
};

struct en_tun {
	uv_poll_t poll;
	int fd;
	int ifindex;
	char name[IFNAMSIZ];
	en_tun_packet_cb cb;
	void *arg;
	en_tun_closed_cb done;
	void *done_arg;
	uint8_t buf[TUN_MAX_PACKET];
};

static void on_readable(uv_poll_t *handle, int status, int events)
{
	struct en_tun *tun = handle->data;

	if (status < 0) {
		ntm_log_err("tun %s: poll: %s", tun->name, ntm_strerror(status));
		return;
	}
	for (int i = 0; i < TUN_READ_BUDGET; i++) {
		ssize_t n = read(tun->fd, tun->buf, sizeof(tun->buf));

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				ntm_log_err("tun %s: read: %s", tun->name, strerror(errno));
			}
			return;
		}
		tun->cb(tun->arg, tun->buf, (size_t)n);
	}
}

static int open_tun(const char *ifname, char *name_out, int *fd_out)
{
	struct ifreq ifr;
	int fd;

	*fd_out = -1;
	if (strlen(ifname) >= IFNAMSIZ) {
		return -ENAMETOOLONG;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';
	*fd_out = fd;
	return 0;
}

static int lookup_ifindex(int fd, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		return -errno;
	}
	return ifr.ifr_ifindex;
}

int en_tun_create(uv_loop_t *loop, const char *ifname, en_tun_packet_cb cb, void *arg,
		  struct en_tun **out)
{
	struct en_tun *tun;
	int rc, sock;

	*out = NULL;
	tun = ntm_calloc(1, sizeof(*tun));
	if (tun == NULL) {
		return -ENOMEM;
	}
	rc = open_tun(ifname, tun->name, &tun->fd);
	if (rc < 0) {
		goto err_alloc;
	}
	/* SIOCGIFINDEX wants any socket; the TUN fd is not one. */
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc = sock < 0 ? -errno : lookup_ifindex(sock, tun->name);
	if (sock >= 0) {
		close(sock);
	}
	if (rc < 0) {
		goto err_fd;
	}
	tun->ifindex = rc;
	tun->cb = cb;
	tun->arg = arg;
	rc = uv_poll_init(loop, &tun->poll, tun->fd);
	if (rc < 0) {
		goto err_fd;
	}
	tun->poll.data = tun;
	rc = uv_poll_start(&tun->poll, UV_READABLE, on_readable);
	if (rc < 0) {
		/* The handle is initialised: it must go through uv_close. */
		en_tun_close(tun, NULL, NULL);
		return rc;
	}
	*out = tun;
	return 0;

err_fd:
	close(tun->fd);
err_alloc:
	ntm_free(tun);
	return rc;
}

const char *en_tun_name(const struct en_tun *tun)
{
	return tun->name;
}

int en_tun_ifindex(const struct en_tun *tun)
{
	return tun->ifindex;
}

int en_tun_write(struct en_tun *tun, const uint8_t *pkt, size_t len)
{
	ssize_t n = write(tun->fd, pkt, len);

	if (n < 0) {
		return -errno;
	}
	return (size_t)n == len ? 0 : -EIO;
}

static void on_closed(uv_handle_t *handle)
{
	struct en_tun *tun = handle->data;
	en_tun_closed_cb done = tun->done;
	void *arg = tun->done_arg;

	close(tun->fd);
	ntm_free(tun);
	if (done != NULL) {
		done(arg);
	}
}

void en_tun_close(struct en_tun *tun, en_tun_closed_cb done, void *arg)
{
	if (tun == NULL) {
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	tun->done = done;
	tun->done_arg = arg;
	uv_close((uv_handle_t *)&tun->poll, on_closed);
}
