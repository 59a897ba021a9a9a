// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: stream frames from the zcbuf simulated camera (or NIC RX)
 * into mmapped DMA-buf buffers, verify every one and hand it to a sink, with
 * no copy in user space.  In the spirit of `v4l2-ctl --stream-mmap`.
 *
 * The loop: wait for a completion (eventfd, or poll() on the device) and for
 * the sink's own fd if it has one (MSG_ZEROCOPY completions); DQBUF every
 * done buffer; ZCBUF_SYNC START|READ over the bytes used; check size,
 * sequence and CRC-32 against what the device reported; give the frame to
 * the sink; when the sink is done with it, SYNC END|READ and QBUF it again.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "capture.h"

#define MAX_REPORTS	5	/* mismatch messages printed, at most */
#define STATUS_MS	500

struct slot {
	void *map;
	size_t size;
	uint64_t bytesused;
	bool with_sink;
};

struct capture {
	const struct options *opt;
	int fd, efd;
	struct zcbuf_ring ring;		/* --ring */
	struct zcbuf_config cfg;
	unsigned int first, nbuf;
	struct slot slots[MAX_BUFFERS];
	const struct sink_ops *sink;
	void *sink_state;
	struct counters c;
	uint64_t next_seq, next_pkt;
	uint64_t pkt_gaps;
	uint64_t last_ts;	/* -v: previous buffer's timestamp */
	unsigned int reports;
	bool stopping;
	int fatal;		/* -errno that ended the run, 0 */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void report(struct capture *cap, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(struct capture *cap, const char *fmt, ...)
{
	va_list ap;

	cap->c.bad++;
	if (cap->reports++ >= MAX_REPORTS)
		return;
	fprintf(stderr, "\nzcbuf-capture: MISMATCH: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cap->reports == MAX_REPORTS)
		fprintf(stderr, "zcbuf-capture: (further mismatches counted, "
			"not shown)\n");
}

/* The sink (or the loop) is done with a buffer: back to the device. */
static int release_slot(void *ctx, unsigned int slot)
{
	struct capture *cap = ctx;
	struct slot *s = &cap->slots[slot];
	unsigned int index = cap->first + slot;
	int ret;

	s->with_sink = false;
	if (s->bytesused && !cap->opt->no_sync) {
		ret = zcbuf_sync_end(cap->fd, index, 0, s->bytesused,
				     ZCBUF_SYNC_READ);
		if (ret) {
			fprintf(stderr, "\nzcbuf-capture: sync end %u: %s\n",
				index, strerror(-ret));
			return ret;
		}
	}
	if (cap->stopping)
		return 0;
	if (cap->ring.map) {
		ret = zcbuf_submit_buffer(&cap->ring, index, 0);
		if (ret != -EAGAIN) {
			if (ret)
				fprintf(stderr, "\nzcbuf-capture: submit %u: "
					"%s\n", index, strerror(-ret));
			return ret;
		}
		/* SQ full (cannot happen: it has a slot per buffer). */
	}
	ret = zcbuf_queue_buffer(cap->fd, index, 0);
	if (ret)
		fprintf(stderr, "\nzcbuf-capture: queue %u: %s\n", index,
			strerror(-ret));
	return ret;
}

static void verify_camera(struct capture *cap, const struct zcbuf_dqbuf *dq,
			  const uint8_t *data)
{
	uint32_t crc;

	if (dq->bytesused != cap->cfg.frame_size) {
		report(cap, "frame %llu: bytesused %llu, frame size is %u",
		       (unsigned long long)dq->sequence,
		       (unsigned long long)dq->bytesused, cap->cfg.frame_size);
		return;
	}
	crc = zcbuf_crc32(0, data, dq->bytesused);
	if (crc != dq->checksum)
		report(cap, "frame %llu (buffer %u): CRC-32 %08x, device "
		       "says %08x", (unsigned long long)dq->sequence,
		       dq->index, crc, dq->checksum);
}

static void verify_rx(struct capture *cap, const struct zcbuf_dqbuf *dq,
		      const uint8_t *data)
{
	const struct zcbuf_config *cfg = &cap->cfg;
	size_t table = ((size_t)cfg->pkts_per_buffer *
			sizeof(struct zcbuf_pkt_desc) + 63) & ~(size_t)63;
	unsigned long long seq = dq->sequence;
	struct zcbuf_pkt_desc d;
	uint64_t end = 0, number;
	uint32_t i, crc;

	if (dq->npackets > cfg->pkts_per_buffer) {
		report(cap, "buffer %llu: %u packets, at most %u", seq,
		       dq->npackets, cfg->pkts_per_buffer);
		return;
	}
	crc = zcbuf_crc32(0, data, (size_t)dq->npackets * sizeof(d));
	if (crc != dq->checksum) {
		report(cap, "buffer %llu: descriptor table CRC-32 %08x, device "
		       "says %08x", seq, crc, dq->checksum);
		return;
	}
	for (i = 0; i < dq->npackets; i++) {
		memcpy(&d, data + (size_t)i * sizeof(d), sizeof(d));
		if (d.offset < table || d.offset % 64 || d.reserved ||
		    d.length < cfg->pkt_min || d.length > cfg->pkt_max ||
		    (uint64_t)d.offset + d.length > dq->bytesused) {
			report(cap, "buffer %llu packet %u: offset %u length "
			       "%u (bytesused %llu) out of bounds", seq, i,
			       d.offset, d.length,
			       (unsigned long long)dq->bytesused);
			return;
		}
		crc = zcbuf_crc32(0, data + d.offset, d.length);
		if (crc != d.checksum) {
			report(cap, "buffer %llu packet %u: CRC-32 %08x, "
			       "descriptor says %08x", seq, i, crc,
			       d.checksum);
			return;
		}
		/* Each packet starts with its number (little endian). */
		memcpy(&number, data + d.offset, sizeof(number));
		number = le64toh(number);
		if (cap->c.packets && number != cap->next_pkt)
			cap->pkt_gaps++;
		cap->next_pkt = number + 1;
		cap->c.packets++;
		end = (uint64_t)d.offset + d.length;
	}
	if (dq->npackets && end != dq->bytesused)
		report(cap, "buffer %llu: bytesused %llu, packets end at %llu",
		       seq, (unsigned long long)dq->bytesused,
		       (unsigned long long)end);
}

/*
 * -v: one line per dequeued buffer, as libcamera's cam prints them: the
 * device's CLOCK_MONOTONIC timestamp in seconds, the rate since the
 * previous buffer, sequence, bytes used, buffer index (and packets, flags).
 */
static void print_frame(struct capture *cap, const struct zcbuf_dqbuf *dq)
{
	char rate[32] = "";

	if (cap->last_ts && dq->timestamp_ns > cap->last_ts)
		snprintf(rate, sizeof(rate), " (%.2f fps)",
			 1e9 / (double)(dq->timestamp_ns - cap->last_ts));
	cap->last_ts = dq->timestamp_ns;
	printf("%llu.%06llu%s seq: %06llu bytesused: %llu buffer: %u",
	       (unsigned long long)(dq->timestamp_ns / 1000000000),
	       (unsigned long long)(dq->timestamp_ns % 1000000000 / 1000),
	       rate, (unsigned long long)dq->sequence,
	       (unsigned long long)dq->bytesused, dq->index);
	if (cap->cfg.personality == ZCBUF_DEV_NIC_RX)
		printf(" packets: %u", dq->npackets);
	printf("%s\n", dq->flags & ZCBUF_DQ_ERROR ? " error" : "");
}

static int handle_done(struct capture *cap, const struct zcbuf_dqbuf *dq)
{
	unsigned int slot = dq->index - cap->first;
	struct slot *s;
	struct frame f;
	uint64_t bad_before = cap->c.bad;
	int ret;

	if (dq->index < cap->first || slot >= cap->nbuf) {
		report(cap, "DQBUF returned index %u, not one of ours",
		       dq->index);
		return 0;
	}
	s = &cap->slots[slot];
	s->bytesused = 0;
	cap->c.frames++;
	if (cap->opt->verbose)
		print_frame(cap, dq);

	/* Sequence: starts at 0 on STREAMON, gaps are dropped frames. */
	if (dq->sequence < cap->next_seq)
		report(cap, "sequence %llu after %llu",
		       (unsigned long long)dq->sequence,
		       (unsigned long long)cap->next_seq - 1);
	else
		cap->c.gaps += dq->sequence - cap->next_seq;
	cap->next_seq = dq->sequence + 1;

	if (dq->flags & ZCBUF_DQ_ERROR) {
		cap->c.device_errors++;
		return release_slot(cap, slot);
	}
	if (dq->bytesused > s->size) {
		report(cap, "frame %llu: bytesused %llu > buffer size %zu",
		       (unsigned long long)dq->sequence,
		       (unsigned long long)dq->bytesused, s->size);
		return release_slot(cap, slot);
	}
	cap->c.bytes += dq->bytesused;
	if (dq->bytesused && !cap->opt->no_sync) {
		ret = zcbuf_sync_begin(cap->fd, dq->index, 0, dq->bytesused,
				       ZCBUF_SYNC_READ);
		if (ret) {
			fprintf(stderr, "\nzcbuf-capture: sync begin %u: %s\n",
				dq->index, strerror(-ret));
			return ret;
		}
		s->bytesused = dq->bytesused;
	}
	if (cap->cfg.personality == ZCBUF_DEV_CAMERA)
		verify_camera(cap, dq, s->map);
	else
		verify_rx(cap, dq, s->map);
	if (cap->c.bad != bad_before)
		return release_slot(cap, slot);

	memset(&f, 0, sizeof(f));
	f.index = dq->index;
	f.slot = slot;
	f.data = s->map;
	f.map_size = s->size;
	f.bytesused = dq->bytesused;
	f.sequence = dq->sequence;
	f.checksum = dq->checksum;
	/* NIC RX: the device's checksum covers the descriptor table only. */
	f.checksum_is_payload = cap->cfg.personality == ZCBUF_DEV_CAMERA;
	s->with_sink = true;
	ret = cap->sink->consume(cap->sink_state, &f);
	if (ret < 0)
		return ret;
	return ret == 0 ? release_slot(cap, slot) : 0;
}

static int drain_ring(struct capture *cap)
{
	struct zcbuf_cqe cqes[MAX_BUFFERS];
	struct zcbuf_dqbuf dq;
	unsigned int max = MAX_BUFFERS;
	int i, n, ret;

	for (;;) {
		if (cap->opt->frames) {
			if (cap->c.frames >= cap->opt->frames)
				return 0;
			if (cap->opt->frames - cap->c.frames < max)
				max = (unsigned int)(cap->opt->frames -
						     cap->c.frames);
		}
		n = zcbuf_get_completions(&cap->ring, cqes, max);
		if (n < 0) {
			fprintf(stderr, "\nzcbuf-capture: completion ring: "
				"%s\n", strerror(-n));
			return n;
		}
		if (!n)
			return 0;
		for (i = 0; i < n; i++) {
			/* A CQE is a zcbuf_dqbuf without the reserved tail. */
			memset(&dq, 0, sizeof(dq));
			dq.index = cqes[i].index;
			dq.flags = cqes[i].flags;
			dq.sequence = cqes[i].sequence;
			dq.timestamp_ns = cqes[i].timestamp_ns;
			dq.bytesused = cqes[i].bytesused;
			dq.checksum = cqes[i].checksum;
			dq.npackets = cqes[i].npackets;
			ret = handle_done(cap, &dq);
			if (ret)
				return ret;
		}
	}
}

static int drain_done(struct capture *cap)
{
	struct zcbuf_dqbuf dq;
	int ret;

	if (cap->ring.map)
		return drain_ring(cap);

	for (;;) {
		if (cap->opt->frames && cap->c.frames >= cap->opt->frames)
			return 0;
		ret = zcbuf_dequeue_buffer(cap->fd, &dq);
		if (ret == -EAGAIN)
			return 0;
		if (ret) {
			fprintf(stderr, "\nzcbuf-capture: dequeue: %s\n",
				strerror(-ret));
			return ret;
		}
		ret = handle_done(cap, &dq);
		if (ret)
			return ret;
	}
}

/* Why a device node did not open, and what to do about it. */
static void open_error(const char *path, int err)
{
	fprintf(stderr, "zcbuf-capture: %s: %s\n", path, strerror(-err));
	if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
		fprintf(stderr, "zcbuf-capture: is the zcbuf module loaded? "
			"(sudo modprobe zcbuf_sim: the simulated devices, it "
			"loads zcbuf too; zcbuf-capture --list-devices lists "
			"the nodes)\n");
	else if (err == -EACCES || err == -EPERM)
		fprintf(stderr, "zcbuf-capture: the udev rule 60-zcbuf.rules "
			"(package zcbuf-dkms, or make install) gives zcbuf "
			"devices to the group \"video\" (mode 0660) and to the "
			"user logged in at the seat: install it (then sudo "
			"udevadm trigger) and add yourself to the group (sudo "
			"usermod -aG video $USER, then log in again), or run "
			"as root\n");
}

static int setup_device(struct capture *cap)
{
	const struct options *opt = cap->opt;
	struct zcbuf_info info;
	unsigned int i;
	int ret;

	ret = zcbuf_check_version(LIBZCBUF_VERSION_MAJOR, LIBZCBUF_VERSION_MINOR);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: libzcbuf %u.%u cannot serve a "
			"program built for %d.%d\n", zcbuf_version() >> 16,
			zcbuf_version() & 0xffff, LIBZCBUF_VERSION_MAJOR,
			LIBZCBUF_VERSION_MINOR);
		return ret;
	}
	cap->fd = zcbuf_open(opt->device_path, O_CLOEXEC);
	if (cap->fd < 0) {
		open_error(opt->device_path, cap->fd);
		return cap->fd;
	}
	ret = zcbuf_get_info(cap->fd, &info);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: info: %s\n", strerror(-ret));
		return ret;
	}
	if (info.version >> 16 != ZCBUF_API_VERSION_MAJOR) {
		fprintf(stderr, "zcbuf-capture: module speaks zcbuf ABI %u.%u, "
			"this program %d.%d\n", info.version >> 16,
			info.version & 0xffff, ZCBUF_API_VERSION_MAJOR,
			ZCBUF_API_VERSION_MINOR);
		return -EPROTO;
	}
	if (!(info.caps & (opt->personality == ZCBUF_DEV_CAMERA ?
			   ZCBUF_CAP_CAMERA : ZCBUF_CAP_NIC))) {
		fprintf(stderr, "zcbuf-capture: this zcbuf module has no %s "
			"device (caps %#x)\n", opt->personality ==
			ZCBUF_DEV_CAMERA ? "camera" : "NIC", info.caps);
		return -EOPNOTSUPP;
	}

