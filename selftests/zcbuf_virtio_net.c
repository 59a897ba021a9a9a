// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_virtio_net: a virtio-net device behind zcbuf (zcbuf_virtio_net.ko),
 * receiving real frames from the kernel's own network stack.
 *
 * Needs a guest with two virtio-net devices on one QEMU hub, the second
 * with iommu_platform=on (the runner's virtio-net boot):
 *   -netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0
 *   -netdev hubport,id=n1,hubid=0
 *   -device virtio-net-pci,netdev=n1,iommu_platform=on,disable-legacy=on
 * The first stays with the kernel's virtio_net: the peer.  Its AF_PACKET
 * socket sends frames into zcbuf's RX and receives zcbuf's TX; the second
 * is unbound from virtio_net and given to zcbuf_virtio_net.
 *
 * - RX: every byte of every frame, at 64, 1500 and 9000 bytes (the peer's
 *   MTU is raised to 9000), descriptors and checksums; the same bytes with
 *   every checksum 0 under ZCBUF_CFG_NO_CHECKSUM;
 * - frames that arrive while no buffer is queued are counted as dropped,
 *   and every frame sent is either delivered or counted;
 * - unbind mid-stream: ENODEV, POLLERR | POLLHUP; bind again; nothing leaks;
 * - TX: every byte of every frame zcbuf sends reaches the peer's AF_PACKET
 *   socket, at 64, 1500 and 9000 bytes, also under ZCBUF_CFG_NO_CHECKSUM
 *   (checksum 0); bad lengths complete with an error;
 * - a device not named in the module parameter is never bound.
 * SKIPs on kernels without premapped virtqueues (before 6.12).
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "zcbuf_rel.h"
#include "zcbuf_stream.h"

#define NBUFS		8
#define PKTS		4	/* per RX buffer */
#define ETH_TYPE_TEST	0x88b5	/* IEEE local experimental */
#define PEER_MTU	9000
#define STEP_MS		50	/* polling step while frames are in flight */
#define DRV		"/sys/bus/virtio/drivers/zcbuf_virtio_net"
#define VIRTIO_NET_DRV	"/sys/bus/virtio/drivers/virtio_net"
#define PARAM		"/sys/module/zcbuf_virtio_net/parameters/devices"

static const uint8_t test_src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };

/* Whether the running kernel is at least @maj.@min. */
static bool kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/* The name of the driver bound to virtio device @dev, or "" if none. */
static void bound_driver(const char *dev, char *drv, size_t len)
{
	char path[128], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/driver", dev);
	n = readlink(path, target, sizeof(target) - 1);
	drv[0] = 0;
	if (n > 0) {
		target[n] = 0;
		snprintf(drv, len, "%s", strrchr(target, '/') + 1);
	}
}

