// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_perm: what an unprivileged user can and cannot reach.
 *
 * - Under the default mode (0600, root) a process that dropped to an
 *   unprivileged uid cannot open /dev/zcbuf (EACCES).
 * - With the device opened up (chmod 0666 here, restored afterwards), such
 *   a user gets its own context only: guessing mmap offsets, QUERY indices
 *   or the ring offset never reaches root's buffers, and /proc/PID/fd of
 *   root's process cannot be opened.
 * - A DMA-buf fd gives exactly its own access: a read-only export maps
 *   PROT_READ only (PROT_WRITE mmap and mprotect fail with EACCES),
 *   DMA_BUF_IOCTL_SYNC READ works; imported into the user's own context the
 *   read-only buffer still cannot be mapped writable, nor handed to a
 *   device that writes into it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"
#include "zcbuf_rel.h"

#define NOBODY	65534
#define BUFSZ	(64 * 1024)

static int drop_privileges(void)
{
	gid_t g = NOBODY;

	if (setgroups(1, &g) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -errno;
	return 0;
}

/*
 * Run @fn in a child that dropped to uid/gid 65534; its exit status is the
 * number of the first check that failed (0: all passed).
 */
#define AS_NOBODY(...) ({					\
	pid_t __pid = fork();					\
	int __st = -1;						\
	if (__pid == 0) {					\
		if (drop_privileges())				\
			_exit(100);				\
		__VA_ARGS__;					\
		_exit(0);					\
	}							\
	if (__pid > 0)						\
		waitpid(__pid, &__st, 0);			\
	WIFEXITED(__st) ? WEXITSTATUS(__st) : 200 + WTERMSIG(__st); \
})

#define CHECK(n, cond) do { if (!(cond)) _exit(n); } while (0)

FIXTURE(perm)
{
	int fd;
	mode_t mode;
	uint32_t first;
	uint8_t *map;
};

FIXTURE_SETUP(perm)
{
	struct stat st;

	self->fd = -1;
	self->map = NULL;
	if (geteuid() != 0)
		SKIP(return, "needs root (to drop to uid %d)", NOBODY);
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, stat(ZCBUF_DEV, &st));
	self->mode = st.st_mode & 07777;
	/* Root's buffers, filled with a pattern the other user must not see. */
	ASSERT_EQ(0, zc_alloc(self->fd, BUFSZ, 4, 0, &self->first));
	self->map = zc_map_buffer(self->fd, self->first, NULL);
	ASSERT_NE(NULL, self->map);
	zc_fill(self->map, BUFSZ, 0xabcd);
}

FIXTURE_TEARDOWN(perm)
{
	if (self->fd < 0)
		return;
	/* Always back to what it was, even when a test failed. */
	chmod(ZCBUF_DEV, self->mode);
	if (self->map)
		munmap(self->map, BUFSZ);
	close(self->fd);
}

TEST_F(perm, default_mode_refuses_unprivileged_open)
{
	struct stat st;
	int ret;

	ASSERT_EQ(0, stat(ZCBUF_DEV, &st));
	TH_LOG("%s: mode %04o uid %d gid %d", ZCBUF_DEV, st.st_mode & 07777,
	       st.st_uid, st.st_gid);
	if ((st.st_mode & 0007) || (st.st_gid == NOBODY && (st.st_mode & 0070)))
		SKIP(return, "%s is world-accessible here (mode %04o)",
		     ZCBUF_DEV, st.st_mode & 07777);
	EXPECT_EQ(0600, st.st_mode & 0777);

	ret = AS_NOBODY({
		int fd = open(ZCBUF_DEV, O_RDWR);

		CHECK(1, fd < 0);
		CHECK(2, errno == EACCES);
		fd = open(ZCBUF_DEV, O_RDONLY);
		CHECK(3, fd < 0 && errno == EACCES);
	});
	EXPECT_EQ(0, ret);
}

