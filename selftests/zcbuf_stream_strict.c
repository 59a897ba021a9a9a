// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_stream_strict: strict ownership (ZCBUF_CFG_STRICT).
 *
 * While the device owns a buffer (QUEUED, DEVICE, DONE) every user mapping
 * of it, through /dev/zcbuf and through exported DMA-bufs, raises SIGBUS on
 * a touch, including mappings made after QBUF; DQBUF, STREAMOFF and close
 * give it back, and the frame read then is exactly what the device wrote.
 * For TX the mapping is revoked too, so the packet cannot change under the
 * DMA: what the device reports is what was there at QBUF.  Without the flag
 * nothing faults.  On the simulator, or on $ZCBUF_TEST_DEVICE with its small
 * frames (zcbuf_helpers.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUF		2

FIXTURE(strict)
{
	int fd;
	struct zcbuf_info info;
	struct zc_test_dev td;
	struct zcbuf_config cfg;
	uint32_t frame_size;
	uint32_t first;
	uint8_t *map[NBUF];
	size_t size[NBUF];
	int dbfd;		/* exported DMA-buf of buffer 0 */
	uint8_t *dbmap;		/* and its mapping */
};

FIXTURE_VARIANT(strict)
{
	uint32_t personality;
	uint32_t alloc_flags;
};

FIXTURE_VARIANT_ADD(strict, camera_sg)
{
	.personality = ZCBUF_DEV_CAMERA,
};

FIXTURE_VARIANT_ADD(strict, camera_contig)
{
	.personality = ZCBUF_DEV_CAMERA, .alloc_flags = ZCBUF_ALLOC_CONTIG,
};

FIXTURE_VARIANT_ADD(strict, rx_sg)
{
	.personality = ZCBUF_DEV_NIC_RX,
};

/* 64x48 frames, or the device under test's small ones. */
static struct zcbuf_config strict_config(const struct zc_test_dev *td,
					 uint32_t personality, uint32_t flags)
{
	uint32_t w = 64, h = 48;

	zc_test_frame(td, &w, &h);
	if (personality == ZCBUF_DEV_CAMERA)
		return (struct zcbuf_config){
			.personality = personality, .flags = flags,
			.width = w, .height = h,
			.pixelformat = ZCBUF_FMT_RGB24,
		};
	return (struct zcbuf_config){
		.personality = personality, .flags = flags,
		.pkt_min = 64, .pkt_max = 1024, .pkts_per_buffer = 8,
	};
}

FIXTURE_SETUP(strict)
{
	uint32_t i;

	self->dbfd = -1;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	if (!(self->info.caps & ZCBUF_CAP_STRICT))
		SKIP(return, "no ZCBUF_CAP_STRICT");
	if ((variant->alloc_flags & ZCBUF_ALLOC_CONTIG) &&
	    !(self->info.caps & ZCBUF_CAP_CONTIG))
		SKIP(return, "no ZCBUF_CAP_CONTIG");
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	/* ZCBUF_KIND_CAMERA, ZCBUF_KIND_NIC_RX: 1 << the personality. */
	if (!zc_test_device_has(&self->td, 1U << variant->personality))
		SKIP(return, "%s has no %s", self->td.name,
		     variant->personality == ZCBUF_DEV_CAMERA ? "camera" :
		     "NIC RX");

	self->cfg = strict_config(&self->td, variant->personality,
				  ZCBUF_CFG_STRICT);
	ASSERT_EQ(0, zs_config(self->fd, &self->cfg, &self->frame_size));
	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, NBUF,
			      variant->alloc_flags, &self->first));
	for (i = 0; i < NBUF; i++) {
		self->map[i] = zc_map_buffer(self->fd, self->first + i,
					     &self->size[i]);
		ASSERT_NE(NULL, self->map[i]);
		/* Fault it in: revoking must remove present PTEs too. */
		ASSERT_EQ(0, zs_touch(self->map[i], false, 0));
	}
	self->dbfd = zc_export(self->fd, self->first,
			       ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, self->dbfd);
	self->dbmap = zc_mmap(self->dbfd, self->size[0], PROT_READ | PROT_WRITE,
			      MAP_SHARED, 0);
	ASSERT_NE(NULL, self->dbmap);
	ASSERT_EQ(0, zs_touch(self->dbmap, false, 0));
}

