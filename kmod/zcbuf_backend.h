/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The line between zcbuf's buffer queue and a device.
 *
 * A device (the simulator in zcbuf_sim.c, or a real camera or NIC driver)
 * implements struct zcbuf_backend_ops.  While streaming, it sees buffers
 * only as struct zcbuf_dev_buf: a DMA mapping made for its own struct device
 * through a DMA-buf attachment, which it reads or writes by DMA address as
 * hardware would.  It takes queued buffers, fills in the result fields and
 * completes them, from its own context (thread, IRQ, timer): the three calls
 * below take only a spinlock and may be called from any context.
 */
#ifndef _ZCBUF_BACKEND_H
#define _ZCBUF_BACKEND_H

#include <linux/list.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

struct device;
struct dma_fence;
struct zcbuf_config;
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
 * @checksum: (device) CRC-32 of what it wrote or read (see the uapi)
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
 * struct zcbuf_backend_ops - what a device provides to the queue
 * @dev: the struct device that attaches to the buffers and DMAs
 * @configure: check a configuration (called with the context's lock held,
 *	not streaming) and set cfg->frame_size; -EINVAL if unsupported
 * @start: start producing/consuming for @queue with its configuration;
 *	may sleep
 * @stop: stop; when it returns, the device touches no buffer any more and
 *	calls none of the functions below for @queue; may sleep, and must
 *	not wait for anything that takes the context's lock
 * @buf_queued: a buffer was queued while streaming (any context; a device
 *	that waits for buffers wakes up here)
 */
struct zcbuf_backend_ops {
	struct device *(*dev)(void);
	int (*configure)(struct zcbuf_config *cfg);
	int (*start)(struct zcbuf_queue *queue);
	void (*stop)(struct zcbuf_queue *queue);
	void (*buf_queued)(struct zcbuf_queue *queue);
};

/* The device's side of the queue; any context, they only take a spinlock. */
struct zcbuf_dev_buf *zcbuf_queue_take(struct zcbuf_queue *queue);
void zcbuf_queue_complete(struct zcbuf_queue *queue,
			  struct zcbuf_dev_buf *dbuf);
void zcbuf_queue_drop(struct zcbuf_queue *queue,
		      enum zcbuf_drop_reason reason);

bool zcbuf_queue_has_queued(struct zcbuf_queue *queue);

/*
 * With shared rings, user space submits buffers in memory: a device takes
 * them with zcbuf_queue_refill() from its own process context (it may sleep)
 * before zcbuf_queue_take().  A device that waits for buffers waits for
 * zcbuf_queue_has_work(), which also asks user space for a kick when idle.
 */
void zcbuf_queue_refill(struct zcbuf_queue *queue);
bool zcbuf_queue_has_work(struct zcbuf_queue *queue);

/* The queue's configuration and the device's private pointer. */
const struct zcbuf_config *zcbuf_queue_config(struct zcbuf_queue *queue);
void *zcbuf_queue_get_drvdata(struct zcbuf_queue *queue);
void zcbuf_queue_set_drvdata(struct zcbuf_queue *queue, void *data);

#endif /* _ZCBUF_BACKEND_H */
