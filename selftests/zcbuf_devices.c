// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_devices: devices registered by drivers, listed and picked.
 *
 * The simulated camera/NIC lives in its own module (zcbuf_sim.ko) and
 * registers through zcbuf's device API: these tests find it through
 * ZCBUF_IOC_DEVICE_INFO and /sys/class/zcbuf/, check every field and bad
 * input of the listing, pick devices by id in CONFIG (and by the
 * default_device parameter), and prove that a module other than zcbuf put
 * the device there: unloading zcbuf_sim takes it away, loading it with
 * nr_devices=2 brings two.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "zcbuf_rel.h"
#include "zcbuf_stream.h"

#define CLASS		"/sys/class/zcbuf"
#define DEFAULT_PARAM	"/sys/module/zcbuf/parameters/default_device"

/* A sysfs file's text without its newline: length or -errno. */
static int read_str(const char *path, char *buf, size_t len)
{
	int n = zc_read_file(path, buf, len);

	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return n;
}

static long long read_num(const char *path)
{
	char buf[64];

	return read_str(path, buf, sizeof(buf)) > 0 ? strtoll(buf, NULL, 0) : -1;
}

FIXTURE(devices)
{
	int fd;
	struct zcbuf_device_desc sim;
};

FIXTURE_SETUP(devices)
{
	int id;

	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	id = zc_device_find(self->fd, "sim0");
	if (id == -ENODEV && !zc_module_loaded("zcbuf_sim"))
		SKIP(return, "zcbuf_sim.ko is not loaded");
	ASSERT_LT(0, id);
	ASSERT_EQ(0, zc_device_info(self->fd, id, &self->sim));
}

FIXTURE_TEARDOWN(devices)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Every field of the simulator's entry, and the padding zeroed. */
TEST_F(devices, describe_sim)
{
	const struct zcbuf_device_desc *d = &self->sim;
	struct zcbuf_info info;

	ASSERT_EQ(0, zc_info(self->fd, &info));
	EXPECT_NE(0, info.caps & ZCBUF_CAP_DEVICES);
	EXPECT_LE(1U, info.version & 0xffff);

	EXPECT_STREQ("sim0", d->name);
	EXPECT_EQ(0U, d->flags);
	EXPECT_EQ(ZCBUF_KIND_CAMERA | ZCBUF_KIND_NIC_RX | ZCBUF_KIND_NIC_TX,
		  d->kinds);
	EXPECT_EQ(16U, d->min_width);
	EXPECT_EQ(8192U, d->max_width);
	EXPECT_EQ(16U, d->min_height);
	EXPECT_EQ(8192U, d->max_height);
	EXPECT_EQ(ZCBUF_FMT_RGB24, d->formats[0]);
	EXPECT_EQ(ZCBUF_FMT_YUYV, d->formats[1]);
	for (int i = 2; i < ZCBUF_DEVICE_MAX_FORMATS; i++)
		EXPECT_EQ(0U, d->formats[i]);
	EXPECT_EQ(0U, d->reserved0);
	EXPECT_EQ(0ULL, d->max_frame_size);
	EXPECT_EQ(0ULL, d->reserved[0] | d->reserved[1] | d->reserved[2]);
}

/* Listing: ids ascend, names are unique, and the list ends with ENODEV. */
TEST_F(devices, list)
{
	struct zcbuf_device_desc d, prev = { 0 };
	uint32_t id = 0;
	int n = 0, ret;
	bool seen = false;

	while (!(ret = zc_device_info(self->fd, id, &d))) {
		ASSERT_LE(id, d.id);
		if (n)
			ASSERT_STRNE(prev.name, d.name);
		ASSERT_NE(NULL, memchr(d.name, 0, sizeof(d.name)));
		seen |= d.id == self->sim.id;
		prev = d;
		id = d.id + 1;
		ASSERT_GT(1000, ++n);
	}
	EXPECT_EQ(-ENODEV, ret);
	EXPECT_TRUE(seen);
	/* The exact id is found; one past the last is not. */
	ASSERT_EQ(0, zc_device_info(self->fd, self->sim.id, &d));
	EXPECT_EQ(self->sim.id, d.id);
	EXPECT_EQ(-ENODEV, zc_device_info(self->fd, prev.id + 1, &d));
	EXPECT_EQ(-ENODEV, zc_device_info(self->fd, UINT32_MAX, &d));
}

