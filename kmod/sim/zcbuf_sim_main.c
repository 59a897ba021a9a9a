// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated camera/NIC: a zcbuf device like any other, in a module of its
 * own that registers through zcbuf's device API (zcbuf_device.h).
 *
 * Each device ("sim0", "sim1", ...: nr_devices of them) is a platform device
 * ("zcbuf-sim") with its own 64-bit DMA mask.  It attaches to zcbuf's
 * buffers as any DMA-buf importer would (the core does that for it through
 * the registered struct device) and produces or consumes frames from a kernel thread per
 * queue: paced by fps / pkt_rate (or, at 0, as fast as buffers are queued),
 * with optional fault injection (drops, errors, jitter, stalls), all off by
 * default.  The thread takes only the queue's spinlock and never a mutex that
 * its stopper may hold; it stops at kthread_should_stop() and is freezable.
 */

#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/freezer.h>
#include <linux/hrtimer.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>

#include <linux/zcbuf.h>

#include "zcbuf_compat.h"
#include "zcbuf_device.h"
#include "zcbuf_sim.h"

#define ZCBUF_SIM_MAX_DEVICES	8

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Simulated devices, sim0 ... (1-8, default 1)");

/**
 * struct zcbuf_sim_device - one simulated device
 * @pdev: its platform device, which DMAs
 * @zdev: its registration with zcbuf
 */
struct zcbuf_sim_device {
	struct platform_device *pdev;
	struct zcbuf_device *zdev;
};

static struct zcbuf_sim_device zcbuf_sim_devices[ZCBUF_SIM_MAX_DEVICES];

/**
 * struct zcbuf_sim - one running queue of the simulated device
 * @dev: the device's struct device
 * @queue: the queue it serves
 * @cfg: its configuration, a copy taken at start
 * @thread: the device thread
 * @wq: the thread waits here for a queued buffer (rate 0)
 * @rnd: random numbers for faults and packets
 * @gen: frame and packet generator
 * @sequence: next frame number
 *
 * Everything but @wq belongs to the thread while it runs.
 */
struct zcbuf_sim {
	struct device *dev;
	struct zcbuf_queue *queue;
	struct zcbuf_config cfg;
	struct task_struct *thread;
	wait_queue_head_t wq;
	struct rnd_state rnd;
	struct zcbuf_sim_gen gen;
	u64 sequence;
};

/* Sleep until @deadline, or until asked to stop. */
static void zcbuf_sim_sleep_until(ktime_t deadline)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop() ||
		    ktime_after(ktime_get(), deadline))
			break;
		schedule_hrtimeout_range(&deadline, 20 * NSEC_PER_USEC,
					 HRTIMER_MODE_ABS);
	}
	__set_current_state(TASK_RUNNING);
}

static bool zcbuf_sim_chance(struct zcbuf_sim *sim, u32 permille)
{
	return permille && prandom_u32_state(&sim->rnd) % 1000 < permille;
}

/* Injected delays before a frame: stalls every N frames, and jitter. */
static void zcbuf_sim_delay(struct zcbuf_sim *sim)
{
	const struct zcbuf_config *cfg = &sim->cfg;
	s64 ns = 0;

	if (cfg->stall_every && sim->sequence &&
	    sim->sequence % cfg->stall_every == 0)
		ns += (s64)cfg->stall_ms * NSEC_PER_MSEC;
	if (cfg->jitter_us)
		ns += (s64)(prandom_u32_state(&sim->rnd) %
			    (cfg->jitter_us + 1)) * NSEC_PER_USEC;
	if (ns)
		zcbuf_sim_sleep_until(ktime_add_ns(ktime_get(), ns));
}

/*
 * One frame period's work: produce or consume one buffer, or drop.  Paced,
 * a frame with no buffer queued is lost; unpaced, there was no frame yet.
 */
