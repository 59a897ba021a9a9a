// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
"usage: %s [options]\n"
"       %s --list-devices | --version | --help\n"
"\n"
"Stream frames from a zcbuf device into mmapped DMA-buf buffers, verify\n"
"every one (sequence, size, CRC-32 against the device's checksum) and hand\n"
"it to a sink, without copying it.\n"
"\n"
"General:\n"
"  -d, --device NAME|NODE   the zcbuf device to stream from, by name or id as\n"
"                           --list-devices shows them (e.g. sim0, edu0, 2;\n"
"                           default: the module's default device); an\n"
"                           argument with a '/' is a device node instead\n"
"                           (default " ZCBUF_DEFAULT_PATH "); --path NODE is always one\n"
"  -l, --list-devices       list the zcbuf device nodes, their ABI version,\n"
"                           capabilities and registered devices, and exit\n"
"  -v, --verbose            a line per buffer: sequence, timestamp, size (no\n"
"                           live status line)\n"
"      --version            print the version and exit\n"
"  -h, --help               this text\n"
"\n"
"Device:\n"
"  -p, --personality camera|nic-rx   what the device is (default camera);\n"
"                           --device camera|nic-rx still means this\n"
"  --width N --height N     camera frame size (default 640x480)\n"
"  --format rgb24|yuyv      camera pixel format (default rgb24)\n"
"  --fps N                  frames per second, 0 = as fast as possible (default 30)\n"
"  --pkt-min N --pkt-max N  nic-rx packet sizes (default 64..1500)\n"
"  --pkt-rate N             nic-rx buffers per second, 0 = unthrottled (default 100)\n"
"  --pkts-per-buffer N      nic-rx packets per buffer (default 32)\n"
"  --drop-permille N --error-permille N --jitter-us N\n"
"  --stall-every N --stall-ms N   fault injection (default off)\n"
"  --seed N                 device random seed (default 1)\n"
"\n"
"Streaming:\n"
"  --buffers N              buffers to allocate and queue (default 4, max %d)\n"
"  --frames N               stop after N buffers\n"
"  --seconds S              stop after S seconds (neither: until Ctrl-C)\n"
"  --poll                   wait with poll() on the device, not the eventfd\n"
"  --ring                   take completions from the shared completion ring\n"
"                           and give buffers back through the submission\n"
"                           ring instead of DQBUF/QBUF (the sync ioctls\n"
"                           around each CPU read remain)\n"
"  --strict                 strict ownership: a queued buffer's mappings are\n"
"                           revoked until it is dequeued (not with --ring)\n"
"  --quiet                  no live status line\n"
"  --no-sync                skip the ZCBUF_IOC_SYNC bracket around CPU reads:\n"
"                           wrong on purpose, to show that under swiotlb=force\n"
"                           (or on a non-coherent machine) frames then fail\n"
"                           verification\n"
"\n"
"Sinks:\n"
"  --sink none|file|png|tcp|unix (default none)\n"
"  --stream-to FILE         raw frames to FILE, '-' for standard output (the\n"
"                           file sink; with '-' all messages go to stderr)\n"
"  file: --output FILE (default capture.raw), raw frames written straight\n"
"        from the mapped buffer; --direct opens it O_DIRECT (each frame is\n"
"        then padded to a multiple of 4096 bytes in the file)\n"
"  png:  --png-every N (default 30), --png-dir DIR (default .): PNG snapshots\n"
"        (camera only; YUYV is converted to RGB); either option alone\n"
"        selects this sink\n"
"  tcp:  frames sent with MSG_ZEROCOPY to a receiver thread over loopback\n"
"        TCP; a buffer goes back to the device only after its zerocopy\n"
"        completion (over loopback the kernel copies anyway, and says\n"
"        so: the count is reported); --copy uses plain send() instead\n"
"  unix: each buffer exported once as a read-only DMA-buf; every frame's\n"
"        fd goes over a UNIX socket (SCM_RIGHTS) to a child process that\n"
"        maps it, syncs with DMA_BUF_IOCTL_SYNC and checks the CRC-32; the\n"
"        buffer goes back to the device when the child has answered\n"
"\n"
"Exit status:\n"
"  0  every frame verified (--list-devices: at least one device listed)\n"
"  1  a frame failed verification, fewer frames than --frames arrived, or\n"
"     the device, the stream or the sink failed while streaming\n"
"  2  bad command line\n"
"  3  no usable device: the node is missing (module not loaded) or not\n"
"     accessible (permissions), the module's ABI or capabilities do not\n"
"     fit, the device refused the configuration or the buffers, or the\n"
"     sink's output could not be opened\n",
		prog, prog, MAX_BUFFERS);
}

