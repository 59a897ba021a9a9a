// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_race: several threads hammer one context at once.
 *
 * Owners allocate, map, fill, export, check and free their own buffers
 * while a "reaper" frees random indices and a "prober" queries, syncs,
 * exports and maps random ones.  Every call must either work or fail with
 * the errno a lost race explains (EINVAL for an index already freed,
 * ENOMEM at the context's limits); data in a mapping must stay intact
 * whatever happens to the buffer's index (the mapping holds the memory).
 * Meant for debug kernels too: lockdep, KASAN and kmemleak watch the
 * kernel log, which the runner scans.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

#define OWNERS		3
#define RUN_MS		1500

struct race {
	int fd;
	size_t page;
	atomic_bool stop;
	atomic_int bad;		/* unexpected results */
	atomic_long ops;
	atomic_long cycles;	/* owners' full alloc..free cycles */
	char why[256];		/* the first unexpected result */
	pthread_mutex_t lock;
};

static void race_bad(struct race *r, const char *what, int err)
{
	pthread_mutex_lock(&r->lock);
	if (!r->bad)
		snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(-err));
	r->bad++;
	pthread_mutex_unlock(&r->lock);
}

/* A lost race explains EINVAL; the limits explain ENOMEM. */
static void expect_ok_or(struct race *r, const char *what, int ret, int allowed1, int allowed2)
{
	if (ret >= 0 || ret == allowed1 || ret == allowed2)
		return;
	race_bad(r, what, ret);
}

static uint32_t rnd(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

struct owner_arg {
	struct race *r;
	uint32_t seed;
};

static void *owner(void *p)
{
	struct owner_arg *a = p;
	struct race *r = a->r;
	uint32_t s = a->seed;

	while (!r->stop) {
		size_t size = (1 + rnd(&s) % 8) * r->page;
		struct zcbuf_query q;
		uint32_t idx;
		uint8_t *m;
		int ret, dfd;

		ret = zc_alloc(r->fd, size, 1, rnd(&s) & 1 ? ZCBUF_ALLOC_CONTIG : 0, &idx);
		expect_ok_or(r, "ALLOC", ret, -ENOMEM, -ENOMEM);
		if (ret)
			continue;
		ret = zc_query(r->fd, idx, &q);
		expect_ok_or(r, "QUERY", ret, -EINVAL, -EINVAL);
		if (ret)
			continue;	/* the reaper was faster */
		m = zc_mmap(r->fd, size, PROT_READ | PROT_WRITE, MAP_SHARED, q.offset);
		if (!m) {
			expect_ok_or(r, "mmap", -errno, -EINVAL, -EINVAL);
			continue;
		}
		zc_fill(m, size, s);
		dfd = zc_export(r->fd, idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
		expect_ok_or(r, "EXPORT", dfd, -EINVAL, -EINVAL);
		if (dfd >= 0)
			close(dfd);
		expect_ok_or(r, "SYNC", zc_sync(r->fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_RW,
						0, size), -EINVAL, -EINVAL);
		if (zc_check(m, size, s) != -1)
			race_bad(r, "data changed in a mapping", -EIO);
		expect_ok_or(r, "FREE", zc_free(r->fd, idx), -EINVAL, -EINVAL);
		if (zc_check(m, size, s) != -1)
			race_bad(r, "data changed after FREE", -EIO);
		munmap(m, size);
		r->ops++;
		r->cycles++;
	}
	return NULL;
}

/* Frees whatever index it guesses. */
static void *reaper(void *p)
{
	struct race *r = p;
	uint32_t s = 12345;

	while (!r->stop) {
		expect_ok_or(r, "reaper FREE", zc_free(r->fd, rnd(&s) % 256), -EINVAL, -EINVAL);
		r->ops++;
	}
	return NULL;
}

/* Queries, syncs, exports and maps whatever index it guesses. */
static void *prober(void *p)
{
	struct race *r = p;
	uint32_t s = 777;

	while (!r->stop) {
		uint32_t idx = rnd(&s) % 256;
		struct zcbuf_query q;
		int ret, dfd;
		void *m;

		ret = zc_query(r->fd, idx, &q);
		expect_ok_or(r, "probe QUERY", ret, -EINVAL, -EINVAL);
		expect_ok_or(r, "probe SYNC", zc_sync(r->fd, idx, ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE,
						      0, r->page), -EINVAL, -EINVAL);
		dfd = zc_export(r->fd, idx, ZCBUF_EXPORT_CLOEXEC);
		expect_ok_or(r, "probe EXPORT", dfd, -EINVAL, -EINVAL);
		if (dfd >= 0)
			close(dfd);
		if (!ret) {
			m = zc_mmap(r->fd, r->page, PROT_READ, MAP_SHARED, q.offset);
			if (m)
				munmap(m, r->page);
			else
				expect_ok_or(r, "probe mmap", -errno, -EINVAL, -EINVAL);
		}
		r->ops++;
	}
	return NULL;
}

FIXTURE(race)
{
	struct race r;
};

FIXTURE_SETUP(race)
{
	memset(&self->r, 0, sizeof(self->r));
	pthread_mutex_init(&self->r.lock, NULL);
	self->r.page = sysconf(_SC_PAGESIZE);
	self->r.fd = zc_open();
	if (self->r.fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->r.fd);
}

FIXTURE_TEARDOWN(race)
{
	if (self->r.fd >= 0)
		close(self->r.fd);
}

TEST_F(race, one_context_many_threads)
{
	struct owner_arg args[OWNERS];
	pthread_t t[OWNERS + 2];
	struct timespec ts = { .tv_sec = RUN_MS / 1000,
			       .tv_nsec = (RUN_MS % 1000) * 1000000L };
	int i;

	for (i = 0; i < OWNERS; i++) {
		args[i].r = &self->r;
		args[i].seed = 0x9e3779b9u * (i + 1);
		ASSERT_EQ(0, pthread_create(&t[i], NULL, owner, &args[i]));
	}
	ASSERT_EQ(0, pthread_create(&t[OWNERS], NULL, reaper, &self->r));
	ASSERT_EQ(0, pthread_create(&t[OWNERS + 1], NULL, prober, &self->r));
	nanosleep(&ts, NULL);
	self->r.stop = true;
	for (i = 0; i < OWNERS + 2; i++)
		pthread_join(t[i], NULL);

	TH_LOG("%ld operations, %ld full buffer cycles", (long)self->r.ops,
	       (long)self->r.cycles);
	EXPECT_EQ(0, self->r.bad) TH_LOG("%d unexpected results, first: %s",
					 (int)self->r.bad, self->r.why);
	EXPECT_LT(0, self->r.cycles);
}

TEST_HARNESS_MAIN
