/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTRLMSG_H
#define NTM_CTRLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

/*
 * The messages carried inside the control channel (the decrypted plaintext
 * of a type-0x83 message, ctrl.h), big-endian, at most NTM_CTRL_PLAIN_MAX
 * bytes (wire.h) plus zero padding to a multiple of 16:
 *
 *   0        1        2                                  6
 *   +--------+--------+--------+--------+--------+--------+------ ...
 *   |  kind  | flags=0|          request id (be32)        | attributes
 *   +--------+--------+--------+--------+--------+--------+------ ...
 *
 * then attributes, each
 *
 *   +--------+--------+-------------------+
 *   |  attr  |  len   |  value (len bytes) |
 *   +--------+--------+-------------------+
 *
 * ended by the end of the plaintext or by a zero byte (attr 0 = padding: the
 * rest must be zero). An attribute number below 0x80 must be understood (an
 * unknown one makes the message malformed); 0x80..0xff are optional and
 * skipped when unknown, so that later versions can add hints. Each kind says
 * which attributes it requires and which it allows (table in ctrlmsg.c); a
 * known attribute that its kind does not allow, or a repeated one (other
 * than CANDIDATE and RELAY_ADDR), is malformed. A kind this version does not know decodes
 * to -ENOTSUP, so that the receiver can answer ERROR/UNSUPPORTED.
 *
 * Request ids: the sender of a request picks them (non-zero); the answer
 * (REGISTER_OK, KEEPALIVE_ACK, DIRECTION, ERROR) repeats it, so retransmissions and
 * answers pair up, and a request is handled idempotently by its id.
 *
 * Attribute values:
 *   FQDN        1..253 bytes, printable ASCII (0x21-0x7e), no NUL
 *   TOKEN       1..NTM_CTRL_TOKEN_MAX bytes, printable ASCII
 *   CANDIDATE   address (repeatable, at most NTM_CTRL_CANDIDATES_MAX)
 *   VIP4        4 bytes          VIP6  16 bytes
 *   OUTSIDE     address
 *   KEEPALIVE   be16 seconds, 1..NTM_CTRL_KEEPALIVE_MAX
 *   ERROR_CODE  be16, enum ntm_ctrl_error
 *   ERROR_TEXT  0..NTM_CTRL_ERROR_TEXT_MAX bytes, printable ASCII and space
 *   PUBKEY      32 bytes (a peer's WireGuard public key)
 *   POOL4       5 bytes: IPv4 network address, prefix length 0..32 (no host bits)
 *   POOL6       17 bytes: IPv6 network address, prefix length 0..128 (no host bits)
 *   TARGET_VIP  4 or 16 bytes: the VIP a DIRECTION_REQUEST asks for
 *   RELAY_ADDR  address of a Relay Server (repeatable, at most NTM_CTRL_RELAY_ADDRS_MAX)
 *   LOAD        22 bytes: be32 sessions, be32 capacity (sessions), be32 packets/s,
 *               be64 bytes/s, be16 CPU use in permille (0..1000); sessions <= capacity
 *   SESSION_ID  be32, non-zero (a relay session, relay.h)
 *   CREDENTIAL  32 bytes (the relay session's secret; wiped after use)
 *   LIFETIME    be16 seconds, 1..NTM_CTRL_LIFETIME_MAX: a relay session with no
 *               traffic or BIND for this long expires
 *   SIDE        1 byte, 0 (A) or 1 (B)
 *   ALT_ENDPOINT address: the DC's second endpoint (AltListen) of the node's family;
 *               one authenticated message there lets the DC classify the NAT
 *   NAT         1 byte, enum ntm_ctrl_nat: the NAT class of the node the message is
 *               about (REGISTER_OK, KEEPALIVE_ACK: the receiver; DIRECTION: the
 *               receiver's, and NAT_PEER the peer's)
 *   NAT_PEER    1 byte, enum ntm_ctrl_nat
 *   PATH        1 byte, enum ntm_ctrl_path: the path the DC chose for the pair
 *   FAMILIES    1 byte, bit 0 IPv4, bit 1 IPv6: the families the node can use
 *   MOVED       0 bytes (DIRECTION_REQUEST, DIRECTION): the requester moved to
 *               another address (DESIGN "Flows" 5) and its tunnel to the target
 *               is dead; both ends take the DIRECTION as a new path attempt
 *               (endpoint and punch anew) even over a usable session
 *   FED_DOMAIN  the domain of the DC that sends it (FED_HELLO, FED_HELLO_OK), as DOMAIN
 *   FED_TARGET  the name a FED_QUERY asks for, as FQDN
 *   FED_NO_RELAY  0 bytes (FED_ANSWER): the callee has no usable relay for the
 *               pair; the caller allocates on its own relays and sends FED_RELAY
 *               (SIDE B for the callee's node). The PATH stays relay only when
 *               the query carried FED_HAS_RELAY.
 *   FED_HAS_RELAY 0 bytes (FED_QUERY): the caller has a usable relay and would
 *               relay the pair should the callee have none
 *   DOMAIN      (optional, 0x88; REGISTER_OK) an overlay domain the DC serves
 *               names of, 1..253 bytes of a lower-case host name; repeatable,
 *               at most NTM_CTRL_DOMAINS_MAX, the DC's own first, then
 *               federated ones. A node's DNS stub treats names under them as
 *               overlay names. Older nodes skip it; a malformed value is a
 *               malformed message.
 * where an address is: family (4 or 6), 4 or 16 address bytes, be16 port
 * (non-zero): 7 or 19 bytes.
 */

