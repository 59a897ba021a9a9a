// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the sink table, and the "none" sink (verify and return).
 */
#include <string.h>

#include "capture.h"

static int none_open(void **state, const struct stream_desc *sd,
		     release_fn release, void *release_ctx)
{
	(void)sd;
	(void)release;
	(void)release_ctx;
	*state = NULL;
	return 0;
}

static int none_consume(void *state, const struct frame *f)
{
	(void)state;
	(void)f;
	return 0;
}

const struct sink_ops sink_none_ops = {
	.name = "none",
	.open = none_open,
	.consume = none_consume,
};

static const struct sink_ops *const sinks[] = {
	&sink_none_ops, &sink_file_ops, &sink_png_ops, &sink_tcp_ops,
	&sink_unix_ops,
};

const struct sink_ops *sink_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sinks) / sizeof(sinks[0]); i++)
		if (!strcmp(sinks[i]->name, name))
			return sinks[i];
	return NULL;
}
