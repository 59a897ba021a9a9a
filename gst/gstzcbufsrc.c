/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-zcbufsrc
 * @title: zcbufsrc
 *
 * A live source of frames from a zcbuf camera.  Every buffer it pushes is a
 * zcbuf buffer the device wrote by DMA, wrapped as a #GstDmaBufMemory: no
 * copy is made, and elements that import DMA-bufs (v4l2convert
 * output-io-mode=dmabuf-import, encoders, display sinks) get the device's
 * memory itself.  When downstream drops a buffer it goes back to the device.
 *
 * Software elements that map a buffer get the DMA-buf synchronisation of
 * #GstDmaBufAllocator (DMA_BUF_IOCTL_SYNC around each mapping), so they see
 * what the device wrote even when its DMA goes through bounce buffers.
 *
 * Timestamps are the device's completion times; buffer offsets are its
 * frame sequence numbers, and a gap in them (frames the device dropped
 * because every buffer was downstream) marks the next buffer DISCONT,
 * counts in #GstZcbufSrc:dropped and posts a QoS message.
 *
 * |[
 * gst-launch-1.0 zcbufsrc num-buffers=10 ! video/x-raw,format=RGB,width=320,height=240 ! \
 *     pngenc ! multifilesink location=frame-%02d.png
 * ]|
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gst/video/video.h>
#include <gst/allocators/allocators.h>

#include <zcbuf/libzcbuf.h>

#include "gstzcbufsrc.h"
#include "gstzcbufpool.h"

GST_DEBUG_CATEGORY (gst_zcbuf_debug);
#define GST_CAT_DEFAULT gst_zcbuf_debug

#define DEFAULT_POOL_SIZE	4
#define MIN_POOL_SIZE		2
#define MAX_POOL_SIZE		64
#define DEFAULT_WIDTH		320
#define DEFAULT_HEIGHT		240
#define DEFAULT_FORMAT		GST_VIDEO_FORMAT_YUY2
#define DEFAULT_FPS_N		30
#define DEFAULT_FPS_D		1
#define MIN_DIM			16
#define MAX_DIM			8192
#define MAX_FPS			1000

enum
{
  PROP_0,
  PROP_DEVICE,
  PROP_POOL_SIZE,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FORMAT,
  PROP_FRAMERATE,
  PROP_USE_RINGS,
  PROP_POST_MESSAGES,
  PROP_FRAMES,
  PROP_DROPPED,
};

struct _GstZcbufSrc
{
  GstPushSrc parent;

  /* Properties, under the object lock. */
  gchar *device;
  guint pool_size;
  gint width, height;
  GstVideoFormat format;
  gint fps_n, fps_d;
  gboolean use_rings;
  gboolean post_messages;

  /* The device, found in start(). */
  gchar *node;			/* the /dev/zcbuf node */
  guint device_id;		/* zcbuf_config.device; 0: the default */
  struct zcbuf_device_desc desc;	/* when named: what it can do */
  gboolean have_desc;

  /* Negotiated; streaming thread (pool also under the object lock). */
  GstVideoInfo info;
  GstClockTime duration;
  GstZcbufPool *pool;

  /* Streaming thread; frames and dropped also under the object lock. */
  GstZcbufPool *seq_pool;	/* the pool whose sequence next_seq follows */
  guint64 next_seq;		/* the device sequence expected next */
  guint64 offset_base;		/* buffer offset of sequence 0 of seq_pool */
  GstClockTime last_pts;	/* of the last buffer pushed */
  guint64 frames;
  guint64 dropped;
};

#define ZCBUF_FORMATS "{ YUY2, RGB }"
#define ZCBUF_RANGES \
  ", width = (int) [ 16, 8192 ], height = (int) [ 16, 8192 ], " \
  "framerate = (fraction) [ 0/1, 1000/1 ]"

/*
 * The same frames either way: with the DMABuf feature for elements that
 * only want DMA-bufs, and as plain system memory (which they also are,
 * mappable) for everyone else.
 */
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw(" GST_CAPS_FEATURE_MEMORY_DMABUF "), "
        "format = (string) " ZCBUF_FORMATS ZCBUF_RANGES "; "
        "video/x-raw, format = (string) " ZCBUF_FORMATS ZCBUF_RANGES));

