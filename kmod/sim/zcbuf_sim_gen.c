// SPDX-License-Identifier: GPL-2.0
/*
 * What the simulated device produces and consumes.
 *
 * Camera: zcbuf's test pattern (zcbuf_tpg.h), line by line.
 * NIC RX: packets of random size, each starting with its 64-bit packet
 * number, described by a table at the start of the buffer.  NIC TX: one
 * packet read back.  Every payload is checksummed (zlib's CRC-32) as it goes
 * through the DMA engine, so user space can prove it reads exactly what the
 * device wrote and the device what user space wrote; unless user space asked
 * for no checksums (ZCBUF_CFG_NO_CHECKSUM): then none is computed and every
 * checksum field stays 0.
 */

#include <linux/crc32.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <linux/zcbuf.h>

#include "zcbuf_device.h"
#include "zcbuf_sim.h"
#include "zcbuf_tpg.h"

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

/* Whether the configuration wants the device's checksums. */
static bool zcbuf_sim_checksums(const struct zcbuf_config *cfg)
{
	return !(cfg->flags & ZCBUF_CFG_NO_CHECKSUM);
}

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

int zcbuf_sim_gen_init(struct zcbuf_sim_gen *gen,
		       const struct zcbuf_config *cfg, struct rnd_state *rnd)
{
	int ret;

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

	if (cfg->personality == ZCBUF_DEV_NIC_RX) {
		gen->descs = kvcalloc(cfg->pkts_per_buffer,
				      sizeof(*gen->descs), GFP_KERNEL);
		if (!gen->descs) {
			ret = -ENOMEM;
			goto free_line;
		}
	}

	if (cfg->personality == ZCBUF_DEV_CAMERA) {
		ret = zcbuf_tpg_init(&gen->tpg, cfg);
		if (ret)
			goto free_line;
	}
	return 0;

free_line:
	kvfree(gen->line);
	return ret;
}

void zcbuf_sim_gen_fini(struct zcbuf_sim_gen *gen)
{
	zcbuf_tpg_fini(&gen->tpg);
	kvfree(gen->descs);
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
	bool sums = zcbuf_sim_checksums(cfg);
	u32 crc = ZCBUF_CRC_INIT;
	struct zcbuf_sim_dma dma;
	u32 y;
	int ret;

	zcbuf_tpg_start_frame(&gen->tpg, sequence);
	zcbuf_sim_dma_start(&dma, dev, dbuf->sgt);
	for (y = 0; y < cfg->height; y++) {
		zcbuf_tpg_line(&gen->tpg, y, gen->line);
		ret = zcbuf_sim_dma_write(&dma, gen->line, gen->line_size);
		if (ret)
			return ret;
		if (sums)
			crc = zcbuf_crc_update(crc, gen->line, gen->line_size);
	}

	dbuf->bytesused = cfg->frame_size;
	dbuf->checksum = sums ? ZCBUF_CRC_FINAL(crc) : 0;
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
	struct zcbuf_pkt_desc *descs = gen->descs;
	bool sums = zcbuf_sim_checksums(cfg);
	struct zcbuf_sim_dma dma;
	u32 n = 0, span;
	int ret;

	/* Unused entries of the table are zero. */
	memset(descs, 0, table);
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
			return ret;

		descs[n].offset = pos;
		descs[n].length = len;
		if (sums)
			descs[n].checksum =
				ZCBUF_CRC_FINAL(zcbuf_crc_update(ZCBUF_CRC_INIT,
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
		return ret;

	dbuf->npackets = n;
	dbuf->bytesused = n ? descs[n - 1].offset + descs[n - 1].length : table;
	if (sums)
		dbuf->checksum =
			ZCBUF_CRC_FINAL(zcbuf_crc_update(ZCBUF_CRC_INIT, descs,
							 n * sizeof(*descs)));
	return 0;
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
	bool sums = zcbuf_sim_checksums(gen->cfg);
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
		if (sums)
			crc = zcbuf_crc_update(crc, gen->line, chunk);
		left -= chunk;
	}

	dbuf->bytesused = dbuf->tx_bytes;
	dbuf->checksum = sums ? ZCBUF_CRC_FINAL(crc) : 0;
	return 0;
}
