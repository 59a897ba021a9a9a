// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_stream: the camera (the simulator, or $ZCBUF_TEST_DEVICE: see
 * zcbuf_helpers.h) and the streaming queue.
 *
 * Streams frames and checks each one (bytes used, zlib CRC-32 of what was
 * read after ZCBUF_SYNC_START against the device's checksum, sequence,
 * CLOCK_MONOTONIC timestamp, the frame number drawn into the picture); a
 * slow consumer (drops counted, user-owned buffers never written);
 * STREAMOFF, close and SIGKILL mid-stream (buffers back to user space,
 * nothing leaked); eventfd counts; poll(); read(); fault injection; and the
 * errno of every invalid configuration and out-of-order call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUF		4

FIXTURE(camera)
{
	int fd;
	struct zcbuf_info info;
	struct zc_test_dev td;
	uint32_t width;		/* the variant's, or the device under test's */
	uint32_t height;
	uint32_t frame_size;
	uint32_t first;
	uint8_t *map[NBUF];
	size_t size[NBUF];
};

FIXTURE_VARIANT(camera)
{
	uint32_t width;
	uint32_t height;
	uint32_t fmt;
	uint32_t alloc_flags;
};

FIXTURE_VARIANT_ADD(camera, rgb24_sg)
{
	.width = 64, .height = 48, .fmt = ZCBUF_FMT_RGB24,
};

FIXTURE_VARIANT_ADD(camera, yuyv_sg)
{
	.width = 64, .height = 48, .fmt = ZCBUF_FMT_YUYV,
};

FIXTURE_VARIANT_ADD(camera, rgb24_contig)
{
	.width = 64, .height = 48, .fmt = ZCBUF_FMT_RGB24,
	.alloc_flags = ZCBUF_ALLOC_CONTIG,
};

/* 320x240: the number drawn at scale 4, buffers of 38 pages. */
FIXTURE_VARIANT_ADD(camera, yuyv_320x240_contig)
{
	.width = 320, .height = 240, .fmt = ZCBUF_FMT_YUYV,
	.alloc_flags = ZCBUF_ALLOC_CONTIG,
};

/* Configure the camera at @fps (and @extra's fault injection fields). */
static int camera_config(FIXTURE_DATA(camera) *self,
			 const FIXTURE_VARIANT(camera) *variant, uint32_t fps,
			 const struct zcbuf_config *extra)
{
	struct zcbuf_config cfg = { 0 };
	uint32_t frame_size = 0;
	int ret;

	if (extra)
		cfg = *extra;
	cfg.personality = ZCBUF_DEV_CAMERA;
	cfg.width = self->width;
	cfg.height = self->height;
	cfg.pixelformat = variant->fmt;
	cfg.fps = fps;
	ret = zs_config(self->fd, &cfg, &frame_size);
	if (!ret && frame_size != self->frame_size)
		return -ERANGE;
	return ret;
}

FIXTURE_SETUP(camera)
{
	uint32_t i;

	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	if (!(self->info.caps & ZCBUF_CAP_CAMERA))
		SKIP(return, "no ZCBUF_CAP_CAMERA");
	if ((variant->alloc_flags & ZCBUF_ALLOC_CONTIG) &&
	    !(self->info.caps & ZCBUF_CAP_CONTIG))
		SKIP(return, "no ZCBUF_CAP_CONTIG");
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_CAMERA))
		SKIP(return, "%s is no camera", self->td.name);
	self->width = variant->width;
	self->height = variant->height;
	zc_test_frame(&self->td, &self->width, &self->height);

	ASSERT_EQ(0, zs_config_camera(self->fd, self->width, self->height,
				      variant->fmt, 0, 0, &self->frame_size));
	/* No line padding: width x height x bytes per pixel. */
	ASSERT_EQ(self->width * self->height * zs_bpp(variant->fmt),
		  self->frame_size);

	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, NBUF,
			      variant->alloc_flags, &self->first));
	for (i = 0; i < NBUF; i++) {
		self->map[i] = zc_map_buffer(self->fd, self->first + i,
					     &self->size[i]);
		ASSERT_NE(NULL, self->map[i]);
		ASSERT_LE(self->frame_size, self->size[i]);
	}
}

FIXTURE_TEARDOWN(camera)
{
	uint32_t i;

	for (i = 0; i < NBUF; i++)
		if (self->map[i])
			munmap(self->map[i], self->size[i]);
	if (self->fd >= 0)
		close(self->fd);
}

static uint32_t slot_of(FIXTURE_DATA(camera) *self, uint32_t index)
{
	return index - self->first;
}

static int queue_all(FIXTURE_DATA(camera) *self)
{
	uint32_t i;
	int ret;

	for (i = 0; i < NBUF; i++) {
		ret = zs_qbuf(self->fd, self->first + i, 0);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Check one dequeued camera frame: metadata, CRC after the CPU-side sync,
 * and the frame number in the picture.  Leaves the buffer synced for the
 * device again.
 */
static void check_frame(struct __test_metadata *_metadata,
			FIXTURE_DATA(camera) *self,
			const FIXTURE_VARIANT(camera) *variant,
			const struct zcbuf_dqbuf *d, uint32_t flags)
{
	uint64_t now = zs_now_ns();
	uint32_t slot = slot_of(self, d->index);
	long long number;

	ASSERT_LT(slot, NBUF) TH_LOG("index %u", d->index);
	ASSERT_EQ(flags, d->flags);
	ASSERT_EQ(self->frame_size, d->bytesused);
	ASSERT_EQ(0, d->npackets);
	ASSERT_EQ(0, d->reserved[0]);
	ASSERT_EQ(0, d->reserved[1]);
	ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, d->index));
	/* CLOCK_MONOTONIC of the completion: in the recent past. */
	ASSERT_LE(d->timestamp_ns, now);
	ASSERT_GT(d->timestamp_ns + ZS_MAX_AGE_NS, now)
		TH_LOG("frame %llu is %llu ns old", (unsigned long long)d->sequence,
		       (unsigned long long)(now - d->timestamp_ns));

	ASSERT_EQ(0, zs_sync(self->fd, d->index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, d->bytesused));
	ASSERT_EQ(d->checksum, zs_crc32(self->map[slot], d->bytesused))
		TH_LOG("frame %llu in buffer %u", (unsigned long long)d->sequence,
		       d->index);
	number = zs_read_number(self->map[slot], self->width,
				self->height, variant->fmt);
	ASSERT_EQ((long long)(d->sequence % 100000000ULL), number);
	ASSERT_EQ(0, zs_check_picture(self->map[slot], self->width,
				      self->height, variant->fmt, d->sequence))
		TH_LOG("frame %llu: colour bars (-1) or moving box (-2) wrong",
		       (unsigned long long)d->sequence);
	ASSERT_EQ(0, zs_sync(self->fd, d->index,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0, d->bytesused));
}

