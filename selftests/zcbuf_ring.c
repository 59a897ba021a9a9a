// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf shared completion/submission rings (ZCBUF_IOC_RING_SETUP,
 * ZCBUF_IOC_RING_KICK): argument validation, the mapping, the fast path
 * with no system calls (enforced with seccomp), NEED_WAKEUP/KICK and
 * WANT_WAKEUP/eventfd, overflow, a consumer that stops, a user that writes
 * garbage into the shared area, STREAMOFF and close while mapped.  On the
 * simulator, or on $ZCBUF_TEST_DEVICE with its small frames
 * (zcbuf_helpers.h).
 *
 * Raw ioctls only (zcbuf_helpers.h, zcbuf_stream.h).
 */

#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

/* ---- the user half of the ring protocol ---- */

struct zr {
	int fd;
	struct zcbuf_ring_setup rs;
	uint8_t *mem;
	struct zcbuf_cqe *cqes;
	struct zcbuf_sqe *sqes;
	uint32_t mask;
	uint32_t cq_head;	/* our CQ consumer index */
	uint32_t sq_tail;	/* our SQ producer index */
	uint32_t kicks;
};

static inline uint32_t *zr_word(struct zr *r, uint32_t off)
{
	return (uint32_t *)(r->mem + off);
}

static inline uint32_t zr_load(struct zr *r, uint32_t off)
{
	return __atomic_load_n(zr_word(r, off), __ATOMIC_ACQUIRE);
}

static inline void zr_store(struct zr *r, uint32_t off, uint32_t v)
{
	__atomic_store_n(zr_word(r, off), v, __ATOMIC_RELEASE);
}

static inline int zr_setup_req(int fd, struct zcbuf_ring_setup *rs)
{
	return zc_ioctl(fd, ZCBUF_IOC_RING_SETUP, rs);
}

static inline int zr_kick_raw(int fd)
{
	struct zcbuf_ring_kick k = { 0 };

	return zc_ioctl(fd, ZCBUF_IOC_RING_KICK, &k);
}

/* RING_SETUP with @entries and map the area: 0 or -errno. */
static int zr_open(struct zr *r, int fd, uint32_t entries)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->rs.entries = entries;
	ret = zr_setup_req(fd, &r->rs);
	if (ret)
		return ret;
	r->mem = zc_mmap(fd, r->rs.mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, r->rs.mmap_offset);
	if (!r->mem)
		return -errno;
	r->cqes = (struct zcbuf_cqe *)(r->mem + r->rs.cq.array);
	r->sqes = (struct zcbuf_sqe *)(r->mem + r->rs.sq.array);
	r->mask = r->rs.entries - 1;
	return 0;
}

static void zr_close(struct zr *r)
{
	if (r->mem)
		munmap(r->mem, r->rs.mmap_size);
	r->mem = NULL;
}

/* CQEs produced and not yet consumed by us. */
static inline uint32_t zr_cq_ready(struct zr *r)
{
	return zr_load(r, r->rs.cq.producer) - r->cq_head;
}

/* Take the next CQE (there must be one); publish our consumer index. */
static inline struct zcbuf_cqe zr_cq_pop(struct zr *r)
{
	struct zcbuf_cqe c = r->cqes[r->cq_head & r->mask];

	r->cq_head++;
	zr_store(r, r->rs.cq.consumer, r->cq_head);
	return c;
}

/* Produce one SQE, no kick. */
static inline void zr_sq_push(struct zr *r, uint32_t index, uint32_t flags,
			      uint64_t bytesused)
{
	r->sqes[r->sq_tail & r->mask] = (struct zcbuf_sqe){
		.index = index, .flags = flags, .bytesused = bytesused,
	};
	r->sq_tail++;
	zr_store(r, r->rs.sq.producer, r->sq_tail);
}

/* After producing: full barrier, then kick if the device asked for it. */
static inline int zr_sq_commit(struct zr *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (zr_load(r, r->rs.sq.flags) & ZCBUF_RING_SQ_NEED_WAKEUP) {
		r->kicks++;
		return zr_kick_raw(r->fd);
	}
	return 0;
}

/* Wait until at least @n CQEs are ready (poll() on the fd): 0 or -ETIMEDOUT. */
static int zr_cq_wait(struct zr *r, uint32_t n, int timeout_ms)
{
	uint64_t deadline = zs_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (zr_cq_ready(r) < n) {
		if (zs_now_ns() > deadline)
			return -ETIMEDOUT;
		zs_poll_in(r->fd, 20);
		/* poll() is ready while any CQE is unconsumed: don't spin hot. */
		if (zr_cq_ready(r) && zr_cq_ready(r) < n)
			zs_sleep_ms(2);
	}
	return 0;
}

/* Wait until the shared word at @off reaches @want: 0 or -ETIMEDOUT. */
static int zr_word_wait(struct zr *r, uint32_t off, uint32_t want,
			uint32_t mask, int timeout_ms)
{
	uint64_t deadline = zs_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while ((zr_load(r, off) & mask) != want) {
		if (zs_now_ns() > deadline)
			return -ETIMEDOUT;
		zs_sleep_ms(2);
	}
	return 0;
}

