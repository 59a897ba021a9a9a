/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf-capture: shared definitions between the capture loop (capture.c),
 * its options (options.c), the status line (status.c) and the sinks
 * (sink_*.c).
 */
#ifndef ZCBUF_CAPTURE_H
#define ZCBUF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zcbuf/libzcbuf.h>

#define MAX_BUFFERS	64

#ifndef ZCBUF_VERSION
#define ZCBUF_VERSION	"unknown"
#endif

/* Exit status (zcbuf-capture(1), --help). */
enum {
	CAPTURE_EXIT_OK = 0,		/* every frame verified (or: listed, printed) */
	CAPTURE_EXIT_FAILED = 1,	/* a frame failed verification, or the stream
				 * or the sink failed while running */
	CAPTURE_EXIT_USAGE = 2,		/* bad command line */
	CAPTURE_EXIT_SETUP = 3,		/* no usable device: missing node, no
				 * permission, unsupported ABI or capability,
				 * configuration or buffers refused, sink
				 * output cannot be opened */
};

struct options {
	unsigned int personality;	/* ZCBUF_DEV_CAMERA or ZCBUF_DEV_NIC_RX */
	unsigned int width, height, pixelformat, fps;
	unsigned int pkt_min, pkt_max, pkt_rate, pkts_per_buffer;
	unsigned int drop_permille, error_permille, jitter_us;
	unsigned int stall_every, stall_ms;
	uint64_t seed;
	unsigned int buffers;
	uint64_t frames;		/* stop after this many; 0: no limit */
	double seconds;			/* stop after this long; 0: no limit */
	bool use_poll;			/* wait with poll() instead of eventfd */
	bool use_ring;			/* completion/submission rings */
	bool strict;			/* ZCBUF_CFG_STRICT */
	bool quiet;			/* no live status line */
	bool no_sync;			/* skip ZCBUF_IOC_SYNC (demonstration) */
	bool verbose;			/* a line per dequeued buffer */
	bool list_devices;		/* --list-devices, nothing else */
	bool version;			/* --version, nothing else */
	const char *device_path;
	const char *device_name;	/* a zcbuf device by name or id, or NULL */
	const char *sink;		/* none, file, png, tcp, unix */
	/* file sink */
	const char *output;		/* "-": standard output */
	bool direct;
	int stdout_fd;			/* the real stdout with --stream-to -
					 * (text then goes to stderr); else -1 */
	/* png sink */
	unsigned int png_every;
	const char *png_dir;
	/* tcp sink */
	bool copy;
};

/* One dequeued buffer, as a sink sees it: verified, CPU-synced for reading. */
struct frame {
	unsigned int index;		/* zcbuf buffer index */
	unsigned int slot;		/* 0 .. buffers - 1 */
	const uint8_t *data;		/* the mapping */
	size_t map_size;		/* mapped bytes (>= bytesused) */
	uint64_t bytesused;
	uint64_t sequence;
	uint32_t checksum;		/* the device's (camera: of the payload) */
	bool checksum_is_payload;	/* checksum covers all bytesused bytes */
};

struct stream_desc {
	const struct options *opt;
	const struct zcbuf_config *cfg;
	int fd;				/* the context */
	unsigned int first;		/* index of slot 0 */
	unsigned int nbuffers;
};

/* Called by a sink when it no longer needs a buffer it kept. */
typedef int (*release_fn)(void *ctx, unsigned int slot);

/*
 * A sink consumes verified frames.  consume() returns 0 when it is done with
 * the buffer (the caller queues it back at once), 1 when it keeps the buffer
 * and will hand it back through release() later (from reap()), or -errno.
 * pollfd()/reap() let the capture loop wait on the sink too (-1: nothing to
 * wait for).  finish() waits for everything the sink still holds and
 * prints its part of the summary; it returns the number of errors it saw.
 */
struct sink_ops {
	const char *name;
	int (*open)(void **state, const struct stream_desc *sd,
		    release_fn release, void *release_ctx);
	int (*consume)(void *state, const struct frame *f);
	int (*pollfd)(void *state);
	short poll_events;		/* what to poll pollfd() for */
	int (*reap)(void *state);
	int (*finish)(void *state);
	void (*close)(void *state);
	/* Short live-status text (may be NULL). */
	void (*status)(void *state, char *buf, size_t len);
};

extern const struct sink_ops sink_none_ops;
extern const struct sink_ops sink_file_ops;
extern const struct sink_ops sink_png_ops;
extern const struct sink_ops sink_tcp_ops;
extern const struct sink_ops sink_unix_ops;

const struct sink_ops *sink_find(const char *name);

/* options.c */
int parse_options(int argc, char **argv, struct options *opt);

/* status.c */
struct counters {
	uint64_t frames;		/* buffers dequeued */
	uint64_t bytes;			/* their bytesused */
	uint64_t gaps;			/* missing sequence numbers */
	uint64_t device_errors;		/* dequeued with ZCBUF_DQ_ERROR */
	uint64_t bad;			/* verification failures */
	uint64_t packets;		/* NIC RX */
};

void status_start(void);
void status_update(const struct counters *c, const char *extra, bool force);
void status_end(void);
/* Seconds since status_start(), and CPU seconds of the process/thread since. */
double status_elapsed(void);
double status_cpu_process(void);
double status_cpu_thread(void);

/* yuyv.c: one line of YUYV (BT.601 limited range) to RGB24. */
void yuyv_to_rgb24(const uint8_t *yuyv, uint8_t *rgb, unsigned int width);

#endif /* ZCBUF_CAPTURE_H */
