// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf rings: the completion ring (kernel produces, user consumes) and the
 * submission ring (user produces, the device consumes) in one area that user
 * space maps.  The protocol and its memory ordering are documented in the
 * uapi header; this file is its kernel half.
 *
 * Nothing read from the shared area is trusted: the kernel keeps its own
 * producer (CQ) and consumer (SQ) indices and only ever writes the shared
 * copies, reads the user's indices once per use, bounds them against the
 * ring size, copies each SQ entry before checking it, and indexes arrays
 * only with its own index masked to the ring size.
 */

#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "zcbuf_compat.h"
#include "zcbuf_ring.h"

/* Each shared word on its own cache line; entries after them. */
#define ZCBUF_RING_WORD(n)	((n) * SMP_CACHE_BYTES)
#define ZCBUF_RING_WORDS	8

static u32 *zcbuf_ring_word(struct zcbuf_ring *ring, u32 offset)
{
	return ring->mem + offset;
}

/**
 * zcbuf_ring_create() - allocate the shared area
 * @entries: entries per ring, a power of two (checked by the caller)
 *
 * Return: the rings or NULL.
 */
struct zcbuf_ring *zcbuf_ring_create(u32 entries)
{
	size_t cq_array = ZCBUF_RING_WORD(ZCBUF_RING_WORDS);
	size_t sq_array = ALIGN(cq_array + entries * sizeof(struct zcbuf_cqe),
				SMP_CACHE_BYTES);
	size_t size = PAGE_ALIGN(sq_array + entries * sizeof(struct zcbuf_sqe));
	unsigned int order = get_order(size), i;
	struct zcbuf_ring *ring;
	struct page *page;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return NULL;
	ring->npages = size >> PAGE_SHIFT;
	ring->pages = kmalloc_array(ring->npages, sizeof(*ring->pages),
				    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ring->pages)
		goto free_ring;

	/*
	 * Zeroed pages, contiguous so the kernel sees one area through the
	 * direct map, order-0 each so user space maps them like any page;
	 * failing quietly with ENOMEM (no vmalloc_user(): it cannot).
	 */
	page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			   __GFP_RETRY_MAYFAIL, order);
	if (!page)
		goto free_pages_array;
	split_page(page, order);
	for (i = 0; i < ring->npages; i++)
		ring->pages[i] = page + i;
	for (; i < (1U << order); i++)
		__free_page(page + i);

	ring->mem = page_address(page);
	ring->size = size;
	ring->entries = entries;

	ring->cq.producer = ZCBUF_RING_WORD(0);
	ring->cq.consumer = ZCBUF_RING_WORD(1);
	ring->cq.flags = ZCBUF_RING_WORD(2);
	ring->cq.errors = ZCBUF_RING_WORD(3);
	ring->cq.array = cq_array;
	ring->cq.entries = entries;

	ring->sq.producer = ZCBUF_RING_WORD(4);
	ring->sq.consumer = ZCBUF_RING_WORD(5);
	ring->sq.flags = ZCBUF_RING_WORD(6);
	ring->sq.errors = ZCBUF_RING_WORD(7);
	ring->sq.array = sq_array;
	ring->sq.entries = entries;
	return ring;

free_pages_array:
	kfree(ring->pages);
free_ring:
	kfree(ring);
	return NULL;
}

void zcbuf_ring_destroy(struct zcbuf_ring *ring)
{
	unsigned int i;

	if (!ring)
		return;
	for (i = 0; i < ring->npages; i++)
		put_page(ring->pages[i]);
	kfree(ring->pages);
	kfree(ring);
}

/**
 * zcbuf_ring_mmap() - map the shared area
 * @ring: the rings
 * @vma: a shared mapping of at most ring->size bytes
 *
 * The mapping keeps the /dev/zcbuf file, and so the context and the rings,
 * alive.
 */
