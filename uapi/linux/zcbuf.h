/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcbuf - zero-copy frame delivery from a device to user space.
 *
 * This header is the whole ABI of /dev/zcbuf.  It is shared, unchanged, by the
 * kernel module, libzcbuf and the selftests.
 *
 * Model
 * -----
 * Each open() of /dev/zcbuf is a context.  A context owns buffers, numbered by
 * an index that is only meaningful in that context.  A buffer is a set of
 * pinned, zeroed pages (or one physically contiguous block) and is always a
 * DMA-buf: it can be exported as a DMA-buf fd, and a DMA-buf made elsewhere
 * can be imported as a buffer.  mmap() of /dev/zcbuf at the offset reported by
 * ZCBUF_IOC_QUERY maps the buffer itself: no copy is ever made.  Only shared
 * mappings are allowed.
 *
 * mmap offsets: the rings are at ZCBUF_OFF_RINGS (0, as io_uring's
 * IORING_OFF_SQ_RING); each buffer has a window of its own at the offset
 * QUERY reports.  Windows are handed out in turn: a freed buffer's offset
 * is given to a later buffer only after every other one was.  Every
 * offset is below 2^44, so 32-bit processes reach all of them through
 * mmap2() (build with _FILE_OFFSET_BITS=64; the ioctls work through the
 * compat layer unchanged).
 *
 * Devices (cameras, NICs: the simulated one, drivers for real hardware) are
 * registered with zcbuf by their drivers and listed by ZCBUF_IOC_DEVICE_INFO
 * (and in sysfs, /sys/class/zcbuf/<name>/).  A context drives one device,
 * chosen by ZCBUF_IOC_CONFIG, which reads or writes the buffers through its
 * own DMA-buf attachment, exactly as hardware would.  Buffers move between
 * user space and the device with ZCBUF_IOC_QBUF and ZCBUF_IOC_DQBUF:
 *
 *   USER --QBUF--> QUEUED --device picks it--> DEVICE --complete--> DONE
 *    ^                                                                |
 *    +-------------------------------DQBUF----------------------------+
 *
 * Completions are signalled on an eventfd (ZCBUF_IOC_SET_EVENTFD, one count
 * per completed buffer) and by poll() on the /dev/zcbuf fd: POLLIN while a
 * buffer is DONE (with rings: while the CQ holds entries); POLLERR while
 * none is and the device is not streaming, so that nothing ever will be
 * (as videobuf2): STREAMOFF wakes every poller with it.
 *
 * Implicit synchronisation: while the device streams, every queued buffer
 * has a fence in the reservation object of its DMA-buf (a write fence when
 * the device writes, a read fence when it reads): added by QBUF while
 * streaming, and by STREAMON for the buffers queued before; never while
 * not streaming, so that a queued buffer no device works on blocks nobody.
 * The fence is signalled when the device completes the buffer, before
 * DQBUF, poll() or the eventfd can see it; STREAMOFF, close and the
 * device's removal signal the rest with an error (sync_file status
 * -ECANCELED, -ENODEV).  Each buffer has a fence timeline of its own, so
 * sequence numbers follow completion order.  So poll() on an exported
 * DMA-buf fd, DMA_BUF_IOCTL_SYNC (which waits for it) and
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE agree with the eventfd.
 *
 * Every fence signals in bounded time.  A device that completes nothing for
 * the module parameter fence_timeout_ms (default 10000, 1 to 3600000;
 * /sys/module/zcbuf/parameters/fence_timeout_ms) while it could work on
 * some buffer is taken as stalled: the fences of the buffers it could work
 * on (taken, or queued with nothing left to wait for) signal with
 * -ETIMEDOUT.  Such a buffer stays the device's (ZCBUF_STATE_QUEUED or
 * ZCBUF_STATE_DEVICE) until the device completes it, and then it
 * completes with ZCBUF_DQ_ERROR: others were told it was done and may have
 * used it meanwhile.  The clock restarts at every completion, so a slow
 * device with many buffers queued is never timed out.
 *
 * The other way round, the device waits for the fences already in a
 * buffer's reservation object when it is queued (another driver's, the
 * CPU's, a sync_file imported with DMA_BUF_IOCTL_IMPORT_SYNC_FILE): before
 * it reads a buffer (TX) for the write fences, before it writes one
 * (camera, RX) for all of them.  Other buffers go first meanwhile.  That
 * wait is bounded only by those fences: it is not the device's, and never
 * times out here.
 *
 * read() on /dev/zcbuf is the traditional copying path: it takes the oldest
 * DONE buffer, copies its bytesused bytes (at most count; a read of 0 bytes
 * takes nothing) into the caller's memory, queues the buffer again as it was
 * queued before (NIC TX: the same bytesused) and returns the bytes copied.
 * When the copy fails (EFAULT), the frame stays the oldest DONE one.  When
 * the buffer cannot be queued again (queueing failed), it is user space's
 * (ZCBUF_STATE_USER) and read() still returns the bytes copied.  It blocks
 * unless O_NONBLOCK (EAGAIN), and fails with EPIPE when not streaming and no
 * buffer is DONE.  Per-frame metadata is only available through DQBUF.
 *
 * CPU access and cache coherency
 * ------------------------------
 * The device's mapping may go through bounce buffers (swiotlb) or a
 * non-coherent cache.  User space must bracket every CPU access to a buffer
 * that the device has written or will read:
 *
 *   ZCBUF_IOC_SYNC { START | READ }   before reading what the device wrote;
 *   ... CPU reads/writes through the mapping ...
 *   ZCBUF_IOC_SYNC { END | WRITE }    after writing what the device will read.
 *
 * ZCBUF_IOC_SYNC takes a byte range; DMA_BUF_IOCTL_SYNC on an exported DMA-buf
 * fd does the same for the whole buffer.  Without the bracket the CPU may see
 * stale data.
 *
 * Conventions
 * -----------
 * All structures are fixed-width, have no holes and are a multiple of 8 bytes.
 * Every flags word has a *_VALID_FLAGS mask: unknown bits are rejected with
 * EINVAL, and so is any reserved field that is not zero.  An unknown command
 * fails with ENOTTY.
 *
 * The structures are extensible: a later version may append fields.  The
 * argument's size is the one encoded in the ioctl number.  The kernel accepts
 * an argument shorter than its own structure, down to the size of the
 * command's first version (EINVAL below that; the missing tail reads as
 * zero), and a longer one if the extra bytes are zero (E2BIG otherwise).  It
 * writes back as many bytes as the caller passed, zeroing what it does not
 * know.  In version 1.0 every structure is at its first version.
 *
 * A command that fails changes nothing, also when only the write-back
 * failed (EFAULT): new buffers, fds, rings and configurations appear, and
 * DQBUF's buffer changes hands, only once the result has reached the
 * caller.  While CONFIG or RING_SETUP is between its change and the
 * write-back, a concurrent CONFIG, RING_SETUP, STREAMON or QBUF on the same
 * context fails with EBUSY.
 */
