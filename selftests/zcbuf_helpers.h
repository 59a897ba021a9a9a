/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw-ioctl helpers shared by the zcbuf_*.c kselftests.
 *
 * Every helper returns 0 (or a value) on success and -errno on failure, so a
 * test reads ASSERT_EQ(-EINVAL, zc_free(fd, 99)).  No libzcbuf on purpose:
 * these tests check the ABI itself, byte for byte.
 */
#ifndef ZCBUF_HELPERS_H
#define ZCBUF_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <linux/dma-buf.h>
#include <linux/io_uring.h>
#include <linux/sync_file.h>
#include <linux/zcbuf.h>

#define ZCBUF_DEV	"/dev/zcbuf"

/* The same command with another argument size (struct-size extensibility). */
#define ZC_IOC_RESIZE(cmd, size) \
	_IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), (size))

static inline int zc_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* fd, or -errno (-ENOENT when the module is not loaded). */
static inline int zc_open(void)
{
	int fd = open(ZCBUF_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int zc_info(int fd, struct zcbuf_info *info)
{
	memset(info, 0, sizeof(*info));
	return zc_ioctl(fd, ZCBUF_IOC_INFO, info);
}

static inline int zc_alloc(int fd, uint64_t size, uint32_t count,
			   uint32_t flags, uint32_t *first)
{
	struct zcbuf_alloc req = { .size = size, .count = count, .flags = flags };
	int ret = zc_ioctl(fd, ZCBUF_IOC_ALLOC, &req);

	if (!ret && first)
		*first = req.first_index;
	return ret;
}

static inline int zc_free(int fd, uint32_t index)
{
	struct zcbuf_free req = { .index = index };

	return zc_ioctl(fd, ZCBUF_IOC_FREE, &req);
}

static inline int zc_query(int fd, uint32_t index, struct zcbuf_query *q)
{
	memset(q, 0, sizeof(*q));
	q->index = index;
	return zc_ioctl(fd, ZCBUF_IOC_QUERY, q);
}

/* The new DMA-buf fd, or -errno. */
static inline int zc_export(int fd, uint32_t index, uint32_t flags)
{
	struct zcbuf_export req = { .index = index, .flags = flags, .fd = -1 };
	int ret = zc_ioctl(fd, ZCBUF_IOC_EXPORT, &req);

	return ret ? ret : req.fd;
}

static inline int zc_import(int fd, int dmabuf_fd, uint32_t *index,
			    uint64_t *size)
{
	struct zcbuf_import req = { .fd = dmabuf_fd };
	int ret = zc_ioctl(fd, ZCBUF_IOC_IMPORT, &req);

	if (!ret && index)
		*index = req.index;
	if (!ret && size)
		*size = req.size;
	return ret;
}

static inline int zc_sync(int fd, uint32_t index, uint32_t flags,
			  uint64_t offset, uint64_t length)
{
	struct zcbuf_sync req = {
		.index = index, .flags = flags, .offset = offset, .length = length,
	};

	return zc_ioctl(fd, ZCBUF_IOC_SYNC, &req);
}

/* ZCBUF_IOC_DEVICE_INFO: the device with the smallest id >= @id. */
static inline int zc_device_info(int fd, uint32_t id,
				 struct zcbuf_device_desc *desc)
{
	memset(desc, 0, sizeof(*desc));
	desc->id = id;
	return zc_ioctl(fd, ZCBUF_IOC_DEVICE_INFO, desc);
}

/* The id of the device called @name, or -errno (-ENODEV: none). */
static inline int zc_device_find(int fd, const char *name)
{
	struct zcbuf_device_desc d;
	uint32_t id = 0;
	int ret;

	while (!(ret = zc_device_info(fd, id, &d))) {
		if (!strcmp(d.name, name))
			return (int)d.id;
		id = d.id + 1;
	}
	return ret;
}

/* ---- the device under test ---- */

/*
 * The streaming, ring, coherency and lifetime suites run on the default
 * device (the simulator) unless $ZCBUF_TEST_DEVICE names another registered
 * device, e.g. "edu0" (run_guest.sh sets it for a program given as
 * PROGRAM@DEVICE).  Then every CONFIG that leaves zcbuf_config.device at 0
 * goes to that device (zs_config() asks zc_test_device_id()), and the tests
 * stream the small frames and few of them that struct zc_test_dev gives:
 * a named device is hardware behind a driver, and QEMU's edu moves one
 * 4 KiB chunk per 100 ms of virtual time.  The suites' larger frames and
 * longer streams keep running on the simulator.
 */
#define ZC_TEST_DEVICE_ENV	"ZCBUF_TEST_DEVICE"
/*
 * A named device's camera frame: the frame number the test pattern draws
 * (35x9 pixels at scale 1) fits, and 48x16 is 2304 bytes in RGB24: one DMA
 * chunk of a 4 KiB engine.
 */
#define ZC_TEST_SMALL_WIDTH	48
#define ZC_TEST_SMALL_HEIGHT	16
/* Frames one test streams at most on a named device. */
#define ZC_TEST_SMALL_FRAMES	4

/**
 * struct zc_test_dev - the device the generic suites test
 * @name: $ZCBUF_TEST_DEVICE, or NULL for the default device
 * @id: its id for zcbuf_config.device (0: the default device)
 * @desc: its description (ZCBUF_IOC_DEVICE_INFO; zero for the default)
 * @width: camera: the frame width a test streams when it has no reason
 *	   to want another (0: the test's own)
 * @height: see @width
 * @max_frames: most frames one test streams (0: no cap)
 * @max_fps: camera: the highest frame rate it takes (0: the test's own)
 */
struct zc_test_dev {
	const char *name;
	uint32_t id;
	struct zcbuf_device_desc desc;
	uint32_t width;
	uint32_t height;
	uint32_t max_frames;
	uint32_t max_fps;
};

/* $ZCBUF_TEST_DEVICE, or NULL. */
static inline const char *zc_test_device_name(void)
{
	const char *name = getenv(ZC_TEST_DEVICE_ENV);

	return name && *name ? name : NULL;
}

/*
 * The id CONFIG should name: 0 (the default device) when no device is
 * named, else the named device's id (looked up each time: a device that
 * was removed and came back has a new one), or -ENODEV.
 */
static inline int zc_test_device_id(int fd)
{
	const char *name = zc_test_device_name();

	return name ? zc_device_find(fd, name) : 0;
}

/*
 * The highest of a few frame rates that camera @id takes for a @w x @h
 * frame (CONFIG on a context of its own), or 0 if it takes none of them.
 */
static inline uint32_t zc_test_max_fps(uint32_t id, uint32_t w, uint32_t h)
{
	static const uint32_t rates[] = { 1000, 500, 200, 100, 60, 30, 10, 5, 1 };
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_CAMERA, .width = w, .height = h,
		.pixelformat = ZCBUF_FMT_RGB24, .device = id,
	};
	uint32_t fps = 0;
	size_t i;
	int fd = zc_open();

	if (fd < 0)
		return 0;
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]) && !fps; i++) {
		cfg.fps = rates[i];
		cfg.frame_size = 0;
		if (!zc_ioctl(fd, ZCBUF_IOC_CONFIG, &cfg))
			fps = rates[i];
	}
	close(fd);
	return fps;
}

