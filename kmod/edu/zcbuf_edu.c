// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-edu: QEMU's educational PCI device (1234:11e8, `-device edu`) as a
 * zcbuf camera and NIC TX.
 *
 * The hardware: BAR0 (1 MiB of MMIO), one MSI, and a DMA engine that moves
 * up to 4 KiB at a time between memory and a 4 KiB buffer inside the device
 * (device address 0x40000): source 0x80, destination 0x88, count 0x90,
 * command 0x98 (run, direction, interrupt when done), interrupt status 0x24
 * and acknowledge 0x64.  A transfer completes 100 ms of QEMU virtual time
 * after its command (about ten a second under TCG), and the engine masks
 * every address to its dma_mask property, 28 bits by default.  The device
 * buffer cannot be read or written through MMIO, only by the engine.
 *
 * As a camera the driver draws zcbuf's test pattern (zcbuf_tpg.h) into a
 * 4 KiB coherent buffer of its own (the "sensor"), and the engine moves
 * each chunk into the device and from the device into the frame, chunk by
 * chunk, at the DMA addresses of the frame's mapping: never more than
 * 4 KiB, never across a DMA segment.  Paced (fps set) it starts a frame
 * every period, as a sensor does, and loses it (drops_no_buffer) when no
 * buffer is queued; unpaced it waits for one.  As NIC TX it moves the
 * packet from the buffer into the device and from the device back into the
 * sensor buffer, and reports the CRC-32 of what the device held: the
 * checksum proves the bytes crossed the bus both ways.  Without checksums
 * (ZCBUF_CFG_NO_CHECKSUM) it computes none, and TX moves the packet only
 * into the device: the way back exists for the checksum alone.
 *
 * The 28-bit mask is set with dma_set_mask_and_coherent(): buffers above
 * 256 MiB reach the device through swiotlb bounce buffers, or through
 * IOVAs below the mask behind an IOMMU.
 *
 * One engine per device, serialised by @lock; one kernel thread per
 * streaming queue, whose take -> transfer -> complete section is annotated
 * as signalling the buffer's fences (dma_fence_begin_signalling()).
 * Removal (unbind, hot-unplug, module unload) unregisters the zcbuf device
 * first, which stops every stream on it.
 *
 * For tests only, debugfs has zcbuf_edu/<name>/stale_dma: writing to it
 * makes the engine write to the last frame address it wrote, once that is
 * unmapped, which an IOMMU must refuse (see zcbuf_edu_stale_dma_set()).
 */

#include <linux/completion.h>
#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/freezer.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include <linux/zcbuf.h>

#include "zcbuf_compat.h"
#include "zcbuf_device.h"
#include "zcbuf_tpg.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed	/* low byte of EDU_REG_ID */
#define EDU_CMD_RUN		BIT(0)
#define EDU_CMD_TO_RAM		BIT(1)	/* else from RAM to the device */
#define EDU_CMD_IRQ		BIT(2)
#define EDU_IRQ_DMA		0x100

#define EDU_BUF_ADDR		0x40000	/* the device buffer, device side */
#define EDU_BUF_SIZE		4096
/*
 * QEMU 7.2's range check takes a transfer ending exactly at the end of the
 * device buffer for one past it and aborts QEMU (hw_error): stay below.
 */
#define EDU_XFER_MAX		(EDU_BUF_SIZE - 64)
#define EDU_DMA_BITS		28

/* A transfer takes 100 ms of virtual time; a loaded TCG host is slower. */
#define EDU_XFER_TIMEOUT_MS	10000

#define EDU_MIN_DIM		16
#define EDU_MAX_DIM		256
#define EDU_MAX_FRAME		(64 * 1024)
#define EDU_MAX_FPS		10

/**
 * struct zcbuf_edu - one edu device
 * @pdev: the PCI device
 * @regs: BAR0
 * @zdev: its registration with zcbuf
 * @nr: its number, in @name
 * @name: its zcbuf name
 * @lock: the DMA engine: held across one transfer (programming, waiting,
 *	acknowledging); protects @sensor's contents, @done, @last_dst and
 *	@last_len
 * @done: completed by the MSI handler when a transfer ends
 * @sensor: 4 KiB coherent buffer: the camera's line memory, TX read-back
 * @sensor_dma: its DMA address
 * @transfers: transfers done, for the debug log
 * @last_dst: the DMA address of the last chunk written into a frame
 * @last_len: its length; 0 before the first frame
 * @debugfs: the device's debugfs directory (test hooks)
 */
