// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_buffers: ZCBUF_IOC_ALLOC, QUERY, FREE, EXPORT and SYNC, each positive
 * and each bad input alone with its errno, and the limits of ZCBUF_IOC_INFO.
 *
 * The "buffers" fixture runs twice: scatter-gather and contiguous buffers
 * (ZCBUF_ALLOC_CONTIG).  The "limits" fixture checks the per-buffer,
 * per-context and count bounds, and that a failed ALLOC leaves nothing
 * behind.
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
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

#define MIB		(1024UL * 1024)
/* Buffers a failed ALLOC could have left behind are looked for here. */
#define PROBE_WINDOW	512

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

/* The lowest fd number free right now (to prove no fd was installed). */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

FIXTURE(buffers)
{
	int fd;
	size_t page;
	struct zcbuf_info info;
	uint32_t flags;		/* ZCBUF_ALLOC_* of this variant */
	uint64_t max_size;	/* largest buffer of this variant */
};

FIXTURE_VARIANT(buffers)
{
	uint32_t alloc_flags;
};

FIXTURE_VARIANT_ADD(buffers, sg)
{
	.alloc_flags = 0,
};

FIXTURE_VARIANT_ADD(buffers, contig)
{
	.alloc_flags = ZCBUF_ALLOC_CONTIG,
};

FIXTURE_SETUP(buffers)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	self->flags = variant->alloc_flags;
	self->max_size = self->info.max_buffer_size;
	if (self->flags & ZCBUF_ALLOC_CONTIG) {
		/* The module says it cannot: then CONTIG must be refused. */
		if (!(self->info.caps & ZCBUF_CAP_CONTIG)) {
			ASSERT_EQ(-EINVAL, zc_alloc(self->fd, 1, 1, self->flags, NULL));
			SKIP(return, "ZCBUF_CAP_CONTIG not reported");
		}
		self->max_size = self->info.max_contig_size;
	}
}

FIXTURE_TEARDOWN(buffers)
{
	if (self->fd >= 0)
		ASSERT_EQ(0, close(self->fd));
}

TEST_F(buffers, alloc_one_byte_is_one_page)
{
	struct zcbuf_query q;
	uint32_t first = ~0u;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &first));
	ASSERT_EQ(0, zc_query(self->fd, first, &q));
	EXPECT_EQ(first, q.index);
	EXPECT_EQ(self->page, q.size);
	EXPECT_EQ(0, q.offset % self->page);
	EXPECT_EQ(ZCBUF_STATE_USER, q.state);
	EXPECT_EQ(0, q.reserved);
	EXPECT_EQ(self->flags & ZCBUF_ALLOC_CONTIG ? ZCBUF_BUF_CONTIG : 0, q.flags);
}

TEST_F(buffers, alloc_sizes_round_up)
{
	const uint64_t p = self->page;
	const uint64_t sizes[] = {
		p - 1, p, p + 1, 3 * p, 5 * p - 7, MIB - 1, MIB, MIB + 1,
	};
	struct zcbuf_query q;
	unsigned int i;
	uint32_t idx;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t want = (sizes[i] + p - 1) / p * p;

		ASSERT_EQ(0, zc_alloc(self->fd, sizes[i], 1, self->flags, &idx))
			TH_LOG("size %llu", (unsigned long long)sizes[i]);
		ASSERT_EQ(0, zc_query(self->fd, idx, &q));
		EXPECT_EQ(want, q.size)
			TH_LOG("size %llu", (unsigned long long)sizes[i]);
	}
}

/* count N: indices first .. first + N - 1, disjoint mmap windows. */
TEST_F(buffers, alloc_count_consecutive)
{
	struct zcbuf_query q[8];
	uint32_t first, second;
	unsigned int i, j, overlaps = 0;

	ASSERT_EQ(0, zc_alloc(self->fd, 2 * self->page, 5, self->flags, &first));
	ASSERT_EQ(0, zc_alloc(self->fd, self->page, 3, self->flags, &second));
	/* The second batch does not overlap the first. */
	EXPECT_TRUE(second + 3 <= first || second >= first + 5)
		TH_LOG("first %u (5), second %u (3)", first, second);

	for (i = 0; i < 8; i++) {
		uint32_t idx = i < 5 ? first + i : second + i - 5;

		ASSERT_EQ(0, zc_query(self->fd, idx, &q[i])) TH_LOG("index %u", idx);
		EXPECT_EQ(i < 5 ? 2 * self->page : self->page, q[i].size);
		EXPECT_EQ(0, q[i].offset % self->page);
	}
	for (i = 0; i < 8; i++) {
		for (j = i + 1; j < 8; j++) {
			bool apart = q[i].offset + q[i].size <= q[j].offset ||
				     q[j].offset + q[j].size <= q[i].offset;

			if (!apart)
				TH_LOG("buffers %u and %u overlap in the mmap space",
				       q[i].index, q[j].index);
			overlaps += !apart;
		}
	}
	EXPECT_EQ(0, overlaps);
	EXPECT_EQ(5, count_buffers(self->fd, first, 5));
	EXPECT_EQ(3, count_buffers(self->fd, second, 3));
}

