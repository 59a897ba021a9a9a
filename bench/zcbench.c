// SPDX-License-Identifier: GPL-2.0
/*
 * zcbench: the guest half of `make bench`.
 *
 * Runs inside the QEMU guest (static binary, raw ioctls, no libzcbuf so that
 * nothing but the uapi stands between the measurement and the kernel) and
 * prints one CSV row per measurement:
 *
 *   group,row,kernel,boot,bytes,frames,cpu_us,fps,ns_per_byte,note
 *
 * cpu_us is the consumer's own thread CPU time per frame
 * (CLOCK_THREAD_CPUTIME_ID, so system calls and their copies count, the
 * device's kernel thread does not); fps is frames per second of guest time
 * (CLOCK_MONOTONIC).  Under `-icount shift=0` both are instruction counts.
 *
 * usage: zcbench [-k KERNEL] [-b BOOT] [-o CSV] GROUP...
 *   GROUP: sweep ring sync tcp memcpy v4l2 all (all = every group but sync
 *   is run as well; the swiotlb boot runs just "sync")
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/errqueue.h>
#include <linux/videodev2.h>
#include <linux/zcbuf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY	5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED	1
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY	0x4000000
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY	60
#endif

#define MAXBUF	64

static const char *kernel_label = "?", *boot_label = "normal";
static FILE *csv;
static int failures;

#define BENCH_NAME "zcbench"
#include "bench.h"

/* ---- small helpers ---- */

static uint64_t cpu_ns(void)
{
	return ns_of(CLOCK_THREAD_CPUTIME_ID);
}

static uint64_t wall_ns(void)
{
	return ns_of(CLOCK_MONOTONIC);
}

/*
 * On-CPU time (ns, schedstat) of the simulated device's kernel thread: the
 * newest "zcbuf-sim" thread (one per streaming context; an older one may
 * still be exiting).
 */
static uint64_t dev_cpu_ns(void)
{
	uint64_t total = 0;
	long best = -1;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], comm[32] = "";
		unsigned long long run = 0;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "zcbuf-sim", 9) || atol(de->d_name) < best)
			continue;
		best = atol(de->d_name);
		total = 0;
		snprintf(path, sizeof(path), "/proc/%s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &run) == 1)
			total = run;
		fclose(f);
	}
	closedir(d);
	return total;
}

struct meas {
	uint64_t cpu0, wall0;
	uint64_t cpu, wall;	/* set by row_end() */
	bool ended;
};

static void meas_start(struct meas *m)
{
	m->ended = false;
	m->wall0 = wall_ns();
	m->cpu0 = cpu_ns();
}

/* End the measured interval before work that is not the measurement. */
static void row_end(struct meas *m)
{
	m->cpu = cpu_ns() - m->cpu0;
	m->wall = wall_ns() - m->wall0;
	m->ended = true;
}

/*
 * Emit a row from a measurement of @frames frames of @bytes each, ended by
 * row_end() or now.
 */
static void row(const char *group, const char *name, uint64_t bytes,
		uint64_t frames, const struct meas *m, const char *note)
{
	uint64_t cpu = m->ended ? m->cpu : cpu_ns() - m->cpu0;
	uint64_t wall = m->ended ? m->wall : wall_ns() - m->wall0;
	double cpu_us = frames ? cpu / 1e3 / frames : 0;
	double fps = wall ? frames * 1e9 / wall : 0;
	double nspb = bytes && frames ? (double)cpu / ((double)bytes * frames) : 0;
	char line[1024];

	snprintf(line, sizeof(line), "%s,%s,%s,%s,%" PRIu64 ",%" PRIu64
		 ",%.3f,%.1f,%.4f,%s", group, name, kernel_label, boot_label,
		 bytes, frames, cpu_us, fps, nspb, note ? note : "");
	printf("%s\n", line);
	fflush(stdout);
	if (csv) {
		fprintf(csv, "%s\n", line);
		fflush(csv);
	}
}

/* zlib's crc32() */
static uint32_t crc32z(const void *data, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = data;
	uint32_t crc = ~0U;

	if (!table[1])
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The consumer "touching every byte": a sum over every byte, 8 at a time. */
static volatile uint64_t sink;

static __attribute__((noinline)) void touch(const void *p, size_t len)
{
	const uint64_t *w = p;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < len / 8; i++)
		s += w[i];
	for (i *= 8; i < len; i++)
		s += ((const uint8_t *)p)[i];
	sink += s;
}

/* ---- a zcbuf context with a configured device and mapped buffers ---- */

struct zc {
	int fd, efd;
	uint32_t nbuf, frame_size;
	bool camera;
	uint8_t *map[MAXBUF];
	size_t size[MAXBUF];
	struct zcbuf_ring_setup rs;
	uint8_t *ring;
};

/* Frame sizes of the sweep and the device configuration that makes them. */
struct size_cfg {
	const char *name;
	uint64_t bytes;		/* nominal frame size */
	uint32_t w, h;		/* camera YUYV; 0 = NIC RX 64 B packets */
	uint32_t frames;	/* measured frames */
};

