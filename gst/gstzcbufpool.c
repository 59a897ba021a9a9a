/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GstZcbufPool: GstBuffers that are zcbuf buffers (see gstzcbufpool.h).
 *
 * Modelled on gst-plugins-good's GstV4l2BufferPool: the pool, not the
 * element, talks to the device.  A buffer is in one of three places:
 *
 *   QUEUED  the device has it (QBUF, or an SQ entry);
 *   OUT     handed out by acquire_buffer(): downstream has it;
 *   FREE    back with the pool while it is not streaming (or flushing).
 *
 * acquire_buffer() waits for a completion (CQ entry, or DQBUF) and hands out
 * the GstBuffer of that zcbuf buffer; release_buffer() runs when downstream
 * dropped the last reference and gives the buffer back to the device.  The
 * base class never sees our buffers in its free queue: start() does not
 * chain up (it would allocate), and nothing is ever pushed there.
 *
 * CPU access needs no code here: GstDmaBufAllocator's map and unmap bracket
 * every gst_buffer_map() with DMA_BUF_IOCTL_SYNC START and END, which zcbuf
 * turns into dma_sync_*_for_cpu/_for_device for the device's attachment, so
 * software elements read what the device wrote even through swiotlb bounce
 * buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <gst/allocators/allocators.h>

#include "gstzcbufpool.h"
#include "gstzcbufsrc.h"

GST_DEBUG_CATEGORY_EXTERN (gst_zcbuf_debug);
#define GST_CAT_DEFAULT gst_zcbuf_debug

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_OUT };

struct slot {
  GstBuffer *buffer;		/* owned while FREE or QUEUED */
  int dmabuf_fd;		/* ours; each GstMemory holds a dup() */
  enum slot_state state;
};

struct _GstZcbufPool
{
  GstBufferPool parent;

  GstElement *element;		/* for bus messages; not a reference */
  gchar *device;
  int fd;			/* the context */
  int wake_fd;			/* eventfd: interrupts the wait in acquire */
  struct zcbuf_config cfg;
  struct zcbuf_ring ring;
  gboolean have_ring;
  GstAllocator *allocator;
  GstVideoInfo info;
  guint count;
  guint first;			/* index of slot 0 */
  struct slot *slots;

  /*
   * Protects slots[].state, streaming and the SQ's producer side:
   * release_buffer() runs in whatever thread drops a buffer.
   */
  GMutex lock;
  gboolean streaming;

  gint interrupted;		/* atomic: unlock() was called */
  guint64 errors;		/* streaming thread only */
  struct zcbuf_cqe last;	/* streaming thread only */
};

G_DEFINE_TYPE (GstZcbufPool, gst_zcbuf_pool, GST_TYPE_BUFFER_POOL);

static void
post_error (GstZcbufPool * pool, int err, const gchar * what)
{
  gst_zcbuf_src_post_errno (pool->element, err, pool->device, what);
}

/* A GstBuffer holding one dup() of the slot's DMA-buf fd. */
static gboolean
slot_fill_memory (GstZcbufPool * pool, struct slot *s)
{
  GstMemory *mem;
  gsize size = pool->cfg.frame_size;
  int fd;

  fd = fcntl (s->dmabuf_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return FALSE;
  mem = gst_dmabuf_allocator_alloc (pool->allocator, fd, size);
  if (!mem) {
    close (fd);
    return FALSE;
  }
  gst_buffer_remove_all_memory (s->buffer);
  gst_buffer_append_memory (s->buffer, mem);
  GST_BUFFER_FLAG_UNSET (s->buffer, GST_BUFFER_FLAG_TAG_MEMORY);
  return TRUE;
}

static gboolean
slot_init (GstZcbufPool * pool, struct slot *s, guint index)
{
  const GstVideoInfo *info = &pool->info;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { 0 };
  GstVideoMeta *meta;
  int ret;

  ret = zcbuf_export_buffer (pool->fd, index,
      ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR, &s->dmabuf_fd);
  if (ret) {
    s->dmabuf_fd = -1;
    post_error (pool, ret, "export a buffer as a DMA-buf");
    return FALSE;
  }
  s->buffer = gst_buffer_new ();
  if (!slot_fill_memory (pool, s)) {
    post_error (pool, errno ? errno : ENOMEM, "wrap a DMA-buf");
    return FALSE;
  }
  /* Frames have no line padding: say so to whoever maps them. */
  stride[0] = pool->cfg.width * GST_VIDEO_INFO_COMP_PSTRIDE (info, 0);
  meta = gst_buffer_add_video_meta_full (s->buffer, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info), 1, offset, stride);
  GST_META_FLAG_SET (meta, GST_META_FLAG_POOLED);
  GST_META_FLAG_SET (meta, GST_META_FLAG_LOCKED);
  s->state = SLOT_FREE;
  return TRUE;
}