/* Describe the device under test into @td: 0, or -errno (-ENODEV). */
static inline int zc_test_device(int fd, struct zc_test_dev *td)
{
	int ret;

	memset(td, 0, sizeof(*td));
	td->name = zc_test_device_name();
	if (!td->name)
		return 0;
	ret = zc_device_find(fd, td->name);
	if (ret < 0)
		return ret;
	td->id = (uint32_t)ret;
	ret = zc_device_info(fd, td->id, &td->desc);
	if (ret)
		return ret;
	td->width = ZC_TEST_SMALL_WIDTH > td->desc.min_width ?
		    ZC_TEST_SMALL_WIDTH : td->desc.min_width;
	td->height = ZC_TEST_SMALL_HEIGHT > td->desc.min_height ?
		     ZC_TEST_SMALL_HEIGHT : td->desc.min_height;
	td->max_frames = ZC_TEST_SMALL_FRAMES;
	if (td->desc.kinds & ZCBUF_KIND_CAMERA)
		td->max_fps = zc_test_max_fps(td->id, td->width, td->height);
	return 0;
}

/* @want frames, or fewer if the device under test caps them. */
static inline uint32_t zc_test_frames(const struct zc_test_dev *td,
				      uint32_t want)
{
	if (td->max_frames && want > td->max_frames)
		return td->max_frames;
	return want;
}

/* @fps, or the device's highest frame rate if that is lower. */
static inline uint32_t zc_test_fps(const struct zc_test_dev *td, uint32_t fps)
{
	return td->max_fps && fps > td->max_fps ? td->max_fps : fps;
}

