/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf buffers: pinned pages exported as DMA-bufs.
 */
#ifndef _ZCBUF_BUFFER_H
#define _ZCBUF_BUFFER_H

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

/**
 * struct zcbuf_buffer - the memory behind one or more DMA-bufs
 * @kref: one reference per DMA-buf exported from this buffer, plus one for
 *	the creator until its first export; the pages are freed by
 *	zcbuf_buffer_release() only, when the last one goes
 * @size: size in bytes, a multiple of PAGE_SIZE
 * @npages: number of entries in @pages
 * @pages: order-0 pages, zeroed at allocation, each holding one reference
 * @contig: @pages are physically contiguous
 * @resv: reservation object shared by every DMA-buf of this buffer, so that a
 *	fence added through one export is seen through all of them
 * @lock: protects @attachments, @exports, @vaddr, @vmap_count and
 *	@cpu_revoked; held across the insertion of pages into user mappings
 * @attachments: struct zcbuf_attachment of every device attached to any
 *	DMA-buf of this buffer
 * @exports: struct zcbuf_export_node of every live DMA-buf of this buffer
 * @vaddr: kernel mapping while @vmap_count > 0
 * @vmap_count: number of vmap()s outstanding
 * @cpu_revoked: user mappings are zapped and may not fault pages back in
 * @user: the user whose RLIMIT_MEMLOCK the pages are charged to, or NULL
 *	(creator with CAP_IPC_LOCK)
 */
struct zcbuf_buffer {
	struct kref kref;
	size_t size;
	unsigned int npages;
	struct page **pages;
	bool contig;
	struct dma_resv resv;

	struct mutex lock;	/* see @lock above */
	struct list_head attachments;
	struct list_head exports;
	void *vaddr;
	unsigned int vmap_count;
	bool cpu_revoked;
	struct user_struct *user;
};

struct zcbuf_buffer *zcbuf_buffer_create(size_t size, bool contig);
void zcbuf_buffer_put(struct zcbuf_buffer *buf);
struct dma_buf *zcbuf_buffer_export(struct zcbuf_buffer *buf, int flags);
void zcbuf_buffer_sync_range(struct zcbuf_buffer *buf, size_t offset,
			     size_t len, bool for_cpu);
void zcbuf_buffer_sync_sgt(struct device *dev, struct sg_table *sgt,
			   enum dma_data_direction dir, size_t offset,
			   size_t len, bool for_cpu);
int zcbuf_buffer_wait_device(struct dma_resv *resv,
			     enum dma_data_direction dir);
int zcbuf_buffer_revoke_cpu(struct zcbuf_buffer *buf);
void zcbuf_buffer_restore_cpu(struct zcbuf_buffer *buf);
bool zcbuf_buffer_readonly_export(const struct dma_buf *dmabuf);

#endif /* _ZCBUF_BUFFER_H */
