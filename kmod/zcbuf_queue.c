// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf streaming: buffers move between user space and the device.
 *
 *   USER --QBUF--> QUEUED --take--> DEVICE --complete--> DONE --DQBUF--> USER
 *
 * User space drives the left half through ioctls under the context's lock;
 * the device drives the right half through zcbuf_queue_take() and
 * zcbuf_queue_complete(), which take only queue->qlock, so the device never
 * waits for the context's lock and stopping it under that lock is safe.
 *
 * The device attaches to a buffer's DMA-buf at its first QBUF and keeps the
 * mapping until the buffer is freed (or the DMA direction changes): the
 * mapping, not a copy, is what it reads and writes, and ZCBUF_IOC_SYNC syncs
 * exactly that mapping.  Nothing here syncs behind user space's back, except
 * read(), which is the kernel's own CPU access.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/log2.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "zcbuf_buffer.h"
#include "zcbuf_compat.h"
#include "zcbuf_device_core.h"
#include "zcbuf_fence.h"
#include "zcbuf_limits.h"
#include "zcbuf_queue.h"
#include "zcbuf_ring.h"
#include "zcbuf_stats.h"

#define CREATE_TRACE_POINTS
#include "zcbuf_trace.h"

/*
 * Every stream runs a device (the simulator: a kernel thread) whose CPU
 * time is charged to no one: bound how many run at once, all users
 * together.  Safe to change at any time: STREAMON compares, nothing else.
 */
static unsigned int max_streams = 64;
module_param(max_streams, uint, 0644);
MODULE_PARM_DESC(max_streams,
		 "Most streams running at once, all contexts together (default 64)");

/* Streams running now (STREAMON to STREAMOFF or close). */
static atomic_t zcbuf_nr_streams = ATOMIC_INIT(0);

/*
 * Every published fence signals in bounded time, also when the device
 * stalls.  As drm_sched's job timeout: a device that completes nothing for
 * fence_timeout_ms while it had a buffer it could work on is hung, and the
 * fences of the buffers it could work on signal with -ETIMEDOUT.  Each
 * completion restarts the clock; so does a buffer's becoming workable (its
 * dependencies done), so that a slow but live device is never timed out
 * however many buffers are queued.  Buffers that wait for dependencies are
 * bounded by those (fences must signal).  A buffer whose fence timed out
 * stays the device's until it completes it, and then it completes with
 * ZCBUF_DQ_ERROR: others may have used it after the fence said it was done.
 * The default is vgem's bound on its fences, and leaves room for slow
 * emulated hardware (QEMU's edu needs seconds for its largest frame).
 */
#define ZCBUF_FENCE_TIMEOUT_MAX_MS	(3600 * MSEC_PER_SEC)
static unsigned int fence_timeout_ms = 10000;

static int zcbuf_set_fence_timeout(const char *val,
				   const struct kernel_param *kp)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint(val, 0, &ms);
	if (ret)
		return ret;
	/* 0 would be "never": every fence must signal in bounded time. */
	if (!ms || ms > ZCBUF_FENCE_TIMEOUT_MAX_MS)
		return -EINVAL;
	WRITE_ONCE(fence_timeout_ms, ms);
	return 0;
}

static const struct kernel_param_ops zcbuf_fence_timeout_ops = {
	.set = zcbuf_set_fence_timeout,
	.get = param_get_uint,
};
module_param_cb(fence_timeout_ms, &zcbuf_fence_timeout_ops,
		&fence_timeout_ms, 0644);
MODULE_PARM_DESC(fence_timeout_ms,
		 "A device that completes nothing for this long has its fences signalled with -ETIMEDOUT (1 to 3600000 ms, default 10000)");

static unsigned long zcbuf_fence_timeout(void)
{
	return msecs_to_jiffies(READ_ONCE(fence_timeout_ms));
}

static struct zcbuf_slot *zcbuf_dbuf_slot(struct zcbuf_dev_buf *dbuf)
{
	return container_of(dbuf, struct zcbuf_slot, dbuf);
}

/* The device's struct device, which maps and syncs its buffers. */
static struct device *zcbuf_queue_dma_dev(struct zcbuf_queue *queue)
{
	return queue->zdev->info.dev;
}

static void zcbuf_queue_watchdog(struct work_struct *work);
static void zcbuf_queue_refill_work(struct work_struct *work);

/**
 * zcbuf_queue_init() - set up the queue of an object that embeds it
 * @queue: the queue
 * @lock: the owner's mutex, which the queue's user-side paths take (as
 *	vb2_queue.lock)
 * @slots: the owner's table of buffers, index -> struct zcbuf_slot, under
 *	@lock
 * @ref: the owner's refcount, which keeps @queue's memory
 * @release: its release function
 */
void zcbuf_queue_init(struct zcbuf_queue *queue, struct mutex *lock,
		      struct xarray *slots, struct kref *ref,
		      void (*release)(struct kref *ref))
{
	queue->lock = lock;
	queue->slots = slots;
	queue->ref = ref;
	queue->release = release;
	INIT_LIST_HEAD(&queue->dev_node);
	spin_lock_init(&queue->qlock);
	INIT_LIST_HEAD(&queue->queued);
	INIT_LIST_HEAD(&queue->done);
	init_waitqueue_head(&queue->done_wq);
	INIT_DELAYED_WORK(&queue->watchdog, zcbuf_queue_watchdog);
	INIT_WORK(&queue->refill_work, zcbuf_queue_refill_work);
}

/*
 * Whether the device could work on a buffer whose published fence is not
 * signalled yet: taken, or queued with its dependencies done.  qlock held.
 */
static bool zcbuf_queue_slot_owed(struct zcbuf_slot *slot)
{
	struct dma_fence *fence = READ_ONCE(slot->dbuf.fence);

	if (!slot->fence_published || !fence ||
	    test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &fence->flags))
		return false;
	return slot->state == ZCBUF_STATE_DEVICE ||
	       (slot->state == ZCBUF_STATE_QUEUED && !slot->dep.pending);
}

/* When the device is late with @slot; qlock held. */
static unsigned long zcbuf_queue_slot_due(struct zcbuf_queue *queue,
					  struct zcbuf_slot *slot)
{
	unsigned long since = slot->ready_since;

	if (time_after(queue->last_progress, since))
		since = queue->last_progress;
	return since + zcbuf_fence_timeout();
}

/*
 * A buffer with a published fence became workable: the clock runs for the
 * device.  qlock held.
 */
static void zcbuf_queue_watch(struct zcbuf_queue *queue,
			      struct zcbuf_slot *slot)
{
	lockdep_assert_held(&queue->qlock);

	slot->ready_since = jiffies;
	if (queue->running)
		queue_delayed_work(zcbuf_fence_wq, &queue->watchdog,
				   zcbuf_fence_timeout());
}

/*
 * The device is late with the buffers the watchdog woke up for: signal
 * their fences with -ETIMEDOUT, one at a time and outside qlock (a fence's
 * callbacks may take another queue's qlock), and wake up again when the
 * next one is due.  Takes no queue->lock: zcbuf_queue_stop() cancels it
 * synchronously under it.
 */