	if (opt->strict && !(info.caps & ZCBUF_CAP_STRICT)) {
		fprintf(stderr, "zcbuf-capture: this zcbuf module has no strict "
			"ownership mode\n");
		return -EOPNOTSUPP;
	}

	memset(&cap->cfg, 0, sizeof(cap->cfg));
	if (opt->device_name) {
		ret = zcbuf_find_device(cap->fd, opt->device_name, NULL);
		if (ret < 0) {
			fprintf(stderr, "zcbuf-capture: no zcbuf device %s (%s): "
				"see --list-devices\n", opt->device_name,
				strerror(-ret));
			return ret;
		}
		cap->cfg.device = (uint32_t)ret;
	}
	cap->cfg.personality = opt->personality;
	if (opt->strict)
		cap->cfg.flags |= ZCBUF_CFG_STRICT;
	if (opt->personality == ZCBUF_DEV_CAMERA) {
		cap->cfg.width = opt->width;
		cap->cfg.height = opt->height;
		cap->cfg.pixelformat = opt->pixelformat;
		cap->cfg.fps = opt->fps;
	} else {
		cap->cfg.pkt_min = opt->pkt_min;
		cap->cfg.pkt_max = opt->pkt_max;
		cap->cfg.pkt_rate = opt->pkt_rate;
		cap->cfg.pkts_per_buffer = opt->pkts_per_buffer;
	}
	cap->cfg.drop_permille = opt->drop_permille;
	cap->cfg.error_permille = opt->error_permille;
	cap->cfg.jitter_us = opt->jitter_us;
	cap->cfg.stall_every = opt->stall_every;
	cap->cfg.stall_ms = opt->stall_ms;
	cap->cfg.seed = opt->seed;
	ret = zcbuf_configure(cap->fd, &cap->cfg);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: the device refused this "
			"configuration: %s\n", strerror(-ret));
		return ret;
	}

	ret = zcbuf_alloc_buffers(cap->fd, cap->cfg.frame_size, opt->buffers,
				  0, &cap->first);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: allocating %u buffers of %u "
			"bytes: %s\n", opt->buffers, cap->cfg.frame_size,
			strerror(-ret));
		return ret;
	}
	cap->nbuf = opt->buffers;
	for (i = 0; i < cap->nbuf; i++) {
		ret = zcbuf_map_buffer(cap->fd, cap->first + i, PROT_READ,
				       &cap->slots[i].map, &cap->slots[i].size);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: mmap buffer %u: %s\n",
				cap->first + i, strerror(-ret));
			return ret;
		}
	}

	if (!opt->use_poll) {
		cap->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (cap->efd < 0)
			return -errno;
		ret = zcbuf_set_eventfd(cap->fd, cap->efd);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: set eventfd: %s\n",
				strerror(-ret));
			return ret;
		}
	}
	if (opt->use_ring) {
		ret = zcbuf_setup_ring(cap->fd, 0, &cap->ring);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: ring setup: %s%s\n",
				strerror(-ret), ret == -ENOTTY ?
				" (this module has no rings)" : "");
			return ret;
		}
	}
	return 0;
}

