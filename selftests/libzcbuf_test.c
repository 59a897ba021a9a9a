// SPDX-License-Identifier: GPL-2.0
/*
 * libzcbuf selftests: every library call at least once, with a success and
 * an error each, against the real module.
 *
 * The buffer tests SKIP when /dev/zcbuf does not exist; the streaming tests
 * SKIP only when the module does not report ZCBUF_CAP_CAMERA.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/time.h>

#include <zcbuf/libzcbuf.h>

#include "kselftest_harness.h"

#define WAIT_MS		10000	/* one completion under TCG, generously */

static int open_or_skip_reason(char *why, size_t len)
{
	int fd;

	if (access(ZCBUF_DEFAULT_PATH, F_OK)) {
		snprintf(why, len, "%s does not exist (module not loaded)",
			 ZCBUF_DEFAULT_PATH);
		return -ENOENT;
	}
	fd = zcbuf_open(NULL, O_CLOEXEC);
	if (fd < 0)
		snprintf(why, len, "zcbuf_open: %s", strerror(-fd));
	return fd;
}

/* A pipe's read end: an fd that is neither zcbuf, nor DMA-buf, nor eventfd. */
static int pipe_fd(int *other)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	*other = p[1];
	return p[0];
}

/* ---- no device needed ---- */

TEST(version)
{
	ASSERT_EQ(LIBZCBUF_VERSION, zcbuf_version());
	ASSERT_EQ(1, LIBZCBUF_VERSION_MAJOR);
	ASSERT_TRUE(LIBZCBUF_CHECK_VERSION(1, 0));
	ASSERT_FALSE(LIBZCBUF_CHECK_VERSION(2, 0));
	ASSERT_EQ(0, zcbuf_check_version(LIBZCBUF_VERSION_MAJOR,
					 LIBZCBUF_VERSION_MINOR));
	ASSERT_EQ(0, zcbuf_check_version(1, 0));
	ASSERT_EQ(-ENOTSUP, zcbuf_check_version(2, 0));
	ASSERT_EQ(-ENOTSUP, zcbuf_check_version(0, 0));
	ASSERT_EQ(-ENOTSUP, zcbuf_check_version(1, LIBZCBUF_VERSION_MINOR + 1));
}

TEST(crc32)
{
	static const char check[] = "123456789";
	unsigned char buf[4099];
	uint32_t whole, part;
	size_t i;

	/* The CRC-32/ISO-HDLC check value, as zlib's crc32() gives it. */
	ASSERT_EQ(0xCBF43926U, zcbuf_crc32(0, check, 9));
	ASSERT_EQ(0U, zcbuf_crc32(0, NULL, 0));
	ASSERT_EQ(0xE8B7BE43U, zcbuf_crc32(0, "a", 1));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	/* Chunked (and misaligned) equals whole. */
	whole = zcbuf_crc32(0, buf, sizeof(buf));
	part = zcbuf_crc32(0, buf, 1);
	part = zcbuf_crc32(part, buf + 1, 2050);
	part = zcbuf_crc32(part, buf + 2051, sizeof(buf) - 2051);
	ASSERT_EQ(whole, part);
	/* A single bit flip changes it. */
	buf[100] ^= 1;
	ASSERT_NE(whole, zcbuf_crc32(0, buf, sizeof(buf)));
}

TEST(wait_errors)
{
	int efd, other, pfd;
	uint64_t count;

	ASSERT_EQ(-EBADF, zcbuf_wait(-1, 0));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	/* Nothing counted: timeout, both with and without a wait. */
	ASSERT_EQ(-ETIME, zcbuf_wait(efd, 0));
	ASSERT_EQ(-ETIME, zcbuf_wait(efd, 20));
	ASSERT_EQ(-ETIME, zcbuf_wait_eventfd(efd, 20, &count));
	ASSERT_EQ(-EINVAL, zcbuf_wait_eventfd(efd, 0, NULL));
	/* Counted: readable, and reading resets it. */
	ASSERT_EQ(0, eventfd_write(efd, 3));
	ASSERT_EQ(0, zcbuf_wait(efd, 0));
	ASSERT_EQ(0, zcbuf_wait_eventfd(efd, 0, &count));
	ASSERT_EQ(3U, count);
	ASSERT_EQ(-ETIME, zcbuf_wait(efd, 0));
	close(efd);
	/* A closed fd number. */
	ASSERT_EQ(-EBADF, zcbuf_wait(efd, 0));
	/* A pipe whose writer went away: POLLHUP without POLLIN. */
	pfd = pipe_fd(&other);
	ASSERT_LE(0, pfd);
	close(other);
	ASSERT_EQ(-EIO, zcbuf_wait(pfd, 0));
	close(pfd);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A signal mid-wait: restarted with the time left, still -ETIME at the end. */
TEST(wait_restarts_on_eintr)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct sigaction sa;
	uint64_t count;
	double t0, dt;
	int efd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: poll() gets EINTR */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	t0 = mono_ms();
	ASSERT_EQ(-ETIME, zcbuf_wait(efd, 300));
	dt = mono_ms() - t0;
	ASSERT_EQ(-ETIME, zcbuf_wait_eventfd(efd, 100, &count));
	memset(&it, 0, sizeof(it));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ASSERT_LT(2, alarms);		/* it was interrupted, repeatedly */
	ASSERT_LE(299.0, dt);		/* and waited its whole time */
	ASSERT_GT(5000.0, dt);		/* but not much longer */
	close(efd);
}

TEST(open_close)
{
	char why[128];
	int fd, flags;

	ASSERT_EQ(-EINVAL, zcbuf_open(NULL, O_TRUNC));
	ASSERT_EQ(-ENOENT, zcbuf_open("/nonexistent/zcbuf", 0));
	fd = open_or_skip_reason(why, sizeof(why));
	if (fd == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_LE(0, fd) TH_LOG("%s", why);
	flags = fcntl(fd, F_GETFD);
	ASSERT_TRUE(flags & FD_CLOEXEC);
	ASSERT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, zcbuf_close(fd));
	ASSERT_EQ(-EBADF, zcbuf_close(fd));

	fd = zcbuf_open(ZCBUF_DEFAULT_PATH, O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, zcbuf_close(fd));
}

/* ---- buffers ---- */