#ifndef _UAPI_LINUX_ZCBUF_H
#define _UAPI_LINUX_ZCBUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ZCBUF_API_VERSION_MAJOR		1
#define ZCBUF_API_VERSION_MINOR		2
#define ZCBUF_API_VERSION	((ZCBUF_API_VERSION_MAJOR << 16) | \
				 ZCBUF_API_VERSION_MINOR)

/* Capabilities reported in zcbuf_info.caps */
#define ZCBUF_CAP_CONTIG	(1U << 0) /* ZCBUF_ALLOC_CONTIG works */
#define ZCBUF_CAP_IMPORT	(1U << 1) /* ZCBUF_IOC_IMPORT works */
#define ZCBUF_CAP_CAMERA	(1U << 2) /* ZCBUF_DEV_CAMERA */
#define ZCBUF_CAP_NIC		(1U << 3) /* ZCBUF_DEV_NIC_RX, ZCBUF_DEV_NIC_TX */
#define ZCBUF_CAP_STRICT	(1U << 4) /* ZCBUF_CFG_STRICT */
#define ZCBUF_CAP_RING		(1U << 5) /* ZCBUF_IOC_RING_SETUP */
#define ZCBUF_CAP_DEVICES	(1U << 6) /* ZCBUF_IOC_DEVICE_INFO (1.1) */
#define ZCBUF_CAP_NO_CHECKSUM	(1U << 7) /* ZCBUF_CFG_NO_CHECKSUM (1.2) */
/* Every capability this header knows of. */
#define ZCBUF_CAP_ALL		(ZCBUF_CAP_CONTIG | ZCBUF_CAP_IMPORT | \
				 ZCBUF_CAP_CAMERA | ZCBUF_CAP_NIC | \
				 ZCBUF_CAP_STRICT | ZCBUF_CAP_RING | \
				 ZCBUF_CAP_DEVICES | ZCBUF_CAP_NO_CHECKSUM)

/**
 * struct zcbuf_info - ZCBUF_IOC_INFO: version, capabilities and limits
 * @version: (out) ZCBUF_API_VERSION of the running module
 * @caps: (out) ZCBUF_CAP_* bits
 * @max_buffers: (out) most buffers one context may hold
 * @page_size: (out) page size; buffer sizes are rounded up to it
 * @max_buffer_size: (out) largest buffer, in bytes
 * @max_total_size: (out) most bytes all buffers of one context may hold
 * @max_contig_size: (out) largest ZCBUF_ALLOC_CONTIG buffer, in bytes
 * @reserved: (out) zero
 */
struct zcbuf_info {
	__u32 version;
	__u32 caps;
	__u32 max_buffers;
	__u32 page_size;
	__u64 max_buffer_size;
	__u64 max_total_size;
	__u64 max_contig_size;
	__u64 reserved[3];
};

