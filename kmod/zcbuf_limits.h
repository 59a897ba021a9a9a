/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's limits on what a context holds (set from module parameters
 * at load, read-only afterwards).
 */
#ifndef _ZCBUF_LIMITS_H
#define _ZCBUF_LIMITS_H

#include <linux/types.h>

/*
 * Every mmap offset stays below this, so that 32-bit processes reach it:
 * mmap2() takes a 32-bit page offset.
 */
#define ZCBUF_MMAP_OFFSET_LIMIT	(1ULL << (32 + 12))

/**
 * struct zcbuf_limits - bounds on what one context may hold (module params)
 * @max_buffers: buffers per context
 * @max_buffer_size: bytes per buffer
 * @max_total_size: bytes of all allocated buffers of a context
 * @window_shift: log2 of a buffer's mmap window: window n (1 to
 *	@max_buffers) is at offset n << @window_shift; window 0 holds the
 *	rings (ZCBUF_OFF_RINGS)
 */
struct zcbuf_limits {
	unsigned int max_buffers;
	u64 max_buffer_size;
	u64 max_total_size;
	unsigned int window_shift;
};

extern struct zcbuf_limits zcbuf_limits;

#endif /* _ZCBUF_LIMITS_H */
