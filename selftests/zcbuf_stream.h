/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the streaming selftests (zcbuf_stream*.c): the queue ioctls as
 * -errno calls, zlib's CRC-32, waiting for a completion, reading the frame
 * number the simulated camera draws into each frame, and probing whether a
 * mapping faults (strict mode).
 *
 * Builds on zcbuf_helpers.h (buffer ioctls).  Include after
 * kselftest_harness.h.
 */
#ifndef ZCBUF_STREAM_H
#define ZCBUF_STREAM_H

#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/eventfd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "zcbuf_helpers.h"

/* How long a test waits for one completion before it calls the device hung. */
#define ZS_WAIT_MS		10000
/* A completion's timestamp is at most this old when user space sees it (TCG). */
#define ZS_MAX_AGE_NS		(5ULL * 1000000000ULL)

/* ---- zlib's crc32(): CRC-32/ISO-HDLC, reflected, ~0 in and out ---- */

static inline uint32_t zs_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = data;
	uint32_t crc = ~0U;
	size_t i;

	if (!table[1]) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * Whether every streaming DMA mapping bounces: "swiotlb=force" (or
 * "swiotlb=<slabs>,force") on the kernel command line.
 */
static inline bool zs_swiotlb_forced(void)
{
	char cmdline[4096], *word, *save;
	FILE *f = fopen("/proc/cmdline", "r");
	bool forced = false;

	if (!f)
		return false;
	if (!fgets(cmdline, sizeof(cmdline), f))
		cmdline[0] = 0;
	fclose(f);
	for (word = strtok_r(cmdline, " \n", &save); word;
	     word = strtok_r(NULL, " \n", &save))
		if (!strncmp(word, "swiotlb=", 8) &&
		    (!strcmp(word + 8, "force") || strstr(word + 8, ",force")))
			forced = true;
	return forced;
}

static inline uint64_t zs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void zs_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Wait up to 5 s until zcbuf device @name exists (@present) or is gone
 * (a driver probing or unbinding): its id, or -ENODEV.
 */
static inline int zs_wait_device(int fd, const char *name, bool present)
{
	int id = -ENODEV, i;

	for (i = 0; i < 500; i++) {
		id = zc_device_find(fd, name);
		if ((id > 0) == present)
			break;
		zs_sleep_ms(10);
	}
	return id;
}

/* ---- the queue ioctls ---- */

/*
 * CONFIG; on success *frame_size (if given) is what the kernel reported.
 * A configuration for the default device (@cfg->device 0) goes to the
 * device under test ($ZCBUF_TEST_DEVICE, zc_test_device_id()).
 */
static inline int zs_config(int fd, const struct zcbuf_config *cfg,
			    uint32_t *frame_size)
{
	struct zcbuf_config c = *cfg;
	int ret;

	if (!c.device && c.personality != ZCBUF_DEV_NONE) {
		ret = zc_test_device_id(fd);
		if (ret < 0)
			return ret;
		c.device = (uint32_t)ret;
	}
	ret = zc_ioctl(fd, ZCBUF_IOC_CONFIG, &c);

	if (!ret && frame_size)
		*frame_size = c.frame_size;
	return ret;
}

static inline int zs_config_camera(int fd, uint32_t width, uint32_t height,
				   uint32_t fmt, uint32_t fps, uint32_t flags,
				   uint32_t *frame_size)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_CAMERA, .flags = flags,
		.width = width, .height = height, .pixelformat = fmt,
		.fps = fps,
	};

	return zs_config(fd, &cfg, frame_size);
}

static inline int zs_config_none(int fd)
{
	struct zcbuf_config cfg = { .personality = ZCBUF_DEV_NONE };

	return zs_config(fd, &cfg, NULL);
}

static inline int zs_qbuf(int fd, uint32_t index, uint64_t bytesused)
{
	struct zcbuf_qbuf req = { .index = index, .bytesused = bytesused };

	return zc_ioctl(fd, ZCBUF_IOC_QBUF, &req);
}

static inline int zs_dqbuf(int fd, struct zcbuf_dqbuf *d)
{
	memset(d, 0, sizeof(*d));
	return zc_ioctl(fd, ZCBUF_IOC_DQBUF, d);
}

static inline int zs_streamon(int fd)
{
	struct zcbuf_stream req = { 0 };

	return zc_ioctl(fd, ZCBUF_IOC_STREAMON, &req);
}

static inline int zs_streamoff(int fd)
{
	struct zcbuf_stream req = { 0 };

	return zc_ioctl(fd, ZCBUF_IOC_STREAMOFF, &req);
}

