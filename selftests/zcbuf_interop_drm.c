// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_interop_drm: zcbuf DMA-bufs and DRM PRIME, against vgem (the
 * kernel's virtual GEM driver, a module of both Debian kernels; the test
 * loads it itself).
 *
 *  - zcbuf -> DRM: a zcbuf export imported into vgem with
 *    DRM_IOCTL_PRIME_FD_TO_HANDLE (vgem attaches and maps it) and exported
 *    back with DRM_IOCTL_PRIME_HANDLE_TO_FD: the same DMA-buf comes back,
 *    and data written on either side, inside the sync brackets, is seen on
 *    the other.  vgem's own mmap of the imported object
 *    (DRM_IOCTL_MODE_MAP_DUMB) is tried too.
 *  - DRM -> zcbuf: a vgem dumb buffer exported with PRIME, imported into
 *    zcbuf and filled by the simulated camera, read back through vgem's own
 *    mapping.
 *
 * Raw ioctls: the few DRM structures needed are defined here, since the
 * build host may have no <drm/drm.h>.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
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
#include <linux/types.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

/* From include/uapi/drm/drm.h and drm_mode.h (stable ABI). */
struct zi_drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct zi_drm_gem_close {
	__u32 handle;
	__u32 pad;
};

struct zi_drm_prime_handle {
	__u32 handle;
	__u32 flags;		/* DRM_CLOEXEC | DRM_RDWR: O_CLOEXEC | O_RDWR */
	__s32 fd;
};

struct zi_drm_mode_create_dumb {
	__u32 height;
	__u32 width;
	__u32 bpp;
	__u32 flags;
	__u32 handle;
	__u32 pitch;
	__u64 size;
};

struct zi_drm_mode_map_dumb {
	__u32 handle;
	__u32 pad;
	__u64 offset;
};

/* vgem's fences (include/uapi/drm/vgem_drm.h) */
struct zi_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
	__u32 out_fence;
	__u32 pad;
};

struct zi_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define ZI_VGEM_FENCE_WRITE		0x1

#define ZI_DRM_IOCTL_VERSION		_IOWR('d', 0x00, struct zi_drm_version)
#define ZI_DRM_IOCTL_VGEM_FENCE_ATTACH	_IOWR('d', 0x41, struct zi_vgem_fence_attach)
#define ZI_DRM_IOCTL_VGEM_FENCE_SIGNAL	_IOW('d', 0x42, struct zi_vgem_fence_signal)
#define ZI_DRM_IOCTL_GEM_CLOSE		_IOW('d', 0x09, struct zi_drm_gem_close)
#define ZI_DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct zi_drm_prime_handle)
#define ZI_DRM_IOCTL_PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct zi_drm_prime_handle)
#define ZI_DRM_IOCTL_MODE_CREATE_DUMB	_IOWR('d', 0xb2, struct zi_drm_mode_create_dumb)
#define ZI_DRM_IOCTL_MODE_MAP_DUMB	_IOWR('d', 0xb3, struct zi_drm_mode_map_dumb)

#define BUF_SIZE	(256 * 1024)
#define WIDTH		320
#define HEIGHT		240
#define FMT		ZCBUF_FMT_RGB24

static int drm_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return drm_ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
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

/* "" when vgem is loaded, a reason to skip, or NULL when loading failed. */
static const char *load_vgem(void)
{
	struct utsname u;
	char cmd[512];

	if (!access("/sys/module/vgem", F_OK))
		return "";
	if (uname(&u))
		return NULL;
	snprintf(cmd, sizeof(cmd),
		 "find /lib/modules/%s -name 'vgem.ko*' 2>/dev/null | grep -q .",
		 u.release);
	if (system(cmd))
		return "vgem.ko not installed for this kernel (CONFIG_DRM_VGEM=m)";
	if (system("modprobe vgem") || access("/sys/module/vgem", F_OK))
		return NULL;
	return "";
}

/* The DRM primary node of vgem: its fd, or -ENODEV. */
static int open_vgem(char *path, size_t len)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct zi_drm_version v = { 0 };
		char name[32] = "";
		int fd;

		snprintf(path, len, "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!drm_ioctl(fd, ZI_DRM_IOCTL_VERSION, &v) &&
		    !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -ENODEV;
}

