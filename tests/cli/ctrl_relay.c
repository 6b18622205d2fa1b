/* SPDX-License-Identifier: MIT */
/*
 * The node's side of a relay (common/relay.h) for the namespace tests, until
 * ntm-node's path manager speaks it: after registering, ask the DC for a
 * relay to a peer (RELAY_REQUEST) or wait for the peer's request to bring a
 * RELAY_OFFER, bind to the offered session with a BIND, then exchange relay
 * frames with the peer through the RS and count what arrives.
 *
 * Prints "relay ADDR", "session HEX", "side A|B", "sent N", "received N".
 * Exit 0 when at least --frames frames of the peer arrived, 3 on timeout.
 *
 * With --flood SECONDS (tests/bench/relay.sh) side A sends 1200-byte frames
 * as fast as it can for that long and side B counts them: "flood_frames N",
 * "flood_ms MS" (first to last frame). --size B sets the datagram size;
 * --via ADDR:PORT sends the frames there instead (a baseline forwarder).
 */
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

#include "common/relay.h"
#include "common/wire.h"
#include "tests/cli/ctrl_client.h"

enum { OFFER_WAIT_MS = 15000, EXCHANGE_MS = 15000, FRAME_GAP_MS = 100, LINGER_MS = 1500 };

/* The next authenticated control message within `ms`. */
static int recv_msg(struct client *c, struct ntm_ctrl_msg *m, int ms)
{
	uint8_t in[BUF], plain[NTM_CTRL_PLAIN_MAX];
	uint64_t end = now_ms() + (uint64_t)ms;
	struct ntm_wg_data d;
	size_t n, plen;

	while (now_ms() < end) {
		n = recv_within(c, in, sizeof(in), (int)(end - now_ms()));
		if (n > 0 && ntm_wire_decode_ctrl_data(in, n, &d) == 0 &&
		    ntm_ctrl_session_open(c->s, &d, now_ms(), plain, sizeof(plain), &plen) == 0 &&
		    ntm_ctrl_msg_decode(plain, plen, m) == 0) {
			return 0;
		}
	}
	return -ETIMEDOUT;
}

static int get_offer(struct client *c, const char *to, struct ntm_ctrl_msg *offer)
{
	struct ntm_ctrl_msg req;
	uint64_t end = now_ms() + OFFER_WAIT_MS;

	if (to == NULL) {
		while (now_ms() < end) {
			if (recv_msg(c, offer, (int)(end - now_ms())) == 0 &&
			    offer->kind == NTM_CTRL_RELAY_OFFER) {
				return 0;
			}
		}
		return EXIT_TIMEOUT;
	}
	ntm_ctrl_msg_init(&req, NTM_CTRL_RELAY_REQUEST, c->next_req++);
	req.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(req.fqdn, sizeof(req.fqdn), "%s", to);
	if (request(c, &c->dc, &req, offer) < 0) {
		return EXIT_TIMEOUT;
	}
	return check_answer(offer, NTM_CTRL_RELAY_OFFER);
}

/* The relay address of our socket's family. */
static int pick_relay(struct client *c, const struct ntm_ctrl_msg *offer, struct ntm_addr *rs)
{
	for (size_t i = 0; i < offer->n_relay_addr; i++) {
		if (ntm_ctrl_addr_to(rs, &offer->relay_addr[i]) == 0 &&
		    rs->sa.sa_family == c->dc.sa.sa_family) {
			print_addr("relay", &offer->relay_addr[i]);
			printf("session %08x\nside %c\n", offer->session_id,
			       offer->side ? 'B' : 'A');
			fflush(stdout);
			return 0;
		}
	}
	fprintf(stderr, "ctrl_client: the offer has no relay address of our family\n");
	return 1;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* BIND until a BIND_OK for it arrives. */
static int bind_relay(struct client *c, const struct ntm_addr *rs, const struct ntm_ctrl_msg *o)
{
	const struct ntm_relay_bind b = { .session = o->session_id,
					  .side = o->side,
					  .counter = wall_ms() };
	uint8_t out[NTM_RELAY_BIND_LEN], in[BUF];
	struct ntm_relay_bind ok;
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_relay_encode_bind(&w, false, &b, o->credential) < 0) {
		die("cannot encode a BIND");
	}
	for (int i = 0; i < TRIES; i++) {
		send_to(c, rs, out, w.len);
		for (size_t n; (n = recv_within(c, in, sizeof(in), 1000)) > 0;) {
			if (ntm_relay_decode_bind(in, n, true, &ok) == 0 &&
			    ntm_relay_bind_verify(in, n, o->credential) &&
			    ok.counter == b.counter && ok.session == b.session) {
				return 0;
			}
		}
	}
	fprintf(stderr, "ctrl_client: no BIND_OK from the relay\n");
	return EXIT_TIMEOUT;
}