/* Physically contiguous pages, for devices that cannot scatter-gather. */
#define ZCBUF_ALLOC_CONTIG		(1U << 0)
#define ZCBUF_ALLOC_VALID_FLAGS		(ZCBUF_ALLOC_CONTIG)

/**
 * struct zcbuf_alloc - ZCBUF_IOC_ALLOC: create @count buffers of @size bytes
 * @size: (in) bytes per buffer, rounded up to the page size; not zero
 * @count: (in) number of buffers, 1 to zcbuf_info.max_buffers
 * @flags: (in) ZCBUF_ALLOC_* flags
 * @first_index: (out) the buffers are @first_index .. @first_index + @count - 1
 * @reserved: (in) must be zero
 *
 * The pages are zeroed and charged to the caller's memory cgroup, and (unless
 * the caller has CAP_IPC_LOCK) to its user's RLIMIT_MEMLOCK as pinned pages,
 * as io_uring and AF_XDP charge theirs, for as long as the buffer lives
 * (also after FREE, while an exported DMA-buf holds it).  Either all
 * @count buffers are created or none is (also when @first_index cannot be
 * written back: EFAULT).  EINVAL for a zero or too large size or count,
 * ENOMEM when memory, the context's limits or RLIMIT_MEMLOCK run out,
 * ENOSPC when the context has used up its 2^32 - 1 indices (they are never
 * reused).
 */
struct zcbuf_alloc {
	__u64 size;
	__u32 count;
	__u32 flags;
	__u32 first_index;
	__u32 reserved;
};

/**
 * struct zcbuf_free - ZCBUF_IOC_FREE: drop the context's hold on a buffer
 * @index: (in) buffer index
 * @reserved: (in) must be zero
 *
 * The memory lives on while anything else holds the buffer (a mapping, an
 * exported DMA-buf fd, another importer).  EBUSY while the buffer is queued.
 */
struct zcbuf_free {
	__u32 index;
	__u32 reserved;
};

/* zcbuf_query.flags */
#define ZCBUF_BUF_CONTIG		(1U << 0) /* physically contiguous */
#define ZCBUF_BUF_IMPORTED		(1U << 1) /* made by ZCBUF_IOC_IMPORT */

/* zcbuf_query.state: who owns the buffer now */
#define ZCBUF_STATE_USER		0 /* user space */
#define ZCBUF_STATE_QUEUED		1 /* queued, device has not taken it */
#define ZCBUF_STATE_DEVICE		2 /* device is writing/reading it */
#define ZCBUF_STATE_DONE		3 /* complete, waiting for DQBUF */

/**
 * struct zcbuf_query - ZCBUF_IOC_QUERY: describe one buffer
 * @index: (in) buffer index
 * @flags: (out) ZCBUF_BUF_* flags
 * @size: (out) size in bytes (a multiple of the page size)
 * @offset: (out) offset to pass to mmap() on /dev/zcbuf to map this buffer;
 *	  stays the same while the buffer exists, below 2^44
 * @state: (out) ZCBUF_STATE_*
 * @reserved: (out) zero
 */
struct zcbuf_query {
	__u32 index;
	__u32 flags;
	__u64 size;
	__u64 offset;
	__u32 state;
	__u32 reserved;
};

#define ZCBUF_EXPORT_CLOEXEC		(1U << 0) /* O_CLOEXEC on the new fd */
#define ZCBUF_EXPORT_RDWR		(1U << 1) /* else read-only */
#define ZCBUF_EXPORT_VALID_FLAGS	(ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR)

/**
 * struct zcbuf_export - ZCBUF_IOC_EXPORT: a DMA-buf fd for a buffer
 * @index: (in) buffer index; not an imported buffer (EINVAL)
 * @flags: (in) ZCBUF_EXPORT_* flags
 * @fd: (out) the new DMA-buf file descriptor
 * @reserved: (in) must be zero
 *
 * The fd outlives the context that made it.  A read-only fd is read-only
 * for everyone who gets it: mmap() only with PROT_READ (also when an
 * importer maps it through a file of its own), devices of other drivers
 * may map it only to read (DMA_TO_DEVICE; a mapping that lets the device
 * write fails with EACCES, so e.g. V4L2 capture or a DRM PRIME import
 * refuses it), and no kernel mapping (vmap) is made of it (EINVAL).
 */
struct zcbuf_export {
	__u32 index;
	__u32 flags;
	__s32 fd;
	__u32 reserved;
};

/**
 * struct zcbuf_import - ZCBUF_IOC_IMPORT: make a foreign DMA-buf a buffer
 * @fd: (in) DMA-buf file descriptor (dma-heap, udmabuf, another zcbuf, ...);
 *	a read-only DMA-buf stays read-only when mapped through /dev/zcbuf
 * @flags: (in) must be zero
 * @index: (out) the new buffer's index
 * @reserved: (in) must be zero
 * @size: (out) size of the DMA-buf in bytes
 *
 * The context holds a reference on the DMA-buf; @fd may be closed afterwards.
 * EBADF if @fd is not open, EINVAL if it is not a DMA-buf, ENOMEM when the
 * context holds zcbuf_info.max_buffers buffers, ENOSPC as for ALLOC.
 */
