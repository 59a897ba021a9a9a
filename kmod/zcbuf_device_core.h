/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct zcbuf_device: the core's side of one registered device
 * (zcbuf_device.h is the drivers' side).  The queue streams on it, the
 * registry (zcbuf_registry.c) creates, lists and removes it.
 */
#ifndef _ZCBUF_DEVICE_CORE_H
#define _ZCBUF_DEVICE_CORE_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/types.h>

#include <linux/zcbuf.h>

#include "zcbuf_device.h"

/**
 * struct zcbuf_device - one registered device
 * @dev: its directory in /sys/class/zcbuf; the refcount and the one release
 *	path of this structure (zcbuf_device_release())
 * @id: ZCBUF_IOC_DEVICE_INFO id, never reused while zcbuf is loaded
 * @name: unique name, also @dev's name
 * @info: what the driver registered (@info.name points to @name)
 * @node: entry in the list of registered devices
 * @queues: struct zcbuf_queue.dev_node of every context configured for it
 * @frames: buffers completed without error, over every stream
 * @bytes: bytes written or read in @frames
 * @errors: buffers completed with an error
 * @drops: frames lost (no buffer, injected)
 * @streams: contexts streaming on it now
 *
 * @node and @queues are under zcbuf_devices_lock (zcbuf_registry.c);
 * the counters are atomics, updated by the queues without a lock.
 */
struct zcbuf_device {
	struct device dev;
	u32 id;
	char name[ZCBUF_DEVICE_NAME_LEN];
	struct zcbuf_device_info info;
	struct list_head node;
	struct list_head queues;
	atomic64_t frames;
	atomic64_t bytes;
	atomic64_t errors;
	atomic64_t drops;
	atomic_t streams;
};

#endif /* _ZCBUF_DEVICE_CORE_H */
