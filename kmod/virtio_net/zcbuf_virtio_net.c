// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-virtio-net: a virtio-net device as a zcbuf NIC (RX and TX).
 *
 * The device's receive and transmit virtqueues are driven with zcbuf
 * buffers: frames land by DMA in the buffers user space queued, and are
 * sent by DMA from them, at the DMA addresses of the device's own DMA-buf
 * attachment (premapped virtqueues: virtio does no mapping of its own).
 *
 * It never takes a NIC by surprise: probe refuses (-ENODEV) every device
 * not named in the module parameter "devices".  To give one to zcbuf:
 *
 *   echo virtio1 > /sys/module/zcbuf_virtio_net/parameters/devices
 *   echo virtio1 > /sys/bus/virtio/drivers/virtio_net/unbind
 *   echo virtio1 > /sys/bus/virtio/drivers/zcbuf_virtio_net/bind
 *
 * It appears as zcbuf device "vnet-virtio1" (kinds NIC RX and NIC TX).
 *
 * What the device must offer: VIRTIO_F_ACCESS_PLATFORM (QEMU's
 * iommu_platform=on), without which it reads and writes guest-physical
 * addresses rather than DMA addresses and no DMA API mapping applies;
 * VIRTIO_F_RING_RESET (queue_reset=on, QEMU's default), with which a
 * stopped stream takes its buffers back from the device; and virtio 1.0.
 * Mergeable RX buffers, offloads and the control queue are not negotiated:
 * the device writes each frame whole into one posted slot (a larger one
 * is dropped by the device, unseen), and stays promiscuous.
 *
 * RX: each queued buffer is cut into pkts_per_buffer slots of pkt_max
 * bytes behind a table of struct zcbuf_pkt_desc, as the simulated NIC
 * lays it out; each slot is one descriptor chain (the 12-byte virtio-net
 * header goes to a coherent array of the driver's, so that frames start
 * 64-byte aligned).  The buffer completes once the device has used all its
 * slots; the driver then writes the table with the CPU (the device says
 * where a frame ended only in its used ring) and the checksums of the
 * frames, which it computes with the CPU as each frame arrives (none under
 * ZCBUF_CFG_NO_CHECKSUM).  While user space has no buffer queued, a few
 * slots of the driver's own catch what arrives: each such frame counts as
 * dropped (no buffer).
 *
 * TX: a buffer holds one frame of QBUF's bytesused (the uapi's NIC TX),
 * sent as one descriptor chain: a zeroed virtio-net header of the driver's
 * (no offloads), then the frame's DMA segments.  It completes once the
 * device has returned the chain in its used ring, i.e. has read the bytes;
 * the driver then reads them for their checksum (unless
 * ZCBUF_CFG_NO_CHECKSUM).
 *
 * Each stream runs in a work item, kicked by its virtqueue's interrupt and
 * by new buffers; stopping it resets its virtqueue (VIRTIO_F_RING_RESET),
 * after which the device holds none of its buffers.
 */

#include <linux/crc32.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include <linux/zcbuf.h>

#include "zcbuf_compat.h"
#include "zcbuf_device.h"

static char *devices;
module_param(devices, charp, 0644);
MODULE_PARM_DESC(devices,
		 "virtio devices to drive, e.g. \"virtio1,virtio2\" (default none)");

#ifdef ZCBUF_HAVE_VIRTQUEUE_PREMAPPED

#define VNET_RX_VQ		0
#define VNET_TX_VQ		1
#define VNET_HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define VNET_PKT_ALIGN		64
/* A chain: the header, and a frame of up to ZCBUF_PKT_MAX over pages. */
#define VNET_MAX_SG		(2 + DIV_ROUND_UP(ZCBUF_PKT_MAX, PAGE_SIZE))
/* Slots of the driver's own, posted while user space has none queued. */
#define VNET_SCRATCH		4
#define VNET_SCRATCH_SIZE	ALIGN(ZCBUF_PKT_MAX, VNET_PKT_ALIGN)
#define VNET_MAX_PKTS		4096

struct zcbuf_vnet_stream;

/**
 * struct zcbuf_vnet - one virtio-net device given to zcbuf
 * @vdev: the virtio device
 * @rx_vq: receive virtqueue
 * @tx_vq: transmit virtqueue
 * @dma_dev: the device that DMAs (virtqueue_dma_dev())
 * @zdev: its registration with zcbuf
 * @name: its zcbuf name
 * @rx_entries: entries of @rx_vq
 * @chain_entries: ring entries one chain may take (1 with indirect
 *	descriptors)
 * @hdrs: coherent: one virtio-net header per RX ring entry, then one
 *	(zeroed, read by the device only) for every TX frame
 * @hdrs_dma: its DMA address
 * @scratch: coherent: VNET_SCRATCH slots that catch frames nobody asked for
 * @scratch_dma: its DMA address
 * @lock: serialises ->start and ->stop (two queues may call them at once)
 *	and protects @broken
 * @broken: a virtqueue reset failed: the device was reset whole, so
 *	nothing starts again until it is bound anew
 * @cb_lock: protects @rx and @tx, which the virtqueue callbacks and
 *	->buf_queued read from any context
 * @rx: the RX stream, or NULL
 * @tx: the TX stream, or NULL
 */