struct zcbuf_edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct zcbuf_device *zdev;
	int nr;
	char name[ZCBUF_DEVICE_NAME_LEN];
	struct mutex lock;	/* see @lock above */
	struct completion done;
	u8 *sensor;
	dma_addr_t sensor_dma;
	u64 transfers;
	dma_addr_t last_dst;
	u32 last_len;
	struct dentry *debugfs;
};

/**
 * struct zcbuf_edu_stream - one streaming queue
 * @edu: the device
 * @queue: the queue
 * @cfg: its configuration, a copy taken at start
 * @thread: the stream's thread
 * @wq: the thread waits here for a buffer
 * @tpg: camera: the pattern
 * @line: camera: one line of the pattern
 * @sequence: next frame number
 */
struct zcbuf_edu_stream {
	struct zcbuf_edu *edu;
	struct zcbuf_queue *queue;
	struct zcbuf_config cfg;
	struct task_struct *thread;
	wait_queue_head_t wq;
	struct zcbuf_tpg tpg;
	u8 *line;
	u64 sequence;
};

static irqreturn_t zcbuf_edu_irq(int irq, void *data)
{
	struct zcbuf_edu *edu = data;
	u32 status = readl(edu->regs + EDU_REG_IRQ_STATUS);

	if (!status || status == ~0U)
		return IRQ_NONE;
	writel(status, edu->regs + EDU_REG_IRQ_ACK);
	if (status & EDU_IRQ_DMA)
		complete(&edu->done);
	return IRQ_HANDLED;
}

/*
 * One transfer of @len bytes (at most EDU_XFER_MAX) between DMA address
 * @addr and the device buffer; the engine lock held.  0, or -ETIMEDOUT
 * when the device did not answer (then it may still be running).
 */