static void zcbuf_queue_watchdog(struct work_struct *work)
{
	struct zcbuf_queue *queue = container_of(to_delayed_work(work),
						 struct zcbuf_queue, watchdog);
	unsigned long index = 0, next = 0;
	struct zcbuf_slot *slot;
	bool cookie, again;

	cookie = dma_fence_begin_signalling();
	for (;;) {
		struct dma_fence *fence = NULL;

		spin_lock_irq(&queue->qlock);
		xa_for_each_start(queue->slots, index, slot, index) {
			if (zcbuf_queue_slot_owed(slot) &&
			    time_after_eq(jiffies,
					  zcbuf_queue_slot_due(queue, slot))) {
				/*
				 * complete() may drop the slot's reference
				 * meanwhile; the module's own keeps the fence
				 * until a grace period after nobody else has
				 * one, and a spinlock section is an RCU
				 * read-side critical section.
				 */
				fence = dma_fence_get(READ_ONCE(slot->dbuf.fence));
				break;
			}
		}
		spin_unlock_irq(&queue->qlock);
		if (!fence)
			break;
		dev_warn_ratelimited(zcbuf_queue_dma_dev(queue),
				     "buffer %lu: device stalled, fence timed out\n",
				     index);
		zcbuf_fence_expire(fence);
		dma_fence_put(fence);
		index++;
	}
	dma_fence_end_signalling(cookie);

	/* Wake up when the earliest buffer still owed is due. */
	again = false;
	spin_lock_irq(&queue->qlock);
	xa_for_each(queue->slots, index, slot) {
		unsigned long due;

		if (!zcbuf_queue_slot_owed(slot))
			continue;
		due = zcbuf_queue_slot_due(queue, slot);
		if (!again || time_before(due, next))
			next = due;
		again = true;
	}
	if (again && queue->running)
		mod_delayed_work(zcbuf_fence_wq, &queue->watchdog,
				 time_after(next, jiffies) ? next - jiffies : 0);
	spin_unlock_irq(&queue->qlock);
}

/* Keep the queue's memory (its owner) while its lock is not held. */
void zcbuf_queue_get(struct zcbuf_queue *queue)
{
	kref_get(queue->ref);
}

void zcbuf_queue_put(struct zcbuf_queue *queue)
{
	kref_put(queue->ref, queue->release);
}

u32 zcbuf_queue_slot_state(struct zcbuf_queue *queue, struct zcbuf_slot *slot)
{
	u32 state;

	spin_lock_irq(&queue->qlock);
	state = slot->state;
	spin_unlock_irq(&queue->qlock);
	/* Taken from the SQ and on its way to the queue. */
	return state == ZCBUF_STATE_CLAIMED ? ZCBUF_STATE_QUEUED : state;
}

/**
 * zcbuf_queue_claim_slot() - take a buffer out of the queue's reach
 * @queue: the queue, its lock held
 * @slot: a buffer that is about to be freed
 *
 * Return: 0 if it was ZCBUF_STATE_USER (it is now claimed: the device's
 * SQ path will not take it), else -EBUSY.
 */
int zcbuf_queue_claim_slot(struct zcbuf_queue *queue, struct zcbuf_slot *slot)
{
	int ret = -EBUSY;

	lockdep_assert_held(queue->lock);

	spin_lock_irq(&queue->qlock);
	if (slot->state == ZCBUF_STATE_USER) {
		slot->state = ZCBUF_STATE_CLAIMED;
		ret = 0;
	}
	spin_unlock_irq(&queue->qlock);
	return ret;
}

/* Drop the device's attachment; the slot is not queued. */
static void zcbuf_queue_detach_slot(struct zcbuf_slot *slot)
{
	if (!slot->attach)
		return;
	dma_buf_unmap_attachment_unlocked(slot->attach, slot->sgt, slot->dir);
	dma_buf_detach(slot->dmabuf, slot->attach);
	slot->attach = NULL;
	slot->sgt = NULL;
}

/**
 * zcbuf_queue_release_slot() - the queue lets go of a buffer for good
 * @queue: the queue
 * @slot: a buffer out of the table, not queued
 *
 * Detaches the device and, for an imported DMA-buf that was ever queued,
 * takes this queue's fences out of its reservation object.
 */
void zcbuf_queue_release_slot(struct zcbuf_queue *queue,
			      struct zcbuf_slot *slot)
{
	bool queued = slot->attach;

	zcbuf_queue_detach_slot(slot);
	if (queued && !slot->buf)
		zcbuf_fence_purge(slot->dmabuf, slot->fence_context);
}

/*
 * The direction the device maps a buffer with.  Our own exporter syncs each
 * attachment in its mapping's direction, so the device's exact direction is
 * used, also for an import of a read-only zcbuf export (which maps only
 * DMA_TO_DEVICE).  Other exporters may sync every attachment in the
 * direction the CPU asks for (the system heap does), which the DMA API
 * allows only on a bidirectional mapping: their imports are mapped
 * DMA_BIDIRECTIONAL.
 */
static enum dma_data_direction zcbuf_queue_map_dir(struct zcbuf_queue *queue,
						   struct zcbuf_slot *slot)
{
	/* Written by the CPU too (ZCBUF_DEVICE_CPU_WRITES): both ways. */
	if (slot->buf && queue->dir == DMA_FROM_DEVICE &&
	    (queue->zdev->info.flags & ZCBUF_DEVICE_CPU_WRITES))
		return DMA_BIDIRECTIONAL;
	if (slot->buf || zcbuf_buffer_readonly_export(slot->dmabuf))
		return queue->dir;
	return DMA_BIDIRECTIONAL;
}

static int zcbuf_queue_attach_slot(struct zcbuf_queue *queue,
				   struct zcbuf_slot *slot)
{
	enum dma_data_direction dir = zcbuf_queue_map_dir(queue, slot);
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	if (slot->attach && slot->dir == dir)
		return 0;
	zcbuf_queue_detach_slot(slot);

	attach = dma_buf_attach(slot->dmabuf, zcbuf_queue_dma_dev(queue));
	if (IS_ERR(attach))
		return PTR_ERR(attach);

	sgt = dma_buf_map_attachment_unlocked(attach, dir);
	if (IS_ERR(sgt)) {
		dma_buf_detach(slot->dmabuf, attach);
		return PTR_ERR(sgt);
	}

	slot->attach = attach;
	slot->sgt = sgt;
	slot->dir = dir;
	return 0;
}

/* Forget a queued buffer's dependency; not on the device's list, or stopped. */
static void zcbuf_queue_drop_dep(struct zcbuf_slot *slot)
{
	if (!slot->dep.fence)
		return;
	dma_fence_remove_callback(slot->dep.fence, &slot->dep.cb);
	dma_fence_put(slot->dep.fence);
	slot->dep.fence = NULL;
	slot->dep.pending = false;
}

/*
 * Return every queued, in-flight and done buffer to user space; their fences
 * signal with @error.  The device is stopped; queue->lock held.
 */
static void zcbuf_queue_return_all(struct zcbuf_queue *queue, int error)
{
	struct zcbuf_slot *slot;
	unsigned long index;

	lockdep_assert_held(queue->lock);

	spin_lock_irq(&queue->qlock);
	INIT_LIST_HEAD(&queue->queued);
	INIT_LIST_HEAD(&queue->done);
	queue->nr_queued = 0;
	queue->nr_done = 0;
	queue->epoch++;
	/* A buffer DQBUF or read() took is its taker's to give back. */
	xa_for_each(queue->slots, index, slot)
		if (slot->state != ZCBUF_STATE_CLAIMED)
			slot->state = ZCBUF_STATE_USER;
	spin_unlock_irq(&queue->qlock);
	if (queue->ring)
		zcbuf_ring_sq_discard(queue->ring);

	/* What the device never completed, it never will. */
	xa_for_each(queue->slots, index, slot) {
		zcbuf_queue_drop_dep(slot);
		if (slot->dbuf.fence) {
			zcbuf_fence_signal(slot->dbuf.fence, error);
			slot->dbuf.fence = NULL;
		}
	}

	if (queue->cfg.flags & ZCBUF_CFG_STRICT) {
		xa_for_each(queue->slots, index, slot)
			if (slot->buf)
				zcbuf_buffer_restore_cpu(slot->buf);
	}
	wake_up_all(&queue->done_wq);
}