struct zcbuf_vnet {
	struct virtio_device *vdev;
	struct virtqueue *rx_vq;
	struct virtqueue *tx_vq;
	struct device *dma_dev;
	struct zcbuf_device *zdev;
	char name[ZCBUF_DEVICE_NAME_LEN];
	unsigned int rx_entries;
	unsigned int chain_entries;
	struct virtio_net_hdr_mrg_rxbuf *hdrs;
	dma_addr_t hdrs_dma;
	u8 *scratch;
	dma_addr_t scratch_dma;
	struct mutex lock;	/* see @lock above */
	bool broken;
	spinlock_t cb_lock;	/* see @cb_lock above */
	struct zcbuf_vnet_stream *rx;
	struct zcbuf_vnet_stream *tx;
};

/**
 * struct zcbuf_vnet_rxbuf - a queued buffer whose slots are posted
 * @node: entry in the stream's @rxbufs while posted, else in its
 *	@free_rxbufs
 * @dbuf: the buffer
 * @posted: slots posted to the device
 * @used: slots the device has returned
 * @error: a frame could not be checksummed
 * @descs: pkts_per_buffer entries, one per slot, filled as frames arrive
 */
struct zcbuf_vnet_rxbuf {
	struct list_head node;
	struct zcbuf_dev_buf *dbuf;
	u32 posted;
	u32 used;
	bool error;
	struct zcbuf_pkt_desc *descs;
};

/**
 * struct zcbuf_vnet_token - one RX descriptor chain in the device's hands
 * @rxbuf: the buffer whose slot it is, or NULL for a scratch slot
 * @slot: the slot in @rxbuf, or the scratch slot
 */
struct zcbuf_vnet_token {
	struct zcbuf_vnet_rxbuf *rxbuf;
	u32 slot;
};

/**
 * struct zcbuf_vnet_stream - one streaming queue (RX or TX)
 * @vn: the device
 * @queue: the zcbuf queue
 * @cfg: its configuration, a copy taken at start
 * @checksums: the frames' CRC-32s are wanted (no ZCBUF_CFG_NO_CHECKSUM)
 * @vq: the virtqueue it drives
 * @work: drains the used ring and posts buffers; the only user of @vq
 *	between start and stop, so everything below is the work's alone
 * @sequence: next buffer's number
 * @rxbufs: RX: buffers with slots posted, oldest first
 * @free_rxbufs: RX: the unused entries of @rxbuf_pool
 * @rxbuf_pool: RX: as many as can be posted at once (a ring's worth of
 *	slots), allocated at start: the work allocates nothing
 * @descs: RX: the pool's descriptors, pkts_per_buffer per entry
 * @table_size: RX: bytes of the descriptor table, 64-byte aligned
 * @stride: RX: bytes from one slot to the next
 * @table: RX: the descriptor table being written, pkts_per_buffer entries
 * @tokens: RX: one per ring entry; token i uses header i
 * @free: RX: indices of the unused @tokens
 * @nr_free: RX: entries in @free
 * @scratch_busy: RX: scratch slots posted, a bit each
 */
struct zcbuf_vnet_stream {
	struct zcbuf_vnet *vn;
	struct zcbuf_queue *queue;
	struct zcbuf_config cfg;
	bool checksums;
	struct virtqueue *vq;
	struct work_struct work;
	u64 sequence;
	struct list_head rxbufs;
	struct list_head free_rxbufs;
	struct zcbuf_vnet_rxbuf *rxbuf_pool;
	struct zcbuf_pkt_desc *descs;
	size_t table_size;
	size_t stride;
	struct zcbuf_pkt_desc *table;
	struct zcbuf_vnet_token *tokens;
	u32 *free;
	u32 nr_free;
	unsigned long scratch_busy;
};

static dma_addr_t zcbuf_vnet_hdr_dma(struct zcbuf_vnet *vn, unsigned int i)
{
	return vn->hdrs_dma + i * sizeof(*vn->hdrs);
}

/* A premapped scatterlist entry: virtio takes the DMA address as it is. */
static void zcbuf_vnet_sg_set(struct scatterlist *sg, dma_addr_t addr,
			      u32 len)
{
	sg->dma_address = addr;
	sg->length = len;
#ifdef CONFIG_NEED_SG_DMA_LENGTH
	sg->dma_length = len;
#endif
}

/*
 * Fill @sg with the DMA segments of [@off, @off + @len) of a mapped buffer.
 * Return: the entries used, -ERANGE past the end of the mapping, -E2BIG
 * when they would be more than @max.
 */
static int zcbuf_vnet_sg_range(struct sg_table *sgt, size_t off, size_t len,
			       struct scatterlist *sg, unsigned int max)
{
	struct scatterlist *s;
	unsigned int i, n = 0;
	size_t pos = 0;