FIXTURE_TEARDOWN(strict)
{
	uint32_t i;

	if (self->dbmap)
		munmap(self->dbmap, self->size[0]);
	if (self->dbfd >= 0)
		close(self->dbfd);
	for (i = 0; i < NBUF; i++)
		if (self->map[i])
			munmap(self->map[i], self->size[i]);
	if (self->fd >= 0)
		close(self->fd);
}

/* Every way into buffer @slot faults (reads and writes, first and last page). */
static void assert_revoked(struct __test_metadata *_metadata,
			   FIXTURE_DATA(strict) *self, uint32_t slot)
{
	uint8_t *last = self->map[slot] + self->size[slot] - 1;

	ASSERT_EQ(SIGBUS, zs_touch(self->map[slot], false, 0));
	ASSERT_EQ(SIGBUS, zs_touch(self->map[slot], true, 0x77));
	ASSERT_EQ(SIGBUS, zs_touch(last, false, 0));
	if (slot == 0) {
		ASSERT_EQ(SIGBUS, zs_touch(self->dbmap, false, 0));
		ASSERT_EQ(SIGBUS, zs_touch(self->dbmap + self->size[0] - 1,
					   true, 0x77));
	}
}

static void assert_usable(struct __test_metadata *_metadata,
			  FIXTURE_DATA(strict) *self, uint32_t slot)
{
	ASSERT_EQ(0, zs_touch(self->map[slot], false, 0));
	ASSERT_EQ(0, zs_touch(self->map[slot] + self->size[slot] - 1, false, 0));
	if (slot == 0) {
		ASSERT_EQ(0, zs_touch(self->dbmap, false, 0));
		ASSERT_EQ(0, zs_touch(self->dbmap + self->size[0] - 1, false, 0));
	}
}

/* The dequeued buffer holds exactly what the device wrote, in both mappings. */
static void assert_intact(struct __test_metadata *_metadata,
			  FIXTURE_DATA(strict) *self,
			  const struct zcbuf_dqbuf *d)
{
	uint32_t slot = d->index - self->first;
	size_t len = self->cfg.personality == ZCBUF_DEV_CAMERA ? d->bytesused :
		     d->npackets * sizeof(struct zcbuf_pkt_desc);

	ASSERT_LT(slot, NBUF);
	ASSERT_EQ(0, d->flags);
	ASSERT_NE(0, len);
	ASSERT_EQ(0, zs_sync(self->fd, d->index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, self->size[slot]));
	ASSERT_EQ(d->checksum, zs_crc32(self->map[slot], len));
	if (slot == 0)
		ASSERT_EQ(d->checksum, zs_crc32(self->dbmap, len));
	ASSERT_EQ(0, zs_sync(self->fd, d->index,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0, self->size[slot]));
}

