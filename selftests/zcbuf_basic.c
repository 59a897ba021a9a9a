// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_basic: the device node and the ioctl conventions of <linux/zcbuf.h>.
 *
 * open/close, unknown commands (ENOTTY), ZCBUF_IOC_INFO, bad pointers
 * (EFAULT) and the struct-size rules: an argument shorter than the first
 * version is EINVAL, a longer one is accepted when its tail is zero (E2BIG
 * otherwise) and the kernel zeroes the tail it writes back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

/* Room for any argument plus a tail, page aligned for mprotect(). */
#define ARGBUF_SIZE	4096

FIXTURE(basic)
{
	int fd;
	long page_size;
	struct zcbuf_info info;
	uint8_t *arg;		/* one read-write page */
};

FIXTURE_SETUP(basic)
{
	self->page_size = sysconf(_SC_PAGESIZE);
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", ZCBUF_DEV, strerror(-self->fd));
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	self->arg = mmap(NULL, ARGBUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->arg);
}

FIXTURE_TEARDOWN(basic)
{
	munmap(self->arg, ARGBUF_SIZE);
	if (self->fd >= 0)
		ASSERT_EQ(0, close(self->fd));
}

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

TEST_F(basic, device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(ZCBUF_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* Restrictive by default: nobody but owner (and group) may open it. */
	EXPECT_EQ(0, st.st_mode & (S_IROTH | S_IWOTH))
		TH_LOG("%s has mode %03o", ZCBUF_DEV, st.st_mode & 0777);
}

TEST_F(basic, open_close_many)
{
	int fds[16], i;

	for (i = 0; i < 16; i++) {
		fds[i] = zc_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, zc_alloc(fds[i], 1, 1, 0, NULL));
	}
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, close(fds[i]));
}

TEST_F(basic, unknown_command_enotty)
{
	struct zcbuf_info info;
	unsigned long cmds[] = {
		_IOR('X', 0x00, struct zcbuf_info),		/* wrong magic */
		_IOR(ZCBUF_IOC_MAGIC, 0x3f, struct zcbuf_info),	/* no such number */
		_IOWR(ZCBUF_IOC_MAGIC, 0xff, struct zcbuf_alloc),
		_IOW(ZCBUF_IOC_MAGIC, 0x00, struct zcbuf_info),	/* INFO, wrong direction */
		_IOR(ZCBUF_IOC_MAGIC, 0x01, struct zcbuf_alloc),	/* ALLOC, wrong direction */
		_IO(ZCBUF_IOC_MAGIC, 0x00),			/* INFO, no argument */
		TCGETS,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(&info, 0, sizeof(info));
		EXPECT_EQ(-ENOTTY, zc_ioctl(self->fd, cmds[i], &info))
			TH_LOG("command 0x%08lx", cmds[i]);
	}
}

TEST_F(basic, info)
{
	const struct zcbuf_info *info = &self->info;
	/* Every capability the header defines; the module claims no other. */
	const uint32_t known_caps = ZCBUF_CAP_ALL;

	TH_LOG("version %u.%u caps 0x%x max_buffers %u page_size %u",
	       info->version >> 16, info->version & 0xffff, info->caps,
	       info->max_buffers, info->page_size);
	TH_LOG("max_buffer_size %llu max_total_size %llu max_contig_size %llu",
	       (unsigned long long)info->max_buffer_size,
	       (unsigned long long)info->max_total_size,
	       (unsigned long long)info->max_contig_size);

	EXPECT_EQ(ZCBUF_API_VERSION_MAJOR, info->version >> 16);
	EXPECT_LE(ZCBUF_API_VERSION_MINOR, info->version & 0xffff);
	EXPECT_EQ(0, info->caps & ~known_caps);
	EXPECT_EQ(self->page_size, info->page_size);
	EXPECT_LE(1, info->max_buffers);
	EXPECT_LE(info->page_size, info->max_buffer_size);
	EXPECT_EQ(0, info->max_buffer_size % info->page_size);
	EXPECT_LE(info->max_buffer_size, info->max_total_size);
	if (info->caps & ZCBUF_CAP_CONTIG) {
		EXPECT_LE(info->page_size, info->max_contig_size);
		EXPECT_LE(info->max_contig_size, info->max_buffer_size);
	}
	EXPECT_EQ(0, info->reserved[0]);
	EXPECT_EQ(0, info->reserved[1]);
	EXPECT_EQ(0, info->reserved[2]);
}

