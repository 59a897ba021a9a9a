// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_interop_fence: the write fence each queued buffer holds in its
 * DMA-buf's reservation object, seen the way a downstream importer sees it.
 *
 *  - A buffer queued while not streaming blocks nobody: its fence is
 *    published at STREAMON.  While the device streams, poll() on the
 *    exported DMA-buf fd of a queued buffer is neither readable nor
 *    writable, and DMA_BUF_IOCTL_EXPORT_SYNC_FILE (6.0+) gives a sync_file
 *    that is active (SYNC_IOC_FILE_INFO status 0, one fence of driver
 *    "zcbuf").
 *  - After completion both say done, never behind the eventfd: whenever the
 *    eventfd has counted k completions, at least k DMA-buf fds poll readable
 *    and their sync_files are signalled (status 1).
 *  - DMA_BUF_IOCTL_SYNC { START | READ } waits for the fence.
 *  - STREAMOFF (or closing the context) signals what the device never
 *    completed with an error: sync_file status -ECANCELED.
 *  - A device that stalls has its fences signalled with -ETIMEDOUT after
 *    the module's fence_timeout_ms; the buffer then completes with
 *    ZCBUF_DQ_ERROR.
 *  - A sw_sync fence (CONFIG_SW_SYNC: the debug kernel) put into a system
 *    heap DMA-buf as its write fence with DMA_BUF_IOCTL_IMPORT_SYNC_FILE
 *    holds the device off that buffer until the timeline reaches it.
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
#include <linux/dma-heap.h>
#include <linux/sync_file.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUFS		4
#define WIDTH		160
#define HEIGHT		120
#define FMT		ZCBUF_FMT_RGB24

/*
 * sw_sync (drivers/dma-buf/sw_sync.c, CONFIG_SW_SYNC): a timeline in
 * debugfs whose fences user space signals.  Its ioctls are in no uapi
 * header.
 */
#define SW_SYNC_PATH		"/sys/kernel/debug/sync/sw_sync"
struct zi_sw_sync_create_fence_data {
	uint32_t value;
	char name[32];
	int32_t fence;
};
#define ZI_SW_SYNC_IOC_CREATE_FENCE \
	_IOWR('W', 0, struct zi_sw_sync_create_fence_data)
#define ZI_SW_SYNC_IOC_INC	_IOW('W', 1, uint32_t)

#define HEAP_SYSTEM		"/dev/dma_heap/system"

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
	struct zc_test_dev td;
	uint32_t width;		/* WIDTH x HEIGHT, or the device under test's */
	uint32_t height;
	uint32_t frame_size;
	uint32_t first;
	size_t size;
	int dmabuf[NBUFS];
	int sf[NBUFS];		/* sync_files taken while queued */
	bool streaming;
	char timeout[32];	/* fence_timeout_ms to restore, or "" */
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
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_TX))
		SKIP(return, "%s is not a camera and NIC TX", self->td.name);
	self->width = WIDTH;
	self->height = HEIGHT;
	zc_test_frame(&self->td, &self->width, &self->height);
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, zs_set_eventfd(self->fd, self->efd));
	ASSERT_EQ(0, zc_alloc(self->fd, self->width * self->height * 3, NBUFS, 0,
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
	if (self->timeout[0])
		EXPECT_EQ(0, zs_param_set("fence_timeout_ms", self->timeout));
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
	ASSERT_EQ(0, zs_config_camera(self->fd, self->width, self->height, FMT,
				      zc_test_fps(&self->td, fps), 0,
				      &self->frame_size));
}

/* Queue every buffer while not streaming: no fence is published yet. */
static void queue_all_idle(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fence) *self)
{
	int i;

	for (i = 0; i < NBUFS; i++) {
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
		ASSERT_EQ(POLLIN | POLLOUT,
			  poll_now(self->dmabuf[i], POLLIN | POLLOUT));
		ASSERT_EQ(ZCBUF_STATE_QUEUED, zs_state(self->fd, self->first + i));
	}
}

/*
 * Streaming: a sync_file of each buffer's fences; those from @from on are
 * not complete yet (the camera is slow), so they are active.
 */
static void export_all_busy(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fence) *self, int from)
{
	struct sync_fence_info fi;
	int i, status;

	for (i = 0; i < NBUFS; i++) {
		self->sf[i] = zc_export_sync_file(self->dmabuf[i],
						  DMA_BUF_SYNC_READ);
		ASSERT_LE(0, self->sf[i]);
		if (i < from)
			continue;
		/* A write fence blocks readers and writers alike. */
		ASSERT_EQ(0, poll_now(self->dmabuf[i], POLLIN | POLLOUT));
		ASSERT_EQ(0, poll_now(self->sf[i], POLLIN));
		ASSERT_EQ(1, zc_sync_file_info(self->sf[i], &fi, &status));
		ASSERT_EQ(0, status);
		ASSERT_EQ(0, fi.status);
		ASSERT_STREQ("zcbuf", fi.driver_name);
	}
}