static void send_frame(struct client *c, const struct ntm_addr *rs, uint32_t session,
		       const char *fqdn, int i)
{
	uint8_t out[NTM_CTRL_FQDN_MAX + 96];
	char text[NTM_CTRL_FQDN_MAX + 48];
	struct ntm_wbuf w;

	/* a stand-in WireGuard data message: the relay never looks inside */
	snprintf(text, sizeof(text), "ntm relay test from %s #%d", fqdn, i);
	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_relay_encode_frame_header(&w, session) < 0 ||
	    ntm_wbuf_put_le32(&w, NTM_MSG_WG_DATA) < 0 ||
	    ntm_wbuf_put_bytes(&w, text, strlen(text)) < 0 || ntm_wbuf_put_zero(&w, 16) < 0) {
		die("cannot build a frame");
	}
	send_to(c, rs, out, w.len);
}

/* True for a frame of `session` that carries the peer's text. */
static bool is_peer_frame(const uint8_t *in, size_t n, uint32_t session, const char *peer)
{
	struct ntm_relay_frame f;
	char want[NTM_CTRL_FQDN_MAX + 16];

	snprintf(want, sizeof(want), "from %s #", peer);
	return ntm_relay_decode_frame(in, n, &f) == 0 && f.session == session &&
	       memmem(f.payload, f.payload_len, want, strlen(want)) != NULL;
}

static int exchange(struct client *c, const struct ntm_addr *rs, const struct ntm_ctrl_msg *o,
		    const char *fqdn, int frames)
{
	uint64_t end = now_ms() + EXCHANGE_MS, next = 0, done_at = 0;
	uint8_t in[BUF];
	int sent = 0, got = 0;

	while (now_ms() < end && (done_at == 0 || now_ms() < done_at + LINGER_MS)) {
		size_t n;

		if (now_ms() >= next && (done_at == 0 || sent < 2 * frames)) {
			send_frame(c, rs, o->session_id, fqdn, sent++);
			next = now_ms() + FRAME_GAP_MS;
		}
		n = recv_within(c, in, sizeof(in), FRAME_GAP_MS);
		got += n > 0 && is_peer_frame(in, n, o->session_id, o->fqdn);
		if (done_at == 0 && got >= frames && sent >= frames) {
			done_at = now_ms(); /* keep sending a little: the peer may still count */
		}
	}
	printf("sent %d\nreceived %d\n", sent, got);
	return got >= frames ? 0 : EXIT_TIMEOUT;
}

enum { FLOOD_SIZE = 1208, FLOOD_SIZE_MAX = 1472, FLOOD_BATCH = 64 };

/*
 * Side A: `size`-byte frames as fast as the socket takes them for `secs`
 * seconds, to `to`, FLOOD_BATCH per sendmmsg (the harness must not be the
 * bottleneck of what it measures).
 */
static int flood_send(struct client *c, const struct ntm_addr *to, uint32_t session, int secs,
		      int size)
{
	uint8_t out[FLOOD_SIZE_MAX] = { 0 };
	uint64_t end = now_ms() + (uint64_t)secs * 1000;
	size_t len = size > 0 ? (size_t)size : FLOOD_SIZE;
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iov = { .iov_base = out };
	struct ntm_wbuf w;
	long sent = 0;

	if (len > sizeof(out) || len < NTM_RELAY_HEADER_LEN + 4) {
		die("--size: out of range");
	}
	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_relay_encode_frame_header(&w, session) < 0 ||
	    ntm_wbuf_put_le32(&w, NTM_MSG_WG_DATA) < 0) {
		die("cannot build a frame");
	}
	iov.iov_len = len;
	for (int i = 0; i < FLOOD_BATCH; i++) {
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = (void *)&to->sa,
							 .msg_namelen = to->len,
							 .msg_iov = &iov,
							 .msg_iovlen = 1 } };
	}
	while (now_ms() < end) {
		int n = sendmmsg(c->fd, msgs, FLOOD_BATCH, 0);

		sent += n > 0 ? n : 0;
	}
	printf("flood_sent %ld\n", sent);
	return 0;
}

/* Side B: counts the session's frames (recvmmsg) until none came for a second. */
static int flood_count(struct client *c, uint32_t session, int secs)
{
	static uint8_t bufs[FLOOD_BATCH][BUF];
	uint64_t end = now_ms() + (uint64_t)secs * 1000 + 5000, first = 0, last = 0;
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	struct ntm_relay_frame f;
	long frames = 0;

	for (int i = 0; i < FLOOD_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = BUF };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (now_ms() < end && (last == 0 || now_ms() < last + 1000)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n = poll(&p, 1, 200) > 0
				? recvmmsg(c->fd, msgs, FLOOD_BATCH, MSG_DONTWAIT, NULL)
				: 0;

		for (int i = 0; i < n; i++) {
			if (ntm_relay_decode_frame(bufs[i], msgs[i].msg_len, &f) == 0 &&
			    f.session == session) {
				last = now_ms();
				first = first != 0 ? first : last;
				frames++;
			}
		}
	}
	printf("flood_frames %ld\nflood_ms %llu\n", frames, (unsigned long long)(last - first));
	return frames > 0 ? 0 : EXIT_TIMEOUT;
}

