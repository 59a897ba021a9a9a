// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf buffers: zeroed, pinned pages behind one or more DMA-bufs.
 *
 * Ownership: zcbuf_buffer_create() returns a buffer holding one reference,
 * owned by the caller.  Every DMA-buf exported from it takes one more and
 * drops it in its ->release().  Once the caller has exported the buffer and
 * dropped its own reference, only dma_buf_put() frees: the pages live as long
 * as any DMA-buf of the buffer, and a DMA-buf lives as long as any fd,
 * mapping (vma->vm_file) or importer holds its file.
 *
 * User mappings insert the pages themselves (VM_MIXEDMAP, no VM_PFNMAP), so
 * get_user_pages() works on them: O_DIRECT, vmsplice and MSG_ZEROCOPY can use
 * a captured frame in place.
 *
 * Locking: buf->lock protects the attachment and export lists and the kernel
 * mapping.  The DMA-buf core calls ->map_dma_buf and ->vmap with the
 * reservation lock held (6.2+), so the order is dma_resv lock -> buf->lock;
 * buf->lock is never held while taking the reservation lock.
 */

#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/iosys-map.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/capability.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "zcbuf_buffer.h"
#include "zcbuf_compat.h"
#include "zcbuf_stats.h"

/*
 * Pages for user space: zeroed so that no stale kernel data leaks, charged to
 * the caller's memory cgroup, never from ZONE_MOVABLE (they stay pinned for
 * DMA) and never highmem (the simulated device reaches them through the
 * direct map).
 */
#define ZCBUF_GFP_BASE		(GFP_USER | __GFP_ZERO | __GFP_ACCOUNT)
/*
 * A request user space makes fails with ENOMEM, quietly: no OOM kill (of
 * the caller's memory cgroup or of the machine) and no allocation splat.
 */
#define ZCBUF_GFP		(ZCBUF_GFP_BASE | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
/* Large chunks are opportunistic: fail fast and quietly, fall back smaller. */
#define ZCBUF_GFP_HIGH		((ZCBUF_GFP_BASE | __GFP_NOWARN | __GFP_NORETRY) & \
				 ~__GFP_RECLAIM)
#define ZCBUF_GFP_MID		(ZCBUF_GFP_BASE | __GFP_NOWARN | __GFP_NORETRY)

/* 2 MiB, 64 KiB, 4 KiB chunks keep the scatterlist of a big buffer short. */
static const unsigned int zcbuf_orders[] = { 9, 4, 0 };

/**
 * struct zcbuf_export - the private data of one DMA-buf of a buffer
 * @buf: the buffer; this DMA-buf holds one reference on it
 * @dmabuf: the DMA-buf itself
 * @node: entry in buf->exports, under buf->lock
 */
struct zcbuf_export {
	struct zcbuf_buffer *buf;
	struct dma_buf *dmabuf;
	struct list_head node;
};

/**
 * struct zcbuf_attachment - one device attached to a DMA-buf of a buffer
 * @dev: the importing device
 * @sgt: the buffer's pages, in segments the device can map
 * @node: entry in buf->attachments, under buf->lock
 * @dir: direction @sgt is mapped with, valid while @claimed
 * @claimed: a mapping is being made or exists (under buf->lock)
 * @mapped: @sgt is DMA-mapped for @dev (under buf->lock)
 */
struct zcbuf_attachment {
	struct device *dev;
	struct sg_table sgt;
	struct list_head node;
	enum dma_data_direction dir;
	bool claimed;
	bool mapped;
};

static const struct dma_buf_ops zcbuf_dmabuf_ops, zcbuf_dmabuf_ro_ops;

static void zcbuf_free_pages(struct page **pages, unsigned int count)
{
	unsigned int i;

	/* put_page(): a page pinned by get_user_pages outlives the buffer. */
	for (i = 0; i < count; i++)
		put_page(pages[i]);
}