TEST_F(perm, other_context_unreachable_by_guessing)
{
	char path[64];
	int ret;

	ASSERT_EQ(0, chmod(ZCBUF_DEV, 0666));
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), self->fd);

	ret = AS_NOBODY({
		struct zcbuf_query q;
		long page = sysconf(_SC_PAGESIZE);
		uint64_t idx, off;
		int fd = zc_open(), i;
		void *p;

		CHECK(1, fd >= 0);
		/* Nothing of root's is visible in a fresh context. */
		for (idx = 0; idx < 64; idx++) {
			CHECK(2, zc_query(fd, (uint32_t)idx, &q) == -EINVAL);
			for (i = 0; i < 4; i++) {
				off = (idx << 32) + (uint64_t)i * page;
				p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
					 (off_t)off);
				CHECK(3, p == MAP_FAILED);
			}
		}
		/* Random offsets, and the rings' window. */
		for (i = 0; i < 256; i++) {
			off = ((uint64_t)rand() << 33 ^ (uint64_t)rand() << 12) &
			      ~(uint64_t)(page - 1);
			p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, (off_t)off);
			CHECK(4, p == MAP_FAILED);
		}
		p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
			 (off_t)(0xffffffffULL << 32));
		CHECK(5, p == MAP_FAILED);
		/* Its own index 0 is its own, zeroed buffer. */
		CHECK(6, zc_alloc(fd, BUFSZ, 1, 0, NULL) == 0);
		p = zc_map_buffer(fd, 0, NULL);
		CHECK(7, p != NULL);
		CHECK(8, zc_check_zero(p, BUFSZ) == -1);
		/* Root's open file is not reachable through /proc either. */
		CHECK(9, open(path, O_RDWR) < 0 && errno == EACCES);
		/* Nor a buffer export of someone else's context. */
		CHECK(10, zc_export(fd, 1, 0) == -EINVAL);
	});
	EXPECT_EQ(0, ret);
	/* Root's data untouched. */
	EXPECT_EQ(-1, zc_check(self->map, BUFSZ, 0xabcd));
}

/*
 * An unprivileged user's buffers are charged to its RLIMIT_MEMLOCK, for as
 * long as their pages live: an exported DMA-buf keeps the charge after
 * FREE; closing the last holder gives it back.
 */
TEST_F(perm, pinned_pages_charged_to_memlock)
{
	int ret;

	ASSERT_EQ(0, chmod(ZCBUF_DEV, 0666));
	ret = AS_NOBODY({
		struct rlimit rl = { 1 << 20, 1 << 20 };
		uint32_t a, b, c;
		int fd, dfd;

		CHECK(1, !setrlimit(RLIMIT_MEMLOCK, &rl));
		fd = zc_open();
		CHECK(2, fd >= 0);
		CHECK(3, zc_alloc(fd, 512 << 10, 1, 0, &a) == 0);
		CHECK(4, zc_alloc(fd, 768 << 10, 1, 0, &b) == -ENOMEM);
		CHECK(5, zc_alloc(fd, 512 << 10, 1, 0, &b) == 0);
		CHECK(6, zc_alloc(fd, 4096, 1, 0, &c) == -ENOMEM);
		dfd = zc_export(fd, a, ZCBUF_EXPORT_CLOEXEC);
		CHECK(7, dfd >= 0);
		CHECK(8, zc_free(fd, a) == 0);
		CHECK(9, zc_alloc(fd, 4096, 1, 0, &c) == -ENOMEM);
		close(dfd);
		CHECK(10, zc_alloc(fd, 512 << 10, 1, 0, &c) == 0);
		close(fd);
		fd = zc_open();
		CHECK(11, fd >= 0);
		CHECK(12, zc_alloc(fd, 1 << 20, 1, 0, &c) == 0);
		close(fd);
	});
	EXPECT_EQ(0, ret);
}