FIXTURE(lib)
{
	int fd;
	struct zcbuf_info info;
	size_t page;
};

FIXTURE_SETUP(lib)
{
	char why[128];

	self->fd = open_or_skip_reason(why, sizeof(why));
	if (self->fd == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_LE(0, self->fd) TH_LOG("%s", why);
	ASSERT_EQ(0, zcbuf_get_info(self->fd, &self->info));
	self->page = (size_t)sysconf(_SC_PAGESIZE);
}

FIXTURE_TEARDOWN(lib)
{
	if (self->fd >= 0)
		EXPECT_EQ(0, zcbuf_close(self->fd));
}

TEST_F(lib, get_info)
{
	struct zcbuf_info info;
	int other, pfd;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, zcbuf_get_info(self->fd, &info));
	ASSERT_EQ(ZCBUF_API_VERSION_MAJOR, info.version >> 16);
	ASSERT_EQ(self->page, info.page_size);
	ASSERT_LT(0U, info.max_buffers);
	ASSERT_LE(info.page_size, info.max_buffer_size);
	ASSERT_LE(info.max_buffer_size, info.max_total_size);
	ASSERT_EQ(0U, info.reserved[0] | info.reserved[1] | info.reserved[2]);

	ASSERT_EQ(-EINVAL, zcbuf_get_info(self->fd, NULL));
	ASSERT_EQ(-EBADF, zcbuf_get_info(-1, &info));
	/* Not a zcbuf fd: the ioctl is unknown there. */
	pfd = pipe_fd(&other);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(-ENOTTY, zcbuf_get_info(pfd, &info));
	close(pfd);
	close(other);
}

/* zcbuf_list_devices() and zcbuf_find_device() agree with the ioctl. */
TEST_F(lib, devices)
{
	struct zcbuf_device_desc all[64], d;
	int n, id, i;

	if (!(self->info.caps & ZCBUF_CAP_DEVICES))
		SKIP(return, "module older than 1.1");
	n = zcbuf_list_devices(self->fd, NULL, 0);
	ASSERT_LE(0, n);
	if (!n)
		SKIP(return, "no device registered");
	ASSERT_GE(64, n);
	ASSERT_EQ(n, zcbuf_list_devices(self->fd, all, 64));
	/* A short array still gets the count, and only what fits. */
	memset(&d, 0xa5, sizeof(d));
	ASSERT_EQ(n, zcbuf_list_devices(self->fd, &d, 1));
	EXPECT_EQ(all[0].id, d.id);
	EXPECT_EQ(-EINVAL, zcbuf_list_devices(self->fd, NULL, 1));
	EXPECT_EQ(-EBADF, zcbuf_list_devices(-1, all, 64));
	for (i = 0; i < n; i++) {
		if (i)
			EXPECT_LT(all[i - 1].id, all[i].id);
		id = zcbuf_find_device(self->fd, all[i].name, &d);
		EXPECT_EQ((int)all[i].id, id);
		EXPECT_STREQ(all[i].name, d.name);
		/* By id, written in decimal. */
		{
			char num[16];

			snprintf(num, sizeof(num), "%u", all[i].id);
			EXPECT_EQ((int)all[i].id,
				  zcbuf_find_device(self->fd, num, NULL));
		}
	}
	EXPECT_EQ(-ENODEV, zcbuf_find_device(self->fd, "no-such-device", NULL));
	EXPECT_EQ(-ENODEV, zcbuf_find_device(self->fd, "4000000000", NULL));
	EXPECT_EQ(-ENODEV, zcbuf_find_device(self->fd,
		"a-name-longer-than-the-thirty-one-characters-allowed", NULL));
	EXPECT_EQ(-EINVAL, zcbuf_find_device(self->fd, "", NULL));
	EXPECT_EQ(-EINVAL, zcbuf_find_device(self->fd, NULL, NULL));
}

TEST_F(lib, alloc_query_free)
{
	struct zcbuf_query q0, q1;
	unsigned int first = ~0U, idx;

	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 1, 2, 0, &first));
	ASSERT_NE(~0U, first);
	memset(&q0, 0xa5, sizeof(q0));
	ASSERT_EQ(0, zcbuf_query_buffer(self->fd, first, &q0));
	ASSERT_EQ(first, q0.index);
	ASSERT_EQ(self->page, q0.size);	/* rounded up to a page */
	ASSERT_EQ(0U, q0.flags);
	ASSERT_EQ(ZCBUF_STATE_USER, q0.state);
	ASSERT_EQ(0U, q0.reserved);
	ASSERT_EQ(0, zcbuf_query_buffer(self->fd, first + 1, &q1));
	ASSERT_NE(q0.offset, q1.offset);
	ASSERT_EQ(0U, q0.offset % self->page);

	/* first_index may be NULL. */
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 3 * self->page + 1, 1, 0,
					 NULL));

	ASSERT_EQ(0, zcbuf_free_buffer(self->fd, first));
	ASSERT_EQ(-EINVAL, zcbuf_query_buffer(self->fd, first, &q0));
	ASSERT_EQ(-EINVAL, zcbuf_free_buffer(self->fd, first));
	ASSERT_EQ(-EINVAL, zcbuf_free_buffer(self->fd, 0xfffffff0U));
	ASSERT_EQ(-EINVAL, zcbuf_query_buffer(self->fd, 0xfffffff0U, &q0));
	ASSERT_EQ(-EINVAL, zcbuf_query_buffer(self->fd, first + 1, NULL));

	/* Each bad argument alone. */
	ASSERT_EQ(-EINVAL, zcbuf_alloc_buffers(self->fd, 0, 1, 0, &idx));
	ASSERT_EQ(-EINVAL, zcbuf_alloc_buffers(self->fd, self->page, 0, 0, &idx));
	ASSERT_EQ(-EINVAL, zcbuf_alloc_buffers(self->fd, self->page, 1,
					       0x80000000U, &idx));
	ASSERT_EQ(-EINVAL, zcbuf_alloc_buffers(self->fd,
					       self->info.max_buffer_size + 1,
					       1, 0, &idx));
	ASSERT_EQ(-EINVAL, zcbuf_alloc_buffers(self->fd, self->page,
					       self->info.max_buffers + 1, 0,
					       &idx));
	ASSERT_EQ(-EBADF, zcbuf_alloc_buffers(-1, self->page, 1, 0, &idx));
}

