/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_IDEM_H
#define RCP_AGENT_IDEM_H

/*
 * The agent's durable state in SQLite: the idempotency record of every
 * action request it accepted, and the firing sequence number of its engine.
 *
 * An action device records a key (state PENDING) and commits it to disk
 * before it acts, then stores the result (state DONE) before it answers. A
 * request whose key is known is answered from the record and never acts
 * again, also after a restart: a DONE record gives the stored result, a
 * PENDING one (the device stopped between recording and finishing) says the
 * outcome is unknown. So each action runs at most once per key, and the
 * sender's retries make it at least once.
 *
 * Every write is its own transaction. The PENDING record is committed with
 * synchronous=FULL (on disk before the device acts: durability wins over
 * latency, DESIGN "Recipes"); the DONE record with synchronous=NORMAL (in
 * the WAL, synced by the next durable commit or checkpoint), so the answer
 * does not wait for a second disk sync. A crash of the machine may lose a
 * DONE record: the key is then PENDING again, which a retry is told as
 * "outcome unknown" and which is never acted on again.
 */

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct rcp_idem;

enum {
	RCP_IDEM_KEY_MAX = 512,	   /* bytes of a key */
	RCP_IDEM_RESULT_MAX = 512, /* bytes of a stored result text */
	RCP_IDEM_WHY_MAX = 256,
};

enum rcp_idem_state {
	RCP_IDEM_PENDING = 0,
	RCP_IDEM_DONE = 1,
};

/* A stored record, as rcp_idem_begin() returns it for a known key. */
struct rcp_idem_record {
	enum rcp_idem_state state;
	unsigned code; /* CoAP response code (class * 32 + detail), DONE only */
	char result[RCP_IDEM_RESULT_MAX + 1];
};

/*
 * Open (creating if needed) the database at path (borrowed). *out is freed
 * with rcp_idem_close(). On failure *out is NULL and why says what failed.
 */
NTM_MUST_CHECK int rcp_idem_open(const char *path, struct rcp_idem **out, char *why, size_t whylen);
void rcp_idem_close(struct rcp_idem *s);

/*
 * Record `key` as PENDING for `sender` and `resource` (all borrowed) and
 * commit. 0 when the key is new; -EEXIST when it is known, with *rec filled
 * (and nothing written); -EINVAL for an over-long key; -EIO on a database
 * error.
 */
NTM_MUST_CHECK int rcp_idem_begin(struct rcp_idem *s, const char *key, const char *sender,
				  const char *resource, struct rcp_idem_record *rec);
/*
 * Store the result of a PENDING key (DONE) and commit without waiting for
 * the disk (see above). -ENOENT, -EIO.
 */
NTM_MUST_CHECK int rcp_idem_finish(struct rcp_idem *s, const char *key, unsigned code,
				   const char *result);
/* Number of records (tests and status). */
NTM_MUST_CHECK int rcp_idem_count(struct rcp_idem *s, uint64_t *n);

/*
 * Delete the records created more than age_s seconds ago (wall clock) and
 * commit; *removed says how many. Exactly-once holds as long as no sender
 * retries a key for longer than age_s: the agent keeps age_s at or above
 * the longest ActionDeadline any agent accepts (KeyRetention >= 86400).
 */
NTM_MUST_CHECK int rcp_idem_prune(struct rcp_idem *s, uint32_t age_s, uint64_t *removed);

/* The last firing sequence number stored (0 when none). */
NTM_MUST_CHECK int rcp_idem_seq_load(struct rcp_idem *s, uint64_t *seq);
/* Store seq as the last one used; a smaller value than the stored one is ignored. */
NTM_MUST_CHECK int rcp_idem_seq_store(struct rcp_idem *s, uint64_t seq);
/*
 * Store seq as it is, also when smaller: for a clean stop, to give back the
 * numbers reserved (rcp_idem_seq_store) but never used.
 */
NTM_MUST_CHECK int rcp_idem_seq_set(struct rcp_idem *s, uint64_t seq);

#endif
