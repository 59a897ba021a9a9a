// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_interop_heap: DMA-bufs made by other exporters, imported into zcbuf
 * (ZCBUF_IOC_IMPORT) and filled by zcbuf's simulated camera.
 *
 * Exporters: the system dma-heap (/dev/dma_heap/system) and udmabuf over a
 * sealed memfd (/dev/udmabuf).  Both are built into Debian's 6.12 and absent
 * from its 6.1: there the tests SKIP naming the missing CONFIG option.
 *
 * The camera writes through its own attachment to the foreign DMA-buf; each
 * frame is read back through the exporter's own mapping (mmap of the
 * DMA-buf fd, and for udmabuf also of the memfd) inside a
 * DMA_BUF_IOCTL_SYNC { START | READ } bracket, and its CRC-32 must be the
 * one DQBUF reports, its frame number the sequence.
 *
 * Under swiotlb=force the camera's writes land in bounce buffers and reach
 * the pages only when the camera's mapping is synced for the CPU.  The
 * system heap's begin_cpu_access syncs every attachment.  udmabuf (6.12)
 * maps and unmaps with DMA_ATTR_SKIP_CPU_SYNC and its begin_cpu_access syncs
 * only a private mapping of udmabuf's own device, which under swiotlb=force
 * bounces too: DMA_BUF_IOCTL_SYNC { START | READ } copies that private,
 * stale bounce buffer over the pages.  So there the frame is read through
 * the mappings without udmabuf's bracket, and is only there if zcbuf, the
 * importer, syncs its own mapping for the CPU when the device completes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define HEAP_SYSTEM	"/dev/dma_heap/system"
#define UDMABUF_DEV	"/dev/udmabuf"
#define NBUFS		3
#define NFRAMES		9
#define WIDTH		320
#define HEIGHT		240
#define FMT		ZCBUF_FMT_RGB24

enum source { SRC_HEAP, SRC_UDMABUF };

/* A DMA-buf from the system heap, or -errno. */
static int heap_alloc(size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap, ret;

	heap = open(HEAP_SYSTEM, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) ? -errno : (int)data.fd;
	close(heap);
	return ret;
}

/* A udmabuf over a new sealed memfd, or -errno; *memfd is the memfd. */
static int udmabuf_alloc(size_t len, int *memfd)
{
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC, .size = len,
	};
	int dev, ret;

	*memfd = -1;
	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	*memfd = memfd_create("zcbuf-interop", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (*memfd < 0 || ftruncate(*memfd, len) ||
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL)) {
		ret = -errno;
		close(dev);
		return ret;
	}
	create.memfd = *memfd;
	ret = ioctl(dev, UDMABUF_CREATE, &create);
	if (ret < 0)
		ret = -errno;
	close(dev);
	return ret;
}

/* The guest bounces every streaming DMA mapping (swiotlb=force). */
static bool bouncing(void)
{
	char line[1024] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	return strstr(line, "swiotlb=force") != NULL;
}

/*
 * DMA_BUF_IOCTL_SYNC on a foreign DMA-buf.  For udmabuf always RW: 6.12's
 * udmabuf maps its private sg table with the direction of the first sync and
 * syncs it with the direction of each later one, which DMA-API debug reports
 * as a mismatch (a WARN in udmabuf).  The system heap keeps the caller's
 * direction: it syncs every attachment (zcbuf's device's too) with it, so it
 * must match how that attachment was mapped.
 */