TEST_F(lib, alloc_contig)
{
	struct zcbuf_query q;
	unsigned int idx;

	if (!(self->info.caps & ZCBUF_CAP_CONTIG))
		SKIP(return, "module reports no ZCBUF_CAP_CONTIG");
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 4 * self->page, 1,
					 ZCBUF_ALLOC_CONTIG, &idx));
	ASSERT_EQ(0, zcbuf_query_buffer(self->fd, idx, &q));
	ASSERT_EQ(ZCBUF_BUF_CONTIG, q.flags & ZCBUF_BUF_CONTIG);
	ASSERT_EQ(4 * self->page, q.size);
	if (self->info.max_contig_size < self->info.max_buffer_size)
		ASSERT_EQ(-EINVAL,
			  zcbuf_alloc_buffers(self->fd,
					      self->info.max_contig_size +
					      self->page, 1,
					      ZCBUF_ALLOC_CONTIG, &idx));
}

TEST_F(lib, map_unmap)
{
	unsigned char *p, *r;
	unsigned int idx;
	size_t len = 0, i;
	void *addr = NULL;

	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 4 * self->page, 1, 0, &idx));
	ASSERT_EQ(0, zcbuf_map_buffer(self->fd, idx, PROT_READ | PROT_WRITE,
				      &addr, &len));
	ASSERT_EQ(4 * self->page, len);
	p = addr;
	for (i = 0; i < len; i++)
		ASSERT_EQ(0, p[i]) TH_LOG("byte %zu not zeroed", i);
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 13 + 1);

	/* A sub-range shares the same pages. */
	ASSERT_EQ(0, zcbuf_map_range(self->fd, idx, 2 * self->page, 0,
				     PROT_READ, &addr));
	r = addr;
	ASSERT_EQ(0, memcmp(r, p + 2 * self->page, 2 * self->page));
	ASSERT_EQ(0, zcbuf_unmap_buffer(r, 2 * self->page));
	ASSERT_EQ(0, zcbuf_map_range(self->fd, idx, self->page, self->page,
				     PROT_READ, &addr));
	ASSERT_EQ(0, memcmp(addr, p + self->page, self->page));
	ASSERT_EQ(0, zcbuf_unmap_buffer(addr, self->page));

	/* Range errors, checked by the library before mmap. */
	ASSERT_EQ(-EINVAL, zcbuf_map_range(self->fd, idx, 1, 0, PROT_READ,
					   &addr));
	ASSERT_EQ(-EINVAL, zcbuf_map_range(self->fd, idx, 4 * self->page, 0,
					   PROT_READ, &addr));
	ASSERT_EQ(-EINVAL, zcbuf_map_range(self->fd, idx, self->page,
					   4 * self->page, PROT_READ, &addr));
	ASSERT_EQ(-EINVAL, zcbuf_map_range(self->fd, idx, 0, 0, PROT_READ,
					   NULL));
	/* Errors from the kernel. */
	ASSERT_EQ(-EINVAL, zcbuf_map_buffer(self->fd, idx + 100, PROT_READ,
					    &addr, &len));
	ASSERT_EQ(-EINVAL, zcbuf_map_buffer(self->fd, idx, PROT_READ, NULL,
					    &len));

	ASSERT_EQ(0, zcbuf_unmap_buffer(p, len));
	ASSERT_EQ(-EINVAL, zcbuf_unmap_buffer((char *)p + 1, len));
}

TEST_F(lib, map_survives_close)
{
	unsigned int idx;
	size_t len;
	void *addr;

	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, self->page, 1, 0, &idx));
	ASSERT_EQ(0, zcbuf_map_buffer(self->fd, idx, PROT_READ | PROT_WRITE,
				      &addr, &len));
	memset(addr, 0x5a, len);
	ASSERT_EQ(0, zcbuf_free_buffer(self->fd, idx));
	ASSERT_EQ(0, zcbuf_close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0x5a, ((unsigned char *)addr)[len - 1]);
	ASSERT_EQ(0, zcbuf_unmap_buffer(addr, len));
}

TEST_F(lib, sync)
{
	unsigned int idx;
	uint64_t size = 4 * self->page;

	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, size, 1, 0, &idx));
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, idx, 0, size, ZCBUF_SYNC_READ));
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, idx, 0, size, ZCBUF_SYNC_READ));
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, idx, 100, 200, ZCBUF_SYNC_RW));
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, idx, 100, 200, ZCBUF_SYNC_RW));
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, idx, size - 1, 1,
				      ZCBUF_SYNC_WRITE));
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, idx, size - 1, 1,
				    ZCBUF_SYNC_WRITE));

	/* Library: a direction that is not one. */
	ASSERT_EQ(-EINVAL, zcbuf_sync_begin(self->fd, idx, 0, size,
					    ZCBUF_SYNC_END | ZCBUF_SYNC_READ));
	ASSERT_EQ(-EINVAL, zcbuf_sync_end(self->fd, idx, 0, size, 0x10));
	/* Kernel: no direction, empty or outside range, bad index. */
	ASSERT_EQ(-EINVAL, zcbuf_sync_begin(self->fd, idx, 0, size, 0));
	ASSERT_EQ(-EINVAL, zcbuf_sync_end(self->fd, idx, 0, size, 0));
	ASSERT_EQ(-EINVAL, zcbuf_sync_begin(self->fd, idx, 0, 0,
					    ZCBUF_SYNC_READ));
	ASSERT_EQ(-EINVAL, zcbuf_sync_begin(self->fd, idx, 1, size,
					    ZCBUF_SYNC_READ));
	ASSERT_EQ(-EINVAL, zcbuf_sync_end(self->fd, idx, size, 1,
					  ZCBUF_SYNC_WRITE));
	ASSERT_EQ(-EINVAL, zcbuf_sync_begin(self->fd, idx, ~0ULL, 2,
					    ZCBUF_SYNC_READ));
	ASSERT_EQ(-EINVAL, zcbuf_sync_begin(self->fd, idx + 100, 0, size,
					    ZCBUF_SYNC_READ));
}