static void zcbuf_queue_stop(struct zcbuf_queue *queue, int error)
{
	lockdep_assert_held(queue->lock);

	if (queue->streaming) {
		/* No more kicks from dependencies (see zcbuf_queue_dep_done()). */
		spin_lock_irq(&queue->qlock);
		queue->running = false;
		spin_unlock_irq(&queue->qlock);
		/* Synchronous: afterwards the device touches nothing. */
		queue->zdev->info.ops->stop(queue->zdev, queue);
		/* Not running: nothing schedules them again. */
		cancel_work_sync(&queue->refill_work);
		cancel_delayed_work_sync(&queue->watchdog);
		WRITE_ONCE(queue->streaming, false);
		atomic_dec(&queue->zdev->streams);
		atomic_dec(&zcbuf_nr_streams);
	}
	zcbuf_queue_return_all(queue, error);
}

/*
 * zcbuf_queue_unmap_all() - unmap every buffer from the device; stopped,
 * nothing queued, queue->lock held.  Buffers are mapped again at their
 * next QBUF.
 */
void zcbuf_queue_unmap_all(struct zcbuf_queue *queue)
{
	struct zcbuf_slot *slot;
	unsigned long index;

	lockdep_assert_held(queue->lock);

	xa_for_each(queue->slots, index, slot)
		zcbuf_queue_detach_slot(slot);
}

/*
 * zcbuf_queue_unconfigure() - unmap every buffer from the device and forget
 * the configuration; stopped, nothing queued, queue->lock held.  The caller
 * then lets go of the device (zcbuf_registry_unbind()).
 */
void zcbuf_queue_unconfigure(struct zcbuf_queue *queue)
{
	lockdep_assert_held(queue->lock);

	if (!queue->zdev)
		return;
	zcbuf_queue_unmap_all(queue);
	queue->configured = false;
}

/*
 * zcbuf_queue_configure() - use the configuration CONFIG checked and
 * reported, on the device queue->zdev now bound; queue->lock held, not
 * streaming, nothing queued or done (CONFIG's checks, held since by the
 * committing flag), no buffer mapped for another device.
 */
void zcbuf_queue_configure(struct zcbuf_queue *queue,
			   const struct zcbuf_config *cfg)
{
	lockdep_assert_held(queue->lock);

	queue->gone = false;
	queue->cfg = *cfg;
	queue->dir = cfg->personality == ZCBUF_DEV_NIC_TX ?
		      DMA_TO_DEVICE : DMA_FROM_DEVICE;
	queue->configured = true;
}

/**
 * zcbuf_queue_device_gone() - the device is being unregistered
 * @queue: a queue bound to it, its lock held
 *
 * Stops the stream, returns every buffer to user space (fences signal
 * -ENODEV) and unmaps them from the device; waiters and the eventfd are
 * woken and see ENODEV until the next CONFIG.  The caller then unbinds.
 */
void zcbuf_queue_device_gone(struct zcbuf_queue *queue)
{
	lockdep_assert_held(queue->lock);

	/*
	 * Gone first: stopping wakes the pollers, which must see
	 * EPOLLERR | EPOLLHUP, not only the EPOLLERR of a stopped queue.
	 */
	spin_lock_irq(&queue->qlock);
	WRITE_ONCE(queue->gone, true);
	spin_unlock_irq(&queue->qlock);
	zcbuf_queue_stop(queue, -ENODEV);
	zcbuf_queue_unconfigure(queue);

	spin_lock_irq(&queue->qlock);
	if (queue->eventfd)
		zcbuf_eventfd_signal(queue->eventfd);
	spin_unlock_irq(&queue->qlock);
	wake_up_all(&queue->done_wq);
}

/*
 * zcbuf_queue_shutdown() - on close or process death: stop, give every
 * buffer back and unmap it; queue->lock held.  The caller then unbinds and
 * calls zcbuf_queue_release().
 */
void zcbuf_queue_shutdown(struct zcbuf_queue *queue)
{
	lockdep_assert_held(queue->lock);

	zcbuf_queue_stop(queue, -ECANCELED);
	zcbuf_queue_unconfigure(queue);
}

/* After zcbuf_queue_shutdown(), unlocked: forget the eventfd and rings. */
void zcbuf_queue_release(struct zcbuf_queue *queue)
{
	if (queue->eventfd)
		eventfd_ctx_put(queue->eventfd);
	queue->eventfd = NULL;
	zcbuf_ring_destroy(queue->ring);
	queue->ring = NULL;
}

/**
 * zcbuf_queue_check_config() - CONFIG, the queue's part
 * @queue: the queue, its lock held
 * @cfg: the configuration user space asks for
 *
 * Return: 0 if @cfg is well-formed and may replace the configuration now
 * (the device it names checks it next: zcbuf_registry_check()), -EINVAL
 * or -EBUSY.
 */
int zcbuf_queue_check_config(struct zcbuf_queue *queue,
			     const struct zcbuf_config *cfg)
{
	lockdep_assert_held(queue->lock);

	if (cfg->flags & ~ZCBUF_CFG_VALID_FLAGS || cfg->frame_size ||
	    memchr_inv(cfg->reserved, 0, sizeof(cfg->reserved)))
		return -EINVAL;

	if (queue->streaming || queue->committing || queue->nr_queued ||
	    READ_ONCE(queue->nr_done) || READ_ONCE(queue->nr_taking))
		return -EBUSY;

	/* With rings the kernel never sees the dequeue that would restore. */
	if (cfg->flags & ZCBUF_CFG_STRICT && queue->ring)
		return -EINVAL;

	if (cfg->personality == ZCBUF_DEV_NONE) {
		/* Nothing but the personality may be set. */
		if (memchr_inv(&cfg->flags, 0,
			       sizeof(*cfg) - offsetof(struct zcbuf_config,
						       flags)))
			return -EINVAL;
	} else if (cfg->reserved0 || cfg->personality > ZCBUF_DEV_NIC_TX) {
		return -EINVAL;
	}
	return 0;
}

int zcbuf_ioctl_set_eventfd(struct zcbuf_queue *queue, void *arg,
			    struct zcbuf_queue_pending *pending)
{
	struct zcbuf_eventfd *req = arg;
	struct eventfd_ctx *new = NULL, *old;

	if (req->flags)
		return -EINVAL;
	if (req->fd != -1) {
		/* EBADF for a closed fd, EINVAL for a file that is no eventfd. */
		new = eventfd_ctx_fdget(req->fd);
		if (IS_ERR(new))
			return PTR_ERR(new);
	}

