// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_remove: a device goes away while contexts stream on it.
 *
 * The device is the simulator, taken away by unloading its module
 * (zcbuf_sim.ko, which unregisters it) in the middle of a stream, and
 * loaded again afterwards from $ZCBUF_DRIVERS.  Then, as the uapi says:
 * DQBUF and read() fail with ENODEV, poll() reports POLLERR | POLLHUP, the
 * eventfd is signalled, pending fences signal with -ENODEV, every buffer is
 * back with user space; mappings and exported DMA-bufs keep their data;
 * buffers can still be synced, exported and freed; blocked waiters wake;
 * and the context can configure another device (the reloaded one).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUFS	4
#define WIDTH	64
#define HEIGHT	48
#define FPS	5	/* slow: buffers stay queued, their fences pending */

FIXTURE(remove)
{
	int fd;
	int sim_id;
	int efd;
	uint32_t first;
	uint32_t frame_size;
	size_t size;
	uint8_t *map[NBUFS];
};

static int config(int fd, uint32_t device, uint32_t *frame_size)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_CAMERA, .width = WIDTH,
		.height = HEIGHT, .pixelformat = ZCBUF_FMT_RGB24, .fps = FPS,
		.device = device,
	};

	return zs_config(fd, &cfg, frame_size);
}

FIXTURE_SETUP(remove)
{
	int id, i;

	self->fd = -1;
	self->efd = -1;
	if (!zc_driver_path("zcbuf_sim", (char[256]){ 0 }, 256))
		SKIP(return, "$ZCBUF_DRIVERS does not name zcbuf_sim.ko");
	if (!zc_module_loaded("zcbuf_sim"))
		ASSERT_EQ(0, zc_module_load("zcbuf_sim", NULL));
	self->fd = zc_open();
	ASSERT_LE(0, self->fd);
	id = zc_device_find(self->fd, "sim0");
	ASSERT_LT(0, id);
	self->sim_id = id;
	ASSERT_EQ(0, config(self->fd, id, &self->frame_size));
	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, NBUFS, 0,
			      &self->first));
	for (i = 0; i < NBUFS; i++) {
		self->map[i] = zc_map_buffer(self->fd, self->first + i,
					     &self->size);
		ASSERT_NE(NULL, self->map[i]);
	}
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, zs_set_eventfd(self->fd, self->efd));
}

FIXTURE_TEARDOWN(remove)
{
	int i;

	for (i = 0; i < NBUFS; i++)
		if (self->map[i])
			munmap(self->map[i], self->size);
	if (self->efd >= 0)
		close(self->efd);
	if (self->fd >= 0)
		close(self->fd);
	/* Leave the simulator loaded, as the runner had it. */
	if (!zc_module_loaded("zcbuf_sim"))
		EXPECT_EQ(0, zc_module_load("zcbuf_sim", NULL));
}

/* Stream until one frame is done; return its index in *idx. */
static int stream_one(struct __test_metadata *_metadata,
		      FIXTURE_DATA(remove) *self, struct zcbuf_dqbuf *d)
{
	int i;

	for (i = 0; i < NBUFS; i++)
		EXPECT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	EXPECT_EQ(0, zs_streamon(self->fd));
	return zs_dqbuf_wait(self->fd, d, ZS_WAIT_MS);
}