#define gst_zcbuf_src_parent_class parent_class
G_DEFINE_TYPE (GstZcbufSrc, gst_zcbuf_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (zcbufsrc, "zcbufsrc", GST_RANK_NONE,
    GST_TYPE_ZCBUF_SRC);

void
gst_zcbuf_src_post_errno (GstElement * element, int err, const gchar * device,
    const gchar * what)
{
  const gchar *why;

  err = ABS (err);
  why = g_strerror (err);
  switch (err) {
    case ENOENT:
    case ENXIO:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          ("zcbuf device '%s' does not exist.", device),
          ("%s: %s", what, why));
      break;
    case ENODEV:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          ("zcbuf device '%s' went away.", device), ("%s: %s", what, why));
      break;
    case ENOTTY:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          ("'%s' is not a zcbuf device.", device), ("%s: %s", what, why));
      break;
    case EBUSY:
      GST_ELEMENT_ERROR (element, RESOURCE, BUSY,
          ("zcbuf device '%s' is busy.", device), ("%s: %s", what, why));
      break;
    case EACCES:
    case EPERM:
      GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ_WRITE,
          ("No permission to use zcbuf device '%s'.", device),
          ("%s: %s", what, why));
      break;
    case ENOMEM:
    case ENOSPC:
      GST_ELEMENT_ERROR (element, RESOURCE, NO_SPACE_LEFT,
          ("zcbuf device '%s' could not %s: out of memory.", device, what),
          ("%s", why));
      break;
    case EINVAL:
    case ERANGE:
    case E2BIG:
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("zcbuf device '%s' refused to %s.", device, what),
          ("%s", why));
      break;
    default:
      GST_ELEMENT_ERROR (element, RESOURCE, FAILED,
          ("zcbuf device '%s' failed to %s: %s.", device, what, why),
          ("errno %d", err));
      break;
  }
}

static guint
fps_of (gint n, gint d)
{
  if (n <= 0 || d <= 0)
    return 0;
  return CLAMP ((n + d / 2) / d, 1, MAX_FPS);
}

/*
 * The device property: a path ("/dev/zcbuf": that node's default device),
 * or the name or id of a registered device on /dev/zcbuf (issue 12's
 * listing: zcbuf_find_device()).
 */
static gboolean
find_device (GstZcbufSrc * src, int fd, const gchar * device,
    const struct zcbuf_info *zinfo)
{
  int ret;

  src->device_id = 0;
  src->have_desc = FALSE;
  if (device[0] == '/' || !device[0])
    return TRUE;
  if (!(zinfo->caps & ZCBUF_CAP_DEVICES)) {
    GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS,
        ("zcbuf %u.%u cannot pick devices by name: use device=%s.",
            zinfo->version >> 16, zinfo->version & 0xffff,
            ZCBUF_DEFAULT_PATH), (NULL));
    return FALSE;
  }
  ret = zcbuf_find_device (fd, device, &src->desc);
  if (ret < 0) {
    /* No such device: "does not exist", not "went away". */
    gst_zcbuf_src_post_errno (GST_ELEMENT (src), ret == -ENODEV ? -ENOENT :
        ret, device, "find the device");
    return FALSE;
  }
  if (!(src->desc.kinds & ZCBUF_KIND_CAMERA)) {
    GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS,
        ("zcbuf device '%s' is not a camera.", device), (NULL));
    return FALSE;
  }
  src->device_id = ret;
  src->have_desc = TRUE;
  GST_DEBUG_OBJECT (src, "device '%s': id %d, %ux%u to %ux%u", device, ret,
      src->desc.min_width, src->desc.min_height, src->desc.max_width,
      src->desc.max_height);
  return TRUE;
}