	spin_lock_irq(&queue->qlock);
	old = queue->eventfd;
	queue->eventfd = new;
	spin_unlock_irq(&queue->qlock);

	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/*
 * STREAMON: publish the fences of the buffers queued while not streaming
 * (@publish), or take them out again (the device did not start).  Not
 * streaming, queue->lock held: nothing else queues or takes buffers.
 */
static int zcbuf_queue_publish_fences(struct zcbuf_queue *queue, bool publish)
{
	struct zcbuf_slot *slot;
	unsigned long index;
	int ret;

	lockdep_assert_held(queue->lock);

	xa_for_each(queue->slots, index, slot) {
		if (slot->state != ZCBUF_STATE_QUEUED || !slot->dbuf.fence ||
		    slot->fence_published == publish)
			continue;
		if (!publish) {
			/* Back to unpublished: the stub takes its place. */
			zcbuf_fence_purge(slot->dmabuf, slot->fence_context);
			slot->fence_published = false;
			continue;
		}
		ret = zcbuf_fence_attach(slot->dmabuf, slot->dbuf.fence,
					 queue->dir == DMA_FROM_DEVICE);
		if (ret) {
			zcbuf_queue_publish_fences(queue, false);
			return ret;
		}
		slot->fence_published = true;
		/* Not running: the watchdog is not looking yet. */
		slot->ready_since = jiffies;
	}
	return 0;
}

static int zcbuf_check_stream_arg(const struct zcbuf_stream *req)
{
	return req->flags || req->reserved ? -EINVAL : 0;
}

int zcbuf_ioctl_streamon(struct zcbuf_queue *queue, void *arg,
			 struct zcbuf_queue_pending *pending)
{
	int ret;

	ret = zcbuf_check_stream_arg(arg);
	if (ret)
		return ret;

	mutex_lock(queue->lock);
	if (!queue->configured) {
		ret = queue->gone ? -ENODEV : -EINVAL;
		goto unlock;
	}
	if (queue->streaming || queue->committing) {
		ret = -EBUSY;
		goto unlock;
	}

	if (atomic_inc_return(&zcbuf_nr_streams) > READ_ONCE(max_streams)) {
		atomic_dec(&zcbuf_nr_streams);
		ret = -EBUSY;
		goto unlock;
	}

	spin_lock_irq(&queue->qlock);
	memset(&queue->stats, 0, sizeof(queue->stats));
	spin_unlock_irq(&queue->qlock);

	ret = zcbuf_queue_publish_fences(queue, true);
	if (!ret) {
		ret = queue->zdev->info.ops->start(queue->zdev, queue);
		if (ret)
			zcbuf_queue_publish_fences(queue, false);
	}
	if (ret) {
		atomic_dec(&zcbuf_nr_streams);
	} else {
		spin_lock_irq(&queue->qlock);
		queue->running = true;
		/* The device owes progress on what was queued before. */
		queue->last_progress = jiffies;
		if (queue->nr_queued)
			queue_delayed_work(zcbuf_fence_wq, &queue->watchdog,
					   zcbuf_fence_timeout());
		spin_unlock_irq(&queue->qlock);
		WRITE_ONCE(queue->streaming, true);
		atomic_inc(&queue->zdev->streams);
	}
unlock:
	mutex_unlock(queue->lock);
	return ret;
}

int zcbuf_ioctl_streamoff(struct zcbuf_queue *queue, void *arg,
			  struct zcbuf_queue_pending *pending)
{
	int ret;

	ret = zcbuf_check_stream_arg(arg);
	if (ret)
		return ret;

	mutex_lock(queue->lock);
	zcbuf_queue_stop(queue, -ECANCELED);
	mutex_unlock(queue->lock);
	return 0;
}

/*
 * Claim a buffer for queueing: USER, or with rings also DONE (its CQE is
 * user space's now).  qlock held.  Claimed, no other path queues or frees
 * it.  Return: the state it had, or ZCBUF_STATE_CLAIMED if it cannot be.
 */
static u32 zcbuf_queue_claim(struct zcbuf_queue *queue, struct zcbuf_slot *slot)
{
	u32 state = slot->state;

	lockdep_assert_held(&queue->qlock);

	if (state != ZCBUF_STATE_USER &&
	    !(queue->ring && state == ZCBUF_STATE_DONE))
		return ZCBUF_STATE_CLAIMED;
	if (state == ZCBUF_STATE_DONE)
		queue->nr_done--;
	slot->state = ZCBUF_STATE_CLAIMED;
	return state;
}

/* Undo zcbuf_queue_claim(); qlock held. */
static void zcbuf_queue_unclaim(struct zcbuf_queue *queue,
				struct zcbuf_slot *slot, u32 state)
{
	lockdep_assert_held(&queue->qlock);

	if (state == ZCBUF_STATE_DONE)
		queue->nr_done++;
	slot->state = state;
}

/*
 * A fence a queued buffer waited for signalled: the device may take it.
 * Any context, under the fence's lock.
 */
static void zcbuf_queue_dep_done(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct zcbuf_slot *slot = container_of(cb, struct zcbuf_slot, dep.cb);
	struct zcbuf_queue *queue = slot->dep.queue;
	unsigned long flags;

	spin_lock_irqsave(&queue->qlock, flags);
	slot->dep.pending = false;
	if (slot->state == ZCBUF_STATE_QUEUED && slot->fence_published)
		zcbuf_queue_watch(queue, slot);
	/* Under qlock: the device is not stopped meanwhile. */
	if (queue->running && queue->zdev->info.ops->buf_queued)
		queue->zdev->info.ops->buf_queued(queue->zdev, queue);
	spin_unlock_irqrestore(&queue->qlock, flags);
}

/*
 * Implicit sync, the other way: the device starts on a buffer only once the
 * fences already in its reservation object allow it (another device or the
 * CPU working on it): before it reads, the writers'; before it writes,
 * everyone's.  Collected at QBUF, in process context (it may allocate);
 * waited for by callback, so that other buffers go first meanwhile.
 */
static int zcbuf_queue_add_dep(struct zcbuf_queue *queue,
			       struct zcbuf_slot *slot)
{
	struct dma_fence *dep;
	int ret;