enum ntm_ctrl_kind {
	NTM_CTRL_REGISTER = 1,	    /* node -> DC: FQDN [TOKEN] CANDIDATE* */
	NTM_CTRL_REGISTER_OK = 2,   /* DC -> node: VIP4 VIP6 OUTSIDE KEEPALIVE [POOL4] [POOL6]
				     * [ALT_ENDPOINT] [NAT] [FAMILIES] [DOMAIN*] */
	NTM_CTRL_KEEPALIVE = 3,	    /* node -> DC: (nothing) */
	NTM_CTRL_KEEPALIVE_ACK = 4, /* DC -> node: [OUTSIDE] [NAT] [FAMILIES] */
	NTM_CTRL_ERROR = 5,	    /* either way: ERROR_CODE [ERROR_TEXT] */
	/*
	 * DESIGN "Flows" 2: a node asks for the way to FQDN; the DC answers the
	 * requester (req_id repeated) and tells the target the same about the
	 * requester, unsolicited (req_id 0), so that both ends add each other.
	 * Unknown or offline names are ERROR/UNKNOWN_NAME.
	 */
	NTM_CTRL_DIRECTION_REQUEST = 0x10, /* node -> DC: FQDN or TARGET_VIP (exactly one) */
	NTM_CTRL_DIRECTION = 0x11, /* DC -> node: FQDN PUBKEY VIP4 VIP6 OUTSIDE CANDIDATE* (peer)
				    * [PATH NAT NAT_PEER] */
	/*
	 * The DC revoked the node with PUBKEY (FQDN is a hint for logs): sent,
	 * unsolicited (request id 0), to every online node the DC had directed
	 * to it, which drops that learned peer. Not answered.
	 */
	NTM_CTRL_PEER_REVOKED = 0x12, /* DC -> node: PUBKEY [FQDN] */
	/* Reserved for the next steps: more directions 0x13-0x1f. */
	/*
	 * Relay allocation (DESIGN "Flows" 4), DC -> RS on the RS's control
	 * session. The DC picks the session id and the credential; the RS
	 * answers ALLOC_OK or ERROR (RELAY_FULL, RELAY_EXISTS). RELEASE ends a
	 * session at once (ERROR/NO_SESSION when it is gone already).
	 */
	NTM_CTRL_RELAY_ALLOC = 0x20,	  /* DC -> RS: SESSION_ID CREDENTIAL LIFETIME */
	NTM_CTRL_RELAY_ALLOC_OK = 0x21,	  /* RS -> DC: SESSION_ID */
	NTM_CTRL_RELAY_RELEASE = 0x22,	  /* DC -> RS: SESSION_ID */
	NTM_CTRL_RELAY_RELEASE_OK = 0x23, /* RS -> DC: SESSION_ID */
	/*
	 * A registered node asks for a relay to the node FQDN (a path that did
	 * not work directly, DESIGN "Flows" 3). The DC allocates a session on
	 * the least loaded RS and sends RELAY_OFFER to the requester (req_id
	 * repeated, SIDE A) and to the peer (req_id 0, SIDE B), each naming the
	 * other end; ERROR UNKNOWN_NAME (peer not online) or RELAY_FULL (no RS
	 * could allocate) otherwise. RELAY_ADDR*: relays that stopped
	 * answering for this pair (RS failover); the DC prefers others.
	 */
	NTM_CTRL_RELAY_REQUEST = 0x24, /* node -> DC: FQDN (the peer) RELAY_ADDR* */
	NTM_CTRL_RELAY_OFFER = 0x25,   /* DC -> node: FQDN PUBKEY RELAY_ADDR+ SESSION_ID
					* CREDENTIAL LIFETIME SIDE (FQDN, PUBKEY: the peer) */
	/*
	 * The node left relay session SESSION_ID with the peer PUBKEY for a
	 * proven direct path (and stopped refreshing its BIND). When both ends
	 * of the pair did, the DC releases the session on its relay; a node
	 * that needs the relay again sends RELAY_REQUEST. Not answered (a lost
	 * one only lets the idle session expire on the relay).
	 */
	NTM_CTRL_RELAY_DONE = 0x26, /* node -> DC: PUBKEY (the peer) SESSION_ID */
	/*
	 * A Relay Server's registration and load reports (RS -> DC, requests
	 * like a node's REGISTER and KEEPALIVE). Only keys enrolled with
	 * `enroll --relay` may register; the answer's KEEPALIVE is the report
	 * interval.
	 */
	NTM_CTRL_RS_REGISTER = 0x30,	/* RS -> DC: RELAY_ADDR+ LOAD */
	NTM_CTRL_RS_REGISTER_OK = 0x31, /* DC -> RS: KEEPALIVE */
	NTM_CTRL_RS_LOAD = 0x32,	/* RS -> DC: LOAD */
	NTM_CTRL_RS_LOAD_ACK = 0x33,	/* DC -> RS: (nothing) */
	/*
	 * DC <-> DC (federation, dc/federation.h), on a control session the
	 * asking DC initiates to the other domain's DC. HELLO announces the
	 * caller's domain and pools; the answer is HELLO_OK with the callee's,
	 * or ERROR FED_NOT_ALLOWED (the caller's domain or key is not in the
	 * callee's [Federation] sections) or FED_POOL_OVERLAP. A QUERY names
	 * the target (FED_TARGET) and describes the requesting node (FQDN ...
	 * FAMILIES: what a DIRECTION would say of it); the callee checks its
	 * policy, directs its node toward the requester and answers FED_ANSWER
	 * describing its node, with the path it chose (the same rules,
	 * dc/path.h), or ERROR UNKNOWN_NAME / FED_DENIED.
	 */
	NTM_CTRL_FED_HELLO = 0x40,    /* DC -> DC: FED_DOMAIN POOL4 POOL6 */
	NTM_CTRL_FED_HELLO_OK = 0x41, /* DC -> DC: FED_DOMAIN POOL4 POOL6 */
	NTM_CTRL_FED_QUERY = 0x42,    /* DC -> DC: FED_TARGET FQDN PUBKEY VIP4 VIP6 OUTSIDE
				       * CANDIDATE* [NAT] [FAMILIES] [FED_HAS_RELAY]
				       * (the requester) */
	NTM_CTRL_FED_ANSWER = 0x43,   /* DC -> DC: FQDN PUBKEY VIP4 VIP6 OUTSIDE CANDIDATE*
				       * PATH [NAT] [FAMILIES] [FED_NO_RELAY] (the target) */
	/*
	 * The callee's relay for a queried pair (the path needs one, or it runs
	 * in parallel with a punch), unsolicited (request id 0): FQDN is the
	 * caller's requesting node, FED_TARGET and PUBKEY the callee's node;
	 * the caller offers it to its node as RELAY_OFFER side A (or SIDE, below).
	 * Not answered.
	 */
	NTM_CTRL_FED_RELAY = 0x44, /* DC -> DC: FQDN FED_TARGET PUBKEY RELAY_ADDR+ SESSION_ID
				    * CREDENTIAL LIFETIME [SIDE] */
	/*
	 * Relay through either domain's RS (dc/fedrelay.c). In every FED_RELAY*
	 * message FQDN names the receiver's node and FED_TARGET and PUBKEY the
	 * sender's node of the pair; FED_RELAY's SIDE (absent: A) is the side
	 * the receiver offers its node, whose peer took the other one.
	 * FED_RELAY_NEED: the sender has no usable relay for the pair (none
	 * registered, all full or silent, or only the RELAY_ADDR* ones, which a
	 * node found silent); the receiver allocates on its own relays, avoiding
	 * those, and answers with FED_RELAY, or logs that neither domain can
	 * relay. A NEED is never answered by a NEED. FED_RELAY_REQUEST: a node's
	 * RELAY_REQUEST (late fallback, RS failover) forwarded to the peer's DC,
	 * which allocates (FED_RELAY) or delegates back (FED_RELAY_NEED).
	 * FED_RELAY_DONE: a node's RELAY_DONE for a session the receiver
	 * allocated. None is answered (request id 0; the nodes retry).
	 * 0x49-0x4f: reserved for more DC <-> DC messages.
	 */
	NTM_CTRL_FED_RELAY_NEED = 0x45,	   /* DC -> DC: FQDN FED_TARGET PUBKEY RELAY_ADDR* */
	NTM_CTRL_FED_RELAY_REQUEST = 0x46, /* DC -> DC: FQDN FED_TARGET PUBKEY RELAY_ADDR* */
	NTM_CTRL_FED_RELAY_DONE = 0x47,	   /* DC -> DC: FQDN PUBKEY SESSION_ID */
	/*
	 * The sender revoked (or deleted) its node FQDN with PUBKEY, which it
	 * had described to the receiver in a FED_ANSWER: the receiver, when the
	 * name lies under the sender's domain and it learned the key from it,
	 * sends PEER_REVOKED to its nodes that were told about it. Not answered.
	 */
	NTM_CTRL_FED_REVOKED = 0x48, /* DC -> DC: PUBKEY FQDN */
};