static const struct size_cfg sizes[] = {
	{ "64B", 64, 0, 0, 1500 },
	{ "4KiB", 4096, 128, 16, 1500 },
	{ "64KiB", 65536, 128, 256, 400 },
	{ "1MiB", 1 << 20, 512, 1024, 40 },
	{ "8MiB", 8 << 20, 2048, 2048, 8 },
};

static void zc_open(struct zc *z, const struct size_cfg *sc, uint32_t nbuf,
		    uint32_t fps)
{
	struct zcbuf_config cfg = { 0 };
	struct zcbuf_alloc a = { 0 };

	memset(z, 0, sizeof(*z));
	z->efd = -1;
	if (nbuf > MAXBUF)
		die("%u buffers: at most %d", nbuf, MAXBUF);
	z->fd = open("/dev/zcbuf", O_RDWR | O_CLOEXEC);
	if (z->fd < 0)
		die("open /dev/zcbuf: %s", strerror(errno));
	if (sc->w) {
		cfg.personality = ZCBUF_DEV_CAMERA;
		cfg.width = sc->w;
		cfg.height = sc->h;
		cfg.pixelformat = ZCBUF_FMT_YUYV;
		cfg.fps = fps;
		z->camera = true;
	} else {
		/* One 64-byte packet per buffer: 64 B descriptor table + 64 B. */
		cfg.personality = ZCBUF_DEV_NIC_RX;
		cfg.pkt_min = cfg.pkt_max = 64;
		cfg.pkts_per_buffer = 1;
		cfg.pkt_rate = fps;
	}
	if (xioctl(z->fd, ZCBUF_IOC_CONFIG, &cfg))
		die("CONFIG %s: %s", sc->name, strerror(errno));
	z->frame_size = cfg.frame_size;
	a.size = cfg.frame_size;
	a.count = nbuf;
	if (xioctl(z->fd, ZCBUF_IOC_ALLOC, &a))
		die("ALLOC %u x %u: %s", nbuf, cfg.frame_size, strerror(errno));
	z->nbuf = nbuf;
	for (uint32_t i = 0; i < nbuf; i++) {
		struct zcbuf_query q = { .index = a.first_index + i };

		if (xioctl(z->fd, ZCBUF_IOC_QUERY, &q))
			die("QUERY: %s", strerror(errno));
		z->size[i] = q.size;
		z->map[i] = mmap(NULL, q.size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, z->fd, q.offset);
		if (z->map[i] == MAP_FAILED)
			die("mmap: %s", strerror(errno));
	}
}

static void zc_eventfd(struct zc *z)
{
	struct zcbuf_eventfd e;

	z->efd = eventfd(0, EFD_CLOEXEC);
	e.fd = z->efd;
	e.flags = 0;
	if (z->efd < 0 || xioctl(z->fd, ZCBUF_IOC_SET_EVENTFD, &e))
		die("eventfd: %s", strerror(errno));
}

static void zc_qbuf(struct zc *z, uint32_t i)
{
	struct zcbuf_qbuf q = { .index = i };

	if (xioctl(z->fd, ZCBUF_IOC_QBUF, &q))
		die("QBUF %u: %s", i, strerror(errno));
}

static void zc_start(struct zc *z)
{
	struct zcbuf_stream s = { 0 };

	for (uint32_t i = 0; i < z->nbuf; i++)
		zc_qbuf(z, i);
	if (xioctl(z->fd, ZCBUF_IOC_STREAMON, &s))
		die("STREAMON: %s", strerror(errno));
}

static void zc_close(struct zc *z)
{
	struct zcbuf_stream s = { 0 };
	struct zcbuf_stats st = { 0 };

	xioctl(z->fd, ZCBUF_IOC_STATS, &st);
	if (st.errors)
		warnx_("%" PRIu64 " frames completed with errors", (uint64_t)st.errors);
	xioctl(z->fd, ZCBUF_IOC_STREAMOFF, &s);
	for (uint32_t i = 0; i < z->nbuf; i++)
		munmap(z->map[i], z->size[i]);
	if (z->ring)
		munmap(z->ring, z->rs.mmap_size);
	if (z->efd >= 0)
		close(z->efd);
	close(z->fd);
}

static void zc_sync(struct zc *z, uint32_t i, uint32_t flags, uint64_t off,
		    uint64_t len)
{
	struct zcbuf_sync s = { .index = i, .flags = flags, .offset = off,
				.length = len };

	if (xioctl(z->fd, ZCBUF_IOC_SYNC, &s))
		die("SYNC: %s", strerror(errno));
}

static uint64_t efd_wait(int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) != sizeof(v))
		if (errno != EINTR)
			die("eventfd read: %s", strerror(errno));
	return v;
}

/* Verify one frame (camera: payload CRC) outside any timed region. */
static void zc_verify(struct zc *z, const struct zcbuf_dqbuf *d)
{
	if (!z->camera)
		return;
	zc_sync(z, d->index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, d->bytesused);
	if (crc32z(z->map[d->index], d->bytesused) != d->checksum)
		warnx_("frame %" PRIu64 ": CRC mismatch", (uint64_t)d->sequence);
	zc_sync(z, d->index, ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0, d->bytesused);
}