TEST_F(lib, export_dmabuf)
{
	unsigned char *p, *d;
	int dfd = -1, rofd = -1, other, pfd;
	unsigned int idx;
	size_t len, dlen;
	void *addr;

	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 2 * self->page, 1, 0, &idx));
	ASSERT_EQ(0, zcbuf_map_buffer(self->fd, idx, PROT_READ | PROT_WRITE,
				      &addr, &len));
	p = addr;
	ASSERT_EQ(0, zcbuf_export_buffer(self->fd, idx,
					 ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC,
					 &dfd));
	ASSERT_LE(0, dfd);
	ASSERT_TRUE(fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, zcbuf_map_dmabuf(dfd, PROT_READ | PROT_WRITE, &addr,
				      &dlen));
	d = addr;
	ASSERT_EQ(len, dlen);

	/* The same pages through both mappings, bracketed by syncs. */
	ASSERT_EQ(0, zcbuf_sync_dmabuf(dfd, ZCBUF_SYNC_START | ZCBUF_SYNC_RW));
	memset(d, 0x3c, dlen);
	ASSERT_EQ(0, zcbuf_sync_dmabuf(dfd, ZCBUF_SYNC_END | ZCBUF_SYNC_RW));
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, idx, 0, len, ZCBUF_SYNC_READ));
	ASSERT_EQ(0x3c, p[0]);
	ASSERT_EQ(0x3c, p[len - 1]);
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, idx, 0, len, ZCBUF_SYNC_READ));

	/* DMA_BUF_IOCTL_SYNC's own checks. */
	ASSERT_EQ(-EINVAL, zcbuf_sync_dmabuf(dfd, 0xff));
	ASSERT_EQ(-EINVAL, zcbuf_sync_dmabuf(dfd, ZCBUF_SYNC_START));
	pfd = pipe_fd(&other);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(-ENOTTY, zcbuf_sync_dmabuf(pfd, ZCBUF_SYNC_START |
					     ZCBUF_SYNC_READ));
	/* A pipe has no size to map. */
	ASSERT_EQ(-ESPIPE, zcbuf_map_dmabuf(pfd, PROT_READ, &addr, &dlen));
	close(pfd);
	close(other);
	ASSERT_EQ(-EBADF, zcbuf_map_dmabuf(-1, PROT_READ, &addr, &dlen));
	ASSERT_EQ(-EINVAL, zcbuf_map_dmabuf(dfd, PROT_READ, NULL, &dlen));

	/* Read-only export: no writable mapping. */
	ASSERT_EQ(0, zcbuf_export_buffer(self->fd, idx, ZCBUF_EXPORT_CLOEXEC,
					 &rofd));
	ASSERT_EQ(-EACCES, zcbuf_map_dmabuf(rofd, PROT_READ | PROT_WRITE,
					    &addr, &dlen));
	ASSERT_EQ(0, zcbuf_map_dmabuf(rofd, PROT_READ, &addr, &dlen));
	ASSERT_EQ(0x3c, ((unsigned char *)addr)[0]);
	ASSERT_EQ(0, zcbuf_unmap_buffer(addr, dlen));
	ASSERT_EQ(0, zcbuf_close(rofd));

	/* Export errors. */
	ASSERT_EQ(-EINVAL, zcbuf_export_buffer(self->fd, idx, 0x100, &rofd));
	ASSERT_EQ(-EINVAL, zcbuf_export_buffer(self->fd, idx + 100, 0, &rofd));
	ASSERT_EQ(-EINVAL, zcbuf_export_buffer(self->fd, idx, 0, NULL));

	/* The DMA-buf outlives the context. */
	ASSERT_EQ(0, zcbuf_unmap_buffer(p, len));
	ASSERT_EQ(0, zcbuf_close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, zcbuf_sync_dmabuf(dfd, ZCBUF_SYNC_START | ZCBUF_SYNC_READ));
	ASSERT_EQ(0x3c, d[dlen / 2]);
	ASSERT_EQ(0, zcbuf_sync_dmabuf(dfd, ZCBUF_SYNC_END | ZCBUF_SYNC_READ));
	ASSERT_EQ(0, zcbuf_unmap_buffer(d, dlen));
	ASSERT_EQ(0, zcbuf_close(dfd));
}

TEST_F(lib, import_dmabuf)
{
	unsigned int src, idx = ~0U;
	struct zcbuf_query q;
	int other, pfd, ctx2, dfd;
	uint64_t size = 0;
	size_t len;
	void *addr;

	if (!(self->info.caps & ZCBUF_CAP_IMPORT))
		SKIP(return, "module reports no ZCBUF_CAP_IMPORT");
	ctx2 = zcbuf_open(NULL, O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	ASSERT_EQ(0, zcbuf_alloc_buffers(ctx2, 3 * self->page, 1, 0, &src));
	ASSERT_EQ(0, zcbuf_map_buffer(ctx2, src, PROT_READ | PROT_WRITE,
				      &addr, &len));
	memset(addr, 0x77, len);
	ASSERT_EQ(0, zcbuf_sync_end(ctx2, src, 0, len, ZCBUF_SYNC_WRITE));
	ASSERT_EQ(0, zcbuf_unmap_buffer(addr, len));
	ASSERT_EQ(0, zcbuf_export_buffer(ctx2, src, ZCBUF_EXPORT_CLOEXEC |
					 ZCBUF_EXPORT_RDWR, &dfd));
	ASSERT_EQ(0, zcbuf_close(ctx2));

	ASSERT_EQ(0, zcbuf_import_dmabuf(self->fd, dfd, &idx, &size));
	ASSERT_EQ(0, zcbuf_close(dfd));	/* the context holds its own ref */
	ASSERT_EQ(3 * self->page, size);
	ASSERT_EQ(0, zcbuf_query_buffer(self->fd, idx, &q));
	ASSERT_EQ(ZCBUF_BUF_IMPORTED, q.flags & ZCBUF_BUF_IMPORTED);
	ASSERT_EQ(size, q.size);
	ASSERT_EQ(0, zcbuf_map_buffer(self->fd, idx, PROT_READ, &addr, &len));
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, idx, 0, len, ZCBUF_SYNC_READ));
	ASSERT_EQ(0x77, ((unsigned char *)addr)[len - 1]);
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, idx, 0, len, ZCBUF_SYNC_READ));
	ASSERT_EQ(0, zcbuf_unmap_buffer(addr, len));
	/* An imported buffer cannot be exported again. */
	ASSERT_EQ(-EINVAL, zcbuf_export_buffer(self->fd, idx, 0, &dfd));
	ASSERT_EQ(0, zcbuf_free_buffer(self->fd, idx));

	/* size may be NULL; index may not. */
	ASSERT_EQ(-EINVAL, zcbuf_import_dmabuf(self->fd, 0, NULL, &size));
	ASSERT_EQ(-EBADF, zcbuf_import_dmabuf(self->fd, -1, &idx, NULL));
	ASSERT_EQ(-EBADF, zcbuf_import_dmabuf(self->fd, dfd, &idx, NULL));
	pfd = pipe_fd(&other);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(-EINVAL, zcbuf_import_dmabuf(self->fd, pfd, &idx, NULL));
	close(pfd);
	close(other);
}