/* Frame CRC with the SYNC bracket the ABI asks for: 0 ok, else -errno/-EBADMSG. */
static int zr_check_frame(int fd, const struct zcbuf_cqe *c, uint8_t **maps)
{
	int ret = zs_sync(fd, c->index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
			  c->bytesused);
	uint32_t crc;

	if (ret)
		return ret;
	crc = zs_crc32(maps[c->index], c->bytesused);
	ret = zs_sync(fd, c->index, ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0,
		      c->bytesused);
	if (ret)
		return ret;
	return crc == c->checksum ? 0 : -EBADMSG;
}

/* ---- fixture: an open context with a camera and mapped buffers ---- */

#define ZR_MAXBUF	64
#define ZR_W		64
#define ZR_H		48

FIXTURE(ring)
{
	int fd;
	struct zcbuf_info info;
	struct zc_test_dev td;
	uint32_t w;		/* ZR_W x ZR_H, or the device under test's frame */
	uint32_t h;
	uint32_t min_entries;
	uint32_t frame_size;
	uint32_t nbuf;
	uint8_t *maps[ZR_MAXBUF];
	size_t sizes[ZR_MAXBUF];
};

FIXTURE_SETUP(ring)
{
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, ZCBUF_DEV " does not exist (module not loaded)");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	ASSERT_NE(0, self->info.caps & ZCBUF_CAP_RING);
	ASSERT_EQ(0, zc_test_device(self->fd, &self->td))
		TH_LOG("device %s not found", self->td.name);
	if (!zc_test_device_has(&self->td, ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_TX))
		SKIP(return, "%s is not a camera and NIC TX", self->td.name);
	self->w = ZR_W;
	self->h = ZR_H;
	zc_test_frame(&self->td, &self->w, &self->h);
	self->min_entries = 1;
	while (self->min_entries < self->info.max_buffers)
		self->min_entries <<= 1;
	self->nbuf = 0;
}

FIXTURE_TEARDOWN(ring)
{
	for (uint32_t i = 0; i < self->nbuf; i++)
		if (self->maps[i])
			munmap(self->maps[i], self->sizes[i]);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Camera @w x @h RGB24 at @fps (at most the device's), @n buffers allocated
 * and mapped.
 */
static void zr_camera(struct __test_metadata *_metadata,
		     FIXTURE_DATA(ring) *self, uint32_t w, uint32_t h,
		     uint32_t fps, uint32_t n)
{
	uint32_t first;

	ASSERT_GE(ZR_MAXBUF, n);
	ASSERT_EQ(0, zs_config_camera(self->fd, w, h, ZCBUF_FMT_RGB24,
				      zc_test_fps(&self->td, fps), 0,
				      &self->frame_size));
	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, n, 0, &first));
	ASSERT_EQ(0, first);
	for (uint32_t i = 0; i < n; i++) {
		self->maps[i] = zc_map_buffer(self->fd, i, &self->sizes[i]);
		ASSERT_NE(NULL, self->maps[i]);
	}
	self->nbuf = n;
}

/* ---- RING_SETUP arguments ---- */

TEST_F(ring, setup_defaults_and_layout)
{
	struct zr r;
	uint32_t e;

	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	e = r.rs.entries;
	EXPECT_EQ(self->min_entries, e);
	EXPECT_EQ(e, r.rs.cq.entries);
	EXPECT_EQ(e, r.rs.sq.entries);
	EXPECT_NE(0, r.rs.mmap_size);
	EXPECT_EQ(0, r.rs.mmap_size % self->info.page_size);
	EXPECT_EQ(0, r.rs.reserved[0]);
	EXPECT_EQ(0, r.rs.reserved[1]);
	/* Every word and array inside the mapping, aligned, not overlapping. */
	for (int k = 0; k < 2; k++) {
		struct zcbuf_ring_offsets *o = k ? &r.rs.sq : &r.rs.cq;
		size_t esz = k ? sizeof(struct zcbuf_sqe) : sizeof(struct zcbuf_cqe);

		EXPECT_EQ(0, o->producer % 4);
		EXPECT_EQ(0, o->consumer % 4);
		EXPECT_EQ(0, o->flags % 4);
		EXPECT_EQ(0, o->errors % 4);
		EXPECT_EQ(0, o->array % 8);
		EXPECT_GE(r.rs.mmap_size, (uint64_t)o->array + e * esz);
		EXPECT_GE(r.rs.mmap_size, o->producer + 4ULL);
		EXPECT_GE(r.rs.mmap_size, o->consumer + 4ULL);
		EXPECT_GE(r.rs.mmap_size, o->flags + 4ULL);
		EXPECT_GE(r.rs.mmap_size, o->errors + 4ULL);
	}
	EXPECT_TRUE(r.rs.cq.array + e * sizeof(struct zcbuf_cqe) <= r.rs.sq.array ||
		    r.rs.sq.array + e * sizeof(struct zcbuf_sqe) <= r.rs.cq.array);
	/* A fresh area: everything zero. */
	EXPECT_EQ(0, zr_load(&r, r.rs.cq.producer));
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.consumer));
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.flags));
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.errors));
	/* Once per context. */
	{
		struct zcbuf_ring_setup again = { 0 };

		EXPECT_EQ(-EBUSY, zr_setup_req(self->fd, &again));
	}
	zr_close(&r);
}