GstZcbufPool *
gst_zcbuf_pool_new (GstElement * element, const gchar * node, guint device_id,
    const gchar * device, const GstVideoInfo * info, guint fps, guint count,
    gboolean use_ring)
{
  GstZcbufPool *pool;
  struct zcbuf_info zinfo;
  guint i;
  int ret;

  pool = g_object_new (GST_TYPE_ZCBUF_POOL, NULL);
  gst_object_ref_sink (pool);
  pool->element = element;
  pool->device = g_strdup (device);
  pool->info = *info;
  pool->count = count;

  pool->fd = zcbuf_open (node, O_CLOEXEC);
  if (pool->fd < 0) {
    post_error (pool, -pool->fd, "open");
    goto fail;
  }
  ret = zcbuf_get_info (pool->fd, &zinfo);
  if (ret) {
    post_error (pool, ret, "query");
    goto fail;
  }

  pool->cfg.personality = ZCBUF_DEV_CAMERA;
  pool->cfg.device = device_id;
  pool->cfg.width = GST_VIDEO_INFO_WIDTH (info);
  pool->cfg.height = GST_VIDEO_INFO_HEIGHT (info);
  pool->cfg.pixelformat =
      GST_VIDEO_INFO_FORMAT (info) == GST_VIDEO_FORMAT_RGB ?
      ZCBUF_FMT_RGB24 : ZCBUF_FMT_YUYV;
  pool->cfg.fps = fps;
  ret = zcbuf_configure (pool->fd, &pool->cfg);
  if (ret) {
    post_error (pool, ret, "configure the camera");
    goto fail;
  }

  ret = zcbuf_alloc_buffers (pool->fd, pool->cfg.frame_size, count, 0,
      &pool->first);
  if (ret) {
    post_error (pool, ret, "allocate buffers");
    goto fail;
  }

  pool->slots = g_new0 (struct slot, count);
  for (i = 0; i < count; i++)
    pool->slots[i].dmabuf_fd = -1;
  for (i = 0; i < count; i++)
    if (!slot_init (pool, &pool->slots[i], pool->first + i))
      goto fail;

  /*
   * The rings, when the module has them: a completion is then a read of
   * shared memory and a returned buffer a write, no system call.  Set up
   * once per context, before the first STREAMON.
   */
  if (use_ring && (zinfo.caps & ZCBUF_CAP_RING)) {
    ret = zcbuf_setup_ring (pool->fd, 0, &pool->ring);
    if (ret) {
      post_error (pool, ret, "set up the completion rings");
      goto fail;
    }
    pool->have_ring = TRUE;
  }

  pool->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (pool->wake_fd < 0) {
    post_error (pool, errno, "create an eventfd");
    goto fail;
  }

  GST_DEBUG_OBJECT (pool, "%s: %ux%u %" GST_FOURCC_FORMAT " at %u fps, "
      "%u buffers of %u bytes (indices %u..%u), %s", device, pool->cfg.width,
      pool->cfg.height, GST_FOURCC_ARGS (pool->cfg.pixelformat), fps, count,
      pool->cfg.frame_size, pool->first, pool->first + count - 1,
      pool->have_ring ? "rings" : "DQBUF/QBUF");
  return pool;

fail:
  gst_object_unref (pool);
  return NULL;
}

gsize
gst_zcbuf_pool_frame_size (GstZcbufPool * pool)
{
  return pool->cfg.frame_size;
}

gboolean
gst_zcbuf_pool_uses_ring (GstZcbufPool * pool)
{
  return pool->have_ring;
}