/*
 * Every byte of a new buffer is zero, also when the pages were just freed
 * by a buffer full of data.
 */
TEST_F(buffers, alloc_zeroed)
{
	size_t size = self->max_size < 4 * MIB ? self->max_size : 4 * MIB;
	uint32_t idx;
	uint8_t *p;
	long bad;
	int round;

	for (round = 0; round < 4; round++) {
		ASSERT_EQ(0, zc_alloc(self->fd, size, 1, self->flags, &idx));
		p = zc_map_buffer(self->fd, idx, NULL);
		ASSERT_NE(NULL, p);
		bad = zc_check_zero(p, size);
		EXPECT_EQ(-1, bad)
			TH_LOG("round %d: byte %ld of %zu is 0x%02x", round, bad,
			       size, bad >= 0 ? p[bad] : 0);
		memset(p, 0xa5, size);
		ASSERT_EQ(0, munmap(p, size));
		ASSERT_EQ(0, zc_free(self->fd, idx));
	}
}

/* Page frame numbers behind [p, p + npages pages); 0 or -errno. */
static int pagemap_pfns(void *p, size_t npages, size_t page, uint64_t *pfn)
{
	uint64_t e;
	size_t i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < npages; i++) {
		off_t off = ((uintptr_t)p / page + i) * sizeof(e);

		if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
			close(fd);
			return -EIO;
		}
		if (!(e & (1ULL << 63))) {	/* not present */
			close(fd);
			return -ENXIO;
		}
		pfn[i] = e & ((1ULL << 55) - 1);
	}
	close(fd);
	return 0;
}

/*
 * The mapping shows real, distinct pages (as /proc/self/pagemap sees
 * them); a ZCBUF_ALLOC_CONTIG buffer's are physically consecutive.
 */
TEST_F(buffers, pages_distinct_contig_consecutive)
{
	const size_t npages = 256;	/* 1 MiB with 4 KiB pages */
	uint64_t *pfn;
	size_t i, j, bad = 0;
	uint32_t idx;
	uint8_t *p;
	int ret;

	pfn = calloc(npages, sizeof(*pfn));
	ASSERT_NE(NULL, pfn);
	ASSERT_EQ(0, zc_alloc(self->fd, npages * self->page, 1, self->flags, &idx));
	p = zc_map_buffer(self->fd, idx, NULL);
	ASSERT_NE(NULL, p);
	for (i = 0; i < npages; i++)
		p[i * self->page] = 1;	/* fault every page in */

	ret = pagemap_pfns(p, npages, self->page, pfn);
	ASSERT_EQ(0, ret) TH_LOG("pagemap: %s", strerror(-ret));
	if (!pfn[0])
		SKIP(goto out, "pagemap hides page frame numbers (needs CAP_SYS_ADMIN)");

	if (self->flags & ZCBUF_ALLOC_CONTIG) {
		for (i = 1; i < npages; i++)
			bad += pfn[i] != pfn[0] + i;
		EXPECT_EQ(0, bad) TH_LOG("%zu of %zu pages out of sequence", bad, npages);
	} else {
		for (i = 0; i < npages; i++)
			for (j = i + 1; j < npages; j++)
				bad += pfn[i] == pfn[j];
		EXPECT_EQ(0, bad) TH_LOG("%zu pages mapped twice", bad);
	}
out:
	munmap(p, npages * self->page);
	free(pfn);
}

#define CGROOT	"/sys/fs/cgroup"

