// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_unload: the module cannot be unloaded while any buffer lives.
 *
 * delete_module("zcbuf", O_NONBLOCK) must fail with EWOULDBLOCK (the
 * kernel's answer for a module still in use) while a context, a mapping,
 * or an exported DMA-buf fd holds a buffer.  The runner's final rmmod
 * shows that it unloads once everything is gone.  A fence another holder
 * keeps (a sync_file) does not hold the module: the unload waits until it
 * is released (its ops are the module's code), and the test loads the
 * module again from $ZCBUF_MODULE (set by run_guest.sh).
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

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

/* Load the module again from @ko; wait for /dev/zcbuf.  0 or -errno. */
static int reload(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret, i;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	for (i = 0; !ret && access(ZCBUF_DEV, F_OK) && i < 200; i++)
		zs_sleep_ms(10);
	return ret;
}

/*
 * The last holder of a fence runs the fence's ops, which are the module's
 * code: a sync_file of a signalled fence keeps the unload waiting (it
 * used to be refused: each fence held a module reference, dropped just
 * before its release returned into the module), and the sync_file stays
 * usable meanwhile; closing it lets the unload finish.
 */
TEST_F(unload, waits_for_a_fence_held_elsewhere)
{
	const char *ko = getenv("ZCBUF_MODULE");
	struct sync_fence_info fi;
	struct zcbuf_dqbuf d;
	uint32_t frame_size, idx;
	int dfd, sf, nfences, signalled, st, waited;
	pid_t pid;

	if (!ko)
		SKIP(return, "ZCBUF_MODULE not set: the module could not be loaded again");
	/* A camera for the fence: the simulator, only for this stream. */
	if (zc_module_load("zcbuf_sim", NULL))
		SKIP(return, "zcbuf_sim not in $ZCBUF_DRIVERS");
	/* 1 fps: the second buffer's fence is pending for a second. */
	ASSERT_EQ(0, zs_config_camera(self->fd, 64, 48, ZCBUF_FMT_RGB24, 1, 0,
				      &frame_size));
	ASSERT_EQ(0, zc_alloc(self->fd, frame_size, 2, 0, &idx));
	dfd = zc_export(self->fd, idx + 1,
			ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, zs_qbuf(self->fd, idx, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, idx + 1, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	sf = zc_export_sync_file(dfd, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sf);
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	/* Cancelled, or done meanwhile: signalled either way. */
	ASSERT_EQ(0, zs_streamoff(self->fd));
	close(dfd);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Not the holder: our copy of the sync_file would keep it. */
		close(sf);
		_exit(syscall(__NR_delete_module, "zcbuf", 0) ? errno : 0);
	}
	zs_sleep_ms(500);
	waited = waitpid(pid, &st, WNOHANG);
	/* The fence's code is still there for its holder. */
	nfences = zc_sync_file_info(sf, &fi, &signalled);
	close(sf);
	if (waited == 0)
		waitpid(pid, &st, 0);
	/* Whatever happened, the module comes back for the tests after us. */
	if (!module_loaded())
		ASSERT_EQ(0, reload(ko));
	ASSERT_EQ(0, waited) TH_LOG("unload returned at once: %s",
				    strerror(WEXITSTATUS(st)));
	ASSERT_EQ(1, nfences);
	ASSERT_TRUE(signalled == 1 || signalled == -ECANCELED)
		TH_LOG("sync_file status %d", signalled);
	/*
	 * Newer kernels (7.3 here) name a signalled fence's driver
	 * "detached-driver": its ops may be gone, which is this very case.
	 */
	if (signalled != 0 && !strcmp(fi.driver_name, "detached-driver"))
		TH_LOG("signalled fence reported as detached-driver");
	else
		ASSERT_STREQ("zcbuf", fi.driver_name);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