static inline int zs_stats(int fd, struct zcbuf_stats *st)
{
	memset(st, 0, sizeof(*st));
	return zc_ioctl(fd, ZCBUF_IOC_STATS, st);
}

static inline int zs_set_eventfd(int fd, int efd)
{
	struct zcbuf_eventfd req = { .fd = efd };

	return zc_ioctl(fd, ZCBUF_IOC_SET_EVENTFD, &req);
}

/* ZCBUF_STATE_* of a buffer, or -errno. */
static inline int zs_state(int fd, uint32_t index)
{
	struct zcbuf_query q;
	int ret = zc_query(fd, index, &q);

	return ret ? ret : (int)q.state;
}

/* poll() for POLLIN: 1 readable, 0 timed out, -errno. */
static inline int zs_poll_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	return ret && (p.revents & POLLIN);
}

/* Wait (poll) for a completion and dequeue it: 0 or -errno (-ETIMEDOUT). */
static inline int zs_dqbuf_wait(int fd, struct zcbuf_dqbuf *d, int timeout_ms)
{
	int ret = zs_dqbuf(fd, d);

	if (ret != -EAGAIN)
		return ret;
	ret = zs_poll_in(fd, timeout_ms);
	if (ret < 0)
		return ret;
	if (!ret)
		return -ETIMEDOUT;
	return zs_dqbuf(fd, d);
}

static inline int zs_sync(int fd, uint32_t index, uint32_t flags,
			  uint64_t offset, uint64_t length)
{
	return zc_sync(fd, index, flags, offset, length);
}

/* DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a sync_file of the buffer's fences. */
static inline int zs_export_sync_file(int dmabuf, uint32_t flags)
{
	struct dma_buf_export_sync_file req = { .flags = flags, .fd = -1 };

	return zc_ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &req) ?: req.fd;
}

/* SYNC_IOC_FILE_INFO's status: 1 signalled, 0 active, -errno of an error. */
static inline int zs_sync_file_status(int sync_file, int *status)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	*status = info.status;
	return 0;
}

/* The module's reference count (open files + live DMA-bufs), or -1. */
static inline long zs_module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zcbuf/refcnt", "r");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* Wait up to @ms for the module's refcount to be @want; return the last seen. */
static inline long zs_wait_refcnt(long want, unsigned int ms)
{
	long n = zs_module_refcnt();

	while (n != want && ms) {
		zs_sleep_ms(10);
		ms = ms > 10 ? ms - 10 : 0;
		n = zs_module_refcnt();
	}
	return n;
}

/* Read a module parameter into @buf (newline stripped): 0 or -errno. */
static inline int zs_param_get(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/module/zcbuf/parameters/%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = -EIO;
	else
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return ret;
}

/* Write a module parameter: 0 or -errno. */
static inline int zs_param_set(const char *name, const char *val)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/module/zcbuf/parameters/%s", name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/*
 * A module-wide counter from /sys/kernel/debug/zcbuf/counters ("contexts",
 * "buffers", "buffer_bytes", ...), or -1 when debugfs or the line is absent.
 */
