// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_interop_fence: the write fence each queued buffer holds in its
 * DMA-buf's reservation object, seen the way a downstream importer sees it.
 *
 *  - While a buffer is queued (before STREAMON) poll() on its exported
 *    DMA-buf fd is neither readable nor writable, and
 *    DMA_BUF_IOCTL_EXPORT_SYNC_FILE (6.0+) gives a sync_file that is active
 *    (SYNC_IOC_FILE_INFO status 0, one fence of driver "zcbuf").
 *  - After completion both say done, never behind the eventfd: whenever the
 *    eventfd has counted k completions, at least k DMA-buf fds poll readable
 *    and their sync_files are signalled (status 1).
 *  - DMA_BUF_IOCTL_SYNC { START | READ } waits for the fence.
 *  - STREAMOFF (or closing the context) signals what the device never
 *    completed with an error: sync_file status -ECANCELED.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUFS		4
#define WIDTH		160
#define HEIGHT		120
#define FMT		ZCBUF_FMT_RGB24

/* poll() one fd for @events without waiting: the revents, or -errno. */
static int poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret = poll(&p, 1, 0);

	if (ret < 0)
		return -errno;
	return ret ? p.revents : 0;
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

FIXTURE(fence)
{
	int fd;			/* /dev/zcbuf */
	int efd;		/* eventfd */
	uint32_t frame_size;
	uint32_t first;
	size_t size;
	int dmabuf[NBUFS];
	int sf[NBUFS];		/* sync_files taken while queued */
	bool streaming;
};

FIXTURE_SETUP(fence)
{
	struct zcbuf_query q;
	int i;

	self->fd = self->efd = -1;
	for (i = 0; i < NBUFS; i++)
		self->dmabuf[i] = self->sf[i] = -1;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, zs_set_eventfd(self->fd, self->efd));
	ASSERT_EQ(0, zc_alloc(self->fd, WIDTH * HEIGHT * 3, NBUFS, 0,
			      &self->first));
	ASSERT_EQ(0, zc_query(self->fd, self->first, &q));
	self->size = q.size;
	for (i = 0; i < NBUFS; i++) {
		self->dmabuf[i] = zc_export(self->fd, self->first + i,
					    ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
		ASSERT_LE(0, self->dmabuf[i]);
	}
}

FIXTURE_TEARDOWN(fence)
{
	int i;

	if (self->streaming)
		EXPECT_EQ(0, zs_streamoff(self->fd));
	for (i = 0; i < NBUFS; i++) {
		if (self->sf[i] >= 0)
			close(self->sf[i]);
		if (self->dmabuf[i] >= 0)
			close(self->dmabuf[i]);
	}
	if (self->efd >= 0)
		close(self->efd);
	if (self->fd >= 0)
		close(self->fd);
}

static void config(struct __test_metadata *_metadata,
		   FIXTURE_DATA(fence) *self, uint32_t fps)
{
	ASSERT_EQ(0, zs_config_camera(self->fd, WIDTH, HEIGHT, FMT, fps, 0,
				      &self->frame_size));
}

/* Queue every buffer (not streaming): each DMA-buf has an active fence. */
static void queue_all_check_busy(struct __test_metadata *_metadata,
				 FIXTURE_DATA(fence) *self)
{
	struct sync_fence_info fi;
	int i, status;

	for (i = 0; i < NBUFS; i++) {
		/* Idle: nothing to wait for. */
		ASSERT_EQ(POLLIN | POLLOUT,
			  poll_now(self->dmabuf[i], POLLIN | POLLOUT));
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
		/* A write fence blocks readers and writers alike. */
		ASSERT_EQ(0, poll_now(self->dmabuf[i], POLLIN | POLLOUT));
		self->sf[i] = zc_export_sync_file(self->dmabuf[i],
					       DMA_BUF_SYNC_READ);
		ASSERT_LE(0, self->sf[i]);
		ASSERT_EQ(0, poll_now(self->sf[i], POLLIN));
		ASSERT_EQ(1, zc_sync_file_info(self->sf[i], &fi, &status));
		ASSERT_EQ(0, status);
		ASSERT_EQ(0, fi.status);
		ASSERT_STREQ("zcbuf", fi.driver_name);
		ASSERT_EQ(ZCBUF_STATE_QUEUED, zs_state(self->fd, self->first + i));
	}
}

/*
 * Queued before STREAMON: not readable, sync_file active.  Then stream at a
 * pace where completions can be watched one by one: the fences are never
 * behind the eventfd.
 */