static int zcbuf_edu_xfer(struct zcbuf_edu *edu, dma_addr_t addr, u32 len,
			  bool to_ram)
{
	u64 cmd = EDU_CMD_RUN | EDU_CMD_IRQ | (to_ram ? EDU_CMD_TO_RAM : 0);

	lockdep_assert_held(&edu->lock);

	reinit_completion(&edu->done);
	writeq(to_ram ? EDU_BUF_ADDR : addr, edu->regs + EDU_REG_DMA_SRC);
	writeq(to_ram ? addr : EDU_BUF_ADDR, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	writeq(cmd, edu->regs + EDU_REG_DMA_CMD);
	if (!wait_for_completion_timeout(&edu->done,
					 msecs_to_jiffies(EDU_XFER_TIMEOUT_MS))) {
		dev_err_ratelimited(&edu->pdev->dev, "DMA transfer timed out\n");
		return -ETIMEDOUT;
	}
	edu->transfers++;
	return 0;
}

/*
 * Walk a mapped buffer chunk by chunk: at most EDU_XFER_MAX, never across a
 * DMA segment.
 */
struct zcbuf_edu_walk {
	struct scatterlist *sg;
	unsigned int nents;
	size_t seg_off;
};

static void zcbuf_edu_walk_start(struct zcbuf_edu_walk *w,
				 struct sg_table *sgt)
{
	w->sg = sgt->sgl;
	w->nents = sgt->nents;
	w->seg_off = 0;
}

/* The next chunk of at most @want bytes: its DMA address and length, or 0. */
static u32 zcbuf_edu_walk_next(struct zcbuf_edu_walk *w, size_t want,
			       dma_addr_t *addr)
{
	u32 len;

	while (w->nents && w->seg_off >= sg_dma_len(w->sg)) {
		w->sg = sg_next(w->sg);
		w->nents--;
		w->seg_off = 0;
	}
	if (!w->nents)
		return 0;
	len = min3(want, (size_t)EDU_XFER_MAX,
		   (size_t)sg_dma_len(w->sg) - w->seg_off);
	*addr = sg_dma_address(w->sg) + w->seg_off;
	w->seg_off += len;
	return len;
}

/*
 * Camera: draw frame @stream->sequence into the sensor chunk by chunk and
 * move each chunk through the device into the frame.
 */
static int zcbuf_edu_capture(struct zcbuf_edu_stream *stream,
			     struct zcbuf_dev_buf *dbuf)
{
	struct zcbuf_edu *edu = stream->edu;
	size_t line_size = stream->tpg.line_size;
	size_t left = stream->cfg.frame_size;
	size_t line_off = line_size;	/* no line drawn yet */
	bool sums = !(stream->cfg.flags & ZCBUF_CFG_NO_CHECKSUM);
	struct zcbuf_edu_walk walk;
	u32 crc = ~0U, y = 0;
	int ret = 0;

	zcbuf_tpg_start_frame(&stream->tpg, stream->sequence);
	zcbuf_edu_walk_start(&walk, dbuf->sgt);
	while (left && !ret) {
		dma_addr_t addr;
		u32 len = zcbuf_edu_walk_next(&walk, left, &addr), done = 0;

		if (!len)
			return -ERANGE;

		mutex_lock(&edu->lock);
		/* The sensor's chunk: the next @len bytes of the picture. */
		while (done < len) {
			size_t n;

			if (line_off == line_size) {
				zcbuf_tpg_line(&stream->tpg, y++, stream->line);
				line_off = 0;
			}
			n = min_t(size_t, len - done, line_size - line_off);
			memcpy(edu->sensor + done, stream->line + line_off, n);
			done += n;
			line_off += n;
		}
		if (sums)
			crc = crc32_le(crc, edu->sensor, len);
		/* Sensor -> device -> frame. */
		ret = zcbuf_edu_xfer(edu, edu->sensor_dma, len, false);
		if (!ret)
			ret = zcbuf_edu_xfer(edu, addr, len, true);
		if (!ret) {
			edu->last_dst = addr;
			edu->last_len = len;
		}
		mutex_unlock(&edu->lock);
		left -= len;
	}
	if (ret)
		return ret;

	dbuf->bytesused = stream->cfg.frame_size;
	dbuf->checksum = sums ? ~crc : 0;
	return 0;
}

/*
 * NIC TX: buffer -> device (-> sensor, for the CRC of what the device
 * held, unless no checksum was asked for).
 */
static int zcbuf_edu_transmit(struct zcbuf_edu_stream *stream,
			      struct zcbuf_dev_buf *dbuf)
{
	bool sums = !(stream->cfg.flags & ZCBUF_CFG_NO_CHECKSUM);
	struct zcbuf_edu *edu = stream->edu;
	size_t left = dbuf->tx_bytes;
	struct zcbuf_edu_walk walk;
	u32 crc = ~0U;
	int ret = 0;

	zcbuf_edu_walk_start(&walk, dbuf->sgt);
	while (left && !ret) {
		dma_addr_t addr;
		u32 len = zcbuf_edu_walk_next(&walk, left, &addr);

		if (!len)
			return -ERANGE;
		mutex_lock(&edu->lock);
		ret = zcbuf_edu_xfer(edu, addr, len, false);
		if (!ret && sums)
			ret = zcbuf_edu_xfer(edu, edu->sensor_dma, len, true);
		if (!ret && sums)
			crc = crc32_le(crc, edu->sensor, len);
		mutex_unlock(&edu->lock);
		left -= len;
	}
	if (ret)
		return ret;

	dbuf->bytesused = dbuf->tx_bytes;
	dbuf->checksum = sums ? ~crc : 0;
	return 0;
}

/* Sleep until @deadline, or until the thread is told to stop. */
static void zcbuf_edu_sleep_until(ktime_t deadline)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop() || ktime_after(ktime_get(), deadline))
			break;
		schedule_hrtimeout_range(&deadline, NSEC_PER_MSEC,
					 HRTIMER_MODE_ABS);
	}
	__set_current_state(TASK_RUNNING);
}

