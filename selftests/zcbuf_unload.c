// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_unload: the module cannot be unloaded while any buffer lives.
 *
 * delete_module("zcbuf", O_NONBLOCK) must fail with EWOULDBLOCK (the
 * kernel's answer for a module still in use) while a context, a mapping,
 * or an exported DMA-buf fd holds a buffer.  Only the refusal
 * is tested here: a successful unload would take the module away from the
 * tests that follow.  The runner's final rmmod shows that it unloads once
 * everything is gone.
 *
 * The device drivers (zcbuf_sim, ...) use zcbuf's symbols, which holds it
 * too: each test unloads them first (so that only buffers hold zcbuf) and
 * loads them again from $ZCBUF_DRIVERS afterwards.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

static bool module_loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f;

	f = fopen("/proc/modules", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "zcbuf ", 6);
	fclose(f);
	return found;
}

/* 0 if it unloaded (!), else -errno. */
static int try_unload(void)
{
	return syscall(__NR_delete_module, "zcbuf", O_NONBLOCK) ? -errno : 0;
}

static const char *const drivers[] = { "zcbuf_edu", "zcbuf_sim" };
#define NR_DRIVERS	(sizeof(drivers) / sizeof(drivers[0]))

FIXTURE(unload)
{
	int fd;
	size_t page;
	bool reload[NR_DRIVERS];
};

FIXTURE_SETUP(unload)
{
	char path[256];
	size_t i;

	for (i = 0; i < NR_DRIVERS; i++) {
		if (!zc_module_loaded(drivers[i]))
			continue;
		if (!zc_driver_path(drivers[i], path, sizeof(path)))
			SKIP(return, "%s loaded but not in $ZCBUF_DRIVERS: cannot reload it",
			     drivers[i]);
		ASSERT_EQ(0, zc_module_unload(drivers[i])) TH_LOG("%s", drivers[i]);
		self->reload[i] = true;
	}
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	if (!module_loaded())
		SKIP(return, "zcbuf is not a loaded module (built in?)");
	if (geteuid() != 0)
		SKIP(return, "delete_module needs CAP_SYS_MODULE");
}

FIXTURE_TEARDOWN(unload)
{
	int i;

	if (self->fd >= 0)
		close(self->fd);
	for (i = (int)NR_DRIVERS - 1; i >= 0; i--)
		if (self->reload[i])
			ASSERT_EQ(0, zc_module_load(drivers[i], NULL))
				TH_LOG("%s", drivers[i]);
}

TEST_F(unload, refused_while_context_open)
{
	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, NULL));
	EXPECT_EQ(-EWOULDBLOCK, try_unload());
	EXPECT_TRUE(module_loaded());
}

TEST_F(unload, refused_while_exported_fd_held)
{
	uint32_t idx;
	int dfd;

	ASSERT_EQ(0, zc_alloc(self->fd, 1, 1, 0, &idx));
	dfd = zc_export(self->fd, idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(-EWOULDBLOCK, try_unload());
	EXPECT_TRUE(module_loaded());
	close(dfd);
}

TEST_F(unload, refused_while_mapped)
{
	uint32_t idx;
	uint8_t *p;

	ASSERT_EQ(0, zc_alloc(self->fd, 4 * self->page, 1, 0, &idx));
	p = zc_map_buffer(self->fd, idx, NULL);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(-EWOULDBLOCK, try_unload());
	EXPECT_TRUE(module_loaded());
	/* and the mapping works afterwards */
	zc_fill(p, 4 * self->page, 1);
	EXPECT_EQ(-1, zc_check(p, 4 * self->page, 1));
	munmap(p, 4 * self->page);
}

TEST_HARNESS_MAIN
