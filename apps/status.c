// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the live one-line status on stderr, updated in place with
 * '\r' about twice a second: frames, fps and MB/s over the last interval,
 * drops, errors and the process's CPU use.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "capture.h"

static double t0, last_t, last_cpu, cpu0, thread_cpu0;
static uint64_t last_frames, last_bytes;
static int shown;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_of(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds since status_start(): the stream, not the set-up. */
double status_cpu_process(void)
{
	return cpu_of(RUSAGE_SELF) - cpu0;
}

double status_cpu_thread(void)
{
	return cpu_of(RUSAGE_THREAD) - thread_cpu0;
}

double status_elapsed(void)
{
	return now() - t0;
}

void status_start(void)
{
	t0 = last_t = now();
	cpu0 = cpu_of(RUSAGE_SELF);
	thread_cpu0 = cpu_of(RUSAGE_THREAD);
	last_cpu = 0;
	last_frames = last_bytes = 0;
}

void status_update(const struct counters *c, const char *extra, bool force)
{
	double t = now(), dt = t - last_t, cpu;

	if (!force && dt < 0.5)
		return;
	if (dt <= 0)
		dt = 1e-9;
	cpu = status_cpu_process();
	fprintf(stderr, "\r%8llu frames %7.1f fps %8.2f MB/s  drops %llu  "
		"errors %llu  cpu %3.0f%%%s%s   ",
		(unsigned long long)c->frames, (c->frames - last_frames) / dt,
		(c->bytes - last_bytes) / dt / 1e6,
		(unsigned long long)c->gaps,
		(unsigned long long)(c->bad + c->device_errors),
		100.0 * (cpu - last_cpu) / dt, extra && *extra ? "  " : "",
		extra ? extra : "");
	fflush(stderr);
	shown = 1;
	last_t = t;
	last_cpu = cpu;
	last_frames = c->frames;
	last_bytes = c->bytes;
}

void status_end(void)
{
	if (shown)
		fputc('\n', stderr);
	shown = 0;
}
