// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_interop_v4l2: zcbuf buffers as V4L2_MEMORY_DMABUF capture buffers of
 * vivid, the kernel's virtual video test driver.
 *
 * vivid is loaded by the test itself (modprobe vivid n_devs=2
 * node_types=0x1,0x1 allocators=0,1: instance 0 uses vb2-vmalloc, instance 1
 * vb2-dma-contig).  For each allocator, zcbuf buffers of the sizeimage vivid
 * reports are exported (ZCBUF_IOC_EXPORT) and queued to vivid's capture
 * queue; vivid's frames land in them.  Each frame is read through zcbuf's own
 * mapping of /dev/zcbuf after ZCBUF_IOC_SYNC { START | READ } and checked:
 * every one of vivid's bytesused bytes is a limited-range YUYV sample (never
 * 0, and never all the same), every byte past bytesused is still zero.
 *
 *  - vmalloc: scatter-gather zcbuf buffers; vb2-vmalloc reaches them through
 *    the exporter's vmap.
 *  - dma-contig: ZCBUF_ALLOC_CONTIG buffers; vb2-dma-contig attaches, maps and
 *    needs the mapping contiguous.  A scatter-gather buffer whose pages are
 *    (per /proc/self/pagemap) not physically contiguous is refused there.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

#define NBUFS		4
#define NFRAMES		8
#define WAIT_MS		20000
#define VIVID_PARAMS	"n_devs=2 node_types=0x1,0x1 allocators=0,1"

/* 1 if NAME.ko (any compression) is under /lib/modules/$(uname -r). */
static int module_installed(const char *name)
{
	struct utsname u;
	char cmd[512];

	if (uname(&u))
		return 0;
	snprintf(cmd, sizeof(cmd),
		 "find /lib/modules/%s -name '%s.ko*' 2>/dev/null | grep -q .",
		 u.release, name);
	return system(cmd) == 0;
}

/*
 * Make sure vivid is loaded; 0, or a reason to skip (the module is not
 * installed in this kernel), or NULL after a failure with *err set.
 */
static const char *load_vivid(char *err, size_t len)
{
	if (!access("/sys/module/vivid", F_OK))
		return "";
	if (!module_installed("vivid"))
		return "vivid.ko not installed for this kernel (CONFIG_VIDEO_VIVID=m)";
	if (system("modprobe vivid " VIVID_PARAMS) != 0 ||
	    access("/sys/module/vivid", F_OK)) {
		snprintf(err, len, "modprobe vivid %s failed", VIVID_PARAMS);
		return NULL;
	}
	return "";
}

/* vivid's allocator for instance @inst (module parameter), or -1. */
static int vivid_allocator(unsigned int inst)
{
	FILE *f = fopen("/sys/module/vivid/parameters/allocators", "r");
	char line[256], *p, *save = NULL;
	unsigned int i = 0;
	int ret = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		for (p = strtok_r(line, ",\n", &save); p;
		     p = strtok_r(NULL, ",\n", &save), i++) {
			if (i == inst) {
				ret = atoi(p);
				break;
			}
		}
	}
	fclose(f);
	return ret;
}

/*
 * Open the first vivid video capture node whose instance uses @allocator
 * (0 vmalloc, 1 dma-contig): its fd, or -ENODEV.
 */
static int open_vivid(int allocator, char *name, size_t len)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct v4l2_capability cap;
		char path[32];
		unsigned int inst;
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (cap.device_caps & V4L2_CAP_STREAMING) &&
		    sscanf((char *)cap.bus_info, "platform:vivid-%u", &inst) == 1 &&
		    vivid_allocator(inst) == allocator) {
			snprintf(name, len, "%s (%s)", path, cap.bus_info);
			return fd;
		}
		close(fd);
	}
	return -ENODEV;
}

/* The guest bounces every streaming DMA mapping (swiotlb=force). */
static bool bouncing(void)
{
	char line[1024] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	return strstr(line, "swiotlb=force") != NULL;
}

/*
 * Queue every zcbuf export to vivid.  vivid's device keeps the default 64 KiB
 * DMA segment limit, so zcbuf maps a contiguous buffer in 64 KiB segments;
 * under swiotlb=force each segment bounces on its own and the buffer is
 * contiguous in vivid's DMA space only if the bounce slots happen to be.
 * vb2-dma-contig then refuses it (EFAULT): a limit of that setup, not of
 * zcbuf, and the plain boot runs the same test for real.
 */
