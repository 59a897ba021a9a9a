// SPDX-License-Identifier: GPL-2.0
/*
 * nicbench: the NIC rows of `make bench` (issue 14), guest side.
 *
 * The guest has two virtio-net NICs on one QEMU hub (bench/run.sh's NIC
 * boot).  The first stays with the kernel's virtio_net: the peer, where the
 * kernel's packet generator (pktgen) sends UDP frames flat out to the
 * second, the NIC under test.  The NIC under test is given in turn to
 *
 *   - zcbuf_virtio_net (zcbuf on virtio-net): eventfd + DQBUF + QBUF per
 *     buffer ("zcbuf-ioctl"), the CQ/SQ ring woken by the eventfd when idle
 *     ("zcbuf-ring"), the ring looked at every 2 ms ("zcbuf-ring-batch");
 *   - the kernel's virtio_net, for an AF_PACKET TPACKET_V3 mmap ring
 *     ("tpacket-v3"), recvmmsg() on an AF_PACKET raw socket, the copying
 *     baseline ("recvmmsg"), and AF_XDP in copy and zero-copy mode
 *     ("afxdp-copy", "afxdp-zc": libxdp's xsk API and its default XDP
 *     program, queue 0).
 *
 * TX ("tx"): the NIC under test sends to the peer: zcbuf_virtio_net's TX
 * when it offers one ("tx-zcbuf"), and with virtio_net sendmmsg() on an
 * AF_PACKET raw socket ("tx-sendmmsg"), a TPACKET_V2 TX ring
 * ("tx-tpacket"), UDP send() ("tx-udp-send") and UDP with MSG_ZEROCOPY
 * ("tx-udp-zerocopy"; packet sockets refuse SO_ZEROCOPY); CPU_US is then
 * the sender's.
 *
 * Every consumer reads each packet's length and its first 8 bytes (what a
 * packet filter looks at), nothing more.  Where the path gives a completion
 * timestamp (zcbuf: the buffer's, CLOCK_MONOTONIC; TPACKET_V3: the skb's
 * receive timestamp, CLOCK_REALTIME) the note has the completion-to-consumer
 * latency, p50 and p99, with one clock read per batch.  recvmmsg (the skb's
 * receive timestamp through SO_TIMESTAMPNS) and AF_XDP (the xdp_redirect
 * tracepoint) take theirs in a pass of their own after the measured one, so
 * that asking for the marker costs the measured pass nothing; tx-zcbuf has
 * the buffer's TX completion to the sender's DQBUF, the other TX paths give
 * the sender no completion time (their notes say why).  One CSV row
 * per path and frame size, as zcbench's:
 *
 *   nic,ROW,KERNEL,BOOT,BYTES,PACKETS,CPU_US,PPS,NS_PER_BYTE,NOTE
 *
 * CPU_US is the consumer thread's CPU time (CLOCK_THREAD_CPUTIME_ID) per
 * packet; PPS is packets per second of guest time; NS_PER_BYTE is consumer
 * CPU per received byte.  On the one guest CPU of the bench, softirq work
 * that interrupts the consumer counts as its time (Debian's kernels have no
 * IRQ_TIME_ACCOUNTING); the note says how much of the guest's time went to
 * softirqs and kernel threads, read from /proc/stat.  A path that cannot run
 * prints a row with no figures and the error it got, in its note.
 *
 * usage: nicbench [-k KERNEL] [-b BOOT] [-o CSV] [-s SIZES] [-n PACKETS] ROW...
 *   ROW: zcbuf tpacket recvmmsg afxdp tx all
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <linux/zcbuf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef NICBENCH_XDP
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>
#endif

#define ZDRV		"/sys/bus/virtio/drivers/zcbuf_virtio_net"
#define VDRV		"/sys/bus/virtio/drivers/virtio_net"
#define ZPARAM		"/sys/module/zcbuf_virtio_net/parameters/devices"
#define PGDIR		"/proc/net/pktgen"
#define MTU		9000
#define WARMUP		200
#define TICK_US		2000

static const char *kernel_label = "?", *boot_label = "nic";
static FILE *csv;
static int failures;

#define BENCH_NAME "nicbench"
#include "bench.h"
static char peer_dev[32], dut_dev[32], peer_if[IF_NAMESIZE], dut_if[IF_NAMESIZE];
static char dut_mac[32];
static volatile uint64_t sink;

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	size_t len = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return (int)n;
}

/* ---- the measurement and its context ---- */

/* /proc/stat's first line: user nice system idle iowait irq softirq */
struct cpustat {
	uint64_t v[7];
};

static void cpustat(struct cpustat *c)
{
	FILE *f = fopen("/proc/stat", "r");

	memset(c, 0, sizeof(*c));
	if (!f)
		return;
	if (fscanf(f, "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64, &c->v[0], &c->v[1],
		   &c->v[2], &c->v[3], &c->v[4], &c->v[5], &c->v[6]) != 7)
		memset(c, 0, sizeof(*c));
	fclose(f);
}

/*
 * Where the guest's one CPU went: on-CPU time (/proc/PID/schedstat) of the
 * sender's thread (kpktgend_0; the NET_RX softirqs that run when it
 * re-enables bottom halves count there too), of the kworkers (zcbuf's RX
 * work, virtio_net's refills), of ksoftirqd, and of every other task but
 * this one.
 */
enum { T_PKTGEN, T_KWORKER, T_KSOFTIRQD, T_OTHER, T_NR };

/* Per-task on-CPU time, to name the busiest "other" task of a row. */
#define MAXTASKS	512
struct task_run {
	int pid;
	uint64_t run;
	char comm[20];
};

static struct task_run tasks0[MAXTASKS], tasks1[MAXTASKS];
static int ntasks0, ntasks1;

static void threads_into(uint64_t t[T_NR], struct task_run *tr, int *ntr)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();

	memset(t, 0, sizeof(uint64_t) * T_NR);
	*ntr = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300], comm[64];
		unsigned long long run = 0;
		FILE *f;
		int c;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    atoi(de->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_file(path, comm, sizeof(comm)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &run) != 1)
			run = 0;
		fclose(f);
		c = !strncmp(comm, "kpktgend", 8) ? T_PKTGEN :
		    !strncmp(comm, "kworker", 7) ? T_KWORKER :
		    !strncmp(comm, "ksoftirqd", 9) ? T_KSOFTIRQD : T_OTHER;
		t[c] += run;
		if (c == T_OTHER && *ntr < MAXTASKS) {
			tr[*ntr].pid = atoi(de->d_name);
			tr[*ntr].run = run;
			snprintf(tr[*ntr].comm, sizeof(tr[*ntr].comm), "%.19s", comm);
			(*ntr)++;
		}
	}
	closedir(d);
}

/* The "other" task that ran most between the two snapshots, or "". */
static void busiest_other(char *out, size_t len, uint64_t *ns)
{
	*ns = 0;
	out[0] = 0;
	for (int i = 0; i < ntasks1; i++) {
		uint64_t before = 0;

		for (int j = 0; j < ntasks0; j++)
			if (tasks0[j].pid == tasks1[i].pid)
				before = tasks0[j].run;
		if (tasks1[i].run - before > *ns) {
			*ns = tasks1[i].run - before;
			snprintf(out, len, "%s", tasks1[i].comm);
		}
	}
}

struct meas {
	uint64_t cpu0, wall0, cpu, wall;
	struct cpustat st0, st;
	uint64_t th0[T_NR], th[T_NR];
};

static void meas_start(struct meas *m)
{
	threads_into(m->th0, tasks0, &ntasks0);
	cpustat(&m->st0);
	m->wall0 = ns_of(CLOCK_MONOTONIC);
	m->cpu0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
}

static void meas_end(struct meas *m)
{
	m->cpu = ns_of(CLOCK_THREAD_CPUTIME_ID) - m->cpu0;
	m->wall = ns_of(CLOCK_MONOTONIC) - m->wall0;
	cpustat(&m->st);
	threads_into(m->th, tasks1, &ntasks1);
}

/*
 * One CSV row for @pkts packets of @bytes (the nominal frame size) measured
 * by @m; @pkts 0: the path could not run, @why says why.
 */