TEST_F(ring, setup_einval)
{
	uint32_t min = self->min_entries;
	struct zcbuf_ring_setup rs;

#define BAD(field_init) do {						\
		memset(&rs, 0, sizeof(rs));				\
		field_init;						\
		EXPECT_EQ(-EINVAL, zr_setup_req(self->fd, &rs));	\
	} while (0)

	BAD(rs.entries = min + 1 == 2 ? 3 : min + 1);	/* not a power of two */
	BAD(rs.entries = min * 3 / 2 > min ? min * 3 / 2 : 3);
	if (min > 1)
		BAD(rs.entries = min / 2);		/* below max_buffers */
	BAD(rs.entries = ZCBUF_RING_MAX_ENTRIES * 2);	/* above the maximum */
	BAD(rs.entries = 0x80000000u);
	BAD(rs.flags = 1);
	BAD(rs.flags = 0x80000000u);
	BAD(rs.mmap_size = 4096);
	BAD(rs.mmap_offset = 1);
	BAD(rs.cq.producer = 1);
	BAD(rs.cq.entries = 64);
	BAD(rs.sq.array = 8);
	BAD(rs.sq.errors = 1);
	BAD(rs.reserved[0] = 1);
	BAD(rs.reserved[1] = 1ULL << 63);
#undef BAD

	/* None of those made a ring: a good call still works, once. */
	memset(&rs, 0, sizeof(rs));
	rs.entries = ZCBUF_RING_MAX_ENTRIES;
	ASSERT_EQ(0, zr_setup_req(self->fd, &rs));
	EXPECT_EQ(ZCBUF_RING_MAX_ENTRIES, rs.entries);
	memset(&rs, 0, sizeof(rs));
	EXPECT_EQ(-EBUSY, zr_setup_req(self->fd, &rs));
}

TEST_F(ring, setup_explicit_min)
{
	struct zr r;

	ASSERT_EQ(0, zr_open(&r, self->fd, self->min_entries));
	EXPECT_EQ(self->min_entries, r.rs.entries);
	zr_close(&r);
}

TEST_F(ring, setup_busy_while_streaming)
{
	struct zcbuf_ring_setup rs = { 0 };
	struct zr r;

	zr_camera(_metadata, self, self->w, self->h, 100, 2);
	ASSERT_EQ(0, zs_qbuf(self->fd, 0, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	EXPECT_EQ(-EBUSY, zr_setup_req(self->fd, &rs));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	/* Stopped, everything back with user space: now it works. */
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	zr_close(&r);
}

TEST_F(ring, kick_einval)
{
	struct zcbuf_ring_kick k = { 0 };
	struct zr r;

	/* No ring yet. */
	EXPECT_EQ(-EINVAL, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	EXPECT_EQ(0, zr_kick_raw(self->fd));	/* not streaming: harmless */
	k.flags = 1;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_RING_KICK, &k));
	k.flags = 0;
	k.reserved = 1;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_RING_KICK, &k));
	zr_close(&r);
}

/* ---- the mapping ---- */

TEST_F(ring, mmap_rules)
{
	struct zcbuf_ring_setup rs = { 0 };
	uint8_t *p;
	void *q;
	int fd2;

	ASSERT_EQ(0, zr_setup_req(self->fd, &rs));
	/* Another context without rings has nothing to map there. */
	fd2 = zc_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EINVAL, zc_mmap_err(fd2, 4096, PROT_READ | PROT_WRITE,
				       MAP_SHARED, rs.mmap_offset));
	close(fd2);

	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, rs.mmap_size,
				       PROT_READ | PROT_WRITE, MAP_PRIVATE,
				       rs.mmap_offset));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, rs.mmap_size, PROT_READ,
				       MAP_PRIVATE, rs.mmap_offset));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, rs.mmap_size + 4096,
				       PROT_READ | PROT_WRITE, MAP_SHARED,
				       rs.mmap_offset));
	EXPECT_EQ(-EINVAL, zc_mmap_err(self->fd, 4096, PROT_READ | PROT_WRITE,
				       MAP_SHARED, rs.mmap_offset + 4096));

	/* A partial mapping from the start is fine. */
	p = zc_mmap(self->fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		    rs.mmap_offset);
	ASSERT_NE(NULL, p);
	/* It cannot grow (VM_DONTEXPAND). */
	if (rs.mmap_size > 4096) {
		q = mremap(p, 4096, rs.mmap_size, 0);
		EXPECT_EQ(MAP_FAILED, q);
	}
	munmap(p, 4096);

	/* Two shared mappings see the same memory. */
	p = zc_mmap(self->fd, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    rs.mmap_offset);
	ASSERT_NE(NULL, p);
	q = zc_mmap(self->fd, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    rs.mmap_offset);
	ASSERT_NE(NULL, q);
	*(volatile uint32_t *)(p + rs.cq.consumer) = 0x1234;
	EXPECT_EQ(0x1234, *(volatile uint32_t *)((uint8_t *)q + rs.cq.consumer));
	*(volatile uint32_t *)(p + rs.cq.consumer) = 0;
	munmap(p, rs.mmap_size);
	munmap(q, rs.mmap_size);
}

