/* SPDX-License-Identifier: MIT */
/*
 * libzcbuf - a small C library over the /dev/zcbuf ABI (<linux/zcbuf.h>).
 *
 * Conventions
 * -----------
 * - A context is the file descriptor returned by zcbuf_open(); the library
 *   keeps no state of its own about it, so every call takes that fd.
 * - Every call returns 0 (or a non-negative value where stated) on success
 *   and a negative errno value on failure.  errno itself is unspecified
 *   afterwards.  Results come back through out-parameters, which are left
 *   untouched on failure.
 * - The library never prints, never exits, never allocates memory and has no
 *   hidden policy: it does not sync, queue, map or wait unless asked to.
 * - Interrupted system calls (EINTR) are restarted; so is EAGAIN from the
 *   cache-sync ioctls, as DMA_BUF_IOCTL_SYNC requires.  ZCBUF_IOC_DQBUF's
 *   EAGAIN ("nothing done yet") is returned to the caller.
 * - Every ioctl argument is zeroed before it is filled, so reserved fields
 *   are always zero.
 *
 * Thread safety
 * -------------
 * Every function may be called from any thread at any time: each is one
 * system call (or a query followed by mmap()) on descriptors the caller owns,
 * and the kernel serialises what it must.  The only library-wide state is
 * the CRC-32 table, built once under pthread_once().  What the library does
 * not do is coordinate ownership of buffers between the caller's threads:
 * two threads that both DQBUF/QBUF the same context must agree between
 * themselves who holds which buffer.
 *
 * Cache coherency
 * ---------------
 * As <linux/zcbuf.h> says, bracket CPU access to a buffer the device writes
 * or reads: zcbuf_sync_begin(..., ZCBUF_SYNC_READ) before reading what the
 * device wrote, zcbuf_sync_end(..., ZCBUF_SYNC_WRITE) after writing what the
 * device will read.  The library never does this on its own.
 */
#ifndef LIBZCBUF_H
#define LIBZCBUF_H

#include <fcntl.h>	/* O_CLOEXEC, O_NONBLOCK for zcbuf_open() */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/zcbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBZCBUF_VERSION_MAJOR	1
#define LIBZCBUF_VERSION_MINOR	2
#define LIBZCBUF_VERSION	((LIBZCBUF_VERSION_MAJOR << 16) | \
				 LIBZCBUF_VERSION_MINOR)
/* True when the header is at least version @major.@minor. */
#define LIBZCBUF_CHECK_VERSION(major, minor) \
	(LIBZCBUF_VERSION_MAJOR > (major) || \
	 (LIBZCBUF_VERSION_MAJOR == (major) && \
	  LIBZCBUF_VERSION_MINOR >= (minor)))

#ifndef LIBZCBUF_API
#define LIBZCBUF_API
#endif

#define ZCBUF_DEFAULT_PATH	"/dev/zcbuf"

/* --- versions ------------------------------------------------------------ */

/* The running library's LIBZCBUF_VERSION ((major << 16) | minor). */
LIBZCBUF_API unsigned int zcbuf_version(void);

/*
 * 0 when the running library can serve a program built against
 * @major.@minor (same major, minor at least @minor), -ENOTSUP otherwise.
 * Call it as zcbuf_check_version(LIBZCBUF_VERSION_MAJOR,
 * LIBZCBUF_VERSION_MINOR).
 */
LIBZCBUF_API int zcbuf_check_version(unsigned int major, unsigned int minor);

/* --- context --------------------------------------------------------------- */

/*
 * Open a new context: open(@path, O_RDWR | @oflags).  @path NULL means
 * ZCBUF_DEFAULT_PATH; @oflags may hold O_CLOEXEC and O_NONBLOCK (anything
 * else: -EINVAL).  Returns the fd.
 */
LIBZCBUF_API int zcbuf_open(const char *path, int oflags);

/* Close a context (or any fd the library handed out).  Buffers that are
 * still mapped or exported live on. */
LIBZCBUF_API int zcbuf_close(int fd);

/* ZCBUF_IOC_INFO: the module's version, capabilities and limits.  The
 * caller decides whether info->version is one it understands. */
