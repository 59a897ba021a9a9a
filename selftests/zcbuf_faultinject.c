// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_faultinject: every allocation on every path that allocates fails
 * once, cleanly.
 *
 * For each operation that allocates (open, ALLOC of scattered and of
 * contiguous buffers, EXPORT read-only and read-write, IMPORT, CONFIG,
 * the first QBUF, STREAMON, RING_SETUP, mmap of a buffer and of the rings,
 * mmap of an exported DMA-buf) the test makes the Nth allocation inside
 * that one call fail, for N = 1, 2, ... until the call completes without
 * reaching an Nth allocation.  It uses the kernel's systematic fault
 * injection, /proc/thread-self/fail-nth (Documentation/fault-injection/
 * fault-injection.rst, "Systematic faults using fail-nth"), which counts
 * the calls of failslab and fail_page_alloc made by this task only, with
 * their ignore-gfp-wait filters off and fail_page_alloc's min-order 0.
 *
 * Each injected failure must: return a clean errno (ENOMEM and its
 * relatives, never a kernel-internal code), or succeed anyway (a fallback);
 * leave the context usable (the same call then succeeds); and leak nothing
 * (the module's counters back to where they were once the context is
 * closed; kmemleak, read by `make check-debug`, for the rest).
 *
 * Needs a kernel with CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and
 * CONFIG_FAULT_INJECTION_DEBUG_FS (the debug kernel of `make check-debug`);
 * SKIPs elsewhere.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"
#include "zcbuf_rel.h"

#define FAILSLAB	ZC_DEBUGFS "/failslab"
#define FAILPAGE	ZC_DEBUGFS "/fail_page_alloc"
#define MAX_NTH		1000

struct fi_state {
	int fd;		/* the context under test */
	int other;	/* a second context (IMPORT's source) */
	int dfd;	/* an exported DMA-buf */
	uint32_t idx;
	uint64_t offset;
	size_t len;
	void *map;
	struct zcbuf_ring_setup rs;
};

struct fi_op {
	const char *name;
	int (*prep)(struct fi_state *s);	/* not injected */
	int (*call)(struct fi_state *s);	/* injected: 0 or -errno */
	void (*undo)(struct fi_state *s);	/* after a success */
};

static int cfg_camera(int fd)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_CAMERA, .width = 64, .height = 32,
		.pixelformat = ZCBUF_FMT_YUYV,
	};

	return zc_ioctl(fd, ZCBUF_IOC_CONFIG, &cfg);
}

static int prep_ctx(struct fi_state *s)
{
	s->fd = zc_open();
	return s->fd < 0 ? s->fd : 0;
}

static int prep_buf(struct fi_state *s)
{
	struct zcbuf_query q;
	int ret = prep_ctx(s);

	if (!ret)
		ret = zc_alloc(s->fd, 64 * 1024, 1, 0, &s->idx);
	if (!ret)
		ret = zc_query(s->fd, s->idx, &q);
	s->offset = q.offset;
	s->len = q.size;
	return ret;
}

static int prep_export(struct fi_state *s)
{
	int ret = prep_buf(s);

	if (ret)
		return ret;
	s->dfd = zc_export(s->fd, s->idx, ZCBUF_EXPORT_RDWR);
	return s->dfd < 0 ? s->dfd : 0;
}

static int prep_import(struct fi_state *s)
{
	uint32_t i;
	int ret = prep_ctx(s);

	if (ret)
		return ret;
	s->other = zc_open();
	if (s->other < 0)
		return s->other;
	ret = zc_alloc(s->other, 64 * 1024, 1, 0, &i);
	if (ret)
		return ret;
	s->dfd = zc_export(s->other, i, ZCBUF_EXPORT_RDWR);
	return s->dfd < 0 ? s->dfd : 0;
}

static int prep_configured(struct fi_state *s)
{
	int ret = prep_ctx(s);

	if (!ret)
		ret = cfg_camera(s->fd);
	if (!ret)
		ret = zc_alloc(s->fd, 64 * 1024, 2, 0, &s->idx);
	return ret;
}

static int prep_queued(struct fi_state *s)
{
	struct zcbuf_qbuf q = { 0 };
	int ret = prep_configured(s);

	q.index = s->idx;
	if (!ret)
		ret = zc_ioctl(s->fd, ZCBUF_IOC_QBUF, &q);
	return ret;
}

static int prep_ring(struct fi_state *s)
{
	int ret = prep_ctx(s);

	if (!ret)
		ret = zc_ioctl(s->fd, ZCBUF_IOC_RING_SETUP, &s->rs);
	return ret;
}

static int call_open(struct fi_state *s)
{
	s->fd = zc_open();
	return s->fd < 0 ? s->fd : 0;
}

static void undo_open(struct fi_state *s)
{
	close(s->fd);
	s->fd = -1;
}