/* A listing loop may pass the previous answer back: outputs are ignored. */
TEST_F(devices, outputs_ignored_on_input)
{
	struct zcbuf_device_desc d = self->sim;

	memset(d.name, 'x', sizeof(d.name));
	d.kinds = ~0U;
	d.max_frame_size = ~0ULL;
	d.reserved[2] = 1;
	ASSERT_EQ(0, zc_ioctl(self->fd, ZCBUF_IOC_DEVICE_INFO, &d));
	EXPECT_STREQ("sim0", d.name);
	EXPECT_EQ(self->sim.kinds, d.kinds);
	EXPECT_EQ(0ULL, d.max_frame_size);
	EXPECT_EQ(0ULL, d.reserved[2]);
}

TEST_F(devices, bad_input)
{
	struct zcbuf_device_desc d = { .id = self->sim.id, .flags = 1 };
	unsigned long cmd;

	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_DEVICE_INFO, &d));
	d.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, ZCBUF_IOC_DEVICE_INFO, &d));
	/* Shorter than the first version of the struct. */
	cmd = ZC_IOC_RESIZE(ZCBUF_IOC_DEVICE_INFO, 8);
	d.flags = 0;
	EXPECT_EQ(-EINVAL, zc_ioctl(self->fd, cmd, &d));
	/* Longer, with a non-zero tail: E2BIG; zero tail: fine. */
	{
		struct {
			struct zcbuf_device_desc d;
			uint64_t tail;
		} big = { .d = { .id = self->sim.id }, .tail = 1 };

		cmd = ZC_IOC_RESIZE(ZCBUF_IOC_DEVICE_INFO, sizeof(big));
		EXPECT_EQ(-E2BIG, zc_ioctl(self->fd, cmd, &big));
		big.tail = 0;
		EXPECT_EQ(0, zc_ioctl(self->fd, cmd, &big));
		EXPECT_STREQ("sim0", big.d.name);
	}
	EXPECT_EQ(-EFAULT, zc_ioctl(self->fd, ZCBUF_IOC_DEVICE_INFO, NULL));
	/* The write direction alone is not this command. */
	cmd = _IOW(ZCBUF_IOC_MAGIC, 0x10, struct zcbuf_device_desc);
	EXPECT_EQ(-ENOTTY, zc_ioctl(self->fd, cmd, &d));
}

static int config_cam(int fd, uint32_t device, uint32_t *frame_size)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_CAMERA, .width = 64, .height = 48,
		.pixelformat = ZCBUF_FMT_YUYV, .device = device,
	};

	return zs_config(fd, &cfg, frame_size);
}

