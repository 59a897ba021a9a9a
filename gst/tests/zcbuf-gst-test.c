// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-gst-test: zcbufsrc driven through the GStreamer API, in the guest.
 *
 * Each subcommand builds a pipeline `zcbufsrc post-messages=true ! <caps> !
 * fakesink`, watches every buffer that reaches the sink with a pad probe and
 * every message with a synchronous bus handler, and checks:
 *
 *  - content: the probe maps the buffer (GstDmaBufAllocator: mmap of the
 *    DMA-buf + DMA_BUF_IOCTL_SYNC) and its CRC-32 must equal the checksum the
 *    device reported for that frame in its zcbuf-frame message;
 *  - order: buffer offsets (device sequence numbers) increase; a gap must
 *    come with GST_BUFFER_FLAG_DISCONT and add up to the "dropped" property;
 *    timestamps never go back;
 *  - lifetime: after the pipeline is back in NULL the module holds no
 *    context and no buffer (/sys/kernel/debug/zcbuf/counters).
 *
 * usage: zcbuf-gst-test frames N | restart | drops | hold | missing | notzcbuf
 *        | remove CMD
 * Exit status: 0 pass, 1 fail, 4 skip; "# " lines say why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>

#include <zcbuf/libzcbuf.h>

#define NCRC		4096
#define MAX_HELD	64

struct run {
	GstElement *pipe, *src, *sink;
	GMutex lock;
	GCond cond;

	/* zcbuf-frame messages: CRC by buffer offset. */
	guint32 crc[NCRC];
	guint64 crc_off[NCRC];
	gboolean crc_set[NCRC];
	guint qos;

	/* What reached the sink since reset(). */
	guint64 frames, bad_crc, no_crc, gaps, gap_frames, missing_discont;
	guint64 bad_order;
	gboolean have_last;
	guint64 last_offset;
	GstClockTime last_pts;
	GstBuffer *seen[MAX_HELD];
	guint nseen;

	/* Knobs for the probe. */
	gboolean map;
	guint sleep_us;
	guint hold_max;
	GstBuffer *held[MAX_HELD];
	guint nheld;

	/* First error on the bus. */
	GError *error;
	gboolean eos;
};

static int failures;

#define FAIL(...) do { printf("# FAIL: " __VA_ARGS__); printf("\n"); failures++; } while (0)

static GstBusSyncReply on_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	struct run *r = data;
	const GstStructure *s;

	(void)bus;
	g_mutex_lock(&r->lock);
	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ELEMENT:
		s = gst_message_get_structure(msg);
		if (s && gst_structure_has_name(s, "zcbuf-frame")) {
			guint64 off = 0;
			guint crc = 0;

			gst_structure_get_uint64(s, "offset", &off);
			gst_structure_get_uint(s, "checksum", &crc);
			r->crc[off % NCRC] = crc;
			r->crc_off[off % NCRC] = off;
			r->crc_set[off % NCRC] = TRUE;
		}
		break;
	case GST_MESSAGE_QOS:
		if (GST_MESSAGE_SRC(msg) == GST_OBJECT(r->src))
			r->qos++;
		break;
	case GST_MESSAGE_ERROR:
		if (!r->error) {
			gchar *dbg = NULL;

			gst_message_parse_error(msg, &r->error, &dbg);
			printf("# bus: ERROR from %s: %s (%s)\n",
			       GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
			       r->error->message, dbg ? dbg : "");
			g_free(dbg);
		}
		g_cond_broadcast(&r->cond);
		break;
	case GST_MESSAGE_EOS:
		r->eos = TRUE;
		g_cond_broadcast(&r->cond);
		break;
	default:
		break;
	}
	g_mutex_unlock(&r->lock);
	return GST_BUS_PASS;
}

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info,
				   gpointer data)
{
	struct run *r = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	guint64 off = GST_BUFFER_OFFSET(buf);
	GstClockTime pts = GST_BUFFER_PTS(buf);
	gboolean discont = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT);
	guint32 crc = 0;
	gboolean mapped = FALSE;
	GstMapInfo map;
	guint i;

	(void)pad;
	if (r->map && gst_buffer_map(buf, &map, GST_MAP_READ)) {
		crc = zcbuf_crc32(0, map.data, map.size);
		gst_buffer_unmap(buf, &map);
		mapped = TRUE;
	}
	if (r->sleep_us)
		g_usleep(r->sleep_us);

	g_mutex_lock(&r->lock);
	if (r->map && !mapped) {
		r->bad_crc++;
	} else if (r->map) {
		i = off % NCRC;
		if (!r->crc_set[i] || r->crc_off[i] != off)
			r->no_crc++;
		else if (r->crc[i] != crc && r->bad_crc++ < 3)
			printf("# offset %" G_GUINT64_FORMAT ": CRC-32 %08x, "
			       "device says %08x\n", off, crc, r->crc[i]);
	}
	if (r->have_last) {
		if (off <= r->last_offset ||
		    (GST_CLOCK_TIME_IS_VALID(pts) && pts < r->last_pts))
			r->bad_order++;
		else if (off > r->last_offset + 1) {
			r->gaps++;
			r->gap_frames += off - r->last_offset - 1;
			if (!discont)
				r->missing_discont++;
		}
	}
	r->have_last = TRUE;
	r->last_offset = off;
	r->last_pts = pts;
	for (i = 0; i < r->nseen && r->seen[i] != buf; i++)
		;
	if (i == r->nseen && r->nseen < MAX_HELD)
		r->seen[r->nseen++] = buf;
	if (r->nheld < r->hold_max)
		r->held[r->nheld++] = gst_buffer_ref(buf);
	r->frames++;
	g_cond_broadcast(&r->cond);
	g_mutex_unlock(&r->lock);
	return GST_PAD_PROBE_OK;
}