/* The virtio network devices ("virtio0", ...), sorted; how many. */
static int net_devices(char names[][32], int max)
{
	struct dirent **list;
	int n, i, found = 0;

	n = scandir("/sys/bus/virtio/devices", &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char path[300], id[32];

		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device",
			 list[i]->d_name);
		if (found < max && zc_read_file(path, id, sizeof(id)) > 0 &&
		    strtoul(id, NULL, 0) == 1)
			snprintf(names[found++], 32, "%.31s", list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return found;
}

/* The interface of virtio device @dev (bound to virtio_net), or -errno. */
static int net_ifname(const char *dev, char *ifname, size_t len)
{
	char path[128];
	struct dirent *e;
	DIR *d;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/net", dev);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(ifname, len, "%.15s", e->d_name);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

/* Peer interface: no IPv6 chatter, MTU 9000, up. */
static int peer_setup(const char *ifname)
{
	struct ifreq ifr = { 0 };
	char path[128];
	int s, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname);
	zc_write_file(path, "1");	/* absent without IPv6: fine */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = PEER_MTU;
	if (ioctl(s, SIOCSIFMTU, &ifr))
		ret = -errno;
	if (!ret && ioctl(s, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

/* Test frame @seq of @len bytes: broadcast, our type, seq, a pattern. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq)
{
	uint16_t type = htons(ETH_TYPE_TEST);

	memset(f, 0xff, ETH_ALEN);
	memcpy(f + ETH_ALEN, test_src, ETH_ALEN);
	memcpy(f + 2 * ETH_ALEN, &type, 2);
	memcpy(f + ETH_HLEN, &seq, 4);
	zc_fill(f + ETH_HLEN + 4, len - ETH_HLEN - 4, seq * 7919 + (uint32_t)len);
}

FIXTURE(vnet)
{
	int fd;
	int id;
	char dev[32];
	char peer[32];
	char zname[64];
	int sock;
	int ifindex;
	uint32_t first;
	size_t size;
	uint8_t *map[NBUFS];
	long long buffers0;
	uint32_t cfg_flags;	/* ZCBUF_CFG_* of config_rx() and the TX tests */
};

FIXTURE_SETUP(vnet)
{
	char names[4][32], drv[64], ifname[IF_NAMESIZE], path[128];
	struct sockaddr_ll sll = { 0 };

	self->sock = -1;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	if (!kernel_at_least(6, 12))
		SKIP(return, "this kernel has no premapped virtqueues (6.12 or later)");
	if (access(DRV, F_OK))
		SKIP(return, "zcbuf_virtio_net.ko not loaded");
	if (access(VIRTIO_NET_DRV, F_OK) && system("modprobe virtio_net"))
		SKIP(return, "no virtio_net module in the guest");
	if (net_devices(names, 4) < 2)
		SKIP(return, "needs two virtio-net devices on one QEMU hub");
	snprintf(self->peer, sizeof(self->peer), "%s", names[0]);
	snprintf(self->dev, sizeof(self->dev), "%s", names[1]);

	/* The second NIC to zcbuf, by name only. */
	ASSERT_EQ(0, zc_write_file(PARAM, self->dev));
	bound_driver(self->dev, drv, sizeof(drv));
	if (strcmp(drv, "zcbuf_virtio_net")) {
		if (!strcmp(drv, "virtio_net"))
			ASSERT_EQ(0, zc_write_file(VIRTIO_NET_DRV "/unbind",
						   self->dev));
		ASSERT_EQ(0, zc_write_file(DRV "/bind", self->dev));
	}
	snprintf(self->zname, sizeof(self->zname), "vnet-%s", self->dev);
	self->id = zs_wait_device(self->fd, self->zname, true);
	ASSERT_LT(0, self->id);
	self->buffers0 = zs_debug_counter("buffers");

	/* The first stays the kernel's. */
	bound_driver(self->peer, drv, sizeof(drv));
	if (strcmp(drv, "virtio_net"))
		ASSERT_EQ(0, zc_write_file(VIRTIO_NET_DRV "/bind", self->peer));
	ASSERT_EQ(0, net_ifname(self->peer, ifname, sizeof(ifname)));
	ASSERT_EQ(0, peer_setup(ifname));
	self->ifindex = (int)if_nametoindex(ifname);
	ASSERT_LT(0, self->ifindex);
	self->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
			    htons(ETH_TYPE_TEST));
	ASSERT_LE(0, self->sock);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_TYPE_TEST);
	sll.sll_ifindex = self->ifindex;
	ASSERT_EQ(0, bind(self->sock, (struct sockaddr *)&sll, sizeof(sll)));
	(void)path;
}

FIXTURE_TEARDOWN(vnet)
{
	int i;

	for (i = 0; i < NBUFS; i++)
		if (self->map[i])
			munmap(self->map[i], self->size);
	if (self->sock >= 0)
		close(self->sock);
	if (self->fd >= 0)
		close(self->fd);
}

FIXTURE_VARIANT(vnet)
{
	uint32_t len;
};

FIXTURE_VARIANT_ADD(vnet, f64) { .len = 64 };
FIXTURE_VARIANT_ADD(vnet, f1500) { .len = 1500 };
FIXTURE_VARIANT_ADD(vnet, f9000) { .len = 9000 };

/*
 * The tests that do not depend on the frame length: the same NICs and
 * setup, without the length variants.
 */
FIXTURE(vnet_once)
{
	FIXTURE_DATA(vnet) v;
};

FIXTURE_SETUP(vnet_once)
{
	vnet_setup(_metadata, &self->v, NULL);
}

FIXTURE_TEARDOWN(vnet_once)
{
	vnet_teardown(_metadata, &self->v, NULL);
}

static int config_rx(FIXTURE_DATA(vnet) *self, uint32_t pkts,
		     uint32_t *frame_size)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_NIC_RX, .pkt_max = ZCBUF_PKT_MAX,
		.pkts_per_buffer = pkts, .device = (uint32_t)self->id,
		.flags = self->cfg_flags,
	};

	return zs_config(self->fd, &cfg, frame_size);
}