	ret = dma_resv_get_singleton(slot->dmabuf->resv,
				     dma_resv_usage_rw(queue->dir ==
						       DMA_FROM_DEVICE),
				     &dep);
	if (ret || !dep)
		return ret;
	slot->dep.fence = dep;
	slot->dep.queue = queue;
	/* Not on the queued list yet: the callback may run at once. */
	slot->dep.pending = true;
	if (dma_fence_add_callback(dep, &slot->dep.cb, zcbuf_queue_dep_done)) {
		slot->dep.pending = false;
		slot->dep.fence = NULL;
		dma_fence_put(dep);
	}
	return 0;
}

/*
 * Hand a claimed buffer to the device: fence it, revoke user mappings in
 * strict mode, and put it on the queued list.  Its device mapping is made.
 * May sleep.
 */
static int zcbuf_queue_enqueue(struct zcbuf_queue *queue,
			       struct zcbuf_slot *slot, u64 tx_bytes,
			       bool publish)
{
	bool strict = queue->cfg.flags & ZCBUF_CFG_STRICT && slot->buf;
	struct zcbuf_dev_buf *dbuf = &slot->dbuf;
	struct dma_fence *fence;
	int ret;

	/* Strict: nothing but the device may touch what the device owns. */
	if (strict) {
		ret = zcbuf_buffer_revoke_cpu(slot->buf);
		if (ret)
			return ret;
	}

	/* What others do to the buffer first. */
	ret = zcbuf_queue_add_dep(queue, slot);
	if (ret)
		goto restore;

	/* Claimed: no one else numbers this slot's fences. */
	fence = zcbuf_fence_create(slot->fence_context, ++slot->fence_seqno);
	if (!fence) {
		ret = -ENOMEM;
		goto drop_dep;
	}
	/*
	 * Published only while a device runs to signal it (STREAMON
	 * publishes the fences of what was queued before): a fence nobody
	 * works on would block every writer of the buffer indefinitely.
	 */
	if (publish) {
		ret = zcbuf_fence_attach(slot->dmabuf, fence,
					 queue->dir == DMA_FROM_DEVICE);
		if (ret) {
			zcbuf_fence_signal(fence, ret);
			goto drop_dep;
		}
	}
	slot->fence_published = publish;

	/* An import's CPU writes reach our mapping here (see complete()). */
	if (!slot->buf && queue->dir == DMA_TO_DEVICE)
		dma_sync_sgtable_for_device(zcbuf_queue_dma_dev(queue), slot->sgt,
					    slot->dir);

	memset(dbuf, 0, sizeof(*dbuf));
	dbuf->index = slot->index;
	dbuf->sgt = slot->sgt;
	dbuf->size = slot->size;
	dbuf->tx_bytes = tx_bytes;
	dbuf->fence = fence;

	spin_lock_irq(&queue->qlock);
	slot->state = ZCBUF_STATE_QUEUED;
	list_add_tail(&dbuf->node, &queue->queued);
	queue->nr_queued++;
	if (publish && !slot->dep.pending)
		zcbuf_queue_watch(queue, slot);
	trace_zcbuf_qbuf(slot->index, 0);
	spin_unlock_irq(&queue->qlock);
	return 0;

drop_dep:
	zcbuf_queue_drop_dep(slot);
restore:
	if (strict)
		zcbuf_buffer_restore_cpu(slot->buf);
	return ret;
}

/*
 * Whether a buffer can take a frame of this configuration: room for the
 * frame, and for TX a packet of 1 to size bytes (0 for the others).  For
 * QBUF and SQ entries alike.
 */
static bool zcbuf_queue_fits(const struct zcbuf_queue *queue,
			     const struct zcbuf_slot *slot, u64 bytesused)
{
	if (slot->size < queue->cfg.frame_size)
		return false;
	if (queue->cfg.personality == ZCBUF_DEV_NIC_TX)
		return bytesused && bytesused <= slot->size;
	return !bytesused;
}

/*
 * Hand a claimed buffer that fits the configuration to the device, from
 * the ioctl path; queue->lock held.  On failure it is still claimed.
 */
static int zcbuf_queue_submit(struct zcbuf_queue *queue, struct zcbuf_slot *slot,
			      u64 tx_bytes)
{
	int ret;

	lockdep_assert_held(queue->lock);

	/* A device that writes may not write what its owner made read-only. */
	if (queue->dir != DMA_TO_DEVICE &&
	    !(slot->dmabuf->file->f_mode & FMODE_WRITE))
		return -EACCES;

	ret = zcbuf_queue_attach_slot(queue, slot);
	if (!ret)
		ret = zcbuf_queue_enqueue(queue, slot, tx_bytes,
					  queue->streaming);
	if (ret)
		return ret;

	if (queue->streaming && queue->zdev->info.ops->buf_queued)
		queue->zdev->info.ops->buf_queued(queue->zdev, queue);
	return 0;
}

/* Queue one buffer for QBUF; queue->lock held. */
static int zcbuf_queue_buf(struct zcbuf_queue *queue, struct zcbuf_slot *slot,
			   u64 tx_bytes)
{
	u32 state;
	int ret;

	lockdep_assert_held(queue->lock);

	/* The configuration may be about to change. */
	if (queue->committing)
		return -EBUSY;
	/* Strict ownership holds only for pages this module owns. */
	if (queue->cfg.flags & ZCBUF_CFG_STRICT && !slot->buf)
		return -EBUSY;

	/* With rings, a completed buffer goes back without a DQBUF. */
	spin_lock_irq(&queue->qlock);
	state = zcbuf_queue_claim(queue, slot);
	spin_unlock_irq(&queue->qlock);
	if (state == ZCBUF_STATE_CLAIMED)
		return -EBUSY;

	ret = zcbuf_queue_submit(queue, slot, tx_bytes);
	if (ret) {
		spin_lock_irq(&queue->qlock);
		zcbuf_queue_unclaim(queue, slot, state);
		spin_unlock_irq(&queue->qlock);
	}
	return ret;
}

int zcbuf_ioctl_qbuf(struct zcbuf_queue *queue, void *arg,
		     struct zcbuf_queue_pending *pending)
{
	struct zcbuf_qbuf *req = arg;
	struct zcbuf_slot *slot;
	int ret;

	if (req->flags)
		return -EINVAL;

	mutex_lock(queue->lock);
	slot = xa_load(queue->slots, req->index);
	if (queue->gone)
		ret = -ENODEV;
	else if (!queue->configured || !slot ||
		 !zcbuf_queue_fits(queue, slot, req->bytesused))
		ret = -EINVAL;
	else
		ret = zcbuf_queue_buf(queue, slot, req->bytesused);
	mutex_unlock(queue->lock);
	return ret;
}

/*
 * Take the oldest done buffer for DQBUF or read(): off the done list and
 * claimed (FREE, QBUF and STREAMOFF leave it alone) until its result has
 * reached user space, when zcbuf_queue_untake() gives it out or back.
 * queue->lock held.  NULL if none is done.
 */
static struct zcbuf_slot *zcbuf_queue_take_done(struct zcbuf_queue *queue)
{
	struct zcbuf_dev_buf *dbuf;
	struct zcbuf_slot *slot;

	spin_lock_irq(&queue->qlock);
	dbuf = list_first_entry_or_null(&queue->done, struct zcbuf_dev_buf,
					node);
	if (!dbuf) {
		spin_unlock_irq(&queue->qlock);
		return NULL;
	}
	list_del(&dbuf->node);
	queue->nr_done--;
	queue->nr_taking++;
	slot = zcbuf_dbuf_slot(dbuf);
	slot->state = ZCBUF_STATE_CLAIMED;
	spin_unlock_irq(&queue->qlock);
	return slot;
}

/*
 * Finish zcbuf_queue_take_done(): the buffer is user space's if its
 * result was @delivered, else it is DONE again, first in line (or user
 * space's too, when the queue was emptied since @epoch).  queue->lock held.
 */
static void zcbuf_queue_untake(struct zcbuf_queue *queue,
			       struct zcbuf_slot *slot, u32 epoch,
			       bool delivered)
{
	bool to_user = delivered || epoch != queue->epoch;

	spin_lock_irq(&queue->qlock);
	queue->nr_taking--;
	if (to_user) {
		slot->state = ZCBUF_STATE_USER;
		trace_zcbuf_dqbuf(slot->index, slot->dbuf.sequence);
	} else {
		slot->state = ZCBUF_STATE_DONE;
		list_add(&slot->dbuf.node, &queue->done);
		queue->nr_done++;
	}
	spin_unlock_irq(&queue->qlock);

	/* CONFIG, which sets strict mode, refuses while a buffer is taken. */
	if (to_user && queue->cfg.flags & ZCBUF_CFG_STRICT && slot->buf)
		zcbuf_buffer_restore_cpu(slot->buf);
	if (!to_user)
		wake_up_all(&queue->done_wq);
}

int zcbuf_ioctl_dqbuf(struct zcbuf_queue *queue, void *arg,
		      struct zcbuf_queue_pending *pending)
{
	struct zcbuf_dqbuf *req = arg;
	struct zcbuf_dev_buf *dbuf;
	struct zcbuf_slot *slot;

