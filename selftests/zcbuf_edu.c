// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_edu: QEMU's edu PCI device behind zcbuf (zcbuf_edu.ko).
 *
 * Needs a guest booted with `-device edu` (the runner's edu boots, with and
 * without intel-iommu); SKIPs without one.  Every transfer of the edu DMA
 * engine takes 100 ms of virtual time, so frames are small: a chunk is at
 * most 4 KiB and costs two transfers (sensor -> device -> frame).
 *
 * - camera frames land exactly (CRC and the test pattern: bars, box,
 *   frame number), also when the buffer's pages lie above the engine's
 *   28-bit DMA mask (found through /proc/self/pagemap): they must then
 *   reach the device through swiotlb or an IOMMU;
 * - NIC TX: the device reports the CRC of what it read;
 * - under swiotlb=force, frames and packets cross only at the syncs;
 * - the frame's fence signals when the engine has written it;
 * - behind intel-iommu, the IOMMU confines the device: a write to a freed
 *   buffer's old IOVA faults (DMAR) and changes nothing;
 * - removal: /sys/bus/pci/devices/.../remove mid-stream, rescan, driver
 *   unbind/bind, and unloading zcbuf_edu while a context is configured.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "zcbuf_rel.h"
#include "zcbuf_stream.h"

#define NBUFS		3
#define EDU_MASK	((1ULL << 28) - 1)
#define EDU_WAIT_MS	20000	/* a frame is a few 100 ms transfers */

/* The PCI address of zcbuf device @name ("0000:00:03.0"), or -errno. */
static int pci_address(const char *name, char *bdf, size_t len)
{
	char path[256], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/zcbuf/%s/device", name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	snprintf(bdf, len, "%s", basename(target));
	return 0;
}

/* The physical address of the page at @p (root), or 0. */
static uint64_t phys_addr(const void *p)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (off_t)((uintptr_t)p / page) * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	if (!(entry & (1ULL << 63)))
		return 0;
	return (entry & ((1ULL << 55) - 1)) * page;
}

FIXTURE(edu)
{
	int fd;
	int id;
	char bdf[64];
	uint32_t frame_size;
	uint32_t first;
	size_t size;
	uint8_t *map[NBUFS];
};

FIXTURE_SETUP(edu)
{
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	self->id = zc_device_find(self->fd, "edu0");
	if (self->id == -ENODEV)
		SKIP(return, "no edu0: boot with -device edu and load zcbuf_edu.ko");
	ASSERT_LT(0, self->id);
	ASSERT_EQ(0, pci_address("edu0", self->bdf, sizeof(self->bdf)));
}

FIXTURE_TEARDOWN(edu)
{
	int i;

	for (i = 0; i < NBUFS; i++)
		if (self->map[i])
			munmap(self->map[i], self->size);
	if (self->fd >= 0)
		close(self->fd);
}

static int config_cam(int fd, int id, uint32_t w, uint32_t h, uint32_t fmt,
		      uint32_t *frame_size)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_CAMERA, .width = w, .height = h,
		.pixelformat = fmt, .device = (uint32_t)id,
	};

	return zs_config(fd, &cfg, frame_size);
}

/* Dequeue one frame and check it whole: CRC, number, picture. */
static void check_frame(struct __test_metadata *_metadata,
			FIXTURE_DATA(edu) *self, uint32_t w, uint32_t h,
			uint32_t fmt, uint64_t want_seq, uint32_t *index)
{
	struct zcbuf_dqbuf d;
	const uint8_t *frame;

	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	ASSERT_EQ(0U, d.flags) TH_LOG("frame %llu: device error",
				      (unsigned long long)d.sequence);
	ASSERT_EQ(want_seq, d.sequence);
	ASSERT_EQ(self->frame_size, d.bytesused);
	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
			     self->frame_size));
	frame = self->map[d.index - self->first];
	EXPECT_EQ(d.checksum, zs_crc32(frame, self->frame_size));
	EXPECT_EQ((long long)d.sequence, zs_read_number(frame, w, h, fmt));
	EXPECT_EQ(0, zs_check_picture(frame, w, h, fmt, d.sequence));
	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0,
			     self->frame_size));
	*index = d.index;
}