static int write_str(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, str, strlen(str)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static long long read_ll(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -EIO;
}

/*
 * Put this process into a fresh cgroup-v2 group with the memory
 * controller; 0, or -errno with @why filled in.
 */
static int memcg_enter(char *dir, size_t dirlen, char *why, size_t whylen)
{
	char path[128], pid[32], ctrl[256] = "";
	int fd, ret;
	ssize_t n;

	if (access(CGROOT "/cgroup.controllers", F_OK) &&
	    mount("none", CGROOT, "cgroup2", 0, NULL)) {
		ret = -errno;
		snprintf(why, whylen, "cannot mount cgroup2 on %s: %s", CGROOT,
			 strerror(-ret));
		return ret;
	}
	fd = open(CGROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, ctrl, sizeof(ctrl) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || !strstr(ctrl, "memory")) {
		snprintf(why, whylen, "no memory controller in cgroup v2 (%s)", ctrl);
		return -EOPNOTSUPP;
	}
	write_str(CGROOT "/cgroup.subtree_control", "+memory");
	snprintf(dir, dirlen, CGROOT "/zcbuf-test-%d", getpid());
	if (mkdir(dir, 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(why, whylen, "mkdir %s: %s", dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ret = write_str(path, pid);
	if (ret)
		snprintf(why, whylen, "joining %s: %s", dir, strerror(-ret));
	return ret;
}

static void memcg_leave(const char *dir)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	write_str(CGROOT "/cgroup.procs", pid);
	rmdir(dir);
}

/* Buffer pages are charged to the caller's memory cgroup (__GFP_ACCOUNT). */
TEST_F(buffers, memcg_charged)
{
	size_t size = 16 * MIB;
	char dir[96], path[128], why[160] = "";
	long long before, during, after;
	uint32_t idx;
	int ret;

	if (size > self->max_size)
		size = self->max_size;
	ret = memcg_enter(dir, sizeof(dir), why, sizeof(why));
	if (ret)
		SKIP(return, "%s", why);
	snprintf(path, sizeof(path), "%s/memory.current", dir);

	before = read_ll(path);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, zc_alloc(self->fd, size, 1, self->flags, &idx));
	during = read_ll(path);
	ASSERT_EQ(0, zc_free(self->fd, idx));
	after = read_ll(path);
	memcg_leave(dir);

	TH_LOG("memory.current: %lld before, %lld with %zu bytes allocated, %lld after FREE",
	       before, during, size, after);
	/* Allow a little for what the charge covers besides the pages. */
	EXPECT_LE(before + (long long)size * 15 / 16, during);
	EXPECT_GE(during - (long long)size * 15 / 16, after);
}

/* Each bit outside ZCBUF_ALLOC_VALID_FLAGS alone, and reserved: EINVAL. */
TEST_F(buffers, alloc_unknown_flags_einval)
{
	struct zcbuf_alloc req;
	uint32_t probe, bit;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &probe));
	for (bit = 0; bit < 32; bit++) {
		if (ZCBUF_ALLOC_VALID_FLAGS & (1U << bit))
			continue;
		EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 1, 1, self->flags | (1U << bit), NULL))
			TH_LOG("flag bit %u", bit);
	}
	memset(&req, 0, sizeof(req));
	req.size = 1;
	req.count = 1;
	req.flags = self->flags;
	req.reserved = 1;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_ALLOC, &req));
	req.reserved = 0x80000000;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_ALLOC, &req));
	/* first_index is (out): whatever the caller left there is ignored. */
	req.reserved = 0;
	req.first_index = 0xdeadbeef;
	EXPECT_EQ(0, zc_ioctl(self->fd, ZCBUF_IOC_ALLOC, &req));
	EXPECT_EQ(2, count_buffers(self->fd, probe, PROBE_WINDOW));
}

TEST_F(buffers, alloc_size_zero_einval)
{
	uint32_t probe;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &probe));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 0, 1, self->flags, NULL));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 0, 4, self->flags, NULL));
	EXPECT_EQ(1, count_buffers(self->fd, probe, PROBE_WINDOW));
}

/* The variant's largest size works; one byte more is EINVAL. */
TEST_F(buffers, alloc_size_limit)
{
	struct zcbuf_query q;
	uint32_t idx, probe;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &probe));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, self->max_size + 1, 1, self->flags, NULL));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, self->max_size + self->page, 1,
				    self->flags, NULL));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 1ULL << 63, 1, self->flags, NULL));
	/* PAGE_ALIGN(size) would wrap to 0 */
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, UINT64_MAX, 1, self->flags, NULL));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, UINT64_MAX - self->page + 2, 1,
				    self->flags, NULL));
	EXPECT_EQ(1, count_buffers(self->fd, probe, PROBE_WINDOW));

	ASSERT_EQ(0, zc_alloc(self->fd, self->max_size, 1, self->flags, &idx));
	ASSERT_EQ(0, zc_query(self->fd, idx, &q));
	EXPECT_EQ(self->max_size, q.size);
}