/* The peer sends frame @seq of @len bytes. */
static int peer_send(FIXTURE_DATA(vnet) *self, uint32_t seq, size_t len)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET, .sll_ifindex = self->ifindex,
		.sll_halen = ETH_ALEN, .sll_addr = { 0xff, 0xff, 0xff, 0xff,
						     0xff, 0xff },
	};
	static uint8_t f[ZCBUF_PKT_MAX];
	ssize_t n;

	make_frame(f, len, seq);
	n = sendto(self->sock, f, len, 0, (struct sockaddr *)&to, sizeof(to));
	return n == (ssize_t)len ? 0 : -errno;
}

/*
 * Check one completed RX buffer: every descriptor a test frame of @len
 * bytes, exact, in order from *next (with @gaps, any test frame: some
 * were dropped); sets *next past the last one.  The checksums are the
 * frames' and the table's CRC-32s, or 0 under ZCBUF_CFG_NO_CHECKSUM.
 */
static void check_rx(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vnet) *self, const struct zcbuf_dqbuf *d,
		     uint32_t len, uint32_t *next, bool gaps)
{
	const uint8_t *buf = self->map[d->index - self->first];
	const struct zcbuf_pkt_desc *desc = (const void *)buf;
	bool sums = !(self->cfg_flags & ZCBUF_CFG_NO_CHECKSUM);
	static uint8_t want[ZCBUF_PKT_MAX];
	uint32_t i;

	ASSERT_EQ(0U, d->flags);
	ASSERT_EQ(0, zs_sync(self->fd, d->index,
			     ZCBUF_SYNC_START | ZCBUF_SYNC_READ, 0,
			     self->size));
	EXPECT_EQ(sums ? zs_crc32(desc, d->npackets * sizeof(*desc)) : 0,
		  d->checksum);
	for (i = 0; i < d->npackets; i++) {
		uint32_t seq;

		ASSERT_EQ(len, desc[i].length) TH_LOG("packet %u", i);
		ASSERT_EQ(0U, desc[i].offset % 64);
		ASSERT_LE(desc[i].offset + desc[i].length, self->size);
		memcpy(&seq, buf + desc[i].offset + ETH_HLEN, 4);
		if (!gaps)
			ASSERT_EQ(*next, seq);
		*next = seq;
		make_frame(want, len, seq);
		ASSERT_EQ(0, memcmp(want, buf + desc[i].offset, len))
			TH_LOG("frame %u differs", seq);
		EXPECT_EQ(sums ? zs_crc32(want, len) : 0, desc[i].checksum)
			TH_LOG("frame %u", seq);
		EXPECT_EQ(0U, desc[i].reserved);
		(*next)++;
	}
	EXPECT_EQ(desc[d->npackets - 1].offset + len, d->bytesused);
}

/*
 * Frames from the kernel's virtio_net land exactly in zcbuf's buffers.  As
 * many as the queued buffers hold: a NIC drops what finds no buffer (see
 * drops_counted), and user space here requeues only after they arrived.
 */