/* ---- device and streaming ---- */

#define NBUF	4

FIXTURE(stream)
{
	int fd;
	int efd;
	struct zcbuf_info info;
	struct zcbuf_config cfg;
	unsigned int first;
	void *map[NBUF];
	size_t len[NBUF];
};

FIXTURE_SETUP(stream)
{
	char why[128];
	int i;

	self->efd = -1;
	self->fd = open_or_skip_reason(why, sizeof(why));
	if (self->fd == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_LE(0, self->fd) TH_LOG("%s", why);
	ASSERT_EQ(0, zcbuf_get_info(self->fd, &self->info));
	if (!(self->info.caps & ZCBUF_CAP_CAMERA))
		SKIP(return, "module reports no ZCBUF_CAP_CAMERA");

	memset(&self->cfg, 0, sizeof(self->cfg));
	self->cfg.personality = ZCBUF_DEV_CAMERA;
	self->cfg.width = 64;
	self->cfg.height = 32;
	self->cfg.pixelformat = ZCBUF_FMT_RGB24;
	self->cfg.fps = 200;
	self->cfg.seed = 1;
	ASSERT_EQ(0, zcbuf_configure(self->fd, &self->cfg));
	ASSERT_EQ(64U * 32 * 3, self->cfg.frame_size);
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, self->cfg.frame_size, NBUF,
					 0, &self->first));
	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(0, zcbuf_map_buffer(self->fd, self->first + i,
					      PROT_READ, &self->map[i],
					      &self->len[i]));
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(stream)
{
	int i;

	for (i = 0; i < NBUF; i++)
		if (self->map[i])
			EXPECT_EQ(0, zcbuf_unmap_buffer(self->map[i],
							self->len[i]));
	if (self->efd >= 0)
		close(self->efd);
	EXPECT_EQ(0, zcbuf_close(self->fd));
}

/* Dequeue one frame and check it as the capture app does. */
static int check_one(struct __test_metadata *_metadata,
		     FIXTURE_DATA(stream) *self, struct zcbuf_dqbuf *dq)
{
	unsigned int i;

	EXPECT_EQ(0, zcbuf_wait(self->fd, WAIT_MS));
	if (zcbuf_dequeue_buffer(self->fd, dq))
		return -1;
	i = dq->index - self->first;
	EXPECT_LT(i, NBUF);
	if (i >= NBUF)
		return -1;
	EXPECT_EQ(0U, dq->flags);
	EXPECT_EQ(self->cfg.frame_size, dq->bytesused);
	EXPECT_EQ(0, zcbuf_sync_begin(self->fd, dq->index, 0, dq->bytesused,
				      ZCBUF_SYNC_READ));
	EXPECT_EQ(dq->checksum, zcbuf_crc32(0, self->map[i], dq->bytesused));
	EXPECT_EQ(0, zcbuf_sync_end(self->fd, dq->index, 0, dq->bytesused,
				    ZCBUF_SYNC_READ));
	return 0;
}

TEST_F(stream, capture)
{
	struct zcbuf_dqbuf dq;
	struct zcbuf_stats st;
	uint64_t count = 0, last_seq = 0, last_ts = 0;
	int i, n;

	ASSERT_EQ(0, zcbuf_set_eventfd(self->fd, self->efd));
	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zcbuf_stream_on(self->fd));
	ASSERT_EQ(-EBUSY, zcbuf_stream_on(self->fd));
	ASSERT_EQ(-EBUSY, zcbuf_configure(self->fd, &self->cfg));

	/* The eventfd counts completions. */
	ASSERT_EQ(0, zcbuf_wait_eventfd(self->efd, WAIT_MS, &count));
	ASSERT_LE(1U, count);

	for (n = 0; n < 12; n++) {
		ASSERT_EQ(0, check_one(_metadata, self, &dq));
		if (n) {
			ASSERT_LT(last_seq, dq.sequence);
			ASSERT_LE(last_ts, dq.timestamp_ns);
		}
		last_seq = dq.sequence;
		last_ts = dq.timestamp_ns;
		ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, dq.index, 0));
	}

	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, zcbuf_get_stats(self->fd, &st));
	ASSERT_LE(12U, st.frames);
	ASSERT_EQ(st.frames * self->cfg.frame_size, st.bytes);
	ASSERT_EQ(0U, st.errors);
	/* Every sequence number so far is a frame, an error or a drop. */
	ASSERT_LE(last_seq + 1, st.frames + st.errors + st.drops_no_buffer +
		  st.drops_injected);
	ASSERT_LE(st.queued + st.done, (uint64_t)NBUF);

	ASSERT_EQ(0, zcbuf_stream_off(self->fd));
	/* Everything is back with user space. */
	ASSERT_EQ(-EAGAIN, zcbuf_dequeue_buffer(self->fd, &dq));
	ASSERT_EQ(0, zcbuf_get_stats(self->fd, &st));
	ASSERT_EQ(0U, st.queued);
	ASSERT_EQ(0U, st.done);
	ASSERT_EQ(0, zcbuf_set_eventfd(self->fd, -1));
}