enum ntm_ctrl_attr {
	NTM_CTRL_ATTR_PAD = 0,
	NTM_CTRL_ATTR_FQDN = 1,
	NTM_CTRL_ATTR_TOKEN = 2,
	NTM_CTRL_ATTR_CANDIDATE = 3,
	NTM_CTRL_ATTR_VIP4 = 4,
	NTM_CTRL_ATTR_VIP6 = 5,
	NTM_CTRL_ATTR_OUTSIDE = 6,
	NTM_CTRL_ATTR_KEEPALIVE = 7,
	NTM_CTRL_ATTR_ERROR_CODE = 8,
	NTM_CTRL_ATTR_ERROR_TEXT = 9,
	NTM_CTRL_ATTR_PUBKEY = 10,
	NTM_CTRL_ATTR_POOL4 = 11,
	NTM_CTRL_ATTR_POOL6 = 12,
	NTM_CTRL_ATTR_TARGET_VIP = 13,
	NTM_CTRL_ATTR_RELAY_ADDR = 20,
	NTM_CTRL_ATTR_LOAD = 21,
	NTM_CTRL_ATTR_SESSION_ID = 22,
	NTM_CTRL_ATTR_CREDENTIAL = 23,
	NTM_CTRL_ATTR_LIFETIME = 24,
	NTM_CTRL_ATTR_SIDE = 25,
	NTM_CTRL_ATTR_ALT_ENDPOINT = 26,
	NTM_CTRL_ATTR_NAT = 27,
	NTM_CTRL_ATTR_NAT_PEER = 28,
	NTM_CTRL_ATTR_PATH = 29,
	NTM_CTRL_ATTR_FAMILIES = 30,
	NTM_CTRL_ATTR_MOVED = 36,
	NTM_CTRL_ATTR_FED_DOMAIN = 46, /* 46-55: DC <-> DC */
	NTM_CTRL_ATTR_FED_TARGET = 47,
	NTM_CTRL_ATTR_FED_NO_RELAY = 48,
	NTM_CTRL_ATTR_FED_HAS_RELAY = 49,
	NTM_CTRL_ATTR_OPTIONAL_FIRST = 0x80,
	/* Optional attributes this version knows (0x80-0x9f; skipped where not allowed). */
	NTM_CTRL_ATTR_DOMAIN = 0x88,
	NTM_CTRL_ATTR_OPTIONAL_KNOWN_END = 0xa0,
};