	for_each_sgtable_dma_sg(sgt, s, i) {
		size_t seg = sg_dma_len(s);

		if (off < pos + seg) {
			size_t from = off - pos;
			size_t chunk = min(len, seg - from);

			if (n == max)
				return -E2BIG;
			zcbuf_vnet_sg_set(&sg[n++], sg_dma_address(s) + from,
					  chunk);
			off += chunk;
			len -= chunk;
			if (!len)
				return n;
		}
		pos += seg;
	}
	return -ERANGE;
}

/* ---- RX ---- */

static void zcbuf_vnet_rx_complete(struct zcbuf_vnet_stream *s,
				   struct zcbuf_vnet_rxbuf *rb)
{
	size_t table_bytes = s->cfg.pkts_per_buffer * sizeof(*s->table);
	struct zcbuf_pkt_desc *table = s->table;
	struct zcbuf_dev_buf *dbuf = rb->dbuf;
	u32 n = 0, i;

	/* The frames in slot order; a chain shorter than a header is none. */
	memset(table, 0, table_bytes);
	for (i = 0; i < rb->posted; i++)
		if (rb->descs[i].length)
			table[n++] = rb->descs[i];
	if (zcbuf_dev_buf_write(dbuf, 0, table, table_bytes) || rb->error)
		dbuf->flags |= ZCBUF_DQ_ERROR;
	dbuf->npackets = n;
	dbuf->bytesused = n ? table[n - 1].offset + table[n - 1].length :
			      table_bytes;
	if (s->checksums)
		dbuf->checksum = ~crc32_le(~0U, (const u8 *)table,
					   n * sizeof(*table));
	dbuf->sequence = s->sequence++;
	dbuf->timestamp_ns = ktime_get_ns();
	list_move(&rb->node, &s->free_rxbufs);
	zcbuf_queue_complete(s->queue, dbuf);
}

static void zcbuf_vnet_rx_used(struct zcbuf_vnet_stream *s,
			       struct zcbuf_vnet_token *t, unsigned int len)
{
	struct zcbuf_vnet_rxbuf *rb = t->rxbuf;
	u32 slot = t->slot;

	s->free[s->nr_free++] = t - s->tokens;
	if (!rb) {
		/* Nobody had a buffer queued for it. */
		__clear_bit(slot, &s->scratch_busy);
		zcbuf_queue_drop(s->queue, ZCBUF_DROP_NO_BUFFER);
		return;
	}

	if (len > VNET_HDR_LEN) {
		struct zcbuf_pkt_desc *d = &rb->descs[slot];

		d->offset = s->table_size + slot * s->stride;
		d->length = min_t(u32, len - VNET_HDR_LEN, s->cfg.pkt_max);
		/* Without checksums d->checksum stays 0 (rx_post zeroed it). */
		if (s->checksums &&
		    zcbuf_dev_buf_crc32(rb->dbuf, d->offset, d->length,
					&d->checksum))
			rb->error = true;
	}
	if (++rb->used == rb->posted)
		zcbuf_vnet_rx_complete(s, rb);
}

/* Post one chain: the header of token @tok, then @nsg entries of @sg. */
static int zcbuf_vnet_rx_add(struct zcbuf_vnet_stream *s,
			     struct scatterlist *sg, unsigned int nsg,
			     struct zcbuf_vnet_rxbuf *rb, u32 slot)
{
	struct zcbuf_vnet_token *t;
	u32 tok;
	int ret;

	if (!s->nr_free)
		return -ENOSPC;
	tok = s->free[s->nr_free - 1];
	t = &s->tokens[tok];
	t->rxbuf = rb;
	t->slot = slot;
	zcbuf_vnet_sg_set(&sg[0], zcbuf_vnet_hdr_dma(s->vn, tok), VNET_HDR_LEN);
	/* virtio walks the list to its end mark, whatever the count says. */
	sg_mark_end(&sg[nsg]);
	/*
	 * On the fence-signalling path: only an atomic allocation (of an
	 * indirect table; without one virtio chains ring entries instead).
	 */
	ret = zcbuf_virtqueue_add_inbuf(s->vq, sg, nsg + 1, t, GFP_ATOMIC);
	if (!ret)
		s->nr_free--;
	return ret;
}

/* Post every slot of a buffer user space queued. */
static int zcbuf_vnet_rx_post(struct zcbuf_vnet_stream *s,
			      struct zcbuf_dev_buf *dbuf)
{
	struct scatterlist sg[VNET_MAX_SG];
	struct zcbuf_vnet_rxbuf *rb;
	u32 i;
	int ret = 0;

