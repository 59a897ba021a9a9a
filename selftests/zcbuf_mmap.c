// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_mmap: mapping buffers, exporting them as DMA-bufs, and lifetimes.
 *
 * mmap() of /dev/zcbuf at a buffer's offset (whole, sub-range, past the end,
 * MAP_PRIVATE, mremap growth), the exported DMA-buf fd (access mode,
 * CLOEXEC, mmap, DMA_BUF_IOCTL_SYNC), every order of closing the context, the
 * mappings and the exported fds, fork(), and isolation between contexts.
 * Data written through any one view must be seen through every other one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

#define NPAGES		16

FIXTURE(mmap)
{
	int fd;
	size_t page;
	size_t size;		/* of buffer @idx */
	uint32_t idx;
	struct zcbuf_query q;
	struct zcbuf_info info;
	uint32_t flags;
};

FIXTURE_VARIANT(mmap)
{
	uint32_t alloc_flags;
};

FIXTURE_VARIANT_ADD(mmap, sg)
{
	.alloc_flags = 0,
};

FIXTURE_VARIANT_ADD(mmap, contig)
{
	.alloc_flags = ZCBUF_ALLOC_CONTIG,
};

FIXTURE_SETUP(mmap)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->size = NPAGES * self->page;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	self->flags = variant->alloc_flags;
	if ((self->flags & ZCBUF_ALLOC_CONTIG) && !(self->info.caps & ZCBUF_CAP_CONTIG))
		SKIP(return, "ZCBUF_CAP_CONTIG not reported");
	ASSERT_EQ(0, zc_alloc(self->fd, self->size, 1, self->flags, &self->idx));
	ASSERT_EQ(0, zc_query(self->fd, self->idx, &self->q));
	ASSERT_EQ(self->size, self->q.size);
}

FIXTURE_TEARDOWN(mmap)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void *map_rw(int fd, size_t len, uint64_t offset)
{
	return zc_mmap(fd, len, PROT_READ | PROT_WRITE, MAP_SHARED, offset);
}

TEST_F(mmap, whole_buffer)
{
	uint8_t *p;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-1, zc_check_zero(p, self->size));
	zc_fill(p, self->size, 1);
	EXPECT_EQ(-1, zc_check(p, self->size, 1));
	ASSERT_EQ(0, munmap(p, self->size));

	/* A new mapping sees what the last one wrote. */
	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-1, zc_check(p, self->size, 1));
	ASSERT_EQ(0, munmap(p, self->size));

	/* Read-only shared mappings work too. */
	p = zc_mmap(self->fd, self->size, PROT_READ, MAP_SHARED, self->q.offset);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-1, zc_check(p, self->size, 1));
	ASSERT_EQ(0, munmap(p, self->size));
}

/* Sub-ranges: page 3..6 of the buffer is page 3..6 of the whole mapping. */
TEST_F(mmap, sub_range)
{
	size_t off = 3 * self->page, len = 4 * self->page;
	uint8_t *whole, *part, *tail;

	whole = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, whole);
	zc_fill(whole, self->size, 2);

	part = map_rw(self->fd, len, self->q.offset + off);
	ASSERT_NE(NULL, part);
	EXPECT_EQ(0, memcmp(part, whole + off, len));
	memset(part, 0x5a, len);
	EXPECT_EQ(0x5a, whole[off]);
	EXPECT_EQ(0x5a, whole[off + len - 1]);
	EXPECT_EQ(zc_pattern_byte(2, off - 1), whole[off - 1]);
	EXPECT_EQ(zc_pattern_byte(2, off + len), whole[off + len]);

	/* The last page alone, up to exactly the end. */
	tail = map_rw(self->fd, self->page, self->q.offset + self->size - self->page);
	ASSERT_NE(NULL, tail);
	EXPECT_EQ(0, memcmp(tail, whole + self->size - self->page, self->page));

	munmap(tail, self->page);
	munmap(part, len);
	munmap(whole, self->size);
}