TEST_F(fence, queued_busy_then_signalled)
{
	uint64_t total = 0, v;
	uint64_t deadline;
	int i, n;

	config(_metadata, self, 20);
	queue_all_check_busy(_metadata, self);
	zs_sleep_ms(100);	/* not streaming: nothing may change */
	for (i = 0; i < NBUFS; i++) {
		ASSERT_EQ(0, poll_now(self->dmabuf[i], POLLIN));
		ASSERT_EQ(0, poll_now(self->sf[i], POLLIN));
	}
	ASSERT_EQ(-EAGAIN, read(self->efd, &v, sizeof(v)) < 0 ? -errno : 0);

	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	deadline = zs_now_ns() + ZS_WAIT_MS * 1000000ULL;
	while (total < NBUFS) {
		int readable = 0, signalled = 0;

		ASSERT_LT(zs_now_ns(), deadline) TH_LOG("%llu of %d completions",
							(unsigned long long)total, NBUFS);
		if (zs_poll_in(self->efd, 1000) <= 0)
			continue;
		ASSERT_EQ(sizeof(v), read(self->efd, &v, sizeof(v)));
		total += v;
		for (i = 0; i < NBUFS; i++) {
			if (poll_now(self->dmabuf[i], POLLIN) & POLLIN)
				readable++;
			if (poll_now(self->sf[i], POLLIN) & POLLIN)
				signalled++;
		}
		ASSERT_LE(total, (uint64_t)readable);
		ASSERT_LE(total, (uint64_t)signalled);
	}
	ASSERT_EQ(NBUFS, total);

	/* Every one done: fences signalled without error, frames intact. */
	for (n = 0; n < NBUFS; n++) {
		struct sync_fence_info fi;
		struct zcbuf_dqbuf d;
		uint8_t *p;
		int status, sf;

		ASSERT_EQ(0, zs_dqbuf(self->fd, &d));
		i = d.index - self->first;
		ASSERT_EQ(0, d.flags);
		ASSERT_EQ(1, zc_sync_file_info(self->sf[i], &fi, &status));
		ASSERT_EQ(1, status);
		ASSERT_EQ(1, fi.status);
		ASSERT_NE(0, fi.timestamp_ns);
		ASSERT_LE(fi.timestamp_ns, d.timestamp_ns + 1000000000ULL);
		ASSERT_EQ(POLLIN | POLLOUT,
			  poll_now(self->dmabuf[i], POLLIN | POLLOUT));
		/* A fresh sync_file is signalled at once. */
		sf = zc_export_sync_file(self->dmabuf[i], DMA_BUF_SYNC_RW);
		ASSERT_LE(0, sf);
		ASSERT_EQ(POLLIN, poll_now(sf, POLLIN));
		close(sf);

		p = mmap(NULL, self->size, PROT_READ, MAP_SHARED,
			 self->dmabuf[i], 0);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, dmabuf_sync(self->dmabuf[i],
					 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		ASSERT_EQ(d.checksum, zs_crc32(p, d.bytesused));
		ASSERT_EQ(0, dmabuf_sync(self->dmabuf[i],
					 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		munmap(p, self->size);
	}
}

struct delayed_streamon {
	int fd;
	unsigned int ms;
	int ret;
};

static void *streamon_later(void *arg)
{
	struct delayed_streamon *ds = arg;

	zs_sleep_ms(ds->ms);
	ds->ret = zs_streamon(ds->fd);
	return NULL;
}

/* DMA_BUF_IOCTL_SYNC { START | READ } waits until the device is done. */
TEST_F(fence, dmabuf_sync_waits)
{
	struct delayed_streamon ds = { .fd = self->fd, .ms = 300, .ret = -1 };
	struct zcbuf_dqbuf d;
	pthread_t thread;
	uint64_t t0, waited;
	uint8_t *p;

	config(_metadata, self, 0);
	p = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->dmabuf[0], 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));

	t0 = zs_now_ns();
	ASSERT_EQ(0, pthread_create(&thread, NULL, streamon_later, &ds));
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[0],
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	waited = zs_now_ns() - t0;
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, ds.ret);
	self->streaming = true;
	ASSERT_LE(250ULL * 1000000ULL, waited)
		TH_LOG("DMA_BUF_IOCTL_SYNC returned after %llu ms, before the frame",
		       (unsigned long long)(waited / 1000000));
	/* The fence is signalled first; the eventfd follows. */
	ASSERT_EQ(1, zs_poll_in(self->efd, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(self->first, d.index);
	ASSERT_EQ(d.checksum, zs_crc32(p, d.bytesused));
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[0],
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	munmap(p, self->size);
}

/* Count the sync_files signalled OK and with -ECANCELED; fail otherwise. */
static void count_outcomes(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fence) *self, int *ok, int *cancelled)
{
	struct sync_fence_info fi;
	int i, status;

	*ok = *cancelled = 0;
	for (i = 0; i < NBUFS; i++) {
		ASSERT_EQ(POLLIN, poll_now(self->sf[i], POLLIN));
		ASSERT_EQ(1, zc_sync_file_info(self->sf[i], &fi, &status));
		/* sync_file status: 1 signalled, <0 the error */
		ASSERT_EQ(status, fi.status);
		if (status == 1) {
			(*ok)++;
		} else {
			ASSERT_EQ(-ECANCELED, status);
			(*cancelled)++;
		}
		ASSERT_EQ(POLLIN | POLLOUT,
			  poll_now(self->dmabuf[i], POLLIN | POLLOUT));
	}
}

/* STREAMOFF without ever streaming: every fence ends with -ECANCELED. */
TEST_F(fence, streamoff_cancels_queued)
{
	int ok, cancelled;
	uint64_t v;

	config(_metadata, self, 0);
	queue_all_check_busy(_metadata, self);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	count_outcomes(_metadata, self, &ok, &cancelled);
	ASSERT_EQ(0, ok);
	ASSERT_EQ(NBUFS, cancelled);
	/* Nothing completed: the eventfd says so too. */
	ASSERT_EQ(-EAGAIN, read(self->efd, &v, sizeof(v)) < 0 ? -errno : 0);
}

/*
 * STREAMOFF mid-stream: the completed buffers' fences are signalled
 * without error, as many as the eventfd counted; the rest are cancelled.
 */
TEST_F(fence, streamoff_midstream)
{
	struct zcbuf_stats st;
	int ok, cancelled;
	uint64_t v = 0;

	config(_metadata, self, 2);
	queue_all_check_busy(_metadata, self);
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	ASSERT_EQ(1, zs_poll_in(self->efd, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	self->streaming = false;
	ASSERT_EQ(sizeof(v), read(self->efd, &v, sizeof(v)));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	count_outcomes(_metadata, self, &ok, &cancelled);
	TH_LOG("eventfd %llu, frames %llu: %d fences signalled, %d cancelled",
	       (unsigned long long)v, (unsigned long long)st.frames, ok,
	       cancelled);
	ASSERT_LE(1, ok);
	ASSERT_EQ(v, (uint64_t)ok);
	ASSERT_EQ(st.frames, (uint64_t)ok);
	ASSERT_EQ(NBUFS, ok + cancelled);
	/* At 2 fps the four take 1.5 s: only a stalled guest finishes them. */
	if (!cancelled)
		TH_LOG("every buffer completed before STREAMOFF: nothing was cancelled");
}

/* Closing the context does what STREAMOFF does; the fds outlive it. */
TEST_F(fence, close_cancels_queued)
{
	int ok, cancelled;

	config(_metadata, self, 0);
	queue_all_check_busy(_metadata, self);
	close(self->fd);
	self->fd = -1;
	count_outcomes(_metadata, self, &ok, &cancelled);
	ASSERT_EQ(0, ok);
	ASSERT_EQ(NBUFS, cancelled);
}

/*
 * Freeing one import takes out of the reservation object only that
 * import's fences: another import of the same buffer, queued (its read
 * fence unsignalled), keeps writers waiting.  (All of the queue's fences
 * used to be replaced, the other slot's unsignalled one too.)  Two
 * read-only exports of one buffer share its reservation object; TX maps
 * both for reading.
 */
TEST(purge_frees_only_that_slots_fences)
{
	struct zcbuf_config tx = { .personality = ZCBUF_DEV_NIC_TX };
	uint32_t owner_idx, a, b;
	int owner, fd, rw, ro1, ro2;
	struct zcbuf_dqbuf d;

	owner = zc_open();
	if (owner == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, owner);
	fd = zc_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, zc_alloc(owner, 4096, 1, 0, &owner_idx));
	rw = zc_export(owner, owner_idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ro1 = zc_export(owner, owner_idx, ZCBUF_EXPORT_CLOEXEC);
	ro2 = zc_export(owner, owner_idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro1);
	ASSERT_LE(0, ro2);
	ASSERT_EQ(0, zs_config(fd, &tx, NULL));
	ASSERT_EQ(0, zc_import(fd, ro1, &a, NULL));
	ASSERT_EQ(0, zc_import(fd, ro2, &b, NULL));

	/* B goes out once: its fence is signalled and stays in the resv. */
	ASSERT_EQ(0, zs_streamon(fd));
	ASSERT_EQ(0, zs_qbuf(fd, b, 64));
	ASSERT_EQ(0, zs_dqbuf_wait(fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(b, d.index);
	ASSERT_EQ(0, zs_streamoff(fd));

	/* A is queued: a writer of the buffer must wait for it. */
	ASSERT_EQ(0, zs_qbuf(fd, a, 64));
	ASSERT_EQ(0, poll_now(rw, POLLOUT));
	ASSERT_EQ(0, zc_free(fd, b));
	ASSERT_EQ(0, poll_now(rw, POLLOUT));
	/* Cancelled: now it may. */
	ASSERT_EQ(0, zs_streamoff(fd));
	ASSERT_EQ(POLLOUT, poll_now(rw, POLLOUT));
	close(fd);
	close(ro1);
	close(ro2);
	close(rw);
	close(owner);
}

TEST_HARNESS_MAIN
