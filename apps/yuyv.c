// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: YUYV (4:2:2, BT.601 limited range, as V4L2 defines it) to
 * RGB24, one line at a time, in integer arithmetic.
 */
#include "capture.h"

static uint8_t clamp8(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

static void pixel(int y, int u, int v, uint8_t *rgb)
{
	int c = 298 * (y - 16), d = u - 128, e = v - 128;

	rgb[0] = clamp8((c + 409 * e + 128) >> 8);
	rgb[1] = clamp8((c - 100 * d - 208 * e + 128) >> 8);
	rgb[2] = clamp8((c + 516 * d + 128) >> 8);
}

void yuyv_to_rgb24(const uint8_t *yuyv, uint8_t *rgb, unsigned int width)
{
	unsigned int x;

	for (x = 0; x + 1 < width; x += 2, yuyv += 4, rgb += 6) {
		pixel(yuyv[0], yuyv[1], yuyv[3], rgb);
		pixel(yuyv[2], yuyv[1], yuyv[3], rgb + 3);
	}
}