TEST_F(stream, queue_errors)
{
	unsigned int idx = self->first;
	struct zcbuf_dqbuf dq;
	struct zcbuf_query q;

	ASSERT_EQ(-EINVAL, zcbuf_queue_buffer(self->fd, idx + 100, 0));
	ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, idx, 0));
	ASSERT_EQ(0, zcbuf_query_buffer(self->fd, idx, &q));
	ASSERT_EQ(ZCBUF_STATE_QUEUED, q.state);
	ASSERT_EQ(-EBUSY, zcbuf_queue_buffer(self->fd, idx, 0));
	ASSERT_EQ(-EBUSY, zcbuf_free_buffer(self->fd, idx));
	/* Nothing is done before STREAMON. */
	ASSERT_EQ(-EAGAIN, zcbuf_dequeue_buffer(self->fd, &dq));
	ASSERT_EQ(-EINVAL, zcbuf_dequeue_buffer(self->fd, NULL));
	/* Not streaming, nothing done: POLLERR, which zcbuf_wait() says as EIO. */
	ASSERT_EQ(-EIO, zcbuf_wait(self->fd, 50));
	/* A buffer smaller than a frame. */
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 1, 1, 0, &idx));
	ASSERT_EQ(-EINVAL, zcbuf_queue_buffer(self->fd, idx, 0));
	/* STREAMOFF returns the queued buffer. */
	ASSERT_EQ(0, zcbuf_stream_on(self->fd));
	ASSERT_EQ(0, zcbuf_stream_off(self->fd));
	ASSERT_EQ(0, zcbuf_query_buffer(self->fd, self->first, &q));
	ASSERT_EQ(ZCBUF_STATE_USER, q.state);
	ASSERT_EQ(0, zcbuf_free_buffer(self->fd, self->first + 1));
}

TEST_F(stream, config_errors)
{
	struct zcbuf_config cfg;
	int ctx2;

	cfg = self->cfg;
	cfg.width = 0;
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	cfg = self->cfg;
	cfg.width = 63;		/* odd */
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	cfg = self->cfg;
	cfg.fps = 1001;
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	cfg = self->cfg;
	cfg.pixelformat = ZCBUF_FOURCC('N', 'O', 'P', 'E');
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	cfg = self->cfg;
	cfg.personality = 99;
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	cfg = self->cfg;
	cfg.flags = 0x80;
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	cfg = self->cfg;
	cfg.reserved[2] = 1;
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, &cfg));
	ASSERT_EQ(-EINVAL, zcbuf_configure(self->fd, NULL));
	/* YUYV: two bytes a pixel. */
	cfg = self->cfg;
	cfg.pixelformat = ZCBUF_FMT_YUYV;
	ASSERT_EQ(0, zcbuf_configure(self->fd, &cfg));
	ASSERT_EQ(64U * 32 * 2, cfg.frame_size);

	/* A fresh context has no device: STREAMON refuses. */
	ctx2 = zcbuf_open(NULL, O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	ASSERT_EQ(-EINVAL, zcbuf_stream_on(ctx2));
	ASSERT_EQ(0, zcbuf_close(ctx2));
}

TEST_F(stream, eventfd_errors)
{
	int other, pfd, fd;

	/* A closed fd number, then something that is not an eventfd. */
	fd = dup(self->efd);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(-EBADF, zcbuf_set_eventfd(self->fd, fd));
	pfd = pipe_fd(&other);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(-EINVAL, zcbuf_set_eventfd(self->fd, pfd));
	close(pfd);
	close(other);
	ASSERT_EQ(0, zcbuf_set_eventfd(self->fd, self->efd));
	ASSERT_EQ(0, zcbuf_set_eventfd(self->fd, -1));
}

TEST_F(stream, stats_and_stream_errors)
{
	struct zcbuf_stats st;
	int other, pfd;

	ASSERT_EQ(0, zcbuf_get_stats(self->fd, &st));
	ASSERT_EQ(0U, st.frames);
	ASSERT_EQ(0U, st.queued);
	ASSERT_EQ(-EINVAL, zcbuf_get_stats(self->fd, NULL));
	pfd = pipe_fd(&other);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(-ENOTTY, zcbuf_get_stats(pfd, &st));
	ASSERT_EQ(-ENOTTY, zcbuf_stream_on(pfd));
	ASSERT_EQ(-ENOTTY, zcbuf_stream_off(pfd));
	close(pfd);
	close(other);
}

/* Check a completion from the CQ as check_one() does one from DQBUF. */
static void check_cqe(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stream) *self, const struct zcbuf_cqe *cqe)
{
	unsigned int i = cqe->index - self->first;

	ASSERT_LT(i, NBUF);
	EXPECT_EQ(0U, cqe->flags);
	EXPECT_EQ(self->cfg.frame_size, cqe->bytesused);
	EXPECT_EQ(0, zcbuf_sync_begin(self->fd, cqe->index, 0, cqe->bytesused,
				      ZCBUF_SYNC_READ));
	EXPECT_EQ(cqe->checksum, zcbuf_crc32(0, self->map[i], cqe->bytesused));
	EXPECT_EQ(0, zcbuf_sync_end(self->fd, cqe->index, 0, cqe->bytesused,
				    ZCBUF_SYNC_READ));
}

