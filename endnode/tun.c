/* SPDX-License-Identifier: MIT */
#include "tun.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "endnode/gso.h"

enum {
	/* An IP packet on the TUN is at most 64 KiB. */
	TUN_MAX_PACKET = 65535,
	/* struct virtio_net_hdr, in front of every packet (IFF_VNET_HDR). */
	TUN_VNET_HDR_LEN = 10,
	/* Packets read per poll wakeup before yielding back to the loop. */
	TUN_READ_BUDGET = 64,
};

struct en_tun {
	uv_poll_t poll;
	int fd;
	int ifindex;
	char name[IFNAMSIZ];
	struct en_tun_ops ops;
	en_tun_closed_cb done;
	void *done_arg;
	struct ntm_ratelimit rl;
	uint8_t buf[TUN_VNET_HDR_LEN + TUN_MAX_PACKET];
};

/*
 * The virtio-net header (virtio 1.x spec 5.1.6; little-endian, which
 * enable_offloads asks the TUN for):
 *   u8 flags | u8 gso_type | le16 hdr_len | le16 gso_size |
 *   le16 csum_start | le16 csum_offset
 */
static int decode_vnet_hdr(const uint8_t *buf, size_t len, struct en_gso *g)
{
	struct ntm_rbuf r;
	uint8_t flags = 0, type = 0;

	memset(g, 0, sizeof(*g));
	ntm_rbuf_init(&r, buf, len);
	if (ntm_rbuf_get_u8(&r, &flags) < 0 || ntm_rbuf_get_u8(&r, &type) < 0 ||
	    ntm_rbuf_get_le16(&r, &g->hdr_len) < 0 || ntm_rbuf_get_le16(&r, &g->gso_size) < 0 ||
	    ntm_rbuf_get_le16(&r, &g->csum_start) < 0 ||
	    ntm_rbuf_get_le16(&r, &g->csum_offset) < 0) {
		return -EBADMSG;
	}
	g->needs_csum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
	switch (type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		g->type = EN_GSO_NONE;
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		g->type = EN_GSO_TCP4;
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		g->type = EN_GSO_TCP6;
		return 0;
	default:
		return -EPROTONOSUPPORT; /* never offered: see enable_offloads */
	}
}

static void handle_read(struct en_tun *tun, size_t n)
{
	struct en_gso g;
	int rc = decode_vnet_hdr(tun->buf, n, &g);

	if (rc == 0) {
		rc = en_gso_split(tun->buf + TUN_VNET_HDR_LEN, n - TUN_VNET_HDR_LEN, &g,
				  tun->ops.packet, tun->ops.arg);
	}
	if (rc < 0) {
		ntm_log_ratelimited(&tun->rl, uv_now(tun->poll.loop), NTM_LOG_DEBUG,
				    "tun %s: dropping a packet of %zu bytes: %s", tun->name, n,
				    ntm_strerror(rc));
	}
}

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
			break;
		}
		handle_read(tun, (size_t)n);
	}
	tun->ops.burst_end(tun->ops.arg);
}

/*
 * Checksum and TCP segmentation offload: the kernel then skips both and
 * hands us up to 64 KiB per read. Without it (old kernels) packets still
 * come with a virtio-net header, just never a GSO one.
 */
static void enable_offloads(int fd, const char *name)
{
	unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int le = 1;

	if (ioctl(fd, TUNSETVNETLE, &le) < 0) {
		off = 0; /* a big-endian host that cannot do LE: no offloads */
	}
	if (ioctl(fd, TUNSETOFFLOAD, off) < 0) {
		ntm_log_warn("tun %s: no TCP segmentation offload: %s", name, strerror(errno));
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';
	enable_offloads(fd, name_out);
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

int en_tun_create(uv_loop_t *loop, const char *ifname, const struct en_tun_ops *ops,
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
	tun->ops = *ops;
	tun->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(1000, 5);
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

/* The virtio-net header for `g` (layout at decode_vnet_hdr). */
static void encode_vnet_hdr(uint8_t *hdr, const struct en_gso *g)
{
	static const uint8_t types[] = {
		[EN_GSO_NONE] = VIRTIO_NET_HDR_GSO_NONE,
		[EN_GSO_TCP4] = VIRTIO_NET_HDR_GSO_TCPV4,
		[EN_GSO_TCP6] = VIRTIO_NET_HDR_GSO_TCPV6,
	};
	struct ntm_wbuf w;
	int rc;

	ntm_wbuf_init(&w, hdr, TUN_VNET_HDR_LEN);
	rc = ntm_wbuf_put_u8(&w, g->needs_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0);
	rc = rc < 0 ? rc : ntm_wbuf_put_u8(&w, types[g->type]);
	rc = rc < 0 ? rc : ntm_wbuf_put_le16(&w, g->hdr_len);
	rc = rc < 0 ? rc : ntm_wbuf_put_le16(&w, g->gso_size);
	rc = rc < 0 ? rc : ntm_wbuf_put_le16(&w, g->csum_start);
	rc = rc < 0 ? rc : ntm_wbuf_put_le16(&w, g->csum_offset);
	if (rc < 0) {
		memset(hdr, 0, TUN_VNET_HDR_LEN); /* unreachable: the sizes are fixed */
	}
}

int en_tun_write_gso(struct en_tun *tun, const struct en_gso *g, const struct iovec *iov,
		     size_t iovcnt)
{
	uint8_t hdr[TUN_VNET_HDR_LEN];
	struct iovec all[EN_TUN_IOV_MAX + 1];
	size_t want = sizeof(hdr);
	ssize_t n;

	if (iovcnt > EN_TUN_IOV_MAX || (unsigned)g->type > EN_GSO_TCP6) {
		return -EINVAL;
	}
	encode_vnet_hdr(hdr, g);
	all[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(hdr) };
	for (size_t i = 0; i < iovcnt; i++) {
		all[i + 1] = iov[i];
		want += iov[i].iov_len;
	}
	n = writev(tun->fd, all, (int)iovcnt + 1);
	if (n < 0) {
		return -errno;
	}
	return (size_t)n == want ? 0 : -EIO;
}

int en_tun_write(struct en_tun *tun, const uint8_t *pkt, size_t len)
{
	/* No offload, checksums complete (the peer computed them). */
	const struct en_gso g = { .type = EN_GSO_NONE };
	const struct iovec iov = { .iov_base = (void *)pkt, .iov_len = len };

	return en_tun_write_gso(tun, &g, &iov, 1);
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
	if (ntm_close_null(tun, done, arg)) {
		return;
	}
	tun->done = done;
	tun->done_arg = arg;
	uv_close((uv_handle_t *)&tun->poll, on_closed);
}