static int dmabuf_sync(int source, int fd, uint64_t flags)
{
	struct dma_buf_sync s = {
		.flags = source == SRC_UDMABUF ?
			 (flags & ~(uint64_t)DMA_BUF_SYNC_RW) | DMA_BUF_SYNC_RW :
			 flags,
	};
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

FIXTURE(foreign)
{
	int fd;				/* /dev/zcbuf */
	uint32_t frame_size;
	size_t size;			/* each foreign DMA-buf */
	int dmabuf[NBUFS];
	int memfd[NBUFS];		/* udmabuf only */
	uint8_t *view[NBUFS];		/* exporter's mapping of the DMA-buf */
	uint8_t *memview[NBUFS];	/* udmabuf: the memfd's mapping */
	uint32_t index[NBUFS];		/* zcbuf index of the import */
	bool streaming;
};

FIXTURE_VARIANT(foreign)
{
	enum source source;
};

FIXTURE_VARIANT_ADD(foreign, system_heap) { .source = SRC_HEAP };
FIXTURE_VARIANT_ADD(foreign, udmabuf) { .source = SRC_UDMABUF };

FIXTURE_SETUP(foreign)
{
	struct zcbuf_info info;
	size_t page = sysconf(_SC_PAGESIZE);
	int i;

	self->fd = -1;
	for (i = 0; i < NBUFS; i++)
		self->dmabuf[i] = self->memfd[i] = -1;

	if (variant->source == SRC_HEAP && access(HEAP_SYSTEM, F_OK))
		SKIP(return, "%s does not exist: kernel without CONFIG_DMABUF_HEAPS_SYSTEM",
		     HEAP_SYSTEM);
	if (variant->source == SRC_UDMABUF && access(UDMABUF_DEV, F_OK))
		SKIP(return, "%s does not exist: kernel without CONFIG_UDMABUF",
		     UDMABUF_DEV);

	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &info));
	ASSERT_NE(0, info.caps & ZCBUF_CAP_IMPORT);
	ASSERT_NE(0, info.caps & ZCBUF_CAP_CAMERA);
	ASSERT_EQ(0, zs_config_camera(self->fd, WIDTH, HEIGHT, FMT, 0, 0,
				      &self->frame_size));
	ASSERT_EQ(WIDTH * HEIGHT * 3, self->frame_size);
	self->size = (self->frame_size + page - 1) / page * page;

	for (i = 0; i < NBUFS; i++) {
		uint64_t size = 0;

		if (variant->source == SRC_HEAP)
			self->dmabuf[i] = heap_alloc(self->size);
		else
			self->dmabuf[i] = udmabuf_alloc(self->size,
							&self->memfd[i]);
		ASSERT_LE(0, self->dmabuf[i]);
		self->view[i] = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				     MAP_SHARED, self->dmabuf[i], 0);
		ASSERT_NE(MAP_FAILED, self->view[i]);
		if (self->memfd[i] >= 0) {
			self->memview[i] = mmap(NULL, self->size, PROT_READ,
						MAP_SHARED, self->memfd[i], 0);
			ASSERT_NE(MAP_FAILED, self->memview[i]);
		}
		/* Something the camera must overwrite. */
		ASSERT_EQ(0, dmabuf_sync(variant->source, self->dmabuf[i],
					 DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
		memset(self->view[i], 0xa5, self->size);
		ASSERT_EQ(0, dmabuf_sync(variant->source, self->dmabuf[i],
					 DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));

		ASSERT_EQ(0, zc_import(self->fd, self->dmabuf[i],
				       &self->index[i], &size));
		ASSERT_EQ(self->size, size);
	}
}

FIXTURE_TEARDOWN(foreign)
{
	int i;

	if (self->streaming)
		EXPECT_EQ(0, zs_streamoff(self->fd));
	for (i = 0; i < NBUFS; i++) {
		if (self->view[i] && self->view[i] != MAP_FAILED)
			munmap(self->view[i], self->size);
		if (self->memview[i] && self->memview[i] != MAP_FAILED)
			munmap(self->memview[i], self->size);
		if (self->dmabuf[i] >= 0)
			close(self->dmabuf[i]);
		if (self->memfd[i] >= 0)
			close(self->memfd[i]);
	}
	if (self->fd >= 0)
		close(self->fd);
}

static int slot_of(FIXTURE_DATA(foreign) *self, uint32_t index)
{
	int i;

	for (i = 0; i < NBUFS; i++)
		if (self->index[i] == index)
			return i;
	return -1;
}

