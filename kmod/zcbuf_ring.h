/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf rings: completion and submission rings shared with user space.
 */
#ifndef _ZCBUF_RING_H
#define _ZCBUF_RING_H

#include <linux/types.h>

#include <linux/zcbuf.h>

struct vm_area_struct;

/**
 * struct zcbuf_ring - the CQ and SQ of one context
 * @mem: the shared area, zeroed, @size bytes (the direct map of @pages)
 * @size: bytes in @mem, a multiple of PAGE_SIZE
 * @pages: the physically contiguous order-0 pages of @mem
 * @npages: entries in @pages
 * @entries: entries per ring, a power of two
 * @cq: where the CQ's words are in @mem
 * @sq: where the SQ's words are in @mem
 * @cq_tail: the kernel's CQ producer index; the shared copy is only written
 *	     (under the queue's qlock)
 * @sq_head: the kernel's SQ consumer index; the shared copy is only written
 *	     (by the queue's refill work only)
 * @sq_errors: invalid SQ entries skipped (refill work only)
 *
 * User space can write anything anywhere in @mem at any time: the kernel
 * keeps its own indices, reads each shared word once and checks it.
 */
struct zcbuf_ring {
	void *mem;
	size_t size;
	struct page **pages;
	unsigned int npages;
	u32 entries;
	struct zcbuf_ring_offsets cq;
	struct zcbuf_ring_offsets sq;
	u32 cq_tail;
	u32 sq_head;
	u32 sq_errors;
};

struct zcbuf_ring *zcbuf_ring_create(u32 entries);
void zcbuf_ring_destroy(struct zcbuf_ring *ring);
int zcbuf_ring_mmap(struct zcbuf_ring *ring, struct vm_area_struct *vma);

bool zcbuf_ring_post(struct zcbuf_ring *ring, const struct zcbuf_cqe *cqe);
bool zcbuf_ring_cq_ready(struct zcbuf_ring *ring);

bool zcbuf_ring_sq_pending(struct zcbuf_ring *ring);
bool zcbuf_ring_sq_next(struct zcbuf_ring *ring, struct zcbuf_sqe *sqe);
void zcbuf_ring_sq_error(struct zcbuf_ring *ring);
void zcbuf_ring_sq_discard(struct zcbuf_ring *ring);
void zcbuf_ring_sq_set_need_wakeup(struct zcbuf_ring *ring, bool need);

#endif /* _ZCBUF_RING_H */
