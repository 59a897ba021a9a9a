/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf contexts: one per open() of /dev/zcbuf, owning a table of buffers.
 */
#ifndef _ZCBUF_CTX_H
#define _ZCBUF_CTX_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <linux/zcbuf.h>

#include "zcbuf_limits.h"
#include "zcbuf_queue.h"

struct file;
struct vm_area_struct;

/**
 * struct zcbuf_ctx - the state of one open /dev/zcbuf
 * @kref: the file's reference, and one for each device unregistering
 *	while the context is bound to it (zcbuf_queue_get()); the memory goes
 *	with the last, everything else when the file is closed
 * @lock: protects @slots (membership and every slot's @state), @windows,
 *	@next_index, @nr_slots and @total_size.  Taken inside mmap_lock (from
 *	->mmap), so nothing that may fault on user memory runs under it.
 * @slots: index -> struct zcbuf_slot
 * @windows: mmap window -> struct zcbuf_slot; windows of freed buffers are
 *	reused (cyclically, see zcbuf_reserve_window()), unlike indices, so
 *	offsets stay below ZCBUF_MMAP_OFFSET_LIMIT
 * @next_window: where the cyclic search for a free window starts
 * @next_index: index of the next buffer created; indices are never reused
 * @nr_slots: number of entries in @slots
 * @total_size: bytes of the buffers allocated (not imported) here
 * @queue: the queue to the device (see its own locking rules)
 */
struct zcbuf_ctx {
	struct kref kref;
	struct mutex lock;	/* see @lock above */
	struct xarray slots;
	struct xarray windows;
	u32 next_index;
	u32 next_window;
	u32 nr_slots;
	u64 total_size;
	struct zcbuf_queue queue;
};

/**
 * struct zcbuf_pending - what an ioctl made but may publish only once its
 *	result has reached user space; the dispatcher then calls
 *	zcbuf_pending_finish(), which publishes it or undoes it
 * @fd: a reserved fd number, or -1
 * @file: the file to install at @fd
 * @slots: new slots, for table indices @first.. that are reserved
 *	(xa_reserve()) and already counted in the context's limits
 * @first: index of @slots[0]
 * @count: entries in @slots
 * @bytes: bytes of allocated buffers in @slots (counted in total_size)
 * @config: CONFIG: @cfg is committed once frame_size reached user space
 *	(the queue is committing meanwhile)
 * @cfg: the checked configuration
 * @queue: what the queue's ioctls prepared
 */
struct zcbuf_pending {
	int fd;
	struct file *file;
	struct zcbuf_slot **slots;
	u32 first;
	u32 count;
	u64 bytes;
	bool config;
	struct zcbuf_config cfg;
	struct zcbuf_queue_pending queue;
};

struct zcbuf_ctx *zcbuf_ctx_create(void);
void zcbuf_pending_finish(struct zcbuf_ctx *ctx, struct zcbuf_pending *p,
			  bool publish);
struct zcbuf_slot *zcbuf_slot_find(struct zcbuf_ctx *ctx, u32 index);
void zcbuf_ctx_destroy(struct zcbuf_ctx *ctx);
int zcbuf_ctx_mmap(struct zcbuf_ctx *ctx, struct vm_area_struct *vma);

int zcbuf_ioctl_alloc(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending);
int zcbuf_ioctl_free(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending);
int zcbuf_ioctl_query(struct zcbuf_ctx *ctx, void *arg,
		      struct zcbuf_pending *pending);
int zcbuf_ioctl_export(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending);
int zcbuf_ioctl_import(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending);
int zcbuf_ioctl_sync(struct zcbuf_ctx *ctx, void *arg,
		     struct zcbuf_pending *pending);
int zcbuf_ioctl_config(struct zcbuf_ctx *ctx, void *arg,
		       struct zcbuf_pending *pending);

#endif /* _ZCBUF_CTX_H */