static void rx_exact(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vnet) *self,
		     const FIXTURE_VARIANT(vnet) *variant)
{
	uint32_t fs, next = 0, i, frames = NBUFS * PKTS;
	struct zcbuf_stats st;

	ASSERT_EQ(0, config_rx(self, PKTS, &fs));
	ASSERT_EQ(0, zc_alloc_map(self->fd, fs, NBUFS, 0, &self->first,
				  self->map, &self->size));
	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (i = 0; i < frames; i++)
		ASSERT_EQ(0, peer_send(self, i, variant->len));
	while (next < frames) {
		struct zcbuf_dqbuf d;

		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS))
			TH_LOG("%u of %u frames", next, frames);
		ASSERT_EQ(PKTS, d.npackets);
		check_rx(_metadata, self, &d, variant->len, &next, false);
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(0U, st.drops_no_buffer);
	EXPECT_EQ(frames / PKTS, st.frames);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

TEST_F(vnet, rx_exact)
{
	rx_exact(_metadata, self, variant);
}

/* ZCBUF_CFG_NO_CHECKSUM: the same bytes, every checksum 0. */
TEST_F(vnet, rx_exact_no_checksum)
{
	self->cfg_flags = ZCBUF_CFG_NO_CHECKSUM;
	rx_exact(_metadata, self, variant);
}

/* The next frame on the peer's socket, or -errno (-ETIMEDOUT). */
static ssize_t peer_recv(FIXTURE_DATA(vnet) *self, uint8_t *buf, size_t len)
{
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(self->sock, buf, len, MSG_DONTWAIT | MSG_TRUNC);
		if (n >= 0)
			return n;
		if (errno != EAGAIN)
			return -errno;
		ret = zs_poll_in(self->sock, ZS_WAIT_MS);
		if (ret <= 0)
			return ret ? ret : -ETIMEDOUT;
	}
}

/*
 * zcbuf's frames reach the peer exactly: its AF_PACKET socket gets every
 * byte of each, in order, with all buffers in the ring at once; each
 * buffer completes with what the device read (bytesused, CRC-32; 0 under
 * ZCBUF_CFG_NO_CHECKSUM).
 */
static void tx_exact(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vnet) *self,
		     const FIXTURE_VARIANT(vnet) *variant)
{
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_NIC_TX, .device = (uint32_t)self->id,
		.flags = self->cfg_flags,
	};
	bool sums = !(self->cfg_flags & ZCBUF_CFG_NO_CHECKSUM);
	static uint8_t got[ZCBUF_PKT_MAX + 1], want[ZCBUF_PKT_MAX];
	uint32_t round, i, seq = 0;
	struct zcbuf_stats st;

	ASSERT_EQ(0, zs_config(self->fd, &cfg, NULL));
	ASSERT_EQ(0, zc_alloc_map(self->fd, ZCBUF_PKT_MAX, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < NBUFS; i++) {
			make_frame(self->map[i], variant->len, seq + i);
			ASSERT_EQ(0, zs_sync(self->fd, self->first + i,
					     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE,
					     0, variant->len));
			ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i,
					     variant->len));
		}
		for (i = 0; i < NBUFS; i++) {
			struct zcbuf_dqbuf d;

			ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
			ASSERT_EQ(self->first + i, d.index);
			ASSERT_EQ(0U, d.flags);
			EXPECT_EQ(variant->len, d.bytesused);
			EXPECT_EQ(sums ? zs_crc32(self->map[i], variant->len) :
				  0, d.checksum);
		}
		for (i = 0; i < NBUFS; i++, seq++) {
			ssize_t n = peer_recv(self, got, sizeof(got));

			ASSERT_EQ((ssize_t)variant->len, n)
				TH_LOG("frame %u", seq);
			make_frame(want, variant->len, seq);
			ASSERT_EQ(0, memcmp(want, got, variant->len))
				TH_LOG("frame %u differs", seq);
		}
	}
	ASSERT_EQ(0, zs_stats(self->fd, &st));
	EXPECT_EQ(seq, st.frames);
	EXPECT_EQ(0U, st.errors);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