LIBZCBUF_API int zcbuf_get_info(int fd, struct zcbuf_info *info);

/* --- buffers -------------------------------------------------------------- */

/*
 * ZCBUF_IOC_ALLOC: @count buffers of @size bytes (rounded up to the page
 * size), ZCBUF_ALLOC_* @flags.  *@first_index receives the first index; the
 * buffers are *first_index .. *first_index + count - 1.
 */
LIBZCBUF_API int zcbuf_alloc_buffers(int fd, uint64_t size, unsigned int count,
				     unsigned int flags,
				     unsigned int *first_index);

/* ZCBUF_IOC_FREE: drop the context's hold on a buffer (-EBUSY if queued). */
LIBZCBUF_API int zcbuf_free_buffer(int fd, unsigned int index);

/* ZCBUF_IOC_QUERY: size, mmap offset, flags and state of a buffer. */
LIBZCBUF_API int zcbuf_query_buffer(int fd, unsigned int index,
				    struct zcbuf_query *query);

/*
 * Map a whole buffer (MAP_SHARED; @prot is PROT_READ and/or PROT_WRITE).
 * *@addr and *@length receive the mapping, to give to zcbuf_unmap_buffer().
 */
LIBZCBUF_API int zcbuf_map_buffer(int fd, unsigned int index, int prot,
				  void **addr, size_t *length);

/*
 * Map @length bytes of a buffer starting at @offset, which must be a
 * multiple of the page size (-EINVAL).  @length 0 means "to the end".
 */
LIBZCBUF_API int zcbuf_map_range(int fd, unsigned int index, uint64_t offset,
				 size_t length, int prot, void **addr);

/* munmap() a mapping made by zcbuf_map_buffer/_range or zcbuf_map_dmabuf. */
LIBZCBUF_API int zcbuf_unmap_buffer(void *addr, size_t length);

/* --- DMA-bufs ------------------------------------------------------------- */

/* ZCBUF_IOC_EXPORT: a DMA-buf fd for a buffer; @flags ZCBUF_EXPORT_*. */
LIBZCBUF_API int zcbuf_export_buffer(int fd, unsigned int index,
				     unsigned int flags, int *dmabuf_fd);

/*
 * ZCBUF_IOC_IMPORT: make the DMA-buf @dmabuf_fd a buffer of this context.
 * *@index receives its index, *@size (may be NULL) its size.  @dmabuf_fd
 * stays the caller's to close.
 */
LIBZCBUF_API int zcbuf_import_dmabuf(int fd, int dmabuf_fd,
				     unsigned int *index, uint64_t *size);

/* mmap() a whole DMA-buf fd (MAP_SHARED); its size comes from lseek. */
LIBZCBUF_API int zcbuf_map_dmabuf(int dmabuf_fd, int prot, void **addr,
				  size_t *length);

/*
 * DMA_BUF_IOCTL_SYNC on a DMA-buf fd, whole buffer: @flags is
 * ZCBUF_SYNC_START or ZCBUF_SYNC_END with READ, WRITE or RW (the same values
 * as DMA_BUF_SYNC_*).
 */
LIBZCBUF_API int zcbuf_sync_dmabuf(int dmabuf_fd, unsigned int flags);

/* --- cache sync ----------------------------------------------------------- */

/*
 * ZCBUF_IOC_SYNC { START | @direction } on bytes [@offset, @offset +
 * @length) of a buffer: make them coherent for the CPU.  @direction is
 * ZCBUF_SYNC_READ, ZCBUF_SYNC_WRITE or ZCBUF_SYNC_RW (other bits: -EINVAL).
 */
LIBZCBUF_API int zcbuf_sync_begin(int fd, unsigned int index, uint64_t offset,
				  uint64_t length, unsigned int direction);

/* ZCBUF_IOC_SYNC { END | @direction }: hand the range back to the devices. */
LIBZCBUF_API int zcbuf_sync_end(int fd, unsigned int index, uint64_t offset,
				uint64_t length, unsigned int direction);

/* --- devices (1.1) -------------------------------------------------------- */

/*
 * ZCBUF_IOC_DEVICE_INFO, for every registered device: fill @out[0..@max-1]
 * in id order and return how many devices there are (may be more than
 * @max: call again with a larger array; @out may be NULL when @max is 0).
 * -errno on failure (-ENOTTY: a module older than 1.1).
 */