static gboolean
gst_zcbuf_src_start (GstBaseSrc * bsrc)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  struct zcbuf_info zinfo;
  gchar *device;
  guint pool_size;
  int fd, ret;

  GST_OBJECT_LOCK (src);
  device = g_strdup (src->device);
  pool_size = src->pool_size;
  GST_OBJECT_UNLOCK (src);
  g_free (src->node);
  src->node = g_strdup (device[0] == '/' ? device : ZCBUF_DEFAULT_PATH);

  /* Fail here, in READY->PAUSED, for a device that cannot work. */
  fd = zcbuf_open (src->node, O_CLOEXEC);
  if (fd < 0) {
    gst_zcbuf_src_post_errno (GST_ELEMENT (src), fd, src->node, "open");
    goto fail;
  }
  ret = zcbuf_get_info (fd, &zinfo);
  if (ret) {
    zcbuf_close (fd);
    gst_zcbuf_src_post_errno (GST_ELEMENT (src), ret, src->node, "query");
    goto fail;
  }
  if (!find_device (src, fd, device, &zinfo)) {
    zcbuf_close (fd);
    goto fail;
  }
  zcbuf_close (fd);
  if ((zinfo.version >> 16) != ZCBUF_API_VERSION_MAJOR) {
    GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS,
        ("zcbuf device '%s' speaks ABI %u.%u, this plugin %u.%u.", device,
            zinfo.version >> 16, zinfo.version & 0xffff,
            ZCBUF_API_VERSION_MAJOR, ZCBUF_API_VERSION_MINOR), (NULL));
    goto fail;
  }
  if (!(zinfo.caps & ZCBUF_CAP_CAMERA)) {
    GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS,
        ("zcbuf device '%s' has no camera.", device), (NULL));
    goto fail;
  }
  if (pool_size > zinfo.max_buffers) {
    GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS,
        ("pool-size %u: zcbuf device '%s' allows at most %u buffers.",
            pool_size, device, zinfo.max_buffers), (NULL));
    goto fail;
  }
  src->seq_pool = NULL;
  src->next_seq = 0;
  src->offset_base = 0;
  src->last_pts = GST_CLOCK_TIME_NONE;
  GST_OBJECT_LOCK (src);
  src->frames = 0;
  src->dropped = 0;
  GST_OBJECT_UNLOCK (src);
  g_free (device);
  return TRUE;

fail:
  g_free (device);
  return FALSE;
}

static gboolean
gst_zcbuf_src_stop (GstBaseSrc * bsrc)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  GstZcbufPool *pool;

  /*
   * GstBaseSrc deactivates the pool; it stops streaming and closes its
   * context once downstream has given back every buffer.
   */
  GST_OBJECT_LOCK (src);
  pool = src->pool;
  src->pool = NULL;
  GST_OBJECT_UNLOCK (src);
  src->seq_pool = NULL;
  if (pool)
    gst_object_unref (pool);
  return TRUE;
}

/* What a named device says it makes, in both memory flavours. */
static GstCaps *
caps_of_device (const struct zcbuf_device_desc *d)
{
  GstCaps *caps = gst_caps_new_empty ();
  GValue formats = G_VALUE_INIT, v = G_VALUE_INIT;
  GstStructure *s;
  guint i;

  g_value_init (&formats, GST_TYPE_LIST);
  g_value_init (&v, G_TYPE_STRING);
  for (i = 0; i < ZCBUF_DEVICE_MAX_FORMATS; i++) {
    if (d->formats[i] == ZCBUF_FMT_YUYV)
      g_value_set_static_string (&v, "YUY2");
    else if (d->formats[i] == ZCBUF_FMT_RGB24)
      g_value_set_static_string (&v, "RGB");
    else
      continue;
    gst_value_list_append_value (&formats, &v);
  }
  s = gst_structure_new ("video/x-raw",
      "width", GST_TYPE_INT_RANGE, MAX (MIN_DIM, (gint) d->min_width),
      MIN (MAX_DIM, (gint) d->max_width),
      "height", GST_TYPE_INT_RANGE, MAX (MIN_DIM, (gint) d->min_height),
      MIN (MAX_DIM, (gint) d->max_height),
      "framerate", GST_TYPE_FRACTION_RANGE, 0, 1, MAX_FPS, 1, NULL);
  gst_structure_set_value (s, "format", &formats);
  gst_caps_append_structure_full (caps, gst_structure_copy (s),
      gst_caps_features_new (GST_CAPS_FEATURE_MEMORY_DMABUF, NULL));
  gst_caps_append_structure (caps, s);
  g_value_unset (&v);
  g_value_unset (&formats);
  return caps;
}