const struct zcbuf_cqe *
gst_zcbuf_pool_last_frame (GstZcbufPool * pool)
{
  return &pool->last;
}

guint64
gst_zcbuf_pool_errors (GstZcbufPool * pool)
{
  return pool->errors;
}

void
gst_zcbuf_pool_set_interrupted (GstZcbufPool * pool, gboolean interrupted)
{
  uint64_t v = 1;

  g_atomic_int_set (&pool->interrupted, interrupted);
  if (interrupted) {
    if (write (pool->wake_fd, &v, sizeof (v)) < 0)
      GST_WARNING_OBJECT (pool, "eventfd write: %s", g_strerror (errno));
  } else if (read (pool->wake_fd, &v, sizeof (v)) < 0 && errno != EAGAIN) {
    GST_WARNING_OBJECT (pool, "eventfd read: %s", g_strerror (errno));
  }
}

/* Give one slot to the device.  Called with pool->lock held. */
static int
slot_queue (GstZcbufPool * pool, guint i, gboolean first_time)
{
  int ret;

  /*
   * The SQ may only carry buffers queued with QBUF once since the last
   * CONFIG; start() always uses QBUF, which also works with rings.
   */
  if (pool->have_ring && !first_time)
    ret = zcbuf_submit_buffer (&pool->ring, pool->first + i, 0);
  else
    ret = zcbuf_queue_buffer (pool->fd, pool->first + i, 0);
  if (ret == 0)
    pool->slots[i].state = SLOT_QUEUED;
  return ret;
}