static void row(const char *name, uint32_t bytes, uint64_t pkts,
		const struct meas *m, const char *why)
{
	double cpu_us = 0, pps = 0, nspb = 0;
	char note[1536] = "";

	if (pkts) {
		uint64_t tot = 0, d[7];

		for (int i = 0; i < 7; i++) {
			d[i] = m->st.v[i] - m->st0.v[i];
			tot += d[i];
		}
		cpu_us = m->cpu / 1e3 / pkts;
		pps = m->wall ? pkts * 1e9 / m->wall : 0;
		nspb = (double)m->cpu / ((double)bytes * pkts);
		if (!tot)
			tot = 1;
		snprintf(note, sizeof(note),
			 "guest time per packet (us): consumer %.3f pktgen %.3f "
			 "kworkers %.3f ksoftirqd %.3f other %.3f of %.3f; "
			 "ticks user %.0f%% system %.0f%% softirq %.0f%% idle %.0f%%; ",
			 m->cpu / 1e3 / pkts,
			 (m->th[T_PKTGEN] - m->th0[T_PKTGEN]) / 1e3 / pkts,
			 (m->th[T_KWORKER] - m->th0[T_KWORKER]) / 1e3 / pkts,
			 (m->th[T_KSOFTIRQD] - m->th0[T_KSOFTIRQD]) / 1e3 / pkts,
			 (m->th[T_OTHER] - m->th0[T_OTHER]) / 1e3 / pkts,
			 m->wall / 1e3 / pkts,
			 100.0 * d[0] / tot, 100.0 * d[2] / tot,
			 100.0 * d[6] / tot, 100.0 * (d[3] + d[4]) / tot);
		{
			uint64_t ns;
			char comm[20];

			busiest_other(comm, sizeof(comm), &ns);
			if (ns)
				snprintf(note + strlen(note), sizeof(note) - strlen(note),
					 "busiest other task %s %.3f us/packet; ", comm,
					 ns / 1e3 / pkts);
		}
	}
	snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s", why);
	for (char *p = note; *p; p++)
		if (*p == ',' || *p == '\n')
			*p = ';';
	printf("nic,%s,%s,%s,%u,%" PRIu64 ",%.3f,%.1f,%.4f,%s\n", name,
	       kernel_label, boot_label, bytes, pkts, cpu_us, pps, nspb, note);
	fflush(stdout);
	if (csv) {
		fprintf(csv, "nic,%s,%s,%s,%u,%" PRIu64 ",%.3f,%.1f,%.4f,%s\n",
			name, kernel_label, boot_label, bytes, pkts, cpu_us, pps,
			nspb, note);
		fflush(csv);
	}
}

/* What every consumer does with a packet: its length and first 8 bytes. */
static inline void look(const uint8_t *p, uint32_t len)
{
	uint64_t w;

	memcpy(&w, p, 8);
	sink += w + len;
}

/* ---- devices: which NIC is which, who drives it ---- */

static int virtio_nets(char names[][32], int max)
{
	struct dirent **list;
	int n, found = 0;

	n = scandir("/sys/bus/virtio/devices", &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char path[300], id[32];

		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device",
			 list[i]->d_name);
		if (found < max && read_file(path, id, sizeof(id)) > 0 &&
		    strtoul(id, NULL, 0) == 1)
			snprintf(names[found++], 32, "%.31s", list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return found;
}

/* virtio-net feature bits (include/uapi/linux/virtio_net.h) */
#define VNET_F_CSUM		0
#define VNET_F_MRG_RXBUF	15

/* Whether virtio device @dev negotiated feature @bit (sysfs: one 0/1 per bit). */
static int vfeature(const char *dev, int bit)
{
	char path[128], f[160];

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/features", dev);
	if (read_file(path, f, sizeof(f)) <= bit)
		return -1;
	return f[bit] == '1';
}

static void driver_of(const char *dev, char *drv, size_t len)
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

static int ifname_of(const char *dev, char *ifname)
{
	char path[128];
	struct dirent *e;
	DIR *d;

	for (int tries = 0; tries < 100; tries++) {
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/net", dev);
		d = opendir(path);
		if (d) {
			while ((e = readdir(d)))
				if (e->d_name[0] != '.') {
					snprintf(ifname, IF_NAMESIZE, "%.15s", e->d_name);
					closedir(d);
					return 0;
				}
			closedir(d);
		}
		usleep(20000);
	}
	return -ENOENT;
}

static int if_mtu_up(const char *ifname, int mtu)
{
	struct ifreq ifr = { 0 };
	char path[128];
	int s, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname);
	write_file(path, "1");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = mtu;
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

/* Give the NIC under test to @drv ("virtio_net" or "zcbuf_virtio_net"). */
static void dut_to(const char *drv)
{
	char cur[64], path[128];

	driver_of(dut_dev, cur, sizeof(cur));
	if (!strcmp(cur, drv) && !strcmp(drv, "zcbuf_virtio_net"))
		return;
	if (cur[0] && strcmp(cur, drv)) {
		snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/unbind", cur);
		if (write_file(path, dut_dev))
			die("unbind %s from %s: %s", dut_dev, cur, strerror(errno));
	}
	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s/bind", drv);
	if (strcmp(cur, drv) && write_file(path, dut_dev))
		die("bind %s to %s: %s", dut_dev, drv, strerror(errno));
	if (!strcmp(drv, "virtio_net")) {
		if (ifname_of(dut_dev, dut_if))
			die("%s: no interface", dut_dev);
		if (if_mtu_up(dut_if, MTU))
			die("%s: MTU %d / up failed", dut_if, MTU);
	}
}

static void setup_nics(void)
{
	char names[4][32], drv[64], path[128];

	if (virtio_nets(names, 4) < 2)
		die("needs two virtio-net devices on one QEMU hub");
	snprintf(peer_dev, sizeof(peer_dev), "%s", names[0]);
	snprintf(dut_dev, sizeof(dut_dev), "%s", names[1]);
	driver_of(peer_dev, drv, sizeof(drv));
	if (strcmp(drv, "virtio_net") &&
	    write_file(VDRV "/bind", peer_dev))
		die("bind the peer %s to virtio_net: %s", peer_dev, strerror(errno));
	if (ifname_of(peer_dev, peer_if) || if_mtu_up(peer_if, MTU))
		die("peer %s: no interface, or MTU %d refused", peer_dev, MTU);
	/* zcbuf_virtio_net may take the NIC under test, and only that one. */
	if (!access(ZPARAM, F_OK) && write_file(ZPARAM, dut_dev))
		die("%s: %s", ZPARAM, strerror(errno));
	dut_to("virtio_net");
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", dut_if);
	if (read_file(path, dut_mac, sizeof(dut_mac)) <= 0)
		die("%s: no MAC address", dut_if);
	printf("nicbench: peer %s (%s), under test %s (%s, %s)\n", peer_dev,
	       peer_if, dut_dev, dut_if, dut_mac);
	printf("nicbench: virtio-net features: peer CSUM %d MRG_RXBUF %d; under test "
	       "CSUM %d MRG_RXBUF %d\n", vfeature(peer_dev, VNET_F_CSUM),
	       vfeature(peer_dev, VNET_F_MRG_RXBUF), vfeature(dut_dev, VNET_F_CSUM),
	       vfeature(dut_dev, VNET_F_MRG_RXBUF));
}

/* ---- the sender: pktgen on the peer, flat out ---- */

static pid_t pg_pid;

static void pg_cmd(const char *file, const char *fmt, ...)
{
	char path[128], cmd[128], res[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	/* pgctrl drops the last character, taking it for a newline. */
	strcat(cmd, "\n");
	snprintf(path, sizeof(path), PGDIR "/%s", file);
	if (write_file(path, cmd))
		die("pktgen %s: \"%s\": %s", file, cmd, strerror(errno));
	if (strcmp(file, "pgctrl") && strncmp(file, "kpktgend", 8) &&
	    read_file(path, res, sizeof(res)) > 0 && strstr(res, "Result: ERROR"))
		die("pktgen %s: \"%s\": %s", file, cmd, strstr(res, "Result:"));
}

static void pg_setup(void)
{
	if (access(PGDIR "/kpktgend_0", F_OK))
		die("no " PGDIR "/kpktgend_0 (modprobe pktgen?)");
	pg_cmd("kpktgend_0", "rem_device_all");
	pg_cmd("kpktgend_0", "add_device %s", peer_if);
	pg_cmd(peer_if, "count 0");
	pg_cmd(peer_if, "delay 0");
	pg_cmd(peer_if, "clone_skb 0");
	pg_cmd(peer_if, "dst 10.99.0.2");
	pg_cmd(peer_if, "src_min 10.99.0.1");
	pg_cmd(peer_if, "src_max 10.99.0.1");
	pg_cmd(peer_if, "udp_dst_min 9");
	pg_cmd(peer_if, "udp_dst_max 9");
}

/* Frames of @size bytes (without the FCS; 60 for the 64 B row). */
static void pg_start(uint32_t size)
{
	pg_cmd(peer_if, "pkt_size %u", size);
	pg_cmd(peer_if, "dst_mac %s", dut_mac);
	pg_pid = fork();
	if (pg_pid < 0)
		die("fork: %s", strerror(errno));
	if (!pg_pid) {
		/* Returns when stopped. */
		_exit(write_file(PGDIR "/pgctrl", "start\n") ? 1 : 0);
	}
}

/* Stop the sender; how many it sent. */
static uint64_t pg_stop(void)
{
	char res[4096], *p;
	uint64_t sent = 0;
	int st;

	if (!pg_pid)
		return 0;
	pg_cmd("pgctrl", "stop");
	waitpid(pg_pid, &st, 0);
	pg_pid = 0;
	snprintf(res, sizeof(res), PGDIR "/%s", peer_if);
	if (read_file(res, res, sizeof(res)) > 0 && (p = strstr(res, "pkts-sofar: ")))
		sent = strtoull(p + 12, NULL, 10);
	return sent;
}

static uint64_t if_stat(const char *ifname, const char *what)
{
	char path[160], v[32];

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, what);
	return read_file(path, v, sizeof(v)) > 0 ? strtoull(v, NULL, 10) : 0;
}

/* No packet for 10 s: say what the sender and the NICs did, and stop. */
static void stalled(const char *what)
{
	char res[4096] = "", *p;

	snprintf(res, sizeof(res), PGDIR "/%s", peer_if);
	if (read_file(res, res, sizeof(res)) <= 0)
		res[0] = 0;
	p = strstr(res, "Current:");
	fprintf(stderr, "nicbench: %s: no packet in 10 s; peer %s tx_packets %"
		PRIu64 "; pktgen %s\n", what, peer_if,
		if_stat(peer_if, "tx_packets"), p ? p : res);
	if (pg_pid)
		pg_cmd("pgctrl", "stop");
	die("stalled");
}

/* ---- frame sizes ---- */

struct size_cfg {
	uint32_t bytes;		/* nominal, the row's size */
	uint32_t frame;		/* pktgen's frame, without the FCS */
	uint32_t pkts;		/* measured packets */
};

static struct size_cfg sizes[] = {
	{ 64, 60, 24000 },
	{ 1500, 1500, 12000 },
	{ 9000, 9000, 4500 },
};

/* ---- zcbuf on virtio-net ---- */

#define ZNBUF	16
/*
 * Packets per buffer: 64 (bench/README.md, "zcbuf RX: packets per buffer",
 * has the measurements: 16 -> 64 fewer wake-ups and drops, 128 no better).
 * 16 x 64 = 1024 slots: 4 buffers are posted in QEMU's 256-entry RX
 * virtqueue at a time, the others wait queued in zcbuf.
 */
#define ZPKTS	64

struct zc {
	int fd, efd;
	uint32_t first, frame_size;
	uint8_t *map[ZNBUF];
	size_t size;
	struct zcbuf_ring_setup rs;
	uint8_t *ring;
};

static int zc_device_id(int fd, const char *name)
{
	for (int tries = 0; tries < 250; tries++) {
		struct zcbuf_device_desc d = { 0 };

		while (!xioctl(fd, ZCBUF_IOC_DEVICE_INFO, &d)) {
			if (!strcmp(d.name, name))
				return (int)d.id;
			d.id++;
		}
		usleep(20000);
	}
	return -ENODEV;
}

static int zc_open(struct zc *z, uint32_t pkt_max, char *why, size_t wlen)
{
	struct zcbuf_config cfg = { 0 };
	struct zcbuf_alloc a = { 0 };
	struct zcbuf_eventfd e = { 0 };
	char name[64];
	int id;

	memset(z, 0, sizeof(*z));
	z->fd = open("/dev/zcbuf", O_RDWR | O_CLOEXEC);
	if (z->fd < 0)
		die("open /dev/zcbuf: %s", strerror(errno));
	snprintf(name, sizeof(name), "vnet-%s", dut_dev);
	id = zc_device_id(z->fd, name);
	if (id < 0) {
		snprintf(why, wlen, "no zcbuf device %s", name);
		close(z->fd);
		return -1;
	}
	cfg.personality = ZCBUF_DEV_NIC_RX;
	cfg.pkt_max = pkt_max;
	cfg.pkts_per_buffer = ZPKTS;
	/*
	 * The consumer reads 8 bytes of each packet and has no use for the
	 * device's CRC-32s (TPACKET_V3 and AF_XDP compute none either).
	 */
	cfg.flags = ZCBUF_CFG_NO_CHECKSUM;
	cfg.device = (uint32_t)id;
	if (xioctl(z->fd, ZCBUF_IOC_CONFIG, &cfg))
		die("CONFIG pkt_max %u: %s", pkt_max, strerror(errno));
	z->frame_size = cfg.frame_size;
	a.size = cfg.frame_size;
	a.count = ZNBUF;
	if (xioctl(z->fd, ZCBUF_IOC_ALLOC, &a))
		die("ALLOC: %s", strerror(errno));
	z->first = a.first_index;
	for (uint32_t i = 0; i < ZNBUF; i++) {
		struct zcbuf_query q = { .index = a.first_index + i };

		if (xioctl(z->fd, ZCBUF_IOC_QUERY, &q))
			die("QUERY: %s", strerror(errno));
		z->size = q.size;
		z->map[i] = mmap(NULL, q.size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, z->fd, q.offset);
		if (z->map[i] == MAP_FAILED)
			die("mmap: %s", strerror(errno));
	}
	z->efd = eventfd(0, EFD_CLOEXEC);
	e.fd = z->efd;
	if (z->efd < 0 || xioctl(z->fd, ZCBUF_IOC_SET_EVENTFD, &e))
		die("eventfd: %s", strerror(errno));
	return 0;
}

static void zc_start(struct zc *z)
{
	struct zcbuf_stream s = { 0 };

	for (uint32_t i = 0; i < ZNBUF; i++) {
		struct zcbuf_qbuf q = { .index = z->first + i };

		if (xioctl(z->fd, ZCBUF_IOC_QBUF, &q))
			die("QBUF: %s", strerror(errno));
	}
	if (xioctl(z->fd, ZCBUF_IOC_STREAMON, &s))
		die("STREAMON: %s", strerror(errno));
}

static void zc_close(struct zc *z, struct zcbuf_stats *st)
{
	struct zcbuf_stream s = { 0 };

	memset(st, 0, sizeof(*st));
	xioctl(z->fd, ZCBUF_IOC_STATS, st);
	xioctl(z->fd, ZCBUF_IOC_STREAMOFF, &s);
	for (uint32_t i = 0; i < ZNBUF; i++)
		munmap(z->map[i], z->size);
	if (z->ring)
		munmap(z->ring, z->rs.mmap_size);
	close(z->efd);
	close(z->fd);
}

/*
 * The consumer's look at a completed buffer: its descriptor table and each
 * packet's first bytes.  No SYNC: this boot has no swiotlb and x86 is
 * coherent (zcbench's sync rows measure that cost separately).
 */
static uint32_t zc_look(struct zc *z, uint32_t index, uint32_t npackets,
			uint32_t flags)
{
	const uint8_t *buf = z->map[index - z->first];
	const struct zcbuf_pkt_desc *d = (const void *)buf;

	if (flags & ZCBUF_DQ_ERROR)
		warnx_("buffer %u completed with an error", index);
	for (uint32_t i = 0; i < npackets; i++)
		look(buf + d[i].offset, d[i].length);
	return npackets;
}

/*
 * One blocking read, as an eventfd consumer does (no poll() first: that
 * would be a system call per wake-up the other paths do not make).  A row
 * that stalls is caught by its alarm (row_watchdog()).
 */
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

/* Arm (or, with 0, disarm) the stall watchdog of a row. */
static void row_watchdog(unsigned int secs)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */

	alarm_fired = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

static uint64_t efd_wait(int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) != sizeof(v)) {
		if (errno != EINTR)
			die("eventfd read: %s", strerror(errno));
		if (alarm_fired)
			stalled("zcbuf eventfd");
	}
	return v;
}