#define QUEUE_ALL_OR_SKIP(self, variant) do {				\
	int _i, _ret;							\
	for (_i = 0; _i < NBUFS; _i++) {				\
		_ret = qbuf((self)->vfd, _i, (self)->dmabuf[_i],	\
			    (self)->size);				\
		if (_ret == -EFAULT && (variant)->allocator == 1 &&	\
		    bouncing())						\
			SKIP(return, "swiotlb=force bounced vivid's 64 KiB segments apart: dma-contig needs one DMA-contiguous range (passes in the plain boot)"); \
		ASSERT_EQ(0, _ret) TH_LOG("QBUF %d (zcbuf dmabuf of %zu bytes)", \
					  _i, (self)->size);		\
	}								\
} while (0)

/* 1 if [p, p + len) is backed by physically consecutive pages, 0 if not, -1. */
static int phys_contiguous(void *p, size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE), i;
	uint64_t first = 0;
	int fd, ret = 1;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (i = 0; i < len / page; i++) {
		volatile uint8_t touch = ((uint8_t *)p)[i * page];
		uint64_t ent, pfn;

		(void)touch;
		if (pread(fd, &ent, sizeof(ent),
			  ((uintptr_t)p / page + i) * sizeof(ent)) != sizeof(ent) ||
		    !(ent & (1ULL << 63))) {
			ret = -1;
			break;
		}
		pfn = ent & ((1ULL << 55) - 1);
		if (!pfn) {		/* no CAP_SYS_ADMIN: PFNs hidden */
			ret = -1;
			break;
		}
		if (!i)
			first = pfn;
		else if (pfn != first + i) {
			ret = 0;
			break;
		}
	}
	close(fd);
	return ret;
}

/* Input 0 (vivid's webcam), YUYV at about @width x @height: what vivid gives. */
static void set_format(struct __test_metadata *_metadata, int vfd,
		       uint32_t width, uint32_t height, struct v4l2_format *fmt)
{
	int input = 0;

	ASSERT_EQ(0, ioctl(vfd, VIDIOC_S_INPUT, &input));
	memset(fmt, 0, sizeof(*fmt));
	fmt->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	fmt->fmt.pix.width = width;
	fmt->fmt.pix.height = height;
	fmt->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt->fmt.pix.field = V4L2_FIELD_NONE;
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_S_FMT, fmt));
	ASSERT_EQ(V4L2_PIX_FMT_YUYV, fmt->fmt.pix.pixelformat);
	ASSERT_LT(0, fmt->fmt.pix.sizeimage);
	ASSERT_LE(fmt->fmt.pix.bytesperline * fmt->fmt.pix.height,
		  fmt->fmt.pix.sizeimage);
	TH_LOG("asked %ux%u YUYV, vivid gave %ux%u, bytesperline %u, sizeimage %u",
	       width, height, fmt->fmt.pix.width, fmt->fmt.pix.height,
	       fmt->fmt.pix.bytesperline, fmt->fmt.pix.sizeimage);
}

/*
 * The devices attached to the DMA-buf open as @fd, from the dma-buf core's
 * debugfs (bufinfo): their count, with the first name in @dev; -1 when
 * debugfs or the buffer's entry is not there.
 */
static int dmabuf_attachments(int fd, char *dev, size_t len)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[256];
	struct stat st;
	int state = 0, count = -1;

	*dev = 0;
	if (!f)
		return -1;
	if (fstat(fd, &st)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long ino;
		char exp[64];

		if (state == 0) {
			/* size flags mode count exp_name ino name */
			if (sscanf(line, "%*s %*s %*s %*s %63s %lu", exp, &ino) == 2 &&
			    ino == (unsigned long)st.st_ino)
				state = 1;
		} else if (state == 1) {
			if (strstr(line, "Attached Devices:"))
				state = 2;
		} else if (sscanf(line, "Total %d devices attached", &count) == 1) {
			break;
		} else if (line[0] == '\t' && !*dev) {
			size_t n = strcspn(line + 1, "\n");

			n = n < len - 1 ? n : len - 1;
			memcpy(dev, line + 1, n);
			dev[n] = 0;
		}
	}
	fclose(f);
	return count;
}