TEST_F(vnet, tx_exact)
{
	tx_exact(_metadata, self, variant);
}

TEST_F(vnet, tx_exact_no_checksum)
{
	self->cfg_flags = ZCBUF_CFG_NO_CHECKSUM;
	tx_exact(_metadata, self, variant);
}

/*
 * A frame shorter than an Ethernet header or longer than ZCBUF_PKT_MAX is
 * not sent: its buffer completes with ZCBUF_DQ_ERROR; the next one goes.
 */
TEST_F(vnet_once, tx_bad_length)
{
	FIXTURE_DATA(vnet) *v = &self->v;
	struct zcbuf_config cfg = {
		.personality = ZCBUF_DEV_NIC_TX, .device = (uint32_t)v->id,
	};
	static uint8_t got[ZCBUF_PKT_MAX + 1], want[ZCBUF_PKT_MAX];
	const uint64_t bad[] = { 1, ETH_HLEN - 1, ZCBUF_PKT_MAX + 1 };
	struct zcbuf_dqbuf d;
	uint32_t i;

	ASSERT_EQ(0, zs_config(v->fd, &cfg, NULL));
	ASSERT_EQ(0, zc_alloc_map(v->fd, 2 * ZCBUF_PKT_MAX, NBUFS, 0,
				  &v->first, v->map, &v->size));
	ASSERT_EQ(0, zs_streamon(v->fd));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(v->map[i], 0xff, bad[i]);
		ASSERT_EQ(0, zs_sync(v->fd, v->first + i,
				     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0,
				     bad[i]));
		ASSERT_EQ(0, zs_qbuf(v->fd, v->first + i, bad[i]));
		ASSERT_EQ(0, zs_dqbuf_wait(v->fd, &d, ZS_WAIT_MS));
		EXPECT_EQ(v->first + i, d.index);
		EXPECT_EQ(ZCBUF_DQ_ERROR, d.flags) TH_LOG("%llu bytes",
			(unsigned long long)bad[i]);
	}
	make_frame(v->map[i], 64, 7);
	ASSERT_EQ(0, zs_sync(v->fd, v->first + i,
			     ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE, 0, 64));
	ASSERT_EQ(0, zs_qbuf(v->fd, v->first + i, 64));
	ASSERT_EQ(0, zs_dqbuf_wait(v->fd, &d, ZS_WAIT_MS));
	EXPECT_EQ(0U, d.flags);
	/* Only that one reached the peer. */
	ASSERT_EQ(64, peer_recv(v, got, sizeof(got)));
	make_frame(want, 64, 7);
	EXPECT_EQ(0, memcmp(want, got, 64));
	ASSERT_EQ(0, zs_streamoff(v->fd));
}

/* Stats of the stream, waiting until drops reach @want (or 5 s pass). */
static uint64_t wait_drops(FIXTURE_DATA(vnet) *self, uint64_t want)
{
	struct zcbuf_stats st = { 0 };
	int i;

	for (i = 0; i < 250; i++) {
		if (zs_stats(self->fd, &st) || st.drops_no_buffer >= want)
			break;
		zs_sleep_ms(20);
	}
	return st.drops_no_buffer;
}

/*
 * With no buffer queued, frames are counted as dropped; once buffers are
 * queued they land again; every frame sent is one or the other.
 */
