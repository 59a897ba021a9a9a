// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the "png" sink.  Every --png-every'th frame becomes
 * DIR/frame-SEQUENCE.png.  RGB24 rows go to libpng straight from the
 * mapped buffer; YUYV rows are converted to RGB one line at a time.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"

struct png_sink {
	const struct zcbuf_config *cfg;
	const char *dir;
	unsigned int every;
	uint64_t seen, written;
	uint8_t *line;			/* YUYV -> RGB line */
	char last[512];
};

static int png_open(void **state, const struct stream_desc *sd,
		    release_fn release, void *release_ctx)
{
	struct png_sink *s;

	(void)release;
	(void)release_ctx;
	if (mkdir(sd->opt->png_dir, 0755) && errno != EEXIST) {
		int err = errno;

		fprintf(stderr, "zcbuf-capture: mkdir %s: %s\n",
			sd->opt->png_dir, strerror(err));
		return -err;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = sd->cfg;
	s->dir = sd->opt->png_dir;
	s->every = sd->opt->png_every;
	s->line = malloc((size_t)sd->cfg->width * 3);
	if (!s->line) {
		free(s);
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static int write_png(struct png_sink *s, const struct frame *f,
		     const char *path)
{
	const struct zcbuf_config *cfg = s->cfg;
	png_structp png;
	png_infop info;
	unsigned int y;
	FILE *fp;
	volatile int ret = -EIO;

	fp = fopen(path, "wbe");
	if (!fp)
		return -errno;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, fp);
	/* Speed over size: TCG guests are slow. */
	png_set_compression_level(png, 1);
	png_set_IHDR(png, info, cfg->width, cfg->height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < cfg->height; y++) {
		if (cfg->pixelformat == ZCBUF_FMT_YUYV) {
			yuyv_to_rgb24(f->data + (size_t)y * cfg->width * 2,
				      s->line, cfg->width);
			png_write_row(png, s->line);
		} else {
			png_write_row(png, (png_const_bytep)f->data +
				      (size_t)y * cfg->width * 3);
		}
	}
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	if (fclose(fp) && !ret)
		ret = -errno;
	return ret;
}

static int png_consume(void *state, const struct frame *f)
{
	struct png_sink *s = state;
	int ret;

	if (s->seen++ % s->every)
		return 0;
	snprintf(s->last, sizeof(s->last), "%s/frame-%08llu.png", s->dir,
		 (unsigned long long)f->sequence);
	ret = write_png(s, f, s->last);
	if (ret) {
		fprintf(stderr, "\nzcbuf-capture: %s: %s\n", s->last,
			strerror(-ret));
		return ret;
	}
	s->written++;
	return 0;
}

static int png_finish(void *state)
{
	struct png_sink *s = state;

	printf("png: %llu snapshots (every %u frames) in %s%s%s\n",
	       (unsigned long long)s->written, s->every, s->dir,
	       s->written ? ", last " : "", s->written ? s->last : "");
	return 0;
}

static void png_close(void *state)
{
	struct png_sink *s = state;

	free(s->line);
	free(s);
}

static void png_status(void *state, char *buf, size_t len)
{
	struct png_sink *s = state;

	snprintf(buf, len, "png %llu", (unsigned long long)s->written);
}

const struct sink_ops sink_png_ops = {
	.name = "png",
	.open = png_open,
	.consume = png_consume,
	.finish = png_finish,
	.close = png_close,
	.status = png_status,
};