enum ntm_ctrl_error {
	NTM_CTRL_E_UNSPEC = 1,
	NTM_CTRL_E_MALFORMED = 2,	  /* the request did not decode */
	NTM_CTRL_E_UNSUPPORTED = 3,	  /* unknown kind */
	NTM_CTRL_E_NOT_ENROLLED = 4,	  /* key not enrolled (or revoked) and no usable token */
	NTM_CTRL_E_NAME_MISMATCH = 5,	  /* FQDN is not the authenticated key's */
	NTM_CTRL_E_BAD_TOKEN = 6,	  /* token unknown, used, expired or for another name */
	NTM_CTRL_E_POOL_EXHAUSTED = 7,	  /* no VIP left */
	NTM_CTRL_E_INTERNAL = 8,	  /* the DC failed (database) */
	NTM_CTRL_E_NOT_REGISTERED = 9,	  /* KEEPALIVE or DIRECTION_REQUEST before REGISTER */
	NTM_CTRL_E_UNKNOWN_NAME = 10,	  /* DIRECTION_REQUEST: no such node, or it is not online */
	NTM_CTRL_E_RELAY_FULL = 20,	  /* RELAY_ALLOC: the RS has no free session slot */
	NTM_CTRL_E_RELAY_EXISTS = 21,	  /* RELAY_ALLOC: the session id is taken */
	NTM_CTRL_E_NO_SESSION = 22,	  /* RELAY_RELEASE: no such session */
	NTM_CTRL_E_FED_NOT_ALLOWED = 46,  /* DC <-> DC: not a federated domain, or not its key */
	NTM_CTRL_E_FED_POOL_OVERLAP = 47, /* FED_HELLO: the VIP pools overlap */
	NTM_CTRL_E_FED_DENIED = 48,	  /* FED_QUERY: policy (Allow) refuses the pair */
};

