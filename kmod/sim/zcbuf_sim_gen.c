// SPDX-License-Identifier: GPL-2.0
/*
 * What the simulated device produces and consumes.
 *
 * Camera: colour bars, a box that moves with the frame number and the frame
 * number itself drawn in the top left corner, in RGB24 or YUYV, line by line.
 * NIC RX: packets of random size, each starting with its 64-bit packet
 * number, described by a table at the start of the buffer.  NIC TX: one
 * packet read back.  Every payload is checksummed (zlib's CRC-32) as it goes
 * through the DMA engine, so user space can prove it reads exactly what the
 * device wrote and the device what user space wrote.
 */

#include <linux/crc32.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <linux/zcbuf.h>

#include "zcbuf_device.h"
#include "zcbuf_sim.h"

#define ZCBUF_SIM_MAX_FPS	1000
#define ZCBUF_SIM_MAX_RATE	100000
#define ZCBUF_SIM_MAX_PKTS	4096
#define ZCBUF_SIM_MAX_JITTER	1000000
#define ZCBUF_SIM_MAX_STALL	10000
#define ZCBUF_SIM_PKT_ALIGN	64

/* zlib's crc32(): CRC-32/ISO-HDLC, reflected, ~0 in and out. */
static u32 zcbuf_crc_update(u32 crc, const void *data, size_t len)
{
	return crc32_le(crc, data, len);
}

#define ZCBUF_CRC_INIT		(~0U)
#define ZCBUF_CRC_FINAL(c)	(~(c))

static unsigned int zcbuf_bytes_per_pixel(u32 pixelformat)
{
	return pixelformat == ZCBUF_FMT_RGB24 ? 3 : 2;
}

static size_t zcbuf_rx_table_size(const struct zcbuf_config *cfg)
{
	return ALIGN(cfg->pkts_per_buffer * sizeof(struct zcbuf_pkt_desc),
		     ZCBUF_SIM_PKT_ALIGN);
}

/**
 * zcbuf_sim_configure() - check a configuration and size its buffers
 * @cfg: the configuration; frame_size is set
 *
 * Return: 0 or -EINVAL.  Fields that the personality does not use must be 0.
 */
int zcbuf_sim_configure(struct zcbuf_config *cfg)
{
	bool camera = cfg->personality == ZCBUF_DEV_CAMERA;
	bool rx = cfg->personality == ZCBUF_DEV_NIC_RX;
	bool tx = cfg->personality == ZCBUF_DEV_NIC_TX;

	if (!camera && !rx && !tx)
		return -EINVAL;

	if (cfg->drop_permille > 1000 || cfg->error_permille > 1000 ||
	    cfg->jitter_us > ZCBUF_SIM_MAX_JITTER ||
	    cfg->stall_ms > ZCBUF_SIM_MAX_STALL ||
	    (cfg->stall_every && !cfg->stall_ms))
		return -EINVAL;

	if (camera) {
		if (cfg->pkt_min || cfg->pkt_max || cfg->pkt_rate ||
		    cfg->pkts_per_buffer)
			return -EINVAL;
		if (cfg->width < ZCBUF_SIM_MIN_DIM ||
		    cfg->width > ZCBUF_SIM_MAX_DIM || cfg->width % 2 ||
		    cfg->height < ZCBUF_SIM_MIN_DIM ||
		    cfg->height > ZCBUF_SIM_MAX_DIM ||
		    cfg->fps > ZCBUF_SIM_MAX_FPS)
			return -EINVAL;
		if (cfg->pixelformat != ZCBUF_FMT_RGB24 &&
		    cfg->pixelformat != ZCBUF_FMT_YUYV)
			return -EINVAL;
		cfg->frame_size = cfg->width * cfg->height *
				  zcbuf_bytes_per_pixel(cfg->pixelformat);
		return 0;
	}

	if (cfg->width || cfg->height || cfg->pixelformat || cfg->fps ||
	    cfg->pkt_rate > ZCBUF_SIM_MAX_RATE)
		return -EINVAL;

	if (tx) {
		if (cfg->pkt_min || cfg->pkt_max || cfg->pkts_per_buffer)
			return -EINVAL;
		/* One packet of QBUF's bytesused per buffer. */
		cfg->frame_size = 1;
		return 0;
	}

	if (cfg->pkt_min < ZCBUF_PKT_MIN || cfg->pkt_max > ZCBUF_PKT_MAX ||
	    cfg->pkt_min > cfg->pkt_max || !cfg->pkts_per_buffer ||
	    cfg->pkts_per_buffer > ZCBUF_SIM_MAX_PKTS)
		return -EINVAL;
	/* Room for the table and at least one packet of the largest size. */
	cfg->frame_size = zcbuf_rx_table_size(cfg) + cfg->pkt_max;
	return 0;
}