TEST_F(edu, describe)
{
	struct zcbuf_device_desc d;
	char path[128], buf[64];

	ASSERT_EQ(0, zc_device_info(self->fd, self->id, &d));
	EXPECT_STREQ("edu0", d.name);
	EXPECT_EQ(ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_TX, d.kinds);
	EXPECT_EQ(ZCBUF_FMT_RGB24, d.formats[0]);
	EXPECT_EQ(ZCBUF_FMT_YUYV, d.formats[1]);
	EXPECT_LT(0ULL, d.max_frame_size);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
		 self->bdf);
	EXPECT_LT(0, readlink(path, buf, sizeof(buf) - 1));
	/* What edu cannot do, it refuses. */
	{
		struct zcbuf_config cfg = {
			.personality = ZCBUF_DEV_NIC_RX, .pkt_min = 64,
			.pkt_max = 128, .pkts_per_buffer = 1,
			.device = (uint32_t)self->id,
		};

		EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
		cfg = (struct zcbuf_config){
			.personality = ZCBUF_DEV_CAMERA, .width = 48,
			.height = 16, .pixelformat = ZCBUF_FMT_RGB24,
			.drop_permille = 1, .device = (uint32_t)self->id,
		};
		EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
		cfg.drop_permille = 0;
		cfg.width = 1024;
		EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
	}
}

/*
 * Frames in both formats: RGB24 48x16 (2304 bytes, one chunk; the number
 * needs 36 pixels) and YUYV 64x40 (5120 bytes: two chunks, the second one
 * crossing into the second page).
 */
TEST_F(edu, camera_frames)
{
	static const struct { uint32_t w, h, fmt; } modes[] = {
		{ 48, 16, ZCBUF_FMT_RGB24 }, { 64, 40, ZCBUF_FMT_YUYV },
	};
	uint32_t idx;
	int m, i;

	ASSERT_EQ(0, zc_alloc_map(self->fd, 8192, NBUFS, 0, &self->first,
				  self->map, &self->size));
	for (m = 0; m < 2; m++) {
		ASSERT_EQ(0, config_cam(self->fd, self->id, modes[m].w,
					modes[m].h, modes[m].fmt,
					&self->frame_size));
		for (i = 0; i < NBUFS; i++)
			ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
		ASSERT_EQ(0, zs_streamon(self->fd));
		for (i = 0; i < 3; i++) {
			check_frame(_metadata, self, modes[m].w, modes[m].h,
				    modes[m].fmt, i, &idx);
			ASSERT_EQ(0, zs_qbuf(self->fd, idx, 0));
		}
		ASSERT_EQ(0, zs_streamoff(self->fd));
	}
}

/* Whether the guest has an IOMMU (intel_iommu=on: /sys/class/iommu/dmar0). */
static bool have_iommu(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		found |= e->d_name[0] != '.';
	if (d)
		closedir(d);
	return found;
}

/*
 * Buffers whose pages lie above the engine's 28-bit reach.  Behind an
 * IOMMU the frame must land exactly all the same (the IOMMU maps it below
 * the mask); a driver that handed the engine the pages' own addresses
 * would have them clamped by the device: the frame would land in low
 * memory (QEMU logs "EDU: clamping DMA"), not here.  Without an IOMMU
 * only swiotlb could bridge the gap; without one either, QBUF must refuse
 * cleanly (ERANGE), where dma-direct would WARN.
 */
TEST_F(edu, above_dma_mask)
{
	const uint32_t w = 48, h = 32, fmt = ZCBUF_FMT_RGB24;
	uint32_t idx, first, i, high = 0, n = 16;
	uint8_t *maps[16];
	size_t size;
	struct zcbuf_dqbuf d;
	bool found = false;

	if (geteuid())
		SKIP(return, "pagemap shows physical addresses to root only");
	ASSERT_EQ(0, config_cam(self->fd, self->id, w, h, fmt,
				&self->frame_size));
	/* 16 buffers of 1 MiB: in a 1 GiB guest most are above 256 MiB. */
	ASSERT_EQ(0, zc_alloc(self->fd, 1 << 20, n, 0, &first));
	for (i = 0; i < n; i++) {
		maps[i] = zc_map_buffer(self->fd, first + i, &size);
		ASSERT_NE(NULL, maps[i]);
		maps[i][0] = 0;		/* fault the first page in */
		if (!found && phys_addr(maps[i]) > EDU_MASK) {
			high = first + i;
			found = true;
		}
	}
	if (!found)
		SKIP(goto out, "no buffer page above 256 MiB (guest RAM below the mask)");
	TH_LOG("buffer %u at %#llx, %s", high,
	       (unsigned long long)phys_addr(maps[high - first]),
	       have_iommu() ? "IOMMU" : "no IOMMU");

	if (!have_iommu()) {
		int ret = zs_qbuf(self->fd, high, 0);

		/* swiotlb bounced it (0), or nothing could (ERANGE). */
		if (ret == -ERANGE) {
			EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, high));
			goto out;
		}
		ASSERT_EQ(0, ret);
	} else {
		ASSERT_EQ(0, zs_qbuf(self->fd, high, 0));
	}
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	idx = d.index;
	ASSERT_EQ(high, idx);
	ASSERT_EQ(0U, d.flags);
	ASSERT_EQ(0, zs_sync(self->fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_READ,
			     0, self->frame_size));
	EXPECT_EQ(d.checksum, zs_crc32(maps[idx - first], self->frame_size));
	EXPECT_EQ(0, zs_read_number(maps[idx - first], w, h, fmt));
	EXPECT_EQ(0, zs_check_picture(maps[idx - first], w, h, fmt, 0));
	ASSERT_EQ(0, zs_streamoff(self->fd));
