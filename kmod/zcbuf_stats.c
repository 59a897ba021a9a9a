// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide counters in debugfs: /sys/kernel/debug/zcbuf/counters.
 *
 * Live objects (contexts, buffers, bytes) go back to zero when everything is
 * closed and unmapped: a leak shows here first.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "zcbuf_stats.h"

struct zcbuf_counters zcbuf_counters;

static struct dentry *zcbuf_debugfs_dir;

static int zcbuf_counters_show(struct seq_file *m, void *unused)
{
	struct zcbuf_counters *c = &zcbuf_counters;

	seq_printf(m, "contexts %ld\n", atomic_long_read(&c->contexts));
	seq_printf(m, "buffers %ld\n", atomic_long_read(&c->buffers));
	seq_printf(m, "buffer_bytes %lld\n", atomic64_read(&c->buffer_bytes));
	seq_printf(m, "frames %lld\n", atomic64_read(&c->frames));
	seq_printf(m, "frame_bytes %lld\n", atomic64_read(&c->frame_bytes));
	seq_printf(m, "errors %lld\n", atomic64_read(&c->errors));
	seq_printf(m, "drops_no_buffer %lld\n",
		   atomic64_read(&c->drops_no_buffer));
	seq_printf(m, "drops_injected %lld\n",
		   atomic64_read(&c->drops_injected));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zcbuf_counters);

void zcbuf_debugfs_init(void)
{
	/* debugfs is best effort: errors are ignored, by design. */
	zcbuf_debugfs_dir = debugfs_create_dir("zcbuf", NULL);
	debugfs_create_file("counters", 0444, zcbuf_debugfs_dir, NULL,
			    &zcbuf_counters_fops);
}

void zcbuf_debugfs_exit(void)
{
	debugfs_remove_recursive(zcbuf_debugfs_dir);
}