static int prime_fd_to_handle(int card, int fd, uint32_t *handle)
{
	struct zi_drm_prime_handle p = { .fd = fd };
	int ret = drm_ioctl(card, ZI_DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);

	*handle = p.handle;
	return ret;
}

static int prime_handle_to_fd(int card, uint32_t handle)
{
	struct zi_drm_prime_handle p = {
		.handle = handle, .flags = O_CLOEXEC | O_RDWR, .fd = -1,
	};
	int ret = drm_ioctl(card, ZI_DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	return ret ? ret : p.fd;
}

static int gem_close(int card, uint32_t handle)
{
	struct zi_drm_gem_close c = { .handle = handle };

	return drm_ioctl(card, ZI_DRM_IOCTL_GEM_CLOSE, &c);
}

/* mmap of a GEM object through the DRM node; NULL with *err set. */
static void *map_dumb(int card, uint32_t handle, size_t len, int *err)
{
	struct zi_drm_mode_map_dumb m = { .handle = handle };
	void *p;

	*err = drm_ioctl(card, ZI_DRM_IOCTL_MODE_MAP_DUMB, &m);
	if (*err)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, card,
		 (off_t)m.offset);
	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return p;
}

FIXTURE(vgem)
{
	int fd;			/* /dev/zcbuf */
	int card;		/* vgem */
	char path[32];
};

FIXTURE_SETUP(vgem)
{
	const char *skip;

	self->fd = self->card = -1;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	skip = load_vgem();
	ASSERT_NE(NULL, skip) TH_LOG("modprobe vgem failed");
	if (*skip)
		SKIP(return, "%s", skip);
	self->card = open_vgem(self->path, sizeof(self->path));
	ASSERT_LE(0, self->card) TH_LOG("no /dev/dri/card* of driver vgem");
}