static void zcbuf_sim_frame(struct zcbuf_sim *sim, bool paced)
{
	struct device *dev = sim->dev;
	struct zcbuf_dev_buf *dbuf;
	u64 sequence;
	bool cookie;
	int ret;

	if (zcbuf_sim_chance(sim, sim->cfg.drop_permille)) {
		sim->sequence++;
		zcbuf_queue_drop(sim->queue, ZCBUF_DROP_INJECTED);
		return;
	}

	/*
	 * From here to the completion the thread signals the fences of the
	 * buffers it works on: it must not allocate memory or take a lock
	 * that someone waiting for a fence may hold (dma_resv_lock), or
	 * reclaim waiting for that fence deadlocks.  lockdep checks it.
	 */
	cookie = dma_fence_begin_signalling();
	/* Never write a buffer user space owns: no buffer, no frame. */
	zcbuf_queue_refill(sim->queue);
	dbuf = zcbuf_queue_take(sim->queue);
	if (!dbuf) {
		if (paced) {
			sim->sequence++;
			zcbuf_queue_drop(sim->queue, ZCBUF_DROP_NO_BUFFER);
		}
		goto out;
	}
	sequence = sim->sequence++;

	switch (sim->cfg.personality) {
	case ZCBUF_DEV_CAMERA:
		ret = zcbuf_sim_gen_frame(&sim->gen, dev, dbuf, sequence);
		break;
	case ZCBUF_DEV_NIC_RX:
		ret = zcbuf_sim_gen_rx(&sim->gen, dev, dbuf);
		break;
	default:
		ret = zcbuf_sim_gen_tx(&sim->gen, dev, dbuf);
		break;
	}
	if (ret) {
		dev_dbg(dev, "frame %llu: DMA failed: %d\n", sequence, ret);
		dbuf->flags |= ZCBUF_DQ_ERROR;
	}
	if (zcbuf_sim_chance(sim, sim->cfg.error_permille))
		dbuf->flags |= ZCBUF_DQ_ERROR;

	/* All metadata first, then the completion that publishes it. */
	dbuf->sequence = sequence;
	dbuf->timestamp_ns = ktime_get_ns();
	zcbuf_queue_complete(sim->queue, dbuf);
out:
	dma_fence_end_signalling(cookie);
}

static int zcbuf_sim_thread(void *data)
{
	struct zcbuf_sim *sim = data;
	u32 rate = sim->cfg.personality == ZCBUF_DEV_CAMERA ? sim->cfg.fps :
		   sim->cfg.pkt_rate;
	s64 period = rate ? NSEC_PER_SEC / rate : 0;
	ktime_t next = ktime_get();

	set_freezable();
	while (!kthread_should_stop()) {
		try_to_freeze();

		if (period) {
			/* Paced: late frames are not made up for in a burst. */
			zcbuf_sim_sleep_until(next);
			next = ktime_add_ns(next, period);
			if (ktime_before(next, ktime_get()))
				next = ktime_get();
		} else {
			/* Unpaced: the next frame as soon as a buffer is queued. */
			wait_event_freezable(sim->wq,
					     zcbuf_queue_has_work(sim->queue) ||
					     kthread_should_stop());
		}
		if (kthread_should_stop())
			break;

		zcbuf_sim_delay(sim);
		if (kthread_should_stop())
			break;
		zcbuf_sim_frame(sim, period);
		cond_resched();
	}
	return 0;
}

static int zcbuf_sim_configure_device(struct zcbuf_device *zdev,
				      struct zcbuf_config *cfg)
{
	return zcbuf_sim_configure(cfg);
}

static int zcbuf_sim_start(struct zcbuf_device *zdev,
			   struct zcbuf_queue *queue)
{
	struct device *dev = zcbuf_device_dev(zdev);
	struct zcbuf_sim *sim;
	int ret;

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return -ENOMEM;

	sim->dev = dev;
	sim->queue = queue;
	sim->cfg = *zcbuf_queue_config(queue);
	init_waitqueue_head(&sim->wq);
	prandom_seed_state(&sim->rnd, sim->cfg.seed);

	ret = zcbuf_sim_gen_init(&sim->gen, &sim->cfg, &sim->rnd);
	if (ret)
		goto free_sim;

	zcbuf_queue_set_drvdata(queue, sim);
	sim->thread = kthread_run(zcbuf_sim_thread, sim, "zcbuf-sim");
	if (IS_ERR(sim->thread)) {
		ret = PTR_ERR(sim->thread);
		/* -EINTR: the caller is being killed, nothing to report. */
		if (ret != -EINTR)
			dev_err_ratelimited(dev, "cannot start device thread: %d\n",
					    ret);
		goto fini_gen;
	}
	return 0;

fini_gen:
	zcbuf_queue_set_drvdata(queue, NULL);
	zcbuf_sim_gen_fini(&sim->gen);
free_sim:
	kfree(sim);
	return ret;
}

