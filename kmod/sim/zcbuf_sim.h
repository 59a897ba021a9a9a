/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulated camera/NIC: internals shared by its files.
 *
 * zcbuf_sim_main.c the devices: registration, thread, pacing, faults
 * zcbuf_sim_dma.c  its DMA engine: reads and writes by DMA address
 * zcbuf_sim_gen.c  what it produces and consumes: frames and packets
 */
#ifndef _ZCBUF_SIM_H
#define _ZCBUF_SIM_H

#include <linux/prandom.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

#include "zcbuf_tpg.h"

struct device;
struct zcbuf_config;
struct zcbuf_dev_buf;
struct zcbuf_pkt_desc;

#define ZCBUF_SIM_MIN_DIM	16
#define ZCBUF_SIM_MAX_DIM	8192

/**
 * struct zcbuf_sim_dma - a DMA transfer over one mapped buffer
 * @dev: the device whose mapping this is
 * @sg: the current DMA segment
 * @nents: DMA segments left, @sg included
 * @seg_off: offset in @sg
 * @pos: offset from the start of the buffer
 */
struct zcbuf_sim_dma {
	struct device *dev;
	struct scatterlist *sg;
	unsigned int nents;
	size_t seg_off;
	size_t pos;
};

void zcbuf_sim_dma_start(struct zcbuf_sim_dma *dma, struct device *dev,
			 struct sg_table *sgt);
int zcbuf_sim_dma_seek(struct zcbuf_sim_dma *dma, size_t pos);
int zcbuf_sim_dma_write(struct zcbuf_sim_dma *dma, const void *src,
			size_t len);
int zcbuf_sim_dma_read(struct zcbuf_sim_dma *dma, void *dst, size_t len);

/**
 * struct zcbuf_sim_gen - generator state of one stream
 * @cfg: the configuration
 * @rnd: random numbers (packet sizes and contents), seeded from cfg->seed
 * @line: scratch: one line of a frame, or one packet
 * @line_size: bytes in @line
 * @descs: NIC RX: scratch for one buffer's packet table, allocated before
 *	streaming: nothing is allocated between taking a buffer and
 *	completing it (its fence's signalling path)
 * @tpg: the camera's test pattern
 * @pkt_seq: packets generated since start
 */
struct zcbuf_sim_gen {
	const struct zcbuf_config *cfg;
	struct rnd_state *rnd;
	u8 *line;
	size_t line_size;
	struct zcbuf_pkt_desc *descs;
	struct zcbuf_tpg tpg;
	u64 pkt_seq;
};

int zcbuf_sim_configure(struct zcbuf_config *cfg);
int zcbuf_sim_gen_init(struct zcbuf_sim_gen *gen,
		       const struct zcbuf_config *cfg, struct rnd_state *rnd);
void zcbuf_sim_gen_fini(struct zcbuf_sim_gen *gen);
int zcbuf_sim_gen_frame(struct zcbuf_sim_gen *gen, struct device *dev,
			struct zcbuf_dev_buf *dbuf, u64 sequence);
int zcbuf_sim_gen_rx(struct zcbuf_sim_gen *gen, struct device *dev,
		     struct zcbuf_dev_buf *dbuf);
int zcbuf_sim_gen_tx(struct zcbuf_sim_gen *gen, struct device *dev,
		     struct zcbuf_dev_buf *dbuf);

#endif /* _ZCBUF_SIM_H */
