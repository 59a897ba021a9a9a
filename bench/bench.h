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
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

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

#endif /* ZCBUF_BENCH_H */
