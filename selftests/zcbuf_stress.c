// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_stress: kill storms.
 *
 *   zcbuf_stress [-s SEED] [-p PROCS] [-r ROUNDS]
 *
 * Each round starts PROCS worker processes.  Each opens contexts,
 * allocates scatter-gather and contiguous buffers, maps and writes them,
 * exports DMA-bufs and imports them into its other context, forks a helper
 * that shares all of it, configures the simulated camera or NIC, queues
 * buffers, streams (through the ioctls or the rings) and keeps going until
 * it is killed.  Workers report how far they got in a shared page; the
 * parent picks a stage and a delay for each and SIGKILLs its whole process
 * group there: in the middle of ALLOC, with mappings but nothing exported,
 * mid-stream, with the rings set up, and so on.
 *
 * Afterwards every buffer must be freed: the module's counters (contexts,
 * buffers, buffer_bytes) back to where they started, and MemAvailable back
 * within a small margin.  Defaults (3 rounds of 6) suit `make check`;
 * `make check-debug` runs a longer storm.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>

#include "kselftest.h"
#include "zcbuf_helpers.h"
#include "zcbuf_rel.h"

enum stage {
	ST_START,
	ST_OPENED,
	ST_ALLOCATING,	/* inside a large ALLOC */
	ST_ALLOCATED,
	ST_MAPPED,
	ST_EXPORTED,
	ST_IMPORTED,
	ST_FORKED,
	ST_CONFIGURED,
	ST_QUEUED,
	ST_STREAMING,
	ST_RING,
	NR_STAGES
};

static const char *const stage_names[NR_STAGES] = {
	"start", "opened", "allocating", "allocated", "mapped", "exported",
	"imported", "forked", "configured", "queued", "streaming", "ring",
};

#define MAX_PROCS	64

/* Shared with the workers: each one's stage. */
static _Atomic int *stage_of;
static long page_size;

static void set_stage(int w, enum stage s)
{
	atomic_store(&stage_of[w], s);
}