TEST_F(buffers, alloc_count_limit_einval)
{
	uint32_t probe;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &probe));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 1, 0, self->flags, NULL));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 1, self->info.max_buffers + 1,
				    self->flags, NULL));
	EXPECT_EQ(-EINVAL, zc_alloc(self->fd, 1, UINT32_MAX, self->flags, NULL));
	EXPECT_EQ(1, count_buffers(self->fd, probe, PROBE_WINDOW));
}

/*
 * A valid ALLOC whose result cannot be written back (read-only argument):
 * EFAULT, and since the caller never learns the indices, no buffer may be
 * left behind ("either all @count buffers are created or none is").
 */
TEST_F(buffers, alloc_copyout_fault_creates_nothing)
{
	struct zcbuf_alloc *req;
	uint32_t probe;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &probe));
	req = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	req->size = self->page;
	req->count = 3;
	req->flags = self->flags;
	ASSERT_EQ(0, mprotect(req, self->page, PROT_READ));
	EXPECT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_ALLOC, req));
	EXPECT_EQ(1, count_buffers(self->fd, probe, PROBE_WINDOW))
		TH_LOG("a failed ALLOC left buffers in the context");
	munmap(req, self->page);
}

TEST_F(buffers, query_bad_index_einval)
{
	struct zcbuf_query q;
	uint32_t first;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 2, self->flags, &first));
	EXPECT_EQ(-EINVAL, zc_query(self->fd, first + 2, &q));
	EXPECT_EQ(-EINVAL, zc_query(self->fd, first + 1000, &q));
	EXPECT_EQ(-EINVAL, zc_query(self->fd, UINT32_MAX, &q));
	EXPECT_EQ(-EINVAL, zc_query(self->fd, 0x80000000u, &q));
	if (first > 0)
		EXPECT_EQ(-EINVAL, zc_query(self->fd, first - 1, &q));
}

/* A fresh context has no buffers at all. */
TEST_F(buffers, query_empty_context_einval)
{
	struct zcbuf_query q;
	uint32_t i;

	for (i = 0; i < 64; i++)
		EXPECT_EQ(-EINVAL, zc_query(self->fd, i, &q)) TH_LOG("index %u", i);
}

TEST_F(buffers, free_then_gone)
{
	struct zcbuf_query q;
	uint32_t first;
	int i;

	ASSERT_EQ(0, zc_alloc(self->fd, 3 * self->page, 3, self->flags, &first));
	ASSERT_EQ(0, zc_query(self->fd, first + 1, &q));
	ASSERT_EQ(0, zc_free(self->fd, first + 1));

	EXPECT_EQ(-EINVAL, zc_query(self->fd, first + 1, &q));
	EXPECT_EQ(-EINVAL, zc_free(self->fd, first + 1));
	EXPECT_EQ(-EINVAL, zc_export(self->fd, first + 1, ZCBUF_EXPORT_RDWR));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, first + 1,
				   ZCBUF_SYNC_START | ZCBUF_SYNC_RW, 0, self->page));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, q.size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, q.offset));
	/* Its neighbours are untouched. */
	for (i = 0; i < 3; i += 2) {
		ASSERT_EQ(0, zc_query(self->fd, first + i, &q));
		EXPECT_EQ(3 * self->page, q.size);
	}
	EXPECT_EQ(0, zc_free(self->fd, first));
	EXPECT_EQ(0, zc_free(self->fd, first + 2));
	EXPECT_EQ(0, count_buffers(self->fd, first, PROBE_WINDOW));
}

TEST_F(buffers, free_errors)
{
	struct zcbuf_free req;
	struct zcbuf_query q;
	uint32_t first;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &first));
	EXPECT_EQ(-EINVAL, zc_free(self->fd, first + 1));
	EXPECT_EQ(-EINVAL, zc_free(self->fd, UINT32_MAX));

	memset(&req, 0, sizeof(req));
	req.index = first;
	req.reserved = 1;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_FREE, &req));
	EXPECT_EQ(0, zc_query(self->fd, first, &q));
}

/* Freed memory no longer counts against the context's limits. */
TEST_F(buffers, free_returns_quota)
{
	uint64_t size = self->max_size;
	uint32_t n, i, first;

	n = self->info.max_total_size / size;
	if (n > self->info.max_buffers)
		n = self->info.max_buffers;
	/* Keep the guest's memory in mind: at most 64 MiB at a time here. */
	if (n * size > 64 * MIB) {
		size = 64 * MIB / n;
		size -= size % self->page;
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, zc_alloc(self->fd, size, n, self->flags, &first))
			TH_LOG("round %u: %u x %llu", i, n, (unsigned long long)size);
		for (uint32_t j = 0; j < n; j++)
			ASSERT_EQ(0, zc_free(self->fd, first + j));
	}
}

