// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf contexts: the buffer table of one open /dev/zcbuf and the ioctls
 * that manage it (allocate, free, query, export, import, sync) and mmap.
 *
 * Every slot holds one reference on its DMA-buf and nothing else: a buffer
 * allocated here is exported once at creation, so the DMA-buf's refcount is
 * the only lifetime there is.  Mappings made through /dev/zcbuf are mappings
 * of that DMA-buf (dma_buf_mmap() swaps vma->vm_file), so closing the context
 * leaves them valid.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include <linux/zcbuf.h>

#include "zcbuf_buffer.h"
#include "zcbuf_compat.h"
#include "zcbuf_ctx.h"
#include "zcbuf_queue.h"
#include "zcbuf_registry.h"
#include "zcbuf_stats.h"

static void zcbuf_ctx_free(struct kref *kref)
{
	struct zcbuf_ctx *ctx = container_of(kref, struct zcbuf_ctx, kref);

	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

struct zcbuf_ctx *zcbuf_ctx_create(void)
{
	struct zcbuf_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;

	kref_init(&ctx->kref);
	mutex_init(&ctx->lock);
	xa_init(&ctx->slots);
	xa_init_flags(&ctx->windows, XA_FLAGS_ALLOC1);
	zcbuf_queue_init(&ctx->queue, &ctx->lock, &ctx->slots, &ctx->kref,
			 zcbuf_ctx_free);
	atomic_long_inc(&zcbuf_counters.contexts);
	return ctx;
}

/* The slot must be out of the table and not queued. */
static void zcbuf_slot_destroy(struct zcbuf_ctx *ctx, struct zcbuf_slot *slot)
{
	zcbuf_queue_release_slot(&ctx->queue, slot);
	dma_buf_put(slot->dmabuf);
	kfree_rcu(slot, rcu);
}

void zcbuf_ctx_destroy(struct zcbuf_ctx *ctx)
{
	struct zcbuf_slot *slot;
	unsigned long index;

	/* Stops the device and returns every buffer to ZCBUF_STATE_USER. */
	mutex_lock(&ctx->lock);
	zcbuf_queue_shutdown(&ctx->queue);
	zcbuf_registry_unbind(&ctx->queue);
	mutex_unlock(&ctx->lock);
	zcbuf_queue_release(&ctx->queue);
	xa_for_each(&ctx->slots, index, slot)
		zcbuf_slot_destroy(ctx, slot);
	xa_destroy(&ctx->slots);
	xa_destroy(&ctx->windows);
	atomic_long_dec(&zcbuf_counters.contexts);
	kref_put(&ctx->kref, zcbuf_ctx_free);
}

/* Look up a slot; ctx->lock held.  Bad indices are EINVAL. */
struct zcbuf_slot *zcbuf_slot_find(struct zcbuf_ctx *ctx, u32 index)
{
	lockdep_assert_held(&ctx->lock);
	return xa_load(&ctx->slots, index);
}

/* Create a buffer and the DMA-buf the slot will hold. */
static struct zcbuf_slot *zcbuf_slot_create(u64 size, bool contig)
{
	struct zcbuf_buffer *buf;
	struct zcbuf_slot *slot;
	struct dma_buf *dmabuf;
	int ret;

	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slot)
		return ERR_PTR(-ENOMEM);

	buf = zcbuf_buffer_create(size, contig);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		goto free_slot;
	}

	dmabuf = zcbuf_buffer_export(buf, O_RDWR);
	/* Success or not, from here on the DMA-buf owns the buffer. */
	zcbuf_buffer_put(buf);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto free_slot;
	}

	slot->dmabuf = dmabuf;
	slot->fence_context = dma_fence_context_alloc(1);
	slot->buf = buf;
	slot->size = size;
	slot->flags = contig ? ZCBUF_BUF_CONTIG : 0;
	slot->state = ZCBUF_STATE_USER;
	return slot;

free_slot:
	kfree(slot);
	return ERR_PTR(ret);
}