/* CONFIG picks the device by id; unknown ids are ENODEV, state intact. */
TEST_F(devices, config_by_id)
{
	struct zcbuf_dqbuf d;
	uint32_t fs, idx;

	ASSERT_EQ(0, config_cam(self->fd, self->sim.id, &fs));
	EXPECT_EQ(64U * 48 * 2, fs);
	EXPECT_EQ(-ENODEV, config_cam(self->fd, 0xffffff, NULL));
	EXPECT_EQ(-ENODEV, config_cam(self->fd, UINT32_MAX, NULL));
	/* The refused CONFIG left the sim configured: it streams. */
	ASSERT_EQ(0, zc_alloc(self->fd, fs, 1, 0, &idx));
	ASSERT_EQ(0, zs_qbuf(self->fd, idx, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	EXPECT_EQ(0U, d.flags);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	/* NONE takes no device id. */
	{
		struct zcbuf_config cfg = { .device = self->sim.id };

		EXPECT_EQ(-EINVAL, zs_config(self->fd, &cfg, NULL));
	}
}

/* sysfs: one directory per device with its id, name, kinds and counters. */
TEST_F(devices, sysfs)
{
	char path[256], buf[128];
	long long frames;
	struct zcbuf_dqbuf d;
	uint32_t fs, idx;

	snprintf(path, sizeof(path), CLASS "/%s/id", self->sim.name);
	EXPECT_EQ(self->sim.id, read_num(path));
	snprintf(path, sizeof(path), CLASS "/%s/name", self->sim.name);
	ASSERT_LT(0, read_str(path, buf, sizeof(buf)));
	EXPECT_STREQ("sim0", buf);
	snprintf(path, sizeof(path), CLASS "/%s/kinds", self->sim.name);
	ASSERT_LT(0, read_str(path, buf, sizeof(buf)));
	EXPECT_STREQ("camera nic_rx nic_tx", buf);
	/* Its parent is the driver's device. */
	snprintf(path, sizeof(path), CLASS "/%s/device", self->sim.name);
	EXPECT_EQ(0, access(path, F_OK));

	snprintf(path, sizeof(path), CLASS "/%s/frames", self->sim.name);
	frames = read_num(path);
	ASSERT_LE(0, frames);
	ASSERT_EQ(0, config_cam(self->fd, self->sim.id, &fs));
	snprintf(path, sizeof(path), CLASS "/%s/contexts", self->sim.name);
	EXPECT_LE(1, read_num(path));
	ASSERT_EQ(0, zc_alloc(self->fd, fs, 1, 0, &idx));
	ASSERT_EQ(0, zs_qbuf(self->fd, idx, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	snprintf(path, sizeof(path), CLASS "/%s/streams", self->sim.name);
	EXPECT_LE(1, read_num(path));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	ASSERT_EQ(0, zs_streamoff(self->fd));
	snprintf(path, sizeof(path), CLASS "/%s/frames", self->sim.name);
	EXPECT_LE(frames + 1, read_num(path));
	snprintf(path, sizeof(path), CLASS "/%s/bytes", self->sim.name);
	EXPECT_LE((long long)fs, read_num(path));
}

/* default_device names the device CONFIG with id 0 picks. */
TEST_F(devices, default_device)
{
	char old[64] = "";

	if (read_str(DEFAULT_PARAM, old, sizeof(old)) < 0)
		SKIP(return, "no %s", DEFAULT_PARAM);
	ASSERT_EQ(0, zc_write_file(DEFAULT_PARAM, "no-such-device"));
	EXPECT_EQ(-ENODEV, config_cam(self->fd, 0, NULL));
	ASSERT_EQ(0, zc_write_file(DEFAULT_PARAM, "sim0\n"));
	EXPECT_EQ(0, config_cam(self->fd, 0, NULL));
	ASSERT_EQ(0, zc_write_file(DEFAULT_PARAM, old[0] ? old : "\n"));
	EXPECT_EQ(0, config_cam(self->fd, 0, NULL));
}

/*
 * The device comes from another module: unloading zcbuf_sim takes it away
 * (and its sysfs directory), loading it with nr_devices=2 registers two,
 * with new ids, both usable; then it is loaded as the runner had it.
 */
TEST_F(devices, external_module)
{
	struct zcbuf_device_desc d;
	int id0, id1;

	if (!zc_driver_path("zcbuf_sim", (char[256]){ 0 }, 256))
		SKIP(return, "$ZCBUF_DRIVERS does not name zcbuf_sim.ko");
	ASSERT_EQ(0, access("/sys/module/zcbuf/holders/zcbuf_sim", F_OK));
	close(self->fd);
	self->fd = -1;

	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	self->fd = zc_open();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-ENODEV, zc_device_find(self->fd, "sim0"));
	EXPECT_NE(0, access(CLASS "/sim0", F_OK));
	EXPECT_EQ(-ENODEV, config_cam(self->fd, self->sim.id, NULL));

	ASSERT_EQ(0, zc_module_load("zcbuf_sim", "nr_devices=2"));
	id0 = zc_device_find(self->fd, "sim0");
	id1 = zc_device_find(self->fd, "sim1");
	ASSERT_LT(0, id0);
	ASSERT_LT(0, id1);
	EXPECT_LT(self->sim.id, (uint32_t)id0);
	EXPECT_NE(id0, id1);
	EXPECT_EQ(0, zc_device_info(self->fd, id1, &d));
	EXPECT_STREQ("sim1", d.name);
	EXPECT_EQ(0, config_cam(self->fd, id1, NULL));
	EXPECT_EQ(0, config_cam(self->fd, id0, NULL));
	EXPECT_EQ(0, access(CLASS "/sim1/kinds", F_OK));

	ASSERT_EQ(0, zs_config_none(self->fd));
	ASSERT_EQ(0, zc_module_unload("zcbuf_sim"));
	ASSERT_EQ(0, zc_module_load("zcbuf_sim", NULL));
	EXPECT_LT(0, zc_device_find(self->fd, "sim0"));
	EXPECT_EQ(-ENODEV, zc_device_find(self->fd, "sim1"));
}

TEST_HARNESS_MAIN