	/* zcbuf_vnet_rx_room() saw one. */
	rb = list_first_entry_or_null(&s->free_rxbufs, struct zcbuf_vnet_rxbuf,
				      node);
	if (!rb)
		return -ENOSPC;
	rb->dbuf = dbuf;
	rb->posted = 0;
	rb->used = 0;
	rb->error = false;
	memset(rb->descs, 0, s->cfg.pkts_per_buffer * sizeof(*rb->descs));
	for (i = 0; i < s->cfg.pkts_per_buffer; i++) {
		int n;

		sg_init_table(sg, ARRAY_SIZE(sg));
		n = zcbuf_vnet_sg_range(dbuf->sgt,
					s->table_size + i * s->stride,
					s->cfg.pkt_max, &sg[1],
					ARRAY_SIZE(sg) - 1);
		ret = n < 0 ? n : zcbuf_vnet_rx_add(s, sg, n, rb, i);
		if (ret)
			break;
		rb->posted++;
	}
	if (!rb->posted)
		return ret;
	/* What is posted cannot be taken back: it completes with fewer. */
	list_move_tail(&rb->node, &s->rxbufs);
	return 0;
}

static bool zcbuf_vnet_rx_room(struct zcbuf_vnet_stream *s)
{
	u32 ppb = s->cfg.pkts_per_buffer;

	return !list_empty(&s->free_rxbufs) && s->nr_free >= ppb &&
	       s->vq->num_free >= ppb * s->vn->chain_entries;
}

static bool zcbuf_vnet_rx_fill(struct zcbuf_vnet_stream *s)
{
	struct zcbuf_vnet *vn = s->vn;
	bool added = false;
	u32 i;

	zcbuf_queue_refill(s->queue);
	while (zcbuf_vnet_rx_room(s)) {
		struct zcbuf_dev_buf *dbuf = zcbuf_queue_take(s->queue);

		if (!dbuf)
			break;
		if (zcbuf_vnet_rx_post(s, dbuf)) {
			dbuf->flags |= ZCBUF_DQ_ERROR;
			dbuf->sequence = s->sequence++;
			dbuf->timestamp_ns = ktime_get_ns();
			zcbuf_queue_complete(s->queue, dbuf);
			continue;
		}
		added = true;
	}

	/* Nothing of user space's posted: catch what comes, to count it. */
	for (i = 0; list_empty(&s->rxbufs) && i < VNET_SCRATCH; i++) {
		struct scatterlist sg[2];

		if (test_bit(i, &s->scratch_busy))
			continue;
		sg_init_table(sg, ARRAY_SIZE(sg));
		zcbuf_vnet_sg_set(&sg[1], vn->scratch_dma +
				  i * VNET_SCRATCH_SIZE, VNET_SCRATCH_SIZE);
		if (zcbuf_vnet_rx_add(s, sg, 1, NULL, i))
			break;
		__set_bit(i, &s->scratch_busy);
		added = true;
	}
	return added;
}

static void zcbuf_vnet_rx_work(struct work_struct *work)
{
	struct zcbuf_vnet_stream *s = container_of(work, struct zcbuf_vnet_stream,
						   work);
	unsigned int len;
	bool cookie;
	void *tok;

	/*
	 * Everything here works on buffers between zcbuf_queue_take() and
	 * zcbuf_queue_complete(), whose fences it signals: nothing may
	 * allocate (other than GFP_ATOMIC) or take a lock that anyone holds
	 * while allocating or waiting for a fence.  The work takes none but
	 * the queue's spinlock (in the core); lockdep checks it.
	 */
	cookie = dma_fence_begin_signalling();
	do {
		virtqueue_disable_cb(s->vq);
		while ((tok = virtqueue_get_buf(s->vq, &len)))
			zcbuf_vnet_rx_used(s, tok, len);
		if (zcbuf_vnet_rx_fill(s))
			virtqueue_kick(s->vq);
	} while (!virtqueue_enable_cb(s->vq));
	dma_fence_end_signalling(cookie);
}

/* ---- TX ---- */

static void zcbuf_vnet_tx_complete(struct zcbuf_vnet_stream *s,
				   struct zcbuf_dev_buf *dbuf, bool error)
{
	/* What was sent, read back once the device is done with it. */
	if (!error && s->checksums &&
	    zcbuf_dev_buf_crc32(dbuf, 0, dbuf->tx_bytes, &dbuf->checksum))
		error = true;
	if (error)
		dbuf->flags |= ZCBUF_DQ_ERROR;
	else
		dbuf->bytesused = dbuf->tx_bytes;
	dbuf->sequence = s->sequence++;
	dbuf->timestamp_ns = ktime_get_ns();
	zcbuf_queue_complete(s->queue, dbuf);
}

/* Post the frame of one buffer: the TX header, then its bytes. */
static int zcbuf_vnet_tx_add(struct zcbuf_vnet_stream *s,
			     struct zcbuf_dev_buf *dbuf)
{
	struct zcbuf_vnet *vn = s->vn;
	struct scatterlist sg[VNET_MAX_SG];
	int n;