	if (req->flags || memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;
	/* Completions go to the CQ once there is one. */
	if (READ_ONCE(queue->ring))
		return -EINVAL;

	mutex_lock(queue->lock);
	slot = zcbuf_queue_take_done(queue);
	if (!slot) {
		mutex_unlock(queue->lock);
		return queue->gone ? -ENODEV : -EAGAIN;
	}
	dbuf = &slot->dbuf;
	memset(req, 0, sizeof(*req));
	req->index = slot->index;
	req->flags = dbuf->flags;
	req->sequence = dbuf->sequence;
	req->timestamp_ns = dbuf->timestamp_ns;
	req->bytesused = dbuf->bytesused;
	req->checksum = dbuf->checksum;
	req->npackets = dbuf->npackets;
	/* User space's once the result is copied out, else done again. */
	pending->taken = slot;
	pending->taken_epoch = queue->epoch;
	mutex_unlock(queue->lock);
	return 0;
}

int zcbuf_ioctl_stats(struct zcbuf_queue *queue, void *arg,
		      struct zcbuf_queue_pending *pending)
{
	struct zcbuf_stats *stats = arg;

	spin_lock_irq(&queue->qlock);
	*stats = queue->stats;
	stats->queued = queue->nr_queued;
	stats->done = queue->nr_done;
	spin_unlock_irq(&queue->qlock);
	return 0;
}

__poll_t zcbuf_queue_poll(struct zcbuf_queue *queue, struct file *file,
			  poll_table *wait)
{
	__poll_t mask = 0;

	poll_wait(file, &queue->done_wq, wait);

	spin_lock_irq(&queue->qlock);
	if (queue->ring ? zcbuf_ring_cq_ready(queue->ring) : queue->nr_done)
		mask |= EPOLLIN | EPOLLRDNORM;
	else if (!READ_ONCE(queue->streaming))
		/* As videobuf2: nothing done and nothing ever will be. */
		mask |= EPOLLERR;
	if (queue->gone)
		mask |= EPOLLERR | EPOLLHUP;
	spin_unlock_irq(&queue->qlock);
	return mask;
}

/* Copy the first @len bytes of a buffer to user space, page by page. */
static int zcbuf_copy_pages_to_user(struct zcbuf_buffer *buf,
				    char __user *ubuf, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; done < len; i++) {
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE);
		void *vaddr = kmap_local_page(buf->pages[i]);
		unsigned long left;

		left = copy_to_user(ubuf + done, vaddr, chunk);
		kunmap_local(vaddr);
		if (left)
			return -EFAULT;
		done += chunk;
	}
	return 0;
}

/* The same for a foreign DMA-buf, through its exporter's kernel mapping. */
static int zcbuf_copy_dmabuf_to_user(struct dma_buf *dmabuf,
				     char __user *ubuf, size_t len)
{
	struct iosys_map map;
	int ret;

	ret = dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	ret = zcbuf_dma_buf_vmap(dmabuf, &map);
	if (!ret) {
		if (map.is_iomem || copy_to_user(ubuf, map.vaddr, len))
			ret = -EFAULT;
		zcbuf_dma_buf_vunmap(dmabuf, &map);
	}
	dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE);
	return ret;
}

/*
 * read(): the copying path, kept as the baseline zero copy is measured
 * against.  Takes the oldest done buffer, copies its payload and queues it
 * again; per-frame metadata is not reported.
 */
ssize_t zcbuf_queue_read(struct zcbuf_queue *queue, struct file *file,
			 char __user *ubuf, size_t len)
{
	struct zcbuf_buffer *buf;
	struct zcbuf_slot *slot;
	struct dma_buf *dmabuf;
	u64 tx_bytes;
	u32 epoch;
	size_t n;
	int ret;

	if (READ_ONCE(queue->ring))
		return -EINVAL;
	/* A read of nothing consumes nothing. */
	if (!len)
		return 0;

	for (;;) {
		mutex_lock(queue->lock);
		slot = zcbuf_queue_take_done(queue);
		if (slot)
			break;
		if (!queue->streaming) {
			mutex_unlock(queue->lock);
			return queue->gone ? -ENODEV : -EPIPE;
		}
		mutex_unlock(queue->lock);

		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(queue->done_wq,
					       READ_ONCE(queue->nr_done) ||
					       !READ_ONCE(queue->streaming));
		if (ret)
			return ret;
	}

	/*
	 * Copy without queue->lock: copy_to_user may fault (mmap_lock).  The
	 * slot is claimed meanwhile: nothing frees, queues or returns it.
	 */
	n = min_t(u64, len, slot->dbuf.bytesused);
	tx_bytes = slot->dbuf.tx_bytes;
	epoch = queue->epoch;
	dmabuf = slot->dmabuf;
	buf = slot->buf;
	get_dma_buf(dmabuf);
	mutex_unlock(queue->lock);

	if (buf && n) {
		/* Only what is copied: under swiotlb all of it would bounce. */
		zcbuf_buffer_sync_range(buf, 0, n, true);
		ret = zcbuf_copy_pages_to_user(buf, ubuf, n);
		zcbuf_buffer_sync_range(buf, 0, n, false);
	} else if (buf) {
		ret = 0;
	} else {
		ret = zcbuf_copy_dmabuf_to_user(dmabuf, ubuf, n);
	}
	dma_buf_put(dmabuf);

	mutex_lock(queue->lock);
	if (ret) {
		/* Nothing reached user space: the frame is the next one again. */
		zcbuf_queue_untake(queue, slot, epoch, false);
	} else if (queue->configured && !queue->committing &&
		   zcbuf_queue_fits(queue, slot, tx_bytes) &&
		   !zcbuf_queue_submit(queue, slot, tx_bytes)) {
		/* Back to the device, as it was queued (TX: the same packet). */
		spin_lock_irq(&queue->qlock);
		queue->nr_taking--;
		spin_unlock_irq(&queue->qlock);
	} else {
		/* It cannot be queued again: the buffer is user space's. */
		zcbuf_queue_untake(queue, slot, epoch, true);
	}
	mutex_unlock(queue->lock);

	return ret ? ret : n;
}

/* ---- the device's side ---- */

const struct zcbuf_config *zcbuf_queue_config(struct zcbuf_queue *queue)
{
	return &queue->cfg;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_config, ZCBUF_NS(ZCBUF));

void *zcbuf_queue_get_drvdata(struct zcbuf_queue *queue)
{
	return queue->drvdata;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_get_drvdata, ZCBUF_NS(ZCBUF));

void zcbuf_queue_set_drvdata(struct zcbuf_queue *queue, void *data)
{
	queue->drvdata = data;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_set_drvdata, ZCBUF_NS(ZCBUF));

/* The first queued buffer whose dependencies are done, or NULL; qlock held. */
static struct zcbuf_dev_buf *zcbuf_queue_first_ready(struct zcbuf_queue *queue)
{
	struct zcbuf_dev_buf *dbuf;

	lockdep_assert_held(&queue->qlock);

	list_for_each_entry(dbuf, &queue->queued, node)
		if (!zcbuf_dbuf_slot(dbuf)->dep.pending)
			return dbuf;
	return NULL;
}

bool zcbuf_queue_has_queued(struct zcbuf_queue *queue)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&queue->qlock, flags);
	ret = zcbuf_queue_first_ready(queue);
	spin_unlock_irqrestore(&queue->qlock, flags);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_has_queued, ZCBUF_NS(ZCBUF));