static void print_config(const struct capture *cap)
{
	const struct options *opt = cap->opt;
	const struct zcbuf_config *cfg = &cap->cfg;

	if (cfg->personality == ZCBUF_DEV_CAMERA) {
		char fps[32];

		if (cfg->fps)
			snprintf(fps, sizeof(fps), "%u fps", cfg->fps);
		else
			snprintf(fps, sizeof(fps), "unthrottled");
		printf("zcbuf-capture: camera %ux%u %s, %s, %u bytes a frame",
		       cfg->width, cfg->height,
		       cfg->pixelformat == ZCBUF_FMT_YUYV ? "YUYV" : "RGB24",
		       fps, cfg->frame_size);
	} else {
		printf("zcbuf-capture: nic-rx packets %u-%u bytes, up to %u a "
		       "buffer, %u buffers/s, %u bytes a buffer",
		       cfg->pkt_min, cfg->pkt_max, cfg->pkts_per_buffer,
		       cfg->pkt_rate, cfg->frame_size);
	}
	printf("; %u buffers of %zu bytes mmapped%s; completions by %s%s; "
	       "sink %s\n", cap->nbuf, cap->slots[0].size,
	       opt->strict ? " (strict ownership)" : "",
	       opt->use_ring ? "shared rings, waking by " : "",
	       opt->use_poll ? "poll()" : "eventfd", cap->sink->name);
	if (opt->no_sync)
		printf("zcbuf-capture: --no-sync: reading frames WITHOUT the "
		       "cache-sync bracket; expect mismatches where DMA is not "
		       "coherent (swiotlb=force)\n");
	if (cfg->drop_permille || cfg->error_permille || cfg->jitter_us ||
	    cfg->stall_every)
		printf("zcbuf-capture: fault injection: drop %u‰, error %u‰, "
		       "jitter %u us, stall %u ms every %u frames\n",
		       cfg->drop_permille, cfg->error_permille, cfg->jitter_us,
		       cfg->stall_ms, cfg->stall_every);
	fflush(stdout);
}