/* NAT classes (DESIGN "Interfaces": public eim edm), as NAT / NAT_PEER carry them. */
enum ntm_ctrl_nat {
	NTM_CTRL_NAT_UNKNOWN = 0, /* not classified yet (no message on AltListen) */
	NTM_CTRL_NAT_PUBLIC = 1,
	NTM_CTRL_NAT_EIM = 2, /* endpoint-independent mapping */
	NTM_CTRL_NAT_EDM = 3, /* endpoint-dependent mapping */
	NTM_CTRL_NAT_MAX = NTM_CTRL_NAT_EDM,
};

/* Paths (DESIGN "Interfaces": direct punched same-nat relay), as PATH carries them. */
enum ntm_ctrl_path {
	NTM_CTRL_PATH_DIRECT = 0,
	NTM_CTRL_PATH_PUNCHED = 1,
	NTM_CTRL_PATH_SAME_NAT = 2,
	NTM_CTRL_PATH_RELAY = 3,
	NTM_CTRL_PATH_MAX = NTM_CTRL_PATH_RELAY,
};

enum {
	NTM_CTRL_FAMILY_V4 = 1,
	NTM_CTRL_FAMILY_V6 = 2,
};

enum ntm_ctrl_limits {
	NTM_CTRL_HEADER_LEN = 6,
	NTM_CTRL_FQDN_MAX = 253,
	NTM_CTRL_TOKEN_MAX = 64,
	NTM_CTRL_CANDIDATES_MAX = 8,
	NTM_CTRL_ERROR_TEXT_MAX = 128,
	NTM_CTRL_KEEPALIVE_MAX = 3600,
	NTM_CTRL_ADDR4_LEN = 7,
	NTM_CTRL_ADDR6_LEN = 19,
	NTM_CTRL_POOL4_LEN = 5,
	NTM_CTRL_POOL6_LEN = 17,
	NTM_CTRL_RELAY_ADDRS_MAX = 4,
	NTM_CTRL_LOAD_LEN = 22,
	NTM_CTRL_CRED_LEN = 32,
	NTM_CTRL_LIFETIME_MAX = 3600,
	NTM_CTRL_CPU_MAX = 1000,
	NTM_CTRL_DOMAINS_MAX = 4, /* 4 x 255 bytes fit NTM_CTRL_PLAIN_MAX with the rest */
};

/* An RS's load report (LOAD attribute): a plain value. */
struct ntm_ctrl_load {
	uint32_t sessions;
	uint32_t capacity;
	uint32_t pps;
	uint64_t bps;
	uint16_t cpu; /* permille of one CPU */
};

/* The bit of a must-understand attribute in `attrs`; this version numbers them 1..63. */
#define NTM_CTRL_BIT(a) (UINT64_C(1) << (a))

/* An address as carried on the wire: a plain value. */
struct ntm_ctrl_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t ip[16]; /* 4 bytes used for family 4, the rest zero */
	uint16_t port;	/* host byte order, non-zero */
};

/*
 * A decoded message: a plain value, every field copied out of the buffer.
 * `attrs` has bit NTM_CTRL_BIT(attr) set for every attribute present, `opt_attrs`
 * bit (1u << (attr - 0x80)) for every known optional one.
 */