static void zcbuf_sim_stop(struct zcbuf_device *zdev,
			   struct zcbuf_queue *queue)
{
	struct zcbuf_sim *sim = zcbuf_queue_get_drvdata(queue);

	/* Waits for the thread: after this it touches no buffer. */
	kthread_stop(sim->thread);
	zcbuf_queue_set_drvdata(queue, NULL);
	zcbuf_sim_gen_fini(&sim->gen);
	kfree(sim);
}

static void zcbuf_sim_buf_queued(struct zcbuf_device *zdev,
				 struct zcbuf_queue *queue)
{
	struct zcbuf_sim *sim = zcbuf_queue_get_drvdata(queue);

	wake_up(&sim->wq);
}

static const struct zcbuf_device_ops zcbuf_sim_ops = {
	.configure = zcbuf_sim_configure_device,
	.start = zcbuf_sim_start,
	.stop = zcbuf_sim_stop,
	.buf_queued = zcbuf_sim_buf_queued,
};

static void zcbuf_sim_remove(struct zcbuf_sim_device *sd)
{
	zcbuf_device_unregister(sd->zdev);
	platform_device_unregister(sd->pdev);
}

static int zcbuf_sim_add(struct zcbuf_sim_device *sd, unsigned int n)
{
	struct zcbuf_device_info info = {
		.ops = &zcbuf_sim_ops,
		.kinds = ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_RX |
			 ZCBUF_KIND_NIC_TX,
		.min_width = ZCBUF_SIM_MIN_DIM,
		.max_width = ZCBUF_SIM_MAX_DIM,
		.min_height = ZCBUF_SIM_MIN_DIM,
		.max_height = ZCBUF_SIM_MAX_DIM,
		.formats = { ZCBUF_FMT_RGB24, ZCBUF_FMT_YUYV },
	};
	char name[ZCBUF_DEVICE_NAME_LEN];
	struct device *dev;
	int ret;

	sd->pdev = platform_device_register_simple("zcbuf-sim", n, NULL, 0);
	if (IS_ERR(sd->pdev))
		return PTR_ERR(sd->pdev);
	dev = &sd->pdev->dev;

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		goto unregister;
	dma_set_max_seg_size(dev, UINT_MAX);
	/*
	 * The DMA engine is the CPU copying through the cacheable direct
	 * map, so it snoops the caches like a coherent device.  Say so: a
	 * platform device registered by hand gets no firmware description,
	 * and where the default is non-coherent the START sync would
	 * invalidate what the engine just wrote.  (x86 is always coherent.)
	 */
#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
	dev->dma_coherent = true;
#endif

	/* The DMA engine translates DMA addresses itself: dma-direct only. */
	if (device_iommu_mapped(dev)) {
		dev_err(dev, "behind an IOMMU: the simulator needs dma-direct\n");
		ret = -EOPNOTSUPP;
		goto unregister;
	}

	snprintf(name, sizeof(name), "sim%u", n);
	info.name = name;
	info.dev = dev;
	info.priv = sd;
	sd->zdev = zcbuf_device_register(&info);
	if (IS_ERR(sd->zdev)) {
		ret = PTR_ERR(sd->zdev);
		goto unregister;
	}
	return 0;

unregister:
	platform_device_unregister(sd->pdev);
	return ret;
}

static int __init zcbuf_sim_init(void)
{
	unsigned int i;
	int ret;

	if (!nr_devices || nr_devices > ZCBUF_SIM_MAX_DEVICES)
		return -EINVAL;

	for (i = 0; i < nr_devices; i++) {
		ret = zcbuf_sim_add(&zcbuf_sim_devices[i], i);
		if (ret)
			goto remove;
	}
	return 0;

remove:
	while (i--)
		zcbuf_sim_remove(&zcbuf_sim_devices[i]);
	return ret;
}

static void __exit zcbuf_sim_exit(void)
{
	unsigned int i = nr_devices;

	while (i--)
		zcbuf_sim_remove(&zcbuf_sim_devices[i]);
}

module_init(zcbuf_sim_init);
module_exit(zcbuf_sim_exit);

MODULE_DESCRIPTION("zcbuf: simulated camera/NIC");
MODULE_LICENSE("GPL");
MODULE_VERSION(ZCBUF_VERSION);
MODULE_IMPORT_NS(ZCBUF_NS(ZCBUF));
