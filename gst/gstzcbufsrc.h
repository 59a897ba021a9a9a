/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcbufsrc: a live source of zcbuf camera frames, handed out as DMA-bufs.
 */
#ifndef __GST_ZCBUF_SRC_H__
#define __GST_ZCBUF_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_ZCBUF_SRC (gst_zcbuf_src_get_type ())
G_DECLARE_FINAL_TYPE (GstZcbufSrc, gst_zcbuf_src, GST, ZCBUF_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (zcbufsrc);

/*
 * Post an error message for the failed operation @what on @device, which
 * failed with errno @err (positive or negative): GST_RESOURCE_ERROR_NOT_FOUND
 * for a missing device, _BUSY, _OPEN_READ_WRITE for permissions,
 * _NO_SPACE_LEFT for memory, _SETTINGS for a configuration it refuses,
 * _READ otherwise.
 */
void gst_zcbuf_src_post_errno (GstElement * element, int err,
    const gchar * device, const gchar * what);

G_END_DECLS

#endif /* __GST_ZCBUF_SRC_H__ */