/* The worker: never returns; it is killed. */
static void worker(int w, uint64_t seed)
{
	uint64_t r = seed;
	int a, b, efd, dfd = -1, i;
	struct zcbuf_config cfg = { 0 };
	struct zcbuf_stream st = { 0 };
	uint32_t first = 0, n;
	bool ring = false;
	size_t size;

	a = zc_open();
	b = zc_open();
	if (a < 0 || b < 0)
		_exit(10);
	set_stage(w, ST_OPENED);

	/* A big one first, so that some kills land inside ALLOC. */
	set_stage(w, ST_ALLOCATING);
	zc_alloc(b, (4 + zc_rnd(&r, 12)) << 20, 1, 0, NULL);
	n = 2 + zc_rnd(&r, 4);
	size = (zc_rnd(&r, 2) ? 16 : 64) * 1024;
	if (zc_alloc(a, size, n, zc_rnd(&r, 3) ? 0 : ZCBUF_ALLOC_CONTIG,
		     &first))
		_exit(11);
	set_stage(w, ST_ALLOCATED);

	for (i = 0; i < (int)n; i++) {
		size_t len;
		uint8_t *p = zc_map_buffer(a, first + i, &len);

		if (p)
			memset(p, 0x5a, len);	/* and left mapped */
	}
	set_stage(w, ST_MAPPED);

	dfd = zc_export(a, first, ZCBUF_EXPORT_RDWR);
	if (dfd >= 0) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       dfd, 0);

		if (p != MAP_FAILED)
			((volatile uint8_t *)p)[0] = 1;
	}
	zc_export(a, first + 1, 0);	/* read-only, fd kept */
	set_stage(w, ST_EXPORTED);

	if (dfd >= 0)
		zc_import(b, dfd, NULL, NULL);
	set_stage(w, ST_IMPORTED);

	/* A helper that holds everything too, and is killed with us. */
	if (zc_rnd(&r, 2) && fork() == 0) {
		for (;;)
			pause();
	}
	set_stage(w, ST_FORKED);

	switch (zc_rnd(&r, 3)) {
	case 0:
		cfg.personality = ZCBUF_DEV_CAMERA;
		cfg.width = 64;
		cfg.height = 32;
		cfg.pixelformat = ZCBUF_FMT_YUYV;
		break;
	case 1:
		cfg.personality = ZCBUF_DEV_NIC_RX;
		cfg.pkt_min = ZCBUF_PKT_MIN;
		cfg.pkt_max = 2048;
		cfg.pkts_per_buffer = 4;
		break;
	default:
		cfg.personality = ZCBUF_DEV_NIC_TX;
		break;
	}
	cfg.fps = 0;
	cfg.seed = r;
	if (zc_ioctl(a, ZCBUF_IOC_CONFIG, &cfg))
		_exit(12);
	set_stage(w, ST_CONFIGURED);

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd >= 0) {
		struct zcbuf_eventfd ev = { .fd = efd };

		zc_ioctl(a, ZCBUF_IOC_SET_EVENTFD, &ev);
	}
	if (zc_rnd(&r, 3) == 0) {
		struct zcbuf_ring_setup rs = { 0 };

		if (!zc_ioctl(a, ZCBUF_IOC_RING_SETUP, &rs)) {
			ring = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE,
				    MAP_SHARED, a, (off_t)rs.mmap_offset) !=
			       MAP_FAILED;
		}
	}
	for (i = 0; i < (int)n; i++) {
		struct zcbuf_qbuf q = { .index = first + i };

		if (cfg.personality == ZCBUF_DEV_NIC_TX)
			q.bytesused = 1000;
		zc_ioctl(a, ZCBUF_IOC_QBUF, &q);
	}
	set_stage(w, ST_QUEUED);

	zc_ioctl(a, ZCBUF_IOC_STREAMON, &st);
	set_stage(w, ring ? ST_RING : ST_STREAMING);
	for (;;) {
		struct pollfd pfd = { .fd = a, .events = POLLIN };
		struct zcbuf_dqbuf dq = { 0 };
		struct zcbuf_qbuf q = { 0 };

		poll(&pfd, 1, 20);
		if (zc_ioctl(a, ZCBUF_IOC_DQBUF, &dq))
			continue;
		q.index = dq.index;
		if (cfg.personality == ZCBUF_DEV_NIC_TX)
			q.bytesused = 1000;
		zc_sync(a, dq.index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
			page_size);
		zc_ioctl(a, ZCBUF_IOC_QBUF, &q);
	}
}

