// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_stream_coherency: the CPU-side syncs are needed, and sufficient, on
 * the simulator or $ZCBUF_TEST_DEVICE (zcbuf_helpers.h).
 *
 * Only meaningful when every streaming DMA mapping bounces (the guest booted
 * with swiotlb=force; x86 is cache-coherent otherwise, and a missing sync is
 * invisible): then the device writes the bounce buffer, and the frame
 * reaches the pages the user maps only at ZCBUF_SYNC_START (or
 * DMA_BUF_IOCTL_SYNC on an exported fd); and for TX the device reads the
 * bounce buffer, which holds what the user wrote only after ZCBUF_SYNC_END.
 * Without swiotlb=force on the kernel command line every test SKIPs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUF		4

static int dmabuf_sync(int dbfd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dbfd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

FIXTURE(coherency)
{
	int fd;
	struct zcbuf_info info;
	struct zc_test_dev td;
	uint32_t frame_size;
	uint32_t first;
	uint8_t *map[NBUF];
	size_t size[NBUF];
	int dbfd[NBUF];
	uint8_t *dbmap[NBUF];
};

FIXTURE_VARIANT(coherency)
{
	uint32_t alloc_flags;
	bool dmabuf;	/* sync and read through an exported DMA-buf */
};

FIXTURE_VARIANT_ADD(coherency, range_sync_sg)
{
	.dmabuf = false,
};

FIXTURE_VARIANT_ADD(coherency, range_sync_contig)
{
	.alloc_flags = ZCBUF_ALLOC_CONTIG,
};

FIXTURE_VARIANT_ADD(coherency, dmabuf_sync_sg)
{
	.dmabuf = true,
};

FIXTURE_VARIANT_ADD(coherency, dmabuf_sync_contig)
{
	.alloc_flags = ZCBUF_ALLOC_CONTIG, .dmabuf = true,
};

FIXTURE_SETUP(coherency)
{
	uint32_t i, w, h;

	for (i = 0; i < NBUF; i++)
		self->dbfd[i] = -1;
	self->fd = -1;
	if (!zs_swiotlb_forced())
		SKIP(return, "needs swiotlb=force on the kernel command line (x86 DMA is coherent without it)");
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	if ((variant->alloc_flags & ZCBUF_ALLOC_CONTIG) &&
	    !(self->info.caps & ZCBUF_CAP_CONTIG))
		SKIP(return, "no ZCBUF_CAP_CONTIG");
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_CAMERA))
		SKIP(return, "%s is no camera", self->td.name);
	/*
	 * 160x120 RGB24: 57600 bytes, 15 pages.  On a named device its small
	 * frame, twice as high: more than a page, for the ranged sync.
	 */
	w = 160;
	h = 120;
	if (self->td.name) {
		zc_test_frame(&self->td, &w, &h);
		h *= 2;
	}
	ASSERT_EQ(0, zs_config_camera(self->fd, w, h, ZCBUF_FMT_RGB24, 0, 0,
				      &self->frame_size));
	ASSERT_LT(self->info.page_size, self->frame_size);
	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, NBUF,
			      variant->alloc_flags, &self->first));
	for (i = 0; i < NBUF; i++) {
		self->map[i] = zc_map_buffer(self->fd, self->first + i,
					     &self->size[i]);
		ASSERT_NE(NULL, self->map[i]);
		if (!variant->dmabuf)
			continue;
		self->dbfd[i] = zc_export(self->fd, self->first + i,
					  ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
		ASSERT_LE(0, self->dbfd[i]);
		self->dbmap[i] = zc_mmap(self->dbfd[i], self->size[i],
					 PROT_READ | PROT_WRITE, MAP_SHARED, 0);
		ASSERT_NE(NULL, self->dbmap[i]);
	}
}

FIXTURE_TEARDOWN(coherency)
{
	uint32_t i;

	for (i = 0; i < NBUF; i++) {
		if (self->dbmap[i])
			munmap(self->dbmap[i], self->size[i]);
		if (self->dbfd[i] >= 0)
			close(self->dbfd[i]);
		if (self->map[i])
			munmap(self->map[i], self->size[i]);
	}
	if (self->fd >= 0)
		close(self->fd);
}