TEST_F(stream, ring)
{
	struct zcbuf_cqe cqes[NBUF], cqe;
	struct zcbuf_ring ring, other;
	struct zcbuf_dqbuf dq;
	uint64_t last_seq = 0;
	int i, n, got = 0, ctx2;

	if (!(self->info.caps & ZCBUF_CAP_RING))
		SKIP(return, "module reports no ZCBUF_CAP_RING");

	ASSERT_EQ(-EINVAL, zcbuf_setup_ring(self->fd, 3, &ring));
	ASSERT_EQ(-EINVAL, zcbuf_setup_ring(self->fd, 0, NULL));
	memset(&ring, 0, sizeof(ring));
	ASSERT_EQ(0, zcbuf_setup_ring(self->fd, 0, &ring));
	ASSERT_EQ(self->fd, ring.fd);
	ASSERT_LE(self->info.max_buffers, ring.entries);
	ASSERT_EQ(0U, ring.entries & (ring.entries - 1));
	ASSERT_EQ(ring.entries, ring.cq.entries);
	ASSERT_EQ(ring.entries - 1, ring.sq.mask);
	ASSERT_EQ(0U, *ring.sq.errors);
	ASSERT_EQ(-EBUSY, zcbuf_setup_ring(self->fd, 0, &other));

	/* With rings, completions only come through the CQ. */
	ASSERT_EQ(-EINVAL, zcbuf_dequeue_buffer(self->fd, &dq));
	ASSERT_EQ(-EAGAIN, zcbuf_get_completion(&ring, &cqe));
	ASSERT_EQ(0, zcbuf_get_completions(&ring, cqes, NBUF));
	ASSERT_EQ(-EINVAL, zcbuf_get_completion(&ring, NULL));
	ASSERT_EQ(-EINVAL, zcbuf_get_completions(&ring, NULL, NBUF));
	ASSERT_EQ(-EINVAL, zcbuf_get_completions(NULL, cqes, NBUF));
	/* Not streaming: poll() reports POLLERR at once. */
	ASSERT_EQ(-EIO, zcbuf_wait_ring(&ring, -1, 50));
	ASSERT_EQ(-ETIME, zcbuf_wait_ring(&ring, self->efd, 50));
	ASSERT_EQ(0, zcbuf_kick_ring(self->fd));
	ASSERT_EQ(0, zcbuf_arm_wakeup(&ring));
	ASSERT_EQ(ZCBUF_RING_CQ_WANT_WAKEUP,
		  *ring.cq.flags & ZCBUF_RING_CQ_WANT_WAKEUP);
	ASSERT_EQ(0, zcbuf_disarm_wakeup(&ring));
	ASSERT_EQ(0U, *ring.cq.flags & ZCBUF_RING_CQ_WANT_WAKEUP);

	/* Buffers meet the device through QBUF once, then the SQ. */
	ASSERT_EQ(0, zcbuf_set_eventfd(self->fd, self->efd));
	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zcbuf_stream_on(self->fd));
	while (got < 16) {
		ASSERT_EQ(0, zcbuf_wait_ring(&ring, got % 2 ? self->efd : -1,
					     WAIT_MS));
		if (!got) {
			/* poll() said POLLIN: the CQ is not empty. */
			ASSERT_EQ(-EAGAIN, zcbuf_arm_wakeup(&ring));
			ASSERT_EQ(0, zcbuf_disarm_wakeup(&ring));
		}
		n = zcbuf_get_completions(&ring, cqes, NBUF);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++) {
			check_cqe(_metadata, self, &cqes[i]);
			if (got)
				ASSERT_LT(last_seq, cqes[i].sequence);
			last_seq = cqes[i].sequence;
			got++;
			ASSERT_EQ(0, zcbuf_submit_buffer(&ring, cqes[i].index,
							 0));
		}
	}
	ASSERT_EQ(0, zcbuf_stream_off(self->fd));
	ASSERT_EQ(0U, *ring.sq.errors);

	ASSERT_EQ(0, zcbuf_unmap_ring(&ring));
	ASSERT_EQ(-EINVAL, zcbuf_unmap_ring(&ring));
	ASSERT_EQ(-EINVAL, zcbuf_get_completion(&ring, &cqe));
	ASSERT_EQ(-EINVAL, zcbuf_submit_buffer(&ring, self->first, 0));
	ASSERT_EQ(-EINVAL, zcbuf_wait_ring(&ring, -1, 0));
	ASSERT_EQ(-EINVAL, zcbuf_arm_wakeup(&ring));
	ASSERT_EQ(-EINVAL, zcbuf_disarm_wakeup(NULL));

	/* No rings, nothing to kick. */
	ctx2 = zcbuf_open(NULL, O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	ASSERT_EQ(-EINVAL, zcbuf_kick_ring(ctx2));
	ASSERT_EQ(0, zcbuf_close(ctx2));
}

TEST_F(stream, ring_sq_full)
{
	struct zcbuf_ring ring;
	unsigned int i;

	if (!(self->info.caps & ZCBUF_CAP_RING))
		SKIP(return, "module reports no ZCBUF_CAP_RING");
	ASSERT_EQ(0, zcbuf_setup_ring(self->fd, 0, &ring));
	/* Not streaming: nothing takes entries, so the SQ fills up. */
	for (i = 0; i < ring.sq.entries; i++)
		ASSERT_EQ(0, zcbuf_submit_buffer(&ring, self->first, 0));
	ASSERT_EQ(-EAGAIN, zcbuf_submit_buffer(&ring, self->first, 0));
	ASSERT_EQ(0, zcbuf_unmap_ring(&ring));
}

/* ---- NIC personality: the library's CRC against the device's ---- */

FIXTURE(nic)
{
	int fd;
	struct zcbuf_info info;
	unsigned int first;
	void *map[NBUF];
	size_t len[NBUF];
};

FIXTURE_SETUP(nic)
{
	char why[128];

	self->fd = open_or_skip_reason(why, sizeof(why));
	if (self->fd == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_LE(0, self->fd) TH_LOG("%s", why);
	ASSERT_EQ(0, zcbuf_get_info(self->fd, &self->info));
	if (!(self->info.caps & ZCBUF_CAP_NIC))
		SKIP(return, "module reports no ZCBUF_CAP_NIC");
}

FIXTURE_TEARDOWN(nic)
{
	int i;

	for (i = 0; i < NBUF; i++)
		if (self->map[i])
			EXPECT_EQ(0, zcbuf_unmap_buffer(self->map[i],
							self->len[i]));
	EXPECT_EQ(0, zcbuf_close(self->fd));
}

TEST_F(nic, rx_packets)
{
	struct zcbuf_pkt_desc d;
	struct zcbuf_config cfg;
	struct zcbuf_dqbuf dq;
	unsigned int i, p, got = 0, packets = 0;
	const unsigned char *b;

	memset(&cfg, 0, sizeof(cfg));
	cfg.personality = ZCBUF_DEV_NIC_RX;
	cfg.pkt_min = ZCBUF_PKT_MIN;
	cfg.pkt_max = 2000;
	cfg.pkts_per_buffer = 16;
	cfg.pkt_rate = 500;
	cfg.seed = 7;
	ASSERT_EQ(0, zcbuf_configure(self->fd, &cfg));
	ASSERT_LT(0U, cfg.frame_size);
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, cfg.frame_size + 8192, NBUF,
					 0, &self->first));
	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, zcbuf_map_buffer(self->fd, self->first + i,
					      PROT_READ, &self->map[i],
					      &self->len[i]));
		ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, self->first + i, 0));
	}
	ASSERT_EQ(0, zcbuf_stream_on(self->fd));
	while (got < 8) {
		ASSERT_EQ(0, zcbuf_wait(self->fd, WAIT_MS));
		ASSERT_EQ(0, zcbuf_dequeue_buffer(self->fd, &dq));
		i = dq.index - self->first;
		ASSERT_LT(i, NBUF);
		ASSERT_EQ(0U, dq.flags);
		ASSERT_LE(dq.npackets, cfg.pkts_per_buffer);
		ASSERT_LE(dq.bytesused, self->len[i]);
		b = self->map[i];
		ASSERT_EQ(0, zcbuf_sync_begin(self->fd, dq.index, 0,
					      self->len[i], ZCBUF_SYNC_READ));
		/* The checksum covers the descriptors of the packets. */
		EXPECT_EQ(dq.checksum,
			  zcbuf_crc32(0, b, dq.npackets * sizeof(d)));
		for (p = 0; p < dq.npackets; p++) {
			memcpy(&d, b + p * sizeof(d), sizeof(d));
			ASSERT_LE((uint64_t)d.offset + d.length, dq.bytesused);
			ASSERT_LE(cfg.pkt_min, d.length);
			ASSERT_GE(cfg.pkt_max, d.length);
			EXPECT_EQ(d.checksum, zcbuf_crc32(0, b + d.offset,
							  d.length));
		}
		packets += dq.npackets;
		ASSERT_EQ(0, zcbuf_sync_end(self->fd, dq.index, 0,
					    self->len[i], ZCBUF_SYNC_READ));
		ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, dq.index, 0));
		got++;
	}
	ASSERT_LT(0U, packets);
	ASSERT_EQ(0, zcbuf_stream_off(self->fd));
}