/* QBUF revokes (before STREAMON already); DQBUF restores, frame intact. */
TEST_F(strict, qbuf_revokes_dqbuf_restores)
{
	struct zcbuf_dqbuf d;

	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	assert_revoked(_metadata, self, 0);
	/* The other buffer is still ours. */
	assert_usable(_metadata, self, 1);

	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(self->first, d.index);
	assert_usable(_metadata, self, 0);
	assert_intact(_metadata, self, &d);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* DONE is still the device's: revoked until DQBUF. */
TEST_F(strict, done_still_revoked)
{
	struct zcbuf_dqbuf d;

	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(1, zs_poll_in(self->fd, ZS_WAIT_MS));
	ASSERT_EQ(ZCBUF_STATE_DONE, zs_state(self->fd, self->first));
	assert_revoked(_metadata, self, 0);
	ASSERT_EQ(0, zs_dqbuf(self->fd, &d));
	assert_intact(_metadata, self, &d);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* Mappings and exports made while the device owns the buffer fault too. */
TEST_F(strict, new_mappings_revoked)
{
	struct zcbuf_query q;
	struct zcbuf_dqbuf d;
	uint8_t *m, *e;
	int efd;

	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zc_query(self->fd, self->first, &q));
	m = zc_mmap(self->fd, q.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    q.offset);
	ASSERT_NE(NULL, m);
	efd = zc_export(self->fd, self->first, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, efd);
	e = zc_mmap(efd, q.size, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(SIGBUS, zs_touch(m, false, 0));
	ASSERT_EQ(SIGBUS, zs_touch(e, false, 0));

	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_touch(m, false, 0));
	ASSERT_EQ(0, zs_touch(e, false, 0));
	ASSERT_EQ(0, zs_sync(self->fd, d.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, q.size));
	ASSERT_EQ(0, memcmp(m, self->map[0], q.size));
	ASSERT_EQ(0, memcmp(e, self->map[0], q.size));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	munmap(m, q.size);
	munmap(e, q.size);
	close(efd);
}

/* A stream of frames: each queued buffer faults, each dequeued one is exact. */
TEST_F(strict, stream)
{
	struct zcbuf_dqbuf d;
	int n;

	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (n = 0; n < (int)zc_test_frames(&self->td, 8); n++) {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		ASSERT_EQ((uint64_t)n, d.sequence);
		assert_usable(_metadata, self, d.index - self->first);
		assert_intact(_metadata, self, &d);
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
		assert_revoked(_metadata, self, d.index - self->first);
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* STREAMOFF gives every buffer back, mappings included. */
TEST_F(strict, streamoff_restores)
{
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	assert_revoked(_metadata, self, 0);
	assert_revoked(_metadata, self, 1);
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	assert_usable(_metadata, self, 0);
	assert_usable(_metadata, self, 1);
	/* Queued but never streamed: STREAMOFF restores as well. */
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	assert_revoked(_metadata, self, 1);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	assert_usable(_metadata, self, 1);
}

/* Closing the context with buffers queued leaves the mappings usable. */
TEST_F(strict, close_restores)
{
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	assert_revoked(_metadata, self, 0);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	assert_usable(_metadata, self, 0);
	ASSERT_EQ(0, zs_touch(self->map[0], true, 1));
	ASSERT_EQ(0, zs_touch(self->dbmap, true, 1));
}

/* Without ZCBUF_CFG_STRICT, a queued buffer stays mapped. */
TEST_F(strict, not_strict_no_fault)
{
	struct zcbuf_config cfg = strict_config(&self->td, variant->personality,
						0);
	struct zcbuf_dqbuf d;

	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 0));
	assert_usable(_metadata, self, 0);
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	assert_intact(_metadata, self, &d);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * Pages that something else references bypass the revocation: QBUF
 * refuses them with EBUSY and changes nothing (it used to queue them).
 * Here a pipe holds the pages (vmsplice); once it is drained, QBUF works.
 */
TEST_F(strict, vmspliced_pages_refused)
{
	struct iovec iov = { .iov_base = self->map[1], .iov_len = self->size[1] };
	uint8_t *sink = malloc(self->size[1]);
	int pfd[2];
	ssize_t n;

	ASSERT_NE(NULL, sink);
	ASSERT_EQ(0, pipe(pfd));
	n = vmsplice(pfd[1], &iov, 1, 0);
	ASSERT_LT(0, n) TH_LOG("vmsplice: %s", strerror(errno));
	ASSERT_EQ(-EBUSY, zs_qbuf(self->fd, self->first + 1, 0));
	ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->first + 1));
	assert_usable(_metadata, self, 1);
	ASSERT_EQ(n, read(pfd[0], sink, self->size[1]));
	close(pfd[0]);
	close(pfd[1]);
	free(sink);
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	assert_revoked(_metadata, self, 1);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* The same for an io_uring fixed buffer (a FOLL_LONGTERM pin). */
TEST_F(strict, io_uring_pinned_pages_refused)
{
	int ring;

	ring = zc_uring_pin(self->map[1], self->size[1]);
	if (ring < 0)
		SKIP(return, "io_uring cannot pin this mapping here: %s",
		     strerror(-ring));
	ASSERT_EQ(-EBUSY, zs_qbuf(self->fd, self->first + 1, 0));
	assert_usable(_metadata, self, 1);
	ASSERT_EQ(0, zc_uring_unpin(ring));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first + 1, 0));
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* Strict ownership cannot hold for pages another exporter owns. */
TEST_F(strict, import_refused)
{
	uint32_t idx;
	int fd2, dfd;

	fd2 = zc_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, zc_alloc(fd2, self->size[0], 1, 0, &idx));
	dfd = zc_export(fd2, idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, zc_import(self->fd, dfd, &idx, NULL));
	ASSERT_EQ(-EBUSY, zs_qbuf(self->fd, idx, 0));
	ASSERT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, idx));
	close(dfd);
	close(fd2);
}

/* ---- TX: the snapshot guarantee ---- */

FIXTURE(strict_tx)
{
	int fd;
	struct zcbuf_info info;
	struct zc_test_dev td;
	uint32_t first;
	uint8_t *map;
	size_t size;
	int dbfd;
	uint8_t *dbmap;
};