/* INFO is _IOR: the kernel must write every byte, reserved ones as zero. */
TEST_F(basic, info_overwrites_reserved)
{
	struct zcbuf_info info;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, zc_ioctl(self->fd, ZCBUF_IOC_INFO, &info));
	EXPECT_EQ(0, info.reserved[0]);
	EXPECT_EQ(0, info.reserved[1]);
	EXPECT_EQ(0, info.reserved[2]);
	EXPECT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
}

/* Every command, a NULL and an unmapped argument pointer: EFAULT. */
TEST_F(basic, bad_pointer_efault)
{
	static const unsigned long cmds[] = {
		ZCBUF_IOC_INFO, ZCBUF_IOC_ALLOC, ZCBUF_IOC_FREE, ZCBUF_IOC_QUERY,
		ZCBUF_IOC_EXPORT, ZCBUF_IOC_IMPORT, ZCBUF_IOC_SYNC,
	};
	void *unmapped;
	unsigned int i;

	unmapped = mmap(NULL, self->page_size, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	ASSERT_EQ(0, munmap(unmapped, self->page_size));

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_EQ(-EFAULT, zc_ioctl(self->fd, cmds[i], NULL))
			TH_LOG("command 0x%08lx, NULL", cmds[i]);
		EXPECT_EQ(-EFAULT, zc_ioctl(self->fd, cmds[i], unmapped))
			TH_LOG("command 0x%08lx, unmapped", cmds[i]);
	}
}

/* An _IOR argument in a read-only page cannot be written back. */
TEST_F(basic, info_readonly_pointer_efault)
{
	ASSERT_EQ(0, mprotect(self->arg, ARGBUF_SIZE, PROT_READ));
	EXPECT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_INFO, self->arg));
}

/* Version 1.0: every struct is at its first version, nothing shorter goes. */
TEST_F(basic, short_struct_einval)
{
	struct {
		unsigned long cmd;
		const char *name;
	} cmds[] = {
		{ ZCBUF_IOC_INFO, "INFO" },
		{ ZCBUF_IOC_ALLOC, "ALLOC" },
		{ ZCBUF_IOC_FREE, "FREE" },
		{ ZCBUF_IOC_QUERY, "QUERY" },
		{ ZCBUF_IOC_EXPORT, "EXPORT" },
		{ ZCBUF_IOC_IMPORT, "IMPORT" },
		{ ZCBUF_IOC_SYNC, "SYNC" },
	};
	uint32_t first;
	unsigned int i;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &first));

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		size_t size = _IOC_SIZE(cmds[i].cmd);
		unsigned long cmd;

		/* A plausible argument: one page, buffer @first, RW. */
		memset(self->arg, 0, ARGBUF_SIZE);
		if (cmds[i].cmd == ZCBUF_IOC_ALLOC) {
			struct zcbuf_alloc *a = (void *)self->arg;

			a->size = 4096;
			a->count = 1;
		} else {
			*(uint32_t *)self->arg = first;
		}

		cmd = ZC_IOC_RESIZE(cmds[i].cmd, size - 4);
		EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, cmd, self->arg))
			TH_LOG("%s with %zu of %zu bytes", cmds[i].name, size - 4, size);
		cmd = ZC_IOC_RESIZE(cmds[i].cmd, 0);
		EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, cmd, self->arg))
			TH_LOG("%s with 0 of %zu bytes", cmds[i].name, size);
	}
	/* The short ALLOCs created nothing. */
	EXPECT_EQ(1, count_buffers(self->fd, first, 64));
}