	if (dbuf->tx_bytes < ETH_HLEN || dbuf->tx_bytes > ZCBUF_PKT_MAX)
		return -EINVAL;
	sg_init_table(sg, ARRAY_SIZE(sg));
	zcbuf_vnet_sg_set(&sg[0], zcbuf_vnet_hdr_dma(vn, vn->rx_entries),
			  VNET_HDR_LEN);
	n = zcbuf_vnet_sg_range(dbuf->sgt, 0, dbuf->tx_bytes, &sg[1],
				ARRAY_SIZE(sg) - 1);
	if (n < 0)
		return n;
	/* virtio walks the list to its end mark, whatever the count says. */
	sg_mark_end(&sg[n]);
	/* On the fence-signalling path: as for RX, atomic only. */
	return zcbuf_virtqueue_add_outbuf(s->vq, sg, n + 1, dbuf, GFP_ATOMIC);
}

static bool zcbuf_vnet_tx_fill(struct zcbuf_vnet_stream *s)
{
	bool added = false;

	zcbuf_queue_refill(s->queue);
	while (s->vq->num_free >= s->vn->chain_entries) {
		struct zcbuf_dev_buf *dbuf = zcbuf_queue_take(s->queue);

		if (!dbuf)
			break;
		if (zcbuf_vnet_tx_add(s, dbuf)) {
			zcbuf_vnet_tx_complete(s, dbuf, true);
			continue;
		}
		added = true;
	}
	return added;
}

static void zcbuf_vnet_tx_work(struct work_struct *work)
{
	struct zcbuf_vnet_stream *s = container_of(work, struct zcbuf_vnet_stream,
						   work);
	struct zcbuf_dev_buf *dbuf;
	unsigned int len;
	bool cookie;

	/* As zcbuf_vnet_rx_work(): the path that signals the fences. */
	cookie = dma_fence_begin_signalling();
	do {
		virtqueue_disable_cb(s->vq);
		/* Used: the device has read the frame, it may be reused. */
		while ((dbuf = virtqueue_get_buf(s->vq, &len)))
			zcbuf_vnet_tx_complete(s, dbuf, false);
		if (zcbuf_vnet_tx_fill(s))
			virtqueue_kick(s->vq);
	} while (!virtqueue_enable_cb(s->vq));
	dma_fence_end_signalling(cookie);
}

/* ---- virtqueue callbacks (interrupt context) ---- */

static void zcbuf_vnet_vq_done(struct virtqueue *vq)
{
	struct zcbuf_vnet *vn = vq->vdev->priv;
	struct zcbuf_vnet_stream *s;
	unsigned long flags;

	virtqueue_disable_cb(vq);
	spin_lock_irqsave(&vn->cb_lock, flags);
	s = vq == vn->rx_vq ? vn->rx : vn->tx;
	if (s)
		queue_work(system_highpri_wq, &s->work);
	spin_unlock_irqrestore(&vn->cb_lock, flags);
}

/* ---- zcbuf device ops ---- */

static int zcbuf_vnet_configure(struct zcbuf_device *zdev,
				struct zcbuf_config *cfg)
{
	struct zcbuf_vnet *vn = zcbuf_device_priv(zdev);
	u32 max_pkts;

	/* The wire decides sizes and timing; no fault injection either. */
	if (cfg->width || cfg->height || cfg->pixelformat || cfg->fps ||
	    cfg->pkt_min || cfg->pkt_rate || cfg->drop_permille ||
	    cfg->error_permille || cfg->jitter_us || cfg->stall_every ||
	    cfg->stall_ms)
		return -EINVAL;

	if (cfg->personality == ZCBUF_DEV_NIC_TX) {
		if (cfg->pkt_max || cfg->pkts_per_buffer)
			return -EINVAL;
		/* One frame of QBUF's bytesused per buffer. */
		cfg->frame_size = ETH_HLEN;
		return 0;
	}
	if (cfg->personality != ZCBUF_DEV_NIC_RX)
		return -EINVAL;

	/* Every slot of a buffer must fit in the ring at once. */
	max_pkts = min_t(u32, VNET_MAX_PKTS,
			 vn->rx_entries / vn->chain_entries);
	if (cfg->pkt_max < ZCBUF_PKT_MIN || cfg->pkt_max > ZCBUF_PKT_MAX ||
	    !cfg->pkts_per_buffer || cfg->pkts_per_buffer > max_pkts)
		return -EINVAL;
	cfg->frame_size = ALIGN(cfg->pkts_per_buffer *
				sizeof(struct zcbuf_pkt_desc), VNET_PKT_ALIGN) +
			  cfg->pkts_per_buffer * ALIGN(cfg->pkt_max,
						       VNET_PKT_ALIGN);
	return 0;
}

static void zcbuf_vnet_stream_free(struct zcbuf_vnet_stream *s)
{
	kvfree(s->descs);
	kfree(s->rxbuf_pool);
	kfree(s->free);
	kfree(s->tokens);
	kvfree(s->table);
	kfree(s);
}