TEST_F(buffers, export_flags_and_errors)
{
	struct zcbuf_export req;
	uint32_t first, bit;
	int before;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &first));
	before = lowest_free_fd();

	for (bit = 0; bit < 32; bit++) {
		if (ZCBUF_EXPORT_VALID_FLAGS & (1U << bit))
			continue;
		EXPECT_EQ(-EINVAL, zc_export(self->fd, first, ZCBUF_EXPORT_RDWR | (1U << bit)))
			TH_LOG("flag bit %u", bit);
	}
	memset(&req, 0, sizeof(req));
	req.index = first;
	req.flags = ZCBUF_EXPORT_RDWR;
	req.reserved = 1;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_EXPORT, &req));
	EXPECT_EQ(-EINVAL, zc_export(self->fd, first + 1, ZCBUF_EXPORT_RDWR));
	EXPECT_EQ(-EINVAL, zc_export(self->fd, UINT32_MAX, 0));
	EXPECT_EQ(before, lowest_free_fd()) TH_LOG("a failed EXPORT left an fd");
}

/* The new fd number cannot reach the caller: no fd may be left open. */
TEST_F(buffers, export_copyout_fault_leaks_no_fd)
{
	struct zcbuf_export *req;
	uint32_t first;
	int before;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, self->flags, &first));
	req = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	req->index = first;
	req->flags = ZCBUF_EXPORT_RDWR;
	ASSERT_EQ(0, mprotect(req, self->page, PROT_READ));
	before = lowest_free_fd();
	EXPECT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_EXPORT, req));
	EXPECT_EQ(before, lowest_free_fd());
	munmap(req, self->page);
}

/* Every valid flag combination, byte-granular ranges, whole buffer. */
TEST_F(buffers, sync_valid)
{
	static const uint32_t dirs[] = {
		ZCBUF_SYNC_READ, ZCBUF_SYNC_WRITE, ZCBUF_SYNC_RW,
	};
	uint64_t size = 4 * self->page;
	uint32_t idx;
	unsigned int d;

	ASSERT_EQ(0, zc_alloc(self->fd, size, 1, self->flags, &idx));
	for (d = 0; d < ARRAY_SIZE(dirs); d++) {
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_START | dirs[d], 0, size));
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_END | dirs[d], 0, size));
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_START | dirs[d], 1, 3));
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_END | dirs[d], 1, 3));
		/* across a page boundary */
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_START | dirs[d],
				     self->page - 5, 10));
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_END | dirs[d],
				     self->page - 5, 10));
		/* the last byte */
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_START | dirs[d], size - 1, 1));
		EXPECT_EQ(0, zc_sync(self->fd, idx, ZCBUF_SYNC_END | dirs[d], size - 1, 1));
	}
}

TEST_F(buffers, sync_errors_einval)
{
	uint64_t size = 4 * self->page;
	const uint32_t rw = ZCBUF_SYNC_START | ZCBUF_SYNC_RW;
	uint32_t idx, bit;

	ASSERT_EQ(0, zc_alloc(self->fd, size, 1, self->flags, &idx));

	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, 0, 0));		/* length 0 */
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, 0, size + 1));	/* past end */
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, size, 1));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, size - 1, 2));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, size + self->page, 1));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, ~0ULL, 1));		/* overflow */
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, 1, ~0ULL));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, ~0ULL, ~0ULL));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw, size / 2, UINT64_MAX - size / 2 + 2));
	/* no direction */
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, ZCBUF_SYNC_START, 0, size));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, ZCBUF_SYNC_END, 0, size));
	/* unknown bits, each alone */
	for (bit = 0; bit < 32; bit++) {
		if (ZCBUF_SYNC_VALID_FLAGS & (1U << bit))
			continue;
		EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx, rw | (1U << bit), 0, size))
			TH_LOG("flag bit %u", bit);
	}
	/* bad indices */
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, idx + 1, rw, 0, 1));
	EXPECT_EQ(-EINVAL, zc_sync(self->fd, UINT32_MAX, rw, 0, 1));
	/* and the buffer still syncs */
	EXPECT_EQ(0, zc_sync(self->fd, idx, rw, 0, size));
}