struct zcbuf_import {
	__s32 fd;
	__u32 flags;
	__u32 index;
	__u32 reserved;
	__u64 size;
};

/* Same values as DMA_BUF_SYNC_* in <linux/dma-buf.h>. */
#define ZCBUF_SYNC_READ			(1U << 0)
#define ZCBUF_SYNC_WRITE		(2U << 0)
#define ZCBUF_SYNC_RW			(ZCBUF_SYNC_READ | ZCBUF_SYNC_WRITE)
#define ZCBUF_SYNC_START		(0U << 2)
#define ZCBUF_SYNC_END			(1U << 2)
#define ZCBUF_SYNC_VALID_FLAGS		(ZCBUF_SYNC_RW | ZCBUF_SYNC_END)

/**
 * struct zcbuf_sync - ZCBUF_IOC_SYNC: hand a byte range between CPU and device
 * @index: (in) buffer index
 * @flags: (in) ZCBUF_SYNC_START or ZCBUF_SYNC_END, with READ, WRITE or RW
 *	   (at least one of them)
 * @offset: (in) first byte of the range
 * @length: (in) bytes in the range; not zero; @offset + @length <= size
 *
 * START makes the range coherent for the CPU (dma_sync_*_for_cpu for every
 * device attached to the buffer); END gives it back to the devices
 * (dma_sync_*_for_device).  Imported buffers are synced whole, through the
 * exporter's begin/end_cpu_access.
 */
struct zcbuf_sync {
	__u32 index;
	__u32 flags;
	__u64 offset;
	__u64 length;
};

/* zcbuf_config.personality */
#define ZCBUF_DEV_NONE			0 /* no device */
#define ZCBUF_DEV_CAMERA		1 /* writes video frames */
#define ZCBUF_DEV_NIC_RX		2 /* writes received packets */
#define ZCBUF_DEV_NIC_TX		3 /* reads packets to transmit */

/*
 * Strict ownership: from QBUF to DQBUF (or STREAMOFF, close) nothing but the
 * device reads or writes the buffer's pages.  QBUF revokes every user
 * mapping of the buffer (through /dev/zcbuf and through exported DMA-bufs);
 * a touch raises SIGBUS instead of reading a half-written frame (capture,
 * RX) or changing a packet under the DMA (TX).  Meanwhile no other device
 * can map any DMA-buf of the buffer (EBUSY).  QBUF fails with EBUSY,
 * changing nothing, when the pages can be reached some other way: a page
 * pinned or referenced outside the buffer (io_uring fixed buffers, data
 * vmsplice'd into a pipe, O_DIRECT or MSG_ZEROCOPY in flight), another
 * device's attachment (any importer of an export, also another context's
 * import), or a kernel mapping (vmap); and for an imported DMA-buf, whose
 * pages belong to its exporter.  Not covered: a vmap that an importer of an
 * exported fd makes while the device owns the buffer (the DMA-buf core gives
 * an exporter no way to refuse one).  Exported fds may stay open: their
 * mappings are revoked too.  DQBUF, STREAMOFF and close give the mappings
 * back.  TX mappings
 * are revoked rather than made read-only: a read-only window needs
 * write-notify (->page_mkwrite), which would make every mapping of the
 * buffer unusable for long-term pins (io_uring fixed buffers).  Strict mode
 * and the rings exclude each other (EINVAL from whichever comes second):
 * with rings the kernel never sees the dequeue that would restore a mapping.
 */
#define ZCBUF_CFG_STRICT		(1U << 0)
/*
 * No checksums (1.2, ZCBUF_CAP_NO_CHECKSUM): the device computes no CRC-32
 * and leaves zcbuf_dqbuf.checksum, zcbuf_cqe.checksum and every
 * zcbuf_pkt_desc.checksum 0.  Nothing else changes: the same bytes, sizes,
 * descriptors, sequence numbers and timestamps.  For a consumer that has no
 * use for them: a driver that computes them with the CPU (zcbuf-virtio-net,
 * the edu driver) spends that CPU time per frame.  A device that cannot
 * leave them out refuses the flag (EINVAL); every device in this tree
 * honours it, for every personality.
 */
#define ZCBUF_CFG_NO_CHECKSUM		(1U << 1)
#define ZCBUF_CFG_VALID_FLAGS		(ZCBUF_CFG_STRICT | \
					 ZCBUF_CFG_NO_CHECKSUM)

#define ZCBUF_FOURCC(a, b, c, d) \
	((__u32)(a) | ((__u32)(b) << 8) | ((__u32)(c) << 16) | ((__u32)(d) << 24))
