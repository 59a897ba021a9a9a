/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf fences: "the device is still working on this buffer", in the
 * buffer's reservation object, for importers that synchronise implicitly.
 */
#ifndef _ZCBUF_FENCE_H
#define _ZCBUF_FENCE_H

#include <linux/dma-buf.h>
#include <linux/types.h>

struct dma_fence;
struct workqueue_struct;

extern struct workqueue_struct *zcbuf_fence_wq;

struct dma_fence *zcbuf_fence_create(u64 context, u64 seqno);
int zcbuf_fence_attach(struct dma_buf *dmabuf, struct dma_fence *fence,
		       bool device_writes);
int zcbuf_fence_signal(struct dma_fence *fence, int error);
void zcbuf_fence_expire(struct dma_fence *fence);
void zcbuf_fence_purge(struct dma_buf *dmabuf, u64 context);
int zcbuf_fence_init(void);
void zcbuf_fence_exit(void);

#endif /* _ZCBUF_FENCE_H */