static uint64_t drain_eventfd(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

TEST_F(remove, rmmod_midstream)
{
	uint32_t idx, queued_idx, crc;
	struct zcbuf_dqbuf d;
	struct zcbuf_stats st;
	int dmabuf, qdmabuf, sf, status = 1, i, new_fd;
	uint8_t *dmap, byte;

	ASSERT_EQ(0, stream_one(_metadata, self, &d));
	idx = d.index;
	ASSERT_EQ(0U, d.flags);
	ASSERT_EQ(0, zs_sync(self->fd, idx, ZCBUF_SYNC_START | ZCBUF_SYNC_READ,
			     0, self->frame_size));
	crc = zs_crc32(self->map[idx - self->first], self->frame_size);
	ASSERT_EQ(d.checksum, crc);

	/* A DMA-buf of the frame, and the fence of a buffer still queued. */
	dmabuf = zc_export(self->fd, idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dmabuf);
	queued_idx = idx == self->first ? self->first + 1 : self->first;
	ASSERT_EQ(ZCBUF_STATE_QUEUED, zs_state(self->fd, queued_idx));
	qdmabuf = zc_export(self->fd, queued_idx, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, qdmabuf);
	sf = zs_export_sync_file(qdmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sf);
	ASSERT_EQ(0, zs_sync_file_status(sf, &status));
	ASSERT_EQ(0, status) TH_LOG("the queued buffer's fence is not pending");
	drain_eventfd(self->efd);
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_LE(1ULL, st.queued);

	/* The device goes. */
	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	EXPECT_NE(0, access("/sys/class/zcbuf/sim0", F_OK));

	/* Waiters see it, and only an error. */
	EXPECT_EQ(POLLERR | POLLHUP,
		  ({ struct pollfd p = { .fd = self->fd, .events = POLLIN };
		     poll(&p, 1, 0) == 1 ? p.revents : 0; }));
	EXPECT_LE(1ULL, drain_eventfd(self->efd));
	EXPECT_EQ(-ENODEV, zs_dqbuf(self->fd, &d));
	EXPECT_EQ(-1, read(self->fd, &byte, 1));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, zs_qbuf(self->fd, idx, 0));
	EXPECT_EQ(-ENODEV, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(0ULL, st.queued);
	EXPECT_EQ(0ULL, st.done);
	for (i = 0; i < NBUFS; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->first + i));

	/* The pending fence signalled, with the error. */
	ASSERT_EQ(0, zs_sync_file_status(sf, &status));
	EXPECT_EQ(-ENODEV, status);

	/* The data stays: through the mapping and through the DMA-buf. */
	EXPECT_EQ(crc, zs_crc32(self->map[idx - self->first],
				self->frame_size));
	dmap = zc_mmap(dmabuf, self->size, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, dmap);
	EXPECT_EQ(crc, zs_crc32(dmap, self->frame_size));
	munmap(dmap, self->size);

	/* Buffers can still be synced, exported and freed. */
	EXPECT_EQ(0, zs_sync(self->fd, idx, ZCBUF_SYNC_END | ZCBUF_SYNC_RW, 0,
			     self->frame_size));
	new_fd = zc_export(self->fd, idx, ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
	EXPECT_LE(0, new_fd);
	if (new_fd >= 0)
		close(new_fd);
	munmap(self->map[queued_idx - self->first], self->size);
	self->map[queued_idx - self->first] = NULL;
	EXPECT_EQ(0, zc_free(self->fd, queued_idx));

	/* Another device: the simulator, loaded again, with a new id. */
	ASSERT_EQ(0, zc_module_load("zcbuf_sim", NULL));
	ASSERT_EQ(0, config(self->fd, 0, NULL));
	/* Not gone (no POLLHUP); not streaming, nothing done: POLLERR. */
	EXPECT_EQ(POLLERR, ({ struct pollfd p = { .fd = self->fd, .events = POLLIN };
			poll(&p, 1, 0) == 1 ? p.revents : 0; }));
	for (i = 0; i < NBUFS; i++)
		if (self->first + i != queued_idx)
			ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	EXPECT_EQ(0U, d.flags);
	EXPECT_EQ(0ULL, d.sequence);
	ASSERT_EQ(0, zs_streamoff(self->fd));

	close(sf);
	close(qdmabuf);
	close(dmabuf);
}

struct waiter {
	int fd;
	bool use_read;
	int result;		/* read: -errno; poll: revents */
	volatile bool done;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	if (w->use_read) {
		uint8_t buf[16];

		w->result = read(w->fd, buf, sizeof(buf)) < 0 ? -errno : 0;
	} else {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };

		w->result = poll(&p, 1, 30000) == 1 ? p.revents : -ETIMEDOUT;
	}
	w->done = true;
	return NULL;
}