/* Pixel formats: the same codes and layouts as V4L2's. */
#define ZCBUF_FMT_RGB24			ZCBUF_FOURCC('R', 'G', 'B', '3')
#define ZCBUF_FMT_YUYV			ZCBUF_FOURCC('Y', 'U', 'Y', 'V')

#define ZCBUF_PKT_MIN			64
#define ZCBUF_PKT_MAX			9216

/**
 * struct zcbuf_config - ZCBUF_IOC_CONFIG: choose and configure the device
 * @personality: (in) ZCBUF_DEV_*
 * @flags: (in) ZCBUF_CFG_* flags
 * @width: (in) camera: pixels per line, 16 to 8192, even
 * @height: (in) camera: lines, 16 to 8192
 * @pixelformat: (in) camera: ZCBUF_FMT_*
 * @fps: (in) camera: frames per second, at most 1000; 0 = as fast as buffers
 *	 are queued (the device waits for a buffer instead of dropping)
 * @pkt_min: (in) NIC RX: smallest packet, ZCBUF_PKT_MIN to @pkt_max
 * @pkt_max: (in) NIC RX: largest packet, @pkt_min to ZCBUF_PKT_MAX
 * @pkt_rate: (in) NIC: buffers per second, at most 100000; 0 = as fast as
 *	      buffers are queued
 * @pkts_per_buffer: (in) NIC RX: most packets in one buffer, 1 to 4096
 * @drop_permille: (in) fault injection: frames lost on the wire (0-1000)
 * @error_permille: (in) fault injection: frames completed with an error
 * @jitter_us: (in) fault injection: random extra delay per frame, <= 1000000
 * @stall_every: (in) fault injection: stall after this many frames (0 = never)
 * @stall_ms: (in) fault injection: length of a stall, <= 10000; not zero
 *	      when @stall_every is set
 * @frame_size: (in) must be zero; (out) bytes each queued buffer must hold
 * @seed: (in) seed of the device's random numbers (packet sizes, faults)
 * @device: (in) the device's id (struct zcbuf_device_desc), or 0 for the
 *	    default device: the one named by the module parameter
 *	    zcbuf.default_device if set, else the longest-registered device
 *	    that has the personality (with only the simulator loaded, the
 *	    simulator, as before 1.1).  ENODEV if there is no such device.
 * @reserved0: (in) must be zero
 * @reserved: (in) must be zero
 *
 * Only while not streaming and with no buffer queued or done (EBUSY).  Fields
 * the personality does not use must be zero (EINVAL); so must the fields a
 * device cannot honour (for example fault injection on real hardware).
 * ZCBUF_DEV_NONE unconfigures.  Camera frames are @width x @height of
 * @pixelformat with no line padding.  NIC RX buffers start with a table of
 * @pkts_per_buffer struct zcbuf_pkt_desc, followed by the packets, each at a
 * 64-byte aligned offset.  NIC TX buffers hold one packet of QBUF's bytesused.
 */
struct zcbuf_config {
	__u32 personality;
	__u32 flags;
	__u32 width;
	__u32 height;
	__u32 pixelformat;
	__u32 fps;
	__u32 pkt_min;
	__u32 pkt_max;
	__u32 pkt_rate;
	__u32 pkts_per_buffer;
	__u32 drop_permille;
	__u32 error_permille;
	__u32 jitter_us;
	__u32 stall_every;
	__u32 stall_ms;
	__u32 frame_size;
	__u64 seed;
	__u32 device;
	__u32 reserved0;
	__u64 reserved[3];
};

/**
 * struct zcbuf_pkt_desc - one received packet in a NIC RX buffer
 * @offset: byte offset of the packet in the buffer
 * @length: bytes in the packet
 * @checksum: CRC-32 (as zlib's crc32()) of the packet's bytes; 0 with
 *	      ZCBUF_CFG_NO_CHECKSUM
 * @reserved: zero
 */
struct zcbuf_pkt_desc {
	__u32 offset;
	__u32 length;
	__u32 checksum;
	__u32 reserved;
};

/**
 * struct zcbuf_eventfd - ZCBUF_IOC_SET_EVENTFD: completion notification
 * @fd: (in) eventfd to add one to per completed buffer; -1 removes it
 * @flags: (in) must be zero
 */
struct zcbuf_eventfd {
	__s32 fd;
	__u32 flags;
};

/**
 * struct zcbuf_stream - ZCBUF_IOC_STREAMON, ZCBUF_IOC_STREAMOFF
 * @flags: (in) must be zero
 * @reserved: (in) must be zero
 *
 * STREAMON starts the configured device (EINVAL if none is configured,
 * EBUSY if already streaming, or if the module's max_streams streams of all
 * contexts together run already); the sequence restarts at 0 and the stream
 * counters are cleared.  STREAMOFF stops it and waits until the device has
 * let go of every buffer; all queued and done buffers return to
 * ZCBUF_STATE_USER.  Closing the context does the same.
 */
struct zcbuf_stream {
	__u32 flags;
	__u32 reserved;
};

