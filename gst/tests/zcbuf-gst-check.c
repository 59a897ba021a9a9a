// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-gst-check: compare what a GStreamer pipeline wrote with what the
 * zcbuf device says it produced.
 *
 * The device's word is the "zcbuf-frame" element messages that zcbufsrc
 * post-messages=true posts, one per frame, as `gst-launch-1.0 -m` prints
 * them: each carries the CRC-32 the device computed over the frame as its
 * DMA wrote it.  The pipeline's output is decoded independently here (libpng
 * for PNG files, plain bytes for raw frames) and its CRC-32 compared, frame
 * by frame in order.
 *
 * usage:
 *   zcbuf-gst-check png  MESSAGES FILE.png...
 *       every PNG, decoded to 8-bit RGB rows, must have the i-th frame's CRC
 *   zcbuf-gst-check raw  MESSAGES FRAME_BYTES FILE [bgr]
 *       FILE holds whole frames back to back; with "bgr" each 3-byte pixel
 *       is swapped back to RGB before the CRC (what vim2m's RGB24 -> BGR24
 *       conversion did)
 * Exit status 0 when there is at least one frame and every one matches, 1
 * otherwise; one "# " line per mismatch (at most 5) and a summary.
 */
#include <errno.h>
#include <inttypes.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zcbuf/libzcbuf.h>

static uint32_t *crcs;
static size_t ncrcs;

static int read_messages(const char *path)
{
	char line[4096], *p;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;

		if (!strstr(line, "zcbuf-frame"))
			continue;
		p = strstr(line, "checksum=(uint)");
		if (!p)
			continue;
		v = strtoul(p + strlen("checksum=(uint)"), NULL, 10);
		if (ncrcs == cap) {
			cap = cap ? 2 * cap : 64;
			crcs = realloc(crcs, cap * sizeof(*crcs));
			if (!crcs)
				abort();
		}
		crcs[ncrcs++] = (uint32_t)v;
	}
	fclose(f);
	if (!ncrcs)
		printf("# %s: no zcbuf-frame messages\n", path);
	return ncrcs ? 0 : -1;
}

static unsigned int bad;

static void compare(size_t i, uint32_t crc, const char *what)
{
	if (i >= ncrcs) {
		if (bad++ < 5)
			printf("# %s: frame %zu has no device message\n", what, i);
		return;
	}
	if (crc != crcs[i] && bad++ < 5)
		printf("# %s: frame %zu CRC-32 %08x, device says %08x\n", what,
		       i, crc, crcs[i]);
}

/* CRC-32 of the PNG's pixels as 8-bit RGB rows; -1 if it is not such a PNG. */
static int png_crc(const char *path, uint32_t *crc, unsigned int *w,
		   unsigned int *h)
{
	png_image img;
	png_bytep pix;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path)) {
		printf("# %s: %s\n", path, img.message);
		return -1;
	}
	if (img.format != PNG_FORMAT_RGB) {
		printf("# %s: not an 8-bit RGB PNG (format %#x)\n", path,
		       img.format);
		png_image_free(&img);
		return -1;
	}
	pix = malloc(PNG_IMAGE_SIZE(img));
	if (!pix || !png_image_finish_read(&img, NULL, pix, 0, NULL)) {
		printf("# %s: cannot decode: %s\n", path, img.message);
		free(pix);
		png_image_free(&img);
		return -1;
	}
	*crc = zcbuf_crc32(0, pix, PNG_IMAGE_SIZE(img));
	*w = img.width;
	*h = img.height;
	free(pix);
	return 0;
}

static int check_png(int argc, char **argv)
{
	unsigned int w = 0, h = 0;
	uint32_t crc;
	int i;

	for (i = 0; i < argc; i++) {
		if (png_crc(argv[i], &crc, &w, &h)) {
			bad++;
			continue;
		}
		compare(i, crc, argv[i]);
	}
	printf("# %d PNG files (%ux%u RGB), %zu device frames, %u mismatches\n",
	       argc, w, h, ncrcs, bad);
	return argc > 0 && !bad ? 0 : 1;
}

static int check_raw(const char *path, size_t frame, int bgr)
{
	unsigned char *buf = malloc(frame);
	size_t n = 0, got, i;
	FILE *f = fopen(path, "rb");

	if (!f || !buf) {
		printf("# %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((got = fread(buf, 1, frame, f)) == frame) {
		if (bgr)
			for (i = 0; i + 2 < frame; i += 3) {
				unsigned char t = buf[i];

				buf[i] = buf[i + 2];
				buf[i + 2] = t;
			}
		compare(n++, zcbuf_crc32(0, buf, frame), path);
	}
	if (got) {
		printf("# %s: %zu trailing bytes (not a whole frame)\n", path,
		       got);
		bad++;
	}
	fclose(f);
	free(buf);
	printf("# %s: %zu frames of %zu bytes%s, %zu device frames, %u "
	       "mismatches\n", path, n, frame, bgr ? " (BGR)" : "", ncrcs, bad);
	return n > 0 && !bad ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "png")) {
		if (read_messages(argv[2]))
			return 1;
		return check_png(argc - 3, argv + 3);
	}
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "raw")) {
		if (read_messages(argv[2]))
			return 1;
		return check_raw(argv[4], strtoul(argv[3], NULL, 0),
				 argc == 6 && !strcmp(argv[5], "bgr"));
	}
	fprintf(stderr, "usage: %s png MESSAGES FILE.png...\n"
		"       %s raw MESSAGES FRAME_BYTES FILE [bgr]\n", argv[0],
		argv[0]);
	return 2;
}