FIXTURE(vivid)
{
	int zfd;		/* /dev/zcbuf */
	int vfd;		/* vivid's capture node */
	char node[96];
	struct v4l2_format fmt;
	uint32_t first;		/* zcbuf index of buffer 0 */
	size_t size;		/* zcbuf buffer size */
	int dmabuf[NBUFS];
	uint8_t *map[NBUFS];	/* through /dev/zcbuf */
	bool streaming;
	bool reqbufs;
};

FIXTURE_VARIANT(vivid)
{
	int allocator;		/* vivid's allocators= value */
	uint32_t alloc_flags;	/* ZCBUF_ALLOC_* */
	uint32_t width, height;
};

FIXTURE_VARIANT_ADD(vivid, vmalloc_sg)
{
	.allocator = 0, .alloc_flags = 0, .width = 320, .height = 240,
};

FIXTURE_VARIANT_ADD(vivid, vmalloc_sg_640x480)
{
	.allocator = 0, .alloc_flags = 0, .width = 640, .height = 480,
};

FIXTURE_VARIANT_ADD(vivid, dma_contig_contig)
{
	.allocator = 1, .alloc_flags = ZCBUF_ALLOC_CONTIG, .width = 320,
	.height = 240,
};

FIXTURE_SETUP(vivid)
{
	const char *skip;
	char err[128] = "";
	int i;

	self->zfd = -1;
	self->vfd = -1;
	for (i = 0; i < NBUFS; i++)
		self->dmabuf[i] = -1;

	self->zfd = zc_open();
	if (self->zfd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->zfd);

	skip = load_vivid(err, sizeof(err));
	ASSERT_NE(NULL, skip) TH_LOG("%s", err);
	if (*skip)
		SKIP(return, "%s", skip);

	self->vfd = open_vivid(variant->allocator, self->node,
			       sizeof(self->node));
	ASSERT_LE(0, self->vfd)
		TH_LOG("no vivid capture node with allocator %d (load vivid with %s)",
		       variant->allocator, VIVID_PARAMS);
	TH_LOG("vivid: %s, allocator %s", self->node,
	       variant->allocator ? "dma-contig" : "vmalloc");

	set_format(_metadata, self->vfd, variant->width, variant->height,
		   &self->fmt);
}

FIXTURE_TEARDOWN(vivid)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, i;

	if (self->streaming)
		EXPECT_EQ(0, ioctl(self->vfd, VIDIOC_STREAMOFF, &type));
	if (self->reqbufs) {
		struct v4l2_requestbuffers rb = {
			.count = 0, .type = type, .memory = V4L2_MEMORY_DMABUF,
		};

		EXPECT_EQ(0, ioctl(self->vfd, VIDIOC_REQBUFS, &rb));
	}
	for (i = 0; i < NBUFS; i++) {
		if (self->map[i])
			munmap(self->map[i], self->size);
		if (self->dmabuf[i] >= 0)
			close(self->dmabuf[i]);
	}
	if (self->vfd >= 0)
		close(self->vfd);
	if (self->zfd >= 0)
		close(self->zfd);
}

static int reqbufs(int vfd, unsigned int count)
{
	struct v4l2_requestbuffers rb = {
		.count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};

	if (ioctl(vfd, VIDIOC_REQBUFS, &rb))
		return -errno;
	return rb.count;
}

static int qbuf(int vfd, unsigned int index, int dmabuf, size_t length)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .length = length,
	};

	b.m.fd = dmabuf;
	return ioctl(vfd, VIDIOC_QBUF, &b) ? -errno : 0;
}

/* Wait for and dequeue one frame: 0 or -errno (-ETIMEDOUT). */
static int dqbuf(int vfd, struct v4l2_buffer *b)
{
	struct pollfd p = { .fd = vfd, .events = POLLIN };
	int ret;

	ret = poll(&p, 1, WAIT_MS);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = V4L2_MEMORY_DMABUF;
	return ioctl(vfd, VIDIOC_DQBUF, b) ? -errno : 0;
}