struct ntm_ctrl_msg {
	uint8_t kind;
	uint32_t req_id;
	uint64_t attrs;
	char fqdn[NTM_CTRL_FQDN_MAX + 1];
	char token[NTM_CTRL_TOKEN_MAX + 1];
	struct ntm_ctrl_addr cand[NTM_CTRL_CANDIDATES_MAX];
	size_t n_cand;
	uint8_t vip4[4];
	uint8_t vip6[16];
	struct ntm_ctrl_addr outside;
	uint16_t keepalive;
	uint8_t pubkey[32];
	struct ntm_prefix pool4; /* family AF_INET when present */
	struct ntm_prefix pool6; /* family AF_INET6 when present */
	uint8_t target_family;	 /* 4 or 6 when TARGET_VIP is present */
	uint8_t target_vip[16];	 /* 4 bytes used for family 4, the rest zero */
	struct ntm_ctrl_addr relay_addr[NTM_CTRL_RELAY_ADDRS_MAX];
	size_t n_relay_addr;
	struct ntm_ctrl_load load;
	uint32_t session_id;
	uint8_t credential[NTM_CTRL_CRED_LEN]; /* secret: wipe the message after use */
	uint16_t lifetime;
	uint8_t side;
	struct ntm_ctrl_addr alt_endpoint;
	uint8_t nat;	  /* enum ntm_ctrl_nat */
	uint8_t nat_peer; /* enum ntm_ctrl_nat */
	uint8_t path;	  /* enum ntm_ctrl_path */
	uint8_t families; /* NTM_CTRL_FAMILY_* bits */
	uint16_t error_code;
	char error_text[NTM_CTRL_ERROR_TEXT_MAX + 1];
	uint32_t opt_attrs;
	char domains[NTM_CTRL_DOMAINS_MAX][NTM_CTRL_FQDN_MAX + 1];
	size_t n_domains;
	char fed_domain[NTM_CTRL_FQDN_MAX + 1];
	char fed_target[NTM_CTRL_FQDN_MAX + 1];
};

/* Zeroes *m and sets kind and request id; add attributes by filling fields and bits. */
void ntm_ctrl_msg_init(struct ntm_ctrl_msg *m, enum ntm_ctrl_kind kind, uint32_t req_id);

/* True when `a` is present. */
bool ntm_ctrl_msg_has(const struct ntm_ctrl_msg *m, enum ntm_ctrl_attr a);

/* Appends a DOMAIN (borrowed, copied); -E2BIG when full, -EINVAL when too long or empty. */
NTM_MUST_CHECK int ntm_ctrl_msg_add_domain(struct ntm_ctrl_msg *m, const char *domain);

/*
 * Decodes `buf` (borrowed for the call). *out is zeroed on entry. Returns 0,
 * -ENOTSUP for a kind this version does not know (out->kind and req_id are
 * then set, nothing else), or -EBADMSG (out zeroed again).
 */
NTM_MUST_CHECK int ntm_ctrl_msg_decode(const uint8_t *buf, size_t len, struct ntm_ctrl_msg *out);

/*
 * Appends the message to `w` in canonical attribute order, or nothing.
 * Returns 0, -EINVAL when the message breaks its kind's rules (a required
 * attribute missing, one not allowed, a value out of its limits), or
 * -EMSGSIZE when it does not fit `w` or NTM_CTRL_PLAIN_MAX.
 */
NTM_MUST_CHECK int ntm_ctrl_msg_encode(struct ntm_wbuf *w, const struct ntm_ctrl_msg *m);

/* Socket address <-> wire address. -EAFNOSUPPORT / -EINVAL for anything else. */
NTM_MUST_CHECK int ntm_ctrl_addr_from(struct ntm_ctrl_addr *out, const struct ntm_addr *a);
NTM_MUST_CHECK int ntm_ctrl_addr_to(struct ntm_addr *out, const struct ntm_ctrl_addr *a);

/* Human names for logs and the test client ("REGISTER", "NOT_ENROLLED", ...). */
const char *ntm_ctrl_kind_name(uint8_t kind);
const char *ntm_ctrl_error_name(uint16_t code);
/* The fixed words of DESIGN "Interfaces": "public", "eim", "edm" ("" unknown); paths. */
const char *ntm_ctrl_nat_name(uint8_t nat);
const char *ntm_ctrl_path_name(uint8_t path);

#endif
