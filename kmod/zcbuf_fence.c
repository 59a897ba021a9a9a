// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf fences.
 *
 * A queued buffer's fence is in the reservation object of its DMA-buf while
 * the device streams (QBUF while streaming, STREAMON for what was queued
 * before): a write fence when the device will write (camera, RX), a read
 * fence when it will read (TX).  The device signals it when it completes the
 * buffer, just before the completion is visible to DQBUF, poll() and the
 * eventfd; STREAMOFF and close signal what is left with -ECANCELED.  So
 * poll() on an exported DMA-buf fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE and
 * DMA_BUF_IOCTL_SYNC (which waits for fences) all agree with the eventfd.
 *
 * Every published fence signals in bounded time: a device that stalls has
 * its fences signalled with -ETIMEDOUT by the queue's watchdog
 * (zcbuf_queue.c), which runs on zcbuf_fence_wq.  A fence is signalled
 * once, under its lock, by whichever comes first; the completion that
 * comes after a timeout learns it from zcbuf_fence_signal().
 *
 * A fence may outlive the queue that made it (a sync_file or another
 * driver holds it), so each carries its own spinlock.  Its ops are this
 * module's code: whoever drops the last reference runs our ->release and
 * returns into our text, which must still be there.  A module reference
 * per fence, dropped in ->release, cannot promise that (the return comes
 * after the put).  So the module keeps a reference of its own on every
 * fence it made (zcbuf_fences) and is always the one that drops the last:
 * a reaper drops ours once nobody else holds one, and module unload waits
 * until that is so for every fence (zcbuf_fence_exit()).
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "zcbuf_fence.h"

/**
 * struct zcbuf_fence - one buffer's trip through the device
 * @base: the fence; first, so that dma_fence_free() frees the whole struct
 * @lock: protects @base's state (dma-fence's own locking)
 * @node: entry in zcbuf_fences while the module holds its reference
 */
struct zcbuf_fence {
	struct dma_fence base;
	spinlock_t lock;	/* see @lock above */
	struct list_head node;
};

/* Every fence the module still holds a reference on. */
static LIST_HEAD(zcbuf_fences);
/* Protects zcbuf_fences. */
static DEFINE_SPINLOCK(zcbuf_fences_lock);

/*
 * For work that signals fences (the queues' watchdogs): a rescuer, so that
 * it makes progress when memory is short, as a fence must.
 */
struct workqueue_struct *zcbuf_fence_wq;

static void zcbuf_fence_reap_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(zcbuf_fence_reaper, zcbuf_fence_reap_work);
#define ZCBUF_FENCE_REAP_DELAY	HZ

static struct zcbuf_fence *to_zcbuf_fence(struct dma_fence *fence)
{
	return container_of(fence, struct zcbuf_fence, base);
}

static const char *zcbuf_fence_driver_name(struct dma_fence *fence)
{
	return "zcbuf";
}

static const char *zcbuf_fence_timeline_name(struct dma_fence *fence)
{
	return "zcbuf-device";
}

static const struct dma_fence_ops zcbuf_fence_ops = {
	.get_driver_name = zcbuf_fence_driver_name,
	.get_timeline_name = zcbuf_fence_timeline_name,
	/* No ->release: the core frees it, and only from our own put. */
};

/*
 * Drop the module's reference on every fence that nobody else holds; the
 * fence is then freed here, by us.  A dma_resv reader may take a reference
 * under RCU on a fence it found before the fence left the reservation
 * object: after a grace period it holds one (the count is above 1 again)
 * or never will.  May sleep.  Return: the fences still held elsewhere.
 */
static unsigned long zcbuf_fence_reap(void)
{
	struct zcbuf_fence *f, *tmp;
	unsigned long left = 0;
	LIST_HEAD(idle);

	spin_lock(&zcbuf_fences_lock);
	list_for_each_entry_safe(f, tmp, &zcbuf_fences, node)
		if (kref_read(&f->base.refcount) == 1)
			list_move(&f->node, &idle);
	spin_unlock(&zcbuf_fences_lock);

	if (!list_empty(&idle)) {
		synchronize_rcu();
		list_for_each_entry_safe(f, tmp, &idle, node) {
			if (kref_read(&f->base.refcount) == 1) {
				list_del(&f->node);
				dma_fence_put(&f->base);
			}
		}
	}

	spin_lock(&zcbuf_fences_lock);
	list_splice(&idle, &zcbuf_fences);
	list_for_each_entry(f, &zcbuf_fences, node)
		left++;
	spin_unlock(&zcbuf_fences_lock);
	return left;
}

static void zcbuf_fence_reap_work(struct work_struct *work)
{
	if (zcbuf_fence_reap())
		schedule_delayed_work(&zcbuf_fence_reaper,
				      ZCBUF_FENCE_REAP_DELAY);
}