/*
 * A YUYV frame of limited-range samples (vivid's default quantisation for
 * its webcam): no byte is 0 in [0, used), at least @min_levels distinct byte
 * values, and every byte of [used, size) is still zero (zcbuf zeroes its
 * pages, vivid writes no further than bytesused).  0, or a message.
 */
static const char *check_frame(const uint8_t *p, size_t used, size_t size,
			       unsigned int min_levels, size_t *where)
{
	uint8_t seen[256] = { 0 };
	unsigned int levels = 0;
	size_t i;

	for (i = 0; i < used; i++) {
		if (!p[i]) {
			*where = i;
			return "zero byte inside the frame (vivid did not write it)";
		}
		if (!seen[p[i]]++)
			levels++;
	}
	*where = levels;
	if (levels < min_levels)
		return "too few distinct sample values: not vivid's test pattern";
	for (i = used; i < size; i++) {
		if (p[i]) {
			*where = i;
			return "non-zero byte past bytesused";
		}
	}
	return NULL;
}

/* Allocate, map and export NBUFS zcbuf buffers of at least sizeimage. */
static void setup_buffers(struct __test_metadata *_metadata,
			  FIXTURE_DATA(vivid) *self, uint32_t flags)
{
	int i;

	ASSERT_EQ(0, zc_alloc(self->zfd, self->fmt.fmt.pix.sizeimage, NBUFS,
			      flags, &self->first));
	for (i = 0; i < NBUFS; i++) {
		struct zcbuf_query q;

		ASSERT_EQ(0, zc_query(self->zfd, self->first + i, &q));
		ASSERT_EQ(flags & ZCBUF_ALLOC_CONTIG ? ZCBUF_BUF_CONTIG : 0,
			  q.flags);
		self->size = q.size;
		self->map[i] = zc_map_buffer(self->zfd, self->first + i, NULL);
		ASSERT_NE(NULL, self->map[i]);
		self->dmabuf[i] = zc_export(self->zfd, self->first + i,
					    ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
		ASSERT_LE(0, self->dmabuf[i]);
	}
}

/*
 * A read-only export is read-only for vivid's capture queue too: vb2
 * cannot map it for writing (vmalloc: no vmap; dma-contig: no
 * DMA_FROM_DEVICE mapping), so QBUF fails and the owner's bytes stay as
 * they were.  (vivid used to write 115,200 bytes of a 320x240 frame.)
 */
TEST_F(vivid, readonly_export_never_written)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, ro[NBUFS], ret[NBUFS], i;
	uint32_t sizeimage = self->fmt.fmt.pix.sizeimage;
	bool queued = false;

	setup_buffers(_metadata, self, variant->alloc_flags);
	for (i = 0; i < NBUFS; i++) {
		zc_fill(self->map[i], self->size, 40 + i);
		ASSERT_EQ(0, zc_sync(self->zfd, self->first + i,
				     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0,
				     self->size));
		ro[i] = zc_export(self->zfd, self->first + i,
				  ZCBUF_EXPORT_CLOEXEC);
		ASSERT_LE(0, ro[i]);
	}
	ASSERT_EQ(NBUFS, reqbufs(self->vfd, NBUFS));
	self->reqbufs = true;
	for (i = 0; i < NBUFS; i++) {
		ret[i] = qbuf(self->vfd, i, ro[i], sizeimage);
		queued |= !ret[i];
	}
	if (queued) {
		/* Give vivid every chance to write. */
		ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_STREAMON, &type));
		self->streaming = true;
		usleep(500 * 1000);
	}
	for (i = 0; i < NBUFS; i++) {
		ASSERT_EQ(0, zc_sync(self->zfd, self->first + i,
				     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
				     self->size));
		ASSERT_EQ(-1, zc_check(self->map[i], self->size, 40 + i))
			TH_LOG("buffer %d written through a read-only export", i);
	}
	for (i = 0; i < NBUFS; i++) {
		ASSERT_NE(0, ret[i]) TH_LOG("QBUF of a read-only export accepted");
		TH_LOG("QBUF %d: %s", i, strerror(-ret[i]));
		close(ro[i]);
	}
}

/*
 * Stream NFRAMES frames of vivid into the zcbuf buffers and check each one
 * through zcbuf's own mapping after ZCBUF_IOC_SYNC.
 */