static uint64_t zc_consume_ioctl(struct zc *z, uint64_t want)
{
	uint64_t n = 0;

	while (n < want) {
		uint64_t ready = efd_wait(z->efd);

		while (ready--) {
			struct zcbuf_dqbuf d = { 0 };
			struct zcbuf_qbuf q = { 0 };

			if (xioctl(z->fd, ZCBUF_IOC_DQBUF, &d))
				die("DQBUF: %s", strerror(errno));
			if (lat_on)
				lat_add(ns_of(CLOCK_MONOTONIC), d.timestamp_ns, d.npackets);
			n += zc_look(z, d.index, d.npackets, d.flags);
			q.index = d.index;
			if (xioctl(z->fd, ZCBUF_IOC_QBUF, &q))
				die("QBUF: %s", strerror(errno));
		}
	}
	return n;
}

#define RW(z, off)	((uint32_t *)((z)->ring + (off)))

struct ring_state {
	uint32_t head, tail;
	uint64_t sleeps, kicks, batches;
};

static uint64_t zc_consume_ring(struct zc *z, uint64_t want,
				struct ring_state *r, uint32_t tick_us)
{
	const struct zcbuf_ring_setup *rs = &z->rs;
	struct zcbuf_cqe *cqes = (void *)(z->ring + rs->cq.array);
	struct zcbuf_sqe *sqes = (void *)(z->ring + rs->sq.array);
	uint32_t mask = rs->cq.entries - 1;
	uint64_t n = 0, now;

	while (n < want) {
		uint32_t prod = __atomic_load_n(RW(z, rs->cq.producer),
						__ATOMIC_ACQUIRE);

		if (prod == r->head && tick_us) {
			struct timespec ts = { 0, tick_us * 1000L };

			nanosleep(&ts, NULL);
			r->sleeps++;
			continue;
		}
		if (prod == r->head) {
			__atomic_store_n(RW(z, rs->cq.flags),
					 ZCBUF_RING_CQ_WANT_WAKEUP, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(RW(z, rs->cq.producer),
					    __ATOMIC_ACQUIRE) == r->head) {
				efd_wait(z->efd);
				r->sleeps++;
			}
			__atomic_store_n(RW(z, rs->cq.flags), 0, __ATOMIC_RELAXED);
			continue;
		}
		r->batches++;
		now = lat_on ? ns_of(CLOCK_MONOTONIC) : 0;
		while (r->head != prod) {
			const struct zcbuf_cqe *c = &cqes[r->head & mask];
			struct zcbuf_sqe *s = &sqes[r->tail & (rs->sq.entries - 1)];

			lat_add(now, c->timestamp_ns, c->npackets);
			n += zc_look(z, c->index, c->npackets, c->flags);
			s->index = c->index;
			s->flags = 0;
			s->bytesused = 0;
			r->head++;
			r->tail++;
		}
		__atomic_store_n(RW(z, rs->cq.consumer), r->head, __ATOMIC_RELEASE);
		__atomic_store_n(RW(z, rs->sq.producer), r->tail, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(RW(z, rs->sq.flags), __ATOMIC_RELAXED) &
		    ZCBUF_RING_SQ_NEED_WAKEUP) {
			struct zcbuf_ring_kick k = { 0 };

			if (xioctl(z->fd, ZCBUF_IOC_RING_KICK, &k))
				die("RING_KICK: %s", strerror(errno));
			r->kicks++;
		}
	}
	return n;
}