/* RGB of the eight bars: white, yellow, cyan, green, magenta, red, blue, black */
static const u8 zcbuf_bar_rgb[8][3] = {
	{ 235, 235, 235 }, { 235, 235, 16 }, { 16, 235, 235 }, { 16, 235, 16 },
	{ 235, 16, 235 }, { 235, 16, 16 }, { 16, 16, 235 }, { 16, 16, 16 },
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

/* A 3x5 font for the frame number: bit 14 is the top left pixel. */
static const u16 zcbuf_digits[10] = {
	0x7b6f, 0x2c97, 0x73e7, 0x73cf, 0x5bc9,
	0x79cf, 0x79ef, 0x7249, 0x7bef, 0x7bcf,
};

#define ZCBUF_NR_DIGITS		8

/* Draw row @y of the frame number @text (ZCBUF_NR_DIGITS digits). */
static void zcbuf_draw_number(const struct zcbuf_config *cfg, u8 *line,
			      u32 y, const char *text)
{
	u32 scale = max(1U, cfg->height / 60);
	u32 x0 = 2 * scale, y0 = 2 * scale, row, d, col;

	if (y < y0 || y >= y0 + 7 * scale)
		return;
	/* A black plate one pixel row of digits bigger than the digits. */
	zcbuf_paint(cfg, line, x0, x0 + (ZCBUF_NR_DIGITS * 4 + 1) * scale, 16);
	row = (y - y0) / scale;
	if (row < 1 || row > 5)
		return;
	row -= 1;

	for (d = 0; d < ZCBUF_NR_DIGITS; d++) {
		u16 glyph = zcbuf_digits[text[d] - '0'];

		for (col = 0; col < 3; col++) {
			u32 x = x0 + (1 + d * 4 + col) * scale;

			if (glyph & (1U << (14 - row * 3 - col)))
				zcbuf_paint(cfg, line, x, x + scale, 235);
		}
	}
}

int zcbuf_sim_gen_init(struct zcbuf_sim_gen *gen,
		       const struct zcbuf_config *cfg, struct rnd_state *rnd)
{
	memset(gen, 0, sizeof(*gen));
	gen->cfg = cfg;
	gen->rnd = rnd;

	if (cfg->personality == ZCBUF_DEV_CAMERA)
		gen->line_size = cfg->width *
				 zcbuf_bytes_per_pixel(cfg->pixelformat);
	else
		gen->line_size = ZCBUF_PKT_MAX;

	gen->line = kvmalloc(gen->line_size, GFP_KERNEL);
	if (!gen->line)
		return -ENOMEM;

	if (cfg->personality == ZCBUF_DEV_CAMERA) {
		gen->bars = kvmalloc(gen->line_size, GFP_KERNEL);
		if (!gen->bars) {
			kvfree(gen->line);
			return -ENOMEM;
		}
		zcbuf_render_bars(cfg, gen->bars);
	}
	return 0;
}

void zcbuf_sim_gen_fini(struct zcbuf_sim_gen *gen)
{
	kvfree(gen->bars);
	kvfree(gen->line);
}

/**
 * zcbuf_sim_gen_frame() - capture one camera frame into a buffer
 * @gen: generator
 * @dev: the device doing the DMA
 * @dbuf: the buffer; bytesused and checksum are set
 * @sequence: the frame number, drawn into the frame and moving the box
 *
 * Return: 0 or the DMA engine's error.
 */
int zcbuf_sim_gen_frame(struct zcbuf_sim_gen *gen, struct device *dev,
			struct zcbuf_dev_buf *dbuf, u64 sequence)
{
	const struct zcbuf_config *cfg = gen->cfg;
	u32 box = max(min(cfg->width, cfg->height) / 6, 2U);
	u32 box_x = (sequence * 4) % (cfg->width - box + 1);
	u32 box_y = (sequence * 2) % (cfg->height - box + 1);
	char text[ZCBUF_NR_DIGITS + 1];
	u32 crc = ZCBUF_CRC_INIT;
	struct zcbuf_sim_dma dma;
	u32 y;
	int ret;

	snprintf(text, sizeof(text), "%08llu", sequence % 100000000ULL);
	zcbuf_sim_dma_start(&dma, dev, dbuf->sgt);
	for (y = 0; y < cfg->height; y++) {
		memcpy(gen->line, gen->bars, gen->line_size);
		if (y >= box_y && y < box_y + box)
			zcbuf_paint(cfg, gen->line, box_x & ~1U,
				    (box_x & ~1U) + box,
				    sequence & 1 ? 235 : 16);
		zcbuf_draw_number(cfg, gen->line, y, text);

		ret = zcbuf_sim_dma_write(&dma, gen->line, gen->line_size);
		if (ret)
			return ret;
		crc = zcbuf_crc_update(crc, gen->line, gen->line_size);
	}

	dbuf->bytesused = cfg->frame_size;
	dbuf->checksum = ZCBUF_CRC_FINAL(crc);
	return 0;
}

/**
 * zcbuf_sim_gen_rx() - receive packets into a buffer
 * @gen: generator
 * @dev: the device doing the DMA
 * @dbuf: the buffer; bytesused, npackets and checksum (of the table) are set
 *
 * Return: 0 or the DMA engine's error.
 */
int zcbuf_sim_gen_rx(struct zcbuf_sim_gen *gen, struct device *dev,
		     struct zcbuf_dev_buf *dbuf)
{
	const struct zcbuf_config *cfg = gen->cfg;
	size_t table = cfg->pkts_per_buffer * sizeof(struct zcbuf_pkt_desc);
	size_t pos = zcbuf_rx_table_size(cfg);
	struct zcbuf_pkt_desc *descs;
	struct zcbuf_sim_dma dma;
	u32 n = 0, span;
	int ret;

	descs = kvcalloc(cfg->pkts_per_buffer, sizeof(*descs), GFP_KERNEL);
	if (!descs)
		return -ENOMEM;

	span = cfg->pkt_max - cfg->pkt_min + 1;
	zcbuf_sim_dma_start(&dma, dev, dbuf->sgt);
	while (n < cfg->pkts_per_buffer) {
		u32 len = cfg->pkt_min + prandom_u32_state(gen->rnd) % span;
		__le64 number = cpu_to_le64(gen->pkt_seq);

		if (pos + len > dbuf->size)
			break;
		memcpy(gen->line, &number, sizeof(number));
		prandom_bytes_state(gen->rnd, gen->line + sizeof(number),
				    len - sizeof(number));

		ret = zcbuf_sim_dma_seek(&dma, pos);
		if (!ret)
			ret = zcbuf_sim_dma_write(&dma, gen->line, len);
		if (ret)
			goto free_descs;

		descs[n].offset = pos;
		descs[n].length = len;
		descs[n].checksum = ZCBUF_CRC_FINAL(zcbuf_crc_update(ZCBUF_CRC_INIT,
								     gen->line,
								     len));
		gen->pkt_seq++;
		n++;
		pos = ALIGN(pos + len, ZCBUF_SIM_PKT_ALIGN);
	}

	/* The table last, as a NIC writes its descriptors after the data. */
	zcbuf_sim_dma_start(&dma, dev, dbuf->sgt);
	ret = zcbuf_sim_dma_write(&dma, descs, table);
	if (ret)
		goto free_descs;

	dbuf->npackets = n;
	dbuf->bytesused = n ? descs[n - 1].offset + descs[n - 1].length : table;
	dbuf->checksum = ZCBUF_CRC_FINAL(zcbuf_crc_update(ZCBUF_CRC_INIT, descs,
							  n * sizeof(*descs)));
free_descs:
	kvfree(descs);
	return ret;
}

/**
 * zcbuf_sim_gen_tx() - transmit the packet in a buffer
 * @gen: generator
 * @dev: the device doing the DMA
 * @dbuf: the buffer, tx_bytes to send; bytesused and checksum are set
 *
 * Return: 0 or the DMA engine's error.
 */
int zcbuf_sim_gen_tx(struct zcbuf_sim_gen *gen, struct device *dev,
		     struct zcbuf_dev_buf *dbuf)
{
	size_t left = dbuf->tx_bytes;
	u32 crc = ZCBUF_CRC_INIT;
	struct zcbuf_sim_dma dma;
	int ret;

	zcbuf_sim_dma_start(&dma, dev, dbuf->sgt);
	while (left) {
		size_t chunk = min(left, gen->line_size);

		ret = zcbuf_sim_dma_read(&dma, gen->line, chunk);
		if (ret)
			return ret;
		crc = zcbuf_crc_update(crc, gen->line, chunk);
		left -= chunk;
	}

	dbuf->bytesused = dbuf->tx_bytes;
	dbuf->checksum = ZCBUF_CRC_FINAL(crc);
	return 0;
}
