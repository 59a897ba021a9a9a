/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf contexts: one per open() of /dev/zcbuf, owning a table of buffers.
 */
#ifndef _ZCBUF_CTX_H
#define _ZCBUF_CTX_H

#include <linux/dma-direction.h>
#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "zcbuf_device.h"
#include "zcbuf_queue.h"

struct dma_buf;
struct dma_buf_attachment;
struct sg_table;
struct vm_area_struct;
struct zcbuf_buffer;

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

/**
 * struct zcbuf_slot - one buffer as a context sees it
 * @index: the buffer's index in the context
 * @flags: ZCBUF_BUF_* flags
 * @size: size in bytes
 * @dmabuf: the DMA-buf; the slot holds one reference on it
 * @buf: for buffers allocated here, the buffer behind @dmabuf (kept alive by
 *	the reference on @dmabuf); NULL for imported DMA-bufs
 * @state: ZCBUF_STATE_*, under ctx->queue.qlock
 * @attach: the device's attachment to @dmabuf, made at the first QBUF and
 *	kept until the slot goes or the direction changes (under ctx->lock)
 * @sgt: @attach mapped for the device in direction @dir (under ctx->lock)
 * @dir: direction of @sgt
 * @dbuf: the buffer as the device sees it while queued
 * @fence_context: the fence timeline of this buffer: at most one of its
 *	fences is unsignalled at a time, so sequence numbers follow
 *	completion order, and freeing the slot takes out of a foreign
 *	reservation object exactly this slot's fences
 * @fence_seqno: the last fence's sequence number; changed by whoever has
 *	the slot claimed for queueing
 * @fence_published: @dbuf.fence is in the reservation object (it is only
 *	while the device streams); set by whoever queues the slot, and by
 *	STREAMON under ctx->lock
 * @dep: what the device waits for before it takes the queued buffer: the
 *	fences that were in the reservation object at QBUF (implicit sync);
 *	@dep.pending under the queue's qlock
 * @window: the slot's mmap window (see struct zcbuf_limits), reserved in
 *	ctx->windows while the slot is being made, then pointing to it
 * @rcu: slots are freed after a grace period: the device's SQ path looks
 *	them up under RCU, without ctx->lock
 */
struct zcbuf_slot {
	u32 index;
	u32 flags;
	u64 size;
	struct dma_buf *dmabuf;
	struct zcbuf_buffer *buf;
	u32 state;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	struct zcbuf_dev_buf dbuf;
	u64 fence_context;
	u64 fence_seqno;
	bool fence_published;
	struct {
		struct dma_fence *fence;
		struct dma_fence_cb cb;
		struct zcbuf_queue *queue;
		bool pending;
	} dep;
	u32 window;
	struct rcu_head rcu;
};

/**
 * struct zcbuf_ctx - the state of one open /dev/zcbuf
 * @kref: the file's reference, and one for each device unregistering
 *	while the context is bound to it; the memory goes with the last
 *	(zcbuf_ctx_put()), everything else when the file is closed
 * @lock: protects @slots (membership and every slot's @state), @windows,
 *	@next_index, @nr_slots and @total_size.  Taken inside mmap_lock (from
 *	->mmap), so nothing that may fault on user memory runs under it.
 * @slots: index -> struct zcbuf_slot
 * @windows: mmap window -> struct zcbuf_slot; windows of freed buffers are
 *	reused (cyclically, see zcbuf_reserve_window()), unlike indices, so
 *	offsets stay below ZCBUF_MMAP_OFFSET_LIMIT
 * @next_window: where the cyclic search for a free window starts
 * @next_index: index of the next buffer created; indices are never reused
 * @nr_slots: number of entries in @slots
 * @total_size: bytes of the buffers allocated (not imported) here
 * @queue: the queue to the device (see its own locking rules)
 */
struct zcbuf_ctx {
	struct kref kref;
	struct mutex lock;	/* see @lock above */
	struct xarray slots;
	struct xarray windows;
	u32 next_index;
	u32 next_window;
	u32 nr_slots;
	u64 total_size;
	struct zcbuf_queue queue;
};

/**
 * struct zcbuf_pending - what an ioctl made but may publish only once its
 *	result has reached user space; the dispatcher then calls
 *	zcbuf_pending_finish(), which publishes it or undoes it
 * @fd: a reserved fd number, or -1
 * @file: the file to install at @fd
 * @slots: new slots, for table indices @first.. that are reserved
 *	(xa_reserve()) and already counted in the context's limits
 * @first: index of @slots[0]
 * @count: entries in @slots
 * @bytes: bytes of allocated buffers in @slots (counted in total_size)
 * @taken: DQBUF: the DONE buffer whose result is being copied out
 *	(ZCBUF_STATE_CLAIMED, counted in the queue's nr_taking); it goes to
 *	user space, or back to the head of the done list
 * @taken_epoch: the queue's epoch when @taken was taken
 * @ring: RING_SETUP: the rings, published once the offsets reached user
 *	space (the queue is committing meanwhile)
 * @config: CONFIG: @cfg is committed once frame_size reached user space
 *	(the queue is committing meanwhile)
 * @cfg: the checked configuration
 */
struct zcbuf_pending {
	int fd;
	struct file *file;
	struct zcbuf_slot **slots;
	u32 first;
	u32 count;
	u64 bytes;
	struct zcbuf_slot *taken;
	u32 taken_epoch;
	struct zcbuf_ring *ring;
	bool config;
	struct zcbuf_config cfg;
};

struct zcbuf_ctx *zcbuf_ctx_create(void);
void zcbuf_ctx_get(struct zcbuf_ctx *ctx);
void zcbuf_ctx_put(struct zcbuf_ctx *ctx);
void zcbuf_pending_finish(struct zcbuf_ctx *ctx, struct zcbuf_pending *p,
			  bool publish);
struct zcbuf_slot *zcbuf_slot_find(struct zcbuf_ctx *ctx, u32 index);
void zcbuf_ctx_destroy(struct zcbuf_ctx *ctx);
int zcbuf_ctx_mmap(struct zcbuf_ctx *ctx, struct vm_area_struct *vma);

int zcbuf_ioctl_alloc(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending);
int zcbuf_ioctl_free(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending);
int zcbuf_ioctl_query(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending);
int zcbuf_ioctl_export(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending);
int zcbuf_ioctl_import(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending);
int zcbuf_ioctl_sync(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending);

#endif /* _ZCBUF_CTX_H */
