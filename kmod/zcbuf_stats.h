/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module-wide counters, shown in debugfs (zcbuf/counters).
 */
#ifndef _ZCBUF_STATS_H
#define _ZCBUF_STATS_H

#include <linux/atomic.h>

/**
 * struct zcbuf_counters - what the whole module holds and has done
 * @contexts: open /dev/zcbuf files
 * @buffers: live buffers (allocated here, not yet freed)
 * @buffer_bytes: bytes of @buffers
 * @frames: buffers completed without error
 * @frame_bytes: bytes the device wrote or read in @frames
 * @errors: buffers completed with an error
 * @drops_no_buffer: frames lost for want of a queued buffer
 * @drops_injected: frames lost by fault injection
 *
 * Atomics: updated from any context without a lock.
 */
struct zcbuf_counters {
	atomic_long_t contexts;
	atomic_long_t buffers;
	atomic64_t buffer_bytes;
	atomic64_t frames;
	atomic64_t frame_bytes;
	atomic64_t errors;
	atomic64_t drops_no_buffer;
	atomic64_t drops_injected;
};

extern struct zcbuf_counters zcbuf_counters;

void zcbuf_debugfs_init(void);
void zcbuf_debugfs_exit(void);

#endif /* _ZCBUF_STATS_H */