/* What the RX work needs, allocated before it runs: it allocates nothing. */
static int zcbuf_vnet_rx_alloc(struct zcbuf_vnet_stream *s)
{
	const struct zcbuf_config *cfg = &s->cfg;
	struct zcbuf_vnet *vn = s->vn;
	u32 i, nbufs;

	s->table_size = ALIGN(cfg->pkts_per_buffer *
			      sizeof(struct zcbuf_pkt_desc), VNET_PKT_ALIGN);
	s->stride = ALIGN(cfg->pkt_max, VNET_PKT_ALIGN);
	s->tokens = kcalloc(vn->rx_entries, sizeof(*s->tokens), GFP_KERNEL);
	s->free = kcalloc(vn->rx_entries, sizeof(*s->free), GFP_KERNEL);
	s->table = kvcalloc(cfg->pkts_per_buffer, sizeof(*s->table),
			    GFP_KERNEL);
	/* Each posted buffer takes pkts_per_buffer of the ring's entries. */
	nbufs = vn->rx_entries / cfg->pkts_per_buffer;
	s->rxbuf_pool = kcalloc(nbufs, sizeof(*s->rxbuf_pool), GFP_KERNEL);
	s->descs = kvcalloc(nbufs * cfg->pkts_per_buffer, sizeof(*s->descs),
			    GFP_KERNEL);
	/* zcbuf_vnet_stream_free() frees what was allocated. */
	if (!s->tokens || !s->free || !s->table || !s->rxbuf_pool ||
	    !s->descs)
		return -ENOMEM;
	for (i = 0; i < vn->rx_entries; i++)
		s->free[s->nr_free++] = i;
	for (i = 0; i < nbufs; i++) {
		struct zcbuf_vnet_rxbuf *rb = &s->rxbuf_pool[i];

		rb->descs = &s->descs[i * cfg->pkts_per_buffer];
		list_add_tail(&rb->node, &s->free_rxbufs);
	}
	return 0;
}

static int zcbuf_vnet_start(struct zcbuf_device *zdev,
			    struct zcbuf_queue *queue)
{
	struct zcbuf_vnet *vn = zcbuf_device_priv(zdev);
	const struct zcbuf_config *cfg = zcbuf_queue_config(queue);
	bool rx = cfg->personality == ZCBUF_DEV_NIC_RX;
	struct zcbuf_vnet_stream *s;
	unsigned long flags;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->vn = vn;
	s->queue = queue;
	s->cfg = *cfg;
	s->checksums = !(cfg->flags & ZCBUF_CFG_NO_CHECKSUM);
	s->vq = rx ? vn->rx_vq : vn->tx_vq;
	INIT_LIST_HEAD(&s->rxbufs);
	INIT_LIST_HEAD(&s->free_rxbufs);
	INIT_WORK(&s->work, rx ? zcbuf_vnet_rx_work : zcbuf_vnet_tx_work);
	if (rx) {
		ret = zcbuf_vnet_rx_alloc(s);
		if (ret)
			goto free;
	}

	mutex_lock(&vn->lock);
	if (vn->broken) {
		ret = -EIO;
		goto unlock;
	}
	if (rx ? vn->rx : vn->tx) {
		/* One stream per direction: the virtqueue is its own. */
		ret = -EBUSY;
		goto unlock;
	}
	zcbuf_queue_set_drvdata(queue, s);
	spin_lock_irqsave(&vn->cb_lock, flags);
	if (rx)
		vn->rx = s;
	else
		vn->tx = s;
	spin_unlock_irqrestore(&vn->cb_lock, flags);
	queue_work(system_highpri_wq, &s->work);
	mutex_unlock(&vn->lock);
	/*
	 * The buffers queued before STREAMON are on the device when it
	 * returns: frames sent after it never wait in QEMU's queues, which
	 * may hand them over out of order once the NIC has buffers.
	 */
	flush_work(&s->work);
	return 0;

unlock:
	mutex_unlock(&vn->lock);
free:
	zcbuf_vnet_stream_free(s);
	return ret;
}

/* Unused chains come back here from virtqueue_reset(): nothing to undo. */
static void zcbuf_vnet_recycle(struct virtqueue *vq, void *buf)
{
}

static void zcbuf_vnet_stop(struct zcbuf_device *zdev,
			    struct zcbuf_queue *queue)
{
	struct zcbuf_vnet *vn = zcbuf_device_priv(zdev);
	struct zcbuf_vnet_stream *s = zcbuf_queue_get_drvdata(queue);
	unsigned long flags;
	int ret;

	mutex_lock(&vn->lock);
	/* No callback or new buffer schedules the work after this... */
	spin_lock_irqsave(&vn->cb_lock, flags);
	if (vn->rx == s)
		vn->rx = NULL;
	else
		vn->tx = NULL;
	spin_unlock_irqrestore(&vn->cb_lock, flags);
	/* ...and once it has finished, the virtqueue is ours alone. */
	cancel_work_sync(&s->work);

