// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated device's DMA engine.
 *
 * Hardware sees a buffer only as the DMA addresses of its mapping, and so
 * does this: it walks the DMA segments of the sg_table that the device's own
 * DMA-buf attachment produced and reaches memory through each DMA address.
 * With dma-direct (no IOMMU: zcbuf_sim.c refuses otherwise) a DMA address
 * translates to a physical address and that to the kernel's direct map.
 * Under swiotlb the DMA address is the bounce slot, so what is written here
 * reaches the buffer's pages only when the CPU syncs: exactly what a real
 * device behind a bounce buffer or a non-coherent cache does.
 */

#include <linux/dma-direct.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "zcbuf_sim.h"

void zcbuf_sim_dma_start(struct zcbuf_sim_dma *dma, struct device *dev,
			 struct sg_table *sgt)
{
	dma->dev = dev;
	dma->sg = sgt->sgl;
	dma->nents = sgt->nents;
	dma->seg_off = 0;
	dma->pos = 0;
}

/* The kernel address of @len bytes at DMA address @addr, or NULL. */
static void *zcbuf_sim_dma_vaddr(struct device *dev, dma_addr_t addr,
				 size_t len)
{
	phys_addr_t phys = dma_to_phys(dev, addr);
	unsigned long pfn = PHYS_PFN(phys);
	unsigned long last = PHYS_PFN(phys + len - 1);

	/* Only RAM in the direct map is reachable this way. */
	if (!pfn_valid(pfn) || !pfn_valid(last) ||
	    PageHighMem(pfn_to_page(pfn)) || PageHighMem(pfn_to_page(last)))
		return NULL;
	return phys_to_virt(phys);
}

/* Advance to the next DMA segment when the current one is used up. */
static bool zcbuf_sim_dma_segment(struct zcbuf_sim_dma *dma)
{
	while (dma->nents && dma->seg_off >= sg_dma_len(dma->sg)) {
		dma->seg_off = 0;
		dma->sg = sg_next(dma->sg);
		dma->nents--;
	}
	return dma->nents;
}

/**
 * zcbuf_sim_dma_seek() - move to an offset in the buffer
 * @dma: the transfer
 * @pos: offset from the start of the buffer, not before the current one
 *
 * Return: 0, or -ERANGE past the end of the mapping or backwards.
 */
int zcbuf_sim_dma_seek(struct zcbuf_sim_dma *dma, size_t pos)
{
	if (pos < dma->pos)
		return -ERANGE;
	while (dma->pos < pos) {
		size_t step;

		if (!zcbuf_sim_dma_segment(dma))
			return -ERANGE;
		step = min_t(size_t, pos - dma->pos,
			     sg_dma_len(dma->sg) - dma->seg_off);
		dma->seg_off += step;
		dma->pos += step;
	}
	return 0;
}

/* Move @len bytes: from @src to memory, or from memory to @dst. */
static int zcbuf_sim_dma_xfer(struct zcbuf_sim_dma *dma, const void *src,
			      void *dst, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk;
		void *vaddr;

		if (!zcbuf_sim_dma_segment(dma))
			return -ERANGE;
		chunk = min_t(size_t, len - done,
			      sg_dma_len(dma->sg) - dma->seg_off);
		vaddr = zcbuf_sim_dma_vaddr(dma->dev, sg_dma_address(dma->sg) +
					    dma->seg_off, chunk);
		if (!vaddr)
			return -EFAULT;
		if (src)
			memcpy(vaddr, src + done, chunk);
		else
			memcpy(dst + done, vaddr, chunk);
		done += chunk;
		dma->seg_off += chunk;
		dma->pos += chunk;
	}
	return 0;
}

/**
 * zcbuf_sim_dma_write() - the device writes to memory (capture, RX)
 * @dma: the transfer
 * @src: the data
 * @len: bytes
 *
 * Return: 0, -ERANGE past the end of the mapping, or -EFAULT for a DMA
 * address that is not reachable RAM.
 */
int zcbuf_sim_dma_write(struct zcbuf_sim_dma *dma, const void *src,
			size_t len)
{
	return zcbuf_sim_dma_xfer(dma, src, NULL, len);
}

/**
 * zcbuf_sim_dma_read() - the device reads from memory (TX)
 * @dma: the transfer
 * @dst: where to
 * @len: bytes
 *
 * Return: as zcbuf_sim_dma_write().
 */
int zcbuf_sim_dma_read(struct zcbuf_sim_dma *dma, void *dst, size_t len)
{
	return zcbuf_sim_dma_xfer(dma, NULL, dst, len);
}