/* Fill buf->pages from the largest chunks the allocator has to spare. */
static int zcbuf_alloc_scattered(struct zcbuf_buffer *buf)
{
	unsigned int filled = 0, i, j;

	while (filled < buf->npages) {
		struct page *page = NULL;
		unsigned int order = 0;

		if (fatal_signal_pending(current))
			goto fail;

		for (i = 0; i < ARRAY_SIZE(zcbuf_orders); i++) {
			gfp_t gfp;

			order = zcbuf_orders[i];
			if (buf->npages - filled < (1U << order))
				continue;
			gfp = order >= 9 ? ZCBUF_GFP_HIGH :
			      order ? ZCBUF_GFP_MID : ZCBUF_GFP;
			page = alloc_pages(gfp, order);
			if (page)
				break;
		}
		if (!page)
			goto fail;

		/* Order-0 pages, each with its own count, for vm_insert_page. */
		split_page(page, order);
		for (j = 0; j < (1U << order); j++)
			buf->pages[filled++] = page + j;
	}
	return 0;

fail:
	zcbuf_free_pages(buf->pages, filled);
	return -ENOMEM;
}

/* One physically contiguous block, for devices that cannot gather. */
static int zcbuf_alloc_contig(struct zcbuf_buffer *buf)
{
	unsigned int order = get_order(buf->size);
	unsigned int i, nr = 1U << order;
	struct page *page;

	if (order > ZCBUF_MAX_ORDER)
		return -EINVAL;

	page = alloc_pages(ZCBUF_GFP, order);
	if (!page)
		return -ENOMEM;

	split_page(page, order);
	for (i = 0; i < buf->npages; i++)
		buf->pages[i] = page + i;
	/* Give back the tail that rounding up to a power of two added. */
	for (; i < nr; i++)
		__free_page(page + i);
	return 0;
}

/*
 * The pages stay pinned as long as the buffer lives: charge them to the
 * creator's RLIMIT_MEMLOCK, in user->locked_vm as io_uring and AF_XDP do
 * (so the limit holds across the user's processes and outlives the
 * context, as the pages do), unless the creator has CAP_IPC_LOCK.
 */
static int zcbuf_charge_user(struct zcbuf_buffer *buf)
{
	unsigned long limit, cur, new;
	struct user_struct *user;

	if (capable(CAP_IPC_LOCK))
		return 0;

	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	user = current_user();
	cur = atomic_long_read(&user->locked_vm);
	do {
		new = cur + buf->npages;
		if (new > limit || new < cur)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
	buf->user = get_uid(user);
	return 0;
}

static void zcbuf_uncharge_user(struct zcbuf_buffer *buf)
{
	if (!buf->user)
		return;
	atomic_long_sub(buf->npages, &buf->user->locked_vm);
	free_uid(buf->user);
	buf->user = NULL;
}

/**
 * zcbuf_buffer_create() - allocate a buffer
 * @size: size in bytes, a non-zero multiple of PAGE_SIZE
 * @contig: allocate one physically contiguous block
 *
 * Return: the buffer with one reference for the caller, or an ERR_PTR().
 */
struct zcbuf_buffer *zcbuf_buffer_create(size_t size, bool contig)
{
	struct zcbuf_buffer *buf;
	int ret;

	if (!size || !PAGE_ALIGNED(size) || (size >> PAGE_SHIFT) > UINT_MAX)
		return ERR_PTR(-EINVAL);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);

	buf->size = size;
	buf->npages = size >> PAGE_SHIFT;
	buf->contig = contig;
	buf->pages = kvmalloc_array(buf->npages, sizeof(*buf->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!buf->pages) {
		ret = -ENOMEM;
		goto free_buf;
	}

	ret = zcbuf_charge_user(buf);
	if (ret)
		goto free_page_array;
	ret = contig ? zcbuf_alloc_contig(buf) : zcbuf_alloc_scattered(buf);
	if (ret)
		goto uncharge;

	kref_init(&buf->kref);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);
	INIT_LIST_HEAD(&buf->exports);
	dma_resv_init(&buf->resv);
	atomic_long_inc(&zcbuf_counters.buffers);
	atomic64_add(buf->size, &zcbuf_counters.buffer_bytes);
	return buf;

uncharge:
	zcbuf_uncharge_user(buf);
free_page_array:
	kvfree(buf->pages);
free_buf:
	kfree(buf);
	return ERR_PTR(ret);
}

