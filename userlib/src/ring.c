// SPDX-License-Identifier: MIT
/*
 * libzcbuf: the shared-memory completion and submission rings.
 *
 * Ordering, as <linux/zcbuf.h> specifies it: a producer writes the entry,
 * then stores its producer index with release semantics; a consumer loads
 * the producer index with acquire semantics, reads the entries, then stores
 * its consumer index with release semantics.  Around sleeping and waking,
 * each side sets its flag, issues a full barrier and looks once more.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define full_barrier()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

static int ring_queue_init(struct zcbuf_ring_queue *q, void *base,
			   size_t size, const struct zcbuf_ring_offsets *o,
			   size_t entry_size)
{
	char *b = base;

	/* Trust, but check: every word and the array inside the mapping. */
	if (!o->entries || (o->entries & (o->entries - 1)) ||
	    o->producer > size - 4 || o->consumer > size - 4 ||
	    o->flags > size - 4 || o->errors > size - 4 ||
	    o->array > size || (size - o->array) / entry_size < o->entries ||
	    (o->producer | o->consumer | o->flags | o->errors) % 4 ||
	    o->array % 8)
		return -EPROTO;
	q->producer = (uint32_t *)(b + o->producer);
	q->consumer = (uint32_t *)(b + o->consumer);
	q->flags = (uint32_t *)(b + o->flags);
	q->errors = (uint32_t *)(b + o->errors);
	q->array = b + o->array;
	q->entries = o->entries;
	q->mask = o->entries - 1;
	return 0;
}

int zcbuf_setup_ring(int fd, unsigned int entries, struct zcbuf_ring *ring)
{
	struct zcbuf_ring_setup arg;
	struct zcbuf_ring r;
	void *p;
	int ret;

	if (!ring)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.entries = entries;
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_RING_SETUP, &arg, 0);
	if (ret < 0)
		return ret;
	if (arg.mmap_size < 16 || arg.mmap_size > (uint64_t)SIZE_MAX)
		return -EPROTO;
	p = mmap(NULL, arg.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)arg.mmap_offset);
	if (p == MAP_FAILED)
		return -errno;

	memset(&r, 0, sizeof(r));
	r.fd = fd;
	r.entries = arg.entries;
	r.map = p;
	r.map_size = arg.mmap_size;
	ret = ring_queue_init(&r.cq, p, r.map_size, &arg.cq,
			      sizeof(struct zcbuf_cqe));
	if (!ret)
		ret = ring_queue_init(&r.sq, p, r.map_size, &arg.sq,
				      sizeof(struct zcbuf_sqe));
	if (ret) {
		munmap(p, r.map_size);
		return ret;
	}
	*ring = r;
	return 0;
}

int zcbuf_unmap_ring(struct zcbuf_ring *ring)
{
	if (!ring || !ring->map)
		return -EINVAL;
	if (munmap(ring->map, ring->map_size))
		return -errno;
	ring->map = NULL;
	return 0;
}

int zcbuf_get_completions(struct zcbuf_ring *ring, struct zcbuf_cqe *cqes,
			  unsigned int max)
{
	const struct zcbuf_cqe *array;
	uint32_t head, tail, n, i;

	if (!ring || !ring->map || (!cqes && max))
		return -EINVAL;
	array = ring->cq.array;
	head = load_relaxed(ring->cq.consumer);	/* ours alone */
	tail = load_acquire(ring->cq.producer);
	n = tail - head;
	if (n > ring->cq.entries)	/* cannot happen unless corrupted */
		return -EPROTO;
	if (n > max)
		n = max;
	if (n > (uint32_t)__INT_MAX__)
		n = (uint32_t)__INT_MAX__;
	for (i = 0; i < n; i++)
		cqes[i] = array[(head + i) & ring->cq.mask];
	if (n)
		store_release(ring->cq.consumer, head + n);
	return (int)n;
}

int zcbuf_get_completion(struct zcbuf_ring *ring, struct zcbuf_cqe *cqe)
{
	int n;

	if (!cqe)
		return -EINVAL;
	n = zcbuf_get_completions(ring, cqe, 1);
	if (n < 0)
		return n;
	return n ? 0 : -EAGAIN;
}

int zcbuf_kick_ring(int fd)
{
	struct zcbuf_ring_kick arg;

	memset(&arg, 0, sizeof(arg));
	return zcbuf__ioctl(fd, ZCBUF_IOC_RING_KICK, &arg, 0);
}

int zcbuf_submit_buffer(struct zcbuf_ring *ring, unsigned int index,
			uint64_t bytesused)
{
	struct zcbuf_sqe *array, sqe;
	uint32_t head, tail;

	if (!ring || !ring->map)
		return -EINVAL;
	array = ring->sq.array;
	tail = load_relaxed(ring->sq.producer);	/* ours alone */
	head = load_acquire(ring->sq.consumer);
	if (tail - head >= ring->sq.entries)
		return -EAGAIN;
	memset(&sqe, 0, sizeof(sqe));
	sqe.index = index;
	sqe.bytesused = bytesused;
	array[tail & ring->sq.mask] = sqe;
	store_release(ring->sq.producer, tail + 1);
	/* Our index before our look at the device's flag (it mirrors this). */
	full_barrier();
	if (load_relaxed(ring->sq.flags) & ZCBUF_RING_SQ_NEED_WAKEUP)
		return zcbuf_kick_ring(ring->fd);
	return 0;
}

static int cq_ready(struct zcbuf_ring *ring)
{
	return load_acquire(ring->cq.producer) !=
	       load_relaxed(ring->cq.consumer);
}

int zcbuf_arm_wakeup(struct zcbuf_ring *ring)
{
	if (!ring || !ring->map)
		return -EINVAL;
	store_relaxed(ring->cq.flags,
		      load_relaxed(ring->cq.flags) | ZCBUF_RING_CQ_WANT_WAKEUP);
	/* The flag before the last look (the kernel mirrors this). */
	full_barrier();
	return cq_ready(ring) ? -EAGAIN : 0;
}

int zcbuf_disarm_wakeup(struct zcbuf_ring *ring)
{
	if (!ring || !ring->map)
		return -EINVAL;
	store_relaxed(ring->cq.flags,
		      load_relaxed(ring->cq.flags) & ~ZCBUF_RING_CQ_WANT_WAKEUP);
	return 0;
}

int zcbuf_wait_ring(struct zcbuf_ring *ring, int eventfd, int timeout_ms)
{
	uint64_t count;
	int ret;

	if (!ring || !ring->map)
		return -EINVAL;
	if (cq_ready(ring))
		return 0;
	ret = zcbuf_arm_wakeup(ring);
	if (ret == -EAGAIN)
		ret = 0;
	else if (eventfd >= 0)
		ret = zcbuf_wait_eventfd(eventfd, timeout_ms, &count);
	else
		ret = zcbuf_wait(ring->fd, timeout_ms);
	zcbuf_disarm_wakeup(ring);
	return ret;
}