static int zcbuf_edu_thread(void *data)
{
	struct zcbuf_edu_stream *stream = data;
	s64 period = stream->cfg.fps ? NSEC_PER_SEC / stream->cfg.fps : 0;
	ktime_t next = ktime_get();

	set_freezable();
	while (!kthread_should_stop()) {
		struct zcbuf_dev_buf *dbuf;
		bool cookie;
		int ret;

		if (period) {
			/*
			 * Paced, as a sensor: a frame every period (later
			 * when the engine is slower), lost when no buffer is
			 * queued for it.
			 */
			try_to_freeze();
			zcbuf_edu_sleep_until(next);
			next = ktime_add_ns(next, period);
			if (ktime_before(next, ktime_get()))
				next = ktime_get();
		} else {
			/* Unpaced: a frame as soon as a buffer is queued. */
			wait_event_freezable(stream->wq,
					     zcbuf_queue_has_work(stream->queue) ||
					     kthread_should_stop());
		}
		if (kthread_should_stop())
			break;

		/*
		 * From the take to the completion the thread signals the
		 * fences of the buffer it works on: nothing in between may
		 * allocate memory or take a lock held by anyone waiting for
		 * a fence.  The engine's @lock is never held across either,
		 * so taking it and waiting for the MSI here is safe; lockdep
		 * checks it.
		 */
		cookie = dma_fence_begin_signalling();
		zcbuf_queue_refill(stream->queue);
		dbuf = zcbuf_queue_take(stream->queue);
		if (!dbuf) {
			if (period) {
				stream->sequence++;
				zcbuf_queue_drop(stream->queue,
						 ZCBUF_DROP_NO_BUFFER);
			}
			dma_fence_end_signalling(cookie);
			continue;
		}

		if (stream->cfg.personality == ZCBUF_DEV_CAMERA)
			ret = zcbuf_edu_capture(stream, dbuf);
		else
			ret = zcbuf_edu_transmit(stream, dbuf);
		if (ret) {
			dev_dbg(&stream->edu->pdev->dev, "buffer %u: %d\n",
				dbuf->index, ret);
			dbuf->flags |= ZCBUF_DQ_ERROR;
		}
		dbuf->sequence = stream->sequence++;
		dbuf->timestamp_ns = ktime_get_ns();
		zcbuf_queue_complete(stream->queue, dbuf);
		dma_fence_end_signalling(cookie);
	}
	return 0;
}

/* ---- zcbuf device ops ---- */

static int zcbuf_edu_configure(struct zcbuf_device *zdev,
			       struct zcbuf_config *cfg)
{
	/* No fault injection: this is hardware. */
	if (cfg->drop_permille || cfg->error_permille || cfg->jitter_us ||
	    cfg->stall_every || cfg->stall_ms || cfg->pkt_min ||
	    cfg->pkt_max || cfg->pkt_rate || cfg->pkts_per_buffer)
		return -EINVAL;

	if (cfg->personality == ZCBUF_DEV_NIC_TX) {
		if (cfg->width || cfg->height || cfg->pixelformat || cfg->fps)
			return -EINVAL;
		cfg->frame_size = 1;
		return 0;
	}
	if (cfg->personality != ZCBUF_DEV_CAMERA)
		return -EINVAL;
	if (cfg->width < EDU_MIN_DIM || cfg->width > EDU_MAX_DIM ||
	    cfg->width % 2 || cfg->height < EDU_MIN_DIM ||
	    cfg->height > EDU_MAX_DIM || cfg->fps > EDU_MAX_FPS)
		return -EINVAL;
	if (cfg->pixelformat != ZCBUF_FMT_RGB24 &&
	    cfg->pixelformat != ZCBUF_FMT_YUYV)
		return -EINVAL;
	cfg->frame_size = cfg->width * cfg->height *
			  (cfg->pixelformat == ZCBUF_FMT_RGB24 ? 3 : 2);
	if (cfg->frame_size > EDU_MAX_FRAME)
		return -EINVAL;
	return 0;
}

static void zcbuf_edu_stream_free(struct zcbuf_edu_stream *stream)
{
	zcbuf_tpg_fini(&stream->tpg);
	kfree(stream->line);
	kfree(stream);
}

static int zcbuf_edu_start(struct zcbuf_device *zdev,
			   struct zcbuf_queue *queue)
{
	struct zcbuf_edu *edu = zcbuf_device_priv(zdev);
	struct zcbuf_edu_stream *stream;
	int ret;

	stream = kzalloc(sizeof(*stream), GFP_KERNEL);
	if (!stream)
		return -ENOMEM;
	stream->edu = edu;
	stream->queue = queue;
	stream->cfg = *zcbuf_queue_config(queue);
	init_waitqueue_head(&stream->wq);

	if (stream->cfg.personality == ZCBUF_DEV_CAMERA) {
		ret = zcbuf_tpg_init(&stream->tpg, &stream->cfg);
		if (ret)
			goto free;
		stream->line = kmalloc(stream->tpg.line_size, GFP_KERNEL);
		if (!stream->line) {
			ret = -ENOMEM;
			goto free;
		}
	}