static void bench_zcbuf(const struct size_cfg *sc)
{
	static const char *const names[] = { "zcbuf-ioctl", "zcbuf-ring",
					     "zcbuf-ring-batch" };

	dut_to("zcbuf_virtio_net");
	for (int v = 0; v < 3; v++) {
		struct ring_state r = { 0 };
		struct zcbuf_stats st;
		char why[320];
		struct meas m;
		uint64_t n, sent;
		struct zc z;

		if (zc_open(&z, sc->bytes < 64 ? 64 : sc->bytes, why, sizeof(why))) {
			row(names[v], sc->bytes, 0, NULL, why);
			continue;
		}
		if (v) {
			if (xioctl(z.fd, ZCBUF_IOC_RING_SETUP, &z.rs))
				die("RING_SETUP: %s", strerror(errno));
			z.ring = mmap(NULL, z.rs.mmap_size, PROT_READ | PROT_WRITE,
				      MAP_SHARED, z.fd, z.rs.mmap_offset);
			if (z.ring == MAP_FAILED)
				die("ring mmap: %s", strerror(errno));
		}
		zc_start(&z);
		pg_start(sc->frame);
		row_watchdog(60);
		if (v)
			zc_consume_ring(&z, WARMUP, &r, v == 2 ? TICK_US : 0);
		else
			zc_consume_ioctl(&z, WARMUP);
		r.sleeps = r.kicks = r.batches = 0;
		row_watchdog(60);
		lat_start();
		meas_start(&m);
		if (v)
			n = zc_consume_ring(&z, sc->pkts, &r, v == 2 ? TICK_US : 0);
		else
			n = zc_consume_ioctl(&z, sc->pkts);
		meas_end(&m);
		row_watchdog(0);
		why[0] = 0;
		lat_note(why, sizeof(why), "buffer completion timestamp to the consumer");
		sent = pg_stop();
		zc_close(&z, &st);
		if (v)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "CQ/SQ %s; %" PRIu64 " %s; %" PRIu64
				 " kicks; %.1f packets per batch; ",
				 v == 2 ? "polled every 2 ms" : "+ eventfd when idle",
				 r.sleeps, v == 2 ? "nanosleeps" : "eventfd sleeps",
				 r.kicks, (double)n / (r.batches ? r.batches : 1));
		else
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "eventfd read + DQBUF + QBUF per buffer; ");
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "%u buffers of %u packets, no checksums; pktgen sent %" PRIu64
			 " in the row; zcbuf dropped (no buffer) %" PRIu64,
			 ZNBUF, ZPKTS, sent, (uint64_t)st.drops_no_buffer);
		row(names[v], sc->bytes, n, &m, why);
	}
}

/* ---- the kernel's virtio_net: AF_PACKET and AF_XDP ---- */

static int packet_socket(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("AF_PACKET socket: %s", strerror(errno));
	sll.sll_ifindex = (int)if_nametoindex(dut_if);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind %s: %s", dut_if, strerror(errno));
	return fd;
}

static void packet_stats(int fd, char *why, size_t len)
{
	struct tpacket_stats_v3 st = { 0 };
	socklen_t sl = sizeof(st);

	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	snprintf(why + strlen(why), len - strlen(why),
		 "socket dropped %u (PACKET_STATISTICS); ", st.tp_drops);
}

#define TP_BLOCK	(1U << 16)
#define TP_BLOCKS	64
#define TP_TOV_MS	2

static uint64_t tp_consume(int fd, uint8_t *ring, uint32_t *blk, uint64_t want,
			   uint64_t *polls, uint64_t *blocks)
{
	uint64_t n = 0, now;

	while (n < want) {
		struct tpacket_block_desc *bd = (void *)(ring + *blk * TP_BLOCK);
		struct tpacket3_hdr *h;

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			struct pollfd p = { .fd = fd, .events = POLLIN | POLLERR };

			if (poll(&p, 1, 10000) == 0)
				stalled("TPACKET_V3 ring");
			(*polls)++;
			continue;
		}
		h = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		now = lat_on ? ns_of(CLOCK_REALTIME) : 0;
		for (uint32_t i = 0; i < bd->hdr.bh1.num_pkts; i++) {
			lat_add(now, h->tp_sec * 1000000000ULL + h->tp_nsec, 1);
			look((uint8_t *)h + h->tp_mac, h->tp_snaplen);
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		n += bd->hdr.bh1.num_pkts;
		(*blocks)++;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		*blk = (*blk + 1) % TP_BLOCKS;
	}
	return n;
}

static void bench_tpacket(const struct size_cfg *sc)
{
	struct tpacket_req3 req = {
		.tp_block_size = TP_BLOCK, .tp_block_nr = TP_BLOCKS,
		.tp_frame_size = 2048,
		.tp_frame_nr = TP_BLOCK / 2048 * TP_BLOCKS,
		.tp_retire_blk_tov = TP_TOV_MS,
	};
	uint64_t n, polls = 0, blocks = 0, sent, d0;
	int fd, ver = TPACKET_V3;
	uint32_t blk = 0;
	char why[512];
	uint8_t *ring;
	struct meas m;

	dut_to("virtio_net");
	fd = packet_socket();
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		die("TPACKET_V3 ring: %s", strerror(errno));
	ring = mmap(NULL, (size_t)TP_BLOCK * TP_BLOCKS, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		die("TPACKET_V3 mmap: %s", strerror(errno));
	d0 = if_stat(dut_if, "rx_dropped");
	pg_start(sc->frame);
	tp_consume(fd, ring, &blk, WARMUP, &polls, &blocks);
	polls = blocks = 0;
	lat_start();
	meas_start(&m);
	n = tp_consume(fd, ring, &blk, sc->pkts, &polls, &blocks);
	meas_end(&m);
	why[0] = 0;
	lat_note(why, sizeof(why), "the skb's receive timestamp to the consumer");
	sent = pg_stop();
	snprintf(why + strlen(why), sizeof(why) - strlen(why), "virtio_net; %u blocks of %u KiB; retire "
		 "timeout %u ms; %" PRIu64 " polls; %.1f packets per block; ",
		 TP_BLOCKS, TP_BLOCK >> 10, TP_TOV_MS, polls,
		 (double)n / (blocks ? blocks : 1));
	packet_stats(fd, why, sizeof(why));
	snprintf(why + strlen(why), sizeof(why) - strlen(why),
		 "NIC rx_dropped %" PRIu64 "; pktgen sent %" PRIu64 " in the row",
		 if_stat(dut_if, "rx_dropped") - d0, sent);
	row("tpacket-v3", sc->bytes, n, &m, why);
	munmap(ring, (size_t)TP_BLOCK * TP_BLOCKS);
	close(fd);
}

#define MM_VLEN	64
#define MM_BUF	9216

/* Per message room for one SCM_TIMESTAMPNS (the latency pass only). */
#define MM_CMSG	CMSG_SPACE(sizeof(struct timespec))

/* The skb's receive timestamp of a message, CLOCK_REALTIME ns; 0 if none. */
static uint64_t mm_stamp(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct timespec ts;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	return 0;
}

static uint64_t mm_consume(int fd, struct mmsghdr *msgs, uint8_t *bufs,
			   uint64_t want, uint64_t *calls)
{
	uint64_t n = 0, now;

	while (n < want) {
		int r = recvmmsg(fd, msgs, MM_VLEN, MSG_WAITFORONE, NULL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)	/* SO_RCVTIMEO */
				stalled("recvmmsg");
			die("recvmmsg: %s", strerror(errno));
		}
		(*calls)++;
		now = lat_on ? ns_of(CLOCK_REALTIME) : 0;
		for (int i = 0; i < r; i++) {
			if (lat_on) {
				uint64_t ts = mm_stamp(&msgs[i].msg_hdr);

				if (ts)
					lat_add(now, ts, 1);
				msgs[i].msg_hdr.msg_controllen = MM_CMSG;
			}
			look(bufs + (size_t)i * MM_BUF, msgs[i].msg_len);
		}
		n += r;
	}
	return n;
}

/*
 * recvmmsg's completion-to-consumer latency, in a pass of its own after the
 * measured one (SO_TIMESTAMPNS adds a control message per packet, which the
 * copying baseline's measured pass does not pay): the sender stopped and
 * the socket drained, timestamps on, the sender flat out again for @want
 * packets.  The marker is the skb's receive timestamp, TPACKET_V3's too.
 */