/*
 * The eventfd + DQBUF + QBUF consumer.  @touch_payload: sync the range,
 * read every byte, sync back.  Returns bytesused of the last frame.
 */
static uint64_t zc_consume(struct zc *z, uint32_t frames, bool touch_payload,
			   bool verify)
{
	uint64_t bytes = 0;
	uint32_t n = 0;

	while (n < frames) {
		uint64_t ready = efd_wait(z->efd);

		while (ready--) {
			struct zcbuf_dqbuf d = { 0 };

			if (xioctl(z->fd, ZCBUF_IOC_DQBUF, &d))
				die("DQBUF: %s", strerror(errno));
			if (lat_on)
				lat_add(wall_ns(), d.timestamp_ns, 1);
			if (seen_on)
				seen_add(wall_ns(), 1, d.index);
			if (d.flags & ZCBUF_DQ_ERROR)
				warnx_("frame %" PRIu64 " error", (uint64_t)d.sequence);
			if (verify)
				zc_verify(z, &d);
			if (touch_payload) {
				zc_sync(z, d.index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ,
					0, d.bytesused);
				touch(z->map[d.index], d.bytesused);
				zc_sync(z, d.index, ZCBUF_SYNC_END | ZCBUF_SYNC_READ,
					0, d.bytesused);
			}
			bytes = d.bytesused;
			zc_qbuf(z, d.index);
			n++;
		}
	}
	return bytes;
}

/* The read() consumer: one blocking read per frame into @ubuf. */
static uint64_t rd_consume(struct zc *z, uint8_t *ubuf, size_t len,
			   uint32_t frames, bool touch_payload)
{
	ssize_t r = 0;

	for (uint32_t n = 0; n < frames; n++) {
		do {
			r = read(z->fd, ubuf, len);
		} while (r < 0 && errno == EINTR);
		if (r <= 0)
			die("read: %s", r ? strerror(errno) : "EOF");
		if (touch_payload)
			touch(ubuf, r);
	}
	return r;
}

#define WARMUP	4

static void zc_ring_setup(struct zc *z);
struct ring_stats {
	uint64_t sleeps, kicks, batches;
};
static void ring_consume(struct zc *z, uint32_t frames, uint32_t *head,
			 uint32_t *tail, struct ring_stats *rst, uint32_t tick_us);

static void sweep(void)
{
	static const char *const modes[] = { "zc", "read", "zc+touch", "read+touch",
					     "ring" };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		const struct size_cfg *sc = &sizes[s];
		uint32_t nbuf = 4;

		for (int m = 0; m < 5; m++) {
			bool rd = m == 1 || m == 3, tch = m == 2 || m == 3;
			char note[320];
			struct meas ms;
			struct zc z;
			uint64_t used;
			uint8_t *ubuf = NULL;

			zc_open(&z, sc, nbuf, 0);
			if (m == 4) {
				struct ring_stats rst = { 0 };
				uint32_t head = 0, tail = 0;

				zc_eventfd(&z);
				zc_ring_setup(&z);
				zc_start(&z);
				ring_consume(&z, WARMUP, &head, &tail, &rst, 0);
				lat_start();
				meas_start(&ms);
				ring_consume(&z, sc->frames, &head, &tail, &rst, 0);
				used = z.camera ? z.frame_size : 128;
			} else if (!rd) {
				zc_eventfd(&z);
				zc_start(&z);
				zc_consume(&z, WARMUP, false, true);
				/*
				 * The CRC check above is slower than the camera
				 * from 1 MiB on: let the frames it left queued
				 * go before the latency samples start.
				 */
				zc_consume(&z, nbuf, false, false);
				lat_start();
				meas_start(&ms);
				used = zc_consume(&z, sc->frames, tch, false);
			} else {
				ubuf = malloc(z.frame_size);
				memset(ubuf, 1, z.frame_size);	/* fault it in */
				zc_start(&z);
				rd_consume(&z, ubuf, z.frame_size, WARMUP, false);
				meas_start(&ms);
				used = rd_consume(&z, ubuf, z.frame_size, sc->frames, tch);
			}
			/* The figures are taken: the note may sort samples. */
			row_end(&ms);
			if (sc->w)
				snprintf(note, sizeof(note),
					 "camera %ux%u YUYV; %u buffers; fps=0; ",
					 sc->w, sc->h, nbuf);
			else
				snprintf(note, sizeof(note),
					 "NIC RX one 64 B packet (bytesused %" PRIu64
					 " = 64 B table + packet); %u buffers; rate=0; ",
					 used, nbuf);
			if (rd)
				snprintf(note + strlen(note), sizeof(note) - strlen(note),
					 "latency n/a: read() returns the bytes and no metadata");
			else
				lat_note(note, sizeof(note), m == 4 ?
					 "CQE completion timestamp to the consumer (one clock read per batch); producer unthrottled: includes the frames queued ahead" :
					 "DQBUF completion timestamp to the consumer; producer unthrottled: includes the frames queued ahead");
			row("sweep", modes[m], used, sc->frames, &ms, note);
			free(ubuf);
			zc_close(&z);
		}
	}
}

/* ---- the ring consumer ---- */

#define RW(z, off)	((uint32_t *)((z)->ring + (off)))