static void zcbuf_buffer_release(struct kref *kref)
{
	struct zcbuf_buffer *buf = container_of(kref, struct zcbuf_buffer, kref);

	WARN_ON(!list_empty(&buf->attachments) || buf->vmap_count);
	atomic_long_dec(&zcbuf_counters.buffers);
	atomic64_sub(buf->size, &zcbuf_counters.buffer_bytes);
	dma_resv_fini(&buf->resv);
	mutex_destroy(&buf->lock);
	zcbuf_free_pages(buf->pages, buf->npages);
	zcbuf_uncharge_user(buf);
	kvfree(buf->pages);
	kfree(buf);
}

void zcbuf_buffer_put(struct zcbuf_buffer *buf)
{
	kref_put(&buf->kref, zcbuf_buffer_release);
}

/**
 * zcbuf_buffer_sync_sgt() - sync a byte range of one device's mapping
 * @dev: the device the table is mapped for
 * @sgt: the table ->map_dma_buf returned for it
 * @dir: the direction it was mapped with
 * @offset: first byte of the buffer
 * @len: bytes
 * @for_cpu: true at the start of CPU access, false at its end
 *
 * Each entry of the table is a mapping of its own (zcbuf_map_chunks()),
 * so a part of one may be synced with dma_sync_single_range_*(), as the
 * DMA API allows for dma_map_page() mappings (never for parts of an sg
 * mapping, whose segments an IOMMU may have merged).  Takes no lock and
 * allocates nothing: the caller keeps the mapping alive.
 */
void zcbuf_buffer_sync_sgt(struct device *dev, struct sg_table *sgt,
			   enum dma_data_direction dir, size_t offset,
			   size_t len, bool for_cpu)
{
	size_t pos = 0, end = offset + len;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		size_t seg_end = pos + sg_dma_len(sg);
		size_t from = max(pos, offset), to = min(seg_end, end);

		if (from < to) {
			/* Always the direction it was mapped with (DMA API). */
			if (for_cpu)
				dma_sync_single_range_for_cpu(dev,
							      sg_dma_address(sg),
							      from - pos,
							      to - from, dir);
			else
				dma_sync_single_range_for_device(dev,
								 sg_dma_address(sg),
								 from - pos,
								 to - from,
								 dir);
		}
		pos = seg_end;
		if (pos >= end)
			break;
	}
}

/**
 * zcbuf_buffer_sync_range() - hand a byte range between the CPU and devices
 * @buf: the buffer
 * @offset: first byte
 * @len: bytes, with @offset + @len <= buf->size (checked by the caller)
 * @for_cpu: true at the start of CPU access, false at its end
 *
 * Syncs the range for every device that has the buffer mapped, in the
 * direction of that mapping, and the kernel's vmap alias if any.
 */
void zcbuf_buffer_sync_range(struct zcbuf_buffer *buf, size_t offset,
			     size_t len, bool for_cpu)
{
	struct zcbuf_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_count) {
		if (for_cpu)
			invalidate_kernel_vmap_range(buf->vaddr + offset, len);
		else
			flush_kernel_vmap_range(buf->vaddr + offset, len);
	}
	list_for_each_entry(a, &buf->attachments, node) {
		if (a->mapped)
			zcbuf_buffer_sync_sgt(a->dev, &a->sgt, a->dir, offset,
					      len, for_cpu);
	}
	mutex_unlock(&buf->lock);
}

/*
 * Whether only the device that owns the buffer can reach it: one
 * attachment (that device's), no kernel mapping, and no page referenced
 * by anything but the buffer itself.  With the user mappings zapped, a
 * page's only reference is the buffer's; any other is a pin or a GUP
 * reference (io_uring fixed buffers, vmsplice'd pipes, O_DIRECT in
 * flight, MSG_ZEROCOPY) that would bypass the revocation.  buf->lock held.
 */
static bool zcbuf_buffer_exclusive(struct zcbuf_buffer *buf)
{
	struct zcbuf_attachment *a;
	unsigned int i, n = 0;

	lockdep_assert_held(&buf->lock);

	list_for_each_entry(a, &buf->attachments, node)
		n++;
	if (n != 1 || buf->vmap_count)
		return false;
	for (i = 0; i < buf->npages; i++)
		if (page_ref_count(buf->pages[i]) != 1)
			return false;
	return true;
}