/**
 * zcbuf_queue_take() - the device takes the oldest queued buffer
 * @queue: the queue
 *
 * Return: the buffer, now ZCBUF_STATE_DEVICE, or NULL if none is queued.
 */
struct zcbuf_dev_buf *zcbuf_queue_take(struct zcbuf_queue *queue)
{
	struct zcbuf_dev_buf *dbuf;
	unsigned long flags;

	struct dma_fence *dep = NULL;

	spin_lock_irqsave(&queue->qlock, flags);
	/* In order, but a buffer still waiting for others lets later ones by. */
	dbuf = zcbuf_queue_first_ready(queue);
	if (dbuf) {
		struct zcbuf_slot *slot = zcbuf_dbuf_slot(dbuf);

		list_del(&dbuf->node);
		slot->state = ZCBUF_STATE_DEVICE;
		dep = slot->dep.fence;
		slot->dep.fence = NULL;
		trace_zcbuf_dma_start(dbuf->index, 0);
	}
	spin_unlock_irqrestore(&queue->qlock, flags);
	/* Signalled: its callback has run. */
	dma_fence_put(dep);
	return dbuf;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_take, ZCBUF_NS(ZCBUF));

/* Post a completion to the CQ; qlock held.  Whether to signal the eventfd. */
static bool zcbuf_queue_post(struct zcbuf_queue *queue,
			     const struct zcbuf_dev_buf *dbuf)
{
	struct zcbuf_cqe cqe = {
		.index = dbuf->index,
		.flags = dbuf->flags,
		.sequence = dbuf->sequence,
		.timestamp_ns = dbuf->timestamp_ns,
		.bytesused = dbuf->bytesused,
		.checksum = dbuf->checksum,
		.npackets = dbuf->npackets,
	};

	lockdep_assert_held(&queue->qlock);
	return zcbuf_ring_post(queue->ring, &cqe);
}

/**
 * zcbuf_queue_complete() - the device is done with a buffer
 * @queue: the queue
 * @dbuf: a buffer from zcbuf_queue_take(), its result fields filled in
 *
 * The result is published before the buffer becomes visible as DONE and
 * before the eventfd and waiters are signalled.
 */
void zcbuf_queue_complete(struct zcbuf_queue *queue,
			  struct zcbuf_dev_buf *dbuf)
{
	struct zcbuf_slot *slot = zcbuf_dbuf_slot(dbuf);
	unsigned long flags;
	bool wake = true;
	bool cookie;

	/* Signals a fence: no allocation, no lock a fence waiter may hold. */
	cookie = dma_fence_begin_signalling();
	/*
	 * Another exporter need not sync our device's mapping in its
	 * begin_cpu_access (DRM PRIME and udmabuf map theirs with
	 * DMA_ATTR_SKIP_CPU_SYNC): for imports we end our DMA ourselves, as
	 * an importing driver does.  Our own buffers are synced by user space.
	 */
	if (!slot->buf && dbuf->sgt && queue->dir == DMA_FROM_DEVICE)
		dma_sync_sgtable_for_cpu(zcbuf_queue_dma_dev(queue), dbuf->sgt,
					 slot->dir);

	/* Importers waiting on the reservation object first, then the rest. */
	if (dbuf->fence) {
		/*
		 * Timed out before: others were told the buffer was done
		 * and may have used it since, so its content is not the
		 * device's result.
		 */
		if (zcbuf_fence_signal(dbuf->fence,
				       dbuf->flags & ZCBUF_DQ_ERROR ? -EIO : 0))
			dbuf->flags |= ZCBUF_DQ_ERROR;
		/* The watchdog reads it under qlock. */
		WRITE_ONCE(dbuf->fence, NULL);
	}

	spin_lock_irqsave(&queue->qlock, flags);
	queue->last_progress = jiffies;
	zcbuf_dbuf_slot(dbuf)->state = ZCBUF_STATE_DONE;
	queue->nr_queued--;
	queue->nr_done++;
	if (queue->ring)
		wake = zcbuf_queue_post(queue, dbuf);
	else
		list_add_tail(&dbuf->node, &queue->done);
	if (dbuf->flags & ZCBUF_DQ_ERROR) {
		queue->stats.errors++;
		atomic64_inc(&zcbuf_counters.errors);
		atomic64_inc(&queue->zdev->errors);
	} else {
		queue->stats.frames++;
		queue->stats.bytes += dbuf->bytesused;
		atomic64_inc(&zcbuf_counters.frames);
		atomic64_add(dbuf->bytesused, &zcbuf_counters.frame_bytes);
		atomic64_inc(&queue->zdev->frames);
		atomic64_add(dbuf->bytesused, &queue->zdev->bytes);
	}
	trace_zcbuf_complete(dbuf->index, dbuf->sequence, dbuf->bytesused,
			     dbuf->flags);
	if (queue->eventfd && wake)
		zcbuf_eventfd_signal(queue->eventfd);
	spin_unlock_irqrestore(&queue->qlock, flags);

	wake_up_all(&queue->done_wq);
	dma_fence_end_signalling(cookie);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_complete, ZCBUF_NS(ZCBUF));

/**
 * zcbuf_queue_drop() - the device lost a frame
 * @queue: the queue
 * @reason: why
 */
void zcbuf_queue_drop(struct zcbuf_queue *queue,
		      enum zcbuf_drop_reason reason)
{
	unsigned long flags;

	spin_lock_irqsave(&queue->qlock, flags);
	if (reason == ZCBUF_DROP_NO_BUFFER) {
		queue->stats.drops_no_buffer++;
		atomic64_inc(&zcbuf_counters.drops_no_buffer);
	} else {
		queue->stats.drops_injected++;
		atomic64_inc(&zcbuf_counters.drops_injected);
	}
	spin_unlock_irqrestore(&queue->qlock, flags);
	atomic64_inc(&queue->zdev->drops);
	trace_zcbuf_drop(reason);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_drop, ZCBUF_NS(ZCBUF));

/* Check an SQ entry and claim its buffer; qlock held, under RCU. */
static struct zcbuf_slot *zcbuf_queue_claim_sqe(struct zcbuf_queue *queue,
						const struct zcbuf_sqe *sqe)
{
	struct zcbuf_slot *slot;
	u32 state;

	lockdep_assert_held(&queue->qlock);

	if (sqe->flags)
		return NULL;
	slot = xa_load(queue->slots, sqe->index);
	if (!slot)
		return NULL;
	state = zcbuf_queue_claim(queue, slot);
	if (state == ZCBUF_STATE_CLAIMED)
		return NULL;
	/*
	 * The device's mapping is made by QBUF, under queue->lock, on a slot it
	 * has claimed: claimed here, nobody changes it now.
	 */
	if (!slot->attach || slot->dir != zcbuf_queue_map_dir(queue, slot) ||
	    !zcbuf_queue_fits(queue, slot, sqe->bytesused)) {
		zcbuf_queue_unclaim(queue, slot, state);
		return NULL;
	}
	return slot;
}

/*
 * Move every valid SQ entry's buffer to the queued list; invalid entries
 * are skipped and counted.  This fences the buffers (allocates, takes
 * their reservation locks), so it runs here, in the core's work item, and
 * never on the device's path that signals fences (zcbuf_queue_refill()
 * only schedules it).  The only consumer of the SQ; cancelled by
 * zcbuf_queue_stop() before it gives the buffers back.
 */