static void zc_ring_setup(struct zc *z)
{
	memset(&z->rs, 0, sizeof(z->rs));
	if (xioctl(z->fd, ZCBUF_IOC_RING_SETUP, &z->rs))
		die("RING_SETUP: %s", strerror(errno));
	z->ring = mmap(NULL, z->rs.mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, z->fd, z->rs.mmap_offset);
	if (z->ring == MAP_FAILED)
		die("ring mmap: %s", strerror(errno));
}

/*
 * Header-only ring consumer: drain the CQ, give every buffer straight back on
 * the SQ, kick only when the device asked.  When the CQ is empty: with
 * @tick_us 0 sleep on the eventfd (WANT_WAKEUP set, barrier, recheck);
 * else sleep @tick_us and look again (a consumer that works in batches at
 * its own pace, as a render or network loop does: no eventfd at all).
 */
static void ring_consume(struct zc *z, uint32_t frames, uint32_t *head,
			 uint32_t *tail, struct ring_stats *rst, uint32_t tick_us)
{
	const struct zcbuf_ring_setup *rs = &z->rs;
	struct zcbuf_cqe *cqes = (void *)(z->ring + rs->cq.array);
	struct zcbuf_sqe *sqes = (void *)(z->ring + rs->sq.array);
	uint32_t mask = rs->cq.entries - 1, n = 0;
	uint64_t now;

	while (n < frames) {
		uint32_t prod = __atomic_load_n(RW(z, rs->cq.producer),
						__ATOMIC_ACQUIRE);

		if (prod == *head && tick_us) {
			struct timespec ts = { 0, tick_us * 1000L };

			nanosleep(&ts, NULL);
			rst->sleeps++;
			continue;
		}
		if (prod == *head) {
			__atomic_store_n(RW(z, rs->cq.flags),
					 ZCBUF_RING_CQ_WANT_WAKEUP, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(RW(z, rs->cq.producer),
					    __ATOMIC_ACQUIRE) == *head) {
				efd_wait(z->efd);
				rst->sleeps++;
			}
			__atomic_store_n(RW(z, rs->cq.flags), 0, __ATOMIC_RELAXED);
			continue;
		}
		rst->batches++;
		now = lat_on ? wall_ns() : 0;
		while (*head != prod) {
			const struct zcbuf_cqe *c = &cqes[*head & mask];
			struct zcbuf_sqe *s = &sqes[*tail & (rs->sq.entries - 1)];

			lat_add(now, c->timestamp_ns, 1);
			if (c->flags & ZCBUF_DQ_ERROR)
				warnx_("frame %" PRIu64 " error", (uint64_t)c->sequence);
			s->index = c->index;
			s->flags = 0;
			s->bytesused = 0;
			(*head)++;
			(*tail)++;
			n++;
		}
		__atomic_store_n(RW(z, rs->cq.consumer), *head, __ATOMIC_RELEASE);
		__atomic_store_n(RW(z, rs->sq.producer), *tail, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(RW(z, rs->sq.flags), __ATOMIC_RELAXED) &
		    ZCBUF_RING_SQ_NEED_WAKEUP) {
			struct zcbuf_ring_kick k = { 0 };

			if (xioctl(z->fd, ZCBUF_IOC_RING_KICK, &k))
				die("RING_KICK: %s", strerror(errno));
			rst->kicks++;
		}
	}
}

/*
 * The eventfd+ioctl consumer in batches at its own pace: sleep @tick_us,
 * then DQBUF until EAGAIN, QBUF each (no eventfd).
 */
static void zc_consume_tick(struct zc *z, uint32_t frames, uint32_t tick_us,
			    uint64_t *sleeps)
{
	uint32_t n = 0;

	while (n < frames) {
		struct zcbuf_dqbuf d = { 0 };

		if (xioctl(z->fd, ZCBUF_IOC_DQBUF, &d)) {
			struct timespec ts = { 0, tick_us * 1000L };

			if (errno != EAGAIN)
				die("DQBUF: %s", strerror(errno));
			nanosleep(&ts, NULL);
			(*sleeps)++;
			continue;
		}
		zc_qbuf(z, d.index);
		n++;
	}
}

#define TICK_US	2000