/**
 * zcbuf_buffer_revoke_cpu() - take the buffer away from everyone but its
 *	device
 * @buf: the buffer, attached and mapped by the device that will own it
 *
 * Zaps every user mapping of every DMA-buf of the buffer; until
 * zcbuf_buffer_restore_cpu(), a touch raises SIGBUS, and no other device
 * mapping and no kernel mapping can be made (EBUSY).  Used while a device
 * owns the buffer in strict mode.
 *
 * Return: 0, or -EBUSY (and nothing revoked) if something else can reach
 * the pages anyway: another attachment, a kernel mapping, a pin or another
 * reference to a page.
 */
int zcbuf_buffer_revoke_cpu(struct zcbuf_buffer *buf)
{
	struct zcbuf_export *exp;
	int ret = 0;

	mutex_lock(&buf->lock);
	buf->cpu_revoked = true;
	list_for_each_entry(exp, &buf->exports, node)
		unmap_mapping_range(exp->dmabuf->file->f_mapping, 0, 0, 1);
	/* Checked after the zap: no new reference can come through a PTE. */
	if (!zcbuf_buffer_exclusive(buf)) {
		buf->cpu_revoked = false;
		ret = -EBUSY;
	}
	mutex_unlock(&buf->lock);
	return ret;
}

/**
 * zcbuf_buffer_restore_cpu() - give the buffer back to user space
 * @buf: the buffer
 *
 * The next touch of a mapping faults the pages back in.
 */
void zcbuf_buffer_restore_cpu(struct zcbuf_buffer *buf)
{
	mutex_lock(&buf->lock);
	buf->cpu_revoked = false;
	mutex_unlock(&buf->lock);
}

static int zcbuf_dmabuf_attach(struct dma_buf *dmabuf,
			       struct dma_buf_attachment *attachment)
{
	struct zcbuf_export *exp = dmabuf->priv;
	struct zcbuf_buffer *buf = exp->buf;
	struct device *dev = attachment->dev;
	struct zcbuf_attachment *a;
	size_t max_seg;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;

	/*
	 * Segments no longer than the device (or swiotlb, when it bounces)
	 * can map in one go.
	 */
	max_seg = min_t(size_t, dma_max_mapping_size(dev),
			dma_get_max_seg_size(dev));
	max_seg = clamp_t(size_t, max_seg, PAGE_SIZE, UINT_MAX);
	max_seg = round_down(max_seg, PAGE_SIZE);
	ret = sg_alloc_table_from_pages_segment(&a->sgt, buf->pages,
						buf->npages, 0, buf->size,
						max_seg, GFP_KERNEL);
	if (ret)
		goto free_attachment;

	a->dev = dev;
	attachment->priv = a;

	mutex_lock(&buf->lock);
	list_add(&a->node, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;

free_attachment:
	kfree(a);
	return ret;
}

static void zcbuf_dmabuf_detach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attachment)
{
	struct zcbuf_export *exp = dmabuf->priv;
	struct zcbuf_attachment *a = attachment->priv;

	mutex_lock(&exp->buf->lock);
	list_del(&a->node);
	mutex_unlock(&exp->buf->lock);

	sg_free_table(&a->sgt);
	kfree(a);
}

/* Undo the first @count mappings of zcbuf_map_chunks(). */
static void zcbuf_unmap_chunks(struct zcbuf_attachment *a, unsigned int count,
			       enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&a->sgt, sg, i) {
		if (i == count)
			break;
		dma_unmap_page(a->dev, sg_dma_address(sg), sg_dma_len(sg), dir);
	}
}

/*
 * Map each entry of the attachment's table (a physically contiguous chunk
 * no longer than the device or swiotlb maps in one go) with dma_map_page():
 * a table of independent mappings, which importers use like any mapped
 * sg_table, and of which we may sync parts one by one (under swiotlb
 * only the bounce slots of the range; under an IOMMU the right pages).
 */
static int zcbuf_map_chunks(struct zcbuf_attachment *a,
			    enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&a->sgt, sg, i) {
		dma_addr_t addr = dma_map_page(a->dev, sg_page(sg), sg->offset,
					       sg->length, dir);

		if (dma_mapping_error(a->dev, addr)) {
			zcbuf_unmap_chunks(a, i, dir);
			return -ENOMEM;
		}
		sg_dma_address(sg) = addr;
		sg_dma_len(sg) = sg->length;
	}
	a->sgt.nents = a->sgt.orig_nents;
	return 0;
}