/* The camera frame a test streams: its own @w x @h, or the device's. */
static inline void zc_test_frame(const struct zc_test_dev *td, uint32_t *w,
				 uint32_t *h)
{
	if (td->width && td->height) {
		*w = td->width;
		*h = td->height;
	}
}

/* Whether the device under test has all of @kinds (ZCBUF_KIND_*). */
static inline bool zc_test_device_has(const struct zc_test_dev *td,
				      uint32_t kinds)
{
	return !td->name || (td->desc.kinds & kinds) == kinds;
}

/* ---- zcbuf's device drivers, as modules ---- */

/*
 * The runner loads the device drivers after zcbuf.ko and names their .ko
 * files in $ZCBUF_DRIVERS (space separated), so that tests which take a
 * device away (rmmod) can bring it back.
 */
static inline const char *zc_drivers(void)
{
	const char *d = getenv("ZCBUF_DRIVERS");

	return d && *d ? d : NULL;
}

/* The .ko of driver @name (e.g. "zcbuf_sim") from $ZCBUF_DRIVERS, or NULL. */
static inline bool zc_driver_path(const char *name, char *path, size_t len)
{
	const char *d = zc_drivers();
	char ko[128];
	size_t n;

	snprintf(ko, sizeof(ko), "%s.ko", name);
	n = strlen(ko);
	while (d && *d) {
		const char *end = strchr(d, ' ');
		size_t l = end ? (size_t)(end - d) : strlen(d);

		if (l >= n && l < len && !strncmp(d + l - n, ko, n) &&
		    (l == n || d[l - n - 1] == '/')) {
			memcpy(path, d, l);
			path[l] = 0;
			return true;
		}
		d = end ? end + 1 : NULL;
	}
	return false;
}

/* delete_module(): 0 or -errno (EWOULDBLOCK while in use). */
static inline int zc_module_unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* finit_module() of driver @name with @params: 0 or -errno. */
static inline int zc_module_load(const char *name, const char *params)
{
	char path[256];
	int fd, ret;

	if (!zc_driver_path(name, path, sizeof(path)))
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params ? params : "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Whether module @name is loaded. */
static inline bool zc_module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return !access(path, F_OK);
}

/* mmap() returning the address, or NULL with errno set. */
static inline void *zc_mmap(int fd, size_t len, int prot, int flags,
			    uint64_t offset)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)offset);

	return p == MAP_FAILED ? NULL : p;
}

/* -errno of a mmap() that is expected to fail, 0 if it succeeded. */
static inline int zc_mmap_err(int fd, size_t len, int prot, int flags,
			      uint64_t offset)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)offset);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

/* Map a buffer of the context whole (shared, read-write). */
static inline void *zc_map_buffer(int fd, uint32_t index, size_t *size)
{
	struct zcbuf_query q;

	if (zc_query(fd, index, &q))
		return NULL;
	if (size)
		*size = q.size;
	return zc_mmap(fd, q.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       q.offset);
}

/*
 * ALLOC @count buffers of @size (ZCBUF_ALLOC_* @flags) and map each whole:
 * the first index in *first, the mappings in @map[0..@count), their size
 * (the same for all) in *map_size.  0 or -errno; on failure nothing stays
 * mapped (@map all NULL) and what was allocated stays with the context.
 */
static inline int zc_alloc_map(int fd, uint64_t size, uint32_t count,
			       uint32_t flags, uint32_t *first, uint8_t **map,
			       size_t *map_size)
{
	uint32_t i;
	int ret;

	for (i = 0; i < count; i++)
		map[i] = NULL;
	ret = zc_alloc(fd, size, count, flags, first);
	if (ret)
		return ret;
	for (i = 0; i < count; i++) {
		map[i] = zc_map_buffer(fd, *first + i, map_size);
		if (!map[i]) {
			ret = -errno;
			while (i--) {
				munmap(map[i], *map_size);
				map[i] = NULL;
			}
			return ret;
		}
	}
	return 0;
}

/*
 * A read-only copy of an ioctl argument (@len <= one page): the kernel can
 * read it but writing the result back fails with EFAULT.  Free with
 * zc_ro_free().  NULL with errno set on failure.
 */
static inline void *zc_ro_copy(const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	if (len > page) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, page, PROT_READ)) {
		munmap(p, page);
		return NULL;
	}
	return p;
}