static gboolean
gst_zcbuf_pool_start (GstBufferPool * bpool)
{
  GstZcbufPool *pool = GST_ZCBUF_POOL (bpool);
  guint i;
  int ret = 0;

  g_mutex_lock (&pool->lock);
  for (i = 0; i < pool->count && !ret; i++)
    if (pool->slots[i].state == SLOT_FREE)
      ret = slot_queue (pool, i, TRUE);
  if (!ret)
    ret = zcbuf_stream_on (pool->fd);
  if (!ret)
    pool->streaming = TRUE;
  g_mutex_unlock (&pool->lock);
  if (ret) {
    post_error (pool, ret, i < pool->count ? "queue a buffer" : "start streaming");
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_zcbuf_pool_stop (GstBufferPool * bpool)
{
  GstZcbufPool *pool = GST_ZCBUF_POOL (bpool);
  struct zcbuf_cqe cqe[16];
  guint i;
  int ret;

  g_mutex_lock (&pool->lock);
  pool->streaming = FALSE;
  /* Every queued and done buffer comes back to us; nothing is OUT now. */
  ret = zcbuf_stream_off (pool->fd);
  if (ret)
    GST_WARNING_OBJECT (pool, "STREAMOFF: %s", g_strerror (-ret));
  /* Completions of before the stop must not show up after a restart. */
  while (pool->have_ring && zcbuf_get_completions (&pool->ring, cqe,
          G_N_ELEMENTS (cqe)) > 0);
  for (i = 0; i < pool->count; i++)
    pool->slots[i].state = SLOT_FREE;
  g_mutex_unlock (&pool->lock);

  return GST_BUFFER_POOL_CLASS (gst_zcbuf_pool_parent_class)->stop (bpool);
}

/* 0 and *cqe filled, -EAGAIN when nothing is done, or another -errno. */
static int
take_completion (GstZcbufPool * pool, struct zcbuf_cqe *cqe)
{
  struct zcbuf_dqbuf dq;
  int ret;

  if (pool->have_ring)
    return zcbuf_get_completion (&pool->ring, cqe);
  ret = zcbuf_dequeue_buffer (pool->fd, &dq);
  if (ret)
    return ret;
  cqe->index = dq.index;
  cqe->flags = dq.flags;
  cqe->sequence = dq.sequence;
  cqe->timestamp_ns = dq.timestamp_ns;
  cqe->bytesused = dq.bytesused;
  cqe->checksum = dq.checksum;
  cqe->npackets = dq.npackets;
  return 0;
}

/* Sleep until the device completes a buffer or we are interrupted. */
static int
wait_completion (GstZcbufPool * pool)
{
  struct pollfd pfd[2] = {
    {.fd = pool->fd,.events = POLLIN},
    {.fd = pool->wake_fd,.events = POLLIN},
  };
  int ret;

  /* Ring: ask for a wake-up, unless a completion arrived meanwhile. */
  if (pool->have_ring && zcbuf_arm_wakeup (&pool->ring) == -EAGAIN)
    return 0;
  do {
    ret = poll (pfd, 2, -1);
  } while (ret < 0 && errno == EINTR);
  if (ret < 0)
    ret = -errno;
  if (pool->have_ring)
    zcbuf_disarm_wakeup (&pool->ring);
  if (ret < 0)
    return ret;
  /*
   * Drain the wake-up; the flags it announces (interrupted, flushing) are
   * what acquire checks, set before the write.
   */
  if (pfd[1].revents & POLLIN) {
    uint64_t v;

    if (read (pool->wake_fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
      return -errno;
  }
  /* A device that went away: error or hang-up, nothing to read. */
  if ((pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
      !(pfd[0].revents & POLLIN))
    return -ENODEV;
  return 0;
}

static GstFlowReturn
gst_zcbuf_pool_acquire_buffer (GstBufferPool * bpool, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  GstZcbufPool *pool = GST_ZCBUF_POOL (bpool);
  struct zcbuf_cqe cqe;
  struct slot *s;
  guint i;
  int ret;

  for (;;) {
    if (GST_BUFFER_POOL_IS_FLUSHING (bpool) ||
        g_atomic_int_get (&pool->interrupted))
      return GST_FLOW_FLUSHING;
    ret = take_completion (pool, &cqe);
    if (ret == -EAGAIN) {
      if (params && (params->flags & GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT))
        return GST_FLOW_EOS;
      ret = wait_completion (pool);
      if (ret == 0)
        continue;
    }
    if (ret) {
      post_error (pool, ret, "dequeue a frame");
      return GST_FLOW_ERROR;
    }

    i = cqe.index - pool->first;
    if (cqe.index < pool->first || i >= pool->count) {
      GST_ELEMENT_ERROR (pool->element, RESOURCE, READ,
          ("The zcbuf device returned a buffer that is not ours."),
          ("index %u, ours are %u..%u", cqe.index, pool->first,
              pool->first + pool->count - 1));
      return GST_FLOW_ERROR;
    }
    s = &pool->slots[i];
    g_mutex_lock (&pool->lock);
    if (cqe.flags & ZCBUF_DQ_ERROR) {
      /* A failed frame never leaves: straight back to the device. */
      pool->errors++;
      ret = pool->streaming ? slot_queue (pool, i, FALSE) : 0;
      if (!pool->streaming)
        s->state = SLOT_FREE;
      g_mutex_unlock (&pool->lock);
      GST_DEBUG_OBJECT (pool, "frame %" G_GUINT64_FORMAT " failed in the "
          "device, skipped", (guint64) cqe.sequence);
      if (ret) {
        post_error (pool, ret, "queue a buffer");
        return GST_FLOW_ERROR;
      }
      continue;
    }
    if (cqe.bytesused != pool->cfg.frame_size) {
      s->state = SLOT_FREE;
      g_mutex_unlock (&pool->lock);
      GST_ELEMENT_ERROR (pool->element, RESOURCE, READ,
          ("The zcbuf device returned a short frame."),
          ("%" G_GUINT64_FORMAT " bytes, frames are %u", (guint64)
              cqe.bytesused, pool->cfg.frame_size));
      return GST_FLOW_ERROR;
    }
    s->state = SLOT_OUT;
    g_mutex_unlock (&pool->lock);
    pool->last = cqe;
    *buffer = s->buffer;
    return GST_FLOW_OK;
  }
}

static void
gst_zcbuf_pool_release_buffer (GstBufferPool * bpool, GstBuffer * buffer)
{
  GstZcbufPool *pool = GST_ZCBUF_POOL (bpool);
  guint i;
  int ret = 0;

  for (i = 0; i < pool->count; i++)
    if (pool->slots[i].buffer == buffer)
      break;
  if (i == pool->count) {
    GST_ERROR_OBJECT (pool, "release of a buffer that is not ours");
    GST_BUFFER_POOL_CLASS (gst_zcbuf_pool_parent_class)->release_buffer
        (bpool, buffer);
    return;
  }

  /* Someone replaced or added memory: wrap our DMA-buf again. */
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_TAG_MEMORY) ||
      gst_buffer_n_memory (buffer) != 1)
    if (!slot_fill_memory (pool, &pool->slots[i]))
      GST_ERROR_OBJECT (pool, "cannot wrap buffer %u again", i);

  g_mutex_lock (&pool->lock);
  pool->slots[i].state = SLOT_FREE;
  if (pool->streaming && !GST_BUFFER_POOL_IS_FLUSHING (bpool))
    ret = slot_queue (pool, i, FALSE);
  g_mutex_unlock (&pool->lock);
  /*
   * The device went away, or refused the buffer: the streaming thread
   * finds out when it waits for the next frame.
   */
  if (ret)
    GST_WARNING_OBJECT (pool, "giving buffer %u back to the device: %s",
        pool->first + i, g_strerror (-ret));
}

/* A flush ended (seek, or basesrc unlock): queue what came back meanwhile. */
static void
gst_zcbuf_pool_flush_stop (GstBufferPool * bpool)
{
  GstZcbufPool *pool = GST_ZCBUF_POOL (bpool);
  guint i;

  g_mutex_lock (&pool->lock);
  for (i = 0; pool->streaming && i < pool->count; i++)
    if (pool->slots[i].state == SLOT_FREE && slot_queue (pool, i, FALSE))
      break;
  g_mutex_unlock (&pool->lock);
}

static void
gst_zcbuf_pool_flush_start (GstBufferPool * bpool)
{
  uint64_t v = 1;

  /* Wake a waiting acquire: it sees the pool flushing. */
  if (write (GST_ZCBUF_POOL (bpool)->wake_fd, &v, sizeof (v)) < 0)
    GST_WARNING_OBJECT (bpool, "eventfd write: %s", g_strerror (errno));
}

static const gchar **
gst_zcbuf_pool_get_options (GstBufferPool * bpool)
{
  static const gchar *options[] = { GST_BUFFER_POOL_OPTION_VIDEO_META, NULL };

  return options;
}

static void
gst_zcbuf_pool_finalize (GObject * object)
{
  GstZcbufPool *pool = GST_ZCBUF_POOL (object);
  guint i;

  /* No buffer is OUT: each would hold a reference on us. */
  for (i = 0; pool->slots && i < pool->count; i++) {
    if (pool->slots[i].buffer)
      gst_buffer_unref (pool->slots[i].buffer);
    if (pool->slots[i].dmabuf_fd >= 0)
      close (pool->slots[i].dmabuf_fd);
  }
  g_free (pool->slots);
  if (pool->have_ring)
    zcbuf_unmap_ring (&pool->ring);
  /* Closing the context stops the device and frees its buffers. */
  if (pool->fd >= 0)
    zcbuf_close (pool->fd);
  if (pool->wake_fd >= 0)
    close (pool->wake_fd);
  if (pool->allocator)
    gst_object_unref (pool->allocator);
  g_free (pool->device);
  g_mutex_clear (&pool->lock);

  G_OBJECT_CLASS (gst_zcbuf_pool_parent_class)->finalize (object);
}

static void
gst_zcbuf_pool_init (GstZcbufPool * pool)
{
  pool->fd = -1;
  pool->wake_fd = -1;
  pool->allocator = gst_dmabuf_allocator_new ();
  g_mutex_init (&pool->lock);
}

static void
gst_zcbuf_pool_class_init (GstZcbufPoolClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS (klass);

  object_class->finalize = gst_zcbuf_pool_finalize;
  pool_class->get_options = gst_zcbuf_pool_get_options;
  pool_class->start = gst_zcbuf_pool_start;
  pool_class->stop = gst_zcbuf_pool_stop;
  pool_class->acquire_buffer = gst_zcbuf_pool_acquire_buffer;
  pool_class->release_buffer = gst_zcbuf_pool_release_buffer;
  pool_class->flush_start = gst_zcbuf_pool_flush_start;
  pool_class->flush_stop = gst_zcbuf_pool_flush_stop;
}
