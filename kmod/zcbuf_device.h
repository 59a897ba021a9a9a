/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf's device API: how a driver puts a camera or a NIC behind /dev/zcbuf.
 *
 * A driver registers one struct zcbuf_device per piece of hardware with
 * zcbuf_device_register(): its struct device (the one that DMAs), its ops and
 * what it can do.  The core then owns the device's user-visible side: its id
 * and entry in ZCBUF_IOC_DEVICE_INFO, its directory in /sys/class/zcbuf/,
 * the contexts that configure it.  zcbuf_device_unregister() (from the
 * driver's remove or module exit) stops every stream on the device and
 * unmaps every buffer from it before it returns; afterwards the core never
 * calls the driver again, whatever user space still holds.
 *
 * While streaming, a device sees buffers only as struct zcbuf_dev_buf: a DMA
 * mapping made for its own struct device through a DMA-buf attachment, which
 * it reads or writes by DMA address as hardware does.  It takes queued
 * buffers, fills in the result fields and completes them from its own
 * context (thread, IRQ, timer): zcbuf_queue_take(), _complete() and _drop()
 * take only a spinlock and may be called from any context.
 *
 * Symbols are exported in the ZCBUF namespace: a driver says
 * MODULE_IMPORT_NS(ZCBUF_NS(ZCBUF)) (ZCBUF_NS: zcbuf_compat.h).
 */
#ifndef _ZCBUF_DEVICE_H
#define _ZCBUF_DEVICE_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

#include <linux/zcbuf.h>

struct device;
struct dma_fence;
struct zcbuf_device;
struct zcbuf_queue;

/**
 * struct zcbuf_dev_buf - one queued buffer, as the device sees it
 * @node: entry in the queue's queued or done list, under its qlock
 * @index: the buffer's index in its context, for tracing and logs
 * @sgt: the buffer mapped for the device (DMA addresses in the DMA segments)
 * @size: size of the buffer in bytes
 * @tx_bytes: NIC TX: bytes user space asked to transmit
 * @sequence: (device) frame number since queue start
 * @timestamp_ns: (device) CLOCK_MONOTONIC time of completion
 * @bytesused: (device) bytes written or read
 * @checksum: (device) CRC-32 of what it wrote or read (see the uapi); left
 *	0 under ZCBUF_CFG_NO_CHECKSUM
 * @npackets: (device) NIC RX: packets written
 * @flags: (device) ZCBUF_DQ_* flags
 * @fence: signalled by zcbuf_queue_complete(); the queue's, not the device's
 */
struct zcbuf_dev_buf {
	struct list_head node;
	u32 index;
	struct sg_table *sgt;
	u64 size;
	u64 tx_bytes;
	u64 sequence;
	u64 timestamp_ns;
	u64 bytesused;
	u32 checksum;
	u32 npackets;
	u32 flags;
	struct dma_fence *fence;
};

/* Why a frame was lost. */
enum zcbuf_drop_reason {
	ZCBUF_DROP_NO_BUFFER,
	ZCBUF_DROP_INJECTED,
};

/**
 * struct zcbuf_device_ops - what a device does for the queues using it
 * @configure: check a configuration (a context's lock held, not streaming)
 *	and set cfg->frame_size; -EINVAL if unsupported.  Must not touch the
 *	hardware: it only says yes or no.  The core has checked cfg->flags
 *	against ZCBUF_CFG_VALID_FLAGS; a device that cannot honour one of
 *	them (ZCBUF_CFG_NO_CHECKSUM: compute no CRC-32, leave every checksum
 *	0) refuses it here.
 * @start: start producing/consuming for @queue with its configuration
 *	(zcbuf_queue_config()); may sleep
 * @stop: stop; when it returns, the device touches no buffer of @queue any
 *	more and calls none of the queue functions below for it; may sleep,
 *	and must not wait for anything that takes a context's lock
 * @buf_queued: a buffer was queued while streaming, or a queued buffer's
 *	dependencies signalled (any context, also under the queue's
 *	spinlock from a fence callback: only wake the device up here, call
 *	none of the queue functions); optional
 *
 * Calls for one queue never overlap (the context's lock serialises them,
 * except @buf_queued from a fence callback);
 * calls for different queues of one device may run concurrently.
 */
struct zcbuf_device_ops {
	int (*configure)(struct zcbuf_device *zdev, struct zcbuf_config *cfg);
	int (*start)(struct zcbuf_device *zdev, struct zcbuf_queue *queue);
	void (*stop)(struct zcbuf_device *zdev, struct zcbuf_queue *queue);
	void (*buf_queued)(struct zcbuf_device *zdev, struct zcbuf_queue *queue);
};

/**
 * struct zcbuf_device_info - what a driver tells zcbuf_device_register()
 * @name: unique name, at most ZCBUF_DEVICE_NAME_LEN - 1 characters of
 *	[A-Za-z0-9_.:-] (user space picks devices by it)
 * @dev: the struct device that attaches to the buffers and DMAs; the
 *	parent of the zcbuf device in sysfs.  Must stay bound to its driver
 *	until zcbuf_device_unregister() returns.
 * @ops: the device's operations
 * @kinds: ZCBUF_KIND_* bits: the personalities it has
 * @min_width: camera: smallest and largest frame, in pixels
 * @max_width: see @min_width
 * @min_height: see @min_width
 * @max_height: see @min_width
 * @formats: camera: the ZCBUF_FMT_* it produces, unused entries zero
 * @max_frame_size: largest frame/buffer it handles in one completion, in
 *	bytes; 0 for no limit of its own
 * @flags: ZCBUF_DEVICE_* flags
 * @priv: the driver's, returned by zcbuf_device_priv()
 */
struct zcbuf_device_info {
	const char *name;
	struct device *dev;
	const struct zcbuf_device_ops *ops;
	u32 kinds;
	u32 min_width;
	u32 max_width;
	u32 min_height;
	u32 max_height;
	u32 formats[ZCBUF_DEVICE_MAX_FORMATS];
	u64 max_frame_size;
	u32 flags;
	void *priv;
};

/*
 * The driver writes into the buffers its device writes (metadata such as
 * an RX descriptor table) with the CPU, through zcbuf_dev_buf_write():
 * their mappings are then DMA_BIDIRECTIONAL instead of DMA_FROM_DEVICE.
 */
#define ZCBUF_DEVICE_CPU_WRITES		BIT(0)

struct zcbuf_device *zcbuf_device_register(const struct zcbuf_device_info *info);
void zcbuf_device_unregister(struct zcbuf_device *zdev);
void *zcbuf_device_priv(struct zcbuf_device *zdev);
struct device *zcbuf_device_dev(struct zcbuf_device *zdev);

/* The device's side of the queue; any context, they only take a spinlock. */
struct zcbuf_dev_buf *zcbuf_queue_take(struct zcbuf_queue *queue);
void zcbuf_queue_complete(struct zcbuf_queue *queue,
			  struct zcbuf_dev_buf *dbuf);
void zcbuf_queue_drop(struct zcbuf_queue *queue,
		      enum zcbuf_drop_reason reason);

bool zcbuf_queue_has_queued(struct zcbuf_queue *queue);

/*
 * With shared rings, user space submits buffers in memory: a device asks
 * for them with zcbuf_queue_refill() before zcbuf_queue_take(); the core
 * queues them from its own work item (which allocates and fences them) and
 * calls ->buf_queued.  A device that waits for buffers waits for
 * zcbuf_queue_has_work(), which also asks user space for a kick when idle.
 * Both allocate nothing and may be called on the path that signals fences.
 *
 * That path, from zcbuf_queue_take() to zcbuf_queue_complete(), must not
 * allocate memory (other than GFP_ATOMIC) or take a lock that anyone holds
 * while waiting for a fence (dma_resv_lock, mutexes held across
 * allocations): reclaim may wait for the very fence the device is about
 * to signal.  Annotate it with dma_fence_begin_signalling() and
 * dma_fence_end_signalling(); zcbuf_queue_complete() does for its part.
 */
void zcbuf_queue_refill(struct zcbuf_queue *queue);
bool zcbuf_queue_has_work(struct zcbuf_queue *queue);

/*
 * The driver's own CPU access to a buffer its device has taken, for what
 * the hardware does not write itself (zcbuf_dev_cpu.c); any context, no
 * lock, no allocation: allowed between zcbuf_queue_take() and _complete().
 */
int zcbuf_dev_buf_write(struct zcbuf_dev_buf *dbuf, size_t offset,
			const void *src, size_t len);
int zcbuf_dev_buf_crc32(struct zcbuf_dev_buf *dbuf, size_t offset,
			size_t len, u32 *crc);

/* The queue's configuration and the device's per-queue pointer. */
const struct zcbuf_config *zcbuf_queue_config(struct zcbuf_queue *queue);
void *zcbuf_queue_get_drvdata(struct zcbuf_queue *queue);
void zcbuf_queue_set_drvdata(struct zcbuf_queue *queue, void *data);

#endif /* _ZCBUF_DEVICE_H */
