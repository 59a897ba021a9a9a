// SPDX-License-Identifier: GPL-2.0
/*
 * gstbench: the GStreamer rows of `make bench`, in the guest.
 *
 * Pipeline CPU per frame of `SRC ! video/x-raw,format=YUY2,width=W,height=H
 * ! fakesink` for
 *
 *   v4l2src-mmap    v4l2src io-mode=mmap on vivid's webcam (V4L2 MMAP)
 *   v4l2src-dmabuf  v4l2src io-mode=dmabuf (vivid's buffers exported as DMA-bufs)
 *   zcbufsrc        zcbufsrc, completions and returns through the rings
 *   zcbufsrc-ioctl  zcbufsrc use-rings=false (DQBUF/QBUF per frame)
 *   gst-floor       fakesrc is-live sync=true, 1-byte buffers at the same
 *                   rate: GStreamer's per-buffer path and one clock wait,
 *                   with no device behind it
 *
 * at vivid's frame sizes, zcbufsrc at the frame rate vivid negotiated for
 * that size, so both wake up as often.  CPU is the whole process's
 * (CLOCK_PROCESS_CPUTIME_ID: every GStreamer thread, the system calls and
 * what the kernel does in them; not the devices' own kernel threads),
 * between the WARMUP-th buffer reaching fakesink and WARMUP+N more; frames/s
 * is N over the CLOCK_MONOTONIC time between the same two buffers.  Under
 * `-icount shift=0` both are instruction counts.
 *
 * Output: CSV rows as zcbench's (group "gst"):
 *   group,row,kernel,boot,bytes,frames,cpu_us,fps,ns_per_byte,note
 *
 * usage: gstbench [-k KERNEL] [-b BOOT] [-o CSV] [-n FRAMES]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include <gst/gst.h>

#define WARMUP	10

struct meas {
	GMutex lock;
	GCond cond;
	guint count, want;
	struct timespec cpu0, cpu1, mono0, mono1;
	gboolean done;
};

static const char *kernel_label = "?", *boot_label = "normal";
static FILE *csv;
static int failures;

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info,
				   gpointer data)
{
	struct meas *m = data;

	(void)pad;
	(void)info;
	g_mutex_lock(&m->lock);
	m->count++;
	if (m->count == WARMUP) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &m->cpu0);
		clock_gettime(CLOCK_MONOTONIC, &m->mono0);
	} else if (m->count == WARMUP + m->want) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &m->cpu1);
		clock_gettime(CLOCK_MONOTONIC, &m->mono1);
		m->done = TRUE;
		g_cond_signal(&m->cond);
	}
	g_mutex_unlock(&m->lock);
	return GST_PAD_PROBE_OK;
}

static double ns(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e9 + (b->tv_nsec - a->tv_nsec);
}

/*
 * Run @desc (with elements "src" and "sink") until WARMUP + @n buffers
 * reached the sink; print a CSV row.  *@fps_n/@fps_d: the src pad's
 * negotiated frame rate.  Returns 0 or -1.
 */
static int measure(const char *row, const char *desc, guint n, guint64 bytes,
		   const char *what, gint *fps_n, gint *fps_d)
{
	struct meas m = { .want = n };
	GError *err = NULL;
	GstElement *pipe, *sink, *src;
	GstPad *pad;
	GstCaps *caps;
	gint64 end;
	double cpu, wall;
	int ret = -1;

	g_mutex_init(&m.lock);
	g_cond_init(&m.cond);
	pipe = gst_parse_launch(desc, &err);
	if (!pipe) {
		fprintf(stderr, "gstbench: %s: %s\n", desc, err->message);
		failures++;
		return -1;
	}
	sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	src = gst_bin_get_by_name(GST_BIN(pipe), "src");
	pad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &m, NULL);
	gst_object_unref(pad);

	if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		fprintf(stderr, "gstbench: %s: cannot play: %s\n", row, desc);
		goto out;
	}
	end = g_get_monotonic_time() + 120 * G_TIME_SPAN_SECOND;
	g_mutex_lock(&m.lock);
	while (!m.done && g_cond_wait_until(&m.cond, &m.lock, end))
		;
	g_mutex_unlock(&m.lock);
	if (!m.done) {
		GstMessage *msg = gst_bus_pop_filtered(GST_ELEMENT_BUS(pipe),
						       GST_MESSAGE_ERROR);

		fprintf(stderr, "gstbench: %s: %u of %u frames in 120 s\n", row,
			m.count, WARMUP + n);
		if (msg) {
			gst_message_parse_error(msg, &err, NULL);
			fprintf(stderr, "gstbench: %s: %s\n", row, err->message);
			g_clear_error(&err);
			gst_message_unref(msg);
		}
		goto out;
	}
	pad = gst_element_get_static_pad(src, "src");
	caps = gst_pad_get_current_caps(pad);
	gst_object_unref(pad);
	if (caps) {
		gst_structure_get_fraction(gst_caps_get_structure(caps, 0),
					   "framerate", fps_n, fps_d);
		gst_caps_unref(caps);
	}
	cpu = ns(&m.cpu0, &m.cpu1) / 1e3 / n;
	wall = ns(&m.mono0, &m.mono1) / 1e9;
	fprintf(csv, "gst,%s,%s,%s,%llu,%u,%.3f,%.1f,%.4f,%s; %d/%d fps negotiated; "
		"process CPU over %u frames after %u\n", row, kernel_label,
		boot_label, (unsigned long long)bytes, n, cpu, n / wall,
		cpu * 1e3 / bytes, what, *fps_n, *fps_d, n, WARMUP);
	fflush(csv);
	fprintf(stderr, "gstbench: %-15s %8llu B %8.2f us/frame %7.1f frames/s\n",
		row, (unsigned long long)bytes, cpu, n / wall);
	ret = 0;