int do_relay(struct client *c, const char *fqdn, const struct opts *o)
{
	struct ntm_ctrl_msg offer;
	struct ntm_addr rs;
	int rc = do_register(c, fqdn, o->token, 0);

	fflush(stdout);
	if (rc == 0) {
		rc = get_offer(c, o->to, &offer);
	}
	if (rc == 0) {
		rc = pick_relay(c, &offer, &rs);
	}
	if (rc == 0) {
		rc = bind_relay(c, &rs, &offer);
	}
	if (rc == 0 && o->flood > 0) {
		struct ntm_addr to = rs;

		if (o->via != NULL) {
			parse_addr(o->via, &to);
		}
		rc = offer.side == NTM_RELAY_SIDE_A
			     ? flood_send(c, &to, offer.session_id, o->flood, o->size)
			     : flood_count(c, offer.session_id, o->flood);
	} else if (rc == 0) {
		rc = exchange(c, &rs, &offer, fqdn, o->frames > 0 ? o->frames : 5);
	}
	sodium_memzero(&offer, sizeof(offer));
	return rc;
}

/*
 * A third party that knows a session id but not its credential: BINDs with a
 * wrong credential, frames for the session and for a made-up one. Exit 0
 * when nothing at all came back within 2 s.
 */
int do_relay_attack(struct client *c, uint32_t session)
{
	uint8_t cred[NTM_RELAY_CRED_LEN], out[NTM_RELAY_BIND_LEN], in[BUF];
	struct ntm_relay_bind b = { .session = session, .counter = UINT64_MAX - 1 };
	struct ntm_wbuf w;
	size_t n;

	randombytes_buf(cred, sizeof(cred));
	for (uint8_t side = 0; side < 2; side++) {
		b.side = side;
		ntm_wbuf_init(&w, out, sizeof(out));
		if (ntm_relay_encode_bind(&w, false, &b, cred) < 0) {
			die("cannot encode a BIND");
		}
		send_to(c, &c->dc, out, w.len);
	}
	for (int i = 0; i < 5; i++) {
		send_frame(c, &c->dc, session, "mallory", i);
		send_frame(c, &c->dc, session ^ 0x5a5a0000u, "mallory", i);
	}
	n = recv_within(c, in, sizeof(in), 2000);
	printf("answers %d\n", n > 0);
	return n > 0 ? 1 : 0;
}

/*
 * A flood of unauthenticated datagrams at the relay for `secs` seconds, at
 * about `pps` datagrams per second, round robin: random bytes (never a relay
 * type), frames for `session` from this third party, frames for made-up
 * sessions, BINDs for `session` with a wrong credential. Prints how many of
 * each went out; exit 0 when nothing came back.
 */
int do_relay_flood(struct client *c, uint32_t session, int secs, long pps)
{
	uint8_t cred[NTM_RELAY_CRED_LEN], out[1400], in[BUF];
	struct ntm_relay_bind b = { .session = session };
	uint64_t start = now_ms(), end = start + (uint64_t)secs * 1000;
	long sent[4] = { 0 }, total = 0;
	size_t answers = 0;
	struct ntm_wbuf w;

	randombytes_buf(cred, sizeof(cred));
	while (now_ms() < end) {
		/* Paced in bursts of 100: the flood must not be the test's own bottleneck. */
		if (total >= (long)((now_ms() - start) * (uint64_t)pps / 1000)) {
			answers += recv_within(c, in, sizeof(in), 1) > 0;
			continue;
		}
		for (int i = 0; i < 100; i++, total++) {
			switch (total % 4) {
			case 0:
				randombytes_buf(out, sizeof(out));
				out[0] = (uint8_t)(0x10 + randombytes_uniform(0x60));
				send_to(c, &c->dc, out, 1 + randombytes_uniform(sizeof(out)));
				break;
			case 1:
				send_frame(c, &c->dc, session, "mallory", (int)total);
				break;
			case 2:
				send_frame(c, &c->dc, randombytes_random(), "mallory", (int)total);
				break;
			default:
				b.side = (uint8_t)(total / 4 % 2);
				b.counter = now_ms() * 1000 + (uint64_t)total;
				ntm_wbuf_init(&w, out, sizeof(out));
				if (ntm_relay_encode_bind(&w, false, &b, cred) < 0) {
					die("cannot encode a BIND");
				}
				send_to(c, &c->dc, out, w.len);
				break;
			}
			sent[total % 4]++;
		}
	}
	printf("random %ld\nframes_session %ld\nframes_unknown %ld\nbinds_bad_mac %ld\n"
	       "answers %zu\n",
	       sent[0], sent[1], sent[2], sent[3], answers);
	return answers > 0 ? 1 : 0;
}