/*
 * One device may not map the same pages twice where one of the mappings
 * lets it write: the DMA API does not support overlapping mappings (their
 * cache maintenance would undo each other), and two writers would race.
 * buf->lock held.
 */
static bool zcbuf_dmabuf_overlaps(struct zcbuf_buffer *buf,
				  struct zcbuf_attachment *a,
				  enum dma_data_direction dir)
{
	struct zcbuf_attachment *other;

	lockdep_assert_held(&buf->lock);

	list_for_each_entry(other, &buf->attachments, node) {
		if (other != a && other->claimed && other->dev == a->dev &&
		    (dir != DMA_TO_DEVICE || other->dir != DMA_TO_DEVICE))
			return true;
	}
	return false;
}

/*
 * Whether @dev can reach every page of @buf.  A device with a narrow DMA
 * mask (QEMU's edu: 28 bits) reaches pages above it only through an IOMMU
 * or swiotlb bounce buffers; with neither, dma-direct would WARN and fail
 * the mapping.  Refuse it cleanly instead.
 */
static bool zcbuf_dmabuf_reachable(struct zcbuf_buffer *buf,
				   struct device *dev)
{
	u64 limit = dma_get_mask(dev);
	unsigned int i;

	/* A bounce pool shows as a limit on the mapping size. */
	if (!dma_addressing_limited(dev) || device_iommu_mapped(dev) ||
	    dma_max_mapping_size(dev) != SIZE_MAX)
		return true;
	if (dev->bus_dma_limit)
		limit = min(limit, dev->bus_dma_limit);
	for (i = 0; i < buf->npages; i++)
		if (phys_to_dma(dev, page_to_phys(buf->pages[i])) +
		    PAGE_SIZE - 1 > limit)
			return false;
	return true;
}

/*
 * A read-only DMA-buf (its file lacks FMODE_WRITE) is read-only for
 * devices and kernel mappings too, not only for mmap() of its own fd.
 */
static bool zcbuf_dmabuf_writable(const struct dma_buf *dmabuf)
{
	return dmabuf->file->f_mode & FMODE_WRITE;
}

/**
 * zcbuf_buffer_readonly_export() - whether a DMA-buf is a read-only export
 *	of a zcbuf buffer
 * @dmabuf: any DMA-buf
 *
 * Such a DMA-buf maps for devices DMA_TO_DEVICE only.
 */
bool zcbuf_buffer_readonly_export(const struct dma_buf *dmabuf)
{
	return dmabuf->ops == &zcbuf_dmabuf_ro_ops;
}

static struct sg_table *zcbuf_dmabuf_map(struct dma_buf_attachment *attachment,
					 enum dma_data_direction dir)
{
	struct zcbuf_export *exp = attachment->dmabuf->priv;
	struct zcbuf_attachment *a = attachment->priv;
	struct zcbuf_buffer *buf = exp->buf;
	int ret;

	if (!zcbuf_dmabuf_reachable(buf, a->dev))
		return ERR_PTR(-ERANGE);

	/* A device may only read through a read-only export. */
	if (dir != DMA_TO_DEVICE && !zcbuf_dmabuf_writable(attachment->dmabuf))
		return ERR_PTR(-EACCES);

	mutex_lock(&buf->lock);
	/* Strict mode: the device that owns it is the only one. */
	if (buf->cpu_revoked || zcbuf_dmabuf_overlaps(buf, a, dir)) {
		mutex_unlock(&buf->lock);
		return ERR_PTR(-EBUSY);
	}
	a->dir = dir;
	a->claimed = true;
	mutex_unlock(&buf->lock);

	ret = zcbuf_map_chunks(a, dir);

	mutex_lock(&buf->lock);
	if (ret)
		a->claimed = false;
	else
		a->mapped = true;
	mutex_unlock(&buf->lock);
	return ret ? ERR_PTR(ret) : &a->sgt;
}

static void zcbuf_dmabuf_unmap(struct dma_buf_attachment *attachment,
			       struct sg_table *sgt,
			       enum dma_data_direction dir)
{
	struct zcbuf_export *exp = attachment->dmabuf->priv;
	struct zcbuf_attachment *a = attachment->priv;