/* How long without a completion before the device counts as hung. */
static int watchdog_ms(const struct capture *cap)
{
	const struct zcbuf_config *cfg = &cap->cfg;
	unsigned int rate = cfg->personality == ZCBUF_DEV_CAMERA ?
			    cfg->fps : cfg->pkt_rate;
	int ms = 10000 + (int)(cfg->jitter_us / 1000) + (int)cfg->stall_ms;

	if (rate)
		ms += 4 * 1000 / (int)rate * (int)cap->nbuf;
	return ms;
}

static int run(struct capture *cap)
{
	const struct options *opt = cap->opt;
	double last_done = 0, t;
	char extra[96];
	int ret, sfd, n;
	unsigned int i;

	for (i = 0; i < cap->nbuf; i++) {
		ret = zcbuf_queue_buffer(cap->fd, cap->first + i, 0);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: queue %u: %s\n",
				cap->first + i, strerror(-ret));
			return ret;
		}
	}
	ret = zcbuf_stream_on(cap->fd);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: stream on: %s\n",
			strerror(-ret));
		return ret;
	}
	status_start();
	sfd = cap->sink->pollfd ? cap->sink->pollfd(cap->sink_state) : -1;

	while (!stop_signal) {
		struct pollfd pfd[2];
		int timeout = STATUS_MS;

		t = status_elapsed();
		if (opt->frames && cap->c.frames >= opt->frames)
			break;
		if (opt->seconds > 0) {
			if (t >= opt->seconds)
				break;
			if ((opt->seconds - t) * 1000 < timeout)
				timeout = (int)((opt->seconds - t) * 1000) + 1;
		}
		pfd[0].fd = opt->use_poll ? cap->fd : cap->efd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = sfd;
		pfd[1].events = cap->sink->poll_events;
		pfd[1].revents = 0;
		if (cap->ring.map && zcbuf_arm_wakeup(&cap->ring) == -EAGAIN) {
			/* Completions arrived meanwhile: no sleeping. */
			zcbuf_disarm_wakeup(&cap->ring);
			timeout = 0;
		}
		n = poll(pfd, sfd >= 0 ? 2 : 1, timeout);
		if (cap->ring.map)
			zcbuf_disarm_wakeup(&cap->ring);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			fprintf(stderr, "\nzcbuf-capture: poll: %s\n",
				strerror(errno));
			return ret;
		}
		if (sfd >= 0 && pfd[1].revents) {
			ret = cap->sink->reap(cap->sink_state);
			if (ret)
				return ret;
		}
		if ((pfd[0].revents & POLLIN) || cap->ring.map) {
			uint64_t count, before = cap->c.frames;

			if (!opt->use_poll && (pfd[0].revents & POLLIN)) {
				ret = zcbuf_wait_eventfd(cap->efd, 0, &count);
				if (ret && ret != -ETIME)
					return ret;
			}
			/* Rings: the CQ needs no system call to look at. */
			ret = drain_done(cap);
			if (ret)
				return ret;
			if (cap->c.frames != before)
				last_done = status_elapsed();
		} else if (pfd[0].revents) {
			fprintf(stderr, "\nzcbuf-capture: poll reports %#x on "
				"the %s\n", pfd[0].revents,
				opt->use_poll ? "device" : "eventfd");
			return -EIO;
		}
		if ((status_elapsed() - last_done) * 1000 > watchdog_ms(cap)) {
			fprintf(stderr, "\nzcbuf-capture: no completion for "
				"%.1f s: the device looks hung\n",
				status_elapsed() - last_done);
			return -ETIME;
		}
		if (!opt->quiet) {
			extra[0] = 0;
			if (cap->sink->status)
				cap->sink->status(cap->sink_state, extra,
						  sizeof(extra));
			status_update(&cap->c, extra, false);
		}
	}
	return 0;
}