/*
 * RING_SETUP whose result cannot be written back (EFAULT) sets up nothing:
 * the ioctl path still works and the next RING_SETUP succeeds.
 */
TEST_F(ring, setup_efault_leaves_no_ring)
{
	struct zcbuf_ring_setup zero = { 0 }, *ro;
	struct zcbuf_dqbuf d;
	struct zr r;

	ro = zc_ro_copy(&zero, sizeof(zero));
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, zr_setup_req(self->fd, ro));
	ASSERT_EQ(-EAGAIN, zs_dqbuf(self->fd, &d));
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	ASSERT_EQ(-EINVAL, zs_dqbuf(self->fd, &d));
	zr_close(&r);
	zc_ro_free(ro);
}

/* ---- the ioctl path is closed in ring mode ---- */

TEST_F(ring, dqbuf_and_read_einval)
{
	struct zcbuf_dqbuf d;
	char buf[64];
	struct zr r;

	zr_camera(_metadata, self, self->w, self->h, 0, 2);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, 0, 0));
	ASSERT_EQ(0, zs_qbuf(self->fd, 1, 0));
	EXPECT_EQ(-EINVAL, zs_dqbuf(self->fd, &d));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, 1, ZS_WAIT_MS));
	/* Even with completions waiting. */
	EXPECT_EQ(-EINVAL, zs_dqbuf(self->fd, &d));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	/* QBUF still works, and accepts a DONE buffer (its CQE is ours). */
	{
		struct zcbuf_cqe c = zr_cq_pop(&r);

		EXPECT_EQ(ZCBUF_STATE_DONE, zs_state(self->fd, c.index));
		EXPECT_EQ(0, zs_qbuf(self->fd, c.index, 0));
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
	zr_close(&r);
}

/* ---- the fast path: seccomp proves it makes no system calls ---- */

struct zr_result {
	uint32_t frames, bad_crc, gaps, bad_index, sync_errors, kicks;
	uint64_t first_seq, last_seq;
};

/*
 * Allow only what the fast path may do: ioctl(fd, RING_KICK) and, when the
 * consumer reads payloads, ioctl(fd, SYNC) (the bracket the ABI requires);
 * clock_gettime for the deadline, exit.  Anything else kills the process.
 */
static int zr_seccomp(bool allow_sync)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clock_gettime, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ZCBUF_IOC_RING_KICK, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 allow_sync ? (uint32_t)ZCBUF_IOC_SYNC : 0xffffffffu, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ? -errno : 0;
}

/* The child: consume @want frames from the CQ, give each back on the SQ. */
static void zr_fast_consumer(struct zr *r, uint8_t **maps, uint32_t nbuf,
			     uint32_t want, bool payload,
			     struct zr_result *res)
{
	uint64_t deadline = zs_now_ns() + 30ULL * 1000000000ULL;
	uint64_t spins = 0;

	if (zr_seccomp(payload))
		_exit(3);
	while (res->frames < want) {
		if (!zr_cq_ready(r)) {
			/* Busy consumer: spin; clock_gettime may be a syscall under TCG. */
			if (++spins % 4096 == 0 && zs_now_ns() > deadline)
				_exit(4);
			continue;
		}
		while (zr_cq_ready(r) && res->frames < want) {
			struct zcbuf_cqe c = zr_cq_pop(r);

			if (c.index >= nbuf) {
				res->bad_index++;
				continue;
			}
			if (!res->frames)
				res->first_seq = c.sequence;
			else if (c.sequence != res->last_seq + 1)
				res->gaps++;
			res->last_seq = c.sequence;
			if (payload) {
				int ret = zr_check_frame(r->fd, &c, maps);

				if (ret == -EBADMSG)
					res->bad_crc++;
				else if (ret)
					res->sync_errors++;
			}
			res->frames++;
			zr_sq_push(r, c.index, 0, 0);
		}
		if (zr_sq_commit(r))
			_exit(5);
	}
	res->kicks = r->kicks;
	_exit(0);
}

static void zr_fast_path(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ring) *self, uint32_t fps, bool payload)
{
	const uint32_t nbuf = 8, want = zc_test_frames(&self->td, 200);
	struct zr_result *res;
	struct zcbuf_stats st;
	struct zr r;
	pid_t pid;
	int status;

	zr_camera(_metadata, self, self->w, self->h, fps, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	memset(res, 0, sizeof(*res));
	/* Each buffer once through QBUF (it makes the device's mapping). */
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		zr_fast_consumer(&r, self->maps, nbuf, want, payload, res);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFSIGNALED(status))
		TH_LOG("consumer killed by signal %d (%s)", WTERMSIG(status),
		       WTERMSIG(status) == SIGSYS ?
		       "seccomp: a system call on the fast path" : "?");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	TH_LOG("%u frames (seq %llu..%llu), %u kicks, fps %u, %s",
	       res->frames, (unsigned long long)res->first_seq,
	       (unsigned long long)res->last_seq, res->kicks, fps,
	       payload ? "payload CRC-checked with SYNC" : "header only");
	EXPECT_EQ(want, res->frames);
	EXPECT_EQ(0, res->bad_index);
	EXPECT_EQ(0, res->bad_crc);
	EXPECT_EQ(0, res->sync_errors);
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.errors));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(0, st.errors);
	if (!fps) {
		/* Unpaced: the device waits for buffers, so nothing is lost. */
		EXPECT_EQ(0, res->gaps);
		EXPECT_EQ(0, st.drops_no_buffer);
	}
	if (fps) {
		/* Paced with buffers always at hand: it never asks for a kick. */
		EXPECT_EQ(0, res->kicks);
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
	for (uint32_t i = 0; i < nbuf; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, i));
	munmap(res, sizeof(*res));
	zr_close(&r);
}