static int call_alloc_sg(struct fi_state *s)
{
	/* 2 MiB + 64 KiB + 4 KiB: every chunk order, two buffers. */
	return zc_alloc(s->fd, (2UL << 20) + (68UL << 10), 2, 0, &s->idx);
}

static int call_alloc_contig(struct fi_state *s)
{
	return zc_alloc(s->fd, 256 * 1024, 2, ZCBUF_ALLOC_CONTIG, &s->idx);
}

static void undo_alloc(struct fi_state *s)
{
	zc_free(s->fd, s->idx);
	zc_free(s->fd, s->idx + 1);
}

static int call_export_ro(struct fi_state *s)
{
	s->dfd = zc_export(s->fd, s->idx, ZCBUF_EXPORT_CLOEXEC);
	return s->dfd < 0 ? s->dfd : 0;
}

static int call_export_rw(struct fi_state *s)
{
	s->dfd = zc_export(s->fd, s->idx, ZCBUF_EXPORT_RDWR);
	return s->dfd < 0 ? s->dfd : 0;
}

static void undo_close_dfd(struct fi_state *s)
{
	close(s->dfd);
	s->dfd = -1;
}

static int call_import(struct fi_state *s)
{
	return zc_import(s->fd, s->dfd, &s->idx, NULL);
}

static void undo_import(struct fi_state *s)
{
	zc_free(s->fd, s->idx);
}

static int call_config(struct fi_state *s)
{
	return cfg_camera(s->fd);
}

static void undo_config(struct fi_state *s)
{
	struct zcbuf_config none = { .personality = ZCBUF_DEV_NONE };

	zc_ioctl(s->fd, ZCBUF_IOC_CONFIG, &none);
}

static int call_qbuf(struct fi_state *s)
{
	struct zcbuf_qbuf q = { .index = s->idx };

	return zc_ioctl(s->fd, ZCBUF_IOC_QBUF, &q);
}

static void undo_stream(struct fi_state *s)
{
	struct zcbuf_stream st = { 0 };

	zc_ioctl(s->fd, ZCBUF_IOC_STREAMOFF, &st);
}

static int call_streamon(struct fi_state *s)
{
	struct zcbuf_stream st = { 0 };

	return zc_ioctl(s->fd, ZCBUF_IOC_STREAMON, &st);
}

static int call_ring_setup(struct fi_state *s)
{
	memset(&s->rs, 0, sizeof(s->rs));
	return zc_ioctl(s->fd, ZCBUF_IOC_RING_SETUP, &s->rs);
}

static int call_mmap_buf(struct fi_state *s)
{
	s->map = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		      (off_t)s->offset);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	return 0;
}

static int call_mmap_ring(struct fi_state *s)
{
	s->len = s->rs.mmap_size;
	s->map = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		      (off_t)s->rs.mmap_offset);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	return 0;
}

static int call_mmap_dmabuf(struct fi_state *s)
{
	s->map = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->dfd,
		      0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	return 0;
}

/* The mapping works (touched only now: page faults are not the call). */
static void undo_munmap(struct fi_state *s)
{
	memset(s->map, 0x11, s->len);
	munmap(s->map, s->len);
	s->map = NULL;
}

static const struct fi_op fi_ops[] = {
	{ "open", NULL, call_open, undo_open },
	{ "alloc-sg", prep_ctx, call_alloc_sg, undo_alloc },
	{ "alloc-contig", prep_ctx, call_alloc_contig, undo_alloc },
	{ "export-ro", prep_buf, call_export_ro, undo_close_dfd },
	{ "export-rw", prep_buf, call_export_rw, undo_close_dfd },
	{ "import", prep_import, call_import, undo_import },
	{ "config", prep_ctx, call_config, undo_config },
	{ "qbuf", prep_configured, call_qbuf, undo_stream },
	{ "streamon", prep_queued, call_streamon, undo_stream },
	{ "ring-setup", prep_ctx, call_ring_setup, NULL },
	{ "mmap-buffer", prep_buf, call_mmap_buf, undo_munmap },
	{ "mmap-ring", prep_ring, call_mmap_ring, undo_munmap },
	{ "mmap-dmabuf", prep_export, call_mmap_dmabuf, undo_munmap },
};