/* Wait until the device holds no buffer (all DONE or USER). */
static int wait_idle(int fd)
{
	struct zcbuf_stats st;
	int i, ret;

	for (i = 0; i < ZS_WAIT_MS / 10; i++) {
		ret = zs_stats(fd, &st);
		if (ret)
			return ret;
		if (!st.queued)
			return 0;
		zs_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/*
 * fps = 0: one frame per queued buffer, none dropped.  Every frame exact,
 * sequence 0, 1, 2, ..., timestamps monotonic, the picture changes.
 */
TEST_F(camera, stream_verify)
{
	const int frames = zc_test_frames(&self->td, 24);
	uint64_t last_ts = 0;
	uint32_t last_crc = 0;
	struct zcbuf_stats st;
	int n;

	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < frames; n++) {
		struct zcbuf_dqbuf d;

		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		check_frame(_metadata, self, variant, &d, 0);
		ASSERT_EQ((uint64_t)n, d.sequence);
		ASSERT_LE(last_ts, d.timestamp_ns);
		/* The box moves and the number changes: no two frames alike. */
		if (n)
			ASSERT_NE(last_crc, d.checksum);
		last_ts = d.timestamp_ns;
		last_crc = d.checksum;
		if (n + NBUF < frames)
			ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ((uint64_t)frames, st.frames);
	ASSERT_EQ((uint64_t)frames * self->frame_size, st.bytes);
	ASSERT_EQ(0, st.errors);
	ASSERT_EQ(0, st.drops_no_buffer);
	ASSERT_EQ(0, st.drops_injected);
	ASSERT_EQ(0, st.queued);
	ASSERT_EQ(0, st.done);
	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &(struct zcbuf_dqbuf){ 0 }));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * ZCBUF_CFG_NO_CHECKSUM: the device computes no CRC-32 and leaves DQBUF's
 * checksum 0; the frames are the same.  The picture depends on the frame
 * number only, so a first stream with checksums says what every frame must
 * be: the stream without must match it byte for byte (its CRC-32, computed
 * here).  A CONFIG refused in between leaves the configuration (the flag
 * included) as it was.
 */
TEST_F(camera, no_checksum)
{
	const int frames = zc_test_frames(&self->td, 8);
	struct zcbuf_config cfg = { .flags = ZCBUF_CFG_NO_CHECKSUM }, bad;
	uint32_t crc[8], fs = 0;
	struct zcbuf_dqbuf d;
	int run, n;

	ASSERT_NE(0, self->info.caps & ZCBUF_CAP_NO_CHECKSUM);
	for (run = 0; run < 2; run++) {
		if (run) {
			ASSERT_EQ(0, camera_config(self, variant, 0, &cfg));
			bad = (struct zcbuf_config){
				.personality = ZCBUF_DEV_NONE,
				.flags = ZCBUF_CFG_NO_CHECKSUM,
			};
			ASSERT_EQ(-EINVAL, zs_config(self->fd, &bad, &fs));
			bad = (struct zcbuf_config){
				.personality = ZCBUF_DEV_CAMERA,
				.flags = ZCBUF_CFG_NO_CHECKSUM | 1U << 2,
				.width = 16, .height = 16,
				.pixelformat = ZCBUF_FMT_YUYV,
			};
			ASSERT_EQ(-EINVAL, zs_config(self->fd, &bad, &fs));
			ASSERT_EQ(0U, fs);
		}
		ASSERT_EQ(0, queue_all(self));
		ASSERT_EQ(0, zs_streamon(self->fd));
		for (n = 0; n < frames; n++) {
			uint32_t slot;

			ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
			ASSERT_EQ((uint64_t)n, d.sequence);
			slot = slot_of(self, d.index);
			if (!run) {
				check_frame(_metadata, self, variant, &d, 0);
				crc[n] = d.checksum;
			} else {
				ASSERT_EQ(0U, d.flags);
				ASSERT_EQ(0U, d.checksum);
				ASSERT_EQ(self->frame_size, d.bytesused);
				ASSERT_EQ(0, zs_sync(self->fd, d.index,
						     ZCBUF_SYNC_START |
						     ZCBUF_SYNC_READ, 0,
						     d.bytesused));
				ASSERT_EQ(crc[n], zs_crc32(self->map[slot],
							   d.bytesused))
					TH_LOG("frame %d", n);
				ASSERT_EQ(0, zs_sync(self->fd, d.index,
						     ZCBUF_SYNC_END |
						     ZCBUF_SYNC_READ, 0,
						     d.bytesused));
			}
			if (n + NBUF < frames)
				ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
		}
		ASSERT_EQ(0, zs_streamoff(self->fd));
	}
	/* Without the flag again, the checksums come back. */
	ASSERT_EQ(0, camera_config(self, variant, 0, NULL));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(crc[0], d.checksum);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * 200 fps (or the device's most), two buffers, a consumer that holds each
 * frame for 10 frame periods (at least 3): the device drops frames for want
 * of a buffer, counts them, the sequence shows the gaps, and a buffer user
 * space holds is never written.
 */
TEST_F(camera, slow_consumer)
{
	const uint32_t fps = zc_test_fps(&self->td, 200);
	const unsigned int hold_ms = fps >= 60 || !fps ? 50 : 3000 / fps;
	const int frames = zc_test_frames(&self->td, 8);
	const uint8_t canary = 0x5a;
	uint64_t last_seq = 0, gaps = 0, dequeued = 0;
	struct zcbuf_stats st;
	bool first = true;
	int n;

	ASSERT_EQ(0, camera_config(self, variant, fps, NULL));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));

	for (n = 0; n < frames; n++) {
		struct zcbuf_dqbuf d;
		uint32_t slot;
		long bad;

		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		check_frame(_metadata, self, variant, &d, 0);
		if (!first)
			ASSERT_LT(last_seq, d.sequence);
		gaps += d.sequence - (first ? 0 : last_seq + 1);
		last_seq = d.sequence;
		first = false;
		dequeued++;

		/* Ours now, for a while, with a canary in it. */
		slot = slot_of(self, d.index);
		memset(self->map[slot], canary, self->size[slot]);
		zs_sleep_ms(hold_ms);
		ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, d.index));
		for (bad = 0; bad < (long)self->size[slot]; bad++)
			if (self->map[slot][bad] != canary)
				break;
		ASSERT_EQ((long)self->size[slot], bad)
			TH_LOG("user-owned buffer %u written at byte %ld",
			       d.index, bad);
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}

	/* Take back what is still out, then count. */
	ASSERT_EQ(0, wait_idle(self->fd));
	for (;;) {
		struct zcbuf_dqbuf d;
		int ret = zs_dqbuf(self->fd, &d);

		if (ret == -EAGAIN)
			break;
		ASSERT_EQ(0, ret);
		check_frame(_metadata, self, variant, &d, 0);
		ASSERT_LT(last_seq, d.sequence);
		gaps += d.sequence - last_seq - 1;
		last_seq = d.sequence;
		dequeued++;
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(dequeued, st.frames);
	ASSERT_EQ(0, st.errors);
	ASSERT_EQ(0, st.drops_injected);
	ASSERT_LT(0, gaps);
	/* Every gap is a drop; drops after the last frame add to the count. */
	ASSERT_LE(gaps, st.drops_no_buffer);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * STREAMOFF with buffers queued, in the device and done: all come back to
 * ZCBUF_STATE_USER, nothing is left to dequeue, read() says EPIPE, the
 * device writes nothing afterwards, and FREE works.
 */
TEST_F(camera, streamoff_midstream)
{
	struct zcbuf_dqbuf d;
	struct zcbuf_stats st;
	char byte;
	uint32_t i;
	long j;

	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	check_frame(_metadata, self, variant, &d, 0);
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));

	ASSERT_EQ(0, zs_streamoff(self->fd));
	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->first + i));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(0, st.queued);
	ASSERT_EQ(0, st.done);
	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(0, zs_poll_in(self->fd, 0));
	ASSERT_EQ(-1, read(self->fd, &byte, 1));
	ASSERT_EQ(EPIPE, errno);
	/* A second STREAMOFF is harmless. */
	ASSERT_EQ(0, zs_streamoff(self->fd));

	/* The device has let go: a canary in every buffer survives. */
	for (i = 0; i < NBUF; i++)
		memset(self->map[i], 0xc3, self->size[i]);
	zs_sleep_ms(50);
	for (i = 0; i < NBUF; i++) {
		for (j = 0; j < (long)self->size[i]; j++)
			if (self->map[i][j] != 0xc3)
				break;
		ASSERT_EQ((long)self->size[i], j) TH_LOG("buffer %u byte %ld", i, j);
	}

	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(0, zc_free(self->fd, self->first + i));
	ASSERT_EQ(-EINVAL, zs_state(self->fd, self->first));
}