	zcbuf_queue_set_drvdata(queue, stream);
	stream->thread = kthread_run(zcbuf_edu_thread, stream, "zcbuf-%s",
				     edu->name);
	if (IS_ERR(stream->thread)) {
		ret = PTR_ERR(stream->thread);
		zcbuf_queue_set_drvdata(queue, NULL);
		goto free;
	}
	return 0;

free:
	zcbuf_edu_stream_free(stream);
	return ret;
}

static void zcbuf_edu_stop(struct zcbuf_device *zdev,
			   struct zcbuf_queue *queue)
{
	struct zcbuf_edu_stream *stream = zcbuf_queue_get_drvdata(queue);

	/* Waits for the thread, and so for its transfer in flight. */
	kthread_stop(stream->thread);
	zcbuf_queue_set_drvdata(queue, NULL);
	zcbuf_edu_stream_free(stream);
}

static void zcbuf_edu_buf_queued(struct zcbuf_device *zdev,
				 struct zcbuf_queue *queue)
{
	struct zcbuf_edu_stream *stream = zcbuf_queue_get_drvdata(queue);

	wake_up(&stream->wq);
}

static const struct zcbuf_device_ops zcbuf_edu_ops = {
	.configure = zcbuf_edu_configure,
	.start = zcbuf_edu_start,
	.stop = zcbuf_edu_stop,
	.buf_queued = zcbuf_edu_buf_queued,
};

/* ---- test hooks (debugfs) ---- */

static struct dentry *zcbuf_edu_debugfs;	/* zcbuf_edu/ in debugfs */

/*
 * Test only: make the engine write one chunk (0xa5 bytes) to the last
 * frame address it wrote, as a device with a stale address would.  By now
 * that buffer is freed or detached, so its IOVA is unmapped: the IOMMU
 * must fault the write (a DMAR fault in the kernel log) and nothing may
 * land in memory.  Refused (-EOPNOTSUPP) when the device is not behind a
 * translating IOMMU, where the address is plain memory that the engine
 * would overwrite; refused (-EBUSY) while the address is still mapped,
 * where it would write into a live buffer; -ENODATA before any frame.
 */
static int zcbuf_edu_stale_dma_set(void *data, u64 val)
{
	struct zcbuf_edu *edu = data;
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	int ret;

	if (!domain || !(domain->type & __IOMMU_DOMAIN_PAGING))
		return -EOPNOTSUPP;

	mutex_lock(&edu->lock);
	if (!edu->last_len) {
		ret = -ENODATA;
		goto unlock;
	}
	if (iommu_iova_to_phys(domain, edu->last_dst)) {
		ret = -EBUSY;
		goto unlock;
	}
	dev_info(dev, "test: stale DMA write to IOVA %#llx, %u bytes\n",
		 (u64)edu->last_dst, edu->last_len);
	memset(edu->sensor, 0xa5, edu->last_len);
	ret = zcbuf_edu_xfer(edu, edu->sensor_dma, edu->last_len, false);
	if (!ret)
		ret = zcbuf_edu_xfer(edu, edu->last_dst, edu->last_len, true);
unlock:
	mutex_unlock(&edu->lock);
	return ret;
}
DEFINE_DEBUGFS_ATTRIBUTE(zcbuf_edu_stale_dma_fops, NULL,
			 zcbuf_edu_stale_dma_set, "%llu\n");

/* Nothing here is needed to work: failures leave the hooks out. */
static void zcbuf_edu_debugfs_init(struct zcbuf_edu *edu)
{
	edu->debugfs = debugfs_create_dir(edu->name, zcbuf_edu_debugfs);
	debugfs_create_file_unsafe("stale_dma", 0200, edu->debugfs, edu,
				   &zcbuf_edu_stale_dma_fops);
}

/* ---- PCI ---- */

static DEFINE_IDA(zcbuf_edu_ida);

