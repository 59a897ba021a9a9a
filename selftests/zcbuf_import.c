// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_import: ZCBUF_IOC_IMPORT of DMA-bufs made elsewhere.
 *
 * Sources: /dev/dma_heap/system and /dev/udmabuf (6.12; a SKIP naming the
 * missing node on kernels without them, such as Debian's 6.1), and zcbuf's
 * own exports from another context or the same one.  The imported buffer
 * is mapped through /dev/zcbuf and must show the exporter's memory; a
 * read-only DMA-buf stays read-only.  Bad fds: EBADF / EINVAL.
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
#include "zcbuf_helpers.h"

#define HEAP_SYSTEM	"/dev/dma_heap/system"
#define UDMABUF_DEV	"/dev/udmabuf"
#define NPAGES		16

/* Number of buffers with an index in [from, from + window). */
static int count_buffers(int fd, uint32_t from, uint32_t window)
{
	struct zcbuf_query q;
	int n = 0;
	uint32_t i;

	for (i = 0; i < window; i++)
		if (!zc_query(fd, from + i, &q))
			n++;
	return n;
}

FIXTURE(import)
{
	int fd;
	size_t page;
	size_t size;
	struct zcbuf_info info;
};

FIXTURE_SETUP(import)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->size = NPAGES * self->page;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	if (!(self->info.caps & ZCBUF_CAP_IMPORT))
		SKIP(return, "ZCBUF_CAP_IMPORT not reported");
}

FIXTURE_TEARDOWN(import)
{
	if (self->fd >= 0)
		close(self->fd);
}

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
	ret = zc_ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data);
	close(heap);
	return ret ? ret : (int)data.fd;
}

