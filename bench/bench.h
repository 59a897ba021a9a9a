/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h: what zcbench and nicbench (the static guest programs of `make
 * bench`) both need: messages, clocks, ioctl.  Each program defines
 * BENCH_NAME (the message prefix) and `failures` (a failed measurement
 * counts, the program exits non-zero at the end) before including it.
 */
#ifndef ZCBUF_BENCH_H
#define ZCBUF_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

static void bench_vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, BENCH_NAME ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bench_vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

/* A measurement that failed: say so, go on, exit non-zero at the end. */
static void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bench_vmsg(fmt, ap);
	va_end(ap);
	failures++;
}

static uint64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int r;

	do {
		r = ioctl(fd, cmd, arg);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* ---- completion-to-consumer latency: samples, p50 and p99 ---- */

#define LAT_MAX	65536
static uint32_t lat[LAT_MAX];
static uint32_t nlat;
static bool lat_on;

/* @count frames/packets completed at @ts (ns) seen at @now (same clock). */
static inline void lat_add(uint64_t now, uint64_t ts, uint32_t count)
{
	uint64_t d = now > ts ? now - ts : 0;

	if (!lat_on)
		return;
	if (d > UINT32_MAX)
		d = UINT32_MAX;
	while (count-- && nlat < LAT_MAX)
		lat[nlat++] = (uint32_t)d;
}

static inline void lat_start(void)
{
	nlat = 0;
	lat_on = true;
}

static inline int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Stop sampling; the p50 and p99 of the samples in us, false if none. */
static inline bool lat_stop(double *p50, double *p99)
{
	lat_on = false;
	if (!nlat)
		return false;
	qsort(lat, nlat, sizeof(lat[0]), cmp_u32);
	*p50 = lat[nlat / 2] / 1e3;
	*p99 = lat[(uint64_t)nlat * 99 / 100] / 1e3;
	return true;
}

/*
 * Stop sampling; append "latency (WHAT) p50 X us p99 Y us; " to @why, or
 * "latency n/a: WHAT; " when there is no sample (run.sh's targets read
 * both forms).
 */
static inline void lat_note(char *why, size_t len, const char *what)
{
	double p50, p99;

	if (!lat_stop(&p50, &p99))
		snprintf(why + strlen(why), len - strlen(why), "latency n/a: %s; ", what);
	else
		snprintf(why + strlen(why), len - strlen(why),
			 "latency (%s) p50 %.1f us p99 %.1f us; ", what, p50, p99);
}

/*
 * Stop sampling; append "WHAT: p50 X, p99 Y us; " (a second figure of a
 * row, which run.sh's targets do not read) or "WHAT: none; ".
 */
static inline void lat_note_also(char *why, size_t len, const char *what)
{
	double p50, p99;

	if (!lat_stop(&p50, &p99))
		snprintf(why + strlen(why), len - strlen(why), "%s: none; ", what);
	else
		snprintf(why + strlen(why), len - strlen(why),
			 "%s: p50 %.1f, p99 %.1f us; ", what, p50, p99);
}

/*
 * ---- a tracepoint as the completion marker ----
 *
 * For a path whose consumer gets no completion timestamp (vivid's vb2
 * buffers carry the frame's nominal time, AF_XDP descriptors none), the
 * kernel's own tracepoint at completion, recorded with trace_clock "mono"
 * (CLOCK_MONOTONIC, what the consumer reads), in the order the events
 * fired.  Tracing costs guest CPU, so callers take latency in a pass of
 * its own, never in the pass that measures CPU time and rate.
 */
#define TRACEFS	"/sys/kernel/tracing"
#define TRACE_MAX	65536

struct trace_ev {
	uint64_t ts;		/* ns, CLOCK_MONOTONIC (microsecond resolution) */
	uint32_t index;		/* the event's "index = N" field, or 0 */
};

static struct trace_ev trace_evs[TRACE_MAX];
static uint32_t ntrace;

static inline int trace_write(const char *file, const char *val)
{
	char path[160];
	int fd, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (*val && write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Empty the trace buffer and record @event ("vb2/vb2_buf_done") from now
 * on.  0, or -errno with what failed in @why.
 */
static inline int trace_begin(const char *event, char *why, size_t len)
{
	char file[128];
	int ret;

	if (access(TRACEFS "/trace", F_OK) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		snprintf(why, len, "tracefs: mount %s: %s", TRACEFS, strerror(errno));
		return -errno;
	}
	snprintf(file, sizeof(file), "events/%s/enable", event);
	if ((ret = trace_write("tracing_on", "0")) ||
	    (ret = trace_write("trace_clock", "mono")) ||
	    (ret = trace_write("buffer_size_kb", "16384")) ||
	    (ret = trace_write("trace", "")) ||
	    (ret = trace_write(file, "1")) ||
	    (ret = trace_write("tracing_on", "1"))) {
		snprintf(why, len, "tracepoint %s: %s", event, strerror(-ret));
		trace_write("tracing_on", "0");
		return ret;
	}
	return 0;
}

/*
 * Stop recording @event; read its records into trace_evs[] (ntrace of
 * them, oldest first).  Returns ntrace, or -1 if the buffer overran.
 */
static inline int trace_end(const char *event)
{
	char file[128], key[80], *line = NULL;
	size_t cap = 0;
	bool lost = false;
	FILE *f;

	trace_write("tracing_on", "0");
	snprintf(file, sizeof(file), "events/%s/enable", event);
	trace_write(file, "0");
	snprintf(key, sizeof(key), " %s: ", strchr(event, '/') ? strchr(event, '/') + 1 : event);
	ntrace = 0;
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *p = strstr(line, key), *q, *ix;
		unsigned long sec, usec;

		if (line[0] == '#') {
			if (strstr(line, "entries-in-buffer") && strstr(line, "#P:") &&
			    strstr(line, "entries-written")) {
				unsigned long a = 0, b = 0;

				if (sscanf(strstr(line, "entries-in-buffer/entries-written: "),
					   "entries-in-buffer/entries-written: %lu/%lu", &a, &b) == 2 &&
				    a != b)
					lost = true;
			}
			continue;
		}
		if (!p || ntrace >= TRACE_MAX)
			continue;
		/* "...  SECONDS.MICROS: event: fields" */
		*p = 0;
		q = strrchr(line, ' ');
		if (!q || sscanf(q + 1, "%lu.%lu:", &sec, &usec) != 2)
			continue;
		trace_evs[ntrace].ts = sec * 1000000000ULL + usec * 1000ULL;
		/* "index = N" (vb2) or "index=N" (zcbuf) */
		ix = strstr(p + 1, "index");
		if (ix)
			ix += strspn(ix + 5, " =") + 5;
		trace_evs[ntrace].index = ix ? (uint32_t)strtoul(ix, NULL, 10) : 0;
		ntrace++;
	}
	free(line);
	fclose(f);
	trace_write("trace", "");
	return lost ? -1 : (int)ntrace;
}

/*
 * What the consumer saw, in order: @count frames or packets (of buffer
 * @index) at @now, CLOCK_MONOTONIC; recorded only while seen_on.
 */
struct seen {
	uint64_t now;
	uint32_t count, index;
};

static struct seen seen[TRACE_MAX];
static uint32_t nseen;
static bool seen_on;

static inline void seen_add(uint64_t now, uint32_t count, uint32_t index)
{
	if (seen_on && nseen < TRACE_MAX)
		seen[nseen++] = (struct seen){ now, count, index };
}

/*
 * Latency samples from the k-th completion event to the k-th frame or
 * packet the consumer saw (both in completion order), leaving out the
 * first @skip.  With @match_index the event's buffer index must be the
 * one dequeued.  Returns how many did not match, or -1 when there were
 * fewer events than frames.
 */
static inline long lat_from_trace(uint64_t skip, bool match_index)
{
	uint64_t k = 0;
	uint32_t e = 0;
	long bad = 0;

	lat_start();
	for (uint32_t i = 0; i < nseen; i++)
		for (uint32_t c = 0; c < seen[i].count; c++, k++, e++) {
			if (e >= ntrace)
				return -1;
			if (match_index && trace_evs[e].index != seen[i].index)
				bad++;
			if (k >= skip)
				lat_add(seen[i].now, trace_evs[e].ts, 1);
		}
	return bad;
}

#endif /* ZCBUF_BENCH_H */