/**
 * struct zcbuf_qbuf - ZCBUF_IOC_QBUF: give a buffer to the device
 * @index: (in) buffer index, in ZCBUF_STATE_USER (EBUSY otherwise)
 * @flags: (in) must be zero
 * @bytesused: (in) NIC TX: bytes to transmit, 1 to the buffer size; else 0
 *
 * The buffer must hold zcbuf_config.frame_size bytes (EINVAL); a device
 * that writes (camera, RX) refuses a read-only imported DMA-buf (EACCES);
 * EBUSY if the buffer is already queued, or if another context's device
 * mapping of the same zcbuf buffer would overlap a writable one.  ERANGE if
 * the device cannot reach the buffer's memory: its DMA mask is narrower
 * than the buffer's addresses and neither an IOMMU nor swiotlb bounce
 * buffers bridge the gap (QEMU's edu reaches 28 bits).
 * Allowed before STREAMON.  For TX, finish CPU writes with ZCBUF_SYNC_END first.
 */
struct zcbuf_qbuf {
	__u32 index;
	__u32 flags;
	__u64 bytesused;
};

/* zcbuf_dqbuf.flags */
/*
 * The device reported an error, or its fence timed out before it completed
 * the buffer (see "Implicit synchronisation"): do not trust the content.
 */
#define ZCBUF_DQ_ERROR			(1U << 0)

/**
 * struct zcbuf_dqbuf - ZCBUF_IOC_DQBUF: take back the oldest DONE buffer
 * @index: (out) buffer index
 * @flags: (in) must be zero; (out) ZCBUF_DQ_* flags
 * @sequence: (out) frame number since STREAMON; gaps are dropped frames
 * @timestamp_ns: (out) CLOCK_MONOTONIC time the device finished the frame
 * @bytesused: (out) bytes the device wrote (camera, RX) or read (TX)
 * @checksum: (out) CRC-32 (zlib) of the @bytesused bytes as the device saw
 *	      them: what it wrote (camera), what it read (TX); RX: of the
 *	      first @npackets descriptors (@npackets * 16 bytes at offset 0);
 *	      0 with ZCBUF_CFG_NO_CHECKSUM
 * @npackets: (out) NIC RX: packets in the buffer; else 0
 * @reserved: (out) zero
 *
 * Never blocks: EAGAIN when no buffer is DONE (wait with poll() or the
 * eventfd).  If the result cannot be written back (EFAULT), the buffer stays
 * DONE and is the next one DQBUF returns.
 */
struct zcbuf_dqbuf {
	__u32 index;
	__u32 flags;
	__u64 sequence;
	__u64 timestamp_ns;
	__u64 bytesused;
	__u32 checksum;
	__u32 npackets;
	__u64 reserved[2];
};

/**
 * struct zcbuf_stats - ZCBUF_IOC_STATS: counters of the current stream
 * @frames: (out) buffers completed without error
 * @bytes: (out) bytes the device wrote or read in them
 * @errors: (out) buffers completed with ZCBUF_DQ_ERROR
 * @drops_no_buffer: (out) frames dropped because no buffer was queued
 * @drops_injected: (out) frames dropped by fault injection
 * @queued: (out) buffers now QUEUED or DEVICE
 * @done: (out) buffers now DONE
 * @reserved: (out) zero
 */
struct zcbuf_stats {
	__u64 frames;
	__u64 bytes;
	__u64 errors;
	__u64 drops_no_buffer;
	__u64 drops_injected;
	__u64 queued;
	__u64 done;
	__u64 reserved[5];
};

/*
 * Shared-memory rings (ZCBUF_IOC_RING_SETUP): the fast path.
 *
 * The completion ring (CQ) carries one struct zcbuf_cqe per completed
 * buffer, written by the kernel; the submission ring (SQ) carries one
 * struct zcbuf_sqe per buffer user space gives back, read by the device
 * itself.  A busy consumer makes no system call at all: it reads CQEs and
 * writes SQEs.  Both live in one area that user space maps at
 * zcbuf_ring_setup.mmap_offset (MAP_SHARED, PROT_READ | PROT_WRITE).
 *
 * Each ring has a producer and a consumer index (free-running __u32, the
 * entry is index & (entries - 1)), a flags word and an errors counter, at the
 * offsets reported in struct zcbuf_ring_offsets.  Memory ordering: the
 * producer writes the entry, then stores the producer index with release
 * semantics (__atomic_store_n(p, v, __ATOMIC_RELEASE)); the consumer loads
 * the producer index with acquire semantics, reads the entries, then stores
 * its consumer index with release semantics.
 *
 * CQ: the kernel produces.  entries >= zcbuf_info.max_buffers, and a buffer
 * is in the CQ at most once, so it never overflows.  Before sleeping (poll()
 * or the eventfd), user space sets ZCBUF_RING_CQ_WANT_WAKEUP in the CQ flags,
 * issues a full barrier and checks the producer index once more; the kernel
 * signals the eventfd only while that flag is set.
 *
 * SQ: user space produces.  Each entry names a buffer in ZCBUF_STATE_DONE or
 * ZCBUF_STATE_USER that was queued with ZCBUF_IOC_QBUF at least once since the
 * last CONFIG (the device's mapping is made there).  The device takes entries
 * when it needs a buffer.  An invalid entry (unknown or busy buffer, nonzero
 * flags, bad bytesused) is skipped and counted in the SQ's errors word.  When
 * the device waits for buffers (rate 0) with the SQ empty, it sets
 * ZCBUF_RING_SQ_NEED_WAKEUP in the SQ flags: after producing, user space issues
 * a full barrier, and if the flag is set calls ZCBUF_IOC_RING_KICK.
 *
 * Once the rings are set up, completions go to the CQ only: DQBUF and read()
 * fail with EINVAL.  QBUF still works (and accepts DONE buffers).  The kernel
 * validates every index and entry it reads from the shared area and never
 * trusts them: corrupting them only confuses the corrupting process.
 */