out:
	if (ret)
		failures++;
	gst_element_set_state(pipe, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(src);
	gst_object_unref(pipe);
	g_mutex_clear(&m.lock);
	g_cond_clear(&m.cond);
	return ret;
}

/* vivid's video capture node, as zcbench finds it. */
static int find_vivid(char *path, size_t len)
{
	for (int i = 0; i < 16; i++) {
		struct v4l2_capability cap;
		int fd;

		snprintf(path, len, "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (cap.device_caps & V4L2_CAP_STREAMING)) {
			close(fd);
			return 0;
		}
		close(fd);
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct { guint w, h, frames; } sizes[] = {
		{ 320, 180, 120 }, { 1280, 720, 60 }, { 1920, 1080, 40 },
	};
	const char *out = NULL;
	char dev[64], desc[512], what[256];
	guint nframes = 0;
	int opt;

	gst_init(&argc, &argv);
	while ((opt = getopt(argc, argv, "k:b:o:n:")) != -1) {
		switch (opt) {
		case 'k': kernel_label = optarg; break;
		case 'b': boot_label = optarg; break;
		case 'o': out = optarg; break;
		case 'n': nframes = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: gstbench [-k KERNEL] [-b BOOT] "
				"[-o CSV] [-n FRAMES]\n");
			return 2;
		}
	}
	csv = out ? fopen(out, "a") : stdout;
	if (!csv) {
		fprintf(stderr, "gstbench: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if (find_vivid(dev, sizeof(dev))) {
		fprintf(stderr, "gstbench: no vivid capture device (modprobe vivid?)\n");
		return 1;
	}

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		guint w = sizes[i].w, h = sizes[i].h;
		guint n = nframes ? nframes : sizes[i].frames;
		guint64 bytes = (guint64)w * h * 2;
		gint fn = 0, fd = 1, zn = 0, zd = 1;
		static const char *modes[] = { "mmap", "dmabuf" };

		for (int k = 0; k < 2; k++) {
			char row[32];

			snprintf(row, sizeof(row), "v4l2src-%s", modes[k]);
			snprintf(desc, sizeof(desc), "v4l2src name=src device=%s "
				 "io-mode=%s ! video/x-raw,format=YUY2,width=%u,"
				 "height=%u ! fakesink name=sink", dev, modes[k], w, h);
			snprintf(what, sizeof(what), "v4l2src io-mode=%s, vivid "
				 "webcam %ux%u YUYV ! fakesink", modes[k], w, h);
			measure(row, desc, n, bytes, what, &fn, &fd);
		}
		if (fn <= 0) {
			fn = 30;
			fd = 1;
		}
		for (int k = 0; k < 2; k++) {
			snprintf(desc, sizeof(desc), "zcbufsrc name=src use-rings=%s "
				 "! video/x-raw,format=YUY2,width=%u,height=%u,"
				 "framerate=%d/%d ! fakesink name=sink",
				 k ? "false" : "true", w, h, fn, fd);
			snprintf(what, sizeof(what), "zcbufsrc%s, camera %ux%u "
				 "YUY2 at vivid's rate ! fakesink",
				 k ? " use-rings=false (DQBUF/QBUF)" : " (rings)", w, h);
			measure(k ? "zcbufsrc-ioctl" : "zcbufsrc", desc, n, bytes,
				what, &zn, &zd);
		}
		/*
		 * GStreamer's own floor at the same rate: a live fakesrc that
		 * waits on the pipeline clock for every 1-byte buffer it
		 * allocates, into the same fakesink.  What every source pays
		 * per frame (GstBaseSrc's loop, one sleep and wake-up, a
		 * buffer, the push, GstBaseSink's chain) without a device.
		 */
		snprintf(desc, sizeof(desc), "fakesrc name=src is-live=true "
			 "sync=true sizetype=fixed sizemax=1 datarate=%d ! "
			 "fakesink name=sink", (fn + fd / 2) / fd);
		snprintf(what, sizeof(what), "fakesrc is-live sync, 1-byte "
			 "buffers at %d/%d per s ! fakesink: GStreamer's per-"
			 "buffer floor, no device", fn, fd);
		measure("gst-floor", desc, n, bytes, what, &zn, &zd);
	}
	if (out)
		fclose(csv);
	return failures ? 1 : 0;
}