FIXTURE_TEARDOWN(vgem)
{
	if (self->card >= 0)
		close(self->card);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * zcbuf -> vgem -> back: the same DMA-buf, the same memory, both ways.
 */
static void round_trip(struct __test_metadata *_metadata,
		       FIXTURE_DATA(vgem) *self, uint32_t alloc_flags)
{
	struct stat st1, st2;
	uint32_t index, h, h2;
	size_t size;
	uint8_t *zmap, *view, *gmap;
	int dfd, fd2, err;

	ASSERT_EQ(0, zc_alloc(self->fd, BUF_SIZE, 1, alloc_flags, &index));
	zmap = zc_map_buffer(self->fd, index, &size);
	ASSERT_NE(NULL, zmap);
	dfd = zc_export(self->fd, index, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);

	/* vgem imports it: attaches its device and maps it. */
	ASSERT_EQ(0, prime_fd_to_handle(self->card, dfd, &h));
	ASSERT_NE(0, h);
	ASSERT_EQ(0, prime_fd_to_handle(self->card, dfd, &h2));
	ASSERT_EQ(h, h2);	/* PRIME's import cache: one GEM object */

	/* Written through zcbuf inside the bracket... */
	ASSERT_EQ(0, zc_sync(self->fd, index, ZCBUF_SYNC_START | ZCBUF_SYNC_WRITE,
			     0, size));
	zc_fill(zmap, size, 7);
	ASSERT_EQ(0, zc_sync(self->fd, index, ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE,
			     0, size));

	/* ...exported back out of vgem: the very same DMA-buf. */
	fd2 = prime_handle_to_fd(self->card, h);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, fstat(dfd, &st1));
	ASSERT_EQ(0, fstat(fd2, &st2));
	ASSERT_EQ(st1.st_ino, st2.st_ino);
	view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, view);
	ASSERT_EQ(0, dmabuf_sync(fd2, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	ASSERT_EQ(-1, zc_check(view, size, 7));

	/* Written through the re-exported fd, read through /dev/zcbuf. */
	zc_fill(view, size, 9);
	ASSERT_EQ(0, dmabuf_sync(fd2, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	ASSERT_EQ(0, zc_sync(self->fd, index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ,
			     0, size));
	ASSERT_EQ(-1, zc_check(zmap, size, 9));
	ASSERT_EQ(0, zc_sync(self->fd, index, ZCBUF_SYNC_END | ZCBUF_SYNC_READ,
			     0, size));

	/* vgem's own mapping of the imported object, where allowed. */
	gmap = map_dumb(self->card, h, size, &err);
	if (gmap) {
		ASSERT_EQ(0, dmabuf_sync(fd2, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		ASSERT_EQ(-1, zc_check(gmap, size, 9));
		ASSERT_EQ(0, dmabuf_sync(fd2, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		munmap(gmap, size);
	} else {
		/* drm_gem_dumb_map_offset(): "Don't allow imported objects". */
		ASSERT_EQ(-EINVAL, err);
		TH_LOG("vgem refuses MODE_MAP_DUMB of an imported object (EINVAL): checked through the re-exported fd");
	}

	/* vgem lets go; the buffer and both fds carry on. */
	ASSERT_EQ(0, gem_close(self->card, h));
	munmap(view, size);
	close(fd2);
	close(dfd);
	ASSERT_EQ(0, zc_sync(self->fd, index, ZCBUF_SYNC_START | ZCBUF_SYNC_READ,
			     0, size));
	ASSERT_EQ(-1, zc_check(zmap, size, 9));
	munmap(zmap, size);
	ASSERT_EQ(0, zc_free(self->fd, index));
}

TEST_F(vgem, zcbuf_prime_round_trip_sg)
{
	round_trip(_metadata, self, 0);
}

TEST_F(vgem, zcbuf_prime_round_trip_contig)
{
	round_trip(_metadata, self, ZCBUF_ALLOC_CONTIG);
}

/*
 * A read-only zcbuf export stays read-only for vgem: DRM PRIME maps an
 * import DMA_BIDIRECTIONAL (the device could write), so the import is
 * refused with EACCES (it used to succeed).  A read-write export imports.
 *
 * Newer kernels' shmem helpers (vgem's) import without mapping at all
 * (drm_gem_shmem_prime_import_no_map(), 7.3 here): the import then
 * succeeds, vgem holds an attachment it never maps, and nothing of vgem
 * can write through it (MODE_MAP_DUMB refuses imported objects).  The
 * refusal itself is at map time, which vivid's readonly_export_never_written
 * exercises on every kernel.
 */
TEST_F(vgem, readonly_export)
{
	uint32_t index, h;
	int dfd, fd2, flags, ret;

	ASSERT_EQ(0, zc_alloc(self->fd, BUF_SIZE, 1, 0, &index));
	dfd = zc_export(self->fd, index, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	flags = fcntl(dfd, F_GETFL);
	ASSERT_EQ(O_RDONLY, flags & O_ACCMODE);
	ret = prime_fd_to_handle(self->card, dfd, &h);
	if (ret == 0) {
		struct zi_drm_mode_map_dumb m = { .handle = h };

		TH_LOG("vgem imported the read-only export without mapping it");
		ASSERT_EQ(-EINVAL, drm_ioctl(self->card,
					     ZI_DRM_IOCTL_MODE_MAP_DUMB, &m));
		ASSERT_EQ(0, gem_close(self->card, h));
	} else {
		ASSERT_EQ(-EACCES, ret);
	}
	close(dfd);

	dfd = zc_export(self->fd, index, ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, prime_fd_to_handle(self->card, dfd, &h));
	fd2 = prime_handle_to_fd(self->card, h);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gem_close(self->card, h));
	close(fd2);
	close(dfd);
}

/*
 * DRM -> zcbuf: a vgem dumb buffer, exported with PRIME, imported into
 * zcbuf, filled by the simulated camera and read back through vgem's own
 * mapping.  DRM PRIME maps with DMA_ATTR_SKIP_CPU_SYNC and has no
 * begin_cpu_access: under swiotlb=force the frame reaches vgem's pages only
 * if zcbuf, the importer, syncs its own mapping for the CPU.
 */
TEST_F(vgem, vgem_buffer_filled_by_camera)
{
	struct zi_drm_mode_create_dumb c = {
		.width = WIDTH * 3, .height = HEIGHT, .bpp = 8,
	};
	struct zcbuf_dqbuf d;
	uint32_t frame_size, index;
	uint64_t isize;
	uint8_t *gmap;
	int dfd, err;

	ASSERT_EQ(0, zs_config_camera(self->fd, WIDTH, HEIGHT, FMT, 0, 0,
				      &frame_size));
	ASSERT_EQ(0, drm_ioctl(self->card, ZI_DRM_IOCTL_MODE_CREATE_DUMB, &c));
	ASSERT_LE(frame_size, c.size);
	gmap = map_dumb(self->card, c.handle, c.size, &err);
	ASSERT_NE(NULL, gmap) TH_LOG("MODE_MAP_DUMB of vgem's own object: %d", err);
	memset(gmap, 0x5a, c.size);

	dfd = prime_handle_to_fd(self->card, c.handle);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, zc_import(self->fd, dfd, &index, &isize));
	ASSERT_EQ(c.size, isize);

	ASSERT_EQ(0, zs_qbuf(self->fd, index, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(index, d.index);
	ASSERT_EQ(0, d.flags);
	ASSERT_EQ(frame_size, d.bytesused);
	ASSERT_EQ(0, dmabuf_sync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	ASSERT_EQ(d.checksum, zs_crc32(gmap, d.bytesused))
		TH_LOG("%sframe not in vgem's pages after DMA_BUF_IOCTL_SYNC",
		       bouncing() ? "swiotlb=force: zcbuf did not sync its own mapping of the import: " : "");
	ASSERT_EQ((long long)d.sequence,
		  zs_read_number(gmap, WIDTH, HEIGHT, FMT));
	ASSERT_EQ(0x5a, gmap[d.bytesused]);
	ASSERT_EQ(0, dmabuf_sync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));

	munmap(gmap, c.size);
	close(dfd);
	ASSERT_EQ(0, gem_close(self->card, c.handle));
}

/*
 * Implicit sync into zcbuf: a vgem buffer carrying vgem's unsignalled write
 * fence, imported and queued, is not touched by the device (camera writes,
 * TX reads) until VGEM_FENCE_SIGNAL.  (The device used to complete it at
 * once, before the fence.)
 */
static void waits_for_vgem_fence(struct __test_metadata *_metadata,
				 FIXTURE_DATA(vgem) *self, bool tx)
{
	struct zi_drm_mode_create_dumb c = {
		.width = WIDTH * 3, .height = HEIGHT, .bpp = 8,
	};
	struct zi_vgem_fence_attach fa = { .flags = ZI_VGEM_FENCE_WRITE };
	struct zi_vgem_fence_signal fs = { 0 };
	struct zcbuf_config txcfg = { .personality = ZCBUF_DEV_NIC_TX };
	struct zcbuf_dqbuf d;
	uint32_t index;
	int dfd;

	if (tx) {
		ASSERT_EQ(0, zs_config(self->fd, &txcfg, NULL));
	} else {
		ASSERT_EQ(0, zs_config_camera(self->fd, WIDTH, HEIGHT, FMT, 0,
					      0, NULL));
	}
	ASSERT_EQ(0, drm_ioctl(self->card, ZI_DRM_IOCTL_MODE_CREATE_DUMB, &c));
	dfd = prime_handle_to_fd(self->card, c.handle);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, zc_import(self->fd, dfd, &index, NULL));

	fa.handle = c.handle;
	ASSERT_EQ(0, drm_ioctl(self->card, ZI_DRM_IOCTL_VGEM_FENCE_ATTACH, &fa));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_qbuf(self->fd, index, tx ? 64 : 0));
	ASSERT_EQ(-ETIMEDOUT, zs_dqbuf_wait(self->fd, &d, 500))
		TH_LOG("the device finished before vgem's write fence signalled");
	ASSERT_EQ(ZCBUF_STATE_QUEUED, zs_state(self->fd, index));

	fs.fence = fa.out_fence;
	ASSERT_EQ(0, drm_ioctl(self->card, ZI_DRM_IOCTL_VGEM_FENCE_SIGNAL, &fs));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(index, d.index);
	ASSERT_EQ(0, d.flags);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	close(dfd);
	ASSERT_EQ(0, gem_close(self->card, c.handle));
}

TEST_F(vgem, camera_waits_for_vgem_write_fence)
{
	waits_for_vgem_fence(_metadata, self, false);
}

TEST_F(vgem, tx_waits_for_vgem_write_fence)
{
	waits_for_vgem_fence(_metadata, self, true);
}

TEST_HARNESS_MAIN