static void reset(struct run *r)
{
	g_mutex_lock(&r->lock);
	r->frames = r->bad_crc = r->no_crc = r->gaps = r->gap_frames = 0;
	r->missing_discont = r->bad_order = 0;
	r->have_last = FALSE;
	r->nseen = 0;
	r->eos = FALSE;
	g_mutex_unlock(&r->lock);
}

static void release_held(struct run *r)
{
	guint i, n;
	GstBuffer *held[MAX_HELD];

	g_mutex_lock(&r->lock);
	n = r->nheld;
	memcpy(held, r->held, n * sizeof(held[0]));
	r->nheld = 0;
	r->hold_max = 0;
	g_mutex_unlock(&r->lock);
	for (i = 0; i < n; i++)
		gst_buffer_unref(held[i]);
}

static struct run *make(const char *desc)
{
	struct run *r = g_new0(struct run, 1);
	GError *err = NULL;
	GstBus *bus;
	GstPad *pad;

	g_mutex_init(&r->lock);
	g_cond_init(&r->cond);
	r->map = TRUE;
	r->pipe = gst_parse_launch(desc, &err);
	if (!r->pipe) {
		printf("# FAIL: gst_parse_launch(%s): %s\n", desc, err->message);
		exit(1);
	}
	printf("# pipeline: %s\n", desc);
	r->src = gst_bin_get_by_name(GST_BIN(r->pipe), "src");
	r->sink = gst_bin_get_by_name(GST_BIN(r->pipe), "sink");
	bus = gst_element_get_bus(r->pipe);
	gst_bus_set_sync_handler(bus, on_message, r, NULL);
	gst_object_unref(bus);
	pad = gst_element_get_static_pad(r->sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, r, NULL);
	gst_object_unref(pad);
	return r;
}

static void destroy(struct run *r)
{
	release_held(r);
	gst_element_set_state(r->pipe, GST_STATE_NULL);
	gst_object_unref(r->src);
	gst_object_unref(r->sink);
	gst_object_unref(r->pipe);
	if (r->error)
		g_error_free(r->error);
	g_free(r);
}