static GstCaps *
gst_zcbuf_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  GstCaps *caps;

  caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));
  if (src->have_desc) {
    GstCaps *dev = caps_of_device (&src->desc), *tmpl = caps;

    caps = gst_caps_intersect (dev, tmpl);
    gst_caps_unref (dev);
    gst_caps_unref (tmpl);
  }

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* What caps leave open comes from the properties. */
static GstCaps *
gst_zcbuf_src_fixate (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  gint width, height, fps_n, fps_d;
  const gchar *format;
  guint i;

  GST_OBJECT_LOCK (src);
  width = src->width;
  height = src->height;
  fps_n = src->fps_n;
  fps_d = src->fps_d;
  format = gst_video_format_to_string (src->format);
  GST_OBJECT_UNLOCK (src);

  caps = gst_caps_make_writable (caps);
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_caps_get_structure (caps, i);

    gst_structure_fixate_field_string (s, "format", format);
    gst_structure_fixate_field_nearest_int (s, "width", width);
    gst_structure_fixate_field_nearest_int (s, "height", height);
    gst_structure_fixate_field_nearest_fraction (s, "framerate", fps_n, fps_d);
  }
  return GST_BASE_SRC_CLASS (parent_class)->fixate (bsrc, caps);
}

static gboolean
gst_zcbuf_src_set_caps (GstBaseSrc * bsrc, GstCaps * caps)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (src, CORE, NEGOTIATION, (NULL),
        ("not video caps: %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (GST_VIDEO_INFO_WIDTH (&info) % 2) {
    GST_ELEMENT_ERROR (src, CORE, NEGOTIATION,
        ("The zcbuf camera makes only even widths, not %d.",
            GST_VIDEO_INFO_WIDTH (&info)), (NULL));
    return FALSE;
  }
  src->info = info;
  if (GST_VIDEO_INFO_FPS_N (&info) > 0)
    src->duration = gst_util_uint64_scale_int (GST_SECOND,
        GST_VIDEO_INFO_FPS_D (&info), GST_VIDEO_INFO_FPS_N (&info));
  else
    src->duration = GST_CLOCK_TIME_NONE;
  GST_DEBUG_OBJECT (src, "caps %" GST_PTR_FORMAT, caps);
  return TRUE;
}

/* Our own pool, always: its buffers are the device's. */
static gboolean
gst_zcbuf_src_decide_allocation (GstBaseSrc * bsrc, GstQuery * query)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  const GstVideoInfo *info = &src->info;
  GstZcbufPool *pool, *old;
  GstStructure *config;
  GstCaps *caps;
  gchar *device;
  guint count;
  gboolean use_rings;
  gsize size;

  gst_query_parse_allocation (query, &caps, NULL);

  /*
   * Lines are width * pixel size, unpadded; GstVideoInfo's default stride
   * rounds RGB lines up to 4 bytes.  An element that ignores GstVideoMeta
   * would read such frames skewed: refuse rather than show garbage.
   */
  if (!gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL) &&
      GST_VIDEO_INFO_PLANE_STRIDE (info, 0) !=
      GST_VIDEO_INFO_WIDTH (info) * GST_VIDEO_INFO_COMP_PSTRIDE (info, 0)) {
    GST_ELEMENT_ERROR (src, CORE, NEGOTIATION,
        ("Downstream does not take GstVideoMeta, and %d-pixel %s lines "
            "are not padded to 4 bytes: use a width that is a multiple "
            "of 4.", GST_VIDEO_INFO_WIDTH (info),
            GST_VIDEO_INFO_NAME (info)), (NULL));
    return FALSE;
  }

  GST_OBJECT_LOCK (src);
  device = g_strdup (src->device);
  count = src->pool_size;
  use_rings = src->use_rings;
  GST_OBJECT_UNLOCK (src);

  pool = gst_zcbuf_pool_new (GST_ELEMENT (src), src->node, src->device_id,
      device, info,
      fps_of (GST_VIDEO_INFO_FPS_N (info), GST_VIDEO_INFO_FPS_D (info)),
      count, use_rings);
  g_free (device);
  if (!pool)
    return FALSE;
  size = gst_zcbuf_pool_frame_size (pool);

  config = gst_buffer_pool_get_config (GST_BUFFER_POOL (pool));
  gst_buffer_pool_config_set_params (config, caps, size, count, count);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config (GST_BUFFER_POOL (pool), config)) {
    GST_ELEMENT_ERROR (src, RESOURCE, SETTINGS, (NULL),
        ("the buffer pool refused its configuration"));
    gst_object_unref (pool);
    return FALSE;
  }

  if (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_set_nth_allocation_pool (query, 0, GST_BUFFER_POOL (pool),
        size, count, count);
  else
    gst_query_add_allocation_pool (query, GST_BUFFER_POOL (pool), size,
        count, count);

  GST_OBJECT_LOCK (src);
  old = src->pool;
  src->pool = pool;
  GST_OBJECT_UNLOCK (src);
  if (old)
    gst_object_unref (old);
  return TRUE;
}