int zcbuf_fence_init(void)
{
	zcbuf_fence_wq = alloc_workqueue("zcbuf-fence",
					 WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	return zcbuf_fence_wq ? 0 : -ENOMEM;
}

/**
 * zcbuf_fence_exit() - module unload: wait until every fence is ours alone
 *
 * Fences that others hold (a sync_file, another driver's job) keep the
 * unload waiting; every reference they hold is a reference to code and
 * data that must stay.
 */
void zcbuf_fence_exit(void)
{
	unsigned long left;

	cancel_delayed_work_sync(&zcbuf_fence_reaper);
	while ((left = zcbuf_fence_reap())) {
		pr_info_once("zcbuf: unload waits for %lu fence(s) held elsewhere\n",
			     left);
		msleep(50);
	}
	destroy_workqueue(zcbuf_fence_wq);
}

/**
 * zcbuf_fence_create() - a new, unsignalled fence
 * @context: the buffer's fence timeline (dma_fence_context_alloc())
 * @seqno: increasing per context
 *
 * Return: the fence with one reference, or NULL.
 */
struct dma_fence *zcbuf_fence_create(u64 context, u64 seqno)
{
	struct zcbuf_fence *f;

	bool first;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &zcbuf_fence_ops, &f->lock, context, seqno);

	/* The module's own reference, dropped by the reaper. */
	dma_fence_get(&f->base);
	spin_lock(&zcbuf_fences_lock);
	first = list_empty(&zcbuf_fences);
	list_add_tail(&f->node, &zcbuf_fences);
	spin_unlock(&zcbuf_fences_lock);
	if (first)
		schedule_delayed_work(&zcbuf_fence_reaper,
				      ZCBUF_FENCE_REAP_DELAY);
	return &f->base;
}

/**
 * zcbuf_fence_attach() - publish a fence in a DMA-buf's reservation object
 * @dmabuf: the buffer
 * @fence: the fence; the reservation object takes its own reference
 * @device_writes: a write fence (device writes) or a read fence
 *
 * Return: 0, or -EINTR / -ENOMEM with nothing changed.
 */
int zcbuf_fence_attach(struct dma_buf *dmabuf, struct dma_fence *fence,
		       bool device_writes)
{
	struct dma_resv *resv = dmabuf->resv;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	ret = dma_resv_reserve_fences(resv, 1);
	if (!ret)
		dma_resv_add_fence(resv, fence, device_writes ?
				   DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
	dma_resv_unlock(resv);
	return ret;
}

/*
 * Signal @fence with @error unless it is signalled already.  Return: 0 if
 * this call signalled it, else the error it had been signalled with.
 */
static int zcbuf_fence_signal_once(struct dma_fence *fence, int error)
{
	struct zcbuf_fence *f = to_zcbuf_fence(fence);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&f->lock, flags);
	if (test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &fence->flags)) {
		ret = fence->error ? fence->error : -EALREADY;
	} else {
		if (error)
			dma_fence_set_error(fence, error);
		dma_fence_signal_locked(fence);
	}
	spin_unlock_irqrestore(&f->lock, flags);
	return ret;
}

/**
 * zcbuf_fence_signal() - the device is done (or will never be)
 * @fence: a fence from zcbuf_fence_create(); the caller's reference is
 *	dropped
 * @error: 0, or why the work did not happen (-ECANCELED, -EIO)
 *
 * Any context; allocates nothing, takes only the fence's spinlock.
 *
 * Return: 0, or the error the fence had been signalled with before
 * (-ETIMEDOUT: zcbuf_fence_expire() was first, others may have used the
 * buffer meanwhile).
 */
int zcbuf_fence_signal(struct dma_fence *fence, int error)
{
	int ret = zcbuf_fence_signal_once(fence, error);

	dma_fence_put(fence);
	return ret;
}

/**
 * zcbuf_fence_expire() - the device took too long: signal with -ETIMEDOUT
 * @fence: a fence from zcbuf_fence_create(); the caller keeps its reference
 *
 * Nothing if it is signalled already.  Any context.
 */
void zcbuf_fence_expire(struct dma_fence *fence)
{
	zcbuf_fence_signal_once(fence, -ETIMEDOUT);
}

/**
 * zcbuf_fence_purge() - take one buffer's fences out of a foreign DMA-buf
 * @dmabuf: a DMA-buf some other exporter made
 * @context: the buffer's fence timeline; only its fences are replaced,
 *	never another slot's fence in the same reservation object
 *
 * Signalled fences stay in a reservation object until replaced, and their
 * ops are this module's code.  A buffer imported from elsewhere may outlive
 * the module, so when the context lets go of it, its fences are replaced by
 * the core's always-signalled stub.  May sleep.
 */
void zcbuf_fence_purge(struct dma_buf *dmabuf, u64 context)
{
	struct dma_fence *stub = dma_fence_get_stub();

	dma_resv_lock(dmabuf->resv, NULL);
	dma_resv_replace_fences(dmabuf->resv, context, stub,
				DMA_RESV_USAGE_BOOKKEEP);
	dma_resv_unlock(dmabuf->resv);
	dma_fence_put(stub);
}