/* Make buffer @slot's frame visible to the CPU, the variant's way. */
static int sync_start(FIXTURE_DATA(coherency) *self,
		      const FIXTURE_VARIANT(coherency) *variant, uint32_t slot,
		      uint64_t len)
{
	if (variant->dmabuf)
		return dmabuf_sync(self->dbfd[slot],
				   DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	return zs_sync(self->fd, self->first + slot,
		       ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, len);
}

static int sync_end(FIXTURE_DATA(coherency) *self,
		    const FIXTURE_VARIANT(coherency) *variant, uint32_t slot,
		    uint64_t len)
{
	if (variant->dmabuf)
		return dmabuf_sync(self->dbfd[slot],
				   DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return zs_sync(self->fd, self->first + slot,
		       ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0, len);
}

static const uint8_t *cpu_view(FIXTURE_DATA(coherency) *self,
			       const FIXTURE_VARIANT(coherency) *variant,
			       uint32_t slot)
{
	return variant->dmabuf ? self->dbmap[slot] : self->map[slot];
}

/*
 * Two rounds over four fresh buffers.  Round 1: before the sync each buffer
 * is still all zero (the device's frame sits in the bounce buffer), after it
 * the CRC is exact.  Round 2: before the sync each buffer still holds the
 * frame of round 1, after it the new one.
 */
TEST_F(coherency, camera_frame_needs_sync_start)
{
	uint32_t old_crc[NBUF];
	struct zcbuf_dqbuf d;
	uint32_t i;
	int round, n;

	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (round = 0; round < 2; round++) {
		for (n = 0; n < NBUF; n++) {
			const uint8_t *view;
			uint32_t slot;

			ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
			ASSERT_EQ(0, d.flags);
			ASSERT_EQ((uint64_t)(round * NBUF + n), d.sequence);
			ASSERT_EQ(self->frame_size, d.bytesused);
			slot = d.index - self->first;
			ASSERT_LT(slot, NBUF);
			view = cpu_view(self, variant, slot);

			/* Not visible before the CPU-side sync. */
			ASSERT_NE(d.checksum, zs_crc32(view, d.bytesused))
				TH_LOG("frame %llu visible before sync: not bouncing?",
				       (unsigned long long)d.sequence);
			if (round == 0) {
				ASSERT_EQ(-1, zc_check_zero(view, self->size[slot]));
			} else {
				ASSERT_EQ(old_crc[slot], zs_crc32(view, d.bytesused));
			}

			/* Exact after it. */
			ASSERT_EQ(0, sync_start(self, variant, slot, d.bytesused));
			ASSERT_EQ(d.checksum, zs_crc32(view, d.bytesused));
			ASSERT_EQ(0, memcmp(view, self->map[slot], d.bytesused));
			ASSERT_EQ(0, sync_end(self, variant, slot, d.bytesused));
			old_crc[slot] = d.checksum;
			ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
		}
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * The range sync syncs that range and no more: after syncing the first half
 * only, the second half is still zero; after the second half, all is exact.
 */
TEST_F(coherency, range_sync_is_ranged)
{
	struct zcbuf_dqbuf d;
	uint64_t half;
	uint32_t slot;

	if (variant->dmabuf)
		SKIP(return, "DMA_BUF_IOCTL_SYNC has no range");
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	slot = d.index - self->first;
	ASSERT_EQ(0, slot);
	/* Page aligned, inside the frame: 8192 of 57600 bytes, or 4096. */
	half = (d.bytesused - 1) / self->info.page_size * self->info.page_size;
	if (half > 8192)
		half = 8192;
	ASSERT_LT(0, half);

	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, half));
	ASSERT_NE(-1, zc_check_zero(self->map[0], half));
	ASSERT_EQ(-1, zc_check_zero(self->map[0] + half, self->size[0] - half));
	ASSERT_NE(d.checksum, zs_crc32(self->map[0], d.bytesused));

	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, half,
			     d.bytesused - half));
	ASSERT_EQ(d.checksum, zs_crc32(self->map[0], d.bytesused));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* End the CPU's writes to buffer 0, the variant's way. */
static int tx_sync_end(FIXTURE_DATA(coherency) *self,
		       const FIXTURE_VARIANT(coherency) *variant, uint64_t len)
{
	if (variant->dmabuf)
		return dmabuf_sync(self->dbfd[0],
				   DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	return zs_sync(self->fd, self->first,
		       ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0, len);
}

/*
 * TX: the device reads the bounce buffer.  Packet A, synced, is sent right;
 * packet B written without ZCBUF_SYNC_END goes out as A (the device's
 * checksum is A's); after the END sync it goes out as B.
 */
TEST_F(coherency, tx_needs_sync_end)
{
	struct zcbuf_config cfg = { .personality = ZCBUF_DEV_NIC_TX };
	/* 12000 bytes, or the whole buffer of a named device's small frame. */
	const size_t len = self->size[0] < 12000 ? self->size[0] : 12000;
	uint32_t crc_a, crc_b, index = self->first;
	struct zcbuf_dqbuf d;
	uint8_t *buf = self->map[0];

	if (!(self->info.caps & ZCBUF_CAP_NIC))
		SKIP(return, "no ZCBUF_CAP_NIC");
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_NIC_TX))
		SKIP(return, "%s has no NIC TX", self->td.name);
	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zs_streamon(self->fd));

	zc_fill(buf, len, 0xa);
	crc_a = zs_crc32(buf, len);
	ASSERT_EQ(0, tx_sync_end(self, variant, len));
	ASSERT_EQ(0, zs_qbuf(self->fd, index, len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(len, d.bytesused);
	ASSERT_EQ(crc_a, d.checksum);

	/* B, no END sync: the device still reads A. */
	zc_fill(buf, len, 0xb);
	crc_b = zs_crc32(buf, len);
	ASSERT_NE(crc_a, crc_b);
	ASSERT_EQ(0, zs_qbuf(self->fd, index, len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(crc_a, d.checksum) TH_LOG("unsynced write reached the device");

	/* END sync: now B. */
	ASSERT_EQ(0, tx_sync_end(self, variant, len));
	ASSERT_EQ(0, zs_qbuf(self->fd, index, len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(crc_b, d.checksum);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

TEST_HARNESS_MAIN