	/*
	 * Take every posted chain back from the device: afterwards it
	 * touches none of the queue's buffers.  Buffers it never completed
	 * go back to user space through the core.
	 */
	virtqueue_disable_cb(s->vq);
	ret = virtqueue_reset(s->vq, zcbuf_vnet_recycle, NULL);
	if (ret) {
		dev_err(&vn->vdev->dev,
			"virtqueue reset failed (%d): resetting the device\n",
			ret);
		virtio_reset_device(vn->vdev);
		vn->broken = true;
	}
	mutex_unlock(&vn->lock);

	zcbuf_queue_set_drvdata(queue, NULL);
	zcbuf_vnet_stream_free(s);
}

/* Any context, also under the queue's spinlock: only kick the work. */
static void zcbuf_vnet_buf_queued(struct zcbuf_device *zdev,
				  struct zcbuf_queue *queue)
{
	struct zcbuf_vnet *vn = zcbuf_device_priv(zdev);
	unsigned long flags;

	spin_lock_irqsave(&vn->cb_lock, flags);
	if (vn->rx && vn->rx->queue == queue)
		queue_work(system_highpri_wq, &vn->rx->work);
	else if (vn->tx && vn->tx->queue == queue)
		queue_work(system_highpri_wq, &vn->tx->work);
	spin_unlock_irqrestore(&vn->cb_lock, flags);
}

static const struct zcbuf_device_ops zcbuf_vnet_ops = {
	.configure = zcbuf_vnet_configure,
	.start = zcbuf_vnet_start,
	.stop = zcbuf_vnet_stop,
	.buf_queued = zcbuf_vnet_buf_queued,
};

/* ---- virtio driver ---- */

static int zcbuf_vnet_check(struct virtio_device *vdev)
{
	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "not a virtio 1.0 device\n");
		return -ENODEV;
	}
	if (!virtio_has_feature(vdev, VIRTIO_F_ACCESS_PLATFORM)) {
		dev_err(&vdev->dev,
			"no VIRTIO_F_ACCESS_PLATFORM: it DMAs to guest-physical addresses, not DMA addresses (QEMU: iommu_platform=on)\n");
		return -ENODEV;
	}
	if (!virtio_has_feature(vdev, VIRTIO_F_RING_RESET)) {
		dev_err(&vdev->dev,
			"no VIRTIO_F_RING_RESET: a stopped stream could not take its buffers back (QEMU: queue_reset=on)\n");
		return -ENODEV;
	}
	return 0;
}

static int zcbuf_vnet_probe(struct virtio_device *vdev)
{
	struct virtqueue_info vqs_info[] = {
		[VNET_RX_VQ] = { "zcbuf-rx", zcbuf_vnet_vq_done },
		[VNET_TX_VQ] = { "zcbuf-tx", zcbuf_vnet_vq_done },
	};
	struct zcbuf_device_info info = {
		.ops = &zcbuf_vnet_ops,
		.kinds = ZCBUF_KIND_NIC_RX | ZCBUF_KIND_NIC_TX,
		.flags = ZCBUF_DEVICE_CPU_WRITES,
	};
	struct virtqueue *vqs[ARRAY_SIZE(vqs_info)];
	struct zcbuf_vnet *vn;
	size_t hdrs_size;
	int ret;

	/* zcbuf_vnet_validate() accepted it. */
	vn = kzalloc(sizeof(*vn), GFP_KERNEL);
	if (!vn)
		return -ENOMEM;
	vn->vdev = vdev;
	mutex_init(&vn->lock);
	spin_lock_init(&vn->cb_lock);
	vdev->priv = vn;

	ret = virtio_find_vqs(vdev, ARRAY_SIZE(vqs), vqs, vqs_info, NULL);
	if (ret)
		goto free;
	vn->rx_vq = vqs[VNET_RX_VQ];
	vn->tx_vq = vqs[VNET_TX_VQ];
	vn->dma_dev = virtqueue_dma_dev(vn->rx_vq);
	if (!vn->dma_dev) {
		dev_err(&vdev->dev, "its virtqueues do not use the DMA API\n");
		ret = -ENODEV;
		goto del_vqs;
	}
	ret = zcbuf_virtqueue_set_premapped(vn->rx_vq);
	if (!ret)
		ret = zcbuf_virtqueue_set_premapped(vn->tx_vq);
	if (ret) {
		dev_err(&vdev->dev, "no premapped virtqueues: %d\n", ret);
		goto del_vqs;
	}
	vn->rx_entries = virtqueue_get_vring_size(vn->rx_vq);
	vn->chain_entries = virtio_has_feature(vdev,
					       VIRTIO_RING_F_INDIRECT_DESC) ?
			    1 : VNET_MAX_SG;

	/* RX headers, one per ring entry, and the TX header. */
	hdrs_size = (vn->rx_entries + 1) * sizeof(*vn->hdrs);
	vn->hdrs = dma_alloc_coherent(vn->dma_dev, hdrs_size, &vn->hdrs_dma,
				      GFP_KERNEL);
	if (!vn->hdrs) {
		ret = -ENOMEM;
		goto del_vqs;
	}
	vn->scratch = dma_alloc_coherent(vn->dma_dev,
					 VNET_SCRATCH * VNET_SCRATCH_SIZE,
					 &vn->scratch_dma, GFP_KERNEL);
	if (!vn->scratch) {
		ret = -ENOMEM;
		goto free_hdrs;
	}

	virtio_device_ready(vdev);

	snprintf(vn->name, sizeof(vn->name), "vnet-%s", dev_name(&vdev->dev));
	info.name = vn->name;
	info.dev = vn->dma_dev;
	info.priv = vn;
	vn->zdev = zcbuf_device_register(&info);
	if (IS_ERR(vn->zdev)) {
		ret = PTR_ERR(vn->zdev);
		goto reset;
	}
	dev_info(&vdev->dev, "zcbuf device %s (%s, %u RX entries)\n",
		 vn->name, device_iommu_mapped(vn->dma_dev) ?
		 "behind an IOMMU" : "dma-direct", vn->rx_entries);
	return 0;

reset:
	virtio_reset_device(vdev);
	dma_free_coherent(vn->dma_dev, VNET_SCRATCH * VNET_SCRATCH_SIZE,
			  vn->scratch, vn->scratch_dma);
free_hdrs:
	dma_free_coherent(vn->dma_dev, hdrs_size, vn->hdrs, vn->hdrs_dma);
del_vqs:
	vdev->config->del_vqs(vdev);
free:
	kfree(vn);
	return ret;
}

