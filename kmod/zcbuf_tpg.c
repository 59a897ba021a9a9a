// SPDX-License-Identifier: GPL-2.0
/*
 * The camera test pattern (see zcbuf_tpg.h), drawn line by line so that a
 * driver can stream it into a frame of any size through any DMA engine.
 */

#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <linux/zcbuf.h>

#include "zcbuf_compat.h"
#include "zcbuf_tpg.h"

/* RGB of the eight bars: white, yellow, cyan, green, magenta, red, blue, black */
static const u8 zcbuf_bar_rgb[8][3] = {
	{ 235, 235, 235 }, { 235, 235, 16 }, { 16, 235, 235 }, { 16, 235, 16 },
	{ 235, 16, 235 }, { 235, 16, 16 }, { 16, 16, 235 }, { 16, 16, 16 },
};

/* A 3x5 font for the frame number: bit 14 is the top left pixel. */
static const u16 zcbuf_digits[10] = {
	0x7b6f, 0x2c97, 0x73e7, 0x73cf, 0x5bc9,
	0x79cf, 0x79ef, 0x7249, 0x7bef, 0x7bcf,
};

/* BT.601 limited range, integer approximation. */
static void zcbuf_rgb_to_yuv(const u8 *rgb, u8 *y, u8 *u, u8 *v)
{
	int r = rgb[0], g = rgb[1], b = rgb[2];

	*y = clamp((66 * r + 129 * g + 25 * b + 128) / 256 + 16, 16, 235);
	*u = clamp((-38 * r - 74 * g + 112 * b + 128) / 256 + 128, 16, 240);
	*v = clamp((112 * r - 94 * g - 18 * b + 128) / 256 + 128, 16, 240);
}

static void zcbuf_render_bars(const struct zcbuf_config *cfg, u8 *line)
{
	u32 x;

	for (x = 0; x < cfg->width; x += 2) {
		const u8 *c0 = zcbuf_bar_rgb[x * 8 / cfg->width];
		const u8 *c1 = zcbuf_bar_rgb[(x + 1) * 8 / cfg->width];

		if (cfg->pixelformat == ZCBUF_FMT_RGB24) {
			memcpy(line + x * 3, c0, 3);
			memcpy(line + x * 3 + 3, c1, 3);
		} else {
			u8 y0, y1, u0, u1, v0, v1;

			zcbuf_rgb_to_yuv(c0, &y0, &u0, &v0);
			zcbuf_rgb_to_yuv(c1, &y1, &u1, &v1);
			line[x * 2] = y0;
			line[x * 2 + 1] = (u0 + u1) / 2;
			line[x * 2 + 2] = y1;
			line[x * 2 + 3] = (v0 + v1) / 2;
		}
	}
}

/* Paint pixels [x0, x1) of a line grey level @level (16 black, 235 white). */
static void zcbuf_paint(const struct zcbuf_config *cfg, u8 *line, u32 x0,
			u32 x1, u8 level)
{
	u32 x;

	x1 = min(x1, cfg->width);
	if (cfg->pixelformat == ZCBUF_FMT_RGB24) {
		if (x0 < x1)
			memset(line + x0 * 3, level, (x1 - x0) * 3);
		return;
	}
	for (x = x0; x < x1; x++) {
		line[x * 2] = level;
		line[x * 2 + 1] = 128;
	}
}

/* Draw row @y of the frame number @text (ZCBUF_TPG_NR_DIGITS digits). */
static void zcbuf_draw_number(const struct zcbuf_config *cfg, u8 *line,
			      u32 y, const char *text)
{
	u32 scale = max(1U, cfg->height / 60);
	u32 x0 = 2 * scale, y0 = 2 * scale, row, d, col;

	if (y < y0 || y >= y0 + 7 * scale)
		return;
	/* A black plate one pixel row of digits bigger than the digits. */
	zcbuf_paint(cfg, line, x0, x0 + (ZCBUF_TPG_NR_DIGITS * 4 + 1) * scale,
		    16);
	row = (y - y0) / scale;
	if (row < 1 || row > 5)
		return;
	row -= 1;

	for (d = 0; d < ZCBUF_TPG_NR_DIGITS; d++) {
		u16 glyph = zcbuf_digits[text[d] - '0'];

		for (col = 0; col < 3; col++) {
			u32 x = x0 + (1 + d * 4 + col) * scale;

			if (glyph & (1U << (14 - row * 3 - col)))
				zcbuf_paint(cfg, line, x, x + scale, 235);
		}
	}
}