/* STREAMON after STREAMOFF: the sequence restarts at 0, counters cleared. */
TEST_F(camera, restart)
{
	struct zcbuf_dqbuf d;
	struct zcbuf_stats st;
	int n;

	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < (int)zc_test_frames(&self->td, 6); n++) {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_EQ(-EBUSY, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_streamoff(self->fd));

	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	check_frame(_metadata, self, variant, &d, 0);
	ASSERT_EQ(0, d.sequence);
	ASSERT_EQ(0, wait_idle(self->fd));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(NBUF, st.frames);
	ASSERT_EQ(NBUF - 1, st.done);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * close() while streaming: the device stops (no more completions on the
 * eventfd), the mappings stay valid, and once they and the exported fd are
 * gone the module holds nothing (its refcount is back where it was).
 */
TEST_F(camera, close_midstream)
{
	long refcnt = zs_module_refcnt();
	long long buffers = zs_debug_counter("buffers");
	uint8_t *map[NBUF];
	size_t size[NBUF];
	struct zcbuf_dqbuf d;
	uint64_t count;
	uint32_t first, i;
	int fd, efd, dbfd;

	ASSERT_LT(0, refcnt);
	fd = zc_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, zs_config_camera(fd, self->width, self->height,
				      variant->fmt, 0, 0, NULL));
	ASSERT_EQ(0, zc_alloc(fd, self->frame_size, NBUF, variant->alloc_flags,
			      &first));
	for (i = 0; i < NBUF; i++) {
		map[i] = zc_map_buffer(fd, first + i, &size[i]);
		ASSERT_NE(NULL, map[i]);
	}
	dbfd = zc_export(fd, first, ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, dbfd);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, zs_set_eventfd(fd, efd));
	for (i = 0; i < NBUF; i++)
		ASSERT_EQ(0, zs_qbuf(fd, first + i, 0));
	ASSERT_EQ(0, zs_streamon(fd));
	ASSERT_EQ(0, zs_dqbuf_wait(fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_qbuf(fd, d.index, 0));

	ASSERT_EQ(0, close(fd));
	/* Stopped: whatever was counted stays, nothing more comes. */
	while (read(efd, &count, sizeof(count)) == sizeof(count))
		;
	zs_sleep_ms(50);
	ASSERT_EQ(-1, read(efd, &count, sizeof(count)));
	ASSERT_EQ(EAGAIN, errno);

	for (i = 0; i < NBUF; i++) {
		ASSERT_EQ(0, zs_touch(map[i], false, 0));
		ASSERT_EQ(0, zs_touch(map[i] + size[i] - 1, true, 0x11));
		ASSERT_EQ(0, munmap(map[i], size[i]));
	}
	ASSERT_EQ(0, close(dbfd));
	ASSERT_EQ(0, close(efd));
	ASSERT_EQ(refcnt, zs_wait_refcnt(refcnt, 2000));
	ASSERT_EQ(buffers, zs_debug_counter("buffers"));
}

/*
 * A child streaming with buffers mapped and exported is SIGKILLed: every
 * buffer and DMA-buf it had goes away (the module's refcount and, where
 * debugfs has them, its live-object counters are back where they were), and
 * the module still works.  Three times, so that a leak adds up.
 */
TEST_F(camera, sigkill_midstream)
{
	const uint32_t child_bufs = 24;
	const uint64_t child_size = 2 << 20;	/* 48 MiB in all */
	long refcnt = zs_module_refcnt();
	long long contexts = zs_debug_counter("contexts");
	long long buffers = zs_debug_counter("buffers");
	long long bytes = zs_debug_counter("buffer_bytes");
	struct zcbuf_dqbuf d;
	int status, pipefd[2], round;
	struct pollfd p;
	pid_t pid;
	char c;

	ASSERT_LT(0, refcnt);
	if ((uint64_t)child_bufs * child_size > self->info.max_total_size ||
	    child_bufs > self->info.max_buffers || child_size > self->info.max_buffer_size)
		SKIP(return, "module limits below 48 MiB per context");

	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			uint32_t first, i;
			int fd, efd;

			close(pipefd[0]);
			fd = zc_open();
			if (fd < 0 ||
			    zs_config_camera(fd, self->width, self->height,
					     variant->fmt, 0, 0, NULL) ||
			    zc_alloc(fd, child_size, child_bufs, 0, &first))
				_exit(1);
			for (i = 0; i < child_bufs; i++) {
				uint8_t *m = zc_map_buffer(fd, first + i, NULL);

				if (!m)
					_exit(2);
				m[0] = 1;	/* fault it in */
				if (i < 2 &&
				    zc_export(fd, first + i, ZCBUF_EXPORT_RDWR) < 0)
					_exit(3);
				if (zs_qbuf(fd, first + i, 0))
					_exit(4);
			}
			efd = eventfd(0, 0);
			if (efd < 0 || zs_set_eventfd(fd, efd) || zs_streamon(fd))
				_exit(5);
			for (i = 0; i < 4; i++) {
				if (zs_dqbuf_wait(fd, &d, ZS_WAIT_MS) ||
				    zs_qbuf(fd, d.index, 0))
					_exit(6);
			}
			if (write(pipefd[1], "r", 1) != 1)
				_exit(7);
			for (;;) {
				if (!zs_dqbuf_wait(fd, &d, ZS_WAIT_MS))
					zs_qbuf(fd, d.index, 0);
			}
		}

		close(pipefd[1]);
		p = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
		ASSERT_EQ(1, poll(&p, 1, 20000));
		ASSERT_EQ(1, read(pipefd[0], &c, 1)) {
			waitpid(pid, &status, 0);
			TH_LOG("child exited with status %d before streaming",
			       WEXITSTATUS(status));
		}
		close(pipefd[0]);
		zs_sleep_ms(20);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_EQ(SIGKILL, WTERMSIG(status));

		/* Its open file and every DMA-buf of its buffers are gone. */
		ASSERT_EQ(refcnt, zs_wait_refcnt(refcnt, 2000)) TH_LOG("round %d", round);
		ASSERT_EQ(contexts, zs_debug_counter("contexts"));
		ASSERT_EQ(buffers, zs_debug_counter("buffers"));
		ASSERT_EQ(bytes, zs_debug_counter("buffer_bytes"));
	}

	/* The module streams as before. */
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	check_frame(_metadata, self, variant, &d, 0);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * The eventfd counts one per completion: exactly N for N frames; after
 * removing it (-1) it counts nothing; a replacement gets the new counts.
 */
