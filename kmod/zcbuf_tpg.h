/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf's test pattern for cameras: colour bars, a box that moves with the
 * frame number and the frame number itself drawn in the top left corner, in
 * RGB24 or YUYV.  Every camera driver draws the same picture, so one set of
 * tests (selftests/zcbuf_stream.h reads the number and checks the bars and
 * the box) proves any of them.  Part of the device API: exported in the
 * ZCBUF namespace, like the rest of zcbuf_device.h.
 */
#ifndef _ZCBUF_TPG_H
#define _ZCBUF_TPG_H

#include <linux/types.h>

struct zcbuf_config;

#define ZCBUF_TPG_NR_DIGITS	8

/**
 * struct zcbuf_tpg - the pattern of one stream
 * @cfg: the camera configuration (width, height, pixelformat)
 * @line_size: bytes in one line
 * @bars: one pre-rendered line of colour bars
 * @sequence: the frame being drawn
 * @box: side of the box, in pixels
 * @box_x: left edge of the box in this frame (even)
 * @box_y: top edge of the box in this frame
 * @text: the frame number's digits
 */
struct zcbuf_tpg {
	const struct zcbuf_config *cfg;
	size_t line_size;
	u8 *bars;
	u64 sequence;
	u32 box;
	u32 box_x;
	u32 box_y;
	char text[ZCBUF_TPG_NR_DIGITS + 1];
};

int zcbuf_tpg_init(struct zcbuf_tpg *tpg, const struct zcbuf_config *cfg);
void zcbuf_tpg_fini(struct zcbuf_tpg *tpg);
void zcbuf_tpg_start_frame(struct zcbuf_tpg *tpg, u64 sequence);
void zcbuf_tpg_line(const struct zcbuf_tpg *tpg, u32 y, u8 *line);

#endif /* _ZCBUF_TPG_H */