/* The filter is real: any other call (here getppid) kills the consumer. */
TEST_F(ring, fast_path_filter_kills_other_syscalls)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		if (zr_seccomp(false))
			_exit(3);
		zr_kick_raw(self->fd);	/* allowed (EINVAL: no ring) */
		syscall(__NR_getppid);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSYS, WTERMSIG(status));
}

TEST_F(ring, fast_path_header_only_no_syscalls)
{
	zr_fast_path(_metadata, self, 500, false);
}

TEST_F(ring, fast_path_unpaced_crc)
{
	zr_fast_path(_metadata, self, 0, true);
}

TEST_F(ring, fast_path_paced_crc)
{
	zr_fast_path(_metadata, self, 500, true);
}

/* ---- NEED_WAKEUP / KICK ---- */

TEST_F(ring, need_wakeup_and_kick)
{
	const uint32_t nbuf = 4;
	uint32_t prod;
	struct zr r;
	int tries;

	zr_camera(_metadata, self, self->w, self->h, 0, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));

	/*
	 * Out of buffers and the SQ empty: the device asks to be kicked.
	 * An SQE without the kick: the device sleeps on, nothing completes.
	 * But after setting NEED_WAKEUP the device looks at the SQ once more
	 * before it sleeps (zcbuf_queue_has_work()), and an entry produced
	 * in that window is taken without a kick, as it must be.  A round
	 * where that happened (the entry taken, its frame completed) is run
	 * again; one of five must show the device asleep.
	 */
	for (tries = 0;; tries++) {
		struct zcbuf_cqe c;

		ASSERT_GT(5, tries) TH_LOG("every unkicked entry was taken");
		ASSERT_EQ(0, zr_word_wait(&r, r.rs.sq.flags,
					  ZCBUF_RING_SQ_NEED_WAKEUP,
					  ZCBUF_RING_SQ_NEED_WAKEUP, ZS_WAIT_MS));
		c = zr_cq_pop(&r);
		prod = zr_load(&r, r.rs.cq.producer);
		zr_sq_push(&r, c.index, 0, 0);
		zs_sleep_ms(300);
		if (zr_load(&r, r.rs.sq.consumer) == r.sq_tail - 1 &&
		    zr_load(&r, r.rs.cq.producer) == prod)
			break;
		TH_LOG("round %d: the entry was taken before the device slept",
		       tries);
		ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	}

	/* The kick: the entry is taken and a frame completes. */
	ASSERT_EQ(0, zr_sq_commit(&r));
	EXPECT_EQ(1, r.kicks);
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	EXPECT_EQ(r.sq_tail, zr_load(&r, r.rs.sq.consumer));
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.errors));

	/* Every consumed frame back at once: one kick at most per batch. */
	r.kicks = 0;
	for (int round = 0; round < 10; round++) {
		uint32_t n;

		ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
		n = zr_cq_ready(&r);
		while (n--) {
			struct zcbuf_cqe c = zr_cq_pop(&r);

			EXPECT_GT(nbuf, c.index);
			zr_sq_push(&r, c.index, 0, 0);
		}
		ASSERT_EQ(0, zr_sq_commit(&r));
	}
	EXPECT_GE(10, r.kicks);
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	/* STREAMOFF forgets the SQ and the flag. */
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.flags));
	zr_close(&r);
}

/* ---- WANT_WAKEUP and the eventfd ---- */

static uint64_t zr_efd_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

