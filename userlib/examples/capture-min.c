// SPDX-License-Identifier: MIT
/*
 * The smallest complete libzcbuf program: capture 30 camera frames into
 * mmapped buffers and check each one's CRC-32 against the device's.
 *
 *   cc capture-min.c $(pkg-config --cflags --libs libzcbuf)
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <zcbuf/libzcbuf.h>

#define NBUF 4

int main(void)
{
	struct zcbuf_config cfg;
	struct zcbuf_dqbuf dq;
	unsigned int first, i, n, bad = 0;
	void *map[NBUF];
	size_t len[NBUF];
	int fd, ret;

	fd = zcbuf_open(NULL, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "zcbuf_open: %s\n", strerror(-fd));
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.personality = ZCBUF_DEV_CAMERA;
	cfg.width = 320;
	cfg.height = 240;
	cfg.pixelformat = ZCBUF_FMT_RGB24;
	cfg.fps = 30;
	ret = zcbuf_configure(fd, &cfg);
	if (!ret)
		ret = zcbuf_alloc_buffers(fd, cfg.frame_size, NBUF, 0, &first);
	for (i = 0; !ret && i < NBUF; i++) {
		ret = zcbuf_map_buffer(fd, first + i, PROT_READ, &map[i],
				       &len[i]);
		if (!ret)
			ret = zcbuf_queue_buffer(fd, first + i, 0);
	}
	if (!ret)
		ret = zcbuf_stream_on(fd);
	for (n = 0; !ret && n < 30; n++) {
		ret = zcbuf_wait(fd, 5000);
		if (!ret)
			ret = zcbuf_dequeue_buffer(fd, &dq);
		if (ret)
			break;
		i = dq.index - first;
		/* The CPU may only read what the device wrote after this. */
		zcbuf_sync_begin(fd, dq.index, 0, dq.bytesused, ZCBUF_SYNC_READ);
		if (zcbuf_crc32(0, map[i], dq.bytesused) != dq.checksum)
			bad++;
		zcbuf_sync_end(fd, dq.index, 0, dq.bytesused, ZCBUF_SYNC_READ);
		ret = zcbuf_queue_buffer(fd, dq.index, 0);
	}
	if (ret)
		fprintf(stderr, "zcbuf: %s\n", strerror(-ret));
	else
		printf("%u frames, %u bad\n", n, bad);
	zcbuf_close(fd);	/* stops the device; buffers go with it */
	return ret || bad;
}