TEST_F(perm, readonly_dmabuf_is_readonly)
{
	int ro, rw, ret;

	ro = zc_export(self->fd, self->first, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, ro);
	rw = zc_export(self->fd, self->first + 1,
		       ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, rw);

	ret = AS_NOBODY({
		struct dma_buf_sync s = {
			.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
		uint8_t *p;

		/* The fd's access, whoever holds it. */
		p = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
		CHECK(1, p == MAP_FAILED && errno == EACCES);
		p = mmap(NULL, BUFSZ, PROT_READ, MAP_SHARED, ro, 0);
		CHECK(2, p != MAP_FAILED);
		CHECK(3, ioctl(ro, DMA_BUF_IOCTL_SYNC, &s) == 0);
		CHECK(4, zc_check(p, BUFSZ, 0xabcd) == -1);
		s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		CHECK(5, ioctl(ro, DMA_BUF_IOCTL_SYNC, &s) == 0);
		/* No upgrade of the mapping afterwards. */
		CHECK(6, mprotect(p, BUFSZ, PROT_READ | PROT_WRITE) &&
			 errno == EACCES);
		/* The read-write one writes through to root's buffer. */
		p = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
		CHECK(7, p != MAP_FAILED);
		p[0] = 0x42;
	});
	EXPECT_EQ(0, ret);

	{
		uint8_t *p1 = zc_map_buffer(self->fd, self->first + 1, NULL);

		ASSERT_NE(NULL, p1);
		EXPECT_EQ(0x42, p1[0]);
		munmap(p1, BUFSZ);
	}
	close(ro);
	close(rw);
}

/*
 * A read-only DMA-buf imported into the holder's own context stays
 * read-only: no writable mapping through /dev/zcbuf, no device that
 * writes into it.
 */
TEST_F(perm, readonly_import_stays_readonly)
{
	int ro, ret;

	ASSERT_EQ(0, chmod(ZCBUF_DEV, 0666));
	ro = zc_export(self->fd, self->first + 2, 0);
	ASSERT_LE(0, ro);

	ret = AS_NOBODY({
		struct zcbuf_config cfg = {
			.personality = ZCBUF_DEV_CAMERA, .width = 64,
			.height = 64, .pixelformat = ZCBUF_FMT_YUYV,
		};
		struct zcbuf_stream st = { 0 };
		struct zcbuf_qbuf q = { 0 };
		struct zcbuf_query qq;
		uint32_t idx;
		int fd = zc_open(), r;
		void *p;

		CHECK(1, fd >= 0);
		CHECK(2, zc_import(fd, ro, &idx, NULL) == 0);
		CHECK(3, zc_query(fd, idx, &qq) == 0);
		p = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)qq.offset);
		CHECK(4, p == MAP_FAILED && errno == EACCES);
		p = mmap(NULL, BUFSZ, PROT_READ, MAP_SHARED, fd,
			 (off_t)qq.offset);
		CHECK(5, p != MAP_FAILED);
		CHECK(6, mprotect(p, BUFSZ, PROT_READ | PROT_WRITE) &&
			 errno == EACCES);
		/* A capture device must not write into it either. */
		CHECK(7, zc_ioctl(fd, ZCBUF_IOC_CONFIG, &cfg) == 0);
		q.index = idx;
		r = zc_ioctl(fd, ZCBUF_IOC_QBUF, &q);
		if (r == 0) {
			/* Queued: see whether a frame lands in it. */
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			zc_ioctl(fd, ZCBUF_IOC_STREAMON, &st);
			poll(&pfd, 1, 2000);
			zc_ioctl(fd, ZCBUF_IOC_STREAMOFF, &st);
			_exit(20);
		}
		CHECK(8, r == -EACCES || r == -EPERM || r == -EINVAL);
	});
	if (ret == 20)
		TH_LOG("a capture device accepted a read-only DMA-buf: QBUF succeeded");
	EXPECT_EQ(0, ret);
	EXPECT_EQ(-1, zc_check(self->map, BUFSZ, 0xabcd)) {
		TH_LOG("root's buffer changed");
	}
	{
		uint8_t *p2 = zc_map_buffer(self->fd, self->first + 2, NULL);

		ASSERT_NE(NULL, p2);
		EXPECT_EQ(-1, zc_check_zero(p2, BUFSZ)) {
			TH_LOG("the device wrote into the read-only buffer");
		}
		munmap(p2, BUFSZ);
	}
	close(ro);
}

TEST_HARNESS_MAIN
