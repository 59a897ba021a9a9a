// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: zero-copy frame delivery from a device to user space.
 *
 * This file is the module and the character device: /dev/zcbuf, its file
 * operations and the ioctl dispatcher.  Buffers are in zcbuf_buffer.c, the
 * per-open context and its buffer ioctls in zcbuf_ctx.c, the queue to the
 * device in zcbuf_queue.c, the devices drivers register in
 * zcbuf_registry.c (their API: zcbuf_device.h).  The drivers are modules
 * of their own: sim/ (the simulated camera/NIC), edu/ (QEMU's edu device).
 *
 * The ABI is <linux/zcbuf.h> (uapi/ in the source tree).
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/zcbuf.h>

#include "zcbuf_compat.h"
#include "zcbuf_ctx.h"
#include "zcbuf_fence.h"
#include "zcbuf_queue.h"
#include "zcbuf_registry.h"
#include "zcbuf_stats.h"

static unsigned int max_buffers = 64;
module_param(max_buffers, uint, 0444);
MODULE_PARM_DESC(max_buffers, "Most buffers per open file (1-65536, default 64)");

static unsigned long max_buffer_size = 64UL << 20;
module_param(max_buffer_size, ulong, 0444);
MODULE_PARM_DESC(max_buffer_size, "Largest buffer in bytes (default 64 MiB)");

static unsigned long max_total_size = 256UL << 20;
module_param(max_total_size, ulong, 0444);
MODULE_PARM_DESC(max_total_size,
		 "Most bytes of buffers per open file (default 256 MiB)");

static ushort mode = 0600;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Permissions of /dev/zcbuf (default 0600)");

struct zcbuf_limits zcbuf_limits;

static int zcbuf_open(struct inode *inode, struct file *file)
{
	struct zcbuf_ctx *ctx;

	ctx = zcbuf_ctx_create();
	if (!ctx)
		return -ENOMEM;
	file->private_data = ctx;
	return 0;
}

static int zcbuf_release(struct inode *inode, struct file *file)
{
	zcbuf_ctx_destroy(file->private_data);
	return 0;
}

static int zcbuf_mmap(struct file *file, struct vm_area_struct *vma)
{
	return zcbuf_ctx_mmap(file->private_data, vma);
}

static __poll_t zcbuf_poll(struct file *file, poll_table *wait)
{
	struct zcbuf_ctx *ctx = file->private_data;

	return zcbuf_queue_poll(&ctx->queue, file, wait);
}

static ssize_t zcbuf_read(struct file *file, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	struct zcbuf_ctx *ctx = file->private_data;

	return zcbuf_queue_read(&ctx->queue, file, ubuf, len);
}

static int zcbuf_ioctl_info(struct zcbuf_ctx *ctx, void *arg,
			    struct zcbuf_pending *pending)
{
	struct zcbuf_info *info = arg;

	memset(info, 0, sizeof(*info));
	info->version = ZCBUF_API_VERSION;
	info->caps = ZCBUF_CAP_CONTIG | ZCBUF_CAP_IMPORT | ZCBUF_CAP_CAMERA |
		     ZCBUF_CAP_NIC | ZCBUF_CAP_STRICT | ZCBUF_CAP_RING |
		     ZCBUF_CAP_DEVICES | ZCBUF_CAP_NO_CHECKSUM;
	info->max_buffers = zcbuf_limits.max_buffers;
	info->page_size = PAGE_SIZE;
	info->max_buffer_size = zcbuf_limits.max_buffer_size;
	info->max_total_size = zcbuf_limits.max_total_size;
	info->max_contig_size = min_t(u64, PAGE_SIZE << ZCBUF_MAX_ORDER,
				      zcbuf_limits.max_buffer_size);
	return 0;
}

static int zcbuf_ioctl_device_info(struct zcbuf_ctx *ctx, void *arg,
				   struct zcbuf_pending *pending)
{
	struct zcbuf_device_desc *desc = arg;

	/* Only @id and @flags are input: a listing loop reuses the struct. */
	if (desc->flags)
		return -EINVAL;
	return zcbuf_registry_describe(desc);
}

/**
 * struct zcbuf_ioctl_desc - one ioctl
 * @cmd: the command as defined in the uapi header (its size is the current
 *	 size of the argument)
 * @min_size: size of the argument in the first version of the command
 * @fn: the handler; it gets the argument copied in and zero-extended, and
 *	its output is copied back if it returns 0
 * @queue_fn: instead of @fn, for the queue's ioctls: the same on the
 *	context's queue
 */
struct zcbuf_ioctl_desc {
	unsigned int cmd;
	unsigned int min_size;
	int (*fn)(struct zcbuf_ctx *ctx, void *arg,
		  struct zcbuf_pending *pending);
	int (*queue_fn)(struct zcbuf_queue *queue, void *arg,
			struct zcbuf_queue_pending *pending);
};

/* @_handler: .fn = a context's handler, or .queue_fn = a queue's. */
#define ZCBUF_IOCTL(_cmd, _handler) \
	[_IOC_NR(_cmd)] = { .cmd = _cmd, .min_size = _IOC_SIZE(_cmd), _handler }

static const struct zcbuf_ioctl_desc zcbuf_ioctls[] = {
	ZCBUF_IOCTL(ZCBUF_IOC_INFO, .fn = zcbuf_ioctl_info),
	ZCBUF_IOCTL(ZCBUF_IOC_ALLOC, .fn = zcbuf_ioctl_alloc),
	ZCBUF_IOCTL(ZCBUF_IOC_FREE, .fn = zcbuf_ioctl_free),
	ZCBUF_IOCTL(ZCBUF_IOC_QUERY, .fn = zcbuf_ioctl_query),
	ZCBUF_IOCTL(ZCBUF_IOC_EXPORT, .fn = zcbuf_ioctl_export),
	ZCBUF_IOCTL(ZCBUF_IOC_IMPORT, .fn = zcbuf_ioctl_import),
	ZCBUF_IOCTL(ZCBUF_IOC_SYNC, .fn = zcbuf_ioctl_sync),
	ZCBUF_IOCTL(ZCBUF_IOC_CONFIG, .fn = zcbuf_ioctl_config),
	ZCBUF_IOCTL(ZCBUF_IOC_SET_EVENTFD, .queue_fn = zcbuf_ioctl_set_eventfd),
	ZCBUF_IOCTL(ZCBUF_IOC_STREAMON, .queue_fn = zcbuf_ioctl_streamon),
	ZCBUF_IOCTL(ZCBUF_IOC_STREAMOFF, .queue_fn = zcbuf_ioctl_streamoff),
	ZCBUF_IOCTL(ZCBUF_IOC_QBUF, .queue_fn = zcbuf_ioctl_qbuf),
	ZCBUF_IOCTL(ZCBUF_IOC_DQBUF, .queue_fn = zcbuf_ioctl_dqbuf),
	ZCBUF_IOCTL(ZCBUF_IOC_STATS, .queue_fn = zcbuf_ioctl_stats),
	ZCBUF_IOCTL(ZCBUF_IOC_RING_SETUP, .queue_fn = zcbuf_ioctl_ring_setup),
	ZCBUF_IOCTL(ZCBUF_IOC_RING_KICK, .queue_fn = zcbuf_ioctl_ring_kick),
	ZCBUF_IOCTL(ZCBUF_IOC_DEVICE_INFO, .fn = zcbuf_ioctl_device_info),
};

/* Large enough for the argument of any command. */
union zcbuf_ioctl_arg {
	struct zcbuf_info info;
	struct zcbuf_alloc alloc;
	struct zcbuf_free free;
	struct zcbuf_query query;
	struct zcbuf_export export;
	struct zcbuf_import import;
	struct zcbuf_sync sync;
	struct zcbuf_config config;
	struct zcbuf_eventfd eventfd;
	struct zcbuf_stream stream;
	struct zcbuf_qbuf qbuf;
	struct zcbuf_dqbuf dqbuf;
	struct zcbuf_stats stats;
	struct zcbuf_ring_setup ring_setup;
	struct zcbuf_ring_kick ring_kick;
	struct zcbuf_device_desc device_desc;
};

static long zcbuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zcbuf_ctx *ctx = file->private_data;
	struct zcbuf_pending pending = { .fd = -1 };
	void __user *uarg = (void __user *)arg;
	const struct zcbuf_ioctl_desc *desc;
	unsigned int nr = _IOC_NR(cmd);
	union zcbuf_ioctl_arg karg;
	size_t usize, ksize;
	int ret;

	if (_IOC_TYPE(cmd) != ZCBUF_IOC_MAGIC || nr >= ARRAY_SIZE(zcbuf_ioctls))
		return -ENOTTY;
	desc = &zcbuf_ioctls[array_index_nospec(nr, ARRAY_SIZE(zcbuf_ioctls))];
	if ((!desc->fn && !desc->queue_fn) ||
	    _IOC_DIR(cmd) != _IOC_DIR(desc->cmd))
		return -ENOTTY;

	/* Sizes from the first version to any later one are understood. */
	usize = _IOC_SIZE(cmd);
	ksize = _IOC_SIZE(desc->cmd);
	if (usize < desc->min_size)
		return -EINVAL;

	memset(&karg, 0, sizeof(karg));
	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		ret = copy_struct_from_user(&karg, ksize, uarg, usize);
		if (ret)
			return ret;
	}

	if (desc->fn)
		ret = desc->fn(ctx, &karg, &pending);
	else
		ret = desc->queue_fn(&ctx->queue, &karg, &pending.queue);

	if (!ret && (_IOC_DIR(cmd) & _IOC_READ)) {
		if (copy_to_user(uarg, &karg, ksize) ||
		    (usize > ksize && clear_user(uarg + ksize, usize - ksize)))
			ret = -EFAULT;
	}

	/* New fds and buffers appear only once the result reached the user. */
	zcbuf_pending_finish(ctx, &pending, !ret);
	return ret;
}