TEST_F(mmap, past_end_einval)
{
	const int rw = PROT_READ | PROT_WRITE;

	/* too long */
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->size + self->page, rw,
				       MAP_SHARED, self->q.offset));
	/* inside, but running past the end */
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, 2 * self->page, rw, MAP_SHARED,
				       self->q.offset + self->size - self->page));
	/* starting at the end */
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->page, rw, MAP_SHARED,
				       self->q.offset + self->size));
	/* and read-only, the same */
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->size + self->page, PROT_READ,
				       MAP_SHARED, self->q.offset));
}

TEST_F(mmap, map_private_einval)
{
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->size, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE, self->q.offset));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->size, PROT_READ,
				       MAP_PRIVATE, self->q.offset));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->page, PROT_READ,
				       MAP_PRIVATE, self->q.offset + self->page));
}

/* No buffer there: nothing to map. */
TEST_F(mmap, no_buffer_einval)
{
	struct zcbuf_query q;
	uint32_t i, offsets = 0;

	/* Offsets of indices that do not exist, found by trying ALLOC's own. */
	ASSERT_EQ(0, zc_alloc(self->fd, self->page, 1, self->flags, &i));
	ASSERT_EQ(0, zc_query(self->fd, i, &q));
	ASSERT_EQ(0, zc_free(self->fd, i));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->page, PROT_READ, MAP_SHARED,
				       q.offset));
	/* Far away in the offset space. */
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->page, PROT_READ, MAP_SHARED,
				       1ULL << 44));
	for (i = 1; i < 16; i++)
		offsets += zc_mmap_err(self->fd, self->page, PROT_READ, MAP_SHARED,
				       self->q.offset + ((uint64_t)i << 40)) == -EINVAL;
	EXPECT_EQ(15, offsets);
}

/* VM_DONTEXPAND: the mapping cannot grow, in place or by moving. */
TEST_F(mmap, mremap_grow_fails)
{
	uint8_t *p, *r;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 3);
	r = mremap(p, self->size, 2 * self->size, 0);
	EXPECT_EQ(MAP_FAILED, r);
	EXPECT_EQ(EFAULT, errno);
	r = mremap(p, self->size, 2 * self->size, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, r);
	EXPECT_EQ(EFAULT, errno);
	/* still intact */
	EXPECT_EQ(-1, zc_check(p, self->size, 3));
	munmap(p, self->size);
}

/* Two mappings and an exported DMA-buf's mapping are the same memory. */
TEST_F(mmap, views_share_memory)
{
	uint8_t *a, *b, *d;
	int dfd;

	a = map_rw(self->fd, self->size, self->q.offset);
	b = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(a, b);
	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	d = map_rw(dfd, self->size, 0);
	ASSERT_NE(NULL, d);

	zc_fill(a, self->size, 4);
	EXPECT_EQ(-1, zc_check(b, self->size, 4));
	EXPECT_EQ(-1, zc_check(d, self->size, 4));
	zc_fill(d, self->size, 5);
	EXPECT_EQ(-1, zc_check(a, self->size, 5));
	EXPECT_EQ(-1, zc_check(b, self->size, 5));

	/* A sub-range of the DMA-buf at an offset. */
	munmap(d, self->size);
	d = map_rw(dfd, 2 * self->page, 5 * self->page);
	ASSERT_NE(NULL, d);
	EXPECT_EQ(0, memcmp(d, a + 5 * self->page, 2 * self->page));
	/* ... and not past its end either */
	EXPECT_EQ(-EINVAL, zc_mmap_err(dfd, 2 * self->page, PROT_READ, MAP_SHARED,
				       self->size - self->page));

	munmap(d, 2 * self->page);
	munmap(b, self->size);
	munmap(a, self->size);
	close(dfd);
}