TEST_F(vnet, drops_counted)
{
	uint32_t fs, i, sent = 0, got = 0, first_seq = 0, next = 0, idle = 0;
	uint64_t drops;

	ASSERT_EQ(0, config_rx(self, 1, &fs));
	ASSERT_EQ(0, zc_alloc_map(self->fd, fs, NBUFS, 0, &self->first,
				  self->map, &self->size));
	ASSERT_EQ(0, zs_streamon(self->fd));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, peer_send(self, sent++, variant->len));
	EXPECT_EQ(8U, wait_drops(self, 8));

	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, peer_send(self, sent++, variant->len));
	/*
	 * The slots posted while none was queued catch up to 4 more; and
	 * whenever user space falls behind, frames are dropped again.  Every
	 * frame is delivered exactly or counted.  Not necessarily in order:
	 * QEMU's hub queues a frame for a NIC that has no buffer at that
	 * instant and may deliver a later one first.  A frame in flight may
	 * still go either way, so the wait looks at both, in short steps: a
	 * delivery may never come because the last frames were dropped.
	 */
	while (got + (drops = wait_drops(self, 0)) < sent) {
		struct zcbuf_dqbuf d;
		int ret = zs_dqbuf_wait(self->fd, &d, STEP_MS);

		if (ret == -ETIMEDOUT) {
			ASSERT_GT(ZS_WAIT_MS / STEP_MS, ++idle)
				TH_LOG("%u delivered, %llu dropped, %u sent",
				       got, (unsigned long long)drops, sent);
			continue;
		}
		ASSERT_EQ(0, ret);
		idle = 0;
		check_rx(_metadata, self, &d, variant->len, &next, true);
		if (!got)
			first_seq = next - 1;
		got += d.npackets;
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}
	drops = wait_drops(self, 0);
	EXPECT_EQ(sent, got + drops);
	EXPECT_LE(8U, first_seq);
	EXPECT_GE(drops, 8U);
	ASSERT_EQ(0, zs_streamoff(self->fd));
}

/* Unbind mid-stream: the context sees the device go; bind brings it back. */
TEST_F(vnet, unbind_mid_stream)
{
	struct pollfd p = { .events = POLLIN };
	struct zcbuf_dqbuf d;
	uint32_t fs, i, next = 0;

	ASSERT_EQ(0, config_rx(self, 1, &fs));
	ASSERT_EQ(0, zc_alloc_map(self->fd, fs, NBUFS, 0, &self->first,
				  self->map, &self->size));
	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	ASSERT_EQ(0, peer_send(self, 0, variant->len));
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	check_rx(_metadata, self, &d, variant->len, &next, false);
	ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	for (i = 1; i < 8; i++)
		ASSERT_EQ(0, peer_send(self, i, variant->len));

	ASSERT_EQ(0, zc_write_file(DRV "/unbind", self->dev));
	p.fd = self->fd;
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLERR | POLLHUP, p.revents);
	EXPECT_EQ(-ENODEV, zs_dqbuf(self->fd, &d));
	for (i = 0; i < NBUFS; i++)
		EXPECT_EQ(ZCBUF_STATE_USER, zs_state(self->fd, self->first + i));
	EXPECT_EQ(-ENODEV, zc_device_find(self->fd, self->zname));

	/* Back, for new configurations; the old buffers stream again. */
	ASSERT_EQ(0, zc_write_file(DRV "/bind", self->dev));
	self->id = zs_wait_device(self->fd, self->zname, true);
	ASSERT_LT(0, self->id);
	ASSERT_EQ(0, config_rx(self, 1, NULL));
	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));
	/*
	 * Frames sent before the unbind may come first: QEMU keeps the
	 * frames for a NIC that cannot take them (reset, no buffer) and
	 * hands them over once it can.  Those are exact too; then frame 100.
	 * There are at most 7 of them: with all buffers queued, none is
	 * dropped.
	 */
	ASSERT_EQ(0, peer_send(self, 100, variant->len));
	do {
		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
		check_rx(_metadata, self, &d, variant->len, &next, true);
		ASSERT_TRUE(next <= 8 || next == 101) TH_LOG("frame %u", next - 1);
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	} while (next != 101);
	ASSERT_EQ(0, zs_streamoff(self->fd));

	/* Nothing leaks: the buffers go with the context. */
	for (i = 0; i < NBUFS; i++) {
		munmap(self->map[i], self->size);
		self->map[i] = NULL;
	}
	close(self->fd);
	self->fd = -1;
	if (self->buffers0 >= 0)
		EXPECT_EQ(self->buffers0, zs_debug_counter("buffers"));
}

