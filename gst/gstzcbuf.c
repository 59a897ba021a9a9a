/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zcbuf GStreamer plugin: zcbufsrc.
 */
#include <gst/gst.h>

#include "gstzcbufsrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (zcbufsrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, zcbuf,
    "Zero-copy frames from zcbuf devices, as DMA-bufs", plugin_init,
    VERSION, "LGPL", PACKAGE, GST_PACKAGE_ORIGIN)