	mutex_lock(&exp->buf->lock);
	a->mapped = false;
	mutex_unlock(&exp->buf->lock);

	zcbuf_unmap_chunks(a, sgt->orig_nents, dir);

	mutex_lock(&exp->buf->lock);
	a->claimed = false;
	mutex_unlock(&exp->buf->lock);
}

/**
 * zcbuf_buffer_wait_device() - wait until no device is working on a buffer
 * @resv: the buffer's reservation object
 * @dir: what the CPU is about to do: reading waits for the device's writes,
 *	 writing for all of its accesses
 *
 * Return: 0, or -ERESTARTSYS when a signal came first.
 */
int zcbuf_buffer_wait_device(struct dma_resv *resv,
			     enum dma_data_direction dir)
{
	long ret;

	ret = dma_resv_wait_timeout(resv,
				    dma_resv_usage_rw(dir != DMA_FROM_DEVICE),
				    true, MAX_SCHEDULE_TIMEOUT);
	return ret < 0 ? ret : 0;
}

static int zcbuf_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					 enum dma_data_direction dir)
{
	struct zcbuf_export *exp = dmabuf->priv;
	int ret;

	/*
	 * The core waits for fences only after this returns; syncing first
	 * would copy in a frame the device has not finished.
	 */
	ret = zcbuf_buffer_wait_device(dmabuf->resv, dir);
	if (ret)
		return ret;
	zcbuf_buffer_sync_range(exp->buf, 0, exp->buf->size, true);
	return 0;
}

static int zcbuf_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
				       enum dma_data_direction dir)
{
	struct zcbuf_export *exp = dmabuf->priv;

	zcbuf_buffer_sync_range(exp->buf, 0, exp->buf->size, false);
	return 0;
}

static vm_fault_t zcbuf_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct zcbuf_export *exp = vma->vm_private_data;
	struct zcbuf_buffer *buf = exp->buf;
	unsigned long num = vma_pages(vma);
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int err;

	if (vmf->pgoff >= buf->npages)
		return VM_FAULT_SIGBUS;

	/* Under buf->lock, so that a revoke either sees our PTEs or we see it. */
	mutex_lock(&buf->lock);
	if (buf->cpu_revoked) {
		ret = VM_FAULT_SIGBUS;
		goto unlock;
	}

	/*
	 * Map the whole VMA at once: one fault per mapping (and per revoke),
	 * not one per page.  This stops at the first page already present;
	 * the faulting page is then inserted alone (-EBUSY: already there).
	 */
	if (vma->vm_pgoff < buf->npages && num <= buf->npages - vma->vm_pgoff)
		vm_insert_pages(vma, vma->vm_start, buf->pages + vma->vm_pgoff,
				&num);
	err = vm_insert_page(vma, vmf->address, buf->pages[vmf->pgoff]);
	if (err && err != -EBUSY)
		ret = vmf_error(err);
unlock:
	mutex_unlock(&buf->lock);
	return ret;
}

static const struct vm_operations_struct zcbuf_vm_ops = {
	.fault = zcbuf_vm_fault,
};

static int zcbuf_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct zcbuf_export *exp = dmabuf->priv;

	/*
	 * A private mapping would copy on write and silently stop sharing.
	 * (VM_MAYSHARE: a read-only MAP_SHARED mapping has no VM_SHARED.)
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/*
	 * Read-only also when an importer maps it through dma_buf_mmap()
	 * from a file of its own that is writable.
	 */
	if (!zcbuf_dmabuf_writable(dmabuf)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vm_flags_clear(vma, VM_MAYWRITE);
	}

	/*
	 * MIXEDMAP, not PFNMAP: real pages that get_user_pages can take.  No
	 * ->page_mkwrite either: write-notify would make the mapping refuse
	 * FOLL_LONGTERM pins (io_uring fixed buffers).  Pages are inserted at
	 * the first fault, once the VMA is visible to a revoke.
	 */
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &zcbuf_vm_ops;
	vma->vm_private_data = exp;
	return 0;
}