TEST_F(vivid, capture_into_zcbuf)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	uint32_t sizeimage = self->fmt.fmt.pix.sizeimage;
	uint32_t last_seq = 0;
	int i, n, clobber_logged = 0;
	char attached[64];

	setup_buffers(_metadata, self, variant->alloc_flags);
	n = reqbufs(self->vfd, NBUFS);
	ASSERT_EQ(NBUFS, n);
	self->reqbufs = true;
	QUEUE_ALL_OR_SKIP(self, variant);
	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_STREAMON, &type));
	self->streaming = true;

	/*
	 * NOTES: vb2-vmalloc only vmaps, it never attaches; vb2-dma-contig
	 * attaches vivid's device (and maps it at QBUF).
	 */
	i = dmabuf_attachments(self->dmabuf[0], attached, sizeof(attached));
	if (i < 0) {
		TH_LOG("no /sys/kernel/debug/dma_buf/bufinfo entry: attachments not checked");
	} else if (variant->allocator == 1) {
		ASSERT_TRUE(i == 1 && strstr(attached, "vivid"))
			TH_LOG("%d devices attached, first \"%s\"", i, attached);
	} else {
		ASSERT_EQ(0, i) TH_LOG("vb2-vmalloc attached \"%s\"", attached);
	}

	for (n = 0; n < NFRAMES; n++) {
		struct v4l2_buffer b;
		const char *why;
		size_t where;
		uint8_t *p;

		ASSERT_EQ(0, dqbuf(self->vfd, &b)) TH_LOG("frame %d", n);
		ASSERT_LT(b.index, NBUFS);
		ASSERT_EQ(0, b.flags & V4L2_BUF_FLAG_ERROR);
		ASSERT_EQ(sizeimage, b.bytesused);
		ASSERT_EQ(self->dmabuf[b.index], b.m.fd);
		if (n)
			ASSERT_LT(last_seq, b.sequence);
		last_seq = b.sequence;

		/*
		 * vivid's "hardware" is its CPU: it writes through the
		 * exporter's vmap, so the frame is in the pages already.
		 */
		p = self->map[b.index];
		why = check_frame(p, b.bytesused, self->size, 8, &where);
		ASSERT_EQ(NULL, why)
			TH_LOG("frame %d (buffer %u, seq %u) before SYNC: %s at/count %zu; bytes: %02x %02x %02x %02x",
			       n, b.index, b.sequence, why, where, p[0], p[1],
			       p[2], p[3]);

		/* The bracket of the uapi: START before reading, END after. */
		ASSERT_EQ(0, zc_sync(self->zfd, self->first + b.index,
				     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
				     self->size));
		why = check_frame(p, b.bytesused, self->size, 8, &where);
		if (why && variant->allocator == 1 && bouncing()) {
			/*
			 * vb2-dma-contig keeps a streaming DMA mapping
			 * (DMA_FROM_DEVICE) of the buffer, but vivid writes
			 * the frame with the CPU and never brackets it with
			 * dma_buf_{begin,end}_cpu_access.  Under swiotlb the
			 * device's view is the bounce buffer, still what the
			 * pages held at map time, and the for-CPU sync that
			 * the DMA API requires copies it over vivid's frame.
			 */
			if (!clobber_logged++)
				TH_LOG("swiotlb=force: SYNC_START replaced vivid's CPU-written frame with the stale bounce buffer (%s): vb2-dma-contig/vivid do not bracket CPU writes to an imported DMA-buf; frames were checked before the sync",
				       why);
			why = NULL;
		}
		ASSERT_EQ(NULL, why)
			TH_LOG("frame %d (buffer %u, seq %u) after SYNC: %s at/count %zu; bytes: %02x %02x %02x %02x",
			       n, b.index, b.sequence, why, where, p[0], p[1],
			       p[2], p[3]);
		/*
		 * Wipe it, so that the next frame in this buffer must be
		 * written again by vivid, then give it back.
		 */
		memset(p, 0, b.bytesused);
		ASSERT_EQ(0, zc_sync(self->zfd, self->first + b.index,
				     ZCBUF_SYNC_END | ZCBUF_SYNC_RW, 0,
				     self->size));
		ASSERT_EQ(0, qbuf(self->vfd, b.index, self->dmabuf[b.index],
				  self->size));
	}
	TH_LOG("%d frames of %u bytes from %s checked through /dev/zcbuf",
	       NFRAMES, sizeimage, self->node);
}

