// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf fences.
 *
 * QBUF adds an unsignalled fence to the reservation object of the buffer's
 * DMA-buf: a write fence when the device will write (camera, RX), a read
 * fence when it will read (TX).  The device signals it when it completes the
 * buffer, just before the completion is visible to DQBUF, poll() and the
 * eventfd; STREAMOFF and close signal what is left with -ECANCELED.  So
 * poll() on an exported DMA-buf fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE and
 * DMA_BUF_IOCTL_SYNC (which waits for fences) all agree with the eventfd.
 *
 * A fence may outlive the queue that made it (a sync_file holds it), so
 * each carries its own spinlock; and its ops are this module's code, so each
 * holds a reference on the module until it is released.
 */

#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "zcbuf_fence.h"

/**
 * struct zcbuf_fence - one buffer's trip through the device
 * @base: the fence; first, so that dma_fence_free() frees the whole struct
 * @lock: protects @base's state (dma-fence's own locking)
 */
struct zcbuf_fence {
	struct dma_fence base;
	spinlock_t lock;	/* see @lock above */
};

static const char *zcbuf_fence_driver_name(struct dma_fence *fence)
{
	return "zcbuf";
}

static const char *zcbuf_fence_timeline_name(struct dma_fence *fence)
{
	return "zcbuf-device";
}

static void zcbuf_fence_release(struct dma_fence *fence)
{
	dma_fence_free(fence);
	/*
	 * Last: what follows is only the return.  An rmmod waiting for this
	 * reference still has to pass an RCU grace period (free_module())
	 * before our text goes, which this CPU cannot end between here and
	 * the return.
	 */
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops zcbuf_fence_ops = {
	.get_driver_name = zcbuf_fence_driver_name,
	.get_timeline_name = zcbuf_fence_timeline_name,
	.release = zcbuf_fence_release,
};

/**
 * zcbuf_fence_create() - a new, unsignalled fence
 * @context: the queue's fence context (dma_fence_context_alloc())
 * @seqno: increasing per context
 *
 * Return: the fence with one reference, or NULL.
 */
struct dma_fence *zcbuf_fence_create(u64 context, u64 seqno)
{
	struct zcbuf_fence *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	/* Our caller runs our code, so the module is live: no try needed. */
	__module_get(THIS_MODULE);
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &zcbuf_fence_ops, &f->lock, context, seqno);
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

/**
 * zcbuf_fence_signal() - the device is done (or will never be)
 * @fence: the fence; the caller's reference is dropped
 * @error: 0, or why the work did not happen (-ECANCELED, -EIO)
 *
 * Any context.
 */
void zcbuf_fence_signal(struct dma_fence *fence, int error)
{
	if (error)
		dma_fence_set_error(fence, error);
	dma_fence_signal(fence);
	dma_fence_put(fence);
}

/**
 * zcbuf_fence_purge() - take a queue's fences out of a foreign DMA-buf
 * @dmabuf: a DMA-buf some other exporter made
 * @context: the queue's fence context
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