static void mm_latency(int fd, struct mmsghdr *msgs, uint8_t *bufs,
		       const struct size_cfg *sc, uint64_t want,
		       char *why, size_t len)
{
	static uint8_t ctl[MM_VLEN][MM_CMSG];
	uint64_t calls = 0, n;
	int on = 1;

	while (recv(fd, bufs, MM_BUF, MSG_DONTWAIT) >= 0)
		;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on))) {
		snprintf(why + strlen(why), len - strlen(why),
			 "latency n/a: SO_TIMESTAMPNS: %s; ", strerror(errno));
		return;
	}
	for (int i = 0; i < MM_VLEN; i++) {
		msgs[i].msg_hdr.msg_control = ctl[i];
		msgs[i].msg_hdr.msg_controllen = MM_CMSG;
	}
	pg_start(sc->frame);
	mm_consume(fd, msgs, bufs, WARMUP, &calls);
	lat_start();
	n = mm_consume(fd, msgs, bufs, want, &calls);
	pg_stop();
	lat_note(why, len, "the skb's receive timestamp to the consumer");
	snprintf(why + strlen(why), len - strlen(why), "latency pass of its own "
		 "with SO_TIMESTAMPNS: %" PRIu64 " packets; ", n);
	for (int i = 0; i < MM_VLEN; i++) {
		msgs[i].msg_hdr.msg_control = NULL;
		msgs[i].msg_hdr.msg_controllen = 0;
	}
}

static void bench_recvmmsg(const struct size_cfg *sc)
{
	static struct mmsghdr msgs[MM_VLEN];
	static struct iovec iov[MM_VLEN];
	uint64_t n, calls = 0, sent, d0;
	uint8_t *bufs = malloc((size_t)MM_VLEN * MM_BUF);
	struct timeval tmo = { .tv_sec = 10 };
	char why[768];
	struct meas m;
	int fd;

	if (!bufs)
		die("malloc");
	memset(bufs, 0, (size_t)MM_VLEN * MM_BUF);
	for (int i = 0; i < MM_VLEN; i++) {
		iov[i].iov_base = bufs + (size_t)i * MM_BUF;
		iov[i].iov_len = MM_BUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	dut_to("virtio_net");
	fd = packet_socket();
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)))
		die("SO_RCVTIMEO: %s", strerror(errno));
	d0 = if_stat(dut_if, "rx_dropped");
	pg_start(sc->frame);
	mm_consume(fd, msgs, bufs, WARMUP, &calls);
	calls = 0;
	meas_start(&m);
	n = mm_consume(fd, msgs, bufs, sc->pkts, &calls);
	meas_end(&m);
	sent = pg_stop();
	snprintf(why, sizeof(why), "virtio_net; AF_PACKET SOCK_RAW; recvmmsg of up "
		 "to %u (MSG_WAITFORONE); %.1f packets per call; ", MM_VLEN,
		 (double)n / (calls ? calls : 1));
	packet_stats(fd, why, sizeof(why));
	snprintf(why + strlen(why), sizeof(why) - strlen(why),
		 "NIC rx_dropped %" PRIu64 "; pktgen sent %" PRIu64 " in the row; ",
		 if_stat(dut_if, "rx_dropped") - d0, sent);
	mm_latency(fd, msgs, bufs, sc, sc->pkts / 4, why, sizeof(why));
	row("recvmmsg", sc->bytes, n, &m, why);
	close(fd);
	free(bufs);
}

#ifdef NICBENCH_XDP
#define XSK_FRAMES	4096
#define XSK_FRAME	XSK_UMEM__DEFAULT_FRAME_SIZE
#define XSK_RING	2048

static char xdp_msg[256];

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level <= LIBXDP_WARN) {
		vsnprintf(xdp_msg, sizeof(xdp_msg), fmt, ap);
		fprintf(stderr, "nicbench: libxdp: %s", xdp_msg);
	}
	return 0;
}

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level <= LIBBPF_WARN) {
		vsnprintf(xdp_msg, sizeof(xdp_msg), fmt, ap);
		fprintf(stderr, "nicbench: libbpf: %s", xdp_msg);
	}
	return 0;
}

struct xsk {
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
	void *area;
};

/* Take what the RX ring holds (up to 64), refill as many; 0 if empty. */
static uint32_t xsk_take(struct xsk *x)
{
	uint32_t idx = 0, fidx = 0, got;

	got = xsk_ring_cons__peek(&x->rx, 64, &idx);
	if (!got)
		return 0;
	seen_add(ns_of(CLOCK_MONOTONIC), got, 0);
	while (xsk_ring_prod__reserve(&x->fq, got, &fidx) != got)
		;
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);

		look(xsk_umem__get_data(x->area, d->addr), d->len);
		*xsk_ring_prod__fill_addr(&x->fq, fidx + i) =
			xsk_umem__extract_addr(d->addr);
	}
	xsk_ring_prod__submit(&x->fq, got);
	xsk_ring_cons__release(&x->rx, got);
	return got;
}

static uint64_t xsk_consume(struct xsk *x, uint64_t want, uint64_t *polls,
			    uint64_t *batches)
{
	int fd = xsk_socket__fd(x->sock);
	uint64_t n = 0;

	while (n < want) {
		uint32_t got = xsk_take(x);

		if (!got) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 10000) == 0)
				stalled("AF_XDP RX ring");
			(*polls)++;
			continue;
		}
		(*batches)++;
		n += got;
	}
	return n;
}

/*
 * AF_XDP's completion-to-consumer latency, in a pass of its own after the
 * measured one (tracing costs CPU): the sender stopped and the RX ring
 * empty, the tracepoint xdp:xdp_redirect on (it fires in the NAPI poll
 * for every packet XDP redirected into the socket, before the ring is
 * published), the sender flat out again for @want packets; the k-th event
 * is the k-th packet the consumer took.
 */
static void xsk_latency(struct xsk *x, const struct size_cfg *sc, uint64_t want,
			char *why, size_t len)
{
	struct pollfd p = { .fd = xsk_socket__fd(x->sock), .events = POLLIN };
	uint64_t polls = 0, batches = 0, n, t0, t;
	char err[160] = "";
	long bad;
	int ntr;

	while (xsk_take(x) || poll(&p, 1, 20) > 0)
		;
	if (trace_begin("xdp/xdp_redirect", err, sizeof(err))) {
		snprintf(why + strlen(why), len - strlen(why), "latency n/a: %s; ", err);
		return;
	}
	nseen = 0;
	seen_on = true;
	pg_start(sc->frame);
	n = xsk_consume(x, want, &polls, &batches);
	seen_on = false;
	/* Guest time per packet from the first batch taken to the last. */
	t = nseen > 1 ? seen[nseen - 1].now - seen[0].now : 0;
	t0 = nseen > 1 ? n - seen[0].count : 1;
	pg_stop();
	ntr = trace_end("xdp/xdp_redirect");
	bad = ntr < 0 ? -1 : lat_from_trace(0, false);
	if (bad < 0) {
		lat_on = false;
		snprintf(why + strlen(why), len - strlen(why), "latency n/a: "
			 "%u xdp_redirect events for %" PRIu64 " packets%s; ",
			 ntrace, n, ntr < 0 ? " (trace buffer overran)" : "");
		return;
	}
	lat_note(why, len, "xdp:xdp_redirect tracepoint to the consumer");
	snprintf(why + strlen(why), len - strlen(why), "latency pass of its own "
		 "with the tracepoint on: %" PRIu64 " packets at %.3f us of guest "
		 "time each; ", n, t / 1e3 / (t0 ? t0 : 1));
}