static void fi_cleanup(struct fi_state *s)
{
	if (s->map)
		munmap(s->map, s->len);
	if (s->dfd >= 0)
		close(s->dfd);
	if (s->other >= 0)
		close(s->other);
	if (s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = s->other = s->dfd = -1;
}

/* What an allocation failure may surface as. */
static bool clean_errno(int err)
{
	return err == ENOMEM || err == ENOSPC || err == EMFILE ||
	       err == ENFILE || err == EAGAIN || err == EINTR ||
	       err == ENOBUFS;
}

FIXTURE(fi)
{
	int nth;
	char saved[6][32];
	bool armed;
};

/* Every allocation counts; quiet (no stack dump per injected failure). */
static const char *const fi_knobs[6] = {
	FAILSLAB "/ignore-gfp-wait", FAILPAGE "/ignore-gfp-wait",
	FAILPAGE "/min-order", FAILPAGE "/ignore-gfp-highmem",
	FAILSLAB "/verbose", FAILPAGE "/verbose",
};
static const char *const fi_values[6] = { "N", "N", "0", "N", "0", "0" };

FIXTURE_SETUP(fi)
{
	char path[64];
	int fd, i;

	self->nth = -1;
	self->armed = false;
	fd = zc_open();
	if (fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, fd);
	close(fd);
	zc_mount_debugfs();
	if (access(FAILSLAB, F_OK))
		SKIP(return, "no failslab (CONFIG_FAILSLAB)");
	if (access(FAILPAGE, F_OK))
		SKIP(return, "no fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC)");
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	self->nth = open(path, O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "no %s (CONFIG_FAULT_INJECTION)", path);
	for (i = 0; i < 6; i++) {
		ASSERT_LT(0, zc_read_file(fi_knobs[i], self->saved[i],
					  sizeof(self->saved[i])));
		ASSERT_EQ(0, zc_write_file(fi_knobs[i], fi_values[i]));
	}
	self->armed = true;
}

FIXTURE_TEARDOWN(fi)
{
	int i;

	if (self->armed)
		for (i = 0; i < 6; i++)
			zc_write_file(fi_knobs[i], self->saved[i]);
	if (self->nth >= 0)
		close(self->nth);
}

/* Arm: the @n-th fault point of this task fails. */
static void nth_arm(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(fd, buf, len, 0) != len)
		abort();
}

/* Disarm; return whether the fault was injected (the count reached 0). */
static bool nth_disarm(int fd)
{
	char buf[16] = "";
	bool injected;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	injected = atoi(buf) == 0;
	if (pwrite(fd, "0", 1, 0) != 1)
		abort();
	return injected;
}

TEST_F(fi, every_allocation_fails_cleanly)
{
	unsigned long total_points = 0, total_ok_anyway = 0;
	struct zc_counters base, now;
	unsigned int o;
	char s1[128], s2[128];

	ASSERT_EQ(0, zc_counters_read(&base));
	zc_counters_fmt(&base, s1, sizeof(s1));

	for (o = 0; o < sizeof(fi_ops) / sizeof(fi_ops[0]); o++) {
		const struct fi_op *op = &fi_ops[o];
		unsigned int points = 0, ok_anyway = 0, n;
		bool finished = false;

		for (n = 1; n <= MAX_NTH && !finished; n++) {
			struct fi_state s = { .fd = -1, .other = -1, .dfd = -1 };
			bool injected;
			int ret;

			if (op->prep)
				ASSERT_EQ(0, op->prep(&s)) {
					TH_LOG("%s: preparing failed", op->name);
				}
			nth_arm(self->nth, n);
			ret = op->call(&s);
			injected = nth_disarm(self->nth);

			if (!injected) {
				/* The call has fewer than n fault points. */
				EXPECT_EQ(0, ret) {
					TH_LOG("%s: failed with %s without injection",
					       op->name, strerror(-ret));
				}
				finished = true;
			} else if (ret == 0) {
				/* A fallback absorbed it. */
				points++;
				ok_anyway++;
			} else {
				points++;
				EXPECT_TRUE(clean_errno(-ret)) {
					TH_LOG("%s: fault %u gave errno %d (%s)",
					       op->name, n, -ret, strerror(-ret));
				}
				/* Usable: the very same call now succeeds. */
				ret = op->call(&s);
				EXPECT_EQ(0, ret) {
					TH_LOG("%s: after fault %u the call fails: %s",
					       op->name, n, strerror(-ret));
				}
			}
			if (ret == 0 && op->undo)
				op->undo(&s);
			fi_cleanup(&s);
			ASSERT_EQ(0, zc_counters_wait(&base, 5000, &now)) {
				zc_counters_fmt(&now, s2, sizeof(s2));
				TH_LOG("%s: after fault %u counters %s, not %s",
				       op->name, n, s2, s1);
			}
		}
		EXPECT_TRUE(finished) {
			TH_LOG("%s: still failing after %d faults", op->name,
			       MAX_NTH);
		}
		TH_LOG("%-13s %3u fault points, %u absorbed by a fallback",
		       op->name, points, ok_anyway);
		total_points += points;
		total_ok_anyway += ok_anyway;
	}
	/* Picked up by scripts/check-debug.sh for its summary. */
	printf("# zcbuf-faultinject: fault points injected %lu (absorbed %lu)\n",
	       total_points, total_ok_anyway);
}

TEST_HARNESS_MAIN