FIXTURE_SETUP(strict_tx)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_NIC_TX, .flags = ZCBUF_CFG_STRICT,
	};

	self->dbfd = -1;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	if (!(self->info.caps & ZCBUF_CAP_STRICT) ||
	    !(self->info.caps & ZCBUF_CAP_NIC))
		SKIP(return, "no ZCBUF_CAP_STRICT or ZCBUF_CAP_NIC");
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_NIC_TX))
		SKIP(return, "%s has no NIC TX", self->td.name);
	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zc_alloc(self->fd, 16 << 10, 1, 0, &self->first));
	self->map = zc_map_buffer(self->fd, self->first, &self->size);
	ASSERT_NE(NULL, self->map);
	self->dbfd = zc_export(self->fd, self->first,
			       ZCBUF_EXPORT_CLOEXEC | ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, self->dbfd);
	self->dbmap = zc_mmap(self->dbfd, self->size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, 0);
	ASSERT_NE(NULL, self->dbmap);
}

FIXTURE_TEARDOWN(strict_tx)
{
	if (self->dbmap)
		munmap(self->dbmap, self->size);
	if (self->dbfd >= 0)
		close(self->dbfd);
	if (self->map)
		munmap(self->map, self->size);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * After QBUF nobody can change the packet (every mapping faults, reads too:
 * revoked, not read-only); the device reports the CRC of what was there at
 * QBUF; after DQBUF the buffer is writable again and unchanged.
 */
TEST_F(strict_tx, snapshot)
{
	const size_t len = 5000;
	struct zcbuf_dqbuf d;
	uint32_t crc;

	zc_fill(self->map, self->size, 1);
	crc = zs_crc32(self->map, len);
	ASSERT_EQ(0, zs_sync(self->fd, self->first,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0, self->size));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, len));

	ASSERT_EQ(SIGBUS, zs_touch(self->map, true, 0xaa));
	ASSERT_EQ(SIGBUS, zs_touch(self->map + len - 1, true, 0xaa));
	ASSERT_EQ(SIGBUS, zs_touch(self->map, false, 0));
	ASSERT_EQ(SIGBUS, zs_touch(self->dbmap, true, 0xaa));
	ASSERT_EQ(SIGBUS, zs_touch(self->dbmap + 4096, true, 0xaa));

	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(0, d.flags);
	ASSERT_EQ(len, d.bytesused);
	ASSERT_EQ(crc, d.checksum);

	ASSERT_EQ(-1, zc_check(self->map, self->size, 1));
	ASSERT_EQ(-1, zc_check(self->dbmap, self->size, 1));
	ASSERT_EQ(0, zs_touch(self->map, true, 0xaa));
	ASSERT_EQ(0xaa, self->dbmap[0]);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/*
 * Another device mapping the buffer bypasses the revocation: here another
 * context's TX device, through an import of a read-only export (both map
 * it for reading only, which the one-writer rule allows).  QBUF refuses
 * while that mapping exists, and while the device owns the buffer no new
 * mapping of it can be made (EBUSY).
 */
TEST_F(strict_tx, other_importer_refused)
{
	struct zcbuf_config tx = { .personality = ZCBUF_DEV_NIC_TX };
	uint32_t idx;
	int fd2, ro;

	ro = zc_export(self->fd, self->first, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, ro);
	fd2 = zc_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, zs_config(fd2, &tx, NULL));
	ASSERT_EQ(0, zc_import(fd2, ro, &idx, NULL));
	ASSERT_EQ(0, zs_qbuf(fd2, idx, 64));
	ASSERT_EQ(0, zs_streamoff(fd2));
	/* Mapped as long as fd2 holds the import. */
	ASSERT_EQ(-EBUSY, zs_qbuf(self->fd, self->first, 64));
	ASSERT_EQ(0, zs_touch(self->map, true, 1));
	ASSERT_EQ(0, zc_free(fd2, idx));
	ASSERT_EQ(0, zs_qbuf(self->fd, self->first, 64));
	ASSERT_EQ(SIGBUS, zs_touch(self->map, false, 0));

	/* The device owns it now: no other device gets a mapping. */
	ASSERT_EQ(0, zc_import(fd2, ro, &idx, NULL));
	ASSERT_EQ(-EBUSY, zs_qbuf(fd2, idx, 64));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, zs_qbuf(fd2, idx, 64));
	ASSERT_EQ(0, zs_streamoff(fd2));
	close(fd2);
	close(ro);
}

TEST_HARNESS_MAIN