LIBZCBUF_API int zcbuf_list_devices(int fd, struct zcbuf_device_desc *out,
				    unsigned int max);

/*
 * The id of the device called @name, or of device @name when it is a
 * decimal id ("2"), for zcbuf_config.device; -ENODEV if there is none.
 * If @desc is not NULL it receives the device's description.
 */
LIBZCBUF_API int zcbuf_find_device(int fd, const char *name,
				   struct zcbuf_device_desc *desc);

/* --- device and streaming ------------------------------------------------ */

/*
 * ZCBUF_IOC_CONFIG.  Start from a zeroed struct (reserved fields must be 0)
 * and fill what the personality uses (cfg->device: an id from
 * zcbuf_find_device(), or 0 for the default device); on success
 * cfg->frame_size says how
 * many bytes each queued buffer must hold.  cfg->frame_size is never sent
 * (it is an output), so a struct can be reused for another call.
 * cfg->flags goes to the kernel as it is (ZCBUF_CFG_STRICT, and
 * ZCBUF_CFG_NO_CHECKSUM from 1.2: see the uapi header).
 */
LIBZCBUF_API int zcbuf_configure(int fd, struct zcbuf_config *cfg);

/* ZCBUF_IOC_SET_EVENTFD: one count per completed buffer; -1 removes it. */
LIBZCBUF_API int zcbuf_set_eventfd(int fd, int eventfd);

/* ZCBUF_IOC_STREAMON / ZCBUF_IOC_STREAMOFF. */
LIBZCBUF_API int zcbuf_stream_on(int fd);
LIBZCBUF_API int zcbuf_stream_off(int fd);

/* ZCBUF_IOC_QBUF: @bytesused is for NIC TX, 0 otherwise. */
LIBZCBUF_API int zcbuf_queue_buffer(int fd, unsigned int index,
				    uint64_t bytesused);

/*
 * ZCBUF_IOC_DQBUF: the oldest completed buffer into *@dq.  Never blocks:
 * -EAGAIN when none is done; wait with zcbuf_wait() first.
 */
LIBZCBUF_API int zcbuf_dequeue_buffer(int fd, struct zcbuf_dqbuf *dq);

/*
 * Wait until @fd is readable: a /dev/zcbuf context (a buffer is DONE) or an
 * eventfd registered with zcbuf_set_eventfd() (a completion was counted; the
 * counter is not read).  @timeout_ms < 0 waits forever.  Returns 0 when
 * readable, -ETIME on timeout, -EIO if poll reports POLLERR or POLLHUP
 * without POLLIN, -EBADF for a bad fd.  Restarted on EINTR with the time
 * that is left.
 */
LIBZCBUF_API int zcbuf_wait(int fd, int timeout_ms);

/*
 * zcbuf_wait() on an eventfd, then read (and so reset) its counter into
 * *@count: the number of completions since the last read.
 */
LIBZCBUF_API int zcbuf_wait_eventfd(int eventfd, int timeout_ms,
				    uint64_t *count);

/* ZCBUF_IOC_STATS: counters of the current stream. */
LIBZCBUF_API int zcbuf_get_stats(int fd, struct zcbuf_stats *stats);

/* --- shared-memory rings ------------------------------------------------ */

/*
 * One ring of struct zcbuf_ring, as mapped: pointers into the shared area.
 * @array holds struct zcbuf_cqe (CQ) or struct zcbuf_sqe (SQ) entries.
 */
struct zcbuf_ring_queue {
	uint32_t *producer;
	uint32_t *consumer;
	uint32_t *flags;
	uint32_t *errors;
	void *array;
	uint32_t entries;	/* a power of two */
	uint32_t mask;		/* entries - 1 */
};

/*
 * The completion (CQ) and submission (SQ) rings of a context, mapped
 * (ZCBUF_IOC_RING_SETUP).  Fill it with zcbuf_setup_ring(); the fields are
 * there to read, not to change.
 *
 * Thread safety: the rings are single-producer single-consumer.  At most one
 * thread at a time may call zcbuf_get_completion(s)/zcbuf_wait_ring() and at
 * most one zcbuf_submit_buffer() on a given ring (the same thread or two
 * different ones); everything else stays free-threaded.
 */