/* A longer ALLOC with a zero tail works; the tail is written back zero. */
TEST_F(basic, alloc_long_struct_zero_tail)
{
	struct zcbuf_alloc *a = (void *)self->arg;
	size_t size = sizeof(*a) + 24;
	struct zcbuf_query q;

	memset(self->arg, 0, ARGBUF_SIZE);
	a->size = 1;
	a->count = 2;
	ASSERT_EQ(0, zc_ioctl(self->fd, ZC_IOC_RESIZE(ZCBUF_IOC_ALLOC, size), a));
	EXPECT_EQ(-1, zc_check_zero(self->arg + sizeof(*a), ARGBUF_SIZE - sizeof(*a)));
	ASSERT_EQ(0, zc_query(self->fd, a->first_index, &q));
	EXPECT_EQ(self->page_size, q.size);
	ASSERT_EQ(0, zc_query(self->fd, a->first_index + 1, &q));
	EXPECT_EQ(2, count_buffers(self->fd, a->first_index, 64));
}

/* A longer ALLOC with anything non-zero in the tail: E2BIG, nothing made. */
TEST_F(basic, alloc_long_struct_nonzero_tail_e2big)
{
	struct zcbuf_alloc *a = (void *)self->arg;
	size_t extra[] = { 1, 8, 64, 1024 };
	uint32_t first;
	unsigned int i;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &first));
	for (i = 0; i < ARRAY_SIZE(extra); i++) {
		size_t size = sizeof(*a) + extra[i];

		memset(self->arg, 0, ARGBUF_SIZE);
		a->size = 1;
		a->count = 1;
		self->arg[size - 1] = 1;	/* only the last byte */
		EXPECT_EQ(-E2BIG, zc_ioctl(self->fd,
					   ZC_IOC_RESIZE(ZCBUF_IOC_ALLOC, size), a))
			TH_LOG("ALLOC of %zu bytes", size);
	}
	EXPECT_EQ(1, count_buffers(self->fd, first, 64));
}

/* INFO longer than the kernel's struct: the extra bytes come back zero. */
TEST_F(basic, info_long_struct_tail_zeroed)
{
	size_t size = sizeof(struct zcbuf_info) + 40;

	memset(self->arg, 0xa5, ARGBUF_SIZE);
	ASSERT_EQ(0, zc_ioctl(self->fd, ZC_IOC_RESIZE(ZCBUF_IOC_INFO, size), self->arg));
	EXPECT_EQ(0, memcmp(self->arg, &self->info, sizeof(self->info)));
	EXPECT_EQ(-1, zc_check_zero(self->arg + sizeof(self->info), 40));
	/* ... and not one byte more. */
	EXPECT_EQ(0xa5, self->arg[size]);
}

/* QUERY longer: zero tail works and stays zero; non-zero tail is E2BIG. */
TEST_F(basic, query_long_struct)
{
	struct zcbuf_query *q = (void *)self->arg;
	size_t size = sizeof(*q) + 16;
	uint32_t first;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &first));

	memset(self->arg, 0, ARGBUF_SIZE);
	q->index = first;
	ASSERT_EQ(0, zc_ioctl(self->fd, ZC_IOC_RESIZE(ZCBUF_IOC_QUERY, size), q));
	EXPECT_EQ(self->page_size, q->size);
	EXPECT_EQ(-1, zc_check_zero(self->arg + sizeof(*q), 16));

	memset(self->arg, 0, ARGBUF_SIZE);
	q->index = first;
	self->arg[sizeof(*q) + 3] = 0x80;
	EXPECT_EQ(-E2BIG, zc_ioctl(self->fd, ZC_IOC_RESIZE(ZCBUF_IOC_QUERY, size), q));
}