static void bench_afxdp(const struct size_cfg *sc)
{
	static const char *const names[] = { "afxdp-copy", "afxdp-zc" };

	dut_to("virtio_net");
	for (int zc = 0; zc < 2; zc++) {
		struct xsk_umem_config ucfg = {
			.fill_size = XSK_RING, .comp_size = XSK_RING,
			.frame_size = XSK_FRAME,
		};
		struct xsk_socket_config cfg = {
			.rx_size = XSK_RING, .tx_size = XSK_RING,
			.xdp_flags = XDP_FLAGS_DRV_MODE,
			.bind_flags = zc ? XDP_ZEROCOPY : XDP_COPY,
		};
		int mtu = sc->frame <= 1500 ? 1500 : MTU, ret;
		uint64_t n, polls = 0, batches = 0, sent, d0;
		struct xsk x = { 0 };
		uint32_t idx;
		char why[768];
		struct meas m;

		if (if_mtu_up(dut_if, mtu))
			die("%s: MTU %d", dut_if, mtu);
		x.area = mmap(NULL, (size_t)XSK_FRAMES * XSK_FRAME,
			      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (x.area == MAP_FAILED)
			die("mmap umem: %s", strerror(errno));
		ret = xsk_umem__create(&x.umem, x.area, (uint64_t)XSK_FRAMES * XSK_FRAME,
				       &x.fq, &x.cq, &ucfg);
		if (ret)
			die("xsk_umem__create: %s", strerror(-ret));
		xdp_msg[0] = 0;
		ret = xsk_socket__create(&x.sock, dut_if, 0, x.umem, &x.rx, NULL, &cfg);
		if (ret) {
			char *nl = strchr(xdp_msg, '\n');

			if (nl)
				*nl = 0;
			snprintf(why, sizeof(why), "cannot run: xsk_socket__create(%s; "
				 "queue 0; native XDP; %s; MTU %d) failed: %s%s%s",
				 dut_if, zc ? "XDP_ZEROCOPY" : "XDP_COPY", mtu,
				 strerror(-ret), xdp_msg[0] ? "; libxdp: " : "", xdp_msg);
			row(names[zc], sc->bytes, 0, NULL, why);
			xsk_umem__delete(x.umem);
			munmap(x.area, (size_t)XSK_FRAMES * XSK_FRAME);
			continue;
		}
		if (xsk_ring_prod__reserve(&x.fq, XSK_RING, &idx) != XSK_RING)
			die("fill ring");
		for (uint32_t i = 0; i < XSK_RING; i++)
			*xsk_ring_prod__fill_addr(&x.fq, idx + i) = (uint64_t)i * XSK_FRAME;
		xsk_ring_prod__submit(&x.fq, XSK_RING);
		d0 = if_stat(dut_if, "rx_dropped");
		pg_start(sc->frame);
		xsk_consume(&x, WARMUP, &polls, &batches);
		polls = batches = 0;
		meas_start(&m);
		n = xsk_consume(&x, sc->pkts, &polls, &batches);
		meas_end(&m);
		sent = pg_stop();
		{
			struct xdp_statistics xs = { 0 };
			socklen_t sl = sizeof(xs);

			getsockopt(xsk_socket__fd(x.sock), SOL_XDP, XDP_STATISTICS,
				   &xs, &sl);
			why[0] = 0;
			xsk_latency(&x, sc, sc->pkts / 4, why, sizeof(why));
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "virtio_net; native XDP; libxdp "
				 "default program; queue 0; MTU %d; %u-B umem frames; "
				 "%" PRIu64 " polls; %.1f packets per batch; xsk "
				 "rx_dropped %llu rx_fill_ring_empty %llu; NIC rx_dropped %"
				 PRIu64 "; pktgen sent %" PRIu64 " in the row", mtu,
				 XSK_FRAME, polls, (double)n / (batches ? batches : 1),
				 (unsigned long long)xs.rx_dropped,
				 (unsigned long long)xs.rx_fill_ring_empty_descs,
				 if_stat(dut_if, "rx_dropped") - d0, sent);
		}
		row(names[zc], sc->bytes, n, &m, why);
		xsk_socket__delete(x.sock);
		xsk_umem__delete(x.umem);
		munmap(x.area, (size_t)XSK_FRAMES * XSK_FRAME);
	}
	if_mtu_up(dut_if, MTU);
}
#else
static void bench_afxdp(const struct size_cfg *sc)
{
	row("afxdp-copy", sc->bytes, 0, NULL, "cannot run: nicbench built without libxdp");
	row("afxdp-zc", sc->bytes, 0, NULL, "cannot run: nicbench built without libxdp");
}
#endif

/* ---- TX: the NIC under test sends, the peer receives ---- */

#define TX_BURST	64
#define TX_ETHTYPE	0x88b5	/* IEEE local experimental: the peer's stack drops it */

static char peer_mac[32];
static uint8_t peer_mac_b[6], dut_mac_b[6];

static void parse_mac(const char *s, uint8_t *b)
{
	unsigned int v[6] = { 0 };

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		die("bad MAC %s", s);
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)v[i];
}

/* An Ethernet frame of @len bytes from the NIC under test to the peer. */
static void tx_frame(uint8_t *f, uint32_t len, uint32_t seq)
{
	memcpy(f, peer_mac_b, 6);
	memcpy(f + 6, dut_mac_b, 6);
	f[12] = TX_ETHTYPE >> 8;
	f[13] = TX_ETHTYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	for (uint32_t i = 18; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seq);
}

/*
 * Where the frames sent to the peer go: the NIC under test's tx counters
 * (virtio_net counts a frame when it is on the TX virtqueue), the peer's rx
 * counters (/sys: the peer's virtio_net counts every buffer its RX
 * virtqueue returns, the stack then drops the frames, rx_dropped: nobody
 * takes ethertype 0x88b5 or UDP to an address the peer does not have),
 * the peer's virtio_net per-queue counters (ethtool -S) and the CPU's
 * backlog (/proc/net/softnet_stat).  What the NIC under test sent and
 * the peer's RX virtqueue never returned was lost between the two
 * virtqueues, in QEMU.
 */
#define ETH_NSTATS	256

static const char *const tx_stat_names[] = {
	"tx_packets", "tx_dropped", "rx_packets", "rx_dropped", "rx_errors",
	"rx_length_errors", "rx_over_errors", "rx_missed_errors", "rx_nohandler",
};
#define TX_NSTATS	(sizeof(tx_stat_names) / sizeof(tx_stat_names[0]))

struct tx_snap {
	uint64_t st[TX_NSTATS];
	uint64_t softnet_drop, softnet_squeeze;
	int neth;
	char eth_name[ETH_NSTATS][ETH_GSTRING_LEN];
	uint64_t eth[ETH_NSTATS];
};

static struct tx_snap tx0;

/* ethtool -S @ifname: up to ETH_NSTATS names and values; their count. */
static int eth_stats(const char *ifname, char names[][ETH_GSTRING_LEN],
		     uint64_t *vals)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_stats *es = NULL;
	struct ifreq ifr = { 0 };
	int s, n = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (ioctl(s, SIOCETHTOOL, &ifr) || !di.n_stats)
		goto out;
	gs = calloc(1, sizeof(*gs) + (size_t)di.n_stats * ETH_GSTRING_LEN);
	es = calloc(1, sizeof(*es) + (size_t)di.n_stats * sizeof(uint64_t));
	if (!gs || !es)
		goto out;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = di.n_stats;
	ifr.ifr_data = (void *)gs;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		goto out;
	es->cmd = ETHTOOL_GSTATS;
	es->n_stats = di.n_stats;
	ifr.ifr_data = (void *)es;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		goto out;
	for (uint32_t i = 0; i < di.n_stats && n < ETH_NSTATS; i++, n++) {
		memcpy(names[n], gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		names[n][ETH_GSTRING_LEN - 1] = 0;
		vals[n] = es->data[i];
	}
out:
	free(gs);
	free(es);
	close(s);
	return n;
}

static void tx_snap(struct tx_snap *t, bool dut_netdev)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	unsigned int done, drop, squeeze;

	for (size_t i = 0; i < TX_NSTATS; i++)
		t->st[i] = i < 2 && !dut_netdev ? 0 :
			   if_stat(i < 2 ? dut_if : peer_if, tx_stat_names[i]);
	t->softnet_drop = t->softnet_squeeze = 0;
	while (f && fscanf(f, "%x %x %x%*[^\n]", &done, &drop, &squeeze) == 3) {
		t->softnet_drop += drop;
		t->softnet_squeeze += squeeze;
	}
	if (f)
		fclose(f);
	t->neth = eth_stats(peer_if, t->eth_name, t->eth);
}

/* The NIC under test's tx counters and the peer's rx counters, before a row. */
static void tx_mark(bool dut_netdev)
{
	tx_snap(&tx0, dut_netdev);
}

/*
 * After a row: the counters' changes; the peer's rx_packets once more
 * after the sender has been quiet for a while (frames that QEMU still
 * held for the peer arrive then); and where the rest went.
 */
static void tx_note(char *why, size_t len, uint64_t sent, bool dut_netdev)
{
	static struct tx_snap t;
	uint64_t rx, late, lost;
	size_t w;

	tx_snap(&t, dut_netdev);
	rx = t.st[2] - tx0.st[2];
	snprintf(why + strlen(why), len - strlen(why), "; %s", dut_netdev ?
		 "NIC under test" : "peer");
	for (size_t i = dut_netdev ? 0 : 2; i < TX_NSTATS; i++)
		if (i < 5 || t.st[i] != tx0.st[i])
			snprintf(why + strlen(why), len - strlen(why), "%s %s %" PRIu64,
				 i == 2 && dut_netdev ? "; peer" : "", tx_stat_names[i],
				 t.st[i] - tx0.st[i]);
	w = strlen(why);
	for (int i = 0; i < t.neth && i < tx0.neth; i++)
		if (t.eth[i] != tx0.eth[i] && !strncmp(t.eth_name[i], "rx", 2) &&
		    (strstr(t.eth_name[i], "drop") || strstr(t.eth_name[i], "err") ||
		     strstr(t.eth_name[i], "packets")))
			snprintf(why + strlen(why), len - strlen(why), "%s%s %" PRIu64,
				 strlen(why) == w ? "; peer ethtool -S " : " ",
				 t.eth_name[i], t.eth[i] - tx0.eth[i]);
	snprintf(why + strlen(why), len - strlen(why), "; softnet dropped %" PRIu64
		 " squeezed %" PRIu64, t.softnet_drop - tx0.softnet_drop,
		 t.softnet_squeeze - tx0.softnet_squeeze);
	/* A second, quiet second later. */
	sleep(1);
	late = if_stat(peer_if, "rx_packets") - tx0.st[2];
	lost = sent > late ? sent - late : 0;
	snprintf(why + strlen(why), len - strlen(why), "; peer rx_packets %" PRIu64
		 " a second later; ", late);
	if (!lost)
		snprintf(why + strlen(why), len - strlen(why), "all delivered");
	else
		snprintf(why + strlen(why), len - strlen(why), "TX loss %" PRIu64
			 " of %" PRIu64 " (%.0f%%): %s", lost, sent, 100.0 * lost / sent,
			 rx == late && t.softnet_drop == tx0.softnet_drop ?
			 "never returned by the peer's RX virtqueue (lost in QEMU, see bench/README.md)" :
			 "see the counters");
}