enum {
	OPT_PATH = 256, OPT_VERSION, OPT_STREAM_TO, OPT_WIDTH, OPT_HEIGHT, OPT_FORMAT, OPT_FPS,
	OPT_PKT_MIN, OPT_PKT_MAX, OPT_PKT_RATE, OPT_PKTS_PER_BUFFER,
	OPT_DROP, OPT_ERROR, OPT_JITTER, OPT_STALL_EVERY, OPT_STALL_MS,
	OPT_SEED, OPT_BUFFERS, OPT_FRAMES, OPT_SECONDS, OPT_POLL, OPT_QUIET,
	OPT_NO_SYNC, OPT_RING, OPT_STRICT,
	OPT_SINK, OPT_OUTPUT, OPT_DIRECT, OPT_PNG_EVERY, OPT_PNG_DIR, OPT_COPY,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "device", required_argument, NULL, 'd' },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "list-devices", no_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "personality", required_argument, NULL, 'p' },
	{ "stream-to", required_argument, NULL, OPT_STREAM_TO },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "height", required_argument, NULL, OPT_HEIGHT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "fps", required_argument, NULL, OPT_FPS },
	{ "pkt-min", required_argument, NULL, OPT_PKT_MIN },
	{ "pkt-max", required_argument, NULL, OPT_PKT_MAX },
	{ "pkt-rate", required_argument, NULL, OPT_PKT_RATE },
	{ "pkts-per-buffer", required_argument, NULL, OPT_PKTS_PER_BUFFER },
	{ "drop-permille", required_argument, NULL, OPT_DROP },
	{ "error-permille", required_argument, NULL, OPT_ERROR },
	{ "jitter-us", required_argument, NULL, OPT_JITTER },
	{ "stall-every", required_argument, NULL, OPT_STALL_EVERY },
	{ "stall-ms", required_argument, NULL, OPT_STALL_MS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "buffers", required_argument, NULL, OPT_BUFFERS },
	{ "frames", required_argument, NULL, OPT_FRAMES },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
	{ "ring", no_argument, NULL, OPT_RING },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "sink", required_argument, NULL, OPT_SINK },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "direct", no_argument, NULL, OPT_DIRECT },
	{ "png-every", required_argument, NULL, OPT_PNG_EVERY },
	{ "png-dir", required_argument, NULL, OPT_PNG_DIR },
	{ "copy", no_argument, NULL, OPT_COPY },
	{ NULL, 0, NULL, 0 },
};