TEST_F(ring, want_wakeup_eventfd)
{
	const uint32_t nbuf = 4;
	struct zr r;
	int efd;

	zr_camera(_metadata, self, self->w, self->h, 0, nbuf);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, zs_set_eventfd(self->fd, efd));
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));

	/* Flag clear: completions arrive, the eventfd stays at zero. */
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	EXPECT_EQ(0, zr_efd_take(efd));
	/* poll() on the context: ready while a CQE is unconsumed. */
	EXPECT_EQ(1, zs_poll_in(self->fd, 0));

	/* Flag set: one count per completion. */
	__atomic_store_n(zr_word(&r, r.rs.cq.flags), ZCBUF_RING_CQ_WANT_WAKEUP,
			 __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2; i++) {
		struct zcbuf_cqe c = zr_cq_pop(&r);

		zr_sq_push(&r, c.index, 0, 0);
	}
	ASSERT_EQ(0, zr_sq_commit(&r));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	EXPECT_EQ(2, zr_efd_take(efd));

	/* Cleared again: silence. */
	__atomic_store_n(zr_word(&r, r.rs.cq.flags), 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 3; i++) {
		struct zcbuf_cqe c = zr_cq_pop(&r);

		zr_sq_push(&r, c.index, 0, 0);
	}
	ASSERT_EQ(0, zr_sq_commit(&r));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	EXPECT_EQ(0, zr_efd_take(efd));

	/* All consumed: poll() is not ready. */
	while (zr_cq_ready(&r))
		zr_cq_pop(&r);
	EXPECT_EQ(0, zs_poll_in(self->fd, 0));

	/* The sleeping consumer's protocol: flag, barrier, recheck, sleep. */
	__atomic_store_n(zr_word(&r, r.rs.cq.flags), ZCBUF_RING_CQ_WANT_WAKEUP,
			 __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ASSERT_EQ(0, zr_cq_ready(&r));
	zr_sq_push(&r, 0, 0, 0);
	ASSERT_EQ(0, zr_sq_commit(&r));
	{
		struct pollfd p = { .fd = efd, .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, ZS_WAIT_MS));
	}
	EXPECT_EQ(1, zr_efd_take(efd));
	EXPECT_EQ(1, zr_cq_ready(&r));

	ASSERT_EQ(0, zs_streamoff(self->fd));
	close(efd);
	zr_close(&r);
}

/* ---- the CQ cannot overflow ---- */

