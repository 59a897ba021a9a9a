// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_fuzz: a bounded, seeded fuzzer of the whole /dev/zcbuf uapi.
 *
 *   zcbuf_fuzz [-s SEED] [-n OPS] [-t THREADS] [-c CONTEXTS] [-v]
 *
 * Several threads share a few contexts and a pool of exported DMA-buf fds
 * and issue random operations against them: every ioctl with plausible or
 * random fields and argument sizes, random command numbers, bad argument
 * pointers and pointers into zcbuf mappings, mmap/munmap/mremap/madvise of
 * random offsets and lengths (buffers, the rings, exported DMA-bufs),
 * touching the mappings, exports, imports (zcbuf, dma-heap), DMA-buf
 * ioctls, closes and reopens, forks (children killed at random), device
 * configuration and streaming, read() and poll(), ring set-up and garbage
 * written into the shared rings.
 *
 * It stops after OPS operations (default 10000, or $ZCBUF_FUZZ_OPS: short
 * enough for `make check`; `make check-debug` runs a long round with -n),
 * prints the seed (give it back with -s to replay the same sequence of
 * choices per thread; thread interleaving is not reproducible), and
 * reports the calls it made.  It passes when nothing crashed (the runner
 * scans the kernel log), no errno outside the ABI's leaked out (512..529,
 * the kernel's internal restart codes, would be a kernel bug), and the
 * module's counters (contexts, buffers, buffer_bytes) are back where they
 * started once every fd is closed and every mapping gone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/ucontext.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "kselftest.h"
#include "zcbuf_helpers.h"
#include "zcbuf_rel.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define MAX_THREADS	16
#define MAX_CTX		8
#define NPOOL		16
#define MAX_MAPS	16
#define SCRATCH		(16384 + 64)

enum op {
	OP_IOCTL,	/* a valid command, plausible or random fields */
	OP_IOCTL_SIZE,	/* a valid command with another argument size */
	OP_IOCTL_RAND,	/* a random command number */
	OP_IOCTL_PTR,	/* a valid command, bad or odd argument pointer */
	OP_MMAP,
	OP_MUNMAP,
	OP_TOUCH,
	OP_MREMAP,
	OP_MADVISE,
	OP_EXPORT,
	OP_IMPORT,
	OP_DMABUF,	/* DMA-buf ioctls, poll, mmap on a pool fd */
	OP_CLOSE_DMABUF,
	OP_REOPEN,
	OP_FORK,
	OP_READ,
	OP_STREAM,	/* a whole configure/alloc/queue/stream sequence */
	OP_RING,	/* ring set-up, mapping and garbage */
	OP_COPY,	/* the kernel copying to/from a zcbuf mapping */
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"ioctl", "ioctl-size", "ioctl-rand", "ioctl-ptr", "mmap", "munmap",
	"touch", "mremap", "madvise", "export", "import", "dmabuf",
	"close-dmabuf", "reopen", "fork", "read", "stream", "ring", "copy",
};

/* Relative frequency of each operation. */
static const unsigned int op_weight[NR_OPS] = {
	[OP_IOCTL] = 30, [OP_IOCTL_SIZE] = 5, [OP_IOCTL_RAND] = 5,
	[OP_IOCTL_PTR] = 5, [OP_MMAP] = 10, [OP_MUNMAP] = 6, [OP_TOUCH] = 8,
	[OP_MREMAP] = 2, [OP_MADVISE] = 2, [OP_EXPORT] = 6, [OP_IMPORT] = 4,
	[OP_DMABUF] = 6, [OP_CLOSE_DMABUF] = 3, [OP_REOPEN] = 2, [OP_FORK] = 1,
	[OP_READ] = 2, [OP_STREAM] = 3, [OP_RING] = 3, [OP_COPY] = 2,
};

static const unsigned long zc_cmds[] = {
	ZCBUF_IOC_INFO, ZCBUF_IOC_ALLOC, ZCBUF_IOC_FREE, ZCBUF_IOC_QUERY,
	ZCBUF_IOC_EXPORT, ZCBUF_IOC_IMPORT, ZCBUF_IOC_SYNC, ZCBUF_IOC_CONFIG,
	ZCBUF_IOC_SET_EVENTFD, ZCBUF_IOC_STREAMON, ZCBUF_IOC_STREAMOFF,
	ZCBUF_IOC_QBUF, ZCBUF_IOC_DQBUF, ZCBUF_IOC_STATS, ZCBUF_IOC_RING_SETUP,
	ZCBUF_IOC_RING_KICK,
};
#define NR_CMDS (sizeof(zc_cmds) / sizeof(zc_cmds[0]))

/* Shared between threads; plain fd numbers, swapped atomically. */
static int nctx = 3;
static _Atomic int ctx_fd[MAX_CTX];
static _Atomic uint32_t ctx_hi[MAX_CTX];	/* indices below this existed */
static _Atomic uint64_t ctx_ring_size[MAX_CTX];
static _Atomic int pool_fd[NPOOL];
static _Atomic long ops_left;
static _Atomic long progress;
static int heap_fd = -1;
static long page_size;
static int verbose;

struct map {
	void *addr;
	size_t len;
	int prot;
	bool ring;
};

struct thr {
	pthread_t tid;
	int id;
	uint64_t rng;
	bool child;		/* in a forked child: no blocking calls */
	timer_t timer;
	bool have_timer;
	struct map maps[MAX_MAPS];
	int nmaps;
	unsigned long ops, calls, faults, kills;
	unsigned long op_ok[NR_OPS], op_err[NR_OPS];
	unsigned long bad_errno;
	int last_bad_errno;
	unsigned long last_bad_cmd;
	uint8_t scratch[SCRATCH] __attribute__((aligned(64)));
	uint8_t altstack[65536] __attribute__((aligned(64)));
};

static struct thr *thrs;