static gboolean
gst_zcbuf_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (bsrc);
  GstClockTime min, max;
  guint count;

  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY ||
      !GST_VIDEO_INFO_FORMAT (&src->info))
    return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);

  /* A frame is complete one frame time after it started; we hold pool-size. */
  GST_OBJECT_LOCK (src);
  count = src->pool_size;
  GST_OBJECT_UNLOCK (src);
  if (GST_CLOCK_TIME_IS_VALID (src->duration)) {
    min = src->duration;
    max = src->duration * count;
  } else {
    min = 0;
    max = GST_CLOCK_TIME_NONE;
  }
  gst_query_set_latency (query, TRUE, min, max);
  return TRUE;
}

static GstZcbufPool *
get_pool (GstZcbufSrc * src)
{
  GstZcbufPool *pool;

  GST_OBJECT_LOCK (src);
  pool = src->pool ? gst_object_ref (src->pool) : NULL;
  GST_OBJECT_UNLOCK (src);
  return pool;
}

static gboolean
gst_zcbuf_src_unlock (GstBaseSrc * bsrc)
{
  GstZcbufPool *pool = get_pool (GST_ZCBUF_SRC (bsrc));

  if (pool) {
    gst_zcbuf_pool_set_interrupted (pool, TRUE);
    gst_object_unref (pool);
  }
  return TRUE;
}

static gboolean
gst_zcbuf_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstZcbufPool *pool = get_pool (GST_ZCBUF_SRC (bsrc));

  if (pool) {
    gst_zcbuf_pool_set_interrupted (pool, FALSE);
    gst_object_unref (pool);
  }
  return TRUE;
}

/*
 * The device's CLOCK_MONOTONIC completion time, on the pipeline's clock:
 * now on that clock, minus how long ago the device finished.
 */
static GstClockTime
frame_pts (GstZcbufSrc * src, guint64 device_ns)
{
  GstClock *clock;
  GstClockTime base_time, now, ts, delay = 0;
  struct timespec mono;

  GST_OBJECT_LOCK (src);
  clock = GST_ELEMENT_CLOCK (src);
  if (clock)
    gst_object_ref (clock);
  base_time = GST_ELEMENT_CAST (src)->base_time;
  GST_OBJECT_UNLOCK (src);
  if (!clock)
    return GST_CLOCK_TIME_NONE;

  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  clock_gettime (CLOCK_MONOTONIC, &mono);
  if ((guint64) GST_TIMESPEC_TO_TIME (mono) > device_ns)
    delay = GST_TIMESPEC_TO_TIME (mono) - device_ns;
  ts = now > delay ? now - delay : 0;
  return ts > base_time ? ts - base_time : 0;
}

