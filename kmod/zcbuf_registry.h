/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's view of registered devices (zcbuf_device.h is the drivers').
 */
#ifndef _ZCBUF_REGISTRY_H
#define _ZCBUF_REGISTRY_H

#include <linux/zcbuf.h>

struct zcbuf_queue;

int zcbuf_registry_init(void);
void zcbuf_registry_exit(void);

int zcbuf_registry_describe(struct zcbuf_device_desc *desc);
int zcbuf_registry_check(struct zcbuf_config *cfg);
int zcbuf_registry_bind(struct zcbuf_queue *queue, struct zcbuf_config *cfg);
void zcbuf_registry_unbind(struct zcbuf_queue *queue);

#endif /* _ZCBUF_REGISTRY_H */
