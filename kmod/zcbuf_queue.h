/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf streaming: the buffer queue between user space and a device.
 */
#ifndef _ZCBUF_QUEUE_H
#define _ZCBUF_QUEUE_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <linux/zcbuf.h>

#include "zcbuf_device.h"

struct eventfd_ctx;
struct file;
struct zcbuf_ctx;
struct zcbuf_pending;
struct zcbuf_ring;
struct zcbuf_slot;
struct vm_area_struct;

/*
 * Kernel-internal slot state, never reported: the slot is owned by one
 * thread on its way out of the table (FREE) or into the queue (SQ).
 */
#define ZCBUF_STATE_CLAIMED	0x80000000U

/**
 * struct zcbuf_queue - the queue of one context
 * @zdev: the device, while bound to one (zcbuf_registry.c: it changes under
 *	the context's lock and zcbuf_devices_lock both)
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
 * The fields above are under the context's lock.  The device never takes
 * that lock, so that stopping it with the lock held cannot deadlock.
 *
 * @qlock: spinlock protecting @queued, @done, @eventfd, @stats and the state
 *	of every slot of the context (struct zcbuf_slot.state); nests inside
 *	the context's lock
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
 */
struct zcbuf_queue {
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
};

void zcbuf_queue_init(struct zcbuf_queue *queue);
void zcbuf_queue_device_gone(struct zcbuf_queue *queue,
			     struct zcbuf_device *zdev);
void zcbuf_queue_release(struct zcbuf_ctx *ctx);
void zcbuf_queue_release_slot(struct zcbuf_ctx *ctx, struct zcbuf_slot *slot);
u32 zcbuf_queue_slot_state(struct zcbuf_ctx *ctx, struct zcbuf_slot *slot);
int zcbuf_queue_claim_slot(struct zcbuf_ctx *ctx, struct zcbuf_slot *slot);
int zcbuf_queue_ring_mmap(struct zcbuf_ctx *ctx, struct vm_area_struct *vma);
void zcbuf_queue_pending_finish(struct zcbuf_ctx *ctx,
				struct zcbuf_pending *p, bool publish);

int zcbuf_ioctl_config(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending);
int zcbuf_ioctl_set_eventfd(struct zcbuf_ctx *ctx, void *arg,
			    struct zcbuf_pending *pending);
int zcbuf_ioctl_streamon(struct zcbuf_ctx *ctx, void *arg,
			 struct zcbuf_pending *pending);
int zcbuf_ioctl_streamoff(struct zcbuf_ctx *ctx, void *arg,
			  struct zcbuf_pending *pending);
int zcbuf_ioctl_qbuf(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending);
int zcbuf_ioctl_dqbuf(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending);
int zcbuf_ioctl_stats(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending);
int zcbuf_ioctl_ring_setup(struct zcbuf_ctx *ctx, void *arg,
			   struct zcbuf_pending *pending);
int zcbuf_ioctl_ring_kick(struct zcbuf_ctx *ctx, void *arg,
			  struct zcbuf_pending *pending);

__poll_t zcbuf_queue_poll(struct zcbuf_ctx *ctx, struct file *file,
			  poll_table *wait);
ssize_t zcbuf_queue_read(struct zcbuf_ctx *ctx, struct file *file,
			 char __user *ubuf, size_t len);

#endif /* _ZCBUF_QUEUE_H */