/* Whether the guest has an IOMMU (/sys/class/iommu has an entry). */
static bool have_iommu(void)
{
	struct dirent *e;
	bool found = false;
	DIR *d = opendir("/sys/class/iommu");

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = e->d_name[0] != '.';
	closedir(d);
	return found;
}

/*
 * Behind an IOMMU (the runner's intel-iommu boot) zcbuf's NIC is in an
 * IOMMU group: the frames of the other tests went through IOVAs of the
 * attachment's mapping, not guest-physical addresses.
 */
TEST_F(vnet_once, behind_iommu)
{
	FIXTURE_DATA(vnet) *v = &self->v;
	char path[160];

	if (!have_iommu())
		SKIP(return, "no IOMMU in this guest");
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/../iommu_group",
		 v->dev);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s: %s", path, strerror(errno));
}

/*
 * CONFIG of a virtio-net device: the wire decides sizes and timing, so a
 * camera, generator or fault field, a TX packet size or an RX size out of
 * range is EINVAL; the configurations around the refusals still work.
 */
TEST_F(vnet_once, config_refused)
{
	FIXTURE_DATA(vnet) *v = &self->v;
	const struct zcbuf_config rx = {
		.personality = ZCBUF_DEV_NIC_RX, .device = (uint32_t)v->id,
		.pkt_max = 1500, .pkts_per_buffer = 4,
	}, tx = {
		.personality = ZCBUF_DEV_NIC_TX, .device = (uint32_t)v->id,
	};
	struct zcbuf_config bad[11];
	uint32_t fs_rx = 0, fs_tx = 0, fs;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		bad[i] = i < 7 ? rx : tx;
	bad[0].personality = ZCBUF_DEV_CAMERA;
	bad[0].width = 64;
	bad[0].height = 64;
	bad[0].pixelformat = ZCBUF_FMT_YUYV;
	bad[1].pkt_rate = 1000;
	bad[2].drop_permille = 1;
	bad[3].pkt_max = ZCBUF_PKT_MIN - 1;
	bad[4].pkt_max = ZCBUF_PKT_MAX + 1;
	bad[5].pkts_per_buffer = 0;
	bad[6].pkts_per_buffer = 1u << 20;
	bad[7].pkt_max = 64;
	bad[8].pkts_per_buffer = 1;
	bad[9].fps = 30;
	bad[10].stall_every = 1;

	ASSERT_EQ(0, zs_config(v->fd, &rx, &fs_rx));
	EXPECT_LT(4u * 1500, fs_rx);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, zs_config(v->fd, &bad[i], NULL))
			TH_LOG("bad config %zu", i);
	ASSERT_EQ(0, zs_config(v->fd, &tx, &fs_tx));
	EXPECT_EQ(ETH_HLEN, fs_tx);
	ASSERT_EQ(0, zs_config(v->fd, &rx, &fs));
	EXPECT_EQ(fs_rx, fs);
}

/* A device the user did not name is never taken, even when offered. */
TEST_F(vnet_once, unnamed_device_refused)
{
	FIXTURE_DATA(vnet) *v = &self->v;

	ASSERT_EQ(0, zc_write_file(DRV "/unbind", v->dev));
	EXPECT_EQ(-ENODEV, zs_wait_device(v->fd, v->zname, false));
	ASSERT_EQ(0, zc_write_file(PARAM, "virtio99"));
	EXPECT_EQ(-ENODEV, zc_write_file(DRV "/bind", v->dev));
	EXPECT_EQ(-ENODEV, zc_device_find(v->fd, v->zname));
	/* Named again, it binds. */
	ASSERT_EQ(0, zc_write_file(PARAM, v->dev));
	ASSERT_EQ(0, zc_write_file(DRV "/bind", v->dev));
	EXPECT_LT(0, zs_wait_device(v->fd, v->zname, true));
}

TEST_HARNESS_MAIN
