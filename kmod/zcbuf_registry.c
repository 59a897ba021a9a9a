// SPDX-License-Identifier: GPL-2.0
/*
 * The device registry: drivers register devices, contexts bind to them.
 *
 * Each registered device gets an id, a directory in /sys/class/zcbuf/ (its
 * name, kinds and counters) and an entry in ZCBUF_IOC_DEVICE_INFO.  A
 * context binds to a device at ZCBUF_IOC_CONFIG and unbinds when it
 * configures another one, unconfigures, or closes.  Unregistering a device
 * unbinds every context from it first (zcbuf_queue_device_gone()): the
 * stream stops, buffers return to user space, the device's mappings go.
 *
 * The registry sits above the queue (it binds queues, it calls the queue's
 * functions) and below the context (zcbuf_ctx.c binds through it).
 *
 * Locking: zcbuf_devices_lock protects the list of devices, every device's
 * @queues, and every queue's binding (queue->zdev, dev_node).  It
 * nests inside a context's lock; unregistering never holds it while taking
 * one.  A device's ops->configure is called under it, so it is never
 * called once zcbuf_device_unregister() has taken the device off the list
 * (no context can find it, so none can bind to it, from then on); the other
 * ops are called under a bound context's lock, so not after unregistering
 * has unbound that context.
 */

#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "zcbuf_compat.h"
#include "zcbuf_device_core.h"
#include "zcbuf_queue.h"
#include "zcbuf_registry.h"

static DEFINE_MUTEX(zcbuf_devices_lock);	/* see the locking comment above */
static LIST_HEAD(zcbuf_devices);		/* struct zcbuf_device, by id */
static u32 zcbuf_next_id = 1;			/* under zcbuf_devices_lock */

static char default_device[ZCBUF_DEVICE_NAME_LEN];
module_param_string(default_device, default_device, sizeof(default_device),
		    0644);
MODULE_PARM_DESC(default_device,
		 "Name of the device CONFIG with device 0 picks (default: the longest-registered one that can)");

static struct zcbuf_device *to_zcbuf_device(struct device *dev)
{
	return container_of(dev, struct zcbuf_device, dev);
}

/* ---- sysfs: /sys/class/zcbuf/<name>/ ---- */

static ssize_t id_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	return sysfs_emit(buf, "%u\n", to_zcbuf_device(dev)->id);
}
static DEVICE_ATTR_RO(id);

static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_zcbuf_device(dev)->name);
}
static DEVICE_ATTR_RO(name);

static ssize_t kinds_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	u32 kinds = to_zcbuf_device(dev)->info.kinds;

	return sysfs_emit(buf, "%s%s%s\n",
			  kinds & ZCBUF_KIND_CAMERA ? "camera " : "",
			  kinds & ZCBUF_KIND_NIC_RX ? "nic_rx " : "",
			  kinds & ZCBUF_KIND_NIC_TX ? "nic_tx" : "");
}
static DEVICE_ATTR_RO(kinds);

static ssize_t frames_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&to_zcbuf_device(dev)->frames));
}
static DEVICE_ATTR_RO(frames);

static ssize_t bytes_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&to_zcbuf_device(dev)->bytes));
}
static DEVICE_ATTR_RO(bytes);

static ssize_t errors_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&to_zcbuf_device(dev)->errors));
}
static DEVICE_ATTR_RO(errors);

static ssize_t drops_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&to_zcbuf_device(dev)->drops));
}
static DEVICE_ATTR_RO(drops);

static ssize_t streams_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  atomic_read(&to_zcbuf_device(dev)->streams));
}
static DEVICE_ATTR_RO(streams);

static ssize_t contexts_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct zcbuf_device *zdev = to_zcbuf_device(dev);
	struct zcbuf_queue *queue;
	unsigned int n = 0;

	mutex_lock(&zcbuf_devices_lock);
	list_for_each_entry(queue, &zdev->queues, dev_node)
		n++;
	mutex_unlock(&zcbuf_devices_lock);
	return sysfs_emit(buf, "%u\n", n);
}
static DEVICE_ATTR_RO(contexts);

static struct attribute *zcbuf_device_attrs[] = {
	&dev_attr_id.attr,
	&dev_attr_name.attr,
	&dev_attr_kinds.attr,
	&dev_attr_frames.attr,
	&dev_attr_bytes.attr,
	&dev_attr_errors.attr,
	&dev_attr_drops.attr,
	&dev_attr_streams.attr,
	&dev_attr_contexts.attr,
	NULL
};
ATTRIBUTE_GROUPS(zcbuf_device);

static struct class zcbuf_class = {
	.name = "zcbuf",
	.dev_groups = zcbuf_device_groups,
};

/* ---- registration ---- */

static void zcbuf_device_release(struct device *dev)
{
	kfree(to_zcbuf_device(dev));
}

static bool zcbuf_name_valid(const char *name)
{
	size_t len = strnlen(name, ZCBUF_DEVICE_NAME_LEN);
	size_t i;

	if (!len || len == ZCBUF_DEVICE_NAME_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && !strchr("_.:-", name[i]))
			return false;
	return true;
}