static __thread sigjmp_buf touch_jmp;
static __thread volatile sig_atomic_t in_touch;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n;

	if (in_touch)
		siglongjmp(touch_jmp, sig);
	/* A fault outside a guarded access is the fuzzer's own bug. */
	n = snprintf(msg, sizeof(msg),
		     "# zcbuf_fuzz: signal %d at address %p, pc 0x%llx\n", sig,
		     si->si_addr,
		     (unsigned long long)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
	if (write(2, msg, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void timer_handler(int sig)
{
	(void)sig;
}

/*
 * Run @fn(@a) with SIGBUS/SIGSEGV turned into a return: *@faulted is set
 * and -EFAULT returned.  Touching a revoked (strict mode) or zapped mapping
 * raises SIGBUS by design.
 */
static __attribute__((noinline)) long guarded(long (*fn)(void *), void *a,
					      bool *faulted)
{
	long ret;

	*faulted = false;
	in_touch = 1;
	if (sigsetjmp(touch_jmp, 1)) {
		in_touch = 0;
		*faulted = true;
		return -EFAULT;
	}
	ret = fn(a);
	in_touch = 0;
	return ret;
}

struct call {
	int fd;
	unsigned long cmd;
	void *arg;
	size_t len;
};

static long call_ioctl(void *a)
{
	struct call *c = a;

	return ioctl(c->fd, c->cmd, c->arg) < 0 ? -errno : 0;
}

static long call_read(void *a)
{
	struct call *c = a;
	ssize_t n = read(c->fd, c->arg, c->len);

	return n < 0 ? -errno : n;
}

static uint64_t rnd(struct thr *t, uint64_t n)
{
	return zc_rnd(&t->rng, n);
}

static bool chance(struct thr *t, unsigned int percent)
{
	return rnd(t, 100) < percent;
}

/* Interesting 32-bit values: boundaries, small numbers, random bits. */
static uint32_t rnd_u32(struct thr *t)
{
	static const uint32_t special[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 63, 64, 255, 4095, 4096, 4097,
		65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	};

	switch (rnd(t, 4)) {
	case 0:
		return special[rnd(t, sizeof(special) / sizeof(special[0]))];
	case 1:
		return (uint32_t)rnd(t, 32);
	case 2:
		return 1U << rnd(t, 32);
	default:
		return (uint32_t)zc_rnd64(&t->rng);
	}
}

static uint64_t rnd_u64(struct thr *t)
{
	switch (rnd(t, 4)) {
	case 0:
		return (uint64_t)rnd_u32(t);
	case 1:
		return 1ULL << rnd(t, 64);
	case 2:
		return ~0ULL - rnd(t, 4096);
	default:
		return zc_rnd64(&t->rng);
	}
}

/* Fill @len bytes with random values or, mostly, zeros. */
static void rnd_fill(struct thr *t, void *p, size_t len)
{
	uint8_t *b = p;
	size_t i;

	if (chance(t, 50)) {
		memset(p, 0, len);
		return;
	}
	for (i = 0; i < len; i++)
		b[i] = chance(t, 70) ? 0 : (uint8_t)zc_rnd64(&t->rng);
}

static int pick_ctx(struct thr *t)
{
	return (int)rnd(t, nctx);
}

static uint32_t rnd_index(struct thr *t, int c)
{
	uint32_t hi = atomic_load(&ctx_hi[c]);

	if (chance(t, 85))
		return (uint32_t)rnd(t, hi + 2);
	return rnd_u32(t);
}

static void note_index(int c, uint32_t end)
{
	uint32_t cur = atomic_load(&ctx_hi[c]);

	while (end > cur && !atomic_compare_exchange_weak(&ctx_hi[c], &cur, end))
		;
}

/* A plausible buffer size: mostly small, a few pages, sometimes odd. */
static uint64_t rnd_size(struct thr *t)
{
	switch (rnd(t, 8)) {
	case 0:
		return rnd(t, 8192) + 1;
	case 1:
		return (uint64_t)page_size << rnd(t, 9);	/* up to 1 MiB */
	case 2:
		if (chance(t, 10))
			return rnd_u64(t);	/* mostly too big: EINVAL */
		return page_size * (1 + rnd(t, 4));
	default:
		return page_size * (1 + rnd(t, 16));
	}
}

/* Record the outcome of one system call (ret < 0 is -errno). */
static long account(struct thr *t, enum op op, long ret, unsigned long cmd)
{
	t->calls++;
	if (ret >= 0) {
		t->op_ok[op]++;
		return ret;
	}
	t->op_err[op]++;
	/* The kernel's own restart codes must never reach user space. */
	if (-ret >= 512 && -ret <= 529) {
		t->bad_errno++;
		t->last_bad_errno = (int)-ret;
		t->last_bad_cmd = cmd;
	}
	return ret;
}

static long sys_ioctl(struct thr *t, enum op op, int fd, unsigned long cmd,
		      void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	return account(t, op, ret < 0 ? -errno : ret, cmd);
}

/*
 * Calls that may block (read, DMA_BUF_IOCTL_SYNC) get an alarm every 100 ms
 * until disarmed: periodic, so that one firing just before the call goes to
 * sleep does not leave it blocked for good.
 */
static void arm(struct thr *t)
{
	struct itimerspec its = {
		.it_value.tv_nsec = 100 * 1000 * 1000,
		.it_interval.tv_nsec = 100 * 1000 * 1000,
	};

	if (t->have_timer && !t->child)
		timer_settime(t->timer, 0, &its, NULL);
}

static void disarm(struct thr *t)
{
	struct itimerspec its = { 0 };

	if (t->have_timer && !t->child)
		timer_settime(t->timer, 0, &its, NULL);
}

/* Fill a valid command's argument: plausible values, sometimes random. */
static void fill_arg(struct thr *t, int c, unsigned long cmd, void *arg)
{
	bool wild = chance(t, 15);
	size_t size = _IOC_SIZE(cmd);

	memset(arg, 0, size);
	if (wild) {
		rnd_fill(t, arg, size);
		return;
	}

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(ZCBUF_IOC_ALLOC): {
		struct zcbuf_alloc *a = arg;

		a->size = rnd_size(t);
		a->count = chance(t, 90) ? 1 + rnd(t, 4) : rnd_u32(t);
		a->flags = chance(t, 20) ? ZCBUF_ALLOC_CONTIG :
			   chance(t, 5) ? rnd_u32(t) : 0;
		if (a->flags == ZCBUF_ALLOC_CONTIG && a->size > (256 << 10))
			a->size = page_size * (1 + rnd(t, 16));
		a->reserved = chance(t, 3) ? rnd_u32(t) : 0;
		break;
	}
	case _IOC_NR(ZCBUF_IOC_FREE): {
		struct zcbuf_free *f = arg;

		f->index = rnd_index(t, c);
		f->reserved = chance(t, 3) ? rnd_u32(t) : 0;
		break;
	}
	case _IOC_NR(ZCBUF_IOC_QUERY):
		((struct zcbuf_query *)arg)->index = rnd_index(t, c);
		break;
	case _IOC_NR(ZCBUF_IOC_EXPORT): {
		struct zcbuf_export *e = arg;

		e->index = rnd_index(t, c);
		e->flags = chance(t, 95) ? (uint32_t)rnd(t, 4) : rnd_u32(t);
		e->fd = (int32_t)rnd_u32(t);
		break;
	}
	case _IOC_NR(ZCBUF_IOC_IMPORT): {
		struct zcbuf_import *i = arg;

		i->fd = chance(t, 80) ? atomic_load(&pool_fd[rnd(t, NPOOL)]) :
			(int32_t)rnd(t, 64);
		i->flags = chance(t, 5) ? rnd_u32(t) : 0;
		break;
	}
	case _IOC_NR(ZCBUF_IOC_SYNC): {
		struct zcbuf_sync *s = arg;

		s->index = rnd_index(t, c);
		s->flags = chance(t, 90) ? (uint32_t)rnd(t, 8) : rnd_u32(t);
		s->offset = chance(t, 80) ? rnd(t, 3) * page_size + rnd(t, 64) :
			    rnd_u64(t);
		s->length = chance(t, 80) ? 1 + rnd(t, 3 * page_size) :
			    rnd_u64(t);
		break;
	}
	case _IOC_NR(ZCBUF_IOC_CONFIG): {
		struct zcbuf_config *cfg = arg;

		cfg->personality = chance(t, 90) ? (uint32_t)rnd(t, 4) :
				   rnd_u32(t);
		cfg->flags = (chance(t, 30) ? ZCBUF_CFG_STRICT : 0) |
			     (chance(t, 30) ? ZCBUF_CFG_NO_CHECKSUM : 0);
		if (cfg->personality == ZCBUF_DEV_CAMERA) {
			cfg->width = 16 + 2 * rnd(t, 24);
			cfg->height = 16 + rnd(t, 48);
			cfg->pixelformat = chance(t, 50) ? ZCBUF_FMT_RGB24 :
					   ZCBUF_FMT_YUYV;
			cfg->fps = chance(t, 50) ? 0 : (uint32_t)rnd(t, 1001);
		} else if (cfg->personality == ZCBUF_DEV_NIC_RX) {
			cfg->pkt_min = ZCBUF_PKT_MIN + rnd(t, 512);
			cfg->pkt_max = cfg->pkt_min + rnd(t, 2048);
			cfg->pkts_per_buffer = 1 + rnd(t, 8);
			cfg->pkt_rate = chance(t, 50) ? 0 : (uint32_t)rnd(t, 100001);
		} else if (cfg->personality == ZCBUF_DEV_NIC_TX) {
			cfg->pkt_rate = chance(t, 50) ? 0 : (uint32_t)rnd(t, 100001);
		}
		if (chance(t, 30)) {
			cfg->drop_permille = rnd(t, 1001);
			cfg->error_permille = rnd(t, 1001);
			cfg->jitter_us = rnd(t, 2000);
			cfg->stall_every = rnd(t, 8);
			cfg->stall_ms = rnd(t, 20);
		}
		cfg->seed = zc_rnd64(&t->rng);
		if (chance(t, 5))
			cfg->frame_size = rnd_u32(t);
		if (chance(t, 3))
			cfg->reserved[rnd(t, 3)] = rnd_u64(t);
		if (chance(t, 5))	/* mostly no such device */
			cfg->device = rnd(t, 4);
		if (chance(t, 5))	/* one field out of range */
			((uint32_t *)arg)[rnd(t, 16)] = rnd_u32(t);
		break;
	}
	case _IOC_NR(ZCBUF_IOC_SET_EVENTFD): {
		struct zcbuf_eventfd *e = arg;

		e->fd = chance(t, 20) ? -1 : (int32_t)rnd(t, 64);
		e->flags = chance(t, 5) ? rnd_u32(t) : 0;
		break;
	}
	case _IOC_NR(ZCBUF_IOC_STREAMON):
	case _IOC_NR(ZCBUF_IOC_STREAMOFF):
	case _IOC_NR(ZCBUF_IOC_RING_KICK):
		if (chance(t, 5))
			rnd_fill(t, arg, size);
		break;
	case _IOC_NR(ZCBUF_IOC_QBUF): {
		struct zcbuf_qbuf *q = arg;

		q->index = rnd_index(t, c);
		q->flags = chance(t, 5) ? rnd_u32(t) : 0;
		q->bytesused = chance(t, 50) ? 0 :
			       chance(t, 80) ? rnd(t, 4 * page_size) : rnd_u64(t);
		break;
	}
	case _IOC_NR(ZCBUF_IOC_DQBUF):
		if (chance(t, 5))
			((struct zcbuf_dqbuf *)arg)->flags = rnd_u32(t);
		break;
	case _IOC_NR(ZCBUF_IOC_RING_SETUP): {
		struct zcbuf_ring_setup *r = arg;

		r->entries = chance(t, 50) ? 0 :
			     chance(t, 80) ? 1U << rnd(t, 18) : rnd_u32(t);
		if (chance(t, 5))
			r->mmap_offset = rnd_u64(t);
		break;
	}
	default:	/* INFO, STATS: outputs only */
		if (chance(t, 10))
			rnd_fill(t, arg, size);
		break;
	}
}

/* Keep what we learnt: new indices, exported fds, ring sizes. */
static void harvest(struct thr *t, int c, unsigned long cmd, void *arg,
		    long ret)
{
	if (ret < 0)
		return;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(ZCBUF_IOC_ALLOC): {
		struct zcbuf_alloc *a = arg;

		note_index(c, a->first_index + a->count);
		break;
	}
	case _IOC_NR(ZCBUF_IOC_IMPORT):
		note_index(c, ((struct zcbuf_import *)arg)->index + 1);
		break;
	case _IOC_NR(ZCBUF_IOC_EXPORT): {
		int fd = ((struct zcbuf_export *)arg)->fd;
		int old = atomic_exchange(&pool_fd[rnd(t, NPOOL)], fd);

		if (old >= 0 && !t->child)
			close(old);
		break;
	}
	case _IOC_NR(ZCBUF_IOC_RING_SETUP):
		atomic_store(&ctx_ring_size[c],
			     ((struct zcbuf_ring_setup *)arg)->mmap_size);
		break;
	}
}

static void op_ioctl(struct thr *t, enum op op)
{
	int c = pick_ctx(t), fd = atomic_load(&ctx_fd[c]);
	unsigned long cmd = zc_cmds[rnd(t, NR_CMDS)];
	void *arg = t->scratch;
	long ret;

	if (op == OP_IOCTL_SIZE) {
		size_t size = _IOC_SIZE(cmd);

		switch (rnd(t, 3)) {
		case 0:
			size = rnd(t, size);		/* too short */
			break;
		case 1:
			size += 1 + rnd(t, 64);		/* longer */
			break;
		default:
			size = rnd(t, 1U << 14);	/* anything */
			break;
		}
		fill_arg(t, c, cmd, arg);
		cmd = ZC_IOC_RESIZE(cmd, size);
		/* The tail beyond our struct: zero or not (E2BIG). */
		if (chance(t, 50))
			memset(t->scratch + 256, 0, SCRATCH - 256);
		else
			rnd_fill(t, t->scratch + 256, 512);
	} else if (op == OP_IOCTL_PTR) {
		switch (rnd(t, 4)) {
		case 0:
			arg = NULL;
			break;
		case 1:
			arg = (void *)(uintptr_t)(page_size * (1 + rnd(t, 16)));
			break;
		case 2:	/* the struct straddles the end of a mapping */
			if (t->nmaps) {
				struct map *m = &t->maps[rnd(t, t->nmaps)];

				arg = (uint8_t *)m->addr + m->len - rnd(t, 64);
				break;
			}
			/* fall through */
		default:	/* inside a zcbuf mapping: faults under our locks? */
			if (t->nmaps) {
				struct map *m = &t->maps[rnd(t, t->nmaps)];

				arg = (uint8_t *)m->addr +
				      (rnd(t, m->len) & ~(size_t)63);
				if ((uint8_t *)arg + 256 > (uint8_t *)m->addr + m->len)
					arg = m->addr;
			} else {
				arg = (void *)~0UL;
			}
			break;
		}
		if (arg == t->scratch)
			fill_arg(t, c, cmd, arg);
	} else {
		fill_arg(t, c, cmd, arg);
	}

	if (cmd == ZCBUF_IOC_SYNC && arg == t->scratch)
		arm(t);
	{
		struct call cl = { .fd = fd, .cmd = cmd, .arg = arg };
		bool faulted;

		ret = guarded(call_ioctl, &cl, &faulted);
		/* The kernel answers EFAULT; a signal here is unexpected. */
		if (faulted)
			t->faults++;
		else
			account(t, op, ret, cmd);
	}
	disarm(t);
	if (arg == t->scratch)
		harvest(t, c, cmd, arg, ret);
}

/* A random command number; never one the VFS handles itself. */
static void op_ioctl_rand(struct thr *t)
{
	int c = pick_ctx(t), fd = atomic_load(&ctx_fd[c]);
	unsigned long cmd;
	unsigned int type;

	for (;;) {
		if (chance(t, 70))
			cmd = _IOC(rnd(t, 4), ZCBUF_IOC_MAGIC, rnd(t, 40),
				   rnd(t, 1U << 14));
		else
			cmd = (uint32_t)zc_rnd64(&t->rng);
		type = _IOC_TYPE(cmd);
		/* FIBMAP/FIGETBSZ (0), FIO* (T), FIFREEZE (X), FS_IOC_* */
		if (type != 0 && type != 'T' && type != 'X' && type != 'f' &&
		    type != 0x94 && type != 0x15)
			break;
	}
	rnd_fill(t, t->scratch, SCRATCH);
	sys_ioctl(t, OP_IOCTL_RAND, fd, cmd, t->scratch);
}

static void add_map(struct thr *t, void *addr, size_t len, int prot, bool ring)
{
	if (t->nmaps == MAX_MAPS) {
		struct map *m = &t->maps[rnd(t, MAX_MAPS)];

		munmap(m->addr, m->len);
		*m = t->maps[--t->nmaps];
	}
	t->maps[t->nmaps++] = (struct map){ addr, len, prot, ring };
}

static void op_mmap(struct thr *t)
{
	int c = pick_ctx(t), fd = atomic_load(&ctx_fd[c]);
	int prot = chance(t, 80) ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = chance(t, 95) ? MAP_SHARED : MAP_PRIVATE;
	uint64_t off;
	size_t len;
	bool ring = false;
	void *p;

	switch (rnd(t, 5)) {
	case 0: {	/* a whole buffer, as QUERY says */
		struct zcbuf_query q = { .index = rnd_index(t, c) };

		if (sys_ioctl(t, OP_MMAP, fd, ZCBUF_IOC_QUERY, &q) < 0)
			return;
		off = q.offset;
		len = q.size;
		break;
	}
	case 1:	/* part of a buffer, maybe past its end */
		off = ((uint64_t)rnd_index(t, c) << 32) +
		      rnd(t, 8) * page_size;
		len = page_size * (1 + rnd(t, 8));
		break;
	case 2:	/* the rings */
		off = ZCBUF_OFF_RINGS;
		len = atomic_load(&ctx_ring_size[c]);
		if (!len || chance(t, 20))
			len = page_size * (1 + rnd(t, 8));
		ring = true;
		break;
	case 3: {	/* an exported DMA-buf */
		fd = atomic_load(&pool_fd[rnd(t, NPOOL)]);
		if (fd < 0)
			return;
		off = rnd(t, 3) * page_size;
		len = page_size * (1 + rnd(t, 8));
		break;
	}
	default:	/* anything */
		off = rnd_u64(t) & ~(uint64_t)(page_size - 1);
		len = page_size * (1 + rnd(t, 16));
		break;
	}
	if (!len || len > (64UL << 20))
		len = page_size;
	t->calls++;
	p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	if (p == MAP_FAILED) {
		t->op_err[OP_MMAP]++;
		return;
	}
	t->op_ok[OP_MMAP]++;
	add_map(t, p, len, prot, ring);
}

static void op_munmap(struct thr *t)
{
	struct map *m;
	size_t pages, first, n;

	if (!t->nmaps)
		return;
	m = &t->maps[rnd(t, t->nmaps)];
	pages = m->len / page_size;
	t->calls++;
	if (pages > 2 && chance(t, 30)) {
		/* Punch a hole: splits the VMA (exercises ->open/->close). */
		first = 1 + rnd(t, pages - 2);
		n = 1;
		munmap((uint8_t *)m->addr + first * page_size, n * page_size);
		/* Keep the head; drop the tail from our books. */
		munmap((uint8_t *)m->addr + (first + 1) * page_size,
		       (pages - first - 1) * page_size);
		m->len = first * page_size;
		t->op_ok[OP_MUNMAP]++;
		return;
	}
	munmap(m->addr, m->len);
	*m = t->maps[--t->nmaps];
	t->op_ok[OP_MUNMAP]++;
}

struct touch {
	struct thr *t;
	struct map *m;
};

static long do_touch(void *a)
{
	struct thr *t = ((struct touch *)a)->t;
	struct map *m = ((struct touch *)a)->m;
	volatile uint8_t *p = m->addr;
	size_t pages = m->len / page_size, i, n = 1 + rnd(t, 8);

	for (i = 0; i < n; i++) {
		size_t off = rnd(t, pages) * page_size + rnd(t, page_size);

		if ((m->prot & PROT_WRITE) && chance(t, m->ring ? 70 : 40)) {
			if (m->ring) {	/* garbage into indices and entries */
				off &= ~(size_t)3;
				*(volatile uint32_t *)(p + off) = rnd_u32(t);
			} else {
				p[off] = (uint8_t)zc_rnd64(&t->rng);
			}
		} else {
			(void)p[off];
		}
	}
	return 0;
}

static void op_touch(struct thr *t)
{
	struct touch tc = { t, NULL };
	bool faulted;

	if (!t->nmaps)
		return;
	tc.m = &t->maps[rnd(t, t->nmaps)];
	guarded(do_touch, &tc, &faulted);
	/* SIGBUS: strict mode revoked it, or its pages were zapped. */
	if (faulted) {
		t->faults++;
		t->op_err[OP_TOUCH]++;
	} else {
		t->op_ok[OP_TOUCH]++;
	}
}

static void op_mremap(struct thr *t)
{
	struct map *m;
	size_t nlen;
	void *p;

	if (!t->nmaps)
		return;
	m = &t->maps[rnd(t, t->nmaps)];
	nlen = chance(t, 50) ? m->len + page_size * (1 + rnd(t, 4)) :
	       page_size * (1 + rnd(t, m->len / page_size));
	t->calls++;
	p = mremap(m->addr, m->len, nlen, chance(t, 50) ? MREMAP_MAYMOVE : 0);
	if (p == MAP_FAILED) {
		t->op_err[OP_MREMAP]++;
		return;
	}
	t->op_ok[OP_MREMAP]++;
	m->addr = p;
	m->len = nlen;
}

static void op_madvise(struct thr *t)
{
	static const int advice[] = {
		MADV_DONTNEED, MADV_WILLNEED, MADV_DONTFORK, MADV_DOFORK,
		MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE, MADV_DONTDUMP,
	};
	struct map *m;
	long ret;

	if (!t->nmaps)
		return;
	m = &t->maps[rnd(t, t->nmaps)];
	ret = madvise(m->addr, m->len,
		      advice[rnd(t, sizeof(advice) / sizeof(advice[0]))]);
	account(t, OP_MADVISE, ret ? -errno : 0, 0);
}

static void op_export(struct thr *t)
{
	int c = pick_ctx(t);
	struct zcbuf_export e = {
		.index = rnd_index(t, c),
		.flags = (uint32_t)rnd(t, 4),
	};
	long ret;

	ret = sys_ioctl(t, OP_EXPORT, atomic_load(&ctx_fd[c]),
			ZCBUF_IOC_EXPORT, &e);
	harvest(t, c, ZCBUF_IOC_EXPORT, &e, ret);
}

static void op_import(struct thr *t)
{
	int c = pick_ctx(t), src = -1, tmp = -1;
	struct zcbuf_import im = { 0 };
	long ret;

	if (heap_fd >= 0 && chance(t, 25)) {
		struct dma_heap_allocation_data d = {
			.len = page_size * (1 + rnd(t, 4)),
			.fd_flags = O_RDWR | O_CLOEXEC,
		};

		if (sys_ioctl(t, OP_IMPORT, heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) >= 0)
			src = tmp = (int)d.fd;
	} else if (chance(t, 85)) {
		src = atomic_load(&pool_fd[rnd(t, NPOOL)]);
	} else {
		src = (int)rnd(t, 64);	/* anything: a context, an eventfd... */
	}
	im.fd = src;
	ret = sys_ioctl(t, OP_IMPORT, atomic_load(&ctx_fd[c]),
			ZCBUF_IOC_IMPORT, &im);
	harvest(t, c, ZCBUF_IOC_IMPORT, &im, ret);
	if (tmp >= 0)
		close(tmp);
}

static void op_dmabuf(struct thr *t)
{
	int fd = atomic_load(&pool_fd[rnd(t, NPOOL)]);
	struct pollfd pfd;

	if (fd < 0)
		return;
	switch (rnd(t, 5)) {
	case 0:
	case 1: {
		struct dma_buf_sync s = {
			.flags = chance(t, 90) ? rnd(t, 8) : rnd_u64(t),
		};

		arm(t);
		sys_ioctl(t, OP_DMABUF, fd, DMA_BUF_IOCTL_SYNC, &s);
		disarm(t);
		break;
	}
	case 2: {
		char name[DMA_BUF_NAME_LEN + 8];

		snprintf(name, sizeof(name), "fuzz-%d-%u", t->id,
			 (unsigned int)rnd(t, 1000000));
		sys_ioctl(t, OP_DMABUF, fd, DMA_BUF_SET_NAME_B, name);
		break;
	}
	case 3: {
		struct dma_buf_export_sync_file e = {
			.flags = chance(t, 90) ? 1 + rnd(t, 3) : rnd_u32(t),
			.fd = -1,
		};

		if (sys_ioctl(t, OP_DMABUF, fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
			      &e) >= 0 && e.fd >= 0) {
			/* Put that fence into another buffer's reservation. */
			int other = atomic_load(&pool_fd[rnd(t, NPOOL)]);
			struct dma_buf_import_sync_file i = {
				.flags = 1 + rnd(t, 3), .fd = e.fd,
			};

			if (other >= 0 && chance(t, 50))
				sys_ioctl(t, OP_DMABUF, other,
					  DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i);
			pfd = (struct pollfd){ .fd = e.fd, .events = POLLIN };
			poll(&pfd, 1, 0);
			close(e.fd);
		}
		break;
	}
	default:
		pfd = (struct pollfd){ .fd = fd, .events = rnd(t, 8) };
		account(t, OP_DMABUF, poll(&pfd, 1, 0) < 0 ? -errno : 0, 0);
		break;
	}
}

static void op_close_dmabuf(struct thr *t)
{
	int fd = atomic_exchange(&pool_fd[rnd(t, NPOOL)], -1);

	if (fd >= 0)
		account(t, OP_CLOSE_DMABUF, close(fd) ? -errno : 0, 0);
}

static void op_reopen(struct thr *t)
{
	int c = pick_ctx(t);
	int fd = open(ZCBUF_DEV, O_RDWR | O_CLOEXEC |
		      (chance(t, 50) ? O_NONBLOCK : 0));
	int old;

	if (account(t, OP_REOPEN, fd < 0 ? -errno : fd, 0) < 0)
		return;
	old = atomic_exchange(&ctx_fd[c], fd);
	atomic_store(&ctx_hi[c], 0);
	atomic_store(&ctx_ring_size[c], 0);
	if (old >= 0)
		close(old);	/* other threads may still be inside it */
}

static void op_read(struct thr *t)
{
	int fd = atomic_load(&ctx_fd[pick_ctx(t)]);
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	void *dst = t->scratch;
	size_t len = rnd(t, SCRATCH);
	long ret;

	if (chance(t, 40)) {
		account(t, OP_READ, poll(&pfd, 1, rnd(t, 5)) < 0 ? -errno : 0, 0);
		return;
	}
	if (t->child)
		return;
	/* Into a zcbuf mapping: copy_to_user faulting on our own pages. */
	if (t->nmaps && chance(t, 30)) {
		struct map *m = &t->maps[rnd(t, t->nmaps)];

		if (!(m->prot & PROT_WRITE))
			return;
		dst = m->addr;
		len = m->len;
	}
	{
		struct call cl = { .fd = fd, .arg = dst, .len = len };
		bool faulted;

		arm(t);
		ret = guarded(call_read, &cl, &faulted);
		disarm(t);
		if (faulted) {
			t->faults++;
			return;
		}
	}
	account(t, OP_READ, ret, 0);
}

/* The kernel reads from / writes to a zcbuf mapping: pipes and vmsplice. */
static void op_copy(struct thr *t)
{
	struct map *m;
	int p[2];
	long ret;

	if (!t->nmaps || pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return;
	m = &t->maps[rnd(t, t->nmaps)];
	if (chance(t, 50)) {
		struct iovec iov = { m->addr, m->len < 65536 ? m->len : 65536 };

		/* gup on the mapping */
		ret = vmsplice(p[1], &iov, 1, 0);
	} else {
		ret = write(p[1], m->addr, m->len < 65536 ? m->len : 65536);
		if (ret > 0 && (m->prot & PROT_WRITE))
			ret = read(p[0], m->addr, (size_t)ret);
	}
	account(t, OP_COPY, ret < 0 ? -errno : ret, 0);
	close(p[0]);
	close(p[1]);
}

/* A whole stream on a shared context; other threads may get in the way. */
static void op_stream(struct thr *t)
{
	int c = pick_ctx(t), fd = atomic_load(&ctx_fd[c]);
	struct zcbuf_config cfg = { 0 };
	struct zcbuf_stream st = { 0 };
	struct zcbuf_alloc a = { 0 };
	struct zcbuf_eventfd ev;
	uint32_t i, n = 2 + rnd(t, 3);
	int efd = -1;

	switch (rnd(t, 3)) {
	case 0:
		cfg.personality = ZCBUF_DEV_CAMERA;
		cfg.width = 32;
		cfg.height = 16;
		cfg.pixelformat = chance(t, 50) ? ZCBUF_FMT_RGB24 : ZCBUF_FMT_YUYV;
		break;
	case 1:
		cfg.personality = ZCBUF_DEV_NIC_RX;
		cfg.pkt_min = ZCBUF_PKT_MIN;
		cfg.pkt_max = 1500;
		cfg.pkts_per_buffer = 4;
		break;
	default:
		cfg.personality = ZCBUF_DEV_NIC_TX;
		break;
	}
	cfg.flags = (chance(t, 30) ? ZCBUF_CFG_STRICT : 0) |
		    (chance(t, 30) ? ZCBUF_CFG_NO_CHECKSUM : 0);
	cfg.seed = zc_rnd64(&t->rng);
	if (chance(t, 30))
		cfg.error_permille = 100;
	if (sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_STREAMOFF, &st) < 0 ||
	    sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_CONFIG, &cfg) < 0)
		return;

	a.size = 16384;
	a.count = n;
	if (sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_ALLOC, &a) < 0)
		return;
	note_index(c, a.first_index + n);

	if (!t->child) {
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ev = (struct zcbuf_eventfd){ .fd = efd };
		if (efd >= 0)
			sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_SET_EVENTFD, &ev);
	}
	for (i = 0; i < n; i++) {
		struct zcbuf_qbuf q = { .index = a.first_index + i };

		if (cfg.personality == ZCBUF_DEV_NIC_TX)
			q.bytesused = 64 + rnd(t, 4000);
		sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_QBUF, &q);
	}
	sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_STREAMON, &st);
	for (i = 0; i < 4 + rnd(t, 8); i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct zcbuf_dqbuf dq = { 0 };
		struct zcbuf_qbuf q = { 0 };

		account(t, OP_STREAM, poll(&pfd, 1, 10) < 0 ? -errno : 0, 0);
		if (sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_DQBUF, &dq) < 0)
			continue;
		q.index = dq.index;
		if (cfg.personality == ZCBUF_DEV_NIC_TX)
			q.bytesused = 64;
		sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_QBUF, &q);
	}
	/* Leave it streaming sometimes: close or another thread stops it. */
	if (chance(t, 70))
		sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_STREAMOFF, &st);
	if (chance(t, 50))
		for (i = 0; i < n; i++) {
			struct zcbuf_free f = { .index = a.first_index + i };

			sys_ioctl(t, OP_STREAM, fd, ZCBUF_IOC_FREE, &f);
		}
	if (efd >= 0)
		close(efd);
}