static int zcbuf_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct zcbuf_device_info info = {
		.ops = &zcbuf_edu_ops,
		.kinds = ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_TX,
		.min_width = EDU_MIN_DIM,
		.max_width = EDU_MAX_DIM,
		.min_height = EDU_MIN_DIM,
		.max_height = EDU_MAX_DIM,
		.formats = { ZCBUF_FMT_RGB24, ZCBUF_FMT_YUYV },
		.max_frame_size = EDU_MAX_FRAME,
	};
	struct device *dev = &pdev->dev;
	struct zcbuf_edu *edu;
	int ret;

	edu = devm_kzalloc(dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	mutex_init(&edu->lock);
	init_completion(&edu->done);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_request_region(pdev, 0, KBUILD_MODNAME);
	if (ret)
		return ret;
	edu->regs = pcim_iomap(pdev, 0, 0);
	if (!edu->regs) {
		ret = -ENOMEM;
		goto release;
	}
	if ((readl(edu->regs + EDU_REG_ID) & 0xff) != EDU_ID_MAGIC) {
		dev_err(dev, "not an edu device (id %#x)\n",
			readl(edu->regs + EDU_REG_ID));
		ret = -ENODEV;
		goto release;
	}
	pci_set_master(pdev);

	/* The engine masks every address to 28 bits: so must we. */
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret) {
		dev_err(dev, "no usable %d-bit DMA\n", EDU_DMA_BITS);
		goto release;
	}
	dma_set_max_seg_size(dev, UINT_MAX);
	edu->sensor = dmam_alloc_coherent(dev, EDU_BUF_SIZE, &edu->sensor_dma,
					  GFP_KERNEL);
	if (!edu->sensor) {
		ret = -ENOMEM;
		goto release;
	}

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		goto release;
	ret = request_irq(pci_irq_vector(pdev, 0), zcbuf_edu_irq, 0,
			  KBUILD_MODNAME, edu);
	if (ret)
		goto free_vectors;

	edu->nr = ida_alloc(&zcbuf_edu_ida, GFP_KERNEL);
	if (edu->nr < 0) {
		ret = edu->nr;
		goto free_irq;
	}
	snprintf(edu->name, sizeof(edu->name), "edu%d", edu->nr);
	info.name = edu->name;
	info.dev = dev;
	info.priv = edu;
	edu->zdev = zcbuf_device_register(&info);
	if (IS_ERR(edu->zdev)) {
		ret = PTR_ERR(edu->zdev);
		goto free_id;
	}
	pci_set_drvdata(pdev, edu);
	zcbuf_edu_debugfs_init(edu);
	dev_info(dev, "zcbuf device %s (%s)\n", edu->name,
		 device_iommu_mapped(dev) ? "behind an IOMMU" : "dma-direct");
	return 0;

free_id:
	ida_free(&zcbuf_edu_ida, edu->nr);
free_irq:
	free_irq(pci_irq_vector(pdev, 0), edu);
free_vectors:
	pci_free_irq_vectors(pdev);
release:
	pci_release_region(pdev, 0);
	return ret;
}

static void zcbuf_edu_remove(struct pci_dev *pdev)
{
	struct zcbuf_edu *edu = pci_get_drvdata(pdev);

	/* Waits for a test hook in progress. */
	debugfs_remove_recursive(edu->debugfs);
	/* Stops every stream: after this nothing touches the engine. */
	zcbuf_device_unregister(edu->zdev);
	free_irq(pci_irq_vector(pdev, 0), edu);
	pci_free_irq_vectors(pdev);
	pci_release_region(pdev, 0);
	ida_free(&zcbuf_edu_ida, edu->nr);
	dev_dbg(&pdev->dev, "%llu transfers\n", edu->transfers);
}

static const struct pci_device_id zcbuf_edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, zcbuf_edu_ids);

static struct pci_driver zcbuf_edu_driver = {
	.name = "zcbuf_edu",
	.id_table = zcbuf_edu_ids,
	.probe = zcbuf_edu_probe,
	.remove = zcbuf_edu_remove,
};

static int __init zcbuf_edu_init(void)
{
	int ret;

	zcbuf_edu_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = pci_register_driver(&zcbuf_edu_driver);
	if (ret)
		debugfs_remove_recursive(zcbuf_edu_debugfs);
	return ret;
}

static void __exit zcbuf_edu_exit(void)
{
	pci_unregister_driver(&zcbuf_edu_driver);
	debugfs_remove_recursive(zcbuf_edu_debugfs);
}

module_init(zcbuf_edu_init);
module_exit(zcbuf_edu_exit);

MODULE_DESCRIPTION("zcbuf: QEMU's edu PCI device as a camera and NIC TX");
MODULE_LICENSE("GPL");
MODULE_VERSION(ZCBUF_VERSION);
MODULE_IMPORT_NS(ZCBUF_NS(ZCBUF));
