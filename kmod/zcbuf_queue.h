/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf streaming: the buffer queue between user space and a device.
 *
 * The queue is below the context (zcbuf_ctx.c), which embeds it and owns the
 * buffer table it works on, and the registry (zcbuf_registry.c), which
 * binds it to a device: it includes neither.
 */
#ifndef _ZCBUF_QUEUE_H
#define _ZCBUF_QUEUE_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/zcbuf.h>

#include "zcbuf_device.h"

struct dma_buf;
struct dma_buf_attachment;
struct eventfd_ctx;
struct file;
struct sg_table;
struct vm_area_struct;
struct zcbuf_buffer;
struct zcbuf_ring;

/*
 * Kernel-internal slot state, never reported: the slot is owned by one
 * thread on its way out of the table (FREE) or into the queue (SQ).
 */
#define ZCBUF_STATE_CLAIMED	0x80000000U

/**
 * struct zcbuf_slot - one buffer as a context sees it
 * @index: the buffer's index in the context
 * @flags: ZCBUF_BUF_* flags
 * @size: size in bytes
 * @dmabuf: the DMA-buf; the slot holds one reference on it
 * @buf: for buffers allocated here, the buffer behind @dmabuf (kept alive by
 *	the reference on @dmabuf); NULL for imported DMA-bufs
 * @state: ZCBUF_STATE_*, under the queue's qlock
 * @attach: the device's attachment to @dmabuf, made at the first QBUF and
 *	kept until the slot goes or the direction changes (under the
 *	queue's lock)
 * @sgt: @attach mapped for the device in direction @dir (ditto)
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
 *	STREAMON under the queue's lock
 * @dep: what the device waits for before it takes the queued buffer: the
 *	fences that were in the reservation object at QBUF (implicit sync);
 *	@dep.pending under the queue's qlock
 * @ready_since: jiffies since when the device could have taken the
 *	queued buffer (its dependencies done); under the queue's qlock
 * @window: the slot's mmap window (see struct zcbuf_limits), reserved in
 *	the context's windows while the slot is being made, then pointing
 *	to it
 * @rcu: slots are freed after a grace period: the device's SQ path looks
 *	them up under RCU, without the queue's lock
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
	unsigned long ready_since;
	u32 window;
	struct rcu_head rcu;
};

/**
 * struct zcbuf_queue - the queue of one context
 * @lock: the context's lock (see zcbuf_queue_init())
 * @slots: the context's buffers, index -> struct zcbuf_slot, under @lock
 * @ref: the context's refcount, which keeps the queue's memory
 * @release: @ref's release function
 * @zdev: the device, while bound to one (zcbuf_registry.c: it changes under
 *	@lock and zcbuf_devices_lock both)
 * @dev_node: entry in @zdev's list of queues (under zcbuf_devices_lock)
 * @cfg: the configuration, valid if @configured
 * @dir: DMA direction of the device's mappings for @cfg
 * @configured: ZCBUF_IOC_CONFIG chose a device
 * @gone: the device went away under the context; cleared by CONFIG
 * @streaming: between STREAMON and STREAMOFF
 * @drvdata: the device's per-queue state, between start and stop
 * @ring: the shared CQ and SQ, once set up; set under the context's lock
 *	and qlock while not streaming, never changed while streaming, freed
 *	with the context
 * @committing: CONFIG or RING_SETUP has prepared a change that it makes
 *	only once its result has reached user space; until then CONFIG,
 *	RING_SETUP, STREAMON and QBUF fail with EBUSY
 * @epoch: incremented whenever every buffer returns to user space
 *	(STREAMOFF, close), so that a DONE buffer taken by DQBUF or read()
 *	is not put back into a queue that has been emptied meanwhile
 *
 * The fields above are under @lock.  The device never takes that lock, so
 * that stopping it with the lock held cannot deadlock.
 *
 * @qlock: spinlock protecting @queued, @done, @eventfd, @stats and the state
 *	of every slot of the context (struct zcbuf_slot.state); nests inside
 *	@lock
 * @queued: struct zcbuf_dev_buf of buffers in ZCBUF_STATE_QUEUED, in order
 * @done: struct zcbuf_dev_buf of buffers in ZCBUF_STATE_DONE, in order
 * @eventfd: signalled once per completion, or NULL
 * @stats: counters since STREAMON (queued and done are computed)
 * @nr_queued: buffers in ZCBUF_STATE_QUEUED or ZCBUF_STATE_DEVICE
 * @nr_done: entries in @done
 * @running: the device runs (set after it started, cleared before it is
 *	stopped), so a dependency's callback may kick it
 * @nr_taking: DONE buffers DQBUF or read() took off @done whose result has
 *	not reached user space yet (ZCBUF_STATE_CLAIMED): they count as done
 *	for CONFIG and RING_SETUP
 * @done_wq: poll() and read() wait here for a completion
 * @last_progress: jiffies of the device's last completion, or of STREAMON;
 *	under @qlock
 * @watchdog: signals the fences of a device that stalls, with -ETIMEDOUT
 *	(zcbuf_queue_watchdog()); armed under @qlock while @running
 * @refill_work: moves what user space submitted in the SQ to @queued
 *	(zcbuf_queue_refill()); scheduled only while @running
 */