/* Until @n frames reached the sink since reset(), EOS, an error or @secs. */
static gboolean wait_frames(struct run *r, guint64 n, int secs)
{
	gint64 end = g_get_monotonic_time() + (gint64)secs * G_TIME_SPAN_SECOND;
	gboolean ok;

	g_mutex_lock(&r->lock);
	while (r->frames < n && !r->error && !r->eos)
		if (!g_cond_wait_until(&r->cond, &r->lock, end))
			break;
	ok = r->frames >= n;
	if (!ok)
		printf("# FAIL: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
		       " frames after %d s%s\n", r->frames, n, secs,
		       r->error ? " (error on the bus)" : r->eos ? " (EOS)" : "");
	g_mutex_unlock(&r->lock);
	if (!ok)
		failures++;
	return ok;
}

static gboolean wait_eos(struct run *r, int secs)
{
	gint64 end = g_get_monotonic_time() + (gint64)secs * G_TIME_SPAN_SECOND;
	gboolean ok;

	g_mutex_lock(&r->lock);
	while (!r->eos && !r->error)
		if (!g_cond_wait_until(&r->cond, &r->lock, end))
			break;
	ok = r->eos;
	g_mutex_unlock(&r->lock);
	if (!ok)
		FAIL("no EOS within %d s", secs);
	return ok;
}

static gboolean set_state(struct run *r, GstState state)
{
	GstStateChangeReturn ret = gst_element_set_state(r->pipe, state);

	if (ret == GST_STATE_CHANGE_ASYNC)
		ret = gst_element_get_state(r->pipe, NULL, NULL,
					    20 * GST_SECOND);
	if (ret == GST_STATE_CHANGE_FAILURE) {
		FAIL("state change to %s failed", gst_element_state_get_name(state));
		return FALSE;
	}
	return TRUE;
}

/* What the probe saw since reset() must be clean. */
static void check_stream(struct run *r, const char *what, gboolean gaps_ok)
{
	g_mutex_lock(&r->lock);
	printf("# %s: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
	       " gaps (%" G_GUINT64_FORMAT " frames), %u distinct buffers\n",
	       what, r->frames, r->gaps, r->gap_frames, r->nseen);
	if (r->bad_crc)
		FAIL("%s: %" G_GUINT64_FORMAT " frames differ from the device's",
		     what, r->bad_crc);
	if (r->no_crc)
		FAIL("%s: %" G_GUINT64_FORMAT " frames had no zcbuf-frame message",
		     what, r->no_crc);
	if (r->bad_order)
		FAIL("%s: offsets or timestamps went back %" G_GUINT64_FORMAT
		     " times", what, r->bad_order);
	if (r->missing_discont)
		FAIL("%s: %" G_GUINT64_FORMAT " gaps without DISCONT", what,
		     r->missing_discont);
	if (!gaps_ok && r->gaps)
		FAIL("%s: frames were lost", what);
	g_mutex_unlock(&r->lock);
}