/*
 * Queued before STREAMON: nobody has to wait (the fence used to be
 * published at QBUF and to block writers until STREAMOFF, forever if the
 * stream never started).  QBUF while not streaming leaves DMA_BUF_IOCTL_SYNC
 * for writing free to return at once.
 */
TEST_F(fence, not_streaming_blocks_nobody)
{
	struct pollfd p = { .fd = self->dmabuf[0], .events = POLLOUT };
	int sf;

	config(_metadata, self, 0);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(1, poll(&p, 1, 3000));
	ASSERT_EQ(POLLOUT, p.revents);
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[0],
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[0],
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	sf = zc_export_sync_file(self->dmabuf[0], DMA_BUF_SYNC_RW);
	ASSERT_LE(0, sf);
	ASSERT_EQ(POLLIN, poll_now(sf, POLLIN));
	close(sf);
}

/*
 * Queued before STREAMON: idle until STREAMON publishes the fences; then
 * not readable, sync_file active.  Streamed at a pace where completions can
 * be watched one by one: the fences are never behind the eventfd.
 */
TEST_F(fence, queued_busy_then_signalled)
{
	uint64_t total = 0, v;
	uint64_t deadline;
	int i, n;

	config(_metadata, self, 1);
	queue_all_idle(_metadata, self);
	ASSERT_EQ(-EAGAIN, read(self->efd, &v, sizeof(v)) < 0 ? -errno : 0);

	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	/* The first frame may be done at once; the rest are 1 s apart. */
	export_all_busy(_metadata, self, 2);
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

/*
 * DMA_BUF_IOCTL_SYNC { START | READ } waits until the device is done: a
 * buffer queued to a running camera (fences published at STREAMON), read
 * right after the sync, holds the whole frame.
 */
TEST_F(fence, dmabuf_sync_waits)
{
	struct zcbuf_dqbuf d;
	uint32_t crc;
	uint8_t *p;

	config(_metadata, self, 2);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	/* Buffer 1 goes second, half a second after STREAMON. */
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	p = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->dmabuf[1], 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[1],
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	crc = zs_crc32(p, self->width * self->height * 3);
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	if (d.index != self->first + 1)
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(self->first + 1, d.index);
	ASSERT_EQ(d.checksum, crc)
		TH_LOG("DMA_BUF_IOCTL_SYNC returned before the frame was written");
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[1],
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

/*
 * STREAMOFF right after STREAMON at 1 fps: the first frame may be done,
 * every other fence ends with -ECANCELED.
 */
TEST_F(fence, streamoff_cancels_queued)
{
	int ok, cancelled;
	uint64_t v = 0;

	config(_metadata, self, 1);
	queue_all_idle(_metadata, self);
	ASSERT_EQ(0, zs_streamon(self->fd));
	export_all_busy(_metadata, self, 1);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	count_outcomes(_metadata, self, &ok, &cancelled);
	ASSERT_GE(1, ok);
	ASSERT_EQ(NBUFS, ok + cancelled);
	/* The eventfd counted exactly the frames that completed. */
	if (read(self->efd, &v, sizeof(v)) < 0)
		v = 0;
	ASSERT_EQ((uint64_t)ok, v);
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
	queue_all_idle(_metadata, self);
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	export_all_busy(_metadata, self, 1);
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

	config(_metadata, self, 1);
	queue_all_idle(_metadata, self);
	ASSERT_EQ(0, zs_streamon(self->fd));
	export_all_busy(_metadata, self, 1);
	close(self->fd);
	self->fd = -1;
	count_outcomes(_metadata, self, &ok, &cancelled);
	ASSERT_GE(1, ok);
	ASSERT_EQ(NBUFS, ok + cancelled);
}

/*
 * A device that stalls cannot hold a buffer's fence forever: after
 * fence_timeout_ms without a completion it is signalled with -ETIMEDOUT,
 * and writers may go on.  The buffer stays the device's; when the device
 * comes back and completes it, the completion carries ZCBUF_DQ_ERROR
 * (others were told it was done).  Frame 0 goes at once, frame 1 after a
 * 3 s stall, fences time out after 300 ms.  (Before the watchdog the fence
 * signalled only when the stall ended.)
 */
TEST_F(fence, stalled_device_times_out)
{
	struct zcbuf_config cam = {
		.personality = ZCBUF_DEV_CAMERA, .width = self->width,
		.height = self->height, .pixelformat = FMT,
		.stall_every = 1, .stall_ms = 3000,
	};
	struct pollfd p = { .events = POLLIN };
	struct sync_fence_info fi;
	struct zcbuf_stats st;
	struct zcbuf_dqbuf d;
	char now[32];
	int status, ret;

	ASSERT_EQ(0, zs_param_get("fence_timeout_ms", self->timeout,
				  sizeof(self->timeout)));
	/* Every fence signals in bounded time: "never" is no setting. */
	ASSERT_EQ(-EINVAL, zs_param_set("fence_timeout_ms", "0"));
	ASSERT_EQ(0, zs_param_get("fence_timeout_ms", now, sizeof(now)));
	ASSERT_STREQ(self->timeout, now);
	ASSERT_EQ(0, zs_param_set("fence_timeout_ms", "300"));

	ret = zs_config(self->fd, &cam, &self->frame_size);
	if (ret == -EINVAL && self->td.name)
		SKIP(return, "%s has no stall injection", self->td.name);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(self->first, d.index);
	ASSERT_EQ(0, d.flags);

	/* Frame 1 is 3 s away; its fence signals long before. */
	self->sf[1] = zc_export_sync_file(self->dmabuf[1], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, self->sf[1]);
	p.fd = self->sf[1];
	ASSERT_EQ(1, poll(&p, 1, 2500))
		TH_LOG("the fence of a stalled device did not time out");
	ASSERT_EQ(1, zc_sync_file_info(self->sf[1], &fi, &status));
	ASSERT_EQ(-ETIMEDOUT, status);
	ASSERT_EQ(-ETIMEDOUT, fi.status);
	/* Writers no longer wait, though the device still has the buffer. */
	ASSERT_EQ(POLLIN | POLLOUT,
		  poll_now(self->dmabuf[1], POLLIN | POLLOUT));
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[1],
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	ASSERT_EQ(0, dmabuf_sync(self->dmabuf[1],
				 DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	ASSERT_NE(ZCBUF_STATE_USER, zs_state(self->fd, self->first + 1));
	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));

	/* The device comes back: its late frame is not reported as good. */
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(self->first + 1, d.index);
	ASSERT_EQ(ZCBUF_DQ_ERROR, d.flags & ZCBUF_DQ_ERROR);
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(1, st.frames);
	ASSERT_EQ(1, st.errors);
	/* Still -ETIMEDOUT: signalled once, by the watchdog. */
	ASSERT_EQ(1, zc_sync_file_info(self->sf[1], &fi, &status));
	ASSERT_EQ(-ETIMEDOUT, status);
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
	/* Frame 0 goes at once, every later one after a 2 s stall. */
	struct zcbuf_config tx = {
		.personality = ZCBUF_DEV_NIC_TX, .stall_every = 1,
		.stall_ms = 2000,
	};
	uint32_t owner_idx, a, b;
	int owner, fd, rw, ro1, ro2, ret;
	struct zcbuf_dqbuf d;

	owner = zc_open();
	if (owner == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, owner);
	fd = zc_open();
	ASSERT_LE(0, fd);
	ret = zs_config(fd, &tx, NULL);
	if (ret == -EINVAL && zc_test_device_name()) {
		close(fd);
		close(owner);
		SKIP(return, "%s has no stall injection", zc_test_device_name());
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, zc_alloc(owner, 4096, 1, 0, &owner_idx));
	rw = zc_export(owner, owner_idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ro1 = zc_export(owner, owner_idx, ZCBUF_EXPORT_CLOEXEC);
	ro2 = zc_export(owner, owner_idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, rw);
	ASSERT_LE(0, ro1);
	ASSERT_LE(0, ro2);
	ASSERT_EQ(0, zc_import(fd, ro1, &a, NULL));
	ASSERT_EQ(0, zc_import(fd, ro2, &b, NULL));

	/* B goes out once: its fence is signalled and stays in the resv. */
	ASSERT_EQ(0, zs_streamon(fd));
	ASSERT_EQ(0, zs_qbuf(fd, b, 64));
	ASSERT_EQ(0, zs_dqbuf_wait(fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(b, d.index);

	/* A is queued, stalled: a writer of the buffer must wait for it. */
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

/*
 * Implicit sync into zcbuf with a fence nobody but user space signals: a
 * sw_sync fence, made the write fence of a system heap DMA-buf with
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE (6.0+), holds the device (camera writes,
 * TX reads) off the imported buffer until SW_SYNC_IOC_INC; meanwhile the
 * buffer's own fence is not timed out, however short fence_timeout_ms is
 * (the wait is the dependency's, not the device's), and readers of the
 * DMA-buf wait for both.
 */
static void waits_for_sw_sync(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fence) *self, bool tx)
{
	struct zcbuf_config txcfg = { .personality = ZCBUF_DEV_NIC_TX };
	struct zi_sw_sync_create_fence_data cf = { .value = 1 };
	struct dma_heap_allocation_data heap_data = {
		.len = 65536, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct dma_buf_import_sync_file isf = { .flags = DMA_BUF_SYNC_WRITE };
	struct sync_fence_info fi;
	struct zcbuf_dqbuf d;
	int tl, heap, dfd, sf;
	uint32_t index, one = 1;
	int status;

	tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl < 0 && access("/sys/kernel/debug/zcbuf", F_OK))
		SKIP(return, "debugfs is not mounted: no %s", SW_SYNC_PATH);
	if (tl < 0)
		SKIP(return, "%s: %s (this kernel has no CONFIG_SW_SYNC; Debian's 6.1 and 6.12 do not)",
		     SW_SYNC_PATH, strerror(errno));
	heap = open(HEAP_SYSTEM, O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		close(tl);
		SKIP(return, "%s: %s (no CONFIG_DMABUF_HEAPS_SYSTEM)",
		     HEAP_SYSTEM, strerror(errno));
	}
	ASSERT_EQ(0, ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &heap_data));
	close(heap);
	dfd = heap_data.fd;

	strcpy(cf.name, "zcbuf-test");
	ASSERT_EQ(0, ioctl(tl, ZI_SW_SYNC_IOC_CREATE_FENCE, &cf));
	isf.fd = cf.fence;
	ASSERT_EQ(0, ioctl(dfd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &isf));
	close(cf.fence);
	/* The fence is the buffer's now: its writers and readers wait. */
	ASSERT_EQ(0, poll_now(dfd, POLLIN | POLLOUT));

	ASSERT_EQ(0, zs_param_get("fence_timeout_ms", self->timeout,
				  sizeof(self->timeout)));
	/*
	 * Shorter than the wait below, so a watchdog that counted the
	 * dependency's time would fire in it; five of edu's 100 ms
	 * transfers, so the device's own frame fits after the signal.
	 */
	ASSERT_EQ(0, zs_param_set("fence_timeout_ms", "500"));
	if (tx) {
		ASSERT_EQ(0, zs_config(self->fd, &txcfg, NULL));
	} else {
		config(_metadata, self, 0);
	}
	ASSERT_EQ(0, zc_import(self->fd, dfd, &index, NULL));
	ASSERT_EQ(0, zs_streamon(self->fd));
	self->streaming = true;
	ASSERT_EQ(0, zs_qbuf(self->fd, index, tx ? 64 : 0));

	ASSERT_EQ(-ETIMEDOUT, zs_dqbuf_wait(self->fd, &d, 1200))
		TH_LOG("the device finished before the sw_sync fence signalled");
	ASSERT_EQ(ZCBUF_STATE_QUEUED, zs_state(self->fd, index));
	/* Both fences: sw_sync's and the device's, neither signalled. */
	sf = zc_export_sync_file(dfd, DMA_BUF_SYNC_RW);
	ASSERT_LE(0, sf);
	ASSERT_EQ(2, zc_sync_file_info(sf, &fi, &status));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, poll_now(sf, POLLIN));

	ASSERT_EQ(0, ioctl(tl, ZI_SW_SYNC_IOC_INC, &one));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(index, d.index);
	ASSERT_EQ(0, d.flags);
	/* Both signalled without error: the device's fence never timed out. */
	ASSERT_EQ(POLLIN, poll_now(sf, POLLIN));
	ASSERT_EQ(2, zc_sync_file_info(sf, &fi, &status));
	ASSERT_EQ(1, status);
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(dfd, POLLIN | POLLOUT));
	close(sf);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	self->streaming = false;
	ASSERT_EQ(0, zc_free(self->fd, index));
	close(dfd);
	close(tl);
}

TEST_F(fence, camera_waits_for_sw_sync_fence)
{
	waits_for_sw_sync(_metadata, self, false);
}

TEST_F(fence, tx_waits_for_sw_sync_fence)
{
	waits_for_sw_sync(_metadata, self, true);
}

TEST_HARNESS_MAIN
