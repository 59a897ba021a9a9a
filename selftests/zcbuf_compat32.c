// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_compat32: the ABI from a 32-bit process (built with -m32, run by
 * zcbuf_compat).  Every ioctl goes through the compat layer and every mmap
 * through mmap2(), whose page offset is 32 bits wide: buffers with indices
 * far beyond 4096 and the rings must still be reachable, and a camera
 * stream through the rings must deliver exact frames.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

FIXTURE(compat)
{
	int fd;
	struct zcbuf_info info;
};

FIXTURE_SETUP(compat)
{
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(compat)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(compat, is_32bit)
{
	ASSERT_EQ(4, sizeof(long));
	ASSERT_EQ(8, sizeof(off_t));
}

/*
 * Windows are handed out in turn, never reused early: after enough buffers
 * come and go, the next one's window lies above 4 GiB, out of reach of a
 * 32-bit off_t.  It is still mapped through mmap2(), and it is the buffer
 * its exported DMA-buf maps.  (As many rounds as that takes: 80 with the
 * default 64 MiB windows.)
 */
TEST_F(compat, buffer_above_4gib_maps)
{
	size_t size = 16 * self->info.page_size;
	struct zcbuf_query q;
	uint32_t idx, i;
	uint8_t *p, *d;
	int dfd;

	for (i = 0; ; i++) {
		ASSERT_GT(100000, i) TH_LOG("no window above 4 GiB");
		ASSERT_EQ(0, zc_alloc(self->fd, size, 1, 0, &idx));
		ASSERT_EQ(0, zc_query(self->fd, idx, &q));
		if (q.offset >= 1ULL << 32)
			break;
		ASSERT_EQ(0, zc_free(self->fd, idx));
	}
	TH_LOG("buffer %u after %u rounds: offset %#llx", idx, i,
	       (unsigned long long)q.offset);
	ASSERT_GT(1ULL << 44, q.offset);
	p = zc_map_buffer(self->fd, idx, NULL);
	ASSERT_NE(NULL, p) TH_LOG("mmap at %#llx: %s",
				  (unsigned long long)q.offset, strerror(errno));
	zc_fill(p, size, 5000);
	dfd = zc_export(self->fd, idx, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	d = zc_mmap(dfd, size, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, d);
	ASSERT_EQ(-1, zc_check(d, size, 5000));
	munmap(d, size);
	munmap(p, size);
	close(dfd);
}

/* The rings at ZCBUF_OFF_RINGS, and a camera stream through them. */
TEST_F(compat, ring_stream)
{
	struct zcbuf_ring_setup rs = { 0 };
	uint32_t frame_size, first, n = 0;
	size_t size[2];
	uint8_t *mem, *map[2];
	volatile uint32_t *cq_prod, *cq_cons;
	const struct zcbuf_cqe *cqes;

	ASSERT_EQ(0, zs_config_camera(self->fd, 64, 48, ZCBUF_FMT_RGB24, 0, 0,
				      &frame_size));
	ASSERT_EQ(0, zc_alloc(self->fd, frame_size, 2, 0, &first));
	for (int i = 0; i < 2; i++) {
		map[i] = zc_map_buffer(self->fd, first + i, &size[i]);
		ASSERT_NE(NULL, map[i]);
	}
	ASSERT_EQ(0, zc_ioctl(self->fd, ZCBUF_IOC_RING_SETUP, &rs));
	ASSERT_EQ(ZCBUF_OFF_RINGS, rs.mmap_offset);
	mem = zc_mmap(self->fd, rs.mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, rs.mmap_offset);
	ASSERT_NE(NULL, mem) TH_LOG("rings: %s", strerror(errno));
	cq_prod = (volatile uint32_t *)(mem + rs.cq.producer);
	cq_cons = (volatile uint32_t *)(mem + rs.cq.consumer);
	cqes = (const struct zcbuf_cqe *)(mem + rs.cq.array);

	ASSERT_EQ(0, zs_qbuf(self->fd, first, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, first + 1, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	while (n < 2) {
		const struct zcbuf_cqe *c;
		uint32_t slot;

		if (__atomic_load_n(cq_prod, __ATOMIC_ACQUIRE) == n) {
			ASSERT_EQ(1, zs_poll_in(self->fd, ZS_WAIT_MS));
			continue;
		}
		c = &cqes[n & (rs.cq.entries - 1)];
		slot = c->index - first;
		ASSERT_GT(2, slot);
		ASSERT_EQ(n, c->sequence);
		ASSERT_EQ(frame_size, c->bytesused);
		ASSERT_EQ(0, zs_sync(self->fd, c->index,
				     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
				     frame_size));
		ASSERT_EQ(c->checksum, zs_crc32(map[slot], frame_size));
		ASSERT_EQ(n, zs_read_number(map[slot], 64, 48, ZCBUF_FMT_RGB24));
		n++;
		__atomic_store_n(cq_cons, n, __ATOMIC_RELEASE);
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
	munmap(mem, rs.mmap_size);
	for (int i = 0; i < 2; i++)
		munmap(map[i], size[i]);
}

TEST_HARNESS_MAIN
