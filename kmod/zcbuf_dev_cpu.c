// SPDX-License-Identifier: GPL-2.0
/*
 * A driver's own CPU access to a buffer its device holds.
 *
 * Hardware writes packets, but a driver may have to write the metadata
 * next to them itself: virtio-net says where a frame landed only in its
 * used ring, so zcbuf-virtio-net writes the descriptor table of an RX
 * buffer (and reads the frames to checksum them) with the CPU.  These
 * helpers do that as the DMA API asks: the range of the device's mapping
 * is synced for the CPU first and given back to the device afterwards, so
 * the bytes survive bounce buffers and non-coherent caches.  A device that
 * writes this way sets ZCBUF_DEVICE_CPU_WRITES: its RX mappings are then
 * bidirectional, the only direction in which CPU writes reach the
 * device's view.  Only the device's own mapping is synced: every other
 * user of the buffer (user space, another importer, a kernel vmap) syncs
 * its view when it begins CPU access, after the completion.
 *
 * They take no lock and allocate nothing (the device's mapping stays
 * while it holds the buffer), so a driver may call them between
 * zcbuf_queue_take() and zcbuf_queue_complete(), on the path that
 * signals the buffer's fences.
 *
 * Only buffers allocated by zcbuf have pages to reach (an imported
 * DMA-buf's belong to its exporter): -EOPNOTSUPP for the others.
 */

#include <linux/crc32.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "zcbuf_buffer.h"
#include "zcbuf_compat.h"
#include "zcbuf_device.h"
#include "zcbuf_queue.h"

static struct zcbuf_slot *zcbuf_dev_cpu_slot(struct zcbuf_dev_buf *dbuf,
					     size_t offset, size_t len)
{
	struct zcbuf_slot *slot = container_of(dbuf, struct zcbuf_slot, dbuf);

	if (!slot->buf)
		return ERR_PTR(-EOPNOTSUPP);
	if (offset > slot->buf->size || len > slot->buf->size - offset)
		return ERR_PTR(-ERANGE);
	return slot;
}

/* Sync the range of the device's own mapping, for the CPU or back. */
static void zcbuf_dev_cpu_sync(struct zcbuf_slot *slot, size_t offset,
			       size_t len, bool for_cpu)
{
	zcbuf_buffer_sync_sgt(slot->attach->dev, slot->sgt, slot->dir, offset,
			      len, for_cpu);
}

/*
 * Call @fn on each page-sized piece of [@offset, @offset + @len): its
 * kernel address, its length.
 */
static void zcbuf_dev_cpu_walk(struct zcbuf_buffer *buf, size_t offset,
			       size_t len,
			       void (*fn)(void *vaddr, size_t len, void *arg),
			       void *arg)
{
	while (len) {
		struct page *page = buf->pages[offset >> PAGE_SHIFT];
		size_t in_page = offset & ~PAGE_MASK;
		size_t n = min_t(size_t, len, PAGE_SIZE - in_page);
		void *vaddr = kmap_local_page(page);

		fn(vaddr + in_page, n, arg);
		kunmap_local(vaddr);
		offset += n;
		len -= n;
	}
}

struct zcbuf_dev_cpu_copy {
	const u8 *src;
};

static void zcbuf_dev_cpu_copy_fn(void *vaddr, size_t len, void *arg)
{
	struct zcbuf_dev_cpu_copy *c = arg;

	memcpy(vaddr, c->src, len);
	c->src += len;
}

/**
 * zcbuf_dev_buf_write() - the driver writes into a buffer with the CPU
 * @dbuf: a buffer the device has taken (zcbuf_queue_take()) and not
 *	completed, of a device registered with ZCBUF_DEVICE_CPU_WRITES
 * @offset: where
 * @src: what
 * @len: bytes
 *
 * Any context: it takes no lock and allocates nothing.
 *
 * Return: 0, -EOPNOTSUPP for an imported DMA-buf, -ERANGE past its end.
 */
int zcbuf_dev_buf_write(struct zcbuf_dev_buf *dbuf, size_t offset,
			const void *src, size_t len)
{
	struct zcbuf_slot *slot = zcbuf_dev_cpu_slot(dbuf, offset, len);
	struct zcbuf_dev_cpu_copy c = { .src = src };

	if (IS_ERR(slot))
		return PTR_ERR(slot);
	if (!len)
		return 0;
	zcbuf_dev_cpu_sync(slot, offset, len, true);
	zcbuf_dev_cpu_walk(slot->buf, offset, len, zcbuf_dev_cpu_copy_fn, &c);
	zcbuf_dev_cpu_sync(slot, offset, len, false);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_dev_buf_write, ZCBUF_NS(ZCBUF));

static void zcbuf_dev_cpu_crc_fn(void *vaddr, size_t len, void *arg)
{
	u32 *crc = arg;

	*crc = crc32_le(*crc, vaddr, len);
}

/**
 * zcbuf_dev_buf_crc32() - the driver checksums bytes of a buffer
 * @dbuf: a buffer the device has taken and not completed
 * @offset: first byte
 * @len: bytes
 * @crc: (out) their CRC-32, as zlib's crc32() (the uapi's checksums)
 *
 * As zcbuf_dev_buf_write(): no lock, no allocation.
 *
 * Return: as zcbuf_dev_buf_write().
 */
int zcbuf_dev_buf_crc32(struct zcbuf_dev_buf *dbuf, size_t offset,
			size_t len, u32 *crc)
{
	struct zcbuf_slot *slot = zcbuf_dev_cpu_slot(dbuf, offset, len);
	u32 c = ~0U;

	if (IS_ERR(slot))
		return PTR_ERR(slot);
	if (len) {
		zcbuf_dev_cpu_sync(slot, offset, len, true);
		zcbuf_dev_cpu_walk(slot->buf, offset, len, zcbuf_dev_cpu_crc_fn,
				   &c);
		zcbuf_dev_cpu_sync(slot, offset, len, false);
	}
	*crc = ~c;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_dev_buf_crc32, ZCBUF_NS(ZCBUF));
