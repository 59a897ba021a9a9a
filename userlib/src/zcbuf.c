// SPDX-License-Identifier: MIT
/*
 * libzcbuf: contexts, buffers, DMA-bufs, cache sync and streaming, each a
 * thin wrapper over one ioctl of <linux/zcbuf.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "internal.h"

int zcbuf__ioctl(int fd, unsigned long request, void *arg, int retry_again)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR ||
			       (retry_again && errno == EAGAIN)));
	return ret == -1 ? -errno : ret;
}

unsigned int zcbuf_version(void)
{
	return LIBZCBUF_VERSION;
}

int zcbuf_check_version(unsigned int major, unsigned int minor)
{
	if (major != LIBZCBUF_VERSION_MAJOR || minor > LIBZCBUF_VERSION_MINOR)
		return -ENOTSUP;
	return 0;
}

int zcbuf_open(const char *path, int oflags)
{
	int fd;

	if (oflags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	do {
		fd = open(path ? path : ZCBUF_DEFAULT_PATH, O_RDWR | oflags);
	} while (fd == -1 && errno == EINTR);
	return fd == -1 ? -errno : fd;
}

int zcbuf_close(int fd)
{
	/* On Linux the fd is gone even when close() says EINTR: no retry. */
	if (close(fd) == -1 && errno != EINTR)
		return -errno;
	return 0;
}

int zcbuf_get_info(int fd, struct zcbuf_info *info)
{
	struct zcbuf_info arg;
	int ret;

	if (!info)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_INFO, &arg, 0);
	if (ret < 0)
		return ret;
	*info = arg;
	return 0;
}

int zcbuf_alloc_buffers(int fd, uint64_t size, unsigned int count,
			unsigned int flags, unsigned int *first_index)
{
	struct zcbuf_alloc arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = size;
	arg.count = count;
	arg.flags = flags;
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_ALLOC, &arg, 0);
	if (ret < 0)
		return ret;
	if (first_index)
		*first_index = arg.first_index;
	return 0;
}

int zcbuf_free_buffer(int fd, unsigned int index)
{
	struct zcbuf_free arg;

	memset(&arg, 0, sizeof(arg));
	arg.index = index;
	return zcbuf__ioctl(fd, ZCBUF_IOC_FREE, &arg, 0);
}

int zcbuf_query_buffer(int fd, unsigned int index, struct zcbuf_query *query)
{
	struct zcbuf_query arg;
	int ret;

	if (!query)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.index = index;
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_QUERY, &arg, 0);
	if (ret < 0)
		return ret;
	*query = arg;
	return 0;
}

int zcbuf_map_range(int fd, unsigned int index, uint64_t offset,
		    size_t length, int prot, void **addr)
{
	long page = sysconf(_SC_PAGESIZE);
	struct zcbuf_query q;
	void *p;
	int ret;

	if (!addr || page <= 0 || offset % (uint64_t)page)
		return -EINVAL;
	ret = zcbuf_query_buffer(fd, index, &q);
	if (ret < 0)
		return ret;
	if (offset >= q.size)
		return -EINVAL;
	if (!length)
		length = q.size - offset;
	if (length > q.size - offset || q.offset + offset < q.offset)
		return -EINVAL;
	p = mmap(NULL, length, prot, MAP_SHARED, fd, (off_t)(q.offset + offset));
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int zcbuf_map_buffer(int fd, unsigned int index, int prot, void **addr,
		     size_t *length)
{
	struct zcbuf_query q;
	void *p;
	int ret;

	if (!addr || !length)
		return -EINVAL;
	ret = zcbuf_query_buffer(fd, index, &q);
	if (ret < 0)
		return ret;
	p = mmap(NULL, q.size, prot, MAP_SHARED, fd, (off_t)q.offset);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	*length = q.size;
	return 0;
}

int zcbuf_unmap_buffer(void *addr, size_t length)
{
	return munmap(addr, length) == -1 ? -errno : 0;
}

int zcbuf_export_buffer(int fd, unsigned int index, unsigned int flags,
			int *dmabuf_fd)
{
	struct zcbuf_export arg;
	int ret;

	if (!dmabuf_fd)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.index = index;
	arg.flags = flags;
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_EXPORT, &arg, 0);
	if (ret < 0)
		return ret;
	*dmabuf_fd = arg.fd;
	return 0;
}

int zcbuf_import_dmabuf(int fd, int dmabuf_fd, unsigned int *index,
			uint64_t *size)
{
	struct zcbuf_import arg;
	int ret;

	if (!index)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.fd = dmabuf_fd;
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_IMPORT, &arg, 0);
	if (ret < 0)
		return ret;
	*index = arg.index;
	if (size)
		*size = arg.size;
	return 0;
}

int zcbuf_map_dmabuf(int dmabuf_fd, int prot, void **addr, size_t *length)
{
	off_t size;
	void *p;

	if (!addr || !length)
		return -EINVAL;
	size = lseek(dmabuf_fd, 0, SEEK_END);
	if (size == (off_t)-1)
		return -errno;
	if (size == 0)
		return -EINVAL;
	p = mmap(NULL, (size_t)size, prot, MAP_SHARED, dmabuf_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	*length = (size_t)size;
	return 0;
}

int zcbuf_sync_dmabuf(int dmabuf_fd, unsigned int flags)
{
	struct dma_buf_sync arg;

	memset(&arg, 0, sizeof(arg));
	arg.flags = flags;
	return zcbuf__ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &arg, 1);
}