static void zcbuf_vnet_remove(struct virtio_device *vdev)
{
	struct zcbuf_vnet *vn = vdev->priv;

	/* Stops every stream: its virtqueue gives back all its buffers. */
	zcbuf_device_unregister(vn->zdev);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	dma_free_coherent(vn->dma_dev, VNET_SCRATCH * VNET_SCRATCH_SIZE,
			  vn->scratch, vn->scratch_dma);
	dma_free_coherent(vn->dma_dev, (vn->rx_entries + 1) * sizeof(*vn->hdrs),
			  vn->hdrs, vn->hdrs_dma);
	kfree(vn);
}

#else /* !ZCBUF_HAVE_VIRTQUEUE_PREMAPPED */

static int zcbuf_vnet_check(struct virtio_device *vdev)
{
	dev_err(&vdev->dev,
		"this kernel has no premapped virtqueues (Linux 6.12 or later needed)\n");
	return -EOPNOTSUPP;
}

/* Never called: zcbuf_vnet_validate() refuses every device. */
static int zcbuf_vnet_probe(struct virtio_device *vdev)
{
	return -EOPNOTSUPP;
}

static void zcbuf_vnet_remove(struct virtio_device *vdev)
{
}

#endif /* ZCBUF_HAVE_VIRTQUEUE_PREMAPPED */

/* Whether the user named @vdev in the devices parameter. */
static bool zcbuf_vnet_wanted(struct virtio_device *vdev)
{
	const char *name = dev_name(&vdev->dev);
	size_t len = strlen(name);
	bool found = false;
	const char *p;

	kernel_param_lock(THIS_MODULE);
	for (p = devices; p && *p; p += strcspn(p, "\n\t ,")) {
		p += strspn(p, "\n\t ,");
		if (!strncmp(p, name, len) &&
		    (!p[len] || strchr("\n\t ,", p[len]))) {
			found = true;
			break;
		}
	}
	kernel_param_unlock(THIS_MODULE);
	return found;
}

/*
 * Refuse a device here, not in probe: virtio calls ->validate before it
 * sets FEATURES_OK, and QEMU accepts no other features after that until
 * the device is reset.  A device refused in probe kept the features
 * negotiated for this driver (no mergeable RX buffers) when virtio_net
 * bound it next, and then handed it frames virtio_net counted as runts
 * (rx_length_errors).
 */
static int zcbuf_vnet_validate(struct virtio_device *vdev)
{
	if (!zcbuf_vnet_wanted(vdev)) {
		dev_dbg(&vdev->dev, "not in the devices parameter: left alone\n");
		return -ENODEV;
	}
	return zcbuf_vnet_check(vdev);
}

/*
 * No MODULE_DEVICE_TABLE: the module is loaded on purpose, never
 * automatically for every virtio NIC.
 */
static const struct virtio_device_id zcbuf_vnet_ids[] = {
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ }
};

static struct virtio_driver zcbuf_vnet_driver = {
	.driver.name = KBUILD_MODNAME,
	.id_table = zcbuf_vnet_ids,
	.validate = zcbuf_vnet_validate,
	.probe = zcbuf_vnet_probe,
	.remove = zcbuf_vnet_remove,
};
module_virtio_driver(zcbuf_vnet_driver);

MODULE_DESCRIPTION("zcbuf: a virtio-net device as a NIC for zero-copy RX and TX");
MODULE_LICENSE("GPL");
MODULE_VERSION(ZCBUF_VERSION);
MODULE_IMPORT_NS(ZCBUF_NS(ZCBUF));