out:
	for (i = 0; i < n; i++)
		munmap(maps[i], size);
}

#define STALE_DMA	"/sys/kernel/debug/zcbuf_edu/edu0/stale_dma"
#define CANARY		0x3c

/*
 * Read the kernel log until zcbuf_edu has said where its stale write went
 * and the IOMMU has reported a fault there: the faulting page, or 0 after
 * @ms milliseconds.  *@iova: the address zcbuf_edu wrote to.
 */
static unsigned long long wait_dmar_fault(int kmsg, unsigned long long *iova,
					  unsigned int ms)
{
	unsigned long long fault = 0;
	uint64_t end = zs_now_ns() + ms * 1000000ULL;
	char line[1024];
	const char *p;
	int ret;

	*iova = 0;
	while (zs_now_ns() < end) {
		ret = zc_kmsg_next(kmsg, line, sizeof(line));
		if (ret < 0)
			return 0;
		if (!ret) {
			zs_sleep_ms(20);
			continue;
		}
		p = strstr(line, "stale DMA write to IOVA ");
		if (p)
			*iova = strtoull(p + strlen("stale DMA write to IOVA "),
					 NULL, 16);
		/* "DMAR: [DMA Write NO_PASID] Request device [..] fault addr 0x..." */
		p = strstr(line, "fault addr ");
		if (strstr(line, "DMAR") && strstr(line, "DMA Write") && p)
			fault = strtoull(p + strlen("fault addr "), NULL, 16);
		if (*iova && fault == (*iova & ~0xfffULL))
			return fault;
	}
	return 0;
}

/*
 * The IOMMU confines the device.  Once a buffer is freed its IOVA is
 * unmapped, and a write the device is made to attempt there (zcbuf_edu's
 * test hook, debugfs stale_dma) must fault in the IOMMU (a DMAR fault in
 * the kernel log, which the runner accepts only between this test's
 * ZC_KMSG_FAULT_* lines) and write nothing.  An export keeps the buffer's
 * pages, and the test's mapping of them, alive after the context freed
 * it: a write that got through would show there.
 */
TEST_F(edu, stale_dma_faults)
{
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
	};
	unsigned long long iova, fault;
	int dmabuf, kmsg, ret;
	uint32_t idx;
	size_t i, bad = 0;
	uint8_t *p;

	if (!have_iommu())
		SKIP(return, "no IOMMU in this guest (boot with intel_iommu=on)");
	ASSERT_EQ(0, access(STALE_DMA, W_OK)) TH_LOG(STALE_DMA ": %s",
						     strerror(errno));

	/* One frame into one buffer: the engine's last write is there. */
	ASSERT_EQ(0, zc_alloc_map(self->fd, 4096, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, config_cam(self->fd, self->id, 48, 16, ZCBUF_FMT_RGB24,
				&self->frame_size));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	check_frame(_metadata, self, 48, 16, ZCBUF_FMT_RGB24, 0, &idx);
	ASSERT_EQ(self->first, idx);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	/* The device may not reach a buffer it still has mapped. */
	EXPECT_EQ(-EBUSY, zc_write_file(STALE_DMA, "1"));

	dmabuf = zc_export(self->fd, self->first, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dmabuf);
	p = self->map[0];
	ASSERT_EQ(0, zs_sync(self->fd, self->first,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_WRITE, 0, 4096));
	memset(p, CANARY, 4096);
	ASSERT_EQ(0, zs_sync(self->fd, self->first,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0, 4096));
	/* Unmapped from the device, alive through the export. */
	ASSERT_EQ(0, zc_free(self->fd, self->first));
	/* Unmapping is lazy: the IOTLB is flushed within 10 ms. */
	zs_sleep_ms(100);

	kmsg = zc_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, zc_kmsg_write(ZC_KMSG_FAULT_BEGIN));
	ret = zc_write_file(STALE_DMA, "1");
	fault = ret ? 0 : wait_dmar_fault(kmsg, &iova, 10000);
	ASSERT_EQ(0, zc_kmsg_write(ZC_KMSG_FAULT_END));
	close(kmsg);
	ASSERT_EQ(0, ret);
	EXPECT_NE(0ULL, fault) TH_LOG("no DMAR fault at IOVA %#llx", iova);

	/* Nothing landed in the pages. */
	ASSERT_EQ(0, ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
	for (i = 0; i < 4096; i++)
		bad += p[i] != CANARY;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(0UL, bad) TH_LOG("%zu bytes of the freed buffer changed", bad);
	close(dmabuf);
}