/* zcbuf_devices_lock held. */
static struct zcbuf_device *zcbuf_device_by_name(const char *name)
{
	struct zcbuf_device *zdev;

	lockdep_assert_held(&zcbuf_devices_lock);
	list_for_each_entry(zdev, &zcbuf_devices, node)
		if (!strcmp(zdev->name, name))
			return zdev;
	return NULL;
}

/**
 * zcbuf_device_register() - put a device behind /dev/zcbuf
 * @info: the device; copied, except what its pointers point to
 *
 * Return: the device, or ERR_PTR: -EINVAL for a bad name, no struct device,
 * ops or kinds, -EEXIST if the name is taken, -ENOSPC when ids ran out,
 * -ENOMEM.
 */
struct zcbuf_device *zcbuf_device_register(const struct zcbuf_device_info *info)
{
	struct zcbuf_device *zdev;
	int ret;

	if (!info->name || !zcbuf_name_valid(info->name) || !info->dev ||
	    !info->ops || !info->ops->configure || !info->ops->start ||
	    !info->ops->stop || !info->kinds ||
	    info->kinds & ~(ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_RX |
			    ZCBUF_KIND_NIC_TX))
		return ERR_PTR(-EINVAL);

	zdev = kzalloc(sizeof(*zdev), GFP_KERNEL);
	if (!zdev)
		return ERR_PTR(-ENOMEM);
	strscpy(zdev->name, info->name, sizeof(zdev->name));
	zdev->info = *info;
	zdev->info.name = zdev->name;
	INIT_LIST_HEAD(&zdev->queues);

	device_initialize(&zdev->dev);
	zdev->dev.class = &zcbuf_class;
	zdev->dev.parent = info->dev;
	zdev->dev.release = zcbuf_device_release;
	ret = dev_set_name(&zdev->dev, "%s", zdev->name);
	if (ret)
		goto put;

	mutex_lock(&zcbuf_devices_lock);
	if (zcbuf_device_by_name(zdev->name)) {
		ret = -EEXIST;
		goto unlock;
	}
	if (!zcbuf_next_id) {
		ret = -ENOSPC;
		goto unlock;
	}
	ret = device_add(&zdev->dev);
	if (ret)
		goto unlock;
	zdev->id = zcbuf_next_id++;
	list_add_tail(&zdev->node, &zcbuf_devices);
	mutex_unlock(&zcbuf_devices_lock);

	dev_dbg(info->dev, "zcbuf device %u: %s\n", zdev->id, zdev->name);
	return zdev;

unlock:
	mutex_unlock(&zcbuf_devices_lock);
put:
	put_device(&zdev->dev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_device_register, ZCBUF_NS(ZCBUF));

/**
 * zcbuf_device_unregister() - take a device away
 * @zdev: the device, from zcbuf_device_register()
 *
 * Every context using it stops (its waiters wake with ENODEV, its fences
 * signal with an error) and unmaps its buffers from the device; once this
 * returns the core calls none of the device's ops and holds no mapping for
 * its struct device.  May sleep.
 */
void zcbuf_device_unregister(struct zcbuf_device *zdev)
{
	struct zcbuf_queue *queue;

	mutex_lock(&zcbuf_devices_lock);
	list_del(&zdev->node);
	while ((queue = list_first_entry_or_null(&zdev->queues,
						 struct zcbuf_queue,
						 dev_node))) {
		/* Bound, so not yet freed; the reference keeps it so. */
		zcbuf_queue_get(queue);
		mutex_unlock(&zcbuf_devices_lock);
		/* Stop and unbind it, unless it unbound meanwhile. */
		mutex_lock(queue->lock);
		if (queue->zdev == zdev) {
			zcbuf_queue_device_gone(queue);
			zcbuf_registry_unbind(queue);
		}
		mutex_unlock(queue->lock);
		zcbuf_queue_put(queue);
		mutex_lock(&zcbuf_devices_lock);
	}
	mutex_unlock(&zcbuf_devices_lock);

	dev_dbg(zdev->info.dev, "zcbuf device %u gone\n", zdev->id);
	device_unregister(&zdev->dev);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_device_unregister, ZCBUF_NS(ZCBUF));

void *zcbuf_device_priv(struct zcbuf_device *zdev)
{
	return zdev->info.priv;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_device_priv, ZCBUF_NS(ZCBUF));

struct device *zcbuf_device_dev(struct zcbuf_device *zdev)
{
	return zdev->info.dev;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_device_dev, ZCBUF_NS(ZCBUF));

/* ---- what the core asks ---- */

/**
 * zcbuf_registry_describe() - ZCBUF_IOC_DEVICE_INFO
 * @desc: in: the smallest id; out: the device with the smallest id >= it
 *
 * Return: 0, or -ENODEV if there is none.
 */
int zcbuf_registry_describe(struct zcbuf_device_desc *desc)
{
	struct zcbuf_device *zdev;
	u32 id = desc->id;
	int ret = -ENODEV;

	mutex_lock(&zcbuf_devices_lock);
	list_for_each_entry(zdev, &zcbuf_devices, node) {
		const struct zcbuf_device_info *info = &zdev->info;

		if (zdev->id < id)
			continue;
		memset(desc, 0, sizeof(*desc));
		desc->id = zdev->id;
		strscpy(desc->name, zdev->name, sizeof(desc->name));
		desc->kinds = info->kinds;
		desc->min_width = info->min_width;
		desc->max_width = info->max_width;
		desc->min_height = info->min_height;
		desc->max_height = info->max_height;
		memcpy(desc->formats, info->formats, sizeof(desc->formats));
		desc->max_frame_size = info->max_frame_size;
		ret = 0;
		break;
	}
	mutex_unlock(&zcbuf_devices_lock);
	return ret;
}

/* The device CONFIG names; zcbuf_devices_lock held.  NULL if none. */
static struct zcbuf_device *zcbuf_registry_find(u32 id, u32 personality)
{
	struct zcbuf_device *zdev;
	char name[ZCBUF_DEVICE_NAME_LEN];