TEST_F(camera, eventfd_counts)
{
	const uint64_t frames = zc_test_frames(&self->td, 16);
	uint64_t counted = 0, dequeued = 0, queued = NBUF, count;
	struct zcbuf_stats st;
	struct zcbuf_dqbuf d;
	int efd, efd2;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, zs_set_eventfd(self->fd, efd));
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));

	while (dequeued < frames) {
		struct pollfd p = { .fd = efd, .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, ZS_WAIT_MS));
		ASSERT_EQ(sizeof(count), read(efd, &count, sizeof(count)));
		ASSERT_LT(0, count);
		counted += count;
		while (!zs_dqbuf(self->fd, &d)) {
			check_frame(_metadata, self, variant, &d, 0);
			dequeued++;
			if (queued < frames) {
				ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
				queued++;
			}
		}
	}
	ASSERT_EQ(frames, dequeued);
	if (read(efd, &count, sizeof(count)) == sizeof(count))
		counted += count;
	ASSERT_EQ(frames, counted);
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(frames, st.frames);

	/* Removed: one more frame, no count. */
	ASSERT_EQ(0, zs_set_eventfd(self->fd, -1));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(-1, read(efd, &count, sizeof(count)));
	ASSERT_EQ(EAGAIN, errno);

	/* Replaced: the new one counts, the old one does not. */
	efd2 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd2);
	ASSERT_EQ(0, zs_set_eventfd(self->fd, efd));
	ASSERT_EQ(0, zs_set_eventfd(self->fd, efd2));
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(-1, read(efd, &count, sizeof(count)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(sizeof(count), read(efd2, &count, sizeof(count)));
	ASSERT_EQ(1, count);
	/* The context holds its own reference: closing ours changes nothing. */
	ASSERT_EQ(0, close(efd2));
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, close(efd));
}

/* poll(): POLLIN exactly while a buffer is DONE. */
TEST_F(camera, poll_pollin)
{
	struct zcbuf_dqbuf d;
	int n = 0;

	/* Queued, not streaming: nothing completes. */
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_poll_in(self->fd, 100));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(1, zs_poll_in(self->fd, ZS_WAIT_MS));

	/* Drain all four; with none queued, poll stays quiet. */
	ASSERT_EQ(0, wait_idle(self->fd));
	while (!zs_dqbuf(self->fd, &d)) {
		check_frame(_metadata, self, variant, &d, 0);
		n++;
	}
	ASSERT_EQ(NBUF, n);
	ASSERT_EQ(0, zs_poll_in(self->fd, 100));

	/* One buffer: poll sleeps until it completes. */
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	ASSERT_EQ(1, zs_poll_in(self->fd, ZS_WAIT_MS));
	/* DONE is not the user's yet: FREE refuses it. */
	ASSERT_EQ(ZCBUF_STATE_DONE, zs_state(self->fd, d.index));
	ASSERT_EQ(-EBUSY, zc_free(self->fd, d.index));
	ASSERT_EQ(0, zs_dqbuf(self->fd, &d));
	ASSERT_EQ((uint64_t)NBUF, d.sequence);
	ASSERT_EQ(0, zs_poll_in(self->fd, 0));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * read(): copies the oldest frame (bytesused bytes) and requeues its buffer.
 * The camera's picture depends only on the frame number, so the i-th frame
 * read after STREAMON is byte for byte the i-th frame of a DQBUF stream: its
 * CRC equals that frame's checksum and its drawn number is i.
 */
TEST_F(camera, read_copy_path)
{
	const int frames = zc_test_frames(&self->td, 10);
	uint32_t checksum[10];
	size_t len = self->frame_size + 4096;
	struct zcbuf_dqbuf d;
	uint8_t *frame;
	int n, flags;

	frame = malloc(len);
	ASSERT_NE(NULL, frame);

	/* Reference checksums through DQBUF. */
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < frames; n++) {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		check_frame(_metadata, self, variant, &d, 0);
		ASSERT_EQ((uint64_t)n, d.sequence);
		checksum[n] = d.checksum;
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));

	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < frames; n++) {
		memset(frame, 0xee, len);
		ASSERT_EQ((ssize_t)self->frame_size, read(self->fd, frame, len));
		ASSERT_EQ(n, zs_read_number(frame, self->width,
					    self->height, variant->fmt));
		ASSERT_EQ(checksum[n], zs_crc32(frame, self->frame_size));
		/* Not a byte more than bytesused. */
		ASSERT_EQ(0xee, frame[self->frame_size]);
	}
	/* A short read copies the start of the next frame and no more. */
	memset(frame, 0xee, len);
	ASSERT_EQ(100, read(self->fd, frame, 100));
	ASSERT_EQ(0xee, frame[100]);

	/* Not streaming, nothing done: EPIPE. */
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(-1, read(self->fd, frame, len));
	ASSERT_EQ(EPIPE, errno);

	/* Streaming, no buffer queued, O_NONBLOCK: EAGAIN. */
	ASSERT_EQ(0, zs_streamon(self->fd));
	flags = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	ASSERT_EQ(-1, read(self->fd, frame, len));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	free(frame);
}

struct blocked_read {
	int fd;
	size_t len;
	ssize_t ret;
	int err;
};

static void *blocked_read_fn(void *arg)
{
	struct blocked_read *r = arg;
	char *buf = malloc(r->len);

	r->ret = read(r->fd, buf, r->len);
	r->err = errno;
	free(buf);
	return NULL;
}