/* NIC TX: the device reports the CRC of what it read, for any length. */
TEST_F(edu, nic_tx)
{
	static const uint32_t lens[] = { 1, 100, 4096, 4097, 6000 };
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_NIC_TX, .device = (uint32_t)self->id,
	};
	struct zcbuf_dqbuf d;
	uint8_t *p;
	int i;

	ASSERT_EQ(0, zc_alloc_map(self->fd, 8192, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (i = 0; i < 5; i++) {
		p = self->map[0];
		zc_fill(p, lens[i], 100 + i);
		ASSERT_EQ(0, zs_sync(self->fd, self->first,
				     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0,
				     lens[i]));
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first, lens[i]));
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
		ASSERT_EQ(0U, d.flags);
		EXPECT_EQ(lens[i], d.bytesused);
		EXPECT_EQ(zs_crc32(p, lens[i]), d.checksum)
			TH_LOG("%u bytes", lens[i]);
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * Under swiotlb=force edu reads and writes bounce buffers, as the
 * simulator does in zcbuf_stream_coherency: a frame reaches the pages only
 * at ZCBUF_SYNC_START, and a packet reaches the device only after
 * ZCBUF_SYNC_END.  SKIP unless every mapping bounces.
 */
TEST_F(edu, camera_needs_sync_start)
{
	const uint32_t w = 48, h = 16, fmt = ZCBUF_FMT_RGB24;
	struct zcbuf_dqbuf d;
	uint8_t *p;

	if (!zs_swiotlb_forced())
		SKIP(return, "needs swiotlb=force (x86 DMA is coherent without it)");
	ASSERT_EQ(0, zc_alloc_map(self->fd, 4096, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, config_cam(self->fd, self->id, w, h, fmt,
				&self->frame_size));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	ASSERT_EQ(0U, d.flags);
	ASSERT_EQ(self->first, d.index);
	p = self->map[0];
	/* The frame is in the bounce buffer: the pages are still zero. */
	EXPECT_EQ(-1, zc_check_zero(p, self->size))
		TH_LOG("the frame is visible before the sync: not bouncing?");
	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
			     self->frame_size));
	EXPECT_EQ(d.checksum, zs_crc32(p, self->frame_size));
	EXPECT_EQ(0, zs_check_picture(p, w, h, fmt, 0));
	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0,
			     self->frame_size));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

TEST_F(edu, tx_needs_sync_end)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_NIC_TX, .device = (uint32_t)self->id,
	};
	const size_t len = 3000;
	uint32_t crc_a, crc_b;
	struct zcbuf_dqbuf d;
	uint8_t *p;

	if (!zs_swiotlb_forced())
		SKIP(return, "needs swiotlb=force (x86 DMA is coherent without it)");
	ASSERT_EQ(0, zc_alloc_map(self->fd, 4096, NBUFS, 0, &self->first,
				  self->map, &self->size));
	p = self->map[0];
	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zs_streamon(self->fd));

	zc_fill(p, len, 0xa);
	crc_a = zs_crc32(p, len);
	ASSERT_EQ(0, zs_sync(self->fd, self->first,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0, len));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	EXPECT_EQ(crc_a, d.checksum);

	/* B without the END sync: the device still reads A. */
	zc_fill(p, len, 0xb);
	crc_b = zs_crc32(p, len);
	ASSERT_NE(crc_a, crc_b);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	EXPECT_EQ(crc_a, d.checksum) TH_LOG("an unsynced write reached edu");

	ASSERT_EQ(0, zs_sync(self->fd, self->first,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0, len));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	EXPECT_EQ(crc_b, d.checksum);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * Implicit sync with a real device: the fence edu's frame carries in the
 * buffer's reservation object signals, without error, when the engine has
 * written the frame; a waiter on an exported sync_file sees it.
 */