static int parse_u64(const char *name, const char *s, uint64_t max,
		     uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max) {
		fprintf(stderr, "zcbuf-capture: --%s: '%s' is not a number "
			"from 0 to %llu\n", name, s, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_personality(const char *name, const char *s,
			     unsigned int *out)
{
	if (!strcmp(s, "camera")) {
		*out = ZCBUF_DEV_CAMERA;
	} else if (!strcmp(s, "nic-rx")) {
		*out = ZCBUF_DEV_NIC_RX;
	} else {
		fprintf(stderr, "zcbuf-capture: --%s: camera or nic-rx, not "
			"'%s'\n", name, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_u32(const char *name, const char *s, unsigned int *out)
{
	uint64_t v;
	int ret = parse_u64(name, s, UINT32_MAX, &v);

	if (!ret)
		*out = (unsigned int)v;
	return ret;
}

/* 0 to go on, 1 when --help was printed, -EINVAL on a bad option. */
int parse_options(int argc, char **argv, struct options *opt)
{
	const char *prog = argv[0];
	bool sink_given = false, png_given = false, stream_to = false;
	char *end;
	int c, idx;

	memset(opt, 0, sizeof(*opt));
	opt->personality = ZCBUF_DEV_CAMERA;
	opt->width = 640;
	opt->height = 480;
	opt->pixelformat = ZCBUF_FMT_RGB24;
	opt->fps = 30;
	opt->pkt_min = 64;
	opt->pkt_max = 1500;
	opt->pkt_rate = 100;
	opt->pkts_per_buffer = 32;
	opt->seed = 1;
	opt->buffers = 4;
	opt->device_path = ZCBUF_DEFAULT_PATH;
	opt->sink = "none";
	opt->output = "capture.raw";
	opt->png_every = 30;
	opt->png_dir = ".";
	opt->stdout_fd = -1;

	while ((c = getopt_long(argc, argv, "d:hlp:v", longopts, &idx)) != -1) {
		const char *name = c >= 256 ? longopts[idx].name : "";
		int ret = 0;

		switch (c) {
		case 'h':
			usage(stdout, prog);
			return 1;
		case 'd':
			/* --device camera|nic-rx: the old spelling of -p. */
			if (!strcmp(optarg, "camera") || !strcmp(optarg, "nic-rx"))
				ret = parse_personality("device", optarg,
							&opt->personality);
			else if (strchr(optarg, '/'))
				opt->device_path = optarg;
			else
				opt->device_name = optarg;
			break;
		case 'p':
			ret = parse_personality("personality", optarg,
						&opt->personality);
			break;
		case 'l': opt->list_devices = true; break;
		case 'v': opt->verbose = true; break;
		case OPT_VERSION: opt->version = true; break;
		case OPT_STREAM_TO:
			opt->output = optarg;
			stream_to = true;
			break;
		case OPT_PATH: opt->device_path = optarg; break;
		case OPT_WIDTH: ret = parse_u32(name, optarg, &opt->width); break;
		case OPT_HEIGHT: ret = parse_u32(name, optarg, &opt->height); break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "rgb24")) {
				opt->pixelformat = ZCBUF_FMT_RGB24;
			} else if (!strcmp(optarg, "yuyv")) {
				opt->pixelformat = ZCBUF_FMT_YUYV;
			} else {
				fprintf(stderr, "zcbuf-capture: --format: "
					"rgb24 or yuyv, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_FPS: ret = parse_u32(name, optarg, &opt->fps); break;
		case OPT_PKT_MIN: ret = parse_u32(name, optarg, &opt->pkt_min); break;
		case OPT_PKT_MAX: ret = parse_u32(name, optarg, &opt->pkt_max); break;
		case OPT_PKT_RATE: ret = parse_u32(name, optarg, &opt->pkt_rate); break;
		case OPT_PKTS_PER_BUFFER:
			ret = parse_u32(name, optarg, &opt->pkts_per_buffer);
			break;
		case OPT_DROP: ret = parse_u32(name, optarg, &opt->drop_permille); break;
		case OPT_ERROR: ret = parse_u32(name, optarg, &opt->error_permille); break;
		case OPT_JITTER: ret = parse_u32(name, optarg, &opt->jitter_us); break;
		case OPT_STALL_EVERY:
			ret = parse_u32(name, optarg, &opt->stall_every);
			break;
		case OPT_STALL_MS: ret = parse_u32(name, optarg, &opt->stall_ms); break;
		case OPT_SEED: ret = parse_u64(name, optarg, UINT64_MAX, &opt->seed); break;
		case OPT_BUFFERS:
			ret = parse_u32(name, optarg, &opt->buffers);
			if (!ret && (opt->buffers < 1 || opt->buffers > MAX_BUFFERS)) {
				fprintf(stderr, "zcbuf-capture: --buffers: "
					"1 to %d\n", MAX_BUFFERS);
				ret = -EINVAL;
			}
			break;
		case OPT_FRAMES:
			ret = parse_u64(name, optarg, UINT64_MAX, &opt->frames);
			break;
		case OPT_SECONDS:
			errno = 0;
			opt->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || opt->seconds < 0) {
				fprintf(stderr, "zcbuf-capture: --seconds: "
					"'%s' is not a duration\n", optarg);
				ret = -EINVAL;
			}
			break;
		case OPT_POLL: opt->use_poll = true; break;
		case OPT_QUIET: opt->quiet = true; break;
		case OPT_NO_SYNC: opt->no_sync = true; break;
		case OPT_RING: opt->use_ring = true; break;
		case OPT_STRICT: opt->strict = true; break;
		case OPT_SINK:
			if (!sink_find(optarg)) {
				fprintf(stderr, "zcbuf-capture: --sink: "
					"none, file, png, tcp or unix, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			opt->sink = optarg;
			sink_given = true;
			break;
		case OPT_OUTPUT: opt->output = optarg; break;
		case OPT_DIRECT: opt->direct = true; break;
		case OPT_PNG_EVERY:
			ret = parse_u32(name, optarg, &opt->png_every);
			if (!ret && !opt->png_every) {
				fprintf(stderr, "zcbuf-capture: --png-every: "
					"at least 1\n");
				ret = -EINVAL;
			}
			png_given = true;
			break;
		case OPT_PNG_DIR:
			opt->png_dir = optarg;
			png_given = true;
			break;
		case OPT_COPY: opt->copy = true; break;
		default:
			usage(stderr, prog);
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "zcbuf-capture: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (opt->version || opt->list_devices)
		return 0;
	if (stream_to) {
		if (sink_given && strcmp(opt->sink, "file")) {
			fprintf(stderr, "zcbuf-capture: --stream-to writes "
				"raw frames (the file sink), not --sink %s\n",
				opt->sink);
			return -EINVAL;
		}
		opt->sink = "file";
		sink_given = true;
	}
	if (!strcmp(opt->output, "-") && opt->direct) {
		fprintf(stderr, "zcbuf-capture: --direct needs a file, not "
			"standard output\n");
		return -EINVAL;
	}
	if (opt->verbose)
		opt->quiet = true;
	if (opt->strict && opt->use_ring) {
		fprintf(stderr, "zcbuf-capture: --strict and --ring exclude "
			"each other (the kernel never sees a ring dequeue)\n");
		return -EINVAL;
	}
	/* --png-dir/--png-every alone mean the png sink. */
	if (png_given && !sink_given)
		opt->sink = "png";
	if (png_given && strcmp(opt->sink, "png")) {
		fprintf(stderr, "zcbuf-capture: --png-dir/--png-every need "
			"--sink png, not --sink %s\n", opt->sink);
		return -EINVAL;
	}
	if (!strcmp(opt->sink, "png") && opt->personality != ZCBUF_DEV_CAMERA) {
		fprintf(stderr, "zcbuf-capture: --sink png needs --device camera\n");
		return -EINVAL;
	}
	return 0;
}