struct zcbuf_ring {
	int fd;			/* the context */
	uint32_t entries;
	void *map;
	size_t map_size;
	struct zcbuf_ring_queue cq;
	struct zcbuf_ring_queue sq;
};

/*
 * ZCBUF_IOC_RING_SETUP with @entries (0: the kernel's default) and mmap()
 * of the shared area.  Once per context, not while streaming (-EBUSY).
 * Afterwards completions arrive only in the CQ: zcbuf_dequeue_buffer()
 * fails with -EINVAL.  Buffers must have been queued with
 * zcbuf_queue_buffer() once since the last zcbuf_configure() before they can
 * go back through the SQ.
 */
LIBZCBUF_API int zcbuf_setup_ring(int fd, unsigned int entries,
				  struct zcbuf_ring *ring);

/* munmap() the rings.  They live on in the context until it is closed. */
LIBZCBUF_API int zcbuf_unmap_ring(struct zcbuf_ring *ring);

/*
 * Take up to @max completions from the CQ into @cqes (copies; the slots go
 * back to the kernel at once).  Returns how many, 0 when the CQ is empty.
 * No system call.
 */
LIBZCBUF_API int zcbuf_get_completions(struct zcbuf_ring *ring,
				       struct zcbuf_cqe *cqes,
				       unsigned int max);

/* One completion into *@cqe: 0, or -EAGAIN when the CQ is empty. */
LIBZCBUF_API int zcbuf_get_completion(struct zcbuf_ring *ring,
				      struct zcbuf_cqe *cqe);

/*
 * Give buffer @index back to the device through the SQ (@bytesused as in
 * zcbuf_queue_buffer()).  -EAGAIN when the SQ is full.  No system call,
 * except ZCBUF_IOC_RING_KICK when the device has said it sleeps
 * (ZCBUF_RING_SQ_NEED_WAKEUP), as the protocol requires.  An entry the
 * kernel finds invalid is skipped and counted in *ring->sq.errors.
 */
LIBZCBUF_API int zcbuf_submit_buffer(struct zcbuf_ring *ring,
				     unsigned int index, uint64_t bytesused);

/* ZCBUF_IOC_RING_KICK: wake the device to look at the SQ. */
LIBZCBUF_API int zcbuf_kick_ring(int fd);

/*
 * Sleep until the CQ has an entry, at most @timeout_ms (< 0: no limit):
 * 0 at once if it has one; otherwise zcbuf_arm_wakeup(), then wait on
 * @eventfd (if >= 0; its counter is read and reset) or else poll() the
 * context, then zcbuf_disarm_wakeup().  -ETIME on timeout.  May return 0
 * with the CQ still empty (a stale eventfd count): call
 * zcbuf_get_completions() and wait again if it found nothing.
 */
LIBZCBUF_API int zcbuf_wait_ring(struct zcbuf_ring *ring, int eventfd,
				 int timeout_ms);

/*
 * For callers with their own poll() loop: ask the kernel to signal the
 * eventfd for the next completion (ZCBUF_RING_CQ_WANT_WAKEUP), then look at
 * the CQ once more.  Returns 0 when it is empty (now safe to sleep on the
 * eventfd or the context fd), -EAGAIN when completions are waiting (do not
 * sleep).  Call zcbuf_disarm_wakeup() after waking.
 */
LIBZCBUF_API int zcbuf_arm_wakeup(struct zcbuf_ring *ring);
LIBZCBUF_API int zcbuf_disarm_wakeup(struct zcbuf_ring *ring);

/* --- checksums ------------------------------------------------------------- */

/*
 * CRC-32 as zlib's crc32(): start with @crc 0, feed the previous result to
 * continue.  zcbuf_crc32(0, buf, len) is what the device reports in
 * zcbuf_dqbuf.checksum and zcbuf_pkt_desc.checksum (0 under
 * ZCBUF_CFG_NO_CHECKSUM).
 */
LIBZCBUF_API uint32_t zcbuf_crc32(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LIBZCBUF_H */