/* The _IOW and other _IOWR commands: a non-zero tail is E2BIG, no effect. */
TEST_F(basic, long_struct_nonzero_tail_e2big)
{
	struct zcbuf_query q;
	uint32_t first;
	int fd_before, fd_after;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &first));

	/* FREE: the buffer survives. */
	memset(self->arg, 0, ARGBUF_SIZE);
	((struct zcbuf_free *)self->arg)->index = first;
	self->arg[sizeof(struct zcbuf_free)] = 1;
	EXPECT_EQ(-E2BIG, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_FREE, sizeof(struct zcbuf_free) + 8), self->arg));
	EXPECT_EQ(0, zc_query(self->fd, first, &q));

	/* SYNC */
	memset(self->arg, 0, ARGBUF_SIZE);
	((struct zcbuf_sync *)self->arg)->index = first;
	((struct zcbuf_sync *)self->arg)->flags = ZCBUF_SYNC_START | ZCBUF_SYNC_RW;
	((struct zcbuf_sync *)self->arg)->length = 1;
	self->arg[sizeof(struct zcbuf_sync) + 7] = 1;
	EXPECT_EQ(-E2BIG, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_SYNC, sizeof(struct zcbuf_sync) + 8), self->arg));

	/* EXPORT: no fd appears. */
	fd_before = dup(0);
	ASSERT_LE(0, fd_before);
	close(fd_before);
	memset(self->arg, 0, ARGBUF_SIZE);
	((struct zcbuf_export *)self->arg)->index = first;
	((struct zcbuf_export *)self->arg)->flags = ZCBUF_EXPORT_RDWR;
	self->arg[sizeof(struct zcbuf_export) + 2] = 1;
	EXPECT_EQ(-E2BIG, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_EXPORT, sizeof(struct zcbuf_export) + 8), self->arg));
	fd_after = dup(0);
	EXPECT_EQ(fd_before, fd_after);
	close(fd_after);

	/* IMPORT: of a perfectly good DMA-buf, still E2BIG, nothing imported. */
	fd_before = zc_export(self->fd, first, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, fd_before);
	memset(self->arg, 0, ARGBUF_SIZE);
	((struct zcbuf_import *)self->arg)->fd = fd_before;
	self->arg[sizeof(struct zcbuf_import) + 15] = 1;
	EXPECT_EQ(-E2BIG, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_IMPORT, sizeof(struct zcbuf_import) + 16), self->arg));
	close(fd_before);
	EXPECT_EQ(1, count_buffers(self->fd, first, 64));
}

/* The same commands with a zero tail behave exactly like the plain ones. */
TEST_F(basic, long_struct_zero_tail_works)
{
	struct zcbuf_export *e = (void *)self->arg;
	struct zcbuf_import *im = (void *)self->arg;
	struct zcbuf_sync *s = (void *)self->arg;
	struct zcbuf_free *f = (void *)self->arg;
	struct zcbuf_query q;
	uint32_t first, imported;
	int dfd;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &first));

	memset(self->arg, 0, ARGBUF_SIZE);
	s->index = first;
	s->flags = ZCBUF_SYNC_START | ZCBUF_SYNC_READ;
	s->length = 1;
	EXPECT_EQ(0, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_SYNC, sizeof(*s) + 32), s));

	memset(self->arg, 0, ARGBUF_SIZE);
	e->index = first;
	e->flags = ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC;
	e->fd = -1;
	ASSERT_EQ(0, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_EXPORT, sizeof(*e) + 32), e));
	dfd = e->fd;
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-1, zc_check_zero(self->arg + sizeof(*e), 32));

	memset(self->arg, 0, ARGBUF_SIZE);
	im->fd = dfd;
	ASSERT_EQ(0, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_IMPORT, sizeof(*im) + 32), im));
	imported = im->index;
	EXPECT_EQ(self->page_size, im->size);
	EXPECT_EQ(-1, zc_check_zero(self->arg + sizeof(*im), 32));
	close(dfd);
	ASSERT_EQ(0, zc_query(self->fd, imported, &q));
	EXPECT_EQ(ZCBUF_BUF_IMPORTED, q.flags & ZCBUF_BUF_IMPORTED);

	memset(self->arg, 0, ARGBUF_SIZE);
	f->index = first;
	EXPECT_EQ(0, zc_ioctl(self->fd,
		  ZC_IOC_RESIZE(ZCBUF_IOC_FREE, sizeof(*f) + 32), f));
	EXPECT_EQ(-EINVAL, zc_query(self->fd, first, &q));
}

/* Two opens are two contexts: the second sees none of the first's buffers. */
TEST_F(basic, contexts_are_separate)
{
	struct zcbuf_query q;
	uint32_t first;
	int fd2;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 3, 0, &first));
	fd2 = zc_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, count_buffers(fd2, first, 64));
	EXPECT_EQ(-EINVAL, zc_query(fd2, first, &q));
	EXPECT_EQ(-EINVAL, zc_free(fd2, first));
	EXPECT_EQ(0, zc_query(self->fd, first, &q));
	ASSERT_EQ(0, close(fd2));
}

TEST_HARNESS_MAIN