/*
 * A read() blocked while streaming with nothing queued wakes up when a
 * buffer is queued (and returns that frame); another blocked read() is
 * woken by STREAMOFF and fails with EPIPE.
 */
TEST_F(camera, read_blocking)
{
	struct blocked_read r = { .fd = self->fd, .len = self->frame_size };
	pthread_t thread;

	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, pthread_create(&thread, NULL, blocked_read_fn, &r));
	zs_sleep_ms(100);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ((ssize_t)self->frame_size, r.ret) TH_LOG("errno %d", r.err);

	/* read() requeued that buffer: wait for it, take it back. */
	ASSERT_EQ(1, zs_poll_in(self->fd, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_dqbuf(self->fd, &(struct zcbuf_dqbuf){ 0 }));

	r.ret = 0;
	ASSERT_EQ(0, pthread_create(&thread, NULL, blocked_read_fn, &r));
	zs_sleep_ms(100);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(-1, r.ret);
	ASSERT_EQ(EPIPE, r.err);
}

/* error_permille = 1000: every frame completes with ZCBUF_DQ_ERROR. */
/*
 * DQBUF whose result cannot be written back (a read-only argument: EFAULT)
 * takes nothing: the frame is still DONE and the next DQBUF returns it.
 */
TEST_F(camera, dqbuf_efault_keeps_the_frame)
{
	struct zcbuf_dqbuf zero = { 0 }, *ro, d;
	struct zcbuf_stats st;

	ro = zc_ro_copy(&zero, sizeof(zero));
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, wait_idle(self->fd));
	ASSERT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_DQBUF, ro));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(NBUF, st.done);
	ASSERT_EQ(ZCBUF_STATE_DONE, zs_state(self->fd, self->first));
	ASSERT_EQ(0, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(self->first, d.index);
	ASSERT_EQ(0, d.sequence);
	check_frame(_metadata, self, variant, &d, 0);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	zc_ro_free(ro);
}

/*
 * read() into memory it cannot write (EFAULT) consumes nothing: the frame
 * is still the oldest DONE one (it used to be requeued and lost).
 */
TEST_F(camera, read_efault_keeps_the_frame)
{
	size_t page = self->info.page_size;
	struct zcbuf_stats st;
	struct zcbuf_dqbuf d;
	void *ro;

	ro = zc_ro_copy("", 1);
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, wait_idle(self->fd));
	ASSERT_EQ(-1, read(self->fd, ro, page));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(NBUF, st.done);
	ASSERT_EQ(0, st.queued);
	ASSERT_EQ(0, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(0, d.sequence);
	check_frame(_metadata, self, variant, &d, 0);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	zc_ro_free(ro);
}

struct blocked_poll {
	int fd;
	int ret;
	short revents;
};

static void *blocked_poll_fn(void *arg)
{
	struct blocked_poll *b = arg;
	struct pollfd p = { .fd = b->fd, .events = POLLIN };

	b->ret = poll(&p, 1, ZS_WAIT_MS);
	b->revents = p.revents;
	return NULL;
}

/*
 * poll(): POLLERR at once when nothing is done and nothing can complete
 * (not streaming, queued or not), as videobuf2; quiet while streaming with
 * nothing done; STREAMOFF wakes a sleeping poller with POLLERR.
 */
TEST_F(camera, poll_err_when_nothing_can_complete)
{
	struct blocked_poll b = { .fd = self->fd };
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	struct zcbuf_dqbuf d;
	pthread_t thread;
	int n = 0;

	ASSERT_EQ(1, poll(&p, 1, ZS_WAIT_MS));
	ASSERT_EQ(POLLERR, p.revents);
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(1, poll(&p, 1, ZS_WAIT_MS));
	ASSERT_EQ(POLLERR, p.revents);

	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, wait_idle(self->fd));
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLIN, p.revents);
	while (!zs_dqbuf(self->fd, &d))
		n++;
	ASSERT_EQ(NBUF, n);
	/* Streaming: a QBUF may still complete, so no error. */
	ASSERT_EQ(0, poll(&p, 1, 100));

	ASSERT_EQ(0, pthread_create(&thread, NULL, blocked_poll_fn, &b));
	zs_sleep_ms(100);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(1, b.ret);
	ASSERT_EQ(POLLERR, b.revents);
}

struct uffd_read {
	int fd;
	void *dst;
	size_t len;
	ssize_t ret;
	int err;
};

static void *uffd_read_fn(void *arg)
{
	struct uffd_read *r = arg;

	r->ret = read(r->fd, r->dst, r->len);
	r->err = errno;
	return NULL;
}

/*
 * While read() copies a frame out (held here by a userfaultfd on the
 * destination), the buffer it will queue again is claimed: STREAMOFF
 * leaves it alone and CONFIG, which would make it too small, is refused
 * (EBUSY); afterwards read() queues it again for the same configuration.
 */
TEST_F(camera, read_requeue_keeps_the_configuration)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_zeropage zp = { 0 };
	struct uffd_read r = { .fd = self->fd };
	struct pollfd p;
	struct uffd_msg msg;
	size_t page = self->info.page_size;
	size_t len = (self->frame_size + page - 1) / page * page;
	pthread_t thread;
	int uffd, i, queued = 0;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	r.dst = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.dst);
	r.len = self->frame_size;
	reg.range.start = (uintptr_t)r.dst;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, wait_idle(self->fd));
	ASSERT_EQ(0, pthread_create(&thread, NULL, uffd_read_fn, &r));
	p = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, ZS_WAIT_MS));
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* The copy is stuck: stop, and try to make the buffers too small. */
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(-EBUSY, zs_config_camera(self->fd, self->width * 2,
					   self->height, variant->fmt, 0,
					   0, NULL));

	zp.range.start = (uintptr_t)r.dst;
	zp.range.len = len;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ((ssize_t)self->frame_size, r.ret) TH_LOG("errno %d", r.err);
	ASSERT_EQ(0, zs_read_number(r.dst, self->width, self->height,
				    variant->fmt));

	/* The buffer read() took went back to the device, the rest to us. */
	for (i = 0; i < NBUF; i++)
		queued += zs_state(self->fd, self->first + i) ==
			  ZCBUF_STATE_QUEUED;
	ASSERT_EQ(1, queued);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	munmap(r.dst, len);
	close(uffd);
}