#define ZCBUF_RING_CQ_WANT_WAKEUP	(1U << 0) /* in the CQ flags, by user */
#define ZCBUF_RING_SQ_NEED_WAKEUP	(1U << 0) /* in the SQ flags, by kernel */
#define ZCBUF_RING_MAX_ENTRIES		65536
/* The mmap offset of the rings, also reported as zcbuf_ring_setup.mmap_offset. */
#define ZCBUF_OFF_RINGS			0ULL

/**
 * struct zcbuf_ring_offsets - where a ring's words are in the mapped area
 * @producer: (out) offset of the __u32 producer index
 * @consumer: (out) offset of the __u32 consumer index
 * @flags: (out) offset of the __u32 flags word
 * @errors: (out) offset of the __u32 count of invalid entries skipped (SQ)
 * @array: (out) offset of the first entry
 * @entries: (out) number of entries, a power of two
 */
struct zcbuf_ring_offsets {
	__u32 producer;
	__u32 consumer;
	__u32 flags;
	__u32 errors;
	__u32 array;
	__u32 entries;
};

/**
 * struct zcbuf_ring_setup - ZCBUF_IOC_RING_SETUP: create the rings
 * @entries: (in) entries per ring: 0 for zcbuf_info.max_buffers rounded up
 *	     to a power of two, else a power of two from that to
 *	     ZCBUF_RING_MAX_ENTRIES; (out) the entries per ring
 * @flags: (in) must be zero
 * @mmap_size: (in) must be zero; (out) bytes to map
 * @mmap_offset: (in) must be zero; (out) the offset to map them at on
 *		 /dev/zcbuf: ZCBUF_OFF_RINGS
 * @cq: (in) must be zero; (out) the completion ring (struct zcbuf_cqe)
 * @sq: (in) must be zero; (out) the submission ring (struct zcbuf_sqe)
 * @reserved: (in) must be zero
 *
 * Once per context (EBUSY), while not streaming (EBUSY).
 */
struct zcbuf_ring_setup {
	__u32 entries;
	__u32 flags;
	__u64 mmap_size;
	__u64 mmap_offset;
	struct zcbuf_ring_offsets cq;
	struct zcbuf_ring_offsets sq;
	__u64 reserved[2];
};

/**
 * struct zcbuf_cqe - one completion, as in struct zcbuf_dqbuf
 * @index: buffer index
 * @flags: ZCBUF_DQ_* flags
 * @sequence: frame number since STREAMON
 * @timestamp_ns: CLOCK_MONOTONIC time the device finished
 * @bytesused: bytes written or read
 * @checksum: CRC-32, as in struct zcbuf_dqbuf
 * @npackets: NIC RX packets
 */
struct zcbuf_cqe {
	__u32 index;
	__u32 flags;
	__u64 sequence;
	__u64 timestamp_ns;
	__u64 bytesused;
	__u32 checksum;
	__u32 npackets;
};

/**
 * struct zcbuf_sqe - one buffer given back to the device
 * @index: buffer index
 * @flags: must be zero
 * @bytesused: NIC TX: bytes to transmit; else 0 (as in struct zcbuf_qbuf)
 */
struct zcbuf_sqe {
	__u32 index;
	__u32 flags;
	__u64 bytesused;
};

/**
 * struct zcbuf_ring_kick - ZCBUF_IOC_RING_KICK: wake the device for the SQ
 * @flags: (in) must be zero
 * @reserved: (in) must be zero
 */
struct zcbuf_ring_kick {
	__u32 flags;
	__u32 reserved;
};

/*
 * Devices.  Each registered device has an id (1, 2, ...: never reused while
 * the module is loaded) and a unique name.  A device may go away at any time
 * (its driver unbinds, its hardware is unplugged); see ZCBUF_IOC_CONFIG for
 * what then happens to a context using it.
 */