TEST_F(mmap, export_rdwr)
{
	int dfd, fl;

	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, dfd);
	fl = fcntl(dfd, F_GETFL);
	ASSERT_LE(0, fl);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	EXPECT_EQ(0, fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	/* A DMA-buf's size is its SEEK_END. */
	EXPECT_EQ((off_t)self->size, lseek(dfd, 0, SEEK_END));
	close(dfd);
}

TEST_F(mmap, export_cloexec)
{
	int dfd;

	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	close(dfd);
	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(dfd, F_GETFL) & O_ACCMODE);
	close(dfd);
}

/* A read-only export: PROT_READ maps, PROT_WRITE is EACCES, no mprotect. */
TEST_F(mmap, export_readonly)
{
	uint8_t *w, *r;
	int dfd;

	w = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, w);
	zc_fill(w, self->size, 6);

	dfd = zc_export(self->fd, self->idx, 0);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(O_RDONLY, fcntl(dfd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ((off_t)self->size, lseek(dfd, 0, SEEK_END));

	EXPECT_EQ(-EACCES, zc_mmap_err(dfd, self->size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, 0));
	EXPECT_EQ(-EACCES, zc_mmap_err(dfd, self->page, PROT_WRITE, MAP_SHARED, 0));

	r = zc_mmap(dfd, self->size, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(-1, zc_check(r, self->size, 6));
	EXPECT_EQ(-1, mprotect(r, self->size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* Writes through the read-write view still show through it. */
	w[7] = 0x77;
	EXPECT_EQ(0x77, r[7]);

	munmap(r, self->size);
	munmap(w, self->size);
	close(dfd);
}

/* Two exports are two fds on the same memory; each closes alone. */
TEST_F(mmap, export_twice)
{
	uint8_t *a, *b;
	int d1, d2;

	d1 = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	d2 = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, d1);
	ASSERT_LE(0, d2);
	ASSERT_NE(d1, d2);
	a = map_rw(d1, self->size, 0);
	ASSERT_NE(NULL, a);
	close(d1);
	b = map_rw(d2, self->size, 0);
	ASSERT_NE(NULL, b);
	close(d2);
	zc_fill(a, self->size, 7);
	EXPECT_EQ(-1, zc_check(b, self->size, 7));
	munmap(a, self->size);
	munmap(b, self->size);
}

TEST_F(mmap, dma_buf_ioctl_sync)
{
	static const uint64_t good[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	struct dma_buf_sync sync;
	uint8_t *d;
	unsigned int i;
	int dfd;

	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	d = map_rw(dfd, self->size, 0);
	ASSERT_NE(NULL, d);

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		sync.flags = good[i];
		EXPECT_EQ(0, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync))
			TH_LOG("flags 0x%llx", (unsigned long long)good[i]);
	}
	/* The bracket around a CPU write, as the header documents it. */
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync));
	zc_fill(d, self->size, 8);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync));

	/* The DMA-buf core's own checks. */
	sync.flags = DMA_BUF_SYNC_START;
	EXPECT_EQ(-EINVAL, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync));
	sync.flags = DMA_BUF_SYNC_RW | 0x100;
	EXPECT_EQ(-EINVAL, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync));

	/* The read-only fd syncs too. */
	close(dfd);
	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync));
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, zc_ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync));
	close(dfd);

	EXPECT_EQ(-1, zc_check(d, self->size, 8));
	munmap(d, self->size);
}

/* zcbuf commands on a DMA-buf fd, DMA-buf commands on /dev/zcbuf: ENOTTY. */
TEST_F(mmap, ioctls_on_wrong_fd_enotty)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	struct zcbuf_info info;
	int dfd;

	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-ENOTTY, zc_ioctl(dfd, ZCBUF_IOC_INFO, &info));
	EXPECT_EQ(-ENOTTY, zc_ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	close(dfd);
}

/* ---- lifetimes ---------------------------------------------------------- */