static void drop_caches(void)
{
	sync();
	zc_write_file("/proc/sys/vm/drop_caches", "3");
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-s SEED] [-p PROCS] [-r ROUNDS]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = zc_clock_seed(), r;
	int procs = 6, rounds = 3, opt, round, i;
	unsigned long killed = 0, at_stage[NR_STAGES] = { 0 };
	unsigned long unexpected = 0;
	struct zc_counters before, after;
	long long mem_before, mem_after, margin;
	char s1[128], s2[128];
	int ret, fd;

	while ((opt = getopt(argc, argv, "s:p:r:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (procs < 1 || procs > MAX_PROCS || rounds < 1)
		usage(argv[0]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(3);
	page_size = sysconf(_SC_PAGESIZE);

	fd = zc_open();
	if (fd == -ENOENT)
		ksft_exit_skip("%s does not exist: zcbuf.ko not loaded\n",
			       ZCBUF_DEV);
	if (fd < 0)
		ksft_exit_fail_msg("open %s: %s\n", ZCBUF_DEV, strerror(-fd));
	close(fd);
	zc_mount_debugfs();
	ret = zc_counters_read(&before);
	if (ret)
		ksft_exit_skip("%s: %s (no debugfs?)\n", ZC_COUNTERS,
			       strerror(-ret));
	stage_of = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stage_of == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));

	drop_caches();
	mem_before = zc_meminfo_kb("MemAvailable");
	zc_counters_fmt(&before, s1, sizeof(s1));
	ksft_print_msg("seed 0x%llx procs %d rounds %d (replay: -s 0x%llx -p %d -r %d)\n",
		       (unsigned long long)seed, procs, rounds,
		       (unsigned long long)seed, procs, rounds);
	ksft_print_msg("counters before: %s; MemAvailable %lld kB\n", s1,
		       mem_before);

	r = seed;
	for (round = 0; round < rounds; round++) {
		pid_t pid[MAX_PROCS];
		int target[MAX_PROCS];
		uint64_t deadline[MAX_PROCS];
		int left = procs;

		for (i = 0; i < procs; i++) {
			atomic_store(&stage_of[i], ST_START);
			target[i] = (int)zc_rnd(&r, NR_STAGES);
			deadline[i] = 0;
			pid[i] = fork();
			if (pid[i] < 0)
				ksft_exit_fail_msg("fork: %s\n", strerror(errno));
			if (pid[i] == 0) {
				setpgid(0, 0);
				worker(i, seed ^ ((uint64_t)round << 32) ^ i);
			}
			setpgid(pid[i], pid[i]);
		}
		/*
		 * Kill each worker once it reached its target stage, after a
		 * random delay; give up waiting after 20 s (a worker that
		 * cannot get that far, e.g. no ring) and kill it anyway.
		 */
		uint64_t give_up = zc_now_ms() + 20000;

		while (left) {
			uint64_t now = zc_now_ms();

			for (i = 0; i < procs; i++) {
				int st;

				if (!pid[i])
					continue;
				st = atomic_load(&stage_of[i]);
				if (!deadline[i] && (st >= target[i] || now > give_up))
					deadline[i] = now + zc_rnd(&r, 30);
				if (waitpid(pid[i], &ret, WNOHANG) == pid[i]) {
					/* It exited by itself: a setup failure. */
					ksft_print_msg("worker %d exited early: status 0x%x at stage %s\n",
						       i, ret, stage_names[st]);
					unexpected++;
					kill(-pid[i], SIGKILL);
					pid[i] = 0;
					left--;
					continue;
				}
				if (deadline[i] && now >= deadline[i]) {
					kill(-pid[i], SIGKILL);
					waitpid(pid[i], &ret, 0);
					at_stage[atomic_load(&stage_of[i])]++;
					killed++;
					pid[i] = 0;
					left--;
				}
			}
			usleep(1000);
		}
		/* Reap the helpers (re-parented to init, or to us). */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}

	for (i = 0; i < NR_STAGES; i++)
		if (at_stage[i])
			ksft_print_msg("  killed at %-10s %lu\n", stage_names[i],
				       at_stage[i]);
	ksft_print_msg("zcbuf-stress: processes killed %lu\n", killed);
	ksft_test_result(unexpected == 0, "kill storm: %lu processes killed\n",
			 killed);

	ret = zc_counters_wait(&before, 20000, &after);
	zc_counters_fmt(&after, s2, sizeof(s2));
	if (ret)
		ksft_print_msg("counters after: %s (before: %s)\n", s2, s1);
	ksft_test_result(ret == 0, "counters back to %s\n", s1);

	drop_caches();
	mem_after = zc_meminfo_kb("MemAvailable");
	/* 2% of what was available, at least 8 MiB: slab and page cache. */
	margin = mem_before / 50 > 8192 ? mem_before / 50 : 8192;
	ksft_print_msg("MemAvailable before %lld kB, after %lld kB (margin %lld kB)\n",
		       mem_before, mem_after, margin);
	ksft_test_result(mem_after >= mem_before - margin,
			 "free memory back within %lld kB\n", margin);
	ksft_finished();
}