#define ZCBUF_DEVICE_NAME_LEN		32
#define ZCBUF_DEVICE_MAX_FORMATS	8

/* zcbuf_device_desc.kinds: the personalities a device has */
#define ZCBUF_KIND_CAMERA		(1U << ZCBUF_DEV_CAMERA)
#define ZCBUF_KIND_NIC_RX		(1U << ZCBUF_DEV_NIC_RX)
#define ZCBUF_KIND_NIC_TX		(1U << ZCBUF_DEV_NIC_TX)

/**
 * struct zcbuf_device_desc - ZCBUF_IOC_DEVICE_INFO: describe a device
 * @id: (in) the smallest id to report, 0 for the first device; (out) the
 *	id of the device described: the registered device with the smallest
 *	id >= the one passed in.  To list every device, start at 0 and pass
 *	the previous @id + 1 until ENODEV.
 * @flags: (in) must be zero; (out) zero
 * @name: (out) the device's name, NUL-terminated, unique among the
 *	  registered devices (also its directory in /sys/class/zcbuf/)
 * @kinds: (out) ZCBUF_KIND_* bits
 * @min_width: (out) camera: smallest and largest frame, in pixels
 * @max_width: (out) see @min_width
 * @min_height: (out) see @min_width
 * @max_height: (out) see @min_width
 * @formats: (out) camera: the ZCBUF_FMT_* it produces, the unused entries
 *	     zero
 * @reserved0: (out) zero
 * @max_frame_size: (out) largest frame or buffer the device fills or
 *		    reads in one completion, in bytes (0: no limit of its own)
 * @reserved: (out) zero
 *
 * Only @id and @flags are read: the other fields are output only, so a
 * listing loop can pass the previous answer back with @id incremented.
 * EINVAL for unknown @flags, ENODEV when no device has an id >= @id.
 */
struct zcbuf_device_desc {
	__u32 id;
	__u32 flags;
	char name[ZCBUF_DEVICE_NAME_LEN];
	__u32 kinds;
	__u32 min_width;
	__u32 max_width;
	__u32 min_height;
	__u32 max_height;
	__u32 formats[ZCBUF_DEVICE_MAX_FORMATS];
	__u32 reserved0;
	__u64 max_frame_size;
	__u64 reserved[3];
};

#define ZCBUF_IOC_MAGIC			0xBA

#define ZCBUF_IOC_INFO		_IOR(ZCBUF_IOC_MAGIC, 0x00, struct zcbuf_info)
#define ZCBUF_IOC_ALLOC		_IOWR(ZCBUF_IOC_MAGIC, 0x01, struct zcbuf_alloc)
#define ZCBUF_IOC_FREE		_IOW(ZCBUF_IOC_MAGIC, 0x02, struct zcbuf_free)
#define ZCBUF_IOC_QUERY		_IOWR(ZCBUF_IOC_MAGIC, 0x03, struct zcbuf_query)
#define ZCBUF_IOC_EXPORT	_IOWR(ZCBUF_IOC_MAGIC, 0x04, struct zcbuf_export)
#define ZCBUF_IOC_IMPORT	_IOWR(ZCBUF_IOC_MAGIC, 0x05, struct zcbuf_import)
#define ZCBUF_IOC_SYNC		_IOW(ZCBUF_IOC_MAGIC, 0x06, struct zcbuf_sync)
#define ZCBUF_IOC_CONFIG	_IOWR(ZCBUF_IOC_MAGIC, 0x07, struct zcbuf_config)
#define ZCBUF_IOC_SET_EVENTFD	_IOW(ZCBUF_IOC_MAGIC, 0x08, struct zcbuf_eventfd)
#define ZCBUF_IOC_STREAMON	_IOW(ZCBUF_IOC_MAGIC, 0x09, struct zcbuf_stream)
#define ZCBUF_IOC_STREAMOFF	_IOW(ZCBUF_IOC_MAGIC, 0x0a, struct zcbuf_stream)
#define ZCBUF_IOC_QBUF		_IOW(ZCBUF_IOC_MAGIC, 0x0b, struct zcbuf_qbuf)
#define ZCBUF_IOC_DQBUF		_IOWR(ZCBUF_IOC_MAGIC, 0x0c, struct zcbuf_dqbuf)
#define ZCBUF_IOC_STATS		_IOR(ZCBUF_IOC_MAGIC, 0x0d, struct zcbuf_stats)
#define ZCBUF_IOC_RING_SETUP	_IOWR(ZCBUF_IOC_MAGIC, 0x0e, struct zcbuf_ring_setup)
#define ZCBUF_IOC_RING_KICK	_IOW(ZCBUF_IOC_MAGIC, 0x0f, struct zcbuf_ring_kick)
#define ZCBUF_IOC_DEVICE_INFO	_IOWR(ZCBUF_IOC_MAGIC, 0x10, struct zcbuf_device_desc)

#endif /* _UAPI_LINUX_ZCBUF_H */