/* sendmmsg() of TX_BURST frames at a time on an AF_PACKET raw socket. */
static void tx_sendmmsg(const struct size_cfg *sc)
{
	static struct mmsghdr msgs[TX_BURST];
	static struct iovec iov[TX_BURST];
	uint8_t *bufs = malloc((size_t)TX_BURST * sc->frame);
	uint64_t n = 0, calls = 0;
	char why[1024];
	struct meas m;
	int fd = packet_socket();

	if (!bufs)
		die("malloc");
	for (int i = 0; i < TX_BURST; i++) {
		tx_frame(bufs + (size_t)i * sc->frame, sc->frame, i);
		iov[i].iov_base = bufs + (size_t)i * sc->frame;
		iov[i].iov_len = sc->frame;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	tx_mark(true);
	meas_start(&m);
	while (n < sc->pkts) {
		int r = sendmmsg(fd, msgs, TX_BURST, 0);

		if (r < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
				continue;
			die("sendmmsg: %s", strerror(errno));
		}
		n += r;
		calls++;
	}
	meas_end(&m);
	usleep(100000);
	snprintf(why, sizeof(why), "latency n/a: the call copies the frame and no "
		 "device completion reaches the sender; "
		 "virtio_net; AF_PACKET SOCK_RAW; sendmmsg of %d "
		 "(copies each frame); %.1f frames per call", TX_BURST,
		 (double)n / (calls ? calls : 1));
	tx_note(why, sizeof(why), n, true);
	row("tx-sendmmsg", sc->bytes, n, &m, why);
	close(fd);
	free(bufs);
}

/* A TPACKET_V2 TX ring: frames written into the mmap ring, one send() per burst. */
static void tx_tpacket(const struct size_cfg *sc)
{
	uint32_t fsz = 1U << 14;	/* frames of 16 KiB: 9000 B fit */
	struct tpacket_req req = {
		.tp_block_size = fsz * 4, .tp_block_nr = 64,
		.tp_frame_size = fsz, .tp_frame_nr = 256,
	};
	uint64_t n = 0, sends = 0;
	int fd = packet_socket(), ver = TPACKET_V2;
	uint32_t head = 0;
	char why[1024];
	uint8_t *ring;
	struct meas m;

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		die("PACKET_TX_RING: %s", strerror(errno));
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		die("TX ring mmap: %s", strerror(errno));
	/* The frames once; the loop only hands them to the kernel. */
	for (uint32_t i = 0; i < req.tp_frame_nr; i++) {
		struct tpacket2_hdr *h = (void *)(ring + (size_t)i * fsz);

		tx_frame((uint8_t *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll),
			 sc->frame, i);
		h->tp_len = sc->frame;
	}
	tx_mark(true);
	meas_start(&m);
	while (n < sc->pkts) {
		uint32_t queued = 0;

		for (int i = 0; i < TX_BURST; i++) {
			struct tpacket2_hdr *h = (void *)(ring + (size_t)head * fsz);

			if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) !=
			    TP_STATUS_AVAILABLE)
				break;
			h->tp_len = sc->frame;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
					 __ATOMIC_RELEASE);
			head = (head + 1) % req.tp_frame_nr;
			queued++;
		}
		/* Blocks until the queued frames are handed to the device. */
		if (send(fd, NULL, 0, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			die("TX ring send: %s", strerror(errno));
		sends++;
		n += queued;
	}
	meas_end(&m);
	usleep(100000);
	snprintf(why, sizeof(why), "latency n/a: a TX ring frame comes back "
		 "(TP_STATUS_AVAILABLE) with no timestamp; "
		 "virtio_net; AF_PACKET TPACKET_V2 TX ring of %u "
		 "frames; send() per burst of up to %d; %.1f frames per send",
		 req.tp_frame_nr, TX_BURST, (double)n / (sends ? sends : 1));
	tx_note(why, sizeof(why), n, true);
	row("tx-tpacket", sc->bytes, n, &m, why);
	munmap(ring, (size_t)req.tp_block_size * req.tp_block_nr);
	close(fd);
}

/*
 * UDP with MSG_ZEROCOPY (SO_ZEROCOPY is refused on packet sockets): the NIC
 * under test gets 10.99.1.1/24 and a static neighbour entry for the peer.
 */