static GstFlowReturn
gst_zcbuf_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (psrc);
  const struct zcbuf_cqe *frame;
  GstZcbufPool *pool;
  GstFlowReturn ret;
  GstBuffer *buffer;
  GstClockTime pts;
  guint64 lost = 0;

  pool = get_pool (src);
  if (!pool)
    return GST_FLOW_NOT_NEGOTIATED;
  ret = gst_buffer_pool_acquire_buffer (GST_BUFFER_POOL (pool), &buffer, NULL);
  if (ret != GST_FLOW_OK) {
    gst_object_unref (pool);
    return ret;
  }
  frame = gst_zcbuf_pool_last_frame (pool);

  /* Each pool is one STREAMON: its sequence starts at 0. */
  if (src->seq_pool != pool) {
    src->offset_base += src->next_seq;
    src->next_seq = 0;
    src->seq_pool = pool;
  }
  /*
   * A frame the device finished while the pipeline was PAUSED has a time
   * before the running time went on: it is late, not earlier than the
   * frames before it.
   */
  pts = frame_pts (src, frame->timestamp_ns);
  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (src->last_pts)
      && pts < src->last_pts)
    pts = src->last_pts;
  src->last_pts = pts;
  if (frame->sequence > src->next_seq) {
    lost = frame->sequence - src->next_seq;
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    GST_DEBUG_OBJECT (src, "lost %" G_GUINT64_FORMAT " frames before %"
        G_GUINT64_FORMAT, lost, (guint64) frame->sequence);
    gst_element_post_message (GST_ELEMENT (src),
        gst_message_new_qos (GST_OBJECT (src), TRUE, GST_CLOCK_TIME_NONE,
            GST_CLOCK_TIME_NONE, pts, GST_CLOCK_TIME_IS_VALID (src->duration) ?
            lost * src->duration : GST_CLOCK_TIME_NONE));
  }
  src->next_seq = frame->sequence + 1;

  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = src->duration;
  GST_BUFFER_OFFSET (buffer) = src->offset_base + frame->sequence;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET (buffer) + 1;
  GST_OBJECT_LOCK (src);
  src->frames++;
  src->dropped += lost;
  GST_OBJECT_UNLOCK (src);

  if (src->post_messages) {
    GstMemory *mem = gst_buffer_peek_memory (buffer, 0);

    gst_element_post_message (GST_ELEMENT (src),
        gst_message_new_element (GST_OBJECT (src),
            gst_structure_new ("zcbuf-frame",
                "sequence", G_TYPE_UINT64, (guint64) frame->sequence,
                "offset", G_TYPE_UINT64, GST_BUFFER_OFFSET (buffer),
                "index", G_TYPE_UINT, frame->index,
                "checksum", G_TYPE_UINT, frame->checksum,
                "bytesused", G_TYPE_UINT64, (guint64) frame->bytesused,
                "device-timestamp", G_TYPE_UINT64,
                (guint64) frame->timestamp_ns,
                "pts", G_TYPE_UINT64, (guint64) pts,
                "dmabuf-fd", G_TYPE_INT, gst_dmabuf_memory_get_fd (mem),
                "lost", G_TYPE_UINT64, lost, NULL)));
  }
  gst_object_unref (pool);
  *buf = buffer;
  return GST_FLOW_OK;
}

static void
gst_zcbuf_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (object);

  GST_OBJECT_LOCK (src);
  switch (prop_id) {
    case PROP_DEVICE:
      g_free (src->device);
      src->device = g_value_dup_string (value);
      if (!src->device)
        src->device = g_strdup (ZCBUF_DEFAULT_PATH);
      break;
    case PROP_POOL_SIZE:
      src->pool_size = g_value_get_uint (value);
      break;
    case PROP_WIDTH:
      src->width = g_value_get_int (value);
      break;
    case PROP_HEIGHT:
      src->height = g_value_get_int (value);
      break;
    case PROP_FORMAT:
      src->format = g_value_get_enum (value);
      break;
    case PROP_FRAMERATE:
      src->fps_n = gst_value_get_fraction_numerator (value);
      src->fps_d = gst_value_get_fraction_denominator (value);
      break;
    case PROP_USE_RINGS:
      src->use_rings = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      src->post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (src);
}

static void
gst_zcbuf_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (object);

  GST_OBJECT_LOCK (src);
  switch (prop_id) {
    case PROP_DEVICE:
      g_value_set_string (value, src->device);
      break;
    case PROP_POOL_SIZE:
      g_value_set_uint (value, src->pool_size);
      break;
    case PROP_WIDTH:
      g_value_set_int (value, src->width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, src->height);
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, src->format);
      break;
    case PROP_FRAMERATE:
      gst_value_set_fraction (value, src->fps_n, src->fps_d);
      break;
    case PROP_USE_RINGS:
      g_value_set_boolean (value, src->use_rings);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, src->post_messages);
      break;
    case PROP_FRAMES:
      g_value_set_uint64 (value, src->frames);
      break;
    case PROP_DROPPED:
      g_value_set_uint64 (value, src->dropped);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (src);
}