/* Rings: set up, map, feed the SQ with mostly garbage, kick. */
static void op_ring(struct thr *t)
{
	int c = pick_ctx(t), fd = atomic_load(&ctx_fd[c]);
	struct zcbuf_ring_setup rs = { 0 };
	struct zcbuf_ring_kick k = { 0 };
	volatile uint32_t *prod;
	struct zcbuf_sqe *sqe;
	uint8_t *p;
	uint32_t i, n;

	if (sys_ioctl(t, OP_RING, fd, ZCBUF_IOC_RING_SETUP, &rs) >= 0)
		atomic_store(&ctx_ring_size[c], rs.mmap_size);
	else if (chance(t, 50))
		return;
	else
		return (void)sys_ioctl(t, OP_RING, fd, ZCBUF_IOC_RING_KICK, &k);

	t->calls++;
	p = mmap(NULL, rs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)rs.mmap_offset);
	if (p == MAP_FAILED) {
		t->op_err[OP_RING]++;
		return;
	}
	add_map(t, p, rs.mmap_size, PROT_READ | PROT_WRITE, true);
	sqe = (struct zcbuf_sqe *)(p + rs.sq.array);
	prod = (volatile uint32_t *)(p + rs.sq.producer);
	n = 1 + rnd(t, 2 * rs.sq.entries);
	for (i = 0; i < n && i < 256; i++) {
		struct zcbuf_sqe *e = &sqe[(*prod + i) & (rs.sq.entries - 1)];

		e->index = rnd_index(t, c);
		e->flags = chance(t, 90) ? 0 : rnd_u32(t);
		e->bytesused = chance(t, 80) ? rnd(t, 4096) : rnd_u64(t);
	}
	/* Sometimes an honest producer index, sometimes a lie. */
	__atomic_store_n(prod, chance(t, 60) ? *prod + (n < 256 ? n : 256) :
			 rnd_u32(t), __ATOMIC_RELEASE);
	if (chance(t, 30))
		*(volatile uint32_t *)(p + rs.cq.consumer) = rnd_u32(t);
	if (chance(t, 30))
		*(volatile uint32_t *)(p + rs.cq.flags) = rnd_u32(t);
	sys_ioctl(t, OP_RING, fd, ZCBUF_IOC_RING_KICK, &k);
}