static int udp_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct arpreq ar = { 0 };
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (void *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("UDP socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dut_if);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.99.1.1", &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		die("SIOCSIFADDR: %s", strerror(errno));
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		die("SIOCSIFNETMASK: %s", strerror(errno));
	if_mtu_up(dut_if, MTU);
	sin = (void *)&ar.arp_pa;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.99.1.2", &sin->sin_addr);
	ar.arp_ha.sa_family = 1;	/* ARPHRD_ETHER */
	memcpy(ar.arp_ha.sa_data, peer_mac_b, 6);
	ar.arp_flags = ATF_PERM | ATF_COM;
	snprintf(ar.arp_dev, sizeof(ar.arp_dev), "%s", dut_if);
	if (ioctl(s, SIOCSARP, &ar))
		die("SIOCSARP: %s", strerror(errno));
	a.sin_port = htons(9);
	inet_pton(AF_INET, "10.99.1.2", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("UDP connect: %s", strerror(errno));
	return s;
}

/* An ethtool_value query (ETHTOOL_GSG, ETHTOOL_GTXCSUM) on @ifname: 0/1, -1. */
static int eth_flag(const char *ifname, uint32_t cmd)
{
	struct ethtool_value v = { .cmd = cmd };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&v;
	ret = ioctl(s, SIOCETHTOOL, &ifr) ? -1 : !!v.data;
	close(s);
	return ret;
}

/*
 * Why UDP MSG_ZEROCOPY copies here: __ip_append_data() (net/ipv4/
 * ip_output.c) takes the user pages only when the route's device has
 * NETIF_F_SG and the packet gets CHECKSUM_PARTIAL (a device checksum
 * feature); otherwise it sets the notification's zerocopy = 0 and copies,
 * which the completion reports as SO_EE_CODE_ZEROCOPY_COPIED.  virtio_net
 * sets NETIF_F_SG and NETIF_F_HW_CSUM only with VIRTIO_NET_F_CSUM, which
 * QEMU's virtio-net offers only when its backend has a vnet header (tap,
 * vhost); a -netdev hubport has none.
 */
static void zerocopy_why(char *why, size_t len)
{
	int sg = eth_flag(dut_if, ETHTOOL_GSG), csum = eth_flag(dut_if, ETHTOOL_GTXCSUM);
	int f = vfeature(dut_dev, VNET_F_CSUM);

	snprintf(why + strlen(why), len - strlen(why), "; %s: scatter-gather %s, "
		 "tx checksum offload %s, VIRTIO_NET_F_CSUM %s", dut_if,
		 sg < 0 ? "?" : sg ? "on" : "off", csum < 0 ? "?" : csum ? "on" : "off",
		 f < 0 ? "?" : f ? "negotiated" : "not offered (hubport backend: no vnet header)");
	if (!sg || !csum)
		snprintf(why + strlen(why), len - strlen(why), ": the stack copies "
			 "every MSG_ZEROCOPY send (it needs both: net/ipv4/ip_output.c)");
}

/* Drain MSG_ZEROCOPY completions; returns the count of sends completed. */
static uint64_t zc_done(int s, uint64_t done, uint64_t *copied, int wait_ms)
{
	char ctrl[256];
	struct pollfd p = { .fd = s, .events = 0 };

	if (wait_ms && poll(&p, 1, wait_ms) != 1)
		return done;
	for (;;) {
		struct msghdr msg = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
		struct cmsghdr *cm;

		if (recvmsg(s, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err *ee = (void *)CMSG_DATA(cm);

			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				continue;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				*copied += ee->ee_data - ee->ee_info + 1;
			done += ee->ee_data - ee->ee_info + 1;
		}
	}
	return done;
}

static void tx_udp(const struct size_cfg *sc, bool zc)
{
	uint32_t payload = sc->frame - 42;	/* Ethernet + IPv4 + UDP */
	uint64_t n = 0, done = 0, copied = 0;
	uint8_t *buf = malloc((size_t)TX_BURST * payload);
	int s = udp_socket(), one = 1;
	char why[1024];
	struct meas m;

	if (!buf)
		die("malloc");
	memset(buf, 0x5a, (size_t)TX_BURST * payload);
	if (zc && setsockopt(s, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		die("SO_ZEROCOPY: %s", strerror(errno));
	tx_mark(true);
	meas_start(&m);
	while (n < sc->pkts) {
		/* At most TX_BURST sends in flight: each slot is reused after completion. */
		if (zc && n - done >= TX_BURST) {
			done = zc_done(s, done, &copied, 1000);
			continue;
		}
		if (send(s, buf + (n % TX_BURST) * payload, payload,
			 zc ? MSG_ZEROCOPY : 0) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				if (zc)
					done = zc_done(s, done, &copied, 10);
				continue;
			}
			die("UDP send: %s", strerror(errno));
		}
		n++;
	}
	while (zc && done < n) {
		uint64_t d = zc_done(s, done, &copied, 1000);

		if (d == done)
			break;
		done = d;
	}
	meas_end(&m);
	usleep(100000);
	if (zc)
		snprintf(why, sizeof(why), "latency n/a: zerocopy completions "
			 "(SO_EE_ORIGIN_ZEROCOPY) carry no timestamp; "
			 "virtio_net; UDP send() with MSG_ZEROCOPY of "
			 "%u B payloads; at most %d in flight; %" PRIu64 " completions; %"
			 PRIu64 " reported copied", payload, TX_BURST, done, copied);
	if (zc)
		zerocopy_why(why, sizeof(why));
	else
		snprintf(why, sizeof(why), "latency n/a: the call copies the payload and "
			 "no device completion reaches the sender; "
			 "virtio_net; UDP send() of %u B payloads (copy)",
			 payload);
	tx_note(why, sizeof(why), n, true);
	row(zc ? "tx-udp-zerocopy" : "tx-udp-send", sc->bytes, n, &m, why);
	close(s);
	free(buf);
}

/*
 * zcbuf's TX on virtio-net: one frame per buffer (QBUF's bytesused), ZNBUF
 * buffers in flight; eventfd read + DQBUF + QBUF per completed frame.  The
 * frames are written once (like the TX ring's), with one SYNC END WRITE.
 */
static void tx_zcbuf(const struct size_cfg *sc)
{
	struct zcbuf_config cfg = { .personality = ZCBUF_DEV_NIC_TX };
	struct zcbuf_eventfd e = { 0 };
	struct zcbuf_alloc a = { 0 };
	struct zcbuf_stream st = { 0 };
	struct zcbuf_stats stats = { 0 };
	uint8_t *map[ZNBUF] = { 0 };
	uint64_t n = 0, size = 0;
	char name[64], why[1024];
	int fd, id, efd = -1;
	struct meas m;

	dut_to("zcbuf_virtio_net");
	fd = open("/dev/zcbuf", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/zcbuf: %s", strerror(errno));
	snprintf(name, sizeof(name), "vnet-%s", dut_dev);
	id = zc_device_id(fd, name);
	cfg.device = id > 0 ? (uint32_t)id : 0;
	if (id < 0 || xioctl(fd, ZCBUF_IOC_CONFIG, &cfg)) {
		if (id < 0)
			snprintf(why, sizeof(why), "cannot run: no zcbuf device %s", name);
		else
			snprintf(why, sizeof(why), "cannot run: CONFIG(ZCBUF_DEV_NIC_TX) "
				 "on %s failed: %s", name, strerror(errno));
		row("tx-zcbuf", sc->bytes, 0, NULL, why);
		close(fd);
		return;
	}
	a.size = (sc->frame + 4095) & ~4095U;
	a.count = ZNBUF;
	if (xioctl(fd, ZCBUF_IOC_ALLOC, &a))
		die("TX ALLOC: %s", strerror(errno));
	for (uint32_t i = 0; i < ZNBUF; i++) {
		struct zcbuf_query q = { .index = a.first_index + i };
		struct zcbuf_sync sy = { .index = a.first_index + i,
					 .flags = ZCBUF_SYNC_END | ZCBUF_SYNC_WRITE,
					 .length = sc->frame };

		if (xioctl(fd, ZCBUF_IOC_QUERY, &q))
			die("QUERY: %s", strerror(errno));
		size = q.size;
		map[i] = mmap(NULL, q.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			      q.offset);
		if (map[i] == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		tx_frame(map[i], sc->frame, i);
		if (xioctl(fd, ZCBUF_IOC_SYNC, &sy))
			die("SYNC: %s", strerror(errno));
	}
	efd = eventfd(0, EFD_CLOEXEC);
	e.fd = efd;
	if (efd < 0 || xioctl(fd, ZCBUF_IOC_SET_EVENTFD, &e))
		die("eventfd: %s", strerror(errno));
	if (xioctl(fd, ZCBUF_IOC_STREAMON, &st))
		die("TX STREAMON: %s", strerror(errno));
	tx_mark(false);
	row_watchdog(60);
	lat_start();
	meas_start(&m);
	for (uint32_t i = 0; i < ZNBUF; i++) {
		struct zcbuf_qbuf q = { .index = a.first_index + i,
					.bytesused = sc->frame };

		if (xioctl(fd, ZCBUF_IOC_QBUF, &q))
			die("TX QBUF: %s", strerror(errno));
	}
	while (n < sc->pkts) {
		uint64_t ready = efd_wait(efd);

		while (ready--) {
			struct zcbuf_dqbuf d = { 0 };
			struct zcbuf_qbuf q = { .bytesused = sc->frame };

			if (xioctl(fd, ZCBUF_IOC_DQBUF, &d))
				die("TX DQBUF: %s", strerror(errno));
			lat_add(ns_of(CLOCK_MONOTONIC), d.timestamp_ns, 1);
			if (d.flags & ZCBUF_DQ_ERROR)
				warnx_("TX buffer %u completed with an error", d.index);
			n++;
			q.index = d.index;
			if (xioctl(fd, ZCBUF_IOC_QBUF, &q))
				die("TX QBUF: %s", strerror(errno));
		}
	}
	meas_end(&m);
	row_watchdog(0);
	xioctl(fd, ZCBUF_IOC_STATS, &stats);
	xioctl(fd, ZCBUF_IOC_STREAMOFF, &st);
	usleep(100000);
	why[0] = 0;
	lat_note(why, sizeof(why), "the device's TX completion (used ring) to the sender");
	snprintf(why + strlen(why), sizeof(why) - strlen(why),
		 "zcbuf_virtio_net; one frame per buffer; %u "
		 "buffers in flight; eventfd read + DQBUF + QBUF per frame; frames "
		 "written once; %" PRIu64 " errors", ZNBUF, (uint64_t)stats.errors);
	/* The NIC under test has no netdev now: only the peer's counters. */
	tx_note(why, sizeof(why), n, false);
	row("tx-zcbuf", sc->bytes, n, &m, why);
	for (uint32_t i = 0; i < ZNBUF; i++)
		munmap(map[i], size);
	close(efd);
	close(fd);
}

static void bench_tx(const struct size_cfg *sc)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", peer_if);
	if (read_file(path, peer_mac, sizeof(peer_mac)) <= 0)
		die("%s: no MAC", peer_if);
	parse_mac(peer_mac, peer_mac_b);
	parse_mac(dut_mac, dut_mac_b);
	tx_zcbuf(sc);
	dut_to("virtio_net");
	tx_sendmmsg(sc);
	tx_tpacket(sc);
	tx_udp(sc, false);
	tx_udp(sc, true);
}

/*
 * Boot-time kernel work still running (the crypto self-tests' cryptomgr_test
 * threads, seen taking 3-5 us of every packet's time in the first rows):
 * wait until it is gone, at most 60 s.
 */
static void settle(void)
{
	uint64_t t0 = ns_of(CLOCK_MONOTONIC);
	int busy = 1;

	while (busy && ns_of(CLOCK_MONOTONIC) - t0 < 60000000000ULL) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		busy = 0;
		while (d && (de = readdir(d))) {
			char path[300], comm[64];

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
			if (read_file(path, comm, sizeof(comm)) > 0 &&
			    !strncmp(comm, "cryptomgr", 9))
				busy = 1;
		}
		if (d)
			closedir(d);
		if (busy)
			usleep(100000);
	}
	printf("nicbench: waited %.1f s for boot-time kernel threads (cryptomgr_test)%s\n",
	       (ns_of(CLOCK_MONOTONIC) - t0) / 1e9, busy ? ": still running" : "");
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "k:b:o:n:")) != -1) {
		switch (opt) {
		case 'k': kernel_label = optarg; break;
		case 'b': boot_label = optarg; break;
		case 'o': out = optarg; break;
		case 'n':
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
				sizes[i].pkts = (uint32_t)(sizes[i].pkts * atof(optarg));
			break;
		default:
			fprintf(stderr, "usage: nicbench [-k KERNEL] [-b BOOT] [-o CSV] "
				"[-n SCALE] zcbuf|tpacket|recvmmsg|afxdp|tx|all...\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (out) {
		csv = fopen(out, "a");
		if (!csv)
			die("%s: %s", out, strerror(errno));
	}
#ifdef NICBENCH_XDP
	libxdp_set_print(xdp_print);
	libbpf_set_print(bpf_print);
	/* libxdp pins its dispatcher in bpffs. */
	mkdir("/sys/fs/bpf", 0755);
	mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL);
#endif
	setup_nics();
	pg_setup();
	settle();
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int i = optind; i < argc; i++) {
			bool all = !strcmp(argv[i], "all");

			if (all || !strcmp(argv[i], "zcbuf"))
				bench_zcbuf(&sizes[s]);
			if (all || !strcmp(argv[i], "tpacket"))
				bench_tpacket(&sizes[s]);
			if (all || !strcmp(argv[i], "recvmmsg"))
				bench_recvmmsg(&sizes[s]);
			if (all || !strcmp(argv[i], "afxdp"))
				bench_afxdp(&sizes[s]);
			if (all || !strcmp(argv[i], "tx"))
				bench_tx(&sizes[s]);
		}
	if (csv)
		fclose(csv);
	if (failures)
		fprintf(stderr, "nicbench: %d problem(s) above\n", failures);
	return failures ? 1 : 0;
}