TEST_F(edu, fence_signals_when_frame_lands)
{
	struct pollfd pfd = { .events = POLLIN };
	struct zcbuf_dqbuf d;
	int dmabuf, status = -1;

	ASSERT_EQ(0, zc_alloc_map(self->fd, 4096, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, config_cam(self->fd, self->id, 48, 16, ZCBUF_FMT_RGB24,
				&self->frame_size));
	dmabuf = zc_export(self->fd, self->first,
			   ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	/* What a reader of the buffer must wait for: the device's write. */
	pfd.fd = zs_export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, pfd.fd);
	ASSERT_EQ(1, poll(&pfd, 1, EDU_WAIT_MS));
	ASSERT_EQ(0, zs_sync_file_status(pfd.fd, &status));
	EXPECT_EQ(1, status);
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, EDU_WAIT_MS));
	ASSERT_EQ(0U, d.flags);
	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
			     self->frame_size));
	EXPECT_EQ(d.checksum, zs_crc32(self->map[0], self->frame_size));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	close(pfd.fd);
	close(dmabuf);
}

/* Start a camera stream and wait for its first frame. */
static void stream_started(struct __test_metadata *_metadata,
			   FIXTURE_DATA(edu) *self)
{
	uint32_t idx;
	int i;

	ASSERT_EQ(0, zc_alloc_map(self->fd, 4096, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, config_cam(self->fd, self->id, 48, 16, ZCBUF_FMT_RGB24,
				&self->frame_size));
	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	check_frame(_metadata, self, 48, 16, ZCBUF_FMT_RGB24, 0, &idx);
}

/* What a context sees once its device is gone. */
static void check_gone(struct __test_metadata *_metadata,
		       FIXTURE_DATA(edu) *self)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	struct zcbuf_dqbuf d;
	int i;

	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLERR | POLLHUP, p.revents);
	EXPECT_EQ(-ENODEV, zs_dqbuf(self->fd, &d));
	for (i = 0; i < NBUFS; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->first + i));
	/* The frame that arrived is still there. */
	EXPECT_EQ(0, zs_sync(self->fd, self->first,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, 4096));
}

/* echo 1 > remove mid-stream; rescan brings it back for new contexts. */
TEST_F(edu, pci_remove_rescan)
{
	char path[128];
	int id;

	stream_started(_metadata, self);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
		 self->bdf);
	ASSERT_EQ(0, zc_write_file(path, "1"));
	check_gone(_metadata, self);
	EXPECT_EQ(-ENODEV, zc_device_find(self->fd, "edu0"));

	ASSERT_EQ(0, zc_write_file("/sys/bus/pci/rescan", "1"));
	id = zs_wait_device(self->fd, "edu0", true);
	ASSERT_LT(0, id);
	EXPECT_NE(self->id, id);
	self->id = id;
	ASSERT_EQ(0, zc_free(self->fd, self->first + 2));
	munmap(self->map[2], self->size);
	self->map[2] = NULL;
	ASSERT_EQ(0, config_cam(self->fd, id, 48, 16, ZCBUF_FMT_RGB24, NULL));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	{
		uint32_t idx;

		check_frame(_metadata, self, 48, 16, ZCBUF_FMT_RGB24, 0, &idx);
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* Unbind from the driver mid-stream, bind again. */
TEST_F(edu, unbind_bind)
{
	uint32_t idx;

	stream_started(_metadata, self);
	ASSERT_EQ(0, zc_write_file("/sys/bus/pci/drivers/zcbuf_edu/unbind",
				   self->bdf));
	check_gone(_metadata, self);
	ASSERT_EQ(0, zc_write_file("/sys/bus/pci/drivers/zcbuf_edu/bind",
				   self->bdf));
	self->id = zs_wait_device(self->fd, "edu0", true);
	ASSERT_LT(0, self->id);
	ASSERT_EQ(0, config_cam(self->fd, self->id, 48, 16, ZCBUF_FMT_RGB24,
				NULL));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	check_frame(_metadata, self, 48, 16, ZCBUF_FMT_RGB24, 0, &idx);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * The driver module unloads while a context streams on its device (the
 * device goes; the core stays, held by the context's buffers).
 */
TEST_F(edu, rmmod_while_streaming)
{
	if (!zc_driver_path("zcbuf_edu", (char[256]){ 0 }, 256))
		SKIP(return, "$ZCBUF_DRIVERS does not name zcbuf_edu.ko");
	stream_started(_metadata, self);
	ASSERT_EQ(0, zc_module_unload("zcbuf_edu"));
	check_gone(_metadata, self);
	EXPECT_EQ(-EWOULDBLOCK, zc_module_unload("zcbuf"));
	ASSERT_EQ(0, zc_module_load("zcbuf_edu", NULL));
	EXPECT_LT(0, zs_wait_device(self->fd, "edu0", true));
}

TEST_HARNESS_MAIN