/* A reader blocked in read() and a poller blocked in poll() both wake. */
TEST_F(remove, blocked_waiters_wake)
{
	struct waiter r = { .fd = self->fd, .use_read = true };
	struct waiter p = { .fd = self->fd };
	pthread_t tr, tp;
	struct zcbuf_dqbuf d;
	int i;

	/* Nothing queued: the stream runs, and nobody gets a frame. */
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(0, pthread_create(&tr, NULL, wait_thread, &r));
	ASSERT_EQ(0, pthread_create(&tp, NULL, wait_thread, &p));
	zs_sleep_ms(200);
	ASSERT_FALSE(r.done);
	ASSERT_FALSE(p.done);

	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	for (i = 0; i < 500 && !(r.done && p.done); i++)
		zs_sleep_ms(10);
	EXPECT_TRUE(r.done);
	EXPECT_TRUE(p.done);
	if (!r.done || !p.done) {
		/* Unstick them: a frame from the reloaded device. */
		ASSERT_EQ(0, zc_module_load("zcbuf_sim", NULL));
	}
	pthread_join(tr, NULL);
	pthread_join(tp, NULL);
	EXPECT_EQ(-ENODEV, r.result);
	EXPECT_EQ(POLLERR | POLLHUP, p.result);
}

/*
 * Configured, buffers queued before STREAMON, never started: the device
 * goes, the buffers come back; CONFIG NONE ends the ENODEV state.
 */
TEST_F(remove, rmmod_before_streamon)
{
	struct zcbuf_dqbuf d;
	int i;

	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	for (i = 0; i < NBUFS; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->first + i));
	EXPECT_EQ(-ENODEV, zs_dqbuf(self->fd, &d));
	EXPECT_EQ(-ENODEV, zs_qbuf(self->fd, self->first, 0));
	/* That id is gone (device 0 may find another camera, e.g. edu0). */
	EXPECT_EQ(-ENODEV, config(self->fd, self->sim_id, NULL));
	ASSERT_EQ(0, zs_config_none(self->fd));
	EXPECT_EQ(-EINVAL, zs_qbuf(self->fd, self->first, 0));
	EXPECT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));
	/* Every buffer still frees. */
	for (i = 0; i < NBUFS; i++) {
		munmap(self->map[i], self->size);
		self->map[i] = NULL;
		EXPECT_EQ(0, zc_free(self->fd, self->first + i));
	}
}

/* Contexts that never configured it, or configured another, are untouched. */
TEST_F(remove, other_contexts_untouched)
{
	struct zcbuf_dqbuf d;
	uint32_t idx;
	int other, id1;

	/* Two simulated devices; this context streams on sim1. */
	ASSERT_EQ(0, zs_config_none(self->fd));
	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	ASSERT_EQ(0, zc_module_load("zcbuf_sim", "nr_devices=2"));
	id1 = zc_device_find(self->fd, "sim1");
	ASSERT_LT(0, id1);
	ASSERT_EQ(0, config(self->fd, id1, NULL));
	other = zc_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, zc_alloc(other, 4096, 1, 0, &idx));

	ASSERT_EQ(0, stream_one(_metadata, self, &d));
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	/* All of them go (one module), sim1's context sees it ... */
	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	EXPECT_EQ(-ENODEV, zs_dqbuf(self->fd, &d));
	/* ... the unconfigured one does not. */
	EXPECT_EQ(-EAGAIN, zs_dqbuf(other, &d));
	/* Not gone (no POLLHUP); not streaming, nothing done: POLLERR. */
	EXPECT_EQ(POLLERR, ({ struct pollfd p = { .fd = other, .events = POLLIN };
			poll(&p, 1, 0) == 1 ? p.revents : 0; }));
	EXPECT_EQ(0, zc_free(other, idx));
	close(other);
}

TEST_HARNESS_MAIN