static void print_version(void)
{
	unsigned int lib = zcbuf_version();

	printf("zcbuf-capture %s\n", ZCBUF_VERSION);
	printf("libzcbuf %u.%u (built against %d.%d), zcbuf ABI %d.%d\n",
	       lib >> 16, lib & 0xffff, LIBZCBUF_VERSION_MAJOR,
	       LIBZCBUF_VERSION_MINOR, ZCBUF_API_VERSION_MAJOR,
	       ZCBUF_API_VERSION_MINOR);
}

/* The devices registered behind the node at @path, one line each. */
static void list_zcbuf_devices(const char *path)
{
	struct zcbuf_device_desc d[32];
	int fd, n, i, f;

	fd = zcbuf_open(path, O_CLOEXEC);
	if (fd < 0)
		return;
	n = zcbuf_list_devices(fd, d, sizeof(d) / sizeof(d[0]));
	zcbuf_close(fd);
	if (n < 0) {
		fprintf(stderr, "zcbuf-capture: %s: devices: %s\n", path,
			strerror(-n));
		return;
	}
	if (!n)
		printf("\tno device registered (load a driver: zcbuf_sim, ...)\n");
	for (i = 0; i < n && i < (int)(sizeof(d) / sizeof(d[0])); i++) {
		printf("\tdevice %u: %s:%s%s%s", d[i].id, d[i].name,
		       d[i].kinds & ZCBUF_KIND_CAMERA ? " camera" : "",
		       d[i].kinds & ZCBUF_KIND_NIC_RX ? " nic-rx" : "",
		       d[i].kinds & ZCBUF_KIND_NIC_TX ? " nic-tx" : "");
		if (d[i].kinds & ZCBUF_KIND_CAMERA) {
			printf(", %ux%u to %ux%u", d[i].min_width,
			       d[i].min_height, d[i].max_width,
			       d[i].max_height);
			for (f = 0; f < ZCBUF_DEVICE_MAX_FORMATS &&
				    d[i].formats[f]; f++)
				printf(" %.4s", (const char *)&d[i].formats[f]);
		}
		if (d[i].max_frame_size)
			printf(", frames up to %llu bytes",
			       (unsigned long long)d[i].max_frame_size);
		printf("\n");
	}
	if (n > (int)(sizeof(d) / sizeof(d[0])))
		printf("\t... and %d more\n", n - (int)(sizeof(d) / sizeof(d[0])));
}