static inline long long zs_debug_counter(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/zcbuf/counters", "r");
	char line[128];
	size_t n = strlen(name);
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* ---- the simulated camera's picture ---- */

static inline unsigned int zs_bpp(uint32_t fmt)
{
	return fmt == ZCBUF_FMT_RGB24 ? 3 : 2;
}

/*
 * Luma of pixel (x, y): RGB24 as the plain byte (the camera draws grey
 * levels with R = G = B), YUYV as the Y sample.
 */
static inline int zs_pixel_level(const uint8_t *frame, uint32_t width,
				 uint32_t fmt, uint32_t x, uint32_t y)
{
	const uint8_t *px = frame + ((size_t)y * width + x) * zs_bpp(fmt);

	if (fmt == ZCBUF_FMT_RGB24 && (px[0] != px[1] || px[1] != px[2]))
		return -1;	/* not grey: not part of the number */
	return px[0];
}

/* The 3x5 font the camera draws its frame number with (bit 14: top left). */
static const uint16_t zs_digits[10] = {
	0x7b6f, 0x2c97, 0x73e7, 0x73cf, 0x5bc9,
	0x79cf, 0x79ef, 0x7249, 0x7bef, 0x7bcf,
};

/*
 * Read the eight-digit frame number drawn at the top left corner (scale
 * max(1, height / 60), origin (2, 2) * scale, white on a black plate).
 * Return it, or -1 if the picture holds no readable number.
 */
static inline long long zs_read_number(const uint8_t *frame, uint32_t width,
				       uint32_t height, uint32_t fmt)
{
	uint32_t scale = height / 60 > 1 ? height / 60 : 1;
	uint32_t x0 = 2 * scale, y0 = 2 * scale;
	long long number = 0;

	for (int d = 0; d < 8; d++) {
		uint16_t glyph = 0;
		int digit;

		for (int row = 0; row < 5; row++) {
			for (int col = 0; col < 3; col++) {
				uint32_t x = x0 + (1 + d * 4 + col) * scale;
				uint32_t y = y0 + (1 + row) * scale;
				int level = zs_pixel_level(frame, width, fmt,
							   x, y);

				if (level == 235)
					glyph |= 1U << (14 - row * 3 - col);
				else if (level != 16)
					return -1;
			}
		}
		for (digit = 0; digit < 10; digit++)
			if (zs_digits[digit] == glyph)
				break;
		if (digit == 10)
			return -1;
		number = number * 10 + digit;
	}
	return number;
}

/* The eight bars, left to right: white, yellow, cyan, green, magenta, red, blue, black. */
static const uint8_t zs_bar_rgb[8][3] = {
	{ 235, 235, 235 }, { 235, 235, 16 }, { 16, 235, 235 }, { 16, 235, 16 },
	{ 235, 16, 235 }, { 235, 16, 16 }, { 16, 16, 235 }, { 16, 16, 16 },
};

static inline int zs_clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * Check the rest of the picture of frame @seq: the colour bars in the top
 * line (where the moving box does not cover them) and the box itself, white
 * on odd frames and black on even ones, where the number does not cover it.
 * Return 0, or -1 for a wrong bar, -2 for a wrong box.
 */
static inline int zs_check_picture(const uint8_t *frame, uint32_t width,
				   uint32_t height, uint32_t fmt, uint64_t seq)
{
	uint32_t box = (width < height ? width : height) / 6;
	uint32_t scale = height / 60 > 1 ? height / 60 : 1;
	uint32_t box_x, box_y, bx, by, k;

	box = box > 2 ? box : 2;
	box_x = (seq * 4) % (width - box + 1) & ~1U;
	box_y = (seq * 2) % (height - box + 1);

	for (k = 0; k < 8; k++) {
		uint32_t x = (2 * k + 1) * width / 16;
		const uint8_t *px = frame + (size_t)x * zs_bpp(fmt);
		const uint8_t *rgb = zs_bar_rgb[k];

		if (box_y == 0 && x >= box_x && x < box_x + box)
			continue;
		/* Not at a bar's edge, where YUYV averages two colours. */
		if ((x * 8 / width) != ((x + 1) * 8 / width) ||
		    (x * 8 / width) != ((x - 1) * 8 / width))
			continue;
		if (fmt == ZCBUF_FMT_RGB24) {
			if (memcmp(px, rgb, 3))
				return -1;
		} else {
			int y = zs_clamp((66 * rgb[0] + 129 * rgb[1] +
					  25 * rgb[2] + 128) / 256 + 16, 16, 235);

			if (px[0] != y)
				return -1;
		}
	}

	/* The box's centre, unless the number's plate is there. */
	bx = box_x + box / 2;
	by = box_y + box / 2;
	if (bx >= width)
		bx = width - 1;
	if (!(by >= 2 * scale && by < 9 * scale && bx >= 2 * scale &&
	      bx < 35 * scale)) {
		int level = zs_pixel_level(frame, width, fmt, bx, by);

		if (level != (seq & 1 ? 235 : 16))
			return -2;
	}
	return 0;
}

/* ---- SIGBUS probes (strict mode) ---- */

static sigjmp_buf zs_fault_env;
static volatile sig_atomic_t zs_fault_sig;

static inline void zs_fault_handler(int sig)
{
	zs_fault_sig = sig;
	siglongjmp(zs_fault_env, 1);
}

/*
 * Touch one byte at @p (read, or write @val): 0 if it worked, else the
 * signal that it raised (SIGBUS, SIGSEGV).
 */
static inline int zs_touch(volatile uint8_t *p, bool write, uint8_t val)
{
	struct sigaction sa = { .sa_handler = zs_fault_handler }, obus, osegv;
	int sig = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	zs_fault_sig = 0;
	if (!sigsetjmp(zs_fault_env, 1)) {
		if (write)
			*p = val;
		else
			(void)*p;
	} else {
		sig = zs_fault_sig;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return sig;
}

#endif /* ZCBUF_STREAM_H */