TEST_F(camera, injected_errors)
{
	struct zcbuf_config extra = { .error_permille = 1000, .seed = 1 };
	const int frames = 8;
	struct zcbuf_stats st;
	struct zcbuf_dqbuf d;
	int n, ret;

	ret = camera_config(self, variant, 0, &extra);
	if (ret == -EINVAL && self->td.name)
		SKIP(return, "%s has no fault injection", self->td.name);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < frames; n++) {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		ASSERT_EQ(ZCBUF_DQ_ERROR, d.flags);
		ASSERT_EQ((uint64_t)n, d.sequence);
		if (n + NBUF < frames)
			ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ((uint64_t)frames, st.errors);
	ASSERT_EQ(0, st.frames);
	ASSERT_EQ(0, st.bytes);
	ASSERT_EQ(0, st.drops_injected);
	ASSERT_EQ(0, st.drops_no_buffer);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * drop_permille = 500 at fps 0: frames lost "on the wire" are counted as
 * injected drops, exactly as many as the sequence skips, and no frame is
 * dropped for want of a buffer (the device waits for one).
 */
TEST_F(camera, injected_drops)
{
	struct zcbuf_config extra = { .drop_permille = 500, .seed = 42 };
	const uint64_t frames = 16;
	uint64_t last_seq = 0, queued = NBUF;
	struct zcbuf_stats st;
	struct zcbuf_dqbuf d;
	uint64_t n;
	int ret;

	ret = camera_config(self, variant, 0, &extra);
	if (ret == -EINVAL && self->td.name)
		SKIP(return, "%s has no fault injection", self->td.name);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < frames; n++) {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		check_frame(_metadata, self, variant, &d, 0);
		if (n)
			ASSERT_LT(last_seq, d.sequence);
		last_seq = d.sequence;
		if (queued < frames) {
			ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
			queued++;
		}
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	ASSERT_EQ(frames, st.frames);
	ASSERT_EQ(0, st.drops_no_buffer);
	ASSERT_LT(0, st.drops_injected);
	ASSERT_EQ(last_seq + 1 - frames, st.drops_injected);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* stall_every = 3, stall_ms = 300: frames 3 and 6 come 300 ms late. */
TEST_F(camera, injected_stall)
{
	struct zcbuf_config extra = { .stall_every = 3, .stall_ms = 300 };
	uint64_t ts[7];
	struct zcbuf_dqbuf d;
	int n, ret;

	ret = camera_config(self, variant, 0, &extra);
	if (ret == -EINVAL && self->td.name)
		SKIP(return, "%s has no fault injection", self->td.name);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, queue_all(self));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < 7; n++) {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		ASSERT_EQ((uint64_t)n, d.sequence);
		ts[n] = d.timestamp_ns;
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_LE(300000000ULL, ts[3] - ts[2]);
	ASSERT_LE(300000000ULL, ts[6] - ts[5]);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* ---- errno of every invalid configuration and out-of-order call ---- */

FIXTURE(queue)
{
	int fd;
	struct zcbuf_info info;
	struct zc_test_dev td;
	uint32_t big;		/* 64 KiB buffer */
	uint32_t small;		/* one page */
};

FIXTURE_SETUP(queue)
{
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_TX))
		SKIP(return, "%s is not a camera and NIC TX", self->td.name);
	ASSERT_EQ(0, zc_alloc(self->fd, 64 << 10, 1, 0, &self->big));
	ASSERT_EQ(0, zc_alloc(self->fd, self->info.page_size, 1, 0,
			      &self->small));
}

FIXTURE_TEARDOWN(queue)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Valid for every camera: 64x48 at 10 fps (QEMU's edu runs no faster). */
static const struct zcbuf_config cam_ok = {
	.personality = ZCBUF_DEV_CAMERA, .width = 64, .height = 48,
	.pixelformat = ZCBUF_FMT_RGB24, .fps = 10,
};

static const struct zcbuf_config rx_ok = {
	.personality = ZCBUF_DEV_NIC_RX, .pkt_min = 64, .pkt_max = 1500,
	.pkts_per_buffer = 16,
};

static const struct zcbuf_config tx_ok = {
	.personality = ZCBUF_DEV_NIC_TX,
};

struct bad_config {
	const char *what;
	const struct zcbuf_config *base;
	void (*mutate)(struct zcbuf_config *cfg);
};

#define BAD(_base, _name, _stmt)					\
	static void bad_##_name(struct zcbuf_config *cfg) { _stmt; }

BAD(cam, zero_width, cfg->width = 0)
BAD(cam, odd_width, cfg->width = 65)
BAD(cam, narrow, cfg->width = 14)
BAD(cam, wide, cfg->width = 8194)
BAD(cam, zero_height, cfg->height = 0)
BAD(cam, short, cfg->height = 15)
BAD(cam, tall, cfg->height = 8193)
BAD(cam, absurd_fps, cfg->fps = 1001)
BAD(cam, huge_fps, cfg->fps = 0xffffffff)
BAD(cam, no_format, cfg->pixelformat = 0)
BAD(cam, unknown_format, cfg->pixelformat = ZCBUF_FOURCC('N', 'V', '1', '2'))
BAD(cam, unknown_personality, cfg->personality = 4)
BAD(cam, huge_personality, cfg->personality = 0x80000001)
BAD(cam, unknown_flag, cfg->flags = 1U << 2)
BAD(cam, unknown_flag_with_known,
    cfg->flags = ZCBUF_CFG_NO_CHECKSUM | ZCBUF_CFG_STRICT | 1U << 2)
BAD(cam, high_flag, cfg->flags = 1U << 31)
BAD(cam, reserved0, cfg->reserved[0] = 1)
BAD(cam, reserved2, cfg->reserved[2] = 1ULL << 63)
BAD(cam, reserved_pad, cfg->reserved0 = 1)
BAD(cam, frame_size_in, cfg->frame_size = 64 * 48 * 3)
BAD(cam, cam_pkt_min, cfg->pkt_min = 64)
BAD(cam, cam_pkt_max, cfg->pkt_max = 1500)
BAD(cam, cam_pkt_rate, cfg->pkt_rate = 10)
BAD(cam, cam_pkts_per_buffer, cfg->pkts_per_buffer = 1)
BAD(cam, drop_over, cfg->drop_permille = 1001)
BAD(cam, error_over, cfg->error_permille = 1001)
BAD(cam, jitter_over, cfg->jitter_us = 1000001)
BAD(cam, stall_over, cfg->stall_ms = 10001)
BAD(rx, rx_width, cfg->width = 64)
BAD(rx, rx_height, cfg->height = 48)
BAD(rx, rx_format, cfg->pixelformat = ZCBUF_FMT_RGB24)
BAD(rx, rx_fps, cfg->fps = 30)
BAD(rx, pkt_min_gt_max, (cfg->pkt_min = 1501, cfg->pkt_max = 1500))
BAD(rx, pkt_min_small, cfg->pkt_min = 63)
BAD(rx, pkt_min_zero, cfg->pkt_min = 0)
BAD(rx, pkt_max_big, cfg->pkt_max = 9217)
BAD(rx, no_pkts, cfg->pkts_per_buffer = 0)
BAD(rx, many_pkts, cfg->pkts_per_buffer = 4097)
BAD(rx, rx_rate, cfg->pkt_rate = 100001)
BAD(rx, rx_reserved1, cfg->reserved[1] = 1)
BAD(rx, rx_frame_size_in, cfg->frame_size = 1)
BAD(tx, tx_width, cfg->width = 64)
BAD(tx, tx_fps, cfg->fps = 1)
BAD(tx, tx_pkt_min, cfg->pkt_min = 64)
BAD(tx, tx_pkt_max, cfg->pkt_max = 64)
BAD(tx, tx_pkts_per_buffer, cfg->pkts_per_buffer = 1)
BAD(tx, tx_rate, cfg->pkt_rate = 100001)
BAD(tx, tx_unknown_flag, cfg->flags = 1U << 2)

#define BAD_ENTRY(_base, _name) { #_name, &_base##_ok, bad_##_name }

static const struct bad_config bad_configs[] = {
	BAD_ENTRY(cam, zero_width), BAD_ENTRY(cam, odd_width),
	BAD_ENTRY(cam, narrow), BAD_ENTRY(cam, wide),
	BAD_ENTRY(cam, zero_height), BAD_ENTRY(cam, short),
	BAD_ENTRY(cam, tall), BAD_ENTRY(cam, absurd_fps),
	BAD_ENTRY(cam, huge_fps), BAD_ENTRY(cam, no_format),
	BAD_ENTRY(cam, unknown_format), BAD_ENTRY(cam, unknown_personality),
	BAD_ENTRY(cam, huge_personality), BAD_ENTRY(cam, unknown_flag),
	BAD_ENTRY(cam, high_flag), BAD_ENTRY(cam, unknown_flag_with_known),
	BAD_ENTRY(cam, reserved0),
	BAD_ENTRY(cam, reserved2), BAD_ENTRY(cam, reserved_pad),
	BAD_ENTRY(cam, frame_size_in),
	BAD_ENTRY(cam, cam_pkt_min), BAD_ENTRY(cam, cam_pkt_max),
	BAD_ENTRY(cam, cam_pkt_rate), BAD_ENTRY(cam, cam_pkts_per_buffer),
	BAD_ENTRY(cam, drop_over), BAD_ENTRY(cam, error_over),
	BAD_ENTRY(cam, jitter_over), BAD_ENTRY(cam, stall_over),
	BAD_ENTRY(rx, rx_width), BAD_ENTRY(rx, rx_height),
	BAD_ENTRY(rx, rx_format), BAD_ENTRY(rx, rx_fps),
	BAD_ENTRY(rx, pkt_min_gt_max), BAD_ENTRY(rx, pkt_min_small),
	BAD_ENTRY(rx, pkt_min_zero), BAD_ENTRY(rx, pkt_max_big),
	BAD_ENTRY(rx, no_pkts), BAD_ENTRY(rx, many_pkts),
	BAD_ENTRY(rx, rx_rate), BAD_ENTRY(rx, rx_reserved1),
	BAD_ENTRY(rx, rx_frame_size_in),
	BAD_ENTRY(tx, tx_width), BAD_ENTRY(tx, tx_fps),
	BAD_ENTRY(tx, tx_pkt_min), BAD_ENTRY(tx, tx_pkt_max),
	BAD_ENTRY(tx, tx_pkts_per_buffer), BAD_ENTRY(tx, tx_rate),
	BAD_ENTRY(tx, tx_unknown_flag),
};

/* Each bad field alone is EINVAL; the valid base around it is accepted. */
TEST_F(queue, config_invalid)
{
	bool rx = zc_test_device_has(&self->td, ZCBUF_KIND_NIC_RX);
	size_t i;

	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
	if (rx) {
		ASSERT_EQ(0, zs_config(self->fd, &rx_ok, NULL));
	} else {
		TH_LOG("%s has no NIC RX: its configurations not checked",
		       self->td.name);
	}
	ASSERT_EQ(0, zs_config(self->fd, &tx_ok, NULL));
	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		struct zcbuf_config cfg = *bad_configs[i].base;

		if (bad_configs[i].base == &rx_ok && !rx)
			continue;
		bad_configs[i].mutate(&cfg);
		EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL))
			TH_LOG("config %s accepted", bad_configs[i].what);
	}
	/* A refused CONFIG leaves a usable context behind. */
	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
}