/* Close the context first: the mapping stays valid, data intact. */
TEST_F(mmap, close_context_before_munmap)
{
	uint8_t *p;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 9);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(-1, zc_check(p, self->size, 9));
	zc_fill(p, self->size, 10);
	EXPECT_EQ(-1, zc_check(p, self->size, 10));
	ASSERT_EQ(0, munmap(p, self->size));
}

TEST_F(mmap, munmap_before_close)
{
	uint8_t *p;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 11);
	ASSERT_EQ(0, munmap(p, self->size));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
}

/* FREE while mapped: the mapping keeps the memory. */
TEST_F(mmap, free_while_mapped)
{
	uint8_t *p;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 12);
	ASSERT_EQ(0, zc_free(self->fd, self->idx));
	EXPECT_EQ(-1, zc_check(p, self->size, 12));
	zc_fill(p, self->size, 13);
	EXPECT_EQ(-1, zc_check(p, self->size, 13));
	/* but the offset is gone */
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, self->size, PROT_READ, MAP_SHARED,
				       self->q.offset));
	ASSERT_EQ(0, munmap(p, self->size));
}

/* Export, close the context: the DMA-buf fd still maps the same data. */
TEST_F(mmap, export_then_close_context)
{
	uint8_t *p, *d;
	int dfd;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 14);
	ASSERT_EQ(0, munmap(p, self->size));
	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	d = map_rw(dfd, self->size, 0);
	ASSERT_NE(NULL, d);
	EXPECT_EQ(-1, zc_check(d, self->size, 14));
	ASSERT_EQ(0, close(dfd));
	/* ... and the mapping outlives the fd as well */
	EXPECT_EQ(-1, zc_check(d, self->size, 14));
	zc_fill(d, self->size, 15);
	ASSERT_EQ(0, munmap(d, self->size));
}

/* Export, close the DMA-buf fd: the context's buffer is untouched. */
TEST_F(mmap, export_then_close_dmabuf)
{
	uint8_t *p, *d;
	int dfd;

	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	d = map_rw(dfd, self->size, 0);
	ASSERT_NE(NULL, d);
	zc_fill(d, self->size, 16);
	ASSERT_EQ(0, munmap(d, self->size));
	ASSERT_EQ(0, close(dfd));

	ASSERT_EQ(0, zc_query(self->fd, self->idx, &self->q));
	EXPECT_EQ(self->size, self->q.size);
	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-1, zc_check(p, self->size, 16));
	EXPECT_EQ(0, zc_sync(self->fd, self->idx, ZCBUF_SYNC_START | ZCBUF_SYNC_RW,
			     0, self->size));
	ASSERT_EQ(0, munmap(p, self->size));
	/* A new export works too. */
	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	close(dfd);
}

/* Export, FREE: the DMA-buf keeps the memory. */
TEST_F(mmap, export_then_free)
{
	uint8_t *p, *d;
	int dfd;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 17);
	ASSERT_EQ(0, munmap(p, self->size));
	dfd = zc_export(self->fd, self->idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, zc_free(self->fd, self->idx));
	d = map_rw(dfd, self->size, 0);
	ASSERT_NE(NULL, d);
	EXPECT_EQ(-1, zc_check(d, self->size, 17));
	munmap(d, self->size);
	close(dfd);
}

/* fork(): the child's writes show in the parent's mapping and back. */
TEST_F(mmap, fork_shares_mapping)
{
	int status;
	uint8_t *p;
	pid_t pid;

	p = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, p);
	zc_fill(p, self->size, 18);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (zc_check(p, self->size, 18) != -1)
			_exit(2);
		zc_fill(p, self->size, 19);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child did not see the parent's data");
	EXPECT_EQ(-1, zc_check(p, self->size, 19));
	munmap(p, self->size);
}