TEST_F(ring, cq_never_overflows)
{
	uint32_t nbuf = self->info.max_buffers, seen[ZR_MAXBUF] = { 0 };
	uint32_t w = 16, h = 16;
	struct zcbuf_stats st;
	struct zr r;

	if (nbuf > ZR_MAXBUF)
		nbuf = ZR_MAXBUF;
	/*
	 * Small frames: every buffer the context may hold (on a named
	 * device only a few: 64 of edu's frames take 13 s).
	 */
	nbuf = zc_test_frames(&self->td, nbuf);
	zc_test_frame(&self->td, &w, &h);
	zr_camera(_metadata, self, w, h, 0, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	ASSERT_LE(nbuf, r.rs.entries);
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	/* Nobody consumes; nothing more can come than there are buffers. */
	zs_sleep_ms(200);
	EXPECT_EQ(nbuf, zr_cq_ready(&r));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(nbuf, st.frames);
	EXPECT_EQ(nbuf, st.done);
	EXPECT_EQ(0, st.queued);
	for (uint32_t k = 0; k < nbuf; k++) {
		struct zcbuf_cqe c = zr_cq_pop(&r);

		ASSERT_GT(nbuf, c.index);
		EXPECT_EQ(k, c.sequence);
		seen[c.index]++;
		EXPECT_EQ(0, zr_check_frame(self->fd, &c, self->maps));
	}
	for (uint32_t i = 0; i < nbuf; i++)
		EXPECT_EQ(1, seen[i]);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	zr_close(&r);
}

/* ---- a consumer that stops reading ---- */

TEST_F(ring, stalled_consumer_loses_nothing)
{
	const uint32_t nbuf = 4;
	uint64_t frames = 0, next_seq = 0, gaps = 0;
	struct zcbuf_stats st;
	struct zr r;

	zr_camera(_metadata, self, self->w, self->h, 200, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));

	/* The consumer stops: the device fills every buffer, then drops. */
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	zs_sleep_ms(300);
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(nbuf, zr_cq_ready(&r));
	EXPECT_EQ(nbuf, st.frames);
	EXPECT_LT(0, st.drops_no_buffer);
	TH_LOG("stalled: %llu frames in the CQ, %llu dropped for want of a buffer",
	       (unsigned long long)st.frames,
	       (unsigned long long)st.drops_no_buffer);

	/* Every completed frame is intact and in order, then it resumes. */
	while (frames < nbuf + zc_test_frames(&self->td, 40)) {
		ASSERT_EQ(0, zr_cq_wait(&r, 1, ZS_WAIT_MS));
		while (zr_cq_ready(&r)) {
			struct zcbuf_cqe c = zr_cq_pop(&r);

			ASSERT_GT(nbuf, c.index);
			EXPECT_EQ(0, zr_check_frame(self->fd, &c, self->maps));
			EXPECT_LE(next_seq, c.sequence);
			gaps += c.sequence - next_seq;
			next_seq = c.sequence + 1;
			frames++;
			zr_sq_push(&r, c.index, 0, 0);
		}
		ASSERT_EQ(0, zr_sq_commit(&r));
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	/* Completed frames = what we saw + what is still in the CQ; the gaps are the drops. */
	EXPECT_EQ(st.frames, frames + zr_cq_ready(&r));
	EXPECT_GE(st.drops_no_buffer, gaps);
	EXPECT_LT(0, gaps);
	zr_close(&r);
}

/* ---- garbage in the shared area ---- */

TEST_F(ring, malicious_indices_and_entries)
{
	const uint32_t nbuf = 4;
	uint32_t err, first;
	struct zcbuf_stats st;
	struct zr r;

	zr_camera(_metadata, self, self->w, self->h, 0, nbuf);
	/* One more buffer that never went through QBUF (no device mapping). */
	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, 1, 0, &first));
	ASSERT_EQ(nbuf, first);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	ASSERT_EQ(0, zr_word_wait(&r, r.rs.sq.flags, ZCBUF_RING_SQ_NEED_WAKEUP,
				  ZCBUF_RING_SQ_NEED_WAKEUP, ZS_WAIT_MS));

	/* Bad entries: unknown index, nonzero flags, bytesused on capture,
	 * a never-queued buffer, the rings' own mmap index, a duplicate. */
	zr_sq_push(&r, 9999, 0, 0);
	zr_sq_push(&r, 0xffffffffu, 0, 0);
	zr_sq_push(&r, 0, 1, 0);
	zr_sq_push(&r, 0, 0x80000000u, 0);
	zr_sq_push(&r, 0, 0, 4096);
	zr_sq_push(&r, nbuf, 0, 0);
	ASSERT_EQ(0, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_word_wait(&r, r.rs.sq.errors, 6, ~0u, ZS_WAIT_MS));
	EXPECT_EQ(r.sq_tail, zr_load(&r, r.rs.sq.consumer));
	/* The same (DONE) buffer twice: the second is busy by then. */
	{
		struct zcbuf_cqe c = zr_cq_pop(&r);

		zr_sq_push(&r, c.index, 0, 0);
		zr_sq_push(&r, c.index, 0, 0);
	}
	ASSERT_EQ(0, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_word_wait(&r, r.rs.sq.errors, 7, ~0u, ZS_WAIT_MS));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));

	/* A wild producer index, far more than a ring ahead: all skipped. */
	err = zr_load(&r, r.rs.sq.errors);
	r.sq_tail += 100000;
	zr_store(&r, r.rs.sq.producer, r.sq_tail);
	ASSERT_EQ(0, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_word_wait(&r, r.rs.sq.consumer, r.sq_tail, ~0u,
				  ZS_WAIT_MS));
	EXPECT_EQ(err + 100000, zr_load(&r, r.rs.sq.errors));

	/* Garbage in the words the kernel owns and in the CQ's entries. */
	zr_store(&r, r.rs.cq.producer, 0xdeadbeef);
	zr_store(&r, r.rs.sq.consumer, 0x12345678);
	zr_store(&r, r.rs.sq.flags, 0xffffffff);
	zr_store(&r, r.rs.sq.errors, 0);
	zr_store(&r, r.rs.cq.consumer, 0xcafef00d);
	memset(r.cqes, 0xa5, r.rs.entries * sizeof(*r.cqes));
	/* A poll() with a lying consumer index is ready, and harmless. */
	EXPECT_EQ(1, zs_poll_in(self->fd, 0));
	zr_store(&r, r.rs.cq.consumer, r.cq_head);

	/* The kernel kept its own indices: a good entry still streams. */
	{
		uint32_t kernel_cq = nbuf + 1;	/* CQEs the kernel has produced */

		r.cq_head = kernel_cq;
		zr_store(&r, r.rs.cq.consumer, r.cq_head);
		zr_sq_push(&r, 1, 0, 0);
		ASSERT_EQ(0, zr_kick_raw(self->fd));
		ASSERT_EQ(0, zr_word_wait(&r, r.rs.cq.producer, kernel_cq + 1,
					  ~0u, ZS_WAIT_MS));
		{
			struct zcbuf_cqe c = zr_cq_pop(&r);

			EXPECT_EQ(1, c.index);
			EXPECT_EQ(kernel_cq, c.sequence);
			EXPECT_EQ(0, zr_check_frame(self->fd, &c, self->maps));
		}
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(0, st.errors);
	EXPECT_EQ(nbuf + 2, st.frames);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	for (uint32_t i = 0; i <= nbuf; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, i));
	/* FREE works on every buffer afterwards: nothing is stuck. */
	for (uint32_t i = 0; i < nbuf; i++) {
		munmap(self->maps[i], self->sizes[i]);
		self->maps[i] = NULL;
	}
	for (uint32_t i = 0; i <= nbuf; i++)
		EXPECT_EQ(0, zc_free(self->fd, i));
	zr_close(&r);
}

TEST_F(ring, malicious_tx_bytesused)
{
	const uint32_t nbuf = 2, len = 200;
	struct zcbuf_config cfg = { .personality = ZCBUF_DEV_NIC_TX };
	uint8_t *map[2];
	size_t size;
	uint32_t first;
	struct zr r;

	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zc_alloc(self->fd, 4096, nbuf, 0, &first));
	for (uint32_t i = 0; i < nbuf; i++) {
		map[i] = zc_map_buffer(self->fd, i, &size);
		ASSERT_NE(NULL, map[i]);
		zc_fill(map[i], size, 7 + i);
		ASSERT_EQ(0, zs_sync(self->fd, i, ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE,
				     0, size));
	}
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, len));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	for (uint32_t k = 0; k < nbuf; k++) {
		struct zcbuf_cqe c = zr_cq_pop(&r);

		ASSERT_GT(nbuf, c.index);
		EXPECT_EQ(len, c.bytesused);
		EXPECT_EQ(zs_crc32(map[c.index], len), c.checksum);
	}
	/* TX needs 1..size bytes: 0 and size + 1 are skipped and counted. */
	zr_sq_push(&r, 0, 0, 0);
	zr_sq_push(&r, 0, 0, size + 1);
	zr_sq_push(&r, 1, 0, ~0ULL);
	ASSERT_EQ(0, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_word_wait(&r, r.rs.sq.errors, 3, ~0u, ZS_WAIT_MS));
	/* A good one: exactly its bytes go out. */
	zr_sq_push(&r, 1, 0, 64);
	ASSERT_EQ(0, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, 1, ZS_WAIT_MS));
	{
		struct zcbuf_cqe c = zr_cq_pop(&r);

		EXPECT_EQ(1, c.index);
		EXPECT_EQ(64, c.bytesused);
		EXPECT_EQ(0, c.flags);
		EXPECT_EQ(zs_crc32(map[1], 64), c.checksum);
	}
	EXPECT_EQ(3, zr_load(&r, r.rs.sq.errors));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	for (uint32_t i = 0; i < nbuf; i++)
		munmap(map[i], size);
	zr_close(&r);
}