static void do_op(struct thr *t, enum op op);

static void op_fork(struct thr *t)
{
	pid_t pid;
	int status, i;

	t->calls++;
	pid = fork();
	if (pid < 0) {
		t->op_err[OP_FORK]++;
		return;
	}
	if (pid == 0) {
		t->child = true;
		alarm(5);	/* a stuck child dies (default SIGALRM) */
		for (i = 0; i < 20; i++) {
			enum op op = (enum op)rnd(t, NR_OPS);

			if (op != OP_FORK)
				do_op(t, op);
		}
		_exit(0);
	}
	t->op_ok[OP_FORK]++;
	if (chance(t, 50)) {
		usleep(rnd(t, 5000));
		kill(pid, SIGKILL);
		t->kills++;
	}
	waitpid(pid, &status, 0);
}

static void do_op(struct thr *t, enum op op)
{
	switch (op) {
	case OP_IOCTL:
	case OP_IOCTL_SIZE:
	case OP_IOCTL_PTR:
		op_ioctl(t, op);
		break;
	case OP_IOCTL_RAND:
		op_ioctl_rand(t);
		break;
	case OP_MMAP:
		op_mmap(t);
		break;
	case OP_MUNMAP:
		op_munmap(t);
		break;
	case OP_TOUCH:
		op_touch(t);
		break;
	case OP_MREMAP:
		op_mremap(t);
		break;
	case OP_MADVISE:
		op_madvise(t);
		break;
	case OP_EXPORT:
		op_export(t);
		break;
	case OP_IMPORT:
		op_import(t);
		break;
	case OP_DMABUF:
		op_dmabuf(t);
		break;
	case OP_CLOSE_DMABUF:
		if (!t->child)
			op_close_dmabuf(t);
		break;
	case OP_REOPEN:
		if (!t->child)
			op_reopen(t);
		break;
	case OP_FORK:
		op_fork(t);
		break;
	case OP_READ:
		op_read(t);
		break;
	case OP_STREAM:
		op_stream(t);
		break;
	case OP_RING:
		op_ring(t);
		break;
	case OP_COPY:
		op_copy(t);
		break;
	default:
		break;
	}
}