/*
 * fork(), then the parent (which made the context) exits while the child
 * still uses the mapping: the child's view stays valid.  The test process
 * is a subreaper, so the orphaned child is still ours to wait for.
 *
 *   test --fork--> parent (open, alloc, mmap, fill) --fork--> child
 *   parent exits; child waits until it is reparented, checks and rewrites
 *   the buffer, reports through a pipe.
 */
TEST_F(mmap, fork_parent_exits_first)
{
	int result[2], status, ok = 0;
	struct pollfd pfd;
	pid_t parent;
	char c = 0;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, pipe(result));

	parent = fork();
	ASSERT_LE(0, parent);
	if (parent == 0) {
		pid_t child, me = getpid();
		uint8_t *p;
		int fd;

		close(result[0]);
		close(self->fd);
		fd = zc_open();
		if (fd < 0)
			_exit(10);
		if (zc_alloc(fd, self->size, 1, self->flags, &self->idx))
			_exit(11);
		p = zc_map_buffer(fd, self->idx, NULL);
		if (!p)
			_exit(12);
		zc_fill(p, self->size, 20);

		child = fork();
		if (child < 0)
			_exit(13);
		if (child == 0) {
			int i;

			/* Wait until the parent has gone (reparented). */
			for (i = 0; i < 10000 && getppid() == me; i++)
				usleep(1000);
			if (getppid() == me)
				_exit(4);
			close(fd);
			c = zc_check(p, self->size, 20) == -1 ? 'Y' : 'N';
			zc_fill(p, self->size, 21);
			if (c == 'Y' && zc_check(p, self->size, 21) != -1)
				c = 'W';
			munmap(p, self->size);
			if (write(result[1], &c, 1) != 1)
				_exit(3);
			_exit(0);
		}
		/* The parent drops everything and exits before the child looks. */
		munmap(p, self->size);
		close(fd);
		_exit(0);
	}
	close(result[1]);
	ASSERT_EQ(parent, waitpid(parent, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("the parent failed at step %d",
						 WEXITSTATUS(status));

	pfd.fd = result[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 20000)) TH_LOG("the orphaned child never reported");
	ASSERT_EQ(1, read(result[0], &c, 1));
	EXPECT_EQ('Y', c) TH_LOG("child saw %s", c == 'N' ? "wrong data" : "writes lost");
	/* Reap the orphan (we are its subreaper). */
	while (waitpid(-1, &status, 0) > 0)
		ok |= !WIFEXITED(status) || WEXITSTATUS(status);
	EXPECT_EQ(0, ok);
	close(result[0]);
}

/* ---- isolation --------------------------------------------------------- */

/* An offset of context A means nothing in context B. */
TEST_F(mmap, isolation_between_contexts)
{
	struct zcbuf_query qb;
	uint8_t *a, *b;
	uint32_t ib;
	int fdb;

	a = map_rw(self->fd, self->size, self->q.offset);
	ASSERT_NE(NULL, a);
	zc_fill(a, self->size, 22);

	fdb = zc_open();
	ASSERT_LE(0, fdb);
	/* B has no buffers: A's offset maps nothing. */
	EXPECT_EQ(-EINVAL, zc_mmap_err(fdb, self->size, PROT_READ, MAP_SHARED,
				       self->q.offset));
	EXPECT_EQ(-EINVAL, zc_mmap_err(fdb, self->page, PROT_READ | PROT_WRITE,
				       MAP_SHARED, self->q.offset));

	/* B's own buffer, wherever its offset is, is B's: zeroes, not A's data. */
	ASSERT_EQ(0, zc_alloc(fdb, self->size, 1, self->flags, &ib));
	ASSERT_EQ(0, zc_query(fdb, ib, &qb));
	b = map_rw(fdb, self->size, qb.offset);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(-1, zc_check_zero(b, self->size));
	memset(b, 0xee, self->size);
	EXPECT_EQ(-1, zc_check(a, self->size, 22));

	munmap(b, self->size);
	munmap(a, self->size);
	close(fdb);
}

TEST_HARNESS_MAIN