/*
 * Reserve an mmap window for a slot being made; ctx->lock held.  Windows
 * are handed out cyclically over every window below the offset limit, so a
 * freed buffer's offset comes back only after all the others (a stale
 * offset fails rather than maps another buffer), and there are always
 * more windows than a context may hold slots.  0 or -ENOMEM.
 */
static int zcbuf_reserve_window(struct zcbuf_ctx *ctx, struct zcbuf_slot *slot)
{
	u32 last = (ZCBUF_MMAP_OFFSET_LIMIT >> zcbuf_limits.window_shift) - 1;
	int ret;

	ret = xa_alloc_cyclic(&ctx->windows, &slot->window, NULL,
			      XA_LIMIT(1, last), &ctx->next_window,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		return ret == -EBUSY ? -ENOMEM : ret;
	return 0;
}

/* Reserve @count indices from @first; ctx->lock held.  0 or -ENOMEM. */
static int zcbuf_reserve_indices(struct zcbuf_ctx *ctx, u32 first, u32 count)
{
	u32 i;
	int ret;

	for (i = 0; i < count; i++) {
		ret = xa_reserve(&ctx->slots, first + i, GFP_KERNEL_ACCOUNT);
		if (ret) {
			while (i--)
				xa_release(&ctx->slots, first + i);
			return ret;
		}
	}
	return 0;
}

/*
 * Apply a configuration CONFIG checked and reported: bind the queue to the
 * device it names; ctx->lock held, not streaming, nothing queued or done
 * (CONFIG's checks, held since by the committing flag).
 */
static void zcbuf_ctx_commit_config(struct zcbuf_ctx *ctx,
				    struct zcbuf_config *cfg)
{
	struct zcbuf_queue *queue = &ctx->queue;

	lockdep_assert_held(&ctx->lock);

	if (cfg->personality != ZCBUF_DEV_NONE) {
		/*
		 * The buffers are mapped for the device they were queued to;
		 * the next QBUF maps them for this one.
		 */
		if (queue->zdev)
			zcbuf_queue_unmap_all(queue);
		if (!zcbuf_registry_bind(queue, cfg)) {
			zcbuf_queue_configure(queue, cfg);
			return;
		}
	}
	/* Unconfigured, or the device went away since CONFIG checked it. */
	zcbuf_queue_unconfigure(queue);
	zcbuf_registry_unbind(queue);
	queue->gone = cfg->personality != ZCBUF_DEV_NONE;
}

/**
 * zcbuf_pending_finish() - publish or undo what an ioctl prepared
 * @ctx: the context
 * @p: what the ioctl prepared
 * @publish: the result reached user space: make it all visible; else undo
 *	everything, so a failed copy-out leaves no trace
 */
void zcbuf_pending_finish(struct zcbuf_ctx *ctx, struct zcbuf_pending *p,
			  bool publish)
{
	u32 i;

	zcbuf_queue_pending_finish(&ctx->queue, &p->queue, publish);
	if (p->config) {
		mutex_lock(&ctx->lock);
		if (publish)
			zcbuf_ctx_commit_config(ctx, &p->cfg);
		ctx->queue.committing = false;
		mutex_unlock(&ctx->lock);
	}
	if (p->file) {
		if (publish) {
			fd_install(p->fd, p->file);
		} else {
			put_unused_fd(p->fd);
			fput(p->file);
		}
	}
	if (!p->slots)
		return;

	mutex_lock(&ctx->lock);
	for (i = 0; i < p->count; i++) {
		if (publish) {
			/* Into reserved entries: allocates nothing, cannot fail. */
			xa_store(&ctx->slots, p->first + i, p->slots[i],
				 GFP_KERNEL);
			xa_store(&ctx->windows, p->slots[i]->window, p->slots[i],
				 GFP_KERNEL);
		} else {
			xa_release(&ctx->slots, p->first + i);
			xa_erase(&ctx->windows, p->slots[i]->window);
		}
	}
	if (!publish) {
		ctx->nr_slots -= p->count;
		ctx->total_size -= p->bytes;
	}
	mutex_unlock(&ctx->lock);

	if (!publish)
		for (i = 0; i < p->count; i++)
			zcbuf_slot_destroy(ctx, p->slots[i]);
	kvfree(p->slots);
}

int zcbuf_ioctl_alloc(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending)
{
	struct zcbuf_alloc *req = arg;
	bool contig = req->flags & ZCBUF_ALLOC_CONTIG;
	struct zcbuf_slot **slots;
	u64 size, total;
	u32 i, first;
	int ret;

	if (req->flags & ~ZCBUF_ALLOC_VALID_FLAGS || req->reserved)
		return -EINVAL;
	if (!req->size || req->size > zcbuf_limits.max_buffer_size)
		return -EINVAL;
	if (!req->count || req->count > zcbuf_limits.max_buffers)
		return -EINVAL;
	size = PAGE_ALIGN(req->size);
	if (contig && get_order(size) > ZCBUF_MAX_ORDER)
		return -EINVAL;
	if (check_mul_overflow(size, (u64)req->count, &total))
		return -EINVAL;

	slots = kvcalloc(req->count, sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!slots)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	if (ctx->nr_slots + req->count > zcbuf_limits.max_buffers ||
	    total > zcbuf_limits.max_total_size - ctx->total_size) {
		ret = -ENOMEM;
		goto unlock;
	}
	if (req->count > U32_MAX - ctx->next_index) {
		ret = -ENOSPC;
		goto unlock;
	}

	first = ctx->next_index;
	ret = zcbuf_reserve_indices(ctx, first, req->count);
	if (ret)
		goto unlock;
	for (i = 0; i < req->count; i++) {
		slots[i] = zcbuf_slot_create(size, contig);
		if (IS_ERR(slots[i])) {
			ret = PTR_ERR(slots[i]);
			goto destroy_slots;
		}
		slots[i]->index = first + i;
		ret = zcbuf_reserve_window(ctx, slots[i]);
		if (ret) {
			zcbuf_slot_destroy(ctx, slots[i]);
			goto destroy_slots;
		}
	}

	/* Counted now, visible once the caller knows their indices. */
	ctx->next_index += req->count;
	ctx->nr_slots += req->count;
	ctx->total_size += total;
	mutex_unlock(&ctx->lock);

	pending->slots = slots;
	pending->first = first;
	pending->count = req->count;
	pending->bytes = total;
	req->first_index = first;
	return 0;

destroy_slots:
	while (i--) {
		xa_erase(&ctx->windows, slots[i]->window);
		zcbuf_slot_destroy(ctx, slots[i]);
	}
	for (i = 0; i < req->count; i++)
		xa_release(&ctx->slots, first + i);
unlock:
	mutex_unlock(&ctx->lock);
	kvfree(slots);
	return ret;
}

int zcbuf_ioctl_free(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending)
{
	struct zcbuf_free *req = arg;
	struct zcbuf_slot *slot;

	if (req->reserved)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	slot = zcbuf_slot_find(ctx, req->index);
	if (!slot) {
		mutex_unlock(&ctx->lock);
		return -EINVAL;
	}
	/* Also keeps the device's SQ path off it from here on. */
	if (zcbuf_queue_claim_slot(&ctx->queue, slot)) {
		mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	xa_erase(&ctx->slots, slot->index);
	xa_erase(&ctx->windows, slot->window);
	ctx->nr_slots--;
	if (slot->buf)
		ctx->total_size -= slot->size;
	mutex_unlock(&ctx->lock);

	zcbuf_slot_destroy(ctx, slot);
	return 0;
}

int zcbuf_ioctl_query(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending)
{
	struct zcbuf_query *req = arg;
	struct zcbuf_slot *slot;
	u32 index = req->index;

	mutex_lock(&ctx->lock);
	slot = zcbuf_slot_find(ctx, index);
	if (!slot) {
		mutex_unlock(&ctx->lock);
		return -EINVAL;
	}
	memset(req, 0, sizeof(*req));
	req->index = index;
	req->flags = slot->flags;
	req->size = slot->size;
	req->offset = (u64)slot->window << zcbuf_limits.window_shift;
	req->state = zcbuf_queue_slot_state(&ctx->queue, slot);
	mutex_unlock(&ctx->lock);
	return 0;
}

int zcbuf_ioctl_export(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending)
{
	struct zcbuf_export *req = arg;
	struct zcbuf_slot *slot;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (req->flags & ~ZCBUF_EXPORT_VALID_FLAGS || req->reserved)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	slot = zcbuf_slot_find(ctx, req->index);
	if (!slot || !slot->buf) {
		ret = -EINVAL;
		goto unlock;
	}
	if (req->flags & ZCBUF_EXPORT_RDWR) {
		dmabuf = slot->dmabuf;
		get_dma_buf(dmabuf);
	} else {
		/* A file's access mode is fixed: read-only is a new DMA-buf. */
		dmabuf = zcbuf_buffer_export(slot->buf, O_RDONLY);
		if (IS_ERR(dmabuf)) {
			ret = PTR_ERR(dmabuf);
			goto unlock;
		}
	}
	mutex_unlock(&ctx->lock);

	fd = get_unused_fd_flags(req->flags & ZCBUF_EXPORT_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}

	/* Installed by the dispatcher once the fd number reached user space. */
	pending->fd = fd;
	pending->file = dmabuf->file;
	req->fd = fd;
	return 0;

unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

int zcbuf_ioctl_import(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending)
{
	struct zcbuf_import *req = arg;
	struct zcbuf_slot **slots;
	struct zcbuf_slot *slot;
	struct dma_buf *dmabuf;
	int ret;

	if (req->flags || req->reserved)
		return -EINVAL;

	/* EBADF for a closed fd, EINVAL for a file that is no DMA-buf. */
	dmabuf = dma_buf_get(req->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (!dmabuf->size || !PAGE_ALIGNED(dmabuf->size)) {
		ret = -EINVAL;
		goto put_dmabuf;
	}

	slots = kvcalloc(1, sizeof(*slots), GFP_KERNEL_ACCOUNT);
	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slots || !slot) {
		ret = -ENOMEM;
		goto free_slot;
	}
	slot->dmabuf = dmabuf;
	slot->fence_context = dma_fence_context_alloc(1);
	slot->size = dmabuf->size;
	slot->flags = ZCBUF_BUF_IMPORTED;
	slot->state = ZCBUF_STATE_USER;

	mutex_lock(&ctx->lock);
	if (ctx->nr_slots >= zcbuf_limits.max_buffers) {
		ret = -ENOMEM;
		goto unlock;
	}
	if (ctx->next_index == U32_MAX) {
		ret = -ENOSPC;
		goto unlock;
	}
	slot->index = ctx->next_index;
	ret = zcbuf_reserve_indices(ctx, slot->index, 1);
	if (ret)
		goto unlock;
	ret = zcbuf_reserve_window(ctx, slot);
	if (ret) {
		xa_release(&ctx->slots, slot->index);
		goto unlock;
	}
	ctx->next_index++;
	ctx->nr_slots++;
	mutex_unlock(&ctx->lock);

	slots[0] = slot;
	pending->slots = slots;
	pending->first = slot->index;
	pending->count = 1;
	req->index = slot->index;
	req->size = slot->size;
	return 0;

unlock:
	mutex_unlock(&ctx->lock);
free_slot:
	kfree(slot);
	kvfree(slots);
put_dmabuf:
	dma_buf_put(dmabuf);
	return ret;
}

int zcbuf_ioctl_config(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending)
{
	struct zcbuf_config *cfg = arg;
	int ret;

	mutex_lock(&ctx->lock);
	ret = zcbuf_queue_check_config(&ctx->queue, cfg);
	/* The device checks it and sets frame_size; nothing binds yet. */
	if (!ret && cfg->personality != ZCBUF_DEV_NONE)
		ret = zcbuf_registry_check(cfg);
	if (!ret) {
		/* Committed by zcbuf_pending_finish() once frame_size is out. */
		pending->config = true;
		pending->cfg = *cfg;
		ctx->queue.committing = true;
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

static enum dma_data_direction zcbuf_sync_dir(u32 flags)
{
	switch (flags & ZCBUF_SYNC_RW) {
	case ZCBUF_SYNC_READ:
		return DMA_FROM_DEVICE;
	case ZCBUF_SYNC_WRITE:
		return DMA_TO_DEVICE;
	default:
		return DMA_BIDIRECTIONAL;
	}
}

int zcbuf_ioctl_sync(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending)
{
	struct zcbuf_sync *req = arg;
	bool start = !(req->flags & ZCBUF_SYNC_END);
	struct zcbuf_buffer *buf;
	struct zcbuf_slot *slot;
	struct dma_buf *dmabuf;
	u64 end;
	int ret = 0;

	if (req->flags & ~ZCBUF_SYNC_VALID_FLAGS ||
	    !(req->flags & ZCBUF_SYNC_RW))
		return -EINVAL;
	if (!req->length || check_add_overflow(req->offset, req->length, &end))
		return -EINVAL;

	mutex_lock(&ctx->lock);
	slot = zcbuf_slot_find(ctx, req->index);
	if (!slot || end > slot->size) {
		mutex_unlock(&ctx->lock);
		return -EINVAL;
	}
	/* The reference keeps slot->buf alive should the slot be freed. */
	dmabuf = slot->dmabuf;
	buf = slot->buf;
	get_dma_buf(dmabuf);
	mutex_unlock(&ctx->lock);

	/* As DMA_BUF_IOCTL_SYNC: not before the device is done with it. */
	if (start) {
		ret = zcbuf_buffer_wait_device(dmabuf->resv,
					       zcbuf_sync_dir(req->flags));
		if (ret)
			goto put;
	}

	if (buf) {
		zcbuf_buffer_sync_range(buf, req->offset, req->length, start);
	} else if (start) {
		/* Foreign exporters only know whole-buffer CPU access. */
		ret = dma_buf_begin_cpu_access(dmabuf,
					       zcbuf_sync_dir(req->flags));
	} else {
		ret = dma_buf_end_cpu_access(dmabuf,
					     zcbuf_sync_dir(req->flags));
	}
put:
	dma_buf_put(dmabuf);
	return ret;
}

/**
 * zcbuf_ctx_mmap() - map (part of) one buffer of the context, or the rings
 * @ctx: the context
 * @vma: the new mapping; vm_pgoff encodes the window and the page offset
 *	in it (see struct zcbuf_limits)
 *
 * The mapping of a buffer becomes a mapping of its DMA-buf: it holds the
 * DMA-buf, not the context.
 */
int zcbuf_ctx_mmap(struct zcbuf_ctx *ctx, struct vm_area_struct *vma)
{
	const unsigned int shift = zcbuf_limits.window_shift - PAGE_SHIFT;
	unsigned long pgoff = vma->vm_pgoff & ((1UL << shift) - 1);
	unsigned long window = vma->vm_pgoff >> shift;
	struct zcbuf_slot *slot;
	struct dma_buf *dmabuf;
	int ret;

	if (!window) {
		if (pgoff)
			return -EINVAL;
		mutex_lock(&ctx->lock);
		ret = zcbuf_queue_ring_mmap(&ctx->queue, vma);
		mutex_unlock(&ctx->lock);
		return ret;
	}

	mutex_lock(&ctx->lock);
	slot = xa_load(&ctx->windows, window);
	if (!slot) {
		mutex_unlock(&ctx->lock);
		return -EINVAL;
	}
	dmabuf = slot->dmabuf;
	get_dma_buf(dmabuf);
	mutex_unlock(&ctx->lock);

	/*
	 * An imported DMA-buf may be read-only: its exporter's choice holds
	 * here too, as if it were mapped through its own fd.
	 */
	if (!(dmabuf->file->f_mode & FMODE_WRITE)) {
		if (vma->vm_flags & VM_WRITE) {
			ret = -EACCES;
			goto put;
		}
		vm_flags_clear(vma, VM_MAYWRITE);
	}

	ret = dma_buf_mmap(dmabuf, vma, pgoff);
put:
	dma_buf_put(dmabuf);
	return ret;
}