static int zcbuf_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct zcbuf_export *exp = dmabuf->priv;
	struct zcbuf_buffer *buf = exp->buf;
	int ret = 0;

	mutex_lock(&buf->lock);
	if (!buf->vmap_count) {
		buf->vaddr = vmap(buf->pages, buf->npages, VM_MAP, PAGE_KERNEL);
		if (!buf->vaddr) {
			ret = -ENOMEM;
			goto unlock;
		}
	}
	buf->vmap_count++;
	iosys_map_set_vaddr(map, buf->vaddr);
unlock:
	mutex_unlock(&buf->lock);
	return ret;
}

static void zcbuf_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct zcbuf_export *exp = dmabuf->priv;
	struct zcbuf_buffer *buf = exp->buf;

	mutex_lock(&buf->lock);
	if (!WARN_ON(!buf->vmap_count) && !--buf->vmap_count) {
		vunmap(buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->lock);
	iosys_map_clear(map);
}

static void zcbuf_dmabuf_release(struct dma_buf *dmabuf)
{
	struct zcbuf_export *exp = dmabuf->priv;
	struct zcbuf_buffer *buf = exp->buf;

	mutex_lock(&buf->lock);
	list_del(&exp->node);
	mutex_unlock(&buf->lock);

	kfree(exp);
	zcbuf_buffer_put(buf);
}

/*
 * A read-only export has no ->vmap: the importer's kernel mapping would be
 * writable, and nothing says whether it only reads (vb2-vmalloc writes
 * captured frames through it).  dma_buf_vmap() then fails with EINVAL (an
 * exporter's ->vmap may not fail: the core warns).
 */
static const struct dma_buf_ops zcbuf_dmabuf_ro_ops = {
	.attach = zcbuf_dmabuf_attach,
	.detach = zcbuf_dmabuf_detach,
	.map_dma_buf = zcbuf_dmabuf_map,
	.unmap_dma_buf = zcbuf_dmabuf_unmap,
	.begin_cpu_access = zcbuf_dmabuf_begin_cpu_access,
	.end_cpu_access = zcbuf_dmabuf_end_cpu_access,
	.mmap = zcbuf_dmabuf_mmap,
	.release = zcbuf_dmabuf_release,
};

static const struct dma_buf_ops zcbuf_dmabuf_ops = {
	.attach = zcbuf_dmabuf_attach,
	.detach = zcbuf_dmabuf_detach,
	.map_dma_buf = zcbuf_dmabuf_map,
	.unmap_dma_buf = zcbuf_dmabuf_unmap,
	.begin_cpu_access = zcbuf_dmabuf_begin_cpu_access,
	.end_cpu_access = zcbuf_dmabuf_end_cpu_access,
	.mmap = zcbuf_dmabuf_mmap,
	.vmap = zcbuf_dmabuf_vmap,
	.vunmap = zcbuf_dmabuf_vunmap,
	.release = zcbuf_dmabuf_release,
};

/**
 * zcbuf_buffer_export() - make a new DMA-buf of a buffer
 * @buf: the buffer
 * @flags: O_RDWR or O_RDONLY: the access of the DMA-buf's file
 *
 * The DMA-buf takes its own reference on @buf and shares its reservation
 * object.  From here on it is freed by dma_buf_put() only.
 *
 * Return: the DMA-buf or an ERR_PTR().
 */
struct dma_buf *zcbuf_buffer_export(struct zcbuf_buffer *buf, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct zcbuf_export *exp;
	struct dma_buf *dmabuf;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		return ERR_PTR(-ENOMEM);
	exp->buf = buf;

	exp_info.ops = (flags & O_ACCMODE) == O_RDONLY ? &zcbuf_dmabuf_ro_ops :
		       &zcbuf_dmabuf_ops;
	exp_info.size = buf->size;
	exp_info.flags = flags;
	exp_info.priv = exp;
	exp_info.resv = &buf->resv;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		kfree(exp);
		return dmabuf;
	}

	exp->dmabuf = dmabuf;
	kref_get(&buf->kref);
	mutex_lock(&buf->lock);
	list_add(&exp->node, &buf->exports);
	mutex_unlock(&buf->lock);
	return dmabuf;
}

MODULE_IMPORT_NS(ZCBUF_NS(DMA_BUF));
