/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the reliability tests (zcbuf_fuzz, zcbuf_stress,
 * zcbuf_perm, zcbuf_memcg, zcbuf_faultinject): the module's live-object
 * counters in debugfs, /proc/meminfo, and small file helpers.
 *
 * The counters (/sys/kernel/debug/zcbuf/counters) count live contexts,
 * buffers and buffer bytes.  Every test that creates objects checks that
 * they go back to what they were before it started once everything it made
 * is closed, unmapped and reaped: DMA-bufs are freed by the last fput(),
 * which may come a little after close() or exit(), so the check waits.
 */
#ifndef ZCBUF_REL_H
#define ZCBUF_REL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define ZC_DEBUGFS	"/sys/kernel/debug"
#define ZC_COUNTERS	ZC_DEBUGFS "/zcbuf/counters"

struct zc_counters {
	long long contexts;
	long long buffers;
	long long buffer_bytes;
};

/* Mount debugfs if nothing is mounted there yet; errors are ignored. */
static inline void zc_mount_debugfs(void)
{
	if (access(ZC_DEBUGFS "/zcbuf", F_OK) && errno == ENOENT)
		mount("debugfs", ZC_DEBUGFS, "debugfs", 0, NULL);
}

/* 0, or -errno (-ENOENT: no debugfs or module not loaded). */
static inline int zc_counters_read(struct zc_counters *c)
{
	char key[64];
	long long v;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen(ZC_COUNTERS, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, "contexts"))
			c->contexts = v;
		else if (!strcmp(key, "buffers"))
			c->buffers = v;
		else if (!strcmp(key, "buffer_bytes"))
			c->buffer_bytes = v;
	}
	fclose(f);
	return 0;
}

static inline bool zc_counters_equal(const struct zc_counters *a,
				     const struct zc_counters *b)
{
	return a->contexts == b->contexts && a->buffers == b->buffers &&
	       a->buffer_bytes == b->buffer_bytes;
}

static inline void zc_counters_fmt(const struct zc_counters *c, char *s,
				   size_t len)
{
	snprintf(s, len, "contexts %lld buffers %lld buffer_bytes %lld",
		 c->contexts, c->buffers, c->buffer_bytes);
}

static inline uint64_t zc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait up to @timeout_ms for the counters to equal @want.
 * Return: 0 when they do, -ETIMEDOUT (with @now the last reading), or the
 * error of reading them.
 */
static inline int zc_counters_wait(const struct zc_counters *want,
				   unsigned int timeout_ms,
				   struct zc_counters *now)
{
	uint64_t end = zc_now_ms() + timeout_ms;
	int ret;

	for (;;) {
		ret = zc_counters_read(now);
		if (ret)
			return ret;
		if (zc_counters_equal(now, want))
			return 0;
		if (zc_now_ms() > end)
			return -ETIMEDOUT;
		usleep(20000);
	}
}

/* A /proc/meminfo field in KiB, or -1. */
static inline long long zc_meminfo_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long long v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Write a string to a file (sysfs, cgroupfs, debugfs): 0 or -errno. */
static inline int zc_write_file(const char *path, const char *s)
{
	ssize_t len = (ssize_t)strlen(s);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* Read a small file into @buf (NUL-terminated): bytes read or -errno. */
static inline int zc_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

/* xorshift64*: small, fast, reproducible from a seed. */
static inline uint64_t zc_rnd64(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint64_t zc_rnd(uint64_t *s, uint64_t n)
{
	return n ? zc_rnd64(s) % n : 0;
}

/* Seed from the clock, for when none is given. */
static inline uint64_t zc_clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
	       ((uint64_t)getpid() << 32);
}

#endif /* ZCBUF_REL_H */