/* The extremes that are allowed, and the frame size each one reports. */
TEST_F(queue, config_limits)
{
	struct zcbuf_config cfg;
	uint32_t fs;

	/* These are the simulator's: another device reports its own. */
	if (self->td.name && self->td.desc.max_width < 8192)
		SKIP(return, "%s takes frames up to %ux%u, not 8192x8192",
		     self->td.name, self->td.desc.max_width,
		     self->td.desc.max_height);
	cfg = cam_ok;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	ASSERT_EQ(64 * 48 * 3, fs);
	cfg.pixelformat = ZCBUF_FMT_YUYV;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	ASSERT_EQ(64 * 48 * 2, fs);
	cfg.width = 16, cfg.height = 16, cfg.fps = 1000;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	ASSERT_EQ(16 * 16 * 2, fs);
	cfg.width = 8192, cfg.height = 8192, cfg.fps = 0;
	cfg.pixelformat = ZCBUF_FMT_RGB24;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	ASSERT_EQ(8192U * 8192 * 3, fs);
	cfg = cam_ok;
	cfg.drop_permille = cfg.error_permille = 1000;
	cfg.jitter_us = 1000000, cfg.stall_every = 1, cfg.stall_ms = 10000;
	cfg.seed = ~0ULL;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));

	cfg = rx_ok;
	cfg.pkt_min = cfg.pkt_max = ZCBUF_PKT_MIN;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	cfg.pkt_min = cfg.pkt_max = ZCBUF_PKT_MAX;
	cfg.pkts_per_buffer = 4096, cfg.pkt_rate = 100000;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	/* Room for the descriptor table and one largest packet at least. */
	ASSERT_LE(4096 * sizeof(struct zcbuf_pkt_desc) + ZCBUF_PKT_MAX, fs);

	cfg = tx_ok;
	cfg.pkt_rate = 100000;
	ASSERT_EQ(0, zs_config(self->fd, &cfg, &fs));
	ASSERT_LE(1, fs);

	ASSERT_EQ(0, zs_config_none(self->fd));
}

/*
 * ZCBUF_DEV_NONE uses no field: any of them set is EINVAL as well, the
 * flags too (no device: nothing to be strict about or to checksum).
 */
TEST_F(queue, config_none_fields)
{
	struct zcbuf_config cfg = { .personality = ZCBUF_DEV_NONE };

	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	cfg.flags = ZCBUF_CFG_STRICT;
	EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
	cfg.flags = ZCBUF_CFG_NO_CHECKSUM;
	EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
	cfg.flags = 1U << 2;
	EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
	cfg.flags = 0;
	cfg.frame_size = 1;
	EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
	cfg.frame_size = 0;
	cfg.width = 64;
	EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL))
		TH_LOG("ZCBUF_DEV_NONE with width set accepted");
	cfg.width = 0;
	cfg.fps = 30;
	EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL))
		TH_LOG("ZCBUF_DEV_NONE with fps set accepted");
}

