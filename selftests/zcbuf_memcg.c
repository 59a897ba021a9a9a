// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_memcg: buffers are charged to the caller's memory cgroup, and a
 * cgroup's memory.max bounds them.
 *
 * A child moved into a cgroup with memory.max = 16 MiB (no swap) asks for
 * more than that: ZCBUF_IOC_ALLOC fails with ENOMEM, cleanly (nothing half
 * allocated, the context still usable for a small buffer, the process not
 * OOM-killed), while a process outside the cgroup allocates the same size
 * at the same time without trouble.  Mounts cgroup2 at /sys/fs/cgroup if
 * nothing is mounted there; SKIPs without the memory controller.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"
#include "zcbuf_rel.h"

#define CGROOT	"/sys/fs/cgroup"
#define LIMIT	(16UL << 20)
#define BIG	(48UL << 20)

/* "" when usable, else why not. */
static const char *cgroup_setup(char *dir, size_t len)
{
	char buf[512];

	if (access(CGROOT "/cgroup.controllers", F_OK)) {
		mkdir(CGROOT, 0755);
		if (mount("none", CGROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2 on " CGROOT;
	}
	if (zc_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory"))
		return "no memory controller in cgroup v2 (CONFIG_MEMCG)";
	zc_write_file(CGROOT "/cgroup.subtree_control", "+memory");
	snprintf(dir, len, CGROOT "/zcbuf-memcg-%d", getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return "cannot create a cgroup";
	return "";
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return zc_write_file(path, val);
}

static long long cg_read_ll(const char *dir, const char *file,
			    const char *key)
{
	char path[256], buf[4096], *p;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (zc_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	if (!key)
		return strtoll(buf, NULL, 10);
	p = strstr(buf, key);
	return p ? strtoll(p + strlen(key) + 1, NULL, 10) : -1;
}

FIXTURE(memcg)
{
	char dir[128];
};

FIXTURE_SETUP(memcg)
{
	const char *why;
	int fd;

	self->dir[0] = '\0';
	fd = zc_open();
	if (fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, fd);
	close(fd);
	if (geteuid() != 0)
		SKIP(return, "needs root to create a cgroup");
	why = cgroup_setup(self->dir, sizeof(self->dir));
	if (*why) {
		self->dir[0] = '\0';
		SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, cg_write(self->dir, "memory.max", "16M"));
	cg_write(self->dir, "memory.swap.max", "0");
}

FIXTURE_TEARDOWN(memcg)
{
	if (!self->dir[0])
		return;
	/* Move anything left back out, then remove the group. */
	zc_write_file(CGROOT "/cgroup.procs", "0");
	rmdir(self->dir);
}

TEST_F(memcg, alloc_over_limit_enomem_outside_unaffected)
{
	int go[2], done[2], st = 0, fd, ret;
	long long oom_kills, max_usage;
	char pid[32];
	pid_t child;
	uint32_t idx;
	char c;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int r;

		close(go[1]);
		close(done[0]);
		/* Wait until we are in the group. */
		if (read(go[0], &c, 1) != 1)
			_exit(99);
		fd = zc_open();
		if (fd < 0)
			_exit(1);
		/* Over the limit in one go: ENOMEM, nothing kept. */
		r = zc_alloc(fd, BIG, 1, 0, NULL);
		if (r != -ENOMEM)
			_exit(r == 0 ? 2 : 3);
		/* Over the limit in pieces: some fit, then ENOMEM. */
		r = zc_alloc(fd, 4UL << 20, 8, 0, NULL);
		if (r != -ENOMEM)
			_exit(r == 0 ? 4 : 5);
		/* Contiguous too. */
		r = zc_alloc(fd, 4UL << 20, 8, ZCBUF_ALLOC_CONTIG, NULL);
		if (r != -ENOMEM && r != -EINVAL)
			_exit(r == 0 ? 6 : 7);
		/* Still usable for what fits. */
		if (zc_alloc(fd, 1UL << 20, 1, 0, NULL))
			_exit(8);
		if (write(done[1], "x", 1) != 1)
			_exit(98);
		pause();	/* hold it while the parent allocates */
		_exit(0);
	}

	close(go[0]);
	close(done[1]);
	snprintf(pid, sizeof(pid), "%d", child);
	ASSERT_EQ(0, cg_write(self->dir, "cgroup.procs", pid));
	ASSERT_EQ(1, write(go[1], "g", 1));

	/* The child reports its allocations done, or dies. */
	ret = read(done[0], &c, 1);
	if (ret != 1) {
		waitpid(child, &st, 0);
		oom_kills = cg_read_ll(self->dir, "memory.events", "oom_kill");
		TH_LOG("child: %s %d; oom_kill events in the group: %lld",
		       WIFEXITED(st) ? "exit" : "signal",
		       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), oom_kills);
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			TH_LOG("the allocation invoked the memcg OOM killer instead of failing with ENOMEM");
		ASSERT_EQ(1, ret);
	}

	/* Outside the group, the same big allocation just works. */
	fd = zc_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, zc_alloc(fd, BIG, 1, 0, &idx));
	{
		size_t len;
		uint8_t *p = zc_map_buffer(fd, idx, &len);

		ASSERT_NE(NULL, p);
		memset(p, 1, len);	/* really backed */
		munmap(p, len);
	}
	close(fd);

	max_usage = cg_read_ll(self->dir, "memory.peak", NULL);
	oom_kills = cg_read_ll(self->dir, "memory.events", "oom_kill");
	TH_LOG("group peak %lld bytes (limit %lu), oom_kill %lld", max_usage,
	       LIMIT, oom_kills);
	if (max_usage >= 0)
		EXPECT_GE((long long)LIMIT, max_usage);
	EXPECT_EQ(0, oom_kills);

	kill(child, SIGTERM);
	waitpid(child, &st, 0);
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

TEST_HARNESS_MAIN