static enum op pick_op(struct thr *t)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = (unsigned int)rnd(t, total);
	for (i = 0; i < NR_OPS; i++) {
		if (r < op_weight[i])
			return (enum op)i;
		r -= op_weight[i];
	}
	return OP_IOCTL;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGUSR1,
	};

	stack_t ss = { .ss_sp = t->altstack, .ss_size = sizeof(t->altstack) };

	/* A fault on a broken stack is still reported. */
	sigaltstack(&ss, NULL);
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	t->have_timer = !timer_create(CLOCK_MONOTONIC, &sev, &t->timer);

	while (atomic_fetch_sub(&ops_left, 1) > 0) {
		do_op(t, pick_op(t));
		t->ops++;
		atomic_fetch_add(&progress, 1);
	}
	while (t->nmaps > 0) {
		t->nmaps--;
		munmap(t->maps[t->nmaps].addr, t->maps[t->nmaps].len);
	}
	if (t->have_timer)
		timer_delete(t->timer);
	return NULL;
}

/*
 * Close every fd and unmap every zcbuf/DMA-buf mapping the fuzzer lost track
 * of (an EXPORT through a random command number or with its argument in a
 * mapping makes an fd nobody harvested).  Return how many there were.
 */
static int sweep(void)
{
	char line[512], path[64];
	unsigned long lo, hi;
	int n = 0, fd;
	FILE *f;

	for (fd = 3; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (access(path, F_OK))
			continue;
		if (!close(fd))
			n++;
	}
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return n;
	while (fgets(line, sizeof(line), f)) {
		/* Our own binary may live in a directory called zcbuf. */
		if (!strstr(line, "dmabuf") && !strstr(line, " " ZCBUF_DEV))
			continue;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    !munmap((void *)lo, hi - lo))
			n++;
	}
	fclose(f);
	return n;
}