static void zcbuf_queue_refill_work(struct work_struct *work)
{
	struct zcbuf_queue *queue = container_of(work, struct zcbuf_queue,
						 refill_work);
	struct zcbuf_ring *ring = queue->ring;
	struct zcbuf_slot *slot;
	struct zcbuf_sqe sqe;
	u32 n;

	/* At most a ring's worth per run, however fast user space is. */
	for (n = 0; n < ring->entries && zcbuf_ring_sq_next(ring, &sqe); n++) {
		rcu_read_lock();
		spin_lock_irq(&queue->qlock);
		slot = zcbuf_queue_claim_sqe(queue, &sqe);
		spin_unlock_irq(&queue->qlock);
		rcu_read_unlock();

		if (!slot) {
			zcbuf_ring_sq_error(ring);
			continue;
		}
		/* Claimed: neither FREE nor QBUF touch it; nor does STREAMOFF,
		 * which cancels this work first.
		 */
		if (zcbuf_queue_enqueue(queue, slot, sqe.bytesused, true)) {
			/* Give it straight back, as a failed completion. */
			spin_lock_irq(&queue->qlock);
			slot->state = ZCBUF_STATE_DEVICE;
			queue->nr_queued++;
			spin_unlock_irq(&queue->qlock);
			memset(&slot->dbuf, 0, sizeof(slot->dbuf));
			slot->dbuf.index = slot->index;
			slot->dbuf.flags = ZCBUF_DQ_ERROR;
			zcbuf_queue_complete(queue, &slot->dbuf);
		}
	}

	/*
	 * Wake the device even when nothing valid was queued: it looks
	 * again, and asks for a kick (NEED_WAKEUP) if it must.
	 */
	spin_lock_irq(&queue->qlock);
	if (queue->running && queue->zdev->info.ops->buf_queued)
		queue->zdev->info.ops->buf_queued(queue->zdev, queue);
	spin_unlock_irq(&queue->qlock);
}

/**
 * zcbuf_queue_refill() - ask for the buffers user space submitted
 * @queue: the queue
 *
 * With shared rings, the buffers in the SQ are moved to the queued list by
 * the core's work item, which may allocate and sleep; the device then gets
 * ->buf_queued and finds them with zcbuf_queue_take().  This only schedules
 * that work: any context, it allocates nothing, so a device may call it on
 * the path that signals fences.  Without rings, or with the SQ empty, it
 * does nothing.
 */
void zcbuf_queue_refill(struct zcbuf_queue *queue)
{
	struct zcbuf_ring *ring = queue->ring;

	if (ring && zcbuf_ring_sq_pending(ring))
		schedule_work(&queue->refill_work);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_refill, ZCBUF_NS(ZCBUF));

/**
 * zcbuf_queue_has_work() - whether the device has a buffer to work on
 * @queue: the queue
 *
 * For a device that waits for buffers: true if one is queued that it may
 * take.  With rings, entries in the SQ schedule the refill work, which
 * calls ->buf_queued once they are queued; with the SQ empty,
 * ZCBUF_RING_SQ_NEED_WAKEUP is set, so user space kicks after its next
 * submission.  Any context; allocates nothing.
 */
bool zcbuf_queue_has_work(struct zcbuf_queue *queue)
{
	struct zcbuf_ring *ring = queue->ring;

	if (zcbuf_queue_has_queued(queue))
		return true;
	if (!ring)
		return false;
	if (!zcbuf_ring_sq_pending(ring)) {
		zcbuf_ring_sq_set_need_wakeup(ring, true);
		/* One more look after the barrier in set_need_wakeup. */
		if (!zcbuf_ring_sq_pending(ring))
			return false;
	}
	zcbuf_ring_sq_set_need_wakeup(ring, false);
	/* Not yet: the refill work wakes the device when it has queued them. */
	zcbuf_queue_refill(queue);
	return false;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_queue_has_work, ZCBUF_NS(ZCBUF));

int zcbuf_ioctl_ring_setup(struct zcbuf_queue *queue, void *arg,
			   struct zcbuf_queue_pending *pending)
{
	struct zcbuf_ring_setup *req = arg;
	u32 min = roundup_pow_of_two(zcbuf_limits.max_buffers);
	u32 entries = req->entries ? req->entries : min;
	struct zcbuf_ring *ring;
	int ret = 0;

	if (req->flags || req->mmap_size || req->mmap_offset ||
	    memchr_inv(&req->cq, 0, sizeof(req->cq)) ||
	    memchr_inv(&req->sq, 0, sizeof(req->sq)) ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;
	if (!is_power_of_2(entries) || entries < min ||
	    entries > ZCBUF_RING_MAX_ENTRIES)
		return -EINVAL;

	mutex_lock(queue->lock);
	if (queue->ring || queue->committing || queue->streaming ||
	    READ_ONCE(queue->nr_done) || READ_ONCE(queue->nr_taking)) {
		ret = -EBUSY;
		goto unlock;
	}
	if (queue->configured && queue->cfg.flags & ZCBUF_CFG_STRICT) {
		ret = -EINVAL;
		goto unlock;
	}
	ring = zcbuf_ring_create(entries);
	if (!ring) {
		ret = -ENOMEM;
		goto unlock;
	}
	/* Published by zcbuf_queue_pending_finish() once the offsets are out. */
	pending->ring = ring;
	queue->committing = true;

	memset(req, 0, sizeof(*req));
	req->entries = entries;
	req->mmap_size = ring->size;
	req->mmap_offset = ZCBUF_OFF_RINGS;
	req->cq = ring->cq;
	req->sq = ring->sq;
unlock:
	mutex_unlock(queue->lock);
	return ret;
}

int zcbuf_ioctl_ring_kick(struct zcbuf_queue *queue, void *arg,
			  struct zcbuf_queue_pending *pending)
{
	struct zcbuf_ring_kick *req = arg;
	int ret = 0;

	if (req->flags || req->reserved)
		return -EINVAL;

	mutex_lock(queue->lock);
	if (!queue->ring)
		ret = -EINVAL;
	else if (queue->streaming && queue->zdev->info.ops->buf_queued)
		queue->zdev->info.ops->buf_queued(queue->zdev, queue);
	mutex_unlock(queue->lock);
	return ret;
}

/*
 * zcbuf_queue_pending_finish() - commit or undo what RING_SETUP or DQBUF
 * prepared, now that its result did (@publish) or did not reach user
 * space.  Called by zcbuf_pending_finish() for every ioctl.
 */
void zcbuf_queue_pending_finish(struct zcbuf_queue *queue,
				struct zcbuf_queue_pending *p, bool publish)
{
	struct zcbuf_ring *unused = NULL;

	if (!p->taken && !p->ring)
		return;

	mutex_lock(queue->lock);
	if (p->taken)
		zcbuf_queue_untake(queue, p->taken, p->taken_epoch, publish);
	if (p->ring) {
		if (publish) {
			/* Under qlock too: complete() and poll() look there. */
			spin_lock_irq(&queue->qlock);
			WRITE_ONCE(queue->ring, p->ring);
			spin_unlock_irq(&queue->qlock);
		} else {
			unused = p->ring;
		}
		queue->committing = false;
	}
	mutex_unlock(queue->lock);
	zcbuf_ring_destroy(unused);
}

/* mmap of the rings; queue->lock held. */
int zcbuf_queue_ring_mmap(struct zcbuf_queue *queue, struct vm_area_struct *vma)
{
	lockdep_assert_held(queue->lock);
	if (!queue->ring)
		return -EINVAL;
	return zcbuf_ring_mmap(queue->ring, vma);
}
