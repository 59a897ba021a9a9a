/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between the kernels zcbuf supports
 * (6.1 to 7.x), kept in one place.  An out-of-tree module has to compare
 * LINUX_VERSION_CODE here (checkpatch warns; none of these has a config
 * symbol to test instead); in-tree, this file would go.
 */
#ifndef _ZCBUF_COMPAT_H
#define _ZCBUF_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/version.h>

/*
 * 6.13 made symbol namespaces string literals (MODULE_IMPORT_NS("DMA_BUF"));
 * before, they were bare tokens that the macros stringify.  Both kinds of
 * macro stringify their argument after expansion, so ZCBUF_NS(DMA_BUF)
 * works for MODULE_IMPORT_NS() and EXPORT_SYMBOL_NS_GPL() on every kernel.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define ZCBUF_NS(ns)		#ns
#else
#define ZCBUF_NS(ns)		ns
#endif

/* 6.8 renamed MAX_ORDER (one past the largest order) to MAX_PAGE_ORDER. */
#ifdef MAX_PAGE_ORDER
#define ZCBUF_MAX_ORDER		MAX_PAGE_ORDER
#else
#define ZCBUF_MAX_ORDER		(MAX_ORDER - 1)
#endif

/* 6.8 dropped eventfd_signal()'s count argument. */
static inline void zcbuf_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* 6.3 made vm_flags read-only and added helpers to change it. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * 6.2 moved dma_buf_vmap() under the reservation lock, with an _unlocked
 * variant for callers that do not hold it.
 */
static inline int zcbuf_dma_buf_vmap(struct dma_buf *dmabuf,
				     struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void zcbuf_dma_buf_vunmap(struct dma_buf *dmabuf,
					struct iosys_map *map)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * Premapped virtqueues: the driver hands virtio the DMA addresses it mapped
 * itself (here, those of the device's DMA-buf attachment).  6.12 switches a
 * whole virtqueue with virtqueue_set_dma_premapped(), then plain
 * virtqueue_add_*buf() take sg_dma_address(); later kernels (7.3's headers
 * have them; the change came with 6.14) dropped that for per-call
 * virtqueue_add_inbuf_premapped()/_outbuf_premapped().  6.1 has neither:
 * ZCBUF_HAVE_VIRTQUEUE_PREMAPPED stays undefined there.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/virtio.h>

#define ZCBUF_HAVE_VIRTQUEUE_PREMAPPED	1

static inline int zcbuf_virtqueue_set_premapped(struct virtqueue *vq)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	return virtqueue_set_dma_premapped(vq);
#else
	return 0;
#endif
}

static inline int zcbuf_virtqueue_add_inbuf(struct virtqueue *vq,
					    struct scatterlist *sg,
					    unsigned int num, void *data,
					    gfp_t gfp)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	return virtqueue_add_inbuf(vq, sg, num, data, gfp);
#else
	return virtqueue_add_inbuf_premapped(vq, sg, num, data, NULL, gfp);
#endif
}

static inline int zcbuf_virtqueue_add_outbuf(struct virtqueue *vq,
					     struct scatterlist *sg,
					     unsigned int num, void *data,
					     gfp_t gfp)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	return virtqueue_add_outbuf(vq, sg, num, data, gfp);
#else
	return virtqueue_add_outbuf_premapped(vq, sg, num, data, gfp);
#endif
}
#endif

#endif /* _ZCBUF_COMPAT_H */