static void ring_vs_ioctl(void)
{
	const struct size_cfg *sc = &sizes[1];	/* 4 KiB */
	const uint32_t nbuf = 64, frames = 3000;

	for (int v = 0; v < 4; v++) {
		bool ring = v & 1;
		uint32_t tick = v & 2 ? TICK_US : 0;
		struct ring_stats rst = { 0 };
		uint32_t head = 0, tail = 0;
		uint64_t dev0, sleeps = 0;
		char note[256], name[32];
		struct meas ms;
		struct zc z;

		zc_open(&z, sc, nbuf, 0);
		zc_eventfd(&z);
		if (ring)
			zc_ring_setup(&z);
		zc_start(&z);
		if (ring)
			ring_consume(&z, WARMUP, &head, &tail, &rst, tick);
		else
			zc_consume(&z, WARMUP, false, true);
		memset(&rst, 0, sizeof(rst));
		dev0 = dev_cpu_ns();
		meas_start(&ms);
		if (ring)
			ring_consume(&z, frames, &head, &tail, &rst, tick);
		else if (tick)
			zc_consume_tick(&z, frames, tick, &sleeps);
		else
			zc_consume(&z, frames, false, false);
		dev0 = dev_cpu_ns() - dev0;
		snprintf(name, sizeof(name), "%s%s", ring ? "ring" : "ioctl",
			 tick ? "-batch" : "");
		if (ring)
			snprintf(note, sizeof(note), "CQ/SQ%s; %" PRIu64 " %s, %" PRIu64
				 " kicks, %.1f frames per batch",
				 tick ? " polled every 2 ms" : " + eventfd when idle",
				 rst.sleeps, tick ? "nanosleeps" : "eventfd sleeps",
				 rst.kicks, (double)frames / (rst.batches ? rst.batches : 1));
		else if (tick)
			snprintf(note, sizeof(note), "DQBUF until EAGAIN every 2 ms, "
				 "QBUF each; %" PRIu64 " nanosleeps", sleeps);
		else
			snprintf(note, sizeof(note), "eventfd read + DQBUF + QBUF per frame");
		snprintf(note + strlen(note), sizeof(note) - strlen(note),
			 "; device thread %.1f us/frame; camera 128x16 YUYV; %u buffers; fps=0",
			 dev0 / 1e3 / frames, nbuf);
		row("ring", name, z.frame_size, frames, &ms, note);
		if (ring && *RW(&z, z.rs.sq.errors))
			warnx_("SQ errors: %u", *RW(&z, z.rs.sq.errors));
		zc_close(&z);
	}
}

/* ---- sync cost: full buffer vs a range, on the device's mapping ---- */

static void sync_cost(void)
{
	const struct size_cfg *sc = &sizes[4];	/* 8 MiB */
	static const struct { const char *name; uint64_t len; uint32_t n; } r[] = {
		{ "full", 0, 6 }, { "range64KiB", 65536, 100 }, { "range4KiB", 4096, 300 },
	};
	struct zc z;

	zc_open(&z, sc, 1, 0);
	zc_eventfd(&z);
	zc_start(&z);
	/* One frame in: the buffer has its device mapping (bounced or not). */
	efd_wait(z.efd);
	{
		struct zcbuf_dqbuf d = { 0 };

		if (xioctl(z.fd, ZCBUF_IOC_DQBUF, &d))
			die("DQBUF: %s", strerror(errno));
		zc_verify(&z, &d);
	}
	for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		uint64_t len = r[k].len ? r[k].len : z.frame_size;
		char note[160];
		struct meas ms;

		meas_start(&ms);
		for (uint32_t i = 0; i < r[k].n; i++) {
			zc_sync(&z, 0, ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, len);
			zc_sync(&z, 0, ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0, len);
		}
		snprintf(note, sizeof(note), "SYNC START+END READ of %" PRIu64
			 " B of an 8 MiB camera buffer (per pair)", len);
		row("sync", r[k].name, len, r[k].n, &ms, note);
	}
	zc_close(&z);
}

/* ---- camera -> TCP over loopback: MSG_ZEROCOPY vs send() ---- */

static int tcp_pair(int *srv_pid)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int ls, s, one = 1;
	pid_t pid;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (void *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (void *)&a, &al))
		die("listen: %s", strerror(errno));
	pid = fork();
	if (!pid) {
		static char buf[1 << 20];
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			_exit(1);
		while (recv(c, buf, sizeof(buf), 0) > 0)
			;
		_exit(0);
	}
	close(ls);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (void *)&a, sizeof(a)))
		die("connect: %s", strerror(errno));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*srv_pid = pid;
	return s;
}

/* Read zerocopy completions; return the highest completed send id + 1. */
static uint32_t zc_completions(int s, uint32_t done, uint64_t *copied)
{
	char ctrl[256];
	struct msghdr msg = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
	struct pollfd p = { .fd = s, .events = 0 };

	if (poll(&p, 1, 5000) != 1)
		die("zerocopy completion timed out");
	while (recvmsg(s, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
		     cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err *ee = (void *)CMSG_DATA(cm);

			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				continue;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				*copied += ee->ee_data - ee->ee_info + 1;
			if (ee->ee_data + 1 > done)
				done = ee->ee_data + 1;
		}
		msg.msg_controllen = sizeof(ctrl);
	}
	return done;
}