/*
 * zcbuf_configure() passes ZCBUF_CFG_NO_CHECKSUM on as it is: the packets
 * arrive (numbered 0, 1, 2, ... in their first 8 bytes) with every checksum
 * 0.
 */
TEST_F(nic, rx_no_checksum)
{
	struct zcbuf_pkt_desc d;
	struct zcbuf_config cfg;
	struct zcbuf_dqbuf dq;
	const unsigned char *b;
	uint64_t number;
	unsigned int p;

	if (!(self->info.caps & ZCBUF_CAP_NO_CHECKSUM))
		SKIP(return, "module reports no ZCBUF_CAP_NO_CHECKSUM");
	memset(&cfg, 0, sizeof(cfg));
	cfg.personality = ZCBUF_DEV_NIC_RX;
	cfg.flags = ZCBUF_CFG_NO_CHECKSUM;
	cfg.pkt_min = ZCBUF_PKT_MIN;
	cfg.pkt_max = 2000;
	cfg.pkts_per_buffer = 16;
	ASSERT_EQ(0, zcbuf_configure(self->fd, &cfg));
	ASSERT_EQ(ZCBUF_CFG_NO_CHECKSUM, cfg.flags);
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, cfg.frame_size, 1, 0,
					 &self->first));
	ASSERT_EQ(0, zcbuf_map_buffer(self->fd, self->first, PROT_READ,
				      &self->map[0], &self->len[0]));
	ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, self->first, 0));
	ASSERT_EQ(0, zcbuf_stream_on(self->fd));
	ASSERT_EQ(0, zcbuf_wait(self->fd, WAIT_MS));
	ASSERT_EQ(0, zcbuf_dequeue_buffer(self->fd, &dq));
	ASSERT_EQ(0U, dq.flags);
	ASSERT_EQ(0U, dq.checksum);
	ASSERT_LT(0U, dq.npackets);
	b = self->map[0];
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, dq.index, 0, self->len[0],
				      ZCBUF_SYNC_READ));
	for (p = 0; p < dq.npackets; p++) {
		memcpy(&d, b + p * sizeof(d), sizeof(d));
		EXPECT_EQ(0U, d.checksum) TH_LOG("packet %u", p);
		ASSERT_LE((uint64_t)d.offset + d.length, dq.bytesused);
		memcpy(&number, b + d.offset, sizeof(number));
		EXPECT_EQ((uint64_t)p, le64toh(number));
	}
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, dq.index, 0, self->len[0],
				    ZCBUF_SYNC_READ));
	ASSERT_EQ(0, zcbuf_stream_off(self->fd));
}

TEST_F(nic, tx_checksum)
{
	struct zcbuf_config cfg;
	struct zcbuf_dqbuf dq;
	unsigned char *b;
	uint32_t want;
	size_t n = 3000, j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.personality = ZCBUF_DEV_NIC_TX;
	ASSERT_EQ(0, zcbuf_configure(self->fd, &cfg));
	ASSERT_EQ(0, zcbuf_alloc_buffers(self->fd, 4096, 1, 0, &self->first));
	ASSERT_EQ(0, zcbuf_map_buffer(self->fd, self->first,
				      PROT_READ | PROT_WRITE, &self->map[0],
				      &self->len[0]));
	b = self->map[0];
	ASSERT_EQ(0, zcbuf_sync_begin(self->fd, self->first, 0, n,
				      ZCBUF_SYNC_WRITE));
	for (j = 0; j < n; j++)
		b[j] = (unsigned char)(j * 31 + 5);
	ASSERT_EQ(0, zcbuf_sync_end(self->fd, self->first, 0, n,
				    ZCBUF_SYNC_WRITE));
	want = zcbuf_crc32(0, b, n);

	/* bytesused: 1 to the buffer size for TX. */
	ASSERT_EQ(-EINVAL, zcbuf_queue_buffer(self->fd, self->first, 0));
	ASSERT_EQ(-EINVAL, zcbuf_queue_buffer(self->fd, self->first,
					      self->len[0] + 1));
	ASSERT_EQ(0, zcbuf_queue_buffer(self->fd, self->first, n));
	ASSERT_EQ(0, zcbuf_stream_on(self->fd));
	ASSERT_EQ(0, zcbuf_wait(self->fd, WAIT_MS));
	ASSERT_EQ(0, zcbuf_dequeue_buffer(self->fd, &dq));
	ASSERT_EQ(self->first, dq.index);
	ASSERT_EQ(0U, dq.flags);
	ASSERT_EQ(n, dq.bytesused);
	ASSERT_EQ(want, dq.checksum);
	ASSERT_EQ(0, zcbuf_stream_off(self->fd));
}

TEST_HARNESS_MAIN