struct zcbuf_queue {
	struct mutex *lock;	/* the context's: see @lock above */
	struct xarray *slots;
	struct kref *ref;
	void (*release)(struct kref *ref);
	struct zcbuf_device *zdev;
	struct list_head dev_node;
	struct zcbuf_config cfg;
	enum dma_data_direction dir;
	bool configured;
	bool gone;
	bool streaming;
	void *drvdata;
	struct zcbuf_ring *ring;
	bool committing;
	u32 epoch;

	spinlock_t qlock;	/* see @qlock above */
	struct list_head queued;
	struct list_head done;
	struct eventfd_ctx *eventfd;
	struct zcbuf_stats stats;
	unsigned int nr_queued;
	unsigned int nr_done;
	unsigned int nr_taking;
	bool running;
	wait_queue_head_t done_wq;
	unsigned long last_progress;
	struct delayed_work watchdog;
	struct work_struct refill_work;
};

/**
 * struct zcbuf_queue_pending - what a queue ioctl made but may publish only
 *	once its result has reached user space (zcbuf_queue_pending_finish())
 * @taken: DQBUF: the DONE buffer whose result is being copied out
 *	(ZCBUF_STATE_CLAIMED, counted in the queue's nr_taking); it goes to
 *	user space, or back to the head of the done list
 * @taken_epoch: the queue's epoch when @taken was taken
 * @ring: RING_SETUP: the rings, published once the offsets reached user
 *	space (the queue is committing meanwhile)
 */
struct zcbuf_queue_pending {
	struct zcbuf_slot *taken;
	u32 taken_epoch;
	struct zcbuf_ring *ring;
};

void zcbuf_queue_init(struct zcbuf_queue *queue, struct mutex *lock,
		      struct xarray *slots, struct kref *ref,
		      void (*release)(struct kref *ref));
void zcbuf_queue_get(struct zcbuf_queue *queue);
void zcbuf_queue_put(struct zcbuf_queue *queue);
void zcbuf_queue_device_gone(struct zcbuf_queue *queue);
void zcbuf_queue_shutdown(struct zcbuf_queue *queue);
void zcbuf_queue_release(struct zcbuf_queue *queue);
void zcbuf_queue_release_slot(struct zcbuf_queue *queue,
			      struct zcbuf_slot *slot);
u32 zcbuf_queue_slot_state(struct zcbuf_queue *queue, struct zcbuf_slot *slot);
int zcbuf_queue_claim_slot(struct zcbuf_queue *queue, struct zcbuf_slot *slot);
int zcbuf_queue_ring_mmap(struct zcbuf_queue *queue,
			  struct vm_area_struct *vma);
void zcbuf_queue_pending_finish(struct zcbuf_queue *queue,
				struct zcbuf_queue_pending *p, bool publish);

int zcbuf_queue_check_config(struct zcbuf_queue *queue,
			     const struct zcbuf_config *cfg);
void zcbuf_queue_configure(struct zcbuf_queue *queue,
			   const struct zcbuf_config *cfg);
void zcbuf_queue_unmap_all(struct zcbuf_queue *queue);
void zcbuf_queue_unconfigure(struct zcbuf_queue *queue);

int zcbuf_ioctl_set_eventfd(struct zcbuf_queue *queue, void *arg,
			    struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_streamon(struct zcbuf_queue *queue, void *arg,
			 struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_streamoff(struct zcbuf_queue *queue, void *arg,
			  struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_qbuf(struct zcbuf_queue *queue, void *arg,
		     struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_dqbuf(struct zcbuf_queue *queue, void *arg,
		      struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_stats(struct zcbuf_queue *queue, void *arg,
		      struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_ring_setup(struct zcbuf_queue *queue, void *arg,
			   struct zcbuf_queue_pending *pending);
int zcbuf_ioctl_ring_kick(struct zcbuf_queue *queue, void *arg,
			  struct zcbuf_queue_pending *pending);

__poll_t zcbuf_queue_poll(struct zcbuf_queue *queue, struct file *file,
			  poll_table *wait);
ssize_t zcbuf_queue_read(struct zcbuf_queue *queue, struct file *file,
			 char __user *ubuf, size_t len);

#endif /* _ZCBUF_QUEUE_H */