/* A hang is a finding too: show where every thread sleeps, then fail. */
static void report_hang(unsigned int secs)
{
	char path[300], buf[4096];
	struct dirent *de;
	DIR *d;

	ksft_print_msg("no progress for %u s: threads stuck\n", secs);
	d = opendir("/proc/self/task");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
			 de->d_name);
		if (zc_read_file(path, buf, sizeof(buf)) > 0)
			ksft_print_msg("task %s", buf);
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack",
			 de->d_name);
		if (zc_read_file(path, buf, sizeof(buf)) > 0)
			ksft_print_msg("%s", buf);
	}
	if (d)
		closedir(d);
	zc_write_file("/proc/sysrq-trigger", "w");
	ksft_test_result_fail("fuzz: hung (the kernel log has the blocked tasks)\n");
	ksft_exit_fail();
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-s SEED] [-n OPS] [-t THREADS] [-c CONTEXTS] [-v]\n"
		"  OPS defaults to $ZCBUF_FUZZ_OPS or 10000\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = zc_clock_seed();
	long nops = 10000;
	int nthreads = 4, i, opt, j;
	struct zc_counters before, after;
	struct sigaction sa = { 0 };
	unsigned long calls = 0, ops = 0, faults = 0, kills = 0, bad = 0;
	unsigned long ok[NR_OPS] = { 0 }, err[NR_OPS] = { 0 };
	char s1[128], s2[128];
	uint64_t t0;
	int ret, fd;

	if (getenv("ZCBUF_FUZZ_OPS"))
		nops = strtol(getenv("ZCBUF_FUZZ_OPS"), NULL, 0);
	if (getenv("ZCBUF_FUZZ_SEED"))
		seed = strtoull(getenv("ZCBUF_FUZZ_SEED"), NULL, 0);
	while ((opt = getopt(argc, argv, "s:n:t:c:vh")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			nops = strtol(optarg, NULL, 0);
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'c':
			nctx = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS || nctx < 1 ||
	    nctx > MAX_CTX || nops < 0)
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
	zc_counters_fmt(&before, s1, sizeof(s1));
	ksft_print_msg("seed 0x%llx ops %ld threads %d contexts %d (replay: -s 0x%llx -n %ld -t %d -c %d)\n",
		       (unsigned long long)seed, nops, nthreads, nctx,
		       (unsigned long long)seed, nops, nthreads, nctx);
	ksft_print_msg("counters before: %s\n", s1);

	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_NODEFER | SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_handler = timer_handler;
	sa.sa_flags = 0;		/* no SA_RESTART: interrupt blocking calls */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	heap_fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < MAX_CTX; i++)
		atomic_store(&ctx_fd[i], i < nctx ?
			     open(ZCBUF_DEV, O_RDWR | O_CLOEXEC |
				  (i & 1 ? O_NONBLOCK : 0)) : -1);
	for (i = 0; i < NPOOL; i++)
		atomic_store(&pool_fd[i], -1);
	atomic_store(&ops_left, nops);

	thrs = calloc(nthreads, sizeof(*thrs));
	if (!thrs)
		ksft_exit_fail_msg("out of memory\n");
	t0 = zc_now_ms();
	for (i = 0; i < nthreads; i++) {
		thrs[i].id = i;
		thrs[i].rng = seed + 0x9e3779b97f4a7c15ULL * (i + 1);
		if (pthread_create(&thrs[i].tid, NULL, thread_main, &thrs[i]))
			ksft_exit_fail_msg("pthread_create failed\n");
	}
	/* Watch for progress while the threads run. */
	{
		long last = -1;
		uint64_t since = zc_now_ms();

		while (atomic_load(&ops_left) > 0) {
			long now = atomic_load(&progress);

			if (now != last) {
				last = now;
				since = zc_now_ms();
			} else if (zc_now_ms() - since > 60000) {
				report_hang(60);
			}
			usleep(100000);
		}
	}
	for (i = 0; i < nthreads; i++) {
		struct thr *t = &thrs[i];

		pthread_join(t->tid, NULL);
		calls += t->calls;
		ops += t->ops;
		faults += t->faults;
		kills += t->kills;
		bad += t->bad_errno;
		if (t->bad_errno)
			ksft_print_msg("thread %d: errno %d (kernel-internal) from cmd 0x%lx\n",
				       i, t->last_bad_errno, t->last_bad_cmd);
		for (j = 0; j < NR_OPS; j++) {
			ok[j] += t->op_ok[j];
			err[j] += t->op_err[j];
		}
	}
	for (i = 0; i < MAX_CTX; i++) {
		fd = atomic_exchange(&ctx_fd[i], -1);
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < NPOOL; i++) {
		fd = atomic_exchange(&pool_fd[i], -1);
		if (fd >= 0)
			close(fd);
	}
	if (heap_fd >= 0)
		close(heap_fd);
	i = sweep();
	if (i)
		ksft_print_msg("closed or unmapped %d fds/mappings made by random commands\n",
			       i);

	for (j = 0; j < NR_OPS; j++)
		if (verbose || ok[j] + err[j])
			ksft_print_msg("  %-13s ok %6lu  failed %6lu\n",
				       op_names[j], ok[j], err[j]);
	ksft_print_msg("zcbuf-fuzz: calls %lu ops %lu faults %lu children-killed %lu seconds %.1f\n",
		       calls, ops, faults, kills, (zc_now_ms() - t0) / 1000.0);
	ksft_test_result_pass("fuzz: %lu operations, %lu calls, seed 0x%llx\n",
			      ops, calls, (unsigned long long)seed);
	ksft_test_result(bad == 0, "no kernel-internal errno reached user space\n");

	ret = zc_counters_wait(&before, 10000, &after);
	zc_counters_fmt(&after, s2, sizeof(s2));
	if (ret)
		ksft_print_msg("counters after: %s (before: %s)\n", s2, s1);
	ksft_test_result(ret == 0, "counters back to %s\n", s1);
	ksft_finished();
}