/* ---- STREAMOFF and close ---- */

TEST_F(ring, streamoff_returns_everything)
{
	const uint32_t nbuf = 6;
	struct zcbuf_stats st;
	struct zr r;

	zr_camera(_metadata, self, self->w, self->h, 0, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	/* Some DONE in the CQ, some given back on the SQ but not kicked. */
	for (int i = 0; i < 3; i++) {
		struct zcbuf_cqe c = zr_cq_pop(&r);

		zr_sq_push(&r, c.index, 0, 0);
	}
	ASSERT_EQ(0, zs_streamoff(self->fd));
	for (uint32_t i = 0; i < nbuf; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, i));
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(0, st.done);
	/* The SQ was forgotten: its consumer caught up, no kick wanted. */
	EXPECT_EQ(r.sq_tail, zr_load(&r, r.rs.sq.consumer));
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.flags) & ZCBUF_RING_SQ_NEED_WAKEUP);

	/* A new stream on the same rings: SQEs work for USER buffers. */
	r.cq_head = zr_load(&r, r.rs.cq.producer);
	zr_store(&r, r.rs.cq.consumer, r.cq_head);
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (uint32_t i = 0; i < nbuf; i++)
		zr_sq_push(&r, i, 0, 0);
	ASSERT_EQ(0, zr_kick_raw(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	for (uint32_t k = 0; k < nbuf; k++) {
		struct zcbuf_cqe c = zr_cq_pop(&r);

		EXPECT_EQ(k, c.sequence);	/* restarts at 0 */
		EXPECT_EQ(0, zr_check_frame(self->fd, &c, self->maps));
	}
	EXPECT_EQ(0, zr_load(&r, r.rs.sq.errors));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	zr_close(&r);
}

TEST_F(ring, close_while_mapped)
{
	const uint32_t nbuf = 4;
	volatile uint32_t *w;
	struct zr r;
	int fd2;

	zr_camera(_metadata, self, self->w, self->h, 100, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, 1, ZS_WAIT_MS));

	/* Close mid-stream with the rings and buffers still mapped. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	zs_sleep_ms(50);
	/* The area stays valid memory: reads and writes are harmless. */
	w = zr_word(&r, r.rs.cq.producer);
	(void)*w;
	for (uint32_t off = 0; off < r.rs.mmap_size; off += 4)
		*(volatile uint32_t *)(r.mem + off) ^= 0x5a5a5a5a;
	for (uint32_t i = 0; i < nbuf; i++)
		(void)*(volatile uint8_t *)self->maps[i];

	/* A new context is independent, and its rings start clean. */
	fd2 = zc_open();
	ASSERT_LE(0, fd2);
	{
		struct zr r2;

		ASSERT_EQ(0, zr_open(&r2, fd2, 0));
		EXPECT_EQ(0, zr_load(&r2, r2.rs.cq.producer));
		EXPECT_EQ(0, zr_load(&r2, r2.rs.sq.errors));
		zr_close(&r2);
	}
	close(fd2);
	/* The last holder goes: the context is freed now. */
	zr_close(&r);
}

TEST_F(ring, fork_shares_the_rings)
{
	const uint32_t nbuf = 4;
	struct zr r;
	pid_t pid;
	int status;

	zr_camera(_metadata, self, self->w, self->h, 0, nbuf);
	ASSERT_EQ(0, zr_open(&r, self->fd, 0));
	for (uint32_t i = 0; i < nbuf; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));

	/* The child consumes and gives back; the parent sees its indices. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (uint32_t k = 0; k < nbuf; k++) {
			struct zcbuf_cqe c = zr_cq_pop(&r);

			zr_sq_push(&r, c.index, 0, 0);
		}
		_exit(zr_sq_commit(&r) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(nbuf, zr_load(&r, r.rs.cq.consumer));
	r.cq_head = nbuf;
	r.sq_tail = nbuf;
	ASSERT_EQ(0, zr_cq_wait(&r, nbuf, ZS_WAIT_MS));
	EXPECT_EQ(nbuf, zr_load(&r, r.rs.sq.consumer));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	zr_close(&r);
}

TEST_HARNESS_MAIN