/*
 * --list-devices: every zcbuf character device under /dev, with the ABI
 * version and capabilities its module reports and the devices registered
 * behind it.
 */
static int list_devices(void)
{
	static const char *const caps[] = {
		"contig", "import", "camera", "nic", "strict", "ring",
		"devices", "no-checksum",
	};
	/* A name for every capability the header knows of. */
	_Static_assert(ZCBUF_CAP_ALL == (1U << sizeof(caps) / sizeof(caps[0])) - 1,
		       "a capability of the uapi has no name in --list-devices");
	struct zcbuf_info info;
	unsigned int bit;
	struct stat st;
	int listed = 0, fd, ret;
	glob_t g;
	size_t i;

	if (glob("/dev/zcbuf*", 0, NULL, &g))
		g.gl_pathc = 0;
	for (i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];

		if (stat(path, &st) || !S_ISCHR(st.st_mode))
			continue;
		fd = zcbuf_open(path, O_CLOEXEC);
		if (fd < 0) {
			open_error(path, fd);
			continue;
		}
		ret = zcbuf_get_info(fd, &info);
		zcbuf_close(fd);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: %s: info: %s\n", path,
				strerror(-ret));
			continue;
		}
		printf("%s: zcbuf ABI %u.%u, capabilities", path,
		       info.version >> 16, info.version & 0xffff);
		for (bit = 0; bit < 32; bit++) {
			if (!(info.caps & (1U << bit)))
				continue;
			if (bit < sizeof(caps) / sizeof(caps[0]))
				printf(" %s", caps[bit]);
			else
				printf(" bit%u", bit);
		}
		printf("\n\tup to %u buffers of %llu KiB, %llu KiB a context\n",
		       info.max_buffers,
		       (unsigned long long)info.max_buffer_size >> 10,
		       (unsigned long long)info.max_total_size >> 10);
		if (info.caps & ZCBUF_CAP_DEVICES)
			list_zcbuf_devices(path);
		listed++;
	}
	if (g.gl_pathc)
		globfree(&g);
	if (!listed) {
		fprintf(stderr, "zcbuf-capture: no usable zcbuf device under "
			"/dev%s\n", i ? "" : " (is the zcbuf module loaded? "
			"sudo modprobe zcbuf_sim)");
		return CAPTURE_EXIT_SETUP;
	}
	return CAPTURE_EXIT_OK;
}