	lockdep_assert_held(&zcbuf_devices_lock);

	if (id) {
		list_for_each_entry(zdev, &zcbuf_devices, node)
			if (zdev->id == id)
				return zdev;
		return NULL;
	}

	kernel_param_lock(THIS_MODULE);
	strscpy(name, default_device, sizeof(name));
	kernel_param_unlock(THIS_MODULE);
	/* A trailing newline from `echo name > .../default_device`. */
	strim(name);
	if (name[0])
		return zcbuf_device_by_name(name);

	list_for_each_entry(zdev, &zcbuf_devices, node)
		if (zdev->info.kinds & BIT(personality))
			return zdev;
	return NULL;
}

/* Find and ask the device @cfg names; zcbuf_devices_lock held. */
static struct zcbuf_device *zcbuf_registry_configure(struct zcbuf_config *cfg,
						     int *ret)
{
	struct zcbuf_device *zdev;

	lockdep_assert_held(&zcbuf_devices_lock);

	zdev = zcbuf_registry_find(cfg->device, cfg->personality);
	if (!zdev) {
		*ret = -ENODEV;
		return NULL;
	}
	if (!(zdev->info.kinds & BIT(cfg->personality))) {
		*ret = -EINVAL;
		return NULL;
	}
	*ret = zdev->info.ops->configure(zdev, cfg);
	return *ret ? NULL : zdev;
}

/**
 * zcbuf_registry_check() - whether the device @cfg names takes it
 * @cfg: the configuration (cfg->device, cfg->personality set); the device
 *	sets cfg->frame_size
 *
 * Binds nothing: CONFIG checks first and binds (zcbuf_registry_bind())
 * once its result has reached user space.
 * Return: as zcbuf_registry_bind().
 */
int zcbuf_registry_check(struct zcbuf_config *cfg)
{
	int ret;

	mutex_lock(&zcbuf_devices_lock);
	zcbuf_registry_configure(cfg, &ret);
	mutex_unlock(&zcbuf_devices_lock);
	return ret;
}

/**
 * zcbuf_registry_bind() - configure the device @cfg names for @queue
 * @queue: the queue; its context's lock held, not streaming, nothing queued
 * @cfg: the configuration (cfg->device, cfg->personality set); the device
 *	sets cfg->frame_size
 *
 * On success the queue is bound to the device (and no longer to another).
 * Return: 0, -ENODEV if there is no such device, -EINVAL if it lacks the
 * personality or refuses the configuration.
 */
int zcbuf_registry_bind(struct zcbuf_queue *queue, struct zcbuf_config *cfg)
{
	struct zcbuf_device *zdev;
	int ret;

	mutex_lock(&zcbuf_devices_lock);
	zdev = zcbuf_registry_configure(cfg, &ret);
	if (!zdev)
		goto unlock;

	if (queue->zdev != zdev) {
		if (queue->zdev) {
			list_del(&queue->dev_node);
			put_device(&queue->zdev->dev);
		}
		get_device(&zdev->dev);
		list_add_tail(&queue->dev_node, &zdev->queues);
		queue->zdev = zdev;
	}
unlock:
	mutex_unlock(&zcbuf_devices_lock);
	return ret;
}

/**
 * zcbuf_registry_unbind() - the queue lets go of its device
 * @queue: the queue; its context's lock held, the device stopped and no
 *	buffer mapped for it
 */
void zcbuf_registry_unbind(struct zcbuf_queue *queue)
{
	struct zcbuf_device *zdev = queue->zdev;

	if (!zdev)
		return;
	mutex_lock(&zcbuf_devices_lock);
	list_del(&queue->dev_node);
	queue->zdev = NULL;
	mutex_unlock(&zcbuf_devices_lock);
	put_device(&zdev->dev);
}

int zcbuf_registry_init(void)
{
	return class_register(&zcbuf_class);
}

void zcbuf_registry_exit(void)
{
	/* Drivers import our symbols: none can be loaded now. */
	WARN_ON(!list_empty(&zcbuf_devices));
	class_unregister(&zcbuf_class);
}