static const struct file_operations zcbuf_fops = {
	.owner = THIS_MODULE,
	.open = zcbuf_open,
	.release = zcbuf_release,
	.mmap = zcbuf_mmap,
	.poll = zcbuf_poll,
	.read = zcbuf_read,
	.unlocked_ioctl = zcbuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice zcbuf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "zcbuf",
	.fops = &zcbuf_fops,
};

static int __init zcbuf_init(void)
{
	int ret;

	if (!max_buffers || max_buffers > 65536 ||
	    max_buffer_size < PAGE_SIZE || max_buffer_size > SZ_4G ||
	    max_total_size < max_buffer_size) {
		pr_err("zcbuf: invalid limits\n");
		return -EINVAL;
	}
	zcbuf_limits.max_buffers = max_buffers;
	zcbuf_limits.max_buffer_size = max_buffer_size;
	zcbuf_limits.max_total_size = max_total_size;
	/* A window per buffer, each as large as the largest buffer. */
	zcbuf_limits.window_shift = order_base_2(max_buffer_size);
	if (((u64)max_buffers + 1) << zcbuf_limits.window_shift >
	    ZCBUF_MMAP_OFFSET_LIMIT) {
		pr_err("zcbuf: max_buffers x max_buffer_size too large for 32-bit mmap offsets\n");
		return -EINVAL;
	}

	ret = zcbuf_fence_init();
	if (ret)
		return ret;
	ret = zcbuf_registry_init();
	if (ret)
		goto exit_fence;
	zcbuf_debugfs_init();

	zcbuf_misc.mode = mode;
	ret = misc_register(&zcbuf_misc);
	if (ret)
		goto exit_registry;
	return 0;

exit_registry:
	zcbuf_debugfs_exit();
	zcbuf_registry_exit();
exit_fence:
	zcbuf_fence_exit();
	return ret;
}

static void __exit zcbuf_exit(void)
{
	misc_deregister(&zcbuf_misc);
	zcbuf_debugfs_exit();
	zcbuf_registry_exit();
	/* Last: a fence's ops are this module's code. */
	zcbuf_fence_exit();
}

module_init(zcbuf_init);
module_exit(zcbuf_exit);

MODULE_DESCRIPTION("Zero-copy DMA-buf frame delivery to user space");
MODULE_LICENSE("GPL");
MODULE_VERSION(ZCBUF_VERSION);