/* A udmabuf over a sealed memfd, or -errno; *memfd is the memfd. */
static int udmabuf_alloc(size_t len, int *memfd)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int dev, ret;

	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	*memfd = memfd_create("zcbuf-import", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (*memfd < 0 || ftruncate(*memfd, len) ||
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
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

/*
 * The checks every imported buffer must pass: QUERY, mapping through
 * /dev/zcbuf showing @view's data both ways, SYNC, no re-EXPORT, FREE.
 * @view is a read-write mapping of the same memory made by its exporter.
 */
static void check_imported(struct __test_metadata *_metadata, int fd,
			   uint32_t idx, uint8_t *view, size_t size, uint32_t seed)
{
	struct zcbuf_query q;
	uint8_t *p;

	ASSERT_EQ(0, zc_query(fd, idx, &q));
	EXPECT_EQ(ZCBUF_BUF_IMPORTED, q.flags & ZCBUF_BUF_IMPORTED);
	EXPECT_EQ(size, q.size);
	EXPECT_EQ(ZCBUF_STATE_USER, q.state);
	EXPECT_EQ(0, q.offset % sysconf(_SC_PAGESIZE));

	p = zc_mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED, q.offset);
	ASSERT_NE(NULL, p) TH_LOG("mmap of the imported buffer: %s", strerror(errno));
	EXPECT_EQ(-1, zc_check(p, size, seed));
	zc_fill(p, size, seed + 1);
	EXPECT_EQ(-1, zc_check(view, size, seed + 1));
	EXPECT_EQ(-EINVAL, zc_mmap_err(fd, size + sysconf(_SC_PAGESIZE), PROT_READ,
				       MAP_SHARED, q.offset));

	/* Whole-buffer sync through the exporter; ranges still checked. */
	EXPECT_EQ(0, zc_sync(fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_RW, 0, size));
	EXPECT_EQ(0, zc_sync(fd, idx, ZCBUF_SYNC_END | ZCBUF_SYNC_RW, 0, size));
	EXPECT_EQ(0, zc_sync(fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 5, 7));
	EXPECT_EQ(0, zc_sync(fd, idx, ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 5, 7));
	EXPECT_EQ(-EINVAL, zc_sync(fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_RW, 0, size + 1));
	EXPECT_EQ(-EINVAL, zc_sync(fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_RW, 0, 0));

	/* "not an imported buffer (EINVAL)" */
	EXPECT_EQ(-EINVAL, zc_export(fd, idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC));

	/* FREE drops the context's hold; our mapping keeps the memory. */
	EXPECT_EQ(0, zc_free(fd, idx));
	EXPECT_EQ(-EINVAL, zc_query(fd, idx, &q));
	EXPECT_EQ(-1, zc_check(p, size, seed + 1));
	munmap(p, size);
}

TEST_F(import, dma_heap_system)
{
	uint64_t size = 0;
	uint32_t idx;
	uint8_t *view;
	int dfd;

	dfd = heap_alloc(self->size);
	if (dfd == -ENOENT)
		SKIP(return, "%s does not exist on this kernel (CONFIG_DMABUF_HEAPS_SYSTEM)",
		     HEAP_SYSTEM);
	ASSERT_LE(0, dfd) TH_LOG("DMA_HEAP_IOCTL_ALLOC: %s", strerror(-dfd));
	view = zc_mmap(dfd, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(NULL, view);
	zc_fill(view, self->size, 1);

	ASSERT_EQ(0, zc_import(self->fd, dfd, &idx, &size));
	EXPECT_EQ(self->size, size);
	/* "@fd may be closed afterwards" */
	ASSERT_EQ(0, close(dfd));
	check_imported(_metadata, self->fd, idx, view, self->size, 1);
	munmap(view, self->size);
}

TEST_F(import, udmabuf)
{
	uint64_t size = 0;
	int dfd, memfd = -1;
	uint32_t idx;
	uint8_t *view;

	dfd = udmabuf_alloc(self->size, &memfd);
	if (dfd == -ENOENT)
		SKIP(return, "%s does not exist on this kernel (CONFIG_UDMABUF)", UDMABUF_DEV);
	ASSERT_LE(0, dfd) TH_LOG("UDMABUF_CREATE: %s", strerror(-dfd));
	/* The memfd is the exporter's view of the memory. */
	view = zc_mmap(memfd, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(NULL, view);
	zc_fill(view, self->size, 3);

	ASSERT_EQ(0, zc_import(self->fd, dfd, &idx, &size));
	EXPECT_EQ(self->size, size);
	ASSERT_EQ(0, close(dfd));
	check_imported(_metadata, self->fd, idx, view, self->size, 3);
	munmap(view, self->size);
	close(memfd);
}

/* Context A exports, context B imports: one memory, two contexts. */
TEST_F(import, zcbuf_export_other_context)
{
	uint32_t ia, ib;
	uint64_t size;
	uint8_t *a;
	int fdb, dfd;

	ASSERT_EQ(0, zc_alloc(self->fd, self->size, 1, 0, &ia));
	a = zc_map_buffer(self->fd, ia, NULL);
	ASSERT_NE(NULL, a);
	zc_fill(a, self->size, 5);
	dfd = zc_export(self->fd, ia, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);

	fdb = zc_open();
	ASSERT_LE(0, fdb);
	ASSERT_EQ(0, zc_import(fdb, dfd, &ib, &size));
	EXPECT_EQ(self->size, size);
	close(dfd);
	/* A lets go of everything but its mapping: B's buffer lives on. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	check_imported(_metadata, fdb, ib, a, self->size, 5);
	munmap(a, self->size);
	close(fdb);
}

TEST_F(import, zcbuf_export_same_context)
{
	uint32_t ia, ib;
	uint8_t *a;
	int dfd;

	ASSERT_EQ(0, zc_alloc(self->fd, self->size, 1,
			      self->info.caps & ZCBUF_CAP_CONTIG ? ZCBUF_ALLOC_CONTIG : 0, &ia));
	a = zc_map_buffer(self->fd, ia, NULL);
	ASSERT_NE(NULL, a);
	zc_fill(a, self->size, 7);
	dfd = zc_export(self->fd, ia, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, zc_import(self->fd, dfd, &ib, NULL));
	close(dfd);
	EXPECT_NE(ia, ib);
	check_imported(_metadata, self->fd, ib, a, self->size, 7);
	/* The original is still a plain buffer. */
	EXPECT_EQ(0, zc_free(self->fd, ia));
	munmap(a, self->size);
}

/*
 * A read-only DMA-buf imported into a context stays read-only: mapping it
 * writable through /dev/zcbuf would undo the exporter's choice.
 */
TEST_F(import, readonly_dmabuf_stays_readonly)
{
	struct zcbuf_query q;
	uint32_t ia, ib;
	uint8_t *a, *r;
	int fdb, dfd;

	ASSERT_EQ(0, zc_alloc(self->fd, self->size, 1, 0, &ia));
	a = zc_map_buffer(self->fd, ia, NULL);
	ASSERT_NE(NULL, a);
	zc_fill(a, self->size, 9);
	dfd = zc_export(self->fd, ia, ZCBUF_EXPORT_CLOEXEC);	/* read-only */
	ASSERT_LE(0, dfd);

	fdb = zc_open();
	ASSERT_LE(0, fdb);
	ASSERT_EQ(0, zc_import(fdb, dfd, &ib, NULL));
	close(dfd);
	ASSERT_EQ(0, zc_query(fdb, ib, &q));

	r = zc_mmap(fdb, self->size, PROT_READ, MAP_SHARED, q.offset);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(-1, zc_check(r, self->size, 9));
	EXPECT_EQ(-1, mprotect(r, self->size, PROT_READ | PROT_WRITE))
		TH_LOG("a read-only DMA-buf became writable through mprotect");
	munmap(r, self->size);
	EXPECT_EQ(-EACCES, zc_mmap_err(fdb, self->size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, q.offset))
		TH_LOG("a read-only DMA-buf was mapped writable through /dev/zcbuf");
	EXPECT_EQ(-1, zc_check(a, self->size, 9));
	munmap(a, self->size);
	close(fdb);
}

/* Each bad input alone; nothing is imported by any of them. */
TEST_F(import, errors)
{
	struct zcbuf_import req;
	uint32_t probe, bit;
	int pfd[2], memfd, dfd, closed;

	ASSERT_EQ(0, zc_alloc(self->fd, self->page, 1, 0, &probe));
	dfd = zc_export(self->fd, probe, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);

	/* not open */
	closed = dup(dfd);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(-EBADF, zc_import(self->fd, closed, NULL, NULL));
	EXPECT_EQ(-EBADF, zc_import(self->fd, -1, NULL, NULL));
	EXPECT_EQ(-EBADF, zc_import(self->fd, 1 << 30, NULL, NULL));

	/* open, but no DMA-buf */
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(-EINVAL, zc_import(self->fd, pfd[0], NULL, NULL));
	memfd = memfd_create("zcbuf-import", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, self->page));
	EXPECT_EQ(-EINVAL, zc_import(self->fd, memfd, NULL, NULL));
	EXPECT_EQ(-EINVAL, zc_import(self->fd, self->fd, NULL, NULL));
	close(pfd[0]);
	close(pfd[1]);
	close(memfd);

	/* a good DMA-buf with a bad flag or reserved field */
	for (bit = 0; bit < 32; bit++) {
		memset(&req, 0, sizeof(req));
		req.fd = dfd;
		req.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_IMPORT, &req))
			TH_LOG("flag bit %u", bit);
	}
	memset(&req, 0, sizeof(req));
	req.fd = dfd;
	req.reserved = 1;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_IMPORT, &req));

	EXPECT_EQ(1, count_buffers(self->fd, probe, 512));
	/* and the same DMA-buf imports fine */
	EXPECT_EQ(0, zc_import(self->fd, dfd, NULL, NULL));
	close(dfd);
}

TEST_HARNESS_MAIN