static void tcp_bench(void)
{
	const struct size_cfg *sc = &sizes[3];	/* 1 MiB */
	const uint32_t frames = 40;

	for (int zcmode = 1; zcmode >= 0; zcmode--) {
		uint32_t sends = 0, completed = 0;
		uint64_t copied = 0, bytes = 0;
		int s, pid, one = 1, st;
		char note[192];
		struct meas ms;
		struct zc z;

		zc_open(&z, sc, 4, 0);
		zc_eventfd(&z);
		s = tcp_pair(&pid);
		if (zcmode && setsockopt(s, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
			die("SO_ZEROCOPY: %s", strerror(errno));
		zc_start(&z);
		meas_start(&ms);
		for (uint32_t n = 0; n < frames + WARMUP; n++) {
			struct zcbuf_dqbuf d = { 0 };
			size_t off = 0;

			if (n == WARMUP)
				meas_start(&ms), bytes = 0;
			while (xioctl(z.fd, ZCBUF_IOC_DQBUF, &d)) {
				if (errno != EAGAIN)
					die("DQBUF: %s", strerror(errno));
				efd_wait(z.efd);
			}
			/* The kernel reads the pages (CPU copy on loopback). */
			zc_sync(&z, d.index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
				d.bytesused);
			while (off < d.bytesused) {
				ssize_t r = send(s, z.map[d.index] + off,
						 d.bytesused - off,
						 zcmode ? MSG_ZEROCOPY : 0);

				if (r < 0) {
					if (errno == ENOBUFS || errno == EINTR)
						continue;
					die("send: %s", strerror(errno));
				}
				off += r;
				sends++;
			}
			bytes += d.bytesused;
			/* Zero copy: the buffer is the kernel's until completion. */
			while (zcmode && completed < sends)
				completed = zc_completions(s, completed, &copied);
			zc_sync(&z, d.index, ZCBUF_SYNC_END | ZCBUF_SYNC_READ, 0,
				d.bytesused);
			zc_qbuf(&z, d.index);
		}
		if (zcmode)
			snprintf(note, sizeof(note), "MSG_ZEROCOPY; %u sends, %" PRIu64
				 " reported copied by the kernel (loopback always copies)",
				 sends, copied);
		else
			snprintf(note, sizeof(note), "send() copy; %u sends", sends);
		row("tcp", zcmode ? "msg_zerocopy" : "send", bytes / frames, frames,
		    &ms, note);
		close(s);
		waitpid(pid, &st, 0);
		zc_close(&z);
	}
}

/* ---- memcpy reference ---- */

static void memcpy_ref(void)
{
	static const struct { const char *name; size_t len; uint32_t n; } r[] = {
		{ "memcpy4KiB", 4096, 20000 }, { "memcpy1MiB", 1 << 20, 100 },
		{ "memcpy8MiB", 8 << 20, 12 },
	};

	for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		uint8_t *a = malloc(r[k].len), *b = malloc(r[k].len);
		char note[96];
		struct meas ms;

		memset(a, 1, r[k].len);
		memset(b, 2, r[k].len);
		meas_start(&ms);
		for (uint32_t i = 0; i < r[k].n; i++) {
			memcpy(i & 1 ? a : b, i & 1 ? b : a, r[k].len);
			__asm__ volatile("" ::: "memory");
		}
		{
			uint64_t cpu = cpu_ns() - ms.cpu0;

			snprintf(note, sizeof(note), "glibc memcpy, %.2f GB/s of one CPU",
				 (double)r[k].len * r[k].n / (cpu ? cpu : 1));
		}
		row("memcpy", r[k].name, r[k].len, r[k].n, &ms, note);
		free(a);
		free(b);
	}
}

/* ---- V4L2 anchor: vivid, MMAP streaming, poll + DQBUF + QBUF ---- */

static int find_vivid(void)
{
	char path[64];

	for (int i = 0; i < 16; i++) {
		struct v4l2_capability cap = { 0 };
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!xioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (cap.device_caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Frames per latency sample (vivid's latency stream, zcbuf's paced rows):
 * p99 of 120 is the second-largest, of vivid's 20-60 measured frames it
 * would be the largest.
 */
#define LAT_FRAMES	120

/* vivid's next frame: poll (10 s at most), then VIDIOC_DQBUF. */
static struct v4l2_buffer vivid_dqbuf(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };

	if (poll(&p, 1, 10000) != 1)
		die("vivid: no frame in 10 s");
	if (xioctl(fd, VIDIOC_DQBUF, &b))
		die("VIDIOC_DQBUF: %s", strerror(errno));
	return b;
}

/*
 * vivid's completion-to-consumer latency, in a stream of its own after the
 * measured one (tracing costs CPU).  vivid stamps a buffer with its
 * nominal frame time, not when it finished it, so the completion is the
 * tracepoint vb2:vb2_buf_done, which fires in vb2_buffer_done() when vivid
 * hands the filled buffer back, before the waiter is woken.  Buffers
 * complete in the order they were queued and are dequeued in that order:
 * the k-th event is the k-th DQBUF (its buffer index checked).
 */
static void vivid_latency(int fd, uint32_t nbuf, uint32_t frames, char *note,
			  size_t len)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, ntr;
	char err[160] = "";
	long bad;

	for (uint32_t i = 0; i < nbuf; i++) {
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					 .memory = V4L2_MEMORY_MMAP, .index = i };

		if (xioctl(fd, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF: %s", strerror(errno));
	}
	if (trace_begin("vb2/vb2_buf_done", err, sizeof(err))) {
		snprintf(note + strlen(note), len - strlen(note), "latency n/a: %s", err);
		return;
	}
	nseen = 0;
	seen_on = true;
	if (xioctl(fd, VIDIOC_STREAMON, &type))
		die("VIDIOC_STREAMON: %s", strerror(errno));
	for (uint32_t n = 0; n < WARMUP + frames; n++) {
		struct v4l2_buffer b = vivid_dqbuf(fd);

		seen_add(wall_ns(), 1, b.index);
		if (xioctl(fd, VIDIOC_QBUF, &b))
			die("VIDIOC_QBUF: %s", strerror(errno));
	}
	seen_on = false;
	ntr = trace_end("vb2/vb2_buf_done");
	xioctl(fd, VIDIOC_STREAMOFF, &type);
	bad = ntr < 0 ? -1 : lat_from_trace(WARMUP, true);
	if (bad < 0) {
		lat_on = false;
		snprintf(note + strlen(note), len - strlen(note), "latency n/a: %u "
			 "vb2_buf_done events for %u frames%s", ntrace, WARMUP + frames,
			 ntr < 0 ? " (trace buffer overran)" : "");
		return;
	}
	lat_note(note, len, "vb2:vb2_buf_done tracepoint to DQBUF; a stream of its own with the tracepoint on");
	if (bad)
		snprintf(note + strlen(note), len - strlen(note),
			 "%ld events of another buffer than the one dequeued", bad);
}

/*
 * zcbuf's latency with vivid's kind of marker, in a stream of its own as
 * vivid's: the tracepoint zcbuf:zcbuf_complete fires in
 * zcbuf_queue_complete() where vb2:vb2_buf_done fires in vb2_buffer_done()
 * (the buffer on the done list, before the waiter is woken; the
 * simulated camera's timestamp_ns is read earlier, before the fence is
 * signalled and the done list taken).
 */
static void zc_traced_latency(const struct size_cfg *sc, uint32_t fps,
			      uint32_t frames, char *note, size_t len)
{
	char err[160] = "";
	struct zc z;
	long bad;
	int ntr;

	zc_open(&z, sc, 4, fps);
	zc_eventfd(&z);
	if (trace_begin("zcbuf/zcbuf_complete", err, sizeof(err))) {
		snprintf(note + strlen(note), len - strlen(note), "latency n/a: %s; ", err);
		zc_close(&z);
		return;
	}
	nseen = 0;
	seen_on = true;
	zc_start(&z);
	zc_consume(&z, WARMUP + frames, false, false);
	seen_on = false;
	ntr = trace_end("zcbuf/zcbuf_complete");
	zc_close(&z);
	bad = ntr < 0 ? -1 : lat_from_trace(WARMUP, true);
	if (bad < 0) {
		lat_on = false;
		snprintf(note + strlen(note), len - strlen(note), "latency n/a: %u "
			 "zcbuf_complete events for %u frames%s; ", ntrace,
			 WARMUP + frames, ntr < 0 ? " (trace buffer overran)" : "");
		return;
	}
	lat_note(note, len, "zcbuf:zcbuf_complete tracepoint to DQBUF; a stream of its own with the tracepoint on");
	if (bad)
		snprintf(note + strlen(note), len - strlen(note),
			 "%ld events of another buffer than the one dequeued; ", bad);
}

/*
 * zcbuf's camera paced at @fps, @w x @h (vivid's size and rate), 4 buffers:
 * the eventfd + DQBUF + QBUF consumer and the ring consumer woken per
 * completion, with the completion timestamp zcbuf hands over (DQBUF,
 * CQE).  No tracing: the timestamp is part of every completion.
 */
static void paced(uint32_t w, uint32_t h, uint32_t fps, uint32_t frames)
{
	const struct size_cfg sc = { "paced", (uint64_t)w * h * 2, w, h, frames };

	for (int ring = 0; ring < 2; ring++) {
		struct ring_stats rst = { 0 };
		uint32_t head = 0, tail = 0;
		char note[640], also[160] = "";
		uint32_t fsz;
		struct meas ms;
		struct zc z;

		zc_open(&z, &sc, 4, fps);
		zc_eventfd(&z);
		if (ring)
			zc_ring_setup(&z);
		zc_start(&z);
		/*
		 * No CRC check in the warm-up: at 1 MiB and more it takes longer
		 * than a frame period and the measured frames would start
		 * behind, queued (vivid's consumer checks nothing either).
		 */
		if (ring)
			ring_consume(&z, WARMUP, &head, &tail, &rst, 0);
		else
			zc_consume(&z, WARMUP, false, false);
		lat_start();
		meas_start(&ms);
		if (ring)
			ring_consume(&z, frames, &head, &tail, &rst, 0);
		else
			zc_consume(&z, frames, false, false);
		row_end(&ms);
		snprintf(note, sizeof(note), "zcbuf camera %ux%u YUYV at %u frames/s "
			 "(vivid's size and rate); 4 buffers; %s; ", w, h, fps,
			 ring ? "CQ/SQ ring + eventfd when idle" : "eventfd read + DQBUF + QBUF");
		fsz = z.frame_size;
		zc_close(&z);
		if (ring) {
			lat_note(note, sizeof(note), "CQE completion timestamp to the consumer");
		} else {
			/* Like for like with vivid first (the target reads it). */
			lat_note_also(also, sizeof(also), "DQBUF timestamp_ns to the consumer in the measured stream");
			zc_traced_latency(&sc, fps, frames, note, sizeof(note));
			snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s", also);
		}
		row("lat", ring ? "ring-paced" : "zc-paced", fsz, frames, &ms, note);
	}
}

static void v4l2_bench(void)
{
	static const struct { const char *name; uint32_t w, h, frames; } r[] = {
		{ "vivid320x180", 320, 180, 60 },
		{ "vivid1280x720", 1280, 720, 30 },
		{ "vivid1920x1080", 1920, 1080, 20 },
	};

	for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
		struct v4l2_requestbuffers req = { 0 };
		struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
		int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, input = 0;
		void *maps[8] = { 0 };
		size_t lens[8] = { 0 };
		uint64_t bytes = 0;
		char note[512];
		struct meas ms;
		int fd = find_vivid();

		if (fd < 0) {
			warnx_("no vivid capture device (modprobe vivid?)");
			return;
		}
		xioctl(fd, VIDIOC_S_INPUT, &input);	/* webcam */
		fmt.fmt.pix.width = r[k].w;
		fmt.fmt.pix.height = r[k].h;
		fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		fmt.fmt.pix.field = V4L2_FIELD_NONE;
		if (xioctl(fd, VIDIOC_S_FMT, &fmt))
			die("VIDIOC_S_FMT: %s", strerror(errno));
		/* As fast as vivid will go at this size. */
		parm.parm.capture.timeperframe.numerator = 1;
		parm.parm.capture.timeperframe.denominator = 60;
		xioctl(fd, VIDIOC_S_PARM, &parm);
		req.count = 4;
		req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		req.memory = V4L2_MEMORY_MMAP;
		if (xioctl(fd, VIDIOC_REQBUFS, &req) || req.count > 8)
			die("VIDIOC_REQBUFS: %s", strerror(errno));
		for (uint32_t i = 0; i < req.count; i++) {
			struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
						 .memory = V4L2_MEMORY_MMAP, .index = i };

			if (xioctl(fd, VIDIOC_QUERYBUF, &b))
				die("VIDIOC_QUERYBUF: %s", strerror(errno));
			lens[i] = b.length;
			maps[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, b.m.offset);
			if (maps[i] == MAP_FAILED)
				die("mmap video: %s", strerror(errno));
			if (xioctl(fd, VIDIOC_QBUF, &b))
				die("VIDIOC_QBUF: %s", strerror(errno));
		}
		if (xioctl(fd, VIDIOC_STREAMON, &type))
			die("VIDIOC_STREAMON: %s", strerror(errno));
		for (int pass = 0; pass < 2; pass++) {
			uint32_t want = pass ? r[k].frames : WARMUP;

			meas_start(&ms);
			for (uint32_t n = 0; n < want; n++) {
				struct v4l2_buffer b = vivid_dqbuf(fd);

				bytes = b.bytesused;
				if (xioctl(fd, VIDIOC_QBUF, &b))
					die("VIDIOC_QBUF: %s", strerror(errno));
			}
		}
		row_end(&ms);
		xioctl(fd, VIDIOC_STREAMOFF, &type);
		snprintf(note, sizeof(note), "vivid webcam %ux%u YUYV; MMAP; "
			 "poll + DQBUF + QBUF; 4 buffers; %u/%u s per frame; ",
			 fmt.fmt.pix.width, fmt.fmt.pix.height,
			 parm.parm.capture.timeperframe.numerator,
			 parm.parm.capture.timeperframe.denominator);
		vivid_latency(fd, req.count, LAT_FRAMES, note, sizeof(note));
		row("v4l2", r[k].name, bytes ? bytes : fmt.fmt.pix.sizeimage,
		    r[k].frames, &ms, note);
		for (uint32_t i = 0; i < req.count; i++)
			munmap(maps[i], lens[i]);
		close(fd);
		/* zcbuf's camera at vivid's size and frame rate: latency like for like. */
		paced(fmt.fmt.pix.width, fmt.fmt.pix.height,
		      parm.parm.capture.timeperframe.denominator /
		      (parm.parm.capture.timeperframe.numerator ?
		       parm.parm.capture.timeperframe.numerator : 1), LAT_FRAMES);
	}
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "k:b:o:")) != -1) {
		switch (opt) {
		case 'k': kernel_label = optarg; break;
		case 'b': boot_label = optarg; break;
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "usage: zcbench [-k KERNEL] [-b BOOT] [-o CSV] "
				"sweep|ring|sync|tcp|memcpy|v4l2|all...\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (out) {
		csv = fopen(out, "a");
		if (!csv)
			die("%s: %s", out, strerror(errno));
	}
	for (int i = optind; i < argc; i++) {
		bool all = !strcmp(argv[i], "all");

		if (all || !strcmp(argv[i], "memcpy"))
			memcpy_ref();
		if (all || !strcmp(argv[i], "sweep"))
			sweep();
		if (all || !strcmp(argv[i], "ring"))
			ring_vs_ioctl();
		if (all || !strcmp(argv[i], "v4l2"))
			v4l2_bench();
		if (all || !strcmp(argv[i], "sync"))
			sync_cost();
		if (all || !strcmp(argv[i], "tcp"))
			tcp_bench();
	}
	if (csv)
		fclose(csv);
	if (failures)
		fprintf(stderr, "zcbench: %d problem(s) above\n", failures);
	return failures ? 1 : 0;
}