int zcbuf_ring_mmap(struct zcbuf_ring *ring, struct vm_area_struct *vma)
{
	unsigned long num = vma_pages(vma);

	/* Private copies of the indices would silently stop the rings. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (num > ring->npages)
		return -EINVAL;
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	return vm_insert_pages(vma, vma->vm_start, ring->pages, &num);
}

/**
 * zcbuf_ring_post() - add a completion to the CQ
 * @ring: the rings
 * @cqe: the completion
 *
 * Under the queue's qlock.  The CQ has room for every buffer, so it cannot
 * overflow unless user space lies about its consumer index, which only
 * costs that process its own completions.
 *
 * Return: whether user space asked to be woken.
 */
bool zcbuf_ring_post(struct zcbuf_ring *ring, const struct zcbuf_cqe *cqe)
{
	struct zcbuf_cqe *cqes = ring->mem + ring->cq.array;

	cqes[ring->cq_tail & (ring->entries - 1)] = *cqe;
	ring->cq_tail++;
	/* The entry before the index that publishes it. */
	smp_store_release(zcbuf_ring_word(ring, ring->cq.producer),
			  ring->cq_tail);
	/* Pairs with user space's barrier between setting the flag and its
	 * last look at the producer index before it sleeps.
	 */
	smp_mb();
	return READ_ONCE(*zcbuf_ring_word(ring, ring->cq.flags)) &
	       ZCBUF_RING_CQ_WANT_WAKEUP;
}

/* Whether the CQ holds entries user space has not consumed. */
bool zcbuf_ring_cq_ready(struct zcbuf_ring *ring)
{
	return READ_ONCE(*zcbuf_ring_word(ring, ring->cq.consumer)) !=
	       READ_ONCE(ring->cq_tail);
}

/* Whether user space produced SQ entries the device has not taken. */
bool zcbuf_ring_sq_pending(struct zcbuf_ring *ring)
{
	return READ_ONCE(*zcbuf_ring_word(ring, ring->sq.producer)) !=
	       ring->sq_head;
}

static void zcbuf_ring_sq_advance(struct zcbuf_ring *ring, u32 head)
{
	ring->sq_head = head;
	/* Our reads of the entries before user space may reuse them. */
	smp_store_release(zcbuf_ring_word(ring, ring->sq.consumer), head);
}

/**
 * zcbuf_ring_sq_next() - take the next SQ entry
 * @ring: the rings
 * @sqe: a copy of the entry: check it, the shared one may change any time
 *
 * The refill work only.  A producer index more than a ring ahead of the
 * consumer is corrupt: everything up to it is skipped and counted.
 *
 * Return: whether there was an entry.
 */
bool zcbuf_ring_sq_next(struct zcbuf_ring *ring, struct zcbuf_sqe *sqe)
{
	const struct zcbuf_sqe *sqes = ring->mem + ring->sq.array;
	const struct zcbuf_sqe *src;
	u32 producer;

	/* The index before the entries it publishes. */
	producer = smp_load_acquire(zcbuf_ring_word(ring, ring->sq.producer));
	if (producer == ring->sq_head)
		return false;
	if (producer - ring->sq_head > ring->entries) {
		ring->sq_errors += producer - ring->sq_head;
		WRITE_ONCE(*zcbuf_ring_word(ring, ring->sq.errors),
			   ring->sq_errors);
		zcbuf_ring_sq_advance(ring, producer);
		return false;
	}

	src = &sqes[ring->sq_head & (ring->entries - 1)];
	sqe->index = READ_ONCE(src->index);
	sqe->flags = READ_ONCE(src->flags);
	sqe->bytesused = READ_ONCE(src->bytesused);
	zcbuf_ring_sq_advance(ring, ring->sq_head + 1);
	return true;
}

/* Count an SQ entry that was skipped as invalid; the refill work only. */
void zcbuf_ring_sq_error(struct zcbuf_ring *ring)
{
	ring->sq_errors++;
	WRITE_ONCE(*zcbuf_ring_word(ring, ring->sq.errors), ring->sq_errors);
}

/* Forget what the SQ holds (the stream stopped, no refill work runs). */
void zcbuf_ring_sq_discard(struct zcbuf_ring *ring)
{
	zcbuf_ring_sq_advance(ring, READ_ONCE(*zcbuf_ring_word(ring,
							       ring->sq.producer)));
	zcbuf_ring_sq_set_need_wakeup(ring, false);
}

/**
 * zcbuf_ring_sq_set_need_wakeup() - tell user space whether to kick
 * @ring: the rings
 * @need: the device sleeps until kicked (ZCBUF_IOC_RING_KICK)
 *
 * Setting it is followed by a full barrier: the caller then looks at the SQ
 * once more before sleeping (user space does the mirror image).
 */
void zcbuf_ring_sq_set_need_wakeup(struct zcbuf_ring *ring, bool need)
{
	u32 *flags = zcbuf_ring_word(ring, ring->sq.flags);

	WRITE_ONCE(*flags, need ? ZCBUF_RING_SQ_NEED_WAKEUP : 0);
	if (!need)
		return;
	/* The flag before our next look at the SQ producer index. */
	smp_mb();
}