static void
gst_zcbuf_src_finalize (GObject * object)
{
  GstZcbufSrc *src = GST_ZCBUF_SRC (object);

  g_free (src->device);
  g_free (src->node);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_zcbuf_src_init (GstZcbufSrc * src)
{
  src->device = g_strdup (ZCBUF_DEFAULT_PATH);
  src->pool_size = DEFAULT_POOL_SIZE;
  src->width = DEFAULT_WIDTH;
  src->height = DEFAULT_HEIGHT;
  src->format = DEFAULT_FORMAT;
  src->fps_n = DEFAULT_FPS_N;
  src->fps_d = DEFAULT_FPS_D;
  src->use_rings = TRUE;
  src->duration = GST_CLOCK_TIME_NONE;
  gst_video_info_init (&src->info);

  gst_base_src_set_live (GST_BASE_SRC (src), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (src), GST_FORMAT_TIME);
}

#define GST_TYPE_ZCBUF_FORMAT (gst_zcbuf_format_get_type ())
static GType
gst_zcbuf_format_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    {GST_VIDEO_FORMAT_YUY2, "YUYV 4:2:2 (YUY2)", "YUY2"},
    {GST_VIDEO_FORMAT_RGB, "24-bit RGB (RGB)", "RGB"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstZcbufFormat", values));
  return type;
}

static void
gst_zcbuf_src_class_init (GstZcbufSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_zcbuf_src_set_property;
  gobject_class->get_property = gst_zcbuf_src_get_property;
  gobject_class->finalize = gst_zcbuf_src_finalize;

  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "The zcbuf device: its name or id (zcbuf-capture -l lists them) "
          "on " ZCBUF_DEFAULT_PATH ", or a node path (its default device)",
          ZCBUF_DEFAULT_PATH, rw));
  g_object_class_install_property (gobject_class, PROP_POOL_SIZE,
      g_param_spec_uint ("pool-size", "Pool size",
          "Number of zcbuf buffers shared between the device and downstream "
          "(GstBaseSrc's num-buffers is the number of frames to send)",
          MIN_POOL_SIZE, MAX_POOL_SIZE, DEFAULT_POOL_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_int ("width", "Width",
          "Frame width (even) when the caps leave it open", MIN_DIM, MAX_DIM,
          DEFAULT_WIDTH, rw));
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_int ("height", "Height",
          "Frame height when the caps leave it open", MIN_DIM, MAX_DIM,
          DEFAULT_HEIGHT, rw));
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format",
          "Pixel format when the caps leave it open", GST_TYPE_ZCBUF_FORMAT,
          DEFAULT_FORMAT, rw));
  g_object_class_install_property (gobject_class, PROP_FRAMERATE,
      gst_param_spec_fraction ("framerate", "Frame rate",
          "Frames per second when the caps leave it open (0/1: as fast as "
          "buffers come back)", 0, 1, MAX_FPS, 1, DEFAULT_FPS_N,
          DEFAULT_FPS_D, rw));
  g_object_class_install_property (gobject_class, PROP_USE_RINGS,
      g_param_spec_boolean ("use-rings", "Use rings",
          "Take frames from and return buffers through the shared-memory "
          "rings (no system call per frame) when the device has them; "
          "otherwise DQBUF/QBUF", TRUE, rw));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"zcbuf-frame\" element message per frame with the "
          "device's metadata (sequence, CRC-32 checksum, timestamp)",
          FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_FRAMES,
      g_param_spec_uint64 ("frames", "Frames",
          "Frames pushed since the element started", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped",
          "Frames the device dropped (gaps in its sequence) since the "
          "element started", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "zcbuf camera source", "Source/Video/Hardware",
      "Frames from a zcbuf camera, as DMA-bufs, without a copy",
      "zcbuf project");
  gst_element_class_add_static_pad_template (element_class, &src_template);

  basesrc_class->start = gst_zcbuf_src_start;
  basesrc_class->stop = gst_zcbuf_src_stop;
  basesrc_class->get_caps = gst_zcbuf_src_get_caps;
  basesrc_class->fixate = gst_zcbuf_src_fixate;
  basesrc_class->set_caps = gst_zcbuf_src_set_caps;
  basesrc_class->decide_allocation = gst_zcbuf_src_decide_allocation;
  basesrc_class->query = gst_zcbuf_src_query;
  basesrc_class->unlock = gst_zcbuf_src_unlock;
  basesrc_class->unlock_stop = gst_zcbuf_src_unlock_stop;
  pushsrc_class->create = gst_zcbuf_src_create;

  gst_type_mark_as_plugin_api (GST_TYPE_ZCBUF_FORMAT, 0);
  GST_DEBUG_CATEGORY_INIT (gst_zcbuf_debug, "zcbufsrc", 0, "zcbuf source");
}