/*
 * The camera streams into the foreign buffers; every frame is checked
 * through the exporter's mapping.
 */
TEST_F(foreign, camera_fills_import)
{
	/* udmabuf's own bracket destroys the data when bouncing (above). */
	bool bracket = !(variant->source == SRC_UDMABUF && bouncing());
	int i, n;

	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->index[i], 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;

	for (n = 0; n < NFRAMES; n++) {
		struct zcbuf_dqbuf d;
		uint32_t crc;
		long long number;
		int s;

		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS))
			TH_LOG("frame %d", n);
		s = slot_of(self, d.index);
		ASSERT_LE(0, s);
		ASSERT_EQ(0, d.flags);
		ASSERT_EQ(self->frame_size, d.bytesused);
		ASSERT_EQ((uint64_t)n, d.sequence);

		if (bracket) {
			ASSERT_EQ(0, dmabuf_sync(variant->source, self->dmabuf[s],
						 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		} else if (!n) {
			TH_LOG("swiotlb=force: udmabuf's DMA_BUF_IOCTL_SYNC left out (it restores a stale private bounce copy)");
		}
		crc = zs_crc32(self->view[s], d.bytesused);
		number = zs_read_number(self->view[s], WIDTH, HEIGHT, FMT);
		ASSERT_EQ(d.checksum, crc)
			TH_LOG("frame %d (seq %llu) through the exporter's mmap: crc %08x, device says %08x; first bytes %02x %02x %02x",
			       n, (unsigned long long)d.sequence, crc,
			       d.checksum, self->view[s][0], self->view[s][1],
			       self->view[s][2]);
		ASSERT_EQ((long long)d.sequence, number);
		ASSERT_EQ(0, zs_check_picture(self->view[s], WIDTH, HEIGHT,
					      FMT, d.sequence));
		/* The tail past the frame is untouched. */
		for (size_t k = d.bytesused; k < self->size; k++)
			ASSERT_EQ(0xa5, self->view[s][k]);
		if (self->memview[s])	/* udmabuf: the memfd's own pages */
			ASSERT_EQ(0, memcmp(self->memview[s], self->view[s],
					    self->size));
		if (bracket) {
			ASSERT_EQ(0, dmabuf_sync(variant->source, self->dmabuf[s],
						 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		}
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
	self->streaming = false;
}

/*
 * Through zcbuf's own view of the import too: ZCBUF_IOC_SYNC (whole buffer,
 * through the exporter's begin/end_cpu_access) and the /dev/zcbuf mapping.
 */
TEST_F(foreign, zcbuf_view_of_import)
{
	struct zcbuf_dqbuf d;
	struct zcbuf_query q;
	bool bracket;
	uint8_t *map;
	int s;

	ASSERT_EQ(0, zc_query(self->fd, self->index[0], &q));
	ASSERT_NE(0, q.flags & ZCBUF_BUF_IMPORTED);
	map = zc_mmap(self->fd, q.size, PROT_READ, MAP_SHARED, q.offset);
	ASSERT_NE(NULL, map);

	ASSERT_EQ(0, zs_qbuf(self->fd, self->index[0], 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	s = slot_of(self, d.index);
	ASSERT_EQ(0, s);
	/* ZCBUF_IOC_SYNC of an import is the exporter's begin_cpu_access. */
	bracket = !(variant->source == SRC_UDMABUF && bouncing());
	if (bracket) {
		ASSERT_EQ(0, zc_sync(self->fd, d.index,
				     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
				     q.size));
	}
	ASSERT_EQ(0, memcmp(map, self->view[0], q.size));
	ASSERT_EQ(d.checksum, zs_crc32(map, d.bytesused));
	if (bracket) {
		ASSERT_EQ(0, zc_sync(self->fd, d.index,
				     ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0,
				     q.size));
	}
	munmap(map, q.size);
}

TEST_HARNESS_MAIN