/* The same frame is visible through the exported DMA-buf's own mmap. */
TEST_F(vivid, dmabuf_mmap_agrees)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct dma_buf_sync s;
	struct v4l2_buffer b;
	uint8_t *view;

	setup_buffers(_metadata, self, variant->alloc_flags);
	ASSERT_EQ(NBUFS, reqbufs(self->vfd, NBUFS));
	self->reqbufs = true;
	QUEUE_ALL_OR_SKIP(self, variant);
	ASSERT_EQ(0, ioctl(self->vfd, VIDIOC_STREAMON, &type));
	self->streaming = true;

	ASSERT_EQ(0, dqbuf(self->vfd, &b));
	ASSERT_LT(b.index, NBUFS);
	view = mmap(NULL, self->size, PROT_READ, MAP_SHARED,
		    self->dmabuf[b.index], 0);
	ASSERT_NE(MAP_FAILED, view);
	/* Two mappings of the same pages: the same bytes, vivid's frame. */
	ASSERT_EQ(0, memcmp(view, self->map[b.index], self->size));
	ASSERT_NE(0, view[0]);
	s.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(self->dmabuf[b.index], DMA_BUF_IOCTL_SYNC, &s));
	ASSERT_EQ(0, zc_sync(self->zfd, self->first + b.index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0, self->size));
	ASSERT_EQ(0, memcmp(view, self->map[b.index], self->size));
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(self->dmabuf[b.index], DMA_BUF_IOCTL_SYNC, &s));
	munmap(view, self->size);
}

/*
 * NOTES: vb2-dma-contig refuses a DMA-buf that is not contiguous in its
 * device's address space ("contiguous chunk is too small", QBUF EFAULT).
 * Checked with a scatter-gather buffer whose pages pagemap shows are really
 * scattered (the page allocator often hands out neighbours: several tries).
 */
TEST(dma_contig_refuses_scattered)
{
	struct v4l2_format fmt;
	char node[96], err[128] = "";
	const char *skip;
	int zfd, vfd, dmabuf, i, contig = 1, ret;
	uint32_t index = 0;
	size_t size = 0;
	void *map[NBUFS] = { NULL };

	zfd = zc_open();
	if (zfd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, zfd);
	skip = load_vivid(err, sizeof(err));
	ASSERT_NE(NULL, skip) TH_LOG("%s", err);
	if (*skip)
		SKIP(return, "%s", skip);
	vfd = open_vivid(1, node, sizeof(node));
	ASSERT_LE(0, vfd) TH_LOG("no vivid node with the dma-contig allocator");
	set_format(_metadata, vfd, 320, 240, &fmt);

	for (i = 0; i < NBUFS && contig; i++) {
		ASSERT_EQ(0, zc_alloc(zfd, fmt.fmt.pix.sizeimage, 1, 0, &index));
		map[i] = zc_map_buffer(zfd, index, &size);
		ASSERT_NE(NULL, map[i]);
		contig = phys_contiguous(map[i], size);
		ASSERT_LE(0, contig) TH_LOG("/proc/self/pagemap unusable");
	}
	ASSERT_EQ(0, contig)
		TH_LOG("%d scatter-gather buffers in a row were physically contiguous",
		       NBUFS);

	dmabuf = zc_export(zfd, index, ZCBUF_EXPORT_RDWR);
	ASSERT_LE(0, dmabuf);
	ASSERT_LE(1, reqbufs(vfd, 1));
	ret = qbuf(vfd, 0, dmabuf, size);
	if (bouncing() && !ret) {
		/*
		 * Contiguity is of DMA addresses: under swiotlb=force the
		 * segments bounce into slots that may well be consecutive.
		 */
		TH_LOG("swiotlb=force: the scattered buffer's bounce slots were contiguous: accepted");
		ret = -EFAULT;
	}
	ASSERT_EQ(-EFAULT, ret);
	ASSERT_LE(0, reqbufs(vfd, 0));
	close(dmabuf);
	for (i = 0; i < NBUFS; i++)
		if (map[i])
			munmap(map[i], size);
	close(vfd);
	close(zfd);
}

TEST_HARNESS_MAIN