/* CONFIG only while not streaming and with nothing queued or done. */
TEST_F(queue, config_busy)
{
	struct zcbuf_dqbuf d;

	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->big, 0));
	ASSERT_EQ(-EBUSY, zs_config(self->fd, &cam_ok, NULL));
	ASSERT_EQ(-EBUSY, zs_config_none(self->fd));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(-EBUSY, zs_config(self->fd, &tx_ok, NULL));
	/* Done, not yet dequeued: still busy. */
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	ASSERT_EQ(1, zs_poll_in(self->fd, ZS_WAIT_MS));
	ASSERT_EQ(-EBUSY, zs_config(self->fd, &cam_ok, NULL));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, zs_config(self->fd, &tx_ok, NULL));
	/* Streaming with nothing queued: busy all the same. */
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(-EBUSY, zs_config(self->fd, &tx_ok, NULL));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, zs_config_none(self->fd));
}

/*
 * CONFIG whose frame_size cannot be written back (EFAULT) configures
 * nothing: unconfigured stays unconfigured, TX stays TX.
 */
TEST_F(queue, config_efault_commits_nothing)
{
	struct zcbuf_config *ro;

	ro = zc_ro_copy(&cam_ok, sizeof(cam_ok));
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_CONFIG, ro));
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->big, 0));
	ASSERT_EQ(-EINVAL, zs_streamon(self->fd));

	ASSERT_EQ(0, zs_config(self->fd, &tx_ok, NULL));
	ASSERT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_CONFIG, ro));
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->big, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->big, 100));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	/* And nothing is left busy. */
	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
	zc_ro_free(ro);
}

/*
 * At most max_streams streams run at once, all contexts together (each
 * runs a device thread); STREAMOFF and close make room again.
 */
TEST_F(queue, streams_bounded)
{
	int fds[3], on[5], i;
	char old[32];

	ASSERT_EQ(0, zs_param_get("max_streams", old, sizeof(old)));
	for (i = 0; i < 3; i++) {
		fds[i] = zc_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, zs_config(fds[i], &cam_ok, NULL));
	}
	ASSERT_EQ(0, zs_param_set("max_streams", "2"));
	on[0] = zs_streamon(fds[0]);
	on[1] = zs_streamon(fds[1]);
	on[2] = zs_streamon(fds[2]);
	zs_streamoff(fds[0]);
	on[3] = zs_streamon(fds[2]);
	close(fds[1]);
	on[4] = zs_streamon(fds[0]);
	/* Restored before any assertion can end the test. */
	ASSERT_EQ(0, zs_param_set("max_streams", old));
	close(fds[0]);
	close(fds[2]);
	ASSERT_EQ(0, on[0]);
	ASSERT_EQ(0, on[1]);
	ASSERT_EQ(-EBUSY, on[2]);
	ASSERT_EQ(0, on[3]);
	ASSERT_EQ(0, on[4]);
}

TEST_F(queue, qbuf_errors)
{
	struct zcbuf_qbuf req = { .index = self->big, .flags = 1 };

	/* Unconfigured: nothing can hold a frame. */
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->big, 0));
	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
	/* 64x48 RGB24 is 9216 bytes: one page is too small. */
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->small, 0));
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, 12345, 0));
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_QBUF, &req));
	/* bytesused is TX's only. */
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->big, 9216));
	ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->big));

	ASSERT_EQ(0, zs_qbuf(self->fd, self->big, 0));
	ASSERT_EQ(ZCBUF_STATE_QUEUED, zs_state(self->fd, self->big));
	ASSERT_EQ(-EBUSY, zs_qbuf(self->fd, self->big, 0));
	ASSERT_EQ(-EBUSY, zc_free(self->fd, self->big));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->big));

	/* TX: 1 to the buffer size bytes. */
	ASSERT_EQ(0, zs_config(self->fd, &tx_ok, NULL));
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->small, 0));
	ASSERT_EQ(-EINVAL, zs_qbuf(self->fd, self->small,
				   self->info.page_size + 1));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->small, self->info.page_size));
	ASSERT_EQ(-EBUSY, zs_qbuf(self->fd, self->small, 1));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

TEST_F(queue, streamon_errors)
{
	struct zcbuf_stream req = { .flags = 1 };

	ASSERT_EQ(-EINVAL, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_STREAMON, &req));
	req = (struct zcbuf_stream){ .reserved = 1 };
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_STREAMON, &req));
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_STREAMOFF, &req));
	req = (struct zcbuf_stream){ .flags = 1U << 31 };
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_STREAMOFF, &req));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(-EBUSY, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, zs_config_none(self->fd));
	ASSERT_EQ(-EINVAL, zs_streamon(self->fd));
}

TEST_F(queue, dqbuf_errors)
{
	struct zcbuf_dqbuf d;

	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(0, zs_config(self->fd, &cam_ok, NULL));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));
	memset(&d, 0, sizeof(d));
	d.flags = ZCBUF_DQ_ERROR;
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_DQBUF, &d));
	memset(&d, 0, sizeof(d));
	d.reserved[1] = 1;
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_DQBUF, &d));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

TEST_F(queue, eventfd_errors)
{
	struct zcbuf_eventfd req;
	int pipefd[2], efd, closed;

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-EINVAL, zs_set_eventfd(self->fd, pipefd[0]));
	ASSERT_EQ(-EINVAL, zs_set_eventfd(self->fd, self->fd));
	closed = pipefd[1];
	ASSERT_EQ(0, close(pipefd[1]));
	ASSERT_EQ(-EBADF, zs_set_eventfd(self->fd, closed));
	ASSERT_EQ(-EBADF, zs_set_eventfd(self->fd, -2));
	ASSERT_EQ(-EBADF, zs_set_eventfd(self->fd, 1 << 30));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	req = (struct zcbuf_eventfd){ .fd = efd, .flags = 1 };
	ASSERT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_SET_EVENTFD, &req));
	ASSERT_EQ(0, zs_set_eventfd(self->fd, efd));
	ASSERT_EQ(0, zs_set_eventfd(self->fd, -1));
	ASSERT_EQ(0, zs_set_eventfd(self->fd, -1));
	close(pipefd[0]);
	close(efd);
}

/* STATS before any stream: all zero. */
TEST_F(queue, stats_idle)
{
	struct zcbuf_stats st;

	memset(&st, 0xff, sizeof(st));
	ASSERT_EQ(0, zc_ioctl(self->fd, ZCBUF_IOC_STATS, &st));
	ASSERT_EQ(0, st.frames);
	ASSERT_EQ(0, st.bytes);
	ASSERT_EQ(0, st.errors);
	ASSERT_EQ(0, st.drops_no_buffer);
	ASSERT_EQ(0, st.drops_injected);
	ASSERT_EQ(0, st.queued);
	ASSERT_EQ(0, st.done);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(0, st.reserved[i]);
}

TEST_HARNESS_MAIN