/* ------------------------------------------------------------------------ */

FIXTURE(limits)
{
	int fd;
	size_t page;
	struct zcbuf_info info;
	uint32_t probe;
};

FIXTURE_SETUP(limits)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(limits)
{
	if (self->fd >= 0)
		ASSERT_EQ(0, close(self->fd));
}

/* One request whose buffers are each fine but together too much: ENOMEM. */
TEST_F(limits, request_over_total_enomem)
{
	const struct zcbuf_info *in = &self->info;
	uint64_t size = in->max_buffer_size;
	uint64_t count = in->max_total_size / size + 1;
	uint32_t probe;

	if (count > in->max_buffers) {
		/* Make each buffer smaller so that max_buffers of them overflow. */
		count = in->max_buffers;
		size = (in->max_total_size / count + self->page) / self->page * self->page;
		if (size > in->max_buffer_size)
			SKIP(return, "max_buffers x max_buffer_size <= max_total_size: no such request");
	}
	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &probe));
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, size, count, 0, NULL))
		TH_LOG("%llu x %llu bytes, max_total_size %llu",
		       (unsigned long long)count, (unsigned long long)size,
		       (unsigned long long)in->max_total_size);
	EXPECT_EQ(1, count_buffers(self->fd, probe, PROBE_WINDOW));
}

/*
 * Fill the context to max_total_size: the next page is ENOMEM; a FREE makes
 * room again.  The failed requests must not have consumed any quota.
 */
TEST_F(limits, total_size_cumulative)
{
	const struct zcbuf_info *in = &self->info;
	uint64_t size = in->max_buffer_size;
	uint64_t n = in->max_total_size / size;
	uint64_t rest = in->max_total_size - n * size;
	uint32_t first, idx;

	if (in->max_total_size > 512 * MIB)
		SKIP(return, "max_total_size %llu is more than this guest should fill",
		     (unsigned long long)in->max_total_size);
	if (n + (rest ? 1 : 0) > in->max_buffers)
		SKIP(return, "max_buffers is reached before max_total_size");

	/* A failed over-the-top request first: it must leave no trace. */
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, in->max_total_size / (n + 1) + self->page,
				    n + 1, 0, NULL));

	ASSERT_EQ(0, zc_alloc(self->fd, size, n, 0, &first))
		TH_LOG("%llu x %llu", (unsigned long long)n, (unsigned long long)size);
	if (rest)
		ASSERT_EQ(0, zc_alloc(self->fd, rest, 1, 0, NULL));
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, 1, 1, 0, NULL));
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, self->page, 2, 0, NULL));

	ASSERT_EQ(0, zc_free(self->fd, first));
	ASSERT_EQ(0, zc_alloc(self->fd, size, 1, 0, &idx));
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, 1, 1, 0, NULL));
}

/* max_buffers buffers, one by one: the next one is ENOMEM until a FREE. */
TEST_F(limits, buffer_count_cumulative)
{
	uint32_t i, idx, first = 0;

	for (i = 0; i < self->info.max_buffers; i++) {
		ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &idx)) TH_LOG("buffer %u", i);
		if (!i)
			first = idx;
	}
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, 1, 1, 0, NULL));
	ASSERT_EQ(0, zc_free(self->fd, first));
	EXPECT_EQ(0, zc_alloc(self->fd, 1, 1, 0, NULL));
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, 1, 1, 0, NULL));
}

/* count within max_buffers but more than the context has left: ENOMEM. */
TEST_F(limits, buffer_count_partial_enomem)
{
	uint32_t half = self->info.max_buffers / 2 + 1, probe;

	if (self->info.max_buffers < 2)
		SKIP(return, "max_buffers is %u", self->info.max_buffers);
	ASSERT_EQ(0, zc_alloc(self->fd, 1, half, 0, &probe));
	EXPECT_EQ(-ENOMEM, zc_alloc(self->fd, 1, half, 0, NULL));
	EXPECT_EQ((int)half, count_buffers(self->fd, probe, PROBE_WINDOW));
	EXPECT_EQ(0, zc_alloc(self->fd, 1, self->info.max_buffers - half, 0, NULL));
}

/* Limits are per context: a second open has the whole quota. */
TEST_F(limits, per_context)
{
	uint32_t i;
	int fd2;

	for (i = 0; i < self->info.max_buffers; i++)
		ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, NULL));
	fd2 = zc_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, zc_alloc(fd2, 1, self->info.max_buffers, 0, NULL));
	close(fd2);
}

TEST_HARNESS_MAIN