/**
 * zcbuf_tpg_init() - prepare the pattern of a camera stream
 * @tpg: the pattern
 * @cfg: a camera configuration the device accepted (even width >= 2,
 *	height >= 1, ZCBUF_FMT_RGB24 or ZCBUF_FMT_YUYV); must outlive @tpg
 *
 * Return: 0, -EINVAL for another configuration, or -ENOMEM.
 */
int zcbuf_tpg_init(struct zcbuf_tpg *tpg, const struct zcbuf_config *cfg)
{
	memset(tpg, 0, sizeof(*tpg));
	if (cfg->personality != ZCBUF_DEV_CAMERA || cfg->width < 2 ||
	    cfg->width % 2 || !cfg->height ||
	    (cfg->pixelformat != ZCBUF_FMT_RGB24 &&
	     cfg->pixelformat != ZCBUF_FMT_YUYV))
		return -EINVAL;

	tpg->cfg = cfg;
	tpg->line_size = (size_t)cfg->width *
			 (cfg->pixelformat == ZCBUF_FMT_RGB24 ? 3 : 2);
	tpg->bars = kvmalloc(tpg->line_size, GFP_KERNEL);
	if (!tpg->bars)
		return -ENOMEM;
	zcbuf_render_bars(cfg, tpg->bars);
	zcbuf_tpg_start_frame(tpg, 0);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_tpg_init, ZCBUF_NS(ZCBUF));

void zcbuf_tpg_fini(struct zcbuf_tpg *tpg)
{
	kvfree(tpg->bars);
	tpg->bars = NULL;
}
EXPORT_SYMBOL_NS_GPL(zcbuf_tpg_fini, ZCBUF_NS(ZCBUF));

/**
 * zcbuf_tpg_start_frame() - the next lines are of frame @sequence
 * @tpg: the pattern
 * @sequence: the frame number, drawn into the frame and moving the box
 */
void zcbuf_tpg_start_frame(struct zcbuf_tpg *tpg, u64 sequence)
{
	const struct zcbuf_config *cfg = tpg->cfg;

	tpg->sequence = sequence;
	tpg->box = max(min(cfg->width, cfg->height) / 6, 2U);
	tpg->box_x = ((sequence * 4) % (cfg->width - tpg->box + 1)) & ~1U;
	tpg->box_y = (sequence * 2) % (cfg->height - tpg->box + 1);
	snprintf(tpg->text, sizeof(tpg->text), "%08llu",
		 sequence % 100000000ULL);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_tpg_start_frame, ZCBUF_NS(ZCBUF));

/**
 * zcbuf_tpg_line() - draw line @y of the current frame
 * @tpg: the pattern
 * @y: the line, below cfg->height
 * @line: where to, tpg->line_size bytes
 */
void zcbuf_tpg_line(const struct zcbuf_tpg *tpg, u32 y, u8 *line)
{
	const struct zcbuf_config *cfg = tpg->cfg;

	memcpy(line, tpg->bars, tpg->line_size);
	if (y >= tpg->box_y && y < tpg->box_y + tpg->box)
		zcbuf_paint(cfg, line, tpg->box_x, tpg->box_x + tpg->box,
			    tpg->sequence & 1 ? 235 : 16);
	zcbuf_draw_number(cfg, line, y, tpg->text);
}
EXPORT_SYMBOL_NS_GPL(zcbuf_tpg_line, ZCBUF_NS(ZCBUF));