static inline void zc_ro_free(void *p)
{
	if (p)
		munmap(p, (size_t)sysconf(_SC_PAGESIZE));
}

/* A sync_file of the fences a DMA-buf's reader (or writer) waits for. */
static inline int zc_export_sync_file(int dmabuf, uint32_t flags)
{
	struct dma_buf_export_sync_file req = { .flags = flags, .fd = -1 };

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &req))
		return -errno;
	return req.fd;
}

/*
 * SYNC_IOC_FILE_INFO: the sync_file's status (1 signalled, 0 active,
 * <0 error) in *status and its first fence's info in *fi.  Return the
 * number of fences, or -errno.
 */
static inline int zc_sync_file_info(int sf, struct sync_fence_info *fi,
				    int *status)
{
	struct sync_file_info info;
	int ret;

	*status = 0;
	memset(&info, 0, sizeof(info));
	memset(fi, 0, sizeof(*fi));
	if (ioctl(sf, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	ret = info.num_fences;
	if (ret) {
		struct sync_fence_info *all = calloc(ret, sizeof(*all));

		if (!all)
			return -ENOMEM;
		memset(&info, 0, sizeof(info));
		info.num_fences = ret;
		info.sync_fence_info = (uintptr_t)all;
		if (ioctl(sf, SYNC_IOC_FILE_INFO, &info)) {
			ret = -errno;
			free(all);
			return ret;
		}
		*fi = all[0];
		free(all);
	}
	*status = info.status;
	return ret;
}

/*
 * Pin [addr, addr + len) as an io_uring fixed buffer (FOLL_LONGTERM): the
 * ring's fd, which holds the pin until zc_uring_unpin(), or -errno.
 */
static inline int zc_uring_pin(void *addr, size_t len)
{
	struct io_uring_params p;
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	int ring, ret;

	memset(&p, 0, sizeof(p));
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		return -errno;
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	if (ret) {
		ret = -errno;
		close(ring);
		return ret;
	}
	return ring;
}

/* Unpin now (closing the ring alone unpins later, from a worker). */
static inline int zc_uring_unpin(int ring)
{
	int ret = syscall(__NR_io_uring_register, ring,
			  IORING_UNREGISTER_BUFFERS, NULL, 0);

	ret = ret ? -errno : 0;
	close(ring);
	return ret;
}

/* A byte pattern that differs per seed and per position. */
static inline uint8_t zc_pattern_byte(uint32_t seed, size_t i)
{
	uint32_t x = (uint32_t)(i / 4) * 2654435761u + seed * 40503u + 1;

	return (uint8_t)(x >> (8 * (i % 4)));
}

static inline void zc_fill(void *p, size_t len, uint32_t seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = zc_pattern_byte(seed, i);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static inline long zc_check(const void *p, size_t len, uint32_t seed)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != zc_pattern_byte(seed, i))
			return (long)i;
	return -1;
}

/* Offset of the first non-zero byte, or -1. */
static inline long zc_check_zero(const void *p, size_t len)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			break;
	for (i *= 8; i < len; i++)
		if (((const uint8_t *)p)[i])
			return (long)i;
	return -1;
}

/*
 * The kernel log.  A test that makes the kernel log a fault on purpose
 * brackets it with these two lines: run_guest.sh then accepts IOMMU fault
 * lines between them, and only there.
 */
#define ZC_KMSG_FAULT_BEGIN	"zcbuf-selftest: iommu fault expected"
#define ZC_KMSG_FAULT_END	"zcbuf-selftest: iommu fault expected: end"

/* Write one line to the kernel log: 0 or -errno. */
static inline int zc_kmsg_write(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* A reader of the kernel log from now on (non-blocking), or -errno. */
static inline int zc_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * The text of the next record of @fd in @buf: 1, 0 if there is none yet,
 * or -errno.  Records overwritten meanwhile (EPIPE) are skipped.
 */
static inline int zc_kmsg_next(int fd, char *buf, size_t len)
{
	char *text;
	ssize_t n;

	do {
		n = read(fd, buf, len - 1);
	} while (n < 0 && errno == EPIPE);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	buf[n] = 0;
	/* "prio,seq,usec,flags;text\n[ KEY=value\n]..." */
	text = strchr(buf, ';');
	text = text ? text + 1 : buf;
	memmove(buf, text, strlen(text) + 1);
	buf[strcspn(buf, "\n")] = 0;
	return 1;
}

#endif /* ZCBUF_HELPERS_H */
