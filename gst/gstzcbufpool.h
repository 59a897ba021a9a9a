/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GstZcbufPool: a buffer pool whose buffers are zcbuf buffers.
 *
 * The pool owns one /dev/zcbuf context with the camera configured for one
 * set of caps.  Each GstBuffer wraps one zcbuf buffer, exported once as a
 * DMA-buf, as a single GstDmaBufMemory: nothing is ever copied.  Acquiring
 * a buffer waits for the device to complete one; releasing it (downstream
 * dropped its last reference) gives it back to the device.
 */
#ifndef __GST_ZCBUF_POOL_H__
#define __GST_ZCBUF_POOL_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include <zcbuf/libzcbuf.h>

G_BEGIN_DECLS

#define GST_TYPE_ZCBUF_POOL (gst_zcbuf_pool_get_type ())
G_DECLARE_FINAL_TYPE (GstZcbufPool, gst_zcbuf_pool, GST, ZCBUF_POOL,
    GstBufferPool)

/*
 * Open the zcbuf @node, configure the camera of device @device_id (0: the
 * node's default) for @info at @fps frames per second
 * (0: as fast as buffers come back), allocate and export @count buffers.
 * Errors are posted on @element's bus (GST_ELEMENT_ERROR), naming the device
 * as @device (what the user gave), and NULL returned.
 * @use_ring: take completions from, and give buffers back through, the
 * shared-memory rings when the module has them.
 */
GstZcbufPool *gst_zcbuf_pool_new (GstElement * element, const gchar * node,
    guint device_id, const gchar * device, const GstVideoInfo * info,
    guint fps, guint count, gboolean use_ring);

/* Bytes per frame (what each buffer holds). */
gsize gst_zcbuf_pool_frame_size (GstZcbufPool * pool);

/* Whether completions and returns go through the rings. */
gboolean gst_zcbuf_pool_uses_ring (GstZcbufPool * pool);

/*
 * The device's metadata of the buffer the last gst_buffer_pool_acquire_buffer()
 * returned.  Only the thread that acquires may call it, right after.
 */
const struct zcbuf_cqe *gst_zcbuf_pool_last_frame (GstZcbufPool * pool);

/* Completions skipped because the device flagged them as failed. */
guint64 gst_zcbuf_pool_errors (GstZcbufPool * pool);

/*
 * Make a blocked (or the next) acquire return GST_FLOW_FLUSHING, or allow
 * acquiring again: GstBaseSrc's unlock() and unlock_stop().
 */
void gst_zcbuf_pool_set_interrupted (GstZcbufPool * pool, gboolean interrupted);

G_END_DECLS

#endif /* __GST_ZCBUF_POOL_H__ */