static int zcbuf_sync(int fd, unsigned int index, uint64_t offset,
		      uint64_t length, unsigned int flags)
{
	struct zcbuf_sync arg;

	memset(&arg, 0, sizeof(arg));
	arg.index = index;
	arg.flags = flags;
	arg.offset = offset;
	arg.length = length;
	return zcbuf__ioctl(fd, ZCBUF_IOC_SYNC, &arg, 1);
}

int zcbuf_sync_begin(int fd, unsigned int index, uint64_t offset,
		     uint64_t length, unsigned int direction)
{
	if (direction & ~ZCBUF_SYNC_RW)
		return -EINVAL;
	return zcbuf_sync(fd, index, offset, length,
			  ZCBUF_SYNC_START | direction);
}

int zcbuf_sync_end(int fd, unsigned int index, uint64_t offset,
		   uint64_t length, unsigned int direction)
{
	if (direction & ~ZCBUF_SYNC_RW)
		return -EINVAL;
	return zcbuf_sync(fd, index, offset, length,
			  ZCBUF_SYNC_END | direction);
}

/* The device with the smallest id >= @id. */
static int zcbuf_device_info(int fd, uint32_t id, struct zcbuf_device_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	return zcbuf__ioctl(fd, ZCBUF_IOC_DEVICE_INFO, d, 0);
}

int zcbuf_list_devices(int fd, struct zcbuf_device_desc *out,
		       unsigned int max)
{
	struct zcbuf_device_desc d;
	unsigned int n = 0;
	uint32_t id = 0;
	int ret;

	if (max && !out)
		return -EINVAL;
	while (!(ret = zcbuf_device_info(fd, id, &d))) {
		if (n < max)
			out[n] = d;
		if (n == INT32_MAX || d.id == UINT32_MAX)
			return -EOVERFLOW;
		n++;
		id = d.id + 1;
	}
	return ret == -ENODEV ? (int)n : ret;
}

int zcbuf_find_device(int fd, const char *name,
		      struct zcbuf_device_desc *desc)
{
	struct zcbuf_device_desc d;
	uint32_t id = 0;
	char *end;
	unsigned long want;
	int ret;

	if (!name || !*name)
		return -EINVAL;
	errno = 0;
	want = strtoul(name, &end, 10);
	if (!*end && !errno && want && want <= INT32_MAX) {
		ret = zcbuf_device_info(fd, (uint32_t)want, &d);
		if (ret)
			return ret;
		if (d.id != want)
			return -ENODEV;
		if (desc)
			*desc = d;
		return (int)d.id;
	}
	while (!(ret = zcbuf_device_info(fd, id, &d))) {
		if (!strncmp(d.name, name, sizeof(d.name)) &&
		    strlen(name) < sizeof(d.name)) {
			if (d.id > INT32_MAX)
				return -EOVERFLOW;
			if (desc)
				*desc = d;
			return (int)d.id;
		}
		if (d.id == UINT32_MAX)
			break;
		id = d.id + 1;
	}
	return ret ? ret : -ENODEV;
}

int zcbuf_configure(int fd, struct zcbuf_config *cfg)
{
	struct zcbuf_config arg;
	int ret;

	if (!cfg)
		return -EINVAL;
	/*
	 * The struct has no holes: copying it copies exactly its fields.
	 * frame_size is (out): a struct reused after an earlier call still
	 * holds the old value, which is not input.
	 */
	memset(&arg, 0, sizeof(arg));
	memcpy(&arg, cfg, sizeof(arg));
	arg.frame_size = 0;
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_CONFIG, &arg, 0);
	if (ret < 0)
		return ret;
	cfg->frame_size = arg.frame_size;
	return 0;
}

int zcbuf_set_eventfd(int fd, int eventfd)
{
	struct zcbuf_eventfd arg;

	memset(&arg, 0, sizeof(arg));
	arg.fd = eventfd;
	return zcbuf__ioctl(fd, ZCBUF_IOC_SET_EVENTFD, &arg, 0);
}

int zcbuf_stream_on(int fd)
{
	struct zcbuf_stream arg;

	memset(&arg, 0, sizeof(arg));
	return zcbuf__ioctl(fd, ZCBUF_IOC_STREAMON, &arg, 0);
}

int zcbuf_stream_off(int fd)
{
	struct zcbuf_stream arg;

	memset(&arg, 0, sizeof(arg));
	return zcbuf__ioctl(fd, ZCBUF_IOC_STREAMOFF, &arg, 0);
}

int zcbuf_queue_buffer(int fd, unsigned int index, uint64_t bytesused)
{
	struct zcbuf_qbuf arg;

	memset(&arg, 0, sizeof(arg));
	arg.index = index;
	arg.bytesused = bytesused;
	return zcbuf__ioctl(fd, ZCBUF_IOC_QBUF, &arg, 0);
}

int zcbuf_dequeue_buffer(int fd, struct zcbuf_dqbuf *dq)
{
	struct zcbuf_dqbuf arg;
	int ret;

	if (!dq)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_DQBUF, &arg, 0);
	if (ret < 0)
		return ret;
	*dq = arg;
	return 0;
}

int zcbuf_get_stats(int fd, struct zcbuf_stats *stats)
{
	struct zcbuf_stats arg;
	int ret;

	if (!stats)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	ret = zcbuf__ioctl(fd, ZCBUF_IOC_STATS, &arg, 0);
	if (ret < 0)
		return ret;
	*stats = arg;
	return 0;
}