/*
 * --stream-to -: frames go to the real standard output, every message
 * to stderr (so printf() and friends need no second thought).
 */
static int claim_stdout(struct options *opt)
{
	opt->stdout_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (opt->stdout_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		fprintf(stderr, "zcbuf-capture: standard output: %s\n",
			strerror(errno));
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct stream_desc sd;
	struct zcbuf_stats st;
	struct options opt;
	struct capture cap;
	double elapsed, cpu, cpu_thread;
	int ret, errors = 0, stats_ret, status = CAPTURE_EXIT_FAILED;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = parse_options(argc, argv, &opt);
	if (ret)
		return ret > 0 ? CAPTURE_EXIT_OK : CAPTURE_EXIT_USAGE;
	if (opt.version) {
		print_version();
		return CAPTURE_EXIT_OK;
	}
	if (opt.list_devices)
		return list_devices();
	if (!strcmp(opt.output, "-") && !strcmp(opt.sink, "file") &&
	    claim_stdout(&opt))
		return CAPTURE_EXIT_SETUP;

	memset(&cap, 0, sizeof(cap));
	cap.opt = &opt;
	cap.fd = -1;
	cap.efd = -1;
	cap.sink = sink_find(opt.sink);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = setup_device(&cap);
	if (ret) {
		status = CAPTURE_EXIT_SETUP;
		goto out;
	}
	print_config(&cap);

	memset(&sd, 0, sizeof(sd));
	sd.opt = &opt;
	sd.cfg = &cap.cfg;
	sd.fd = cap.fd;
	sd.first = cap.first;
	sd.nbuffers = cap.nbuf;
	ret = cap.sink->open(&cap.sink_state, &sd, release_slot, &cap);
	if (ret) {
		status = CAPTURE_EXIT_SETUP;
		goto out;
	}

	ret = run(&cap);
	if (ret)
		cap.fatal = ret;
	if (!opt.quiet) {
		char extra[96] = "";

		if (cap.sink->status)
			cap.sink->status(cap.sink_state, extra, sizeof(extra));
		status_update(&cap.c, extra, true);
		status_end();
	}
	elapsed = status_elapsed();
	cap.stopping = true;
	/* The stream's counters, before STREAMOFF can touch them. */
	stats_ret = zcbuf_get_stats(cap.fd, &st);
	ret = zcbuf_stream_off(cap.fd);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: stream off: %s\n",
			strerror(-ret));
		errors++;
	}
	if (cap.sink->finish)
		errors += cap.sink->finish(cap.sink_state);
	cpu = status_cpu_process();
	cpu_thread = status_cpu_thread();

	printf("zcbuf-capture: %llu %s in %.2f s: %.1f/s, %.2f MB/s%s\n",
	       (unsigned long long)cap.c.frames,
	       opt.personality == ZCBUF_DEV_CAMERA ? "frames" : "buffers",
	       elapsed, elapsed > 0 ? cap.c.frames / elapsed : 0,
	       elapsed > 0 ? cap.c.bytes / elapsed / 1e6 : 0,
	       stop_signal ? " (interrupted)" : "");
	if (opt.personality == ZCBUF_DEV_NIC_RX)
		printf("zcbuf-capture: %llu packets verified, %llu gaps in "
		       "packet numbers\n", (unsigned long long)cap.c.packets,
		       (unsigned long long)cap.pkt_gaps);
	printf("zcbuf-capture: verified %llu, mismatches %llu (sequence, "
	       "size, CRC-32)\n",
	       (unsigned long long)(cap.c.frames - cap.c.device_errors -
				    cap.c.bad),
	       (unsigned long long)cap.c.bad);
	if (stats_ret) {
		fprintf(stderr, "zcbuf-capture: stats: %s\n",
			strerror(-stats_ret));
		errors++;
	} else {
		uint64_t dev_drops = st.drops_no_buffer + st.drops_injected;

		printf("zcbuf-capture: drops %llu (sequence gaps); device "
		       "counted %llu no buffer + %llu injected; device "
		       "frames %llu, errors %llu\n",
		       (unsigned long long)cap.c.gaps,
		       (unsigned long long)st.drops_no_buffer,
		       (unsigned long long)st.drops_injected,
		       (unsigned long long)st.frames,
		       (unsigned long long)st.errors);
		/*
		 * The device may have dropped more after the last frame we
		 * dequeued, never fewer than the gaps we saw.
		 */
		if (cap.c.gaps > dev_drops) {
			fprintf(stderr, "zcbuf-capture: MISMATCH: %llu "
				"sequence gaps but the device counted only "
				"%llu drops\n", (unsigned long long)cap.c.gaps,
				(unsigned long long)dev_drops);
			errors++;
		}
		if (st.frames + st.errors < cap.c.frames ||
		    st.errors < cap.c.device_errors) {
			fprintf(stderr, "zcbuf-capture: MISMATCH: dequeued "
				"%llu buffers (%llu with errors), device "
				"counted %llu (%llu)\n",
				(unsigned long long)cap.c.frames,
				(unsigned long long)cap.c.device_errors,
				(unsigned long long)(st.frames + st.errors),
				(unsigned long long)st.errors);
			errors++;
		}
	}
	if (cap.ring.map && *cap.ring.sq.errors) {
		fprintf(stderr, "zcbuf-capture: the device skipped %u invalid "
			"submission-ring entries\n", *cap.ring.sq.errors);
		errors++;
	}
	if (cap.c.device_errors) {
		printf("zcbuf-capture: %llu buffers came back with "
		       "ZCBUF_DQ_ERROR%s\n",
		       (unsigned long long)cap.c.device_errors,
		       opt.error_permille ? " (injected)" : "");
		if (!opt.error_permille)
			errors++;
	}
	printf("zcbuf-capture: cpu %.2f s (%.0f%% of one CPU), capture thread "
	       "%.2f s = %.1f us a frame\n", cpu,
	       elapsed > 0 ? 100 * cpu / elapsed : 0, cpu_thread,
	       cap.c.frames ? cpu_thread * 1e6 / cap.c.frames : 0);
	errors += (int)(cap.c.bad > 1000 ? 1000 : cap.c.bad);
	if (cap.fatal)
		errors++;
	if (opt.frames && cap.c.frames < opt.frames && !stop_signal)
		errors++;
	printf("zcbuf-capture: %s\n", errors ? "FAILED" : "OK: every frame "
	       "verified");
	status = errors ? CAPTURE_EXIT_FAILED : CAPTURE_EXIT_OK;
out:
	if (cap.sink_state && cap.sink->close)
		cap.sink->close(cap.sink_state);
	if (cap.ring.map)
		zcbuf_unmap_ring(&cap.ring);
	for (i = 0; i < cap.nbuf; i++)
		if (cap.slots[i].map)
			zcbuf_unmap_buffer(cap.slots[i].map, cap.slots[i].size);
	if (cap.efd >= 0)
		close(cap.efd);
	if (cap.fd >= 0)
		zcbuf_close(cap.fd);
	return status;
}