/* The module's live objects (debugfs); -1 if unknown. */
static long counter(const char *name)
{
	char line[128];
	long v = -1;
	size_t n = strlen(name);
	FILE *f = fopen("/sys/kernel/debug/zcbuf/counters", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void check_released(const char *when)
{
	long c = counter("contexts"), b = counter("buffers");

	printf("# %s: module holds %ld contexts, %ld buffers\n", when, c, b);
	if (c != 0 || b != 0)
		FAIL("%s: zcbuf contexts or buffers left behind", when);
}

static guint64 prop_u64(GstElement *e, const char *name)
{
	guint64 v = 0;

	g_object_get(e, name, &v, NULL);
	return v;
}

#define CAPS_YUY2 "video/x-raw,format=YUY2,width=320,height=240"

/* N frames as fast as they come back (fps 0: no frame may be lost). */
static void test_frames(guint n)
{
	gchar *desc = g_strdup_printf("zcbufsrc name=src post-messages=true "
				      "num-buffers=%u framerate=0/1 ! " CAPS_YUY2
				      " ! fakesink name=sink", n);
	struct run *r = make(desc);

	g_free(desc);
	reset(r);
	if (set_state(r, GST_STATE_PLAYING) && wait_eos(r, 60)) {
		check_stream(r, "frames", FALSE);
		if (r->frames != n)
			FAIL("%" G_GUINT64_FORMAT " frames reached the sink, "
			     "not %u", r->frames, n);
		if (prop_u64(r->src, "frames") != n || prop_u64(r->src, "dropped"))
			FAIL("src says frames=%" G_GUINT64_FORMAT " dropped=%"
			     G_GUINT64_FORMAT, prop_u64(r->src, "frames"),
			     prop_u64(r->src, "dropped"));
	}
	destroy(r);
	check_released("after NULL");
}

/* PLAYING -> PAUSED -> PLAYING -> NULL -> PLAYING -> READY -> PLAYING. */
static void test_restart(void)
{
	struct run *r = make("zcbufsrc name=src post-messages=true pool-size=3 "
			     "! video/x-raw,format=RGB,width=64,height=48,"
			     "framerate=50/1 ! fakesink name=sink");
	int round;

	for (round = 0; round < 3; round++) {
		reset(r);
		if (!set_state(r, GST_STATE_PLAYING) || !wait_frames(r, 5, 30))
			break;
		if (round == 0) {
			/*
			 * A live source sends nothing in PAUSED; the device
			 * goes on, so frames are lost, and the next buffer
			 * must say so.
			 */
			if (!set_state(r, GST_STATE_PAUSED))
				break;
			g_usleep(300 * 1000);
			if (!set_state(r, GST_STATE_PLAYING) ||
			    !wait_frames(r, 10, 30))
				break;
			check_stream(r, "pause+resume", TRUE);
			if (!r->gaps || prop_u64(r->src, "dropped") < r->gap_frames)
				FAIL("pause: no gap seen (gaps %" G_GUINT64_FORMAT
				     ", dropped %" G_GUINT64_FORMAT ")", r->gaps,
				     prop_u64(r->src, "dropped"));
		} else {
			check_stream(r, round == 1 ? "after NULL" : "after READY",
				     TRUE);
		}
		if (!set_state(r, round == 1 ? GST_STATE_READY : GST_STATE_NULL))
			break;
		if (round == 0)
			check_released("PLAYING -> NULL");
	}
	destroy(r);
	check_released("end");
}

/* A slow consumer at 100 fps with 2 buffers: gaps, DISCONT, dropped, QoS. */
static void test_drops(void)
{
	struct run *r = make("zcbufsrc name=src post-messages=true pool-size=2 "
			     "! " CAPS_YUY2 ",framerate=100/1 ! fakesink name=sink");
	guint64 dropped;

	r->sleep_us = 40000;
	reset(r);
	if (set_state(r, GST_STATE_PLAYING) && wait_frames(r, 15, 60)) {
		set_state(r, GST_STATE_PAUSED);
		check_stream(r, "slow consumer", TRUE);
		dropped = prop_u64(r->src, "dropped");
		printf("# dropped property %" G_GUINT64_FORMAT ", %u QoS "
		       "messages\n", dropped, r->qos);
		if (!r->gaps)
			FAIL("no frame was lost at 100 fps with a 40 ms consumer");
		if (dropped < r->gap_frames)
			FAIL("dropped=%" G_GUINT64_FORMAT " < %" G_GUINT64_FORMAT
			     " frames missing at the sink", dropped, r->gap_frames);
		if (r->qos < r->gaps)
			FAIL("%u QoS messages for %" G_GUINT64_FORMAT " gaps",
			     r->qos, r->gaps);
	}
	destroy(r);
	check_released("end");
}

/*
 * Downstream keeps pool-size - 1 buffers: the one left keeps circulating.
 * When it lets them go they must go back to the device: all pool-size
 * buffers are used again.  (fakesink keeps no last sample here: that
 * would be one more buffer held.)
 */
static void test_hold(void)
{
	struct run *r = make("zcbufsrc name=src post-messages=true pool-size=4 "
			     "framerate=0/1 ! " CAPS_YUY2 " ! fakesink name=sink "
			     "enable-last-sample=false");

	r->hold_max = 3;
	reset(r);
	if (set_state(r, GST_STATE_PLAYING) && wait_frames(r, 20, 60)) {
		check_stream(r, "3 of 4 held", FALSE);
		if (r->nseen != 4)
			FAIL("%u buffers used while 3 were held (want 4: 3 "
			     "held + 1 circulating)", r->nseen);
		release_held(r);
		reset(r);
		if (wait_frames(r, 20, 60)) {
			check_stream(r, "released", FALSE);
			if (r->nseen != 4)
				FAIL("%u distinct buffers after release, want 4",
				     r->nseen);
		}
	}
	destroy(r);
	check_released("end");
}

/* A device that cannot be used: an error on the bus, at once. */
static void test_bad_device(const char *device, GQuark domain, gint code,
			    const char *text)
{
	gchar *desc = g_strdup_printf("zcbufsrc name=src device=%s ! "
				      "fakesink name=sink", device);
	struct run *r = make(desc);
	GstStateChangeReturn ret;
	gint64 t = g_get_monotonic_time();

	g_free(desc);
	ret = gst_element_set_state(r->pipe, GST_STATE_PLAYING);
	if (ret == GST_STATE_CHANGE_ASYNC)
		ret = gst_element_get_state(r->pipe, NULL, NULL, 10 * GST_SECOND);
	printf("# state change: %s after %.2f s\n",
	       gst_element_state_change_return_get_name(ret),
	       (g_get_monotonic_time() - t) / 1e6);
	if (ret != GST_STATE_CHANGE_FAILURE)
		FAIL("PLAYING with device %s did not fail", device);
	if (!r->error)
		FAIL("no error message on the bus");
	else if (r->error->domain != domain || r->error->code != code ||
		 !strstr(r->error->message, text))
		FAIL("error %s/%d \"%s\", want %s/%d \"...%s...\"",
		     g_quark_to_string(r->error->domain), r->error->code,
		     r->error->message, g_quark_to_string(domain), code, text);
	destroy(r);
}

/*
 * The device goes away while frames flow (CMD, run through the shell,
 * removes it): an error on the bus within seconds, and NULL still works.
 */
static void test_remove(const char *cmd)
{
	struct run *r = make("zcbufsrc name=src post-messages=true "
			     "! " CAPS_YUY2 ",framerate=50/1 ! fakesink name=sink");
	gint64 t;
	int st;

	reset(r);
	if (set_state(r, GST_STATE_PLAYING) && wait_frames(r, 5, 30)) {
		printf("# removing the device: %s\n", cmd);
		st = system(cmd);
		if (st)
			FAIL("'%s' exited %d", cmd, st);
		t = g_get_monotonic_time();
		g_mutex_lock(&r->lock);
		while (!r->error &&
		       g_get_monotonic_time() < t + 10 * G_TIME_SPAN_SECOND)
			g_cond_wait_until(&r->cond, &r->lock,
					  t + 10 * G_TIME_SPAN_SECOND);
		g_mutex_unlock(&r->lock);
		printf("# error after %.2f s\n",
		       (g_get_monotonic_time() - t) / 1e6);
		if (!r->error)
			FAIL("no error on the bus within 10 s of removal");
		check_stream(r, "before removal", TRUE);
	}
	t = g_get_monotonic_time();
	if (!set_state(r, GST_STATE_NULL))
		FAIL("NULL after removal");
	printf("# NULL after %.2f s\n", (g_get_monotonic_time() - t) / 1e6);
	destroy(r);
}

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "frames") && argc == 3)
		test_frames(strtoul(argv[2], NULL, 0));
	else if (!strcmp(argv[1], "restart"))
		test_restart();
	else if (!strcmp(argv[1], "drops"))
		test_drops();
	else if (!strcmp(argv[1], "hold"))
		test_hold();
	else if (!strcmp(argv[1], "missing"))
		test_bad_device("/dev/zcbuf-missing", GST_RESOURCE_ERROR,
				GST_RESOURCE_ERROR_NOT_FOUND, "does not exist");
	else if (!strcmp(argv[1], "notzcbuf"))
		test_bad_device("/dev/null", GST_RESOURCE_ERROR,
				GST_RESOURCE_ERROR_NOT_FOUND, "not a zcbuf device");
	else if (!strcmp(argv[1], "remove") && argc == 3)
		test_remove(argv[2]);
	else
		goto usage;
	printf("# %s: %s\n", argv[1], failures ? "FAIL" : "pass");
	return failures ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s frames N | restart | drops | hold | missing "
		"| notzcbuf | remove CMD\n", argv[0]);
	return 2;
}
