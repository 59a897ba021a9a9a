// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_gup: a mapped buffer is made of real pages that get_user_pages()
 * can take, so the kernel's zero-copy paths work straight from it:
 *
 *   vmsplice()		pages referenced by a pipe (and they outlive the
 *			buffer, the mapping and the context);
 *   process_vm_readv/writev	pinned as the "remote" memory;
 *   O_DIRECT		block I/O from and into the mapping (a loop device on
 *			a tmpfs file: the guest needs the loop module, which
 *			the test modprobes if /dev/loop-control is missing);
 *   MSG_ZEROCOPY	TCP over loopback, completion read from the error queue;
 *   io_uring		fixed buffers (FOLL_LONGTERM pins).
 *
 * A VM_PFNMAP mapping (udmabuf, the CMA heap) fails every one of these with
 * EFAULT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <linux/errqueue.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/loop.h>

#include "kselftest_harness.h"
#include "zcbuf_helpers.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY	60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY	0x4000000
#endif

#define NPAGES		16

FIXTURE(gup)
{
	int fd;
	size_t page;
	size_t size;
	uint32_t idx[2];
	uint8_t *map[2];	/* two buffers, mapped whole */
	struct zcbuf_info info;
};

FIXTURE_VARIANT(gup)
{
	uint32_t alloc_flags;
};

FIXTURE_VARIANT_ADD(gup, sg)
{
	.alloc_flags = 0,
};

FIXTURE_VARIANT_ADD(gup, contig)
{
	.alloc_flags = ZCBUF_ALLOC_CONTIG,
};

FIXTURE_SETUP(gup)
{
	int i;

	self->page = sysconf(_SC_PAGESIZE);
	self->size = NPAGES * self->page;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zc_info(self->fd, &self->info));
	if ((variant->alloc_flags & ZCBUF_ALLOC_CONTIG) &&
	    !(self->info.caps & ZCBUF_CAP_CONTIG))
		SKIP(return, "ZCBUF_CAP_CONTIG not reported");
	ASSERT_EQ(0, zc_alloc(self->fd, self->size, 2, variant->alloc_flags,
			      &self->idx[0]));
	self->idx[1] = self->idx[0] + 1;
	for (i = 0; i < 2; i++) {
		self->map[i] = zc_map_buffer(self->fd, self->idx[i], NULL);
		ASSERT_NE(NULL, self->map[i]);
	}
}

FIXTURE_TEARDOWN(gup)
{
	int i;

	for (i = 0; i < 2; i++)
		if (self->map[i])
			munmap(self->map[i], self->size);
	if (self->fd >= 0)
		close(self->fd);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : (ssize_t)done;
		done += n;
	}
	return done;
}

/*
 * vmsplice() puts references to the mapping's pages into the pipe: a write
 * to the mapping after vmsplice() shows in what the pipe gives back.
 */
TEST_F(gup, vmsplice_references_pages)
{
	size_t len = 8 * self->page;
	struct iovec iov = { .iov_base = self->map[0], .iov_len = len };
	uint8_t *out;
	int pfd[2];

	out = malloc(len);
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, pipe(pfd));
	zc_fill(self->map[0], len, 1);
	ASSERT_EQ((ssize_t)len, vmsplice(pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s",
								 strerror(errno));
	/* Not a copy: the pipe holds the pages themselves. */
	zc_fill(self->map[0], len, 2);
	ASSERT_EQ((ssize_t)len, read_full(pfd[0], out, len));
	EXPECT_EQ(-1, zc_check(out, len, 2));
	close(pfd[0]);
	close(pfd[1]);
	free(out);
}

/*
 * Pages in a pipe outlive the mapping, the buffer and the context: drop
 * them all, then read the pipe.
 */
TEST_F(gup, vmsplice_pages_outlive_buffer)
{
	size_t len = 8 * self->page;
	struct iovec iov = { .iov_base = self->map[1], .iov_len = len };
	uint8_t *out;
	int pfd[2];

	out = malloc(len);
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, pipe(pfd));
	zc_fill(self->map[1], len, 3);
	ASSERT_EQ((ssize_t)len, vmsplice(pfd[1], &iov, 1, SPLICE_F_GIFT));

	ASSERT_EQ(0, munmap(self->map[1], self->size));
	self->map[1] = NULL;
	ASSERT_EQ(0, zc_free(self->fd, self->idx[1]));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ((ssize_t)len, read_full(pfd[0], out, len));
	EXPECT_EQ(-1, zc_check(out, len, 3));
	close(pfd[0]);
	close(pfd[1]);
	free(out);
}

/* The mapping of an exported DMA-buf is just as pinnable. */
TEST_F(gup, vmsplice_from_exported_dmabuf)
{
	size_t len = 4 * self->page;
	struct iovec iov;
	uint8_t *d, *out;
	int dfd, pfd[2];

	dfd = zc_export(self->fd, self->idx[0], ZCBUF_EXPORT_RDWR | ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, dfd);
	d = zc_mmap(dfd, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(NULL, d);
	close(dfd);
	out = malloc(len);
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, pipe(pfd));

	zc_fill(d, len, 4);
	iov.iov_base = d;
	iov.iov_len = len;
	ASSERT_EQ((ssize_t)len, vmsplice(pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s",
								 strerror(errno));
	ASSERT_EQ((ssize_t)len, read_full(pfd[0], out, len));
	EXPECT_EQ(-1, zc_check(out, len, 4));
	close(pfd[0]);
	close(pfd[1]);
	munmap(d, self->size);
	free(out);
}

/* process_vm_readv/writev pin the "remote" side: our own mapping here. */
TEST_F(gup, process_vm_readv_writev)
{
	struct iovec local, remote;
	uint8_t *buf;

	buf = malloc(self->size);
	ASSERT_NE(NULL, buf);

	zc_fill(self->map[0], self->size, 5);
	local.iov_base = buf;
	local.iov_len = self->size;
	remote.iov_base = self->map[0];
	remote.iov_len = self->size;
	ASSERT_EQ((ssize_t)self->size, process_vm_readv(getpid(), &local, 1, &remote, 1, 0))
		TH_LOG("process_vm_readv: %s", strerror(errno));
	EXPECT_EQ(-1, zc_check(buf, self->size, 5));

	zc_fill(buf, self->size, 6);
	remote.iov_base = self->map[1];
	ASSERT_EQ((ssize_t)self->size, process_vm_writev(getpid(), &local, 1, &remote, 1, 0))
		TH_LOG("process_vm_writev: %s", strerror(errno));
	EXPECT_EQ(-1, zc_check(self->map[1], self->size, 6));
	free(buf);
}

/* ---- O_DIRECT ---------------------------------------------------------- */

struct odirect_target {
	int fd;			/* opened with O_DIRECT */
	int backing;		/* loop: the backing file, else -1 */
	char path[64];		/* file to unlink */
	const char *what;
};

/* Attach a fresh tmpfs file to a free loop device; 0 or -errno. */
static int loop_setup(struct odirect_target *t, size_t size)
{
	char dev[32];
	int ctl, n, i, ret;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0 && errno == ENOENT) {
		/* Loadable on Debian's kernels, if the runner shipped it. */
		if (system("modprobe -q loop 2>/dev/null") == 0)
			ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	}
	if (ctl < 0)
		return -errno;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return -errno;

	strcpy(t->path, "/tmp/zcbuf-gup-XXXXXX");
	t->backing = mkostemp(t->path, O_CLOEXEC);
	if (t->backing < 0)
		return -errno;
	if (ftruncate(t->backing, size))
		return -errno;

	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	/* devtmpfs may need a moment to create the node. */
	for (i = 0; i < 200; i++) {
		t->fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (t->fd >= 0 || errno != ENOENT)
			break;
		usleep(10000);
	}
	if (t->fd < 0)
		return -errno;
	ret = ioctl(t->fd, LOOP_SET_FD, t->backing);
	if (ret)
		return -errno;
	t->what = "loop device";
	return 0;
}

static void odirect_teardown(struct odirect_target *t)
{
	if (t->fd >= 0 && t->backing >= 0)
		ioctl(t->fd, LOOP_CLR_FD, 0);
	if (t->fd >= 0)
		close(t->fd);
	if (t->backing >= 0)
		close(t->backing);
	if (t->path[0])
		unlink(t->path);
}

/* A target for O_DIRECT I/O: a loop device, else a tmpfs file. */
static int odirect_setup(struct odirect_target *t, size_t size, char *why, size_t whylen)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->fd = t->backing = -1;
	ret = loop_setup(t, size);
	if (!ret)
		return 0;
	snprintf(why, whylen, "no loop device (%s)", strerror(-ret));
	odirect_teardown(t);

	memset(t, 0, sizeof(*t));
	t->fd = t->backing = -1;
	strcpy(t->path, "/tmp/zcbuf-gup-XXXXXX");
	t->fd = mkostemp(t->path, O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	if (ftruncate(t->fd, size))
		return -errno;
	if (fcntl(t->fd, F_SETFL, O_DIRECT)) {
		ret = -errno;
		snprintf(why + strlen(why), whylen - strlen(why),
			 " and /tmp refuses O_DIRECT (%s)", strerror(-ret));
		return ret;
	}
	t->what = "tmpfs file";
	return 0;
}

/* O_DIRECT write from one buffer's mapping, read back into another's. */
TEST_F(gup, odirect_write_and_read)
{
	struct odirect_target t;
	char why[160] = "";
	uint8_t *check;
	int ret;

	ret = odirect_setup(&t, self->size, why, sizeof(why));
	if (ret) {
		odirect_teardown(&t);
		SKIP(return, "%s: the runner must load the loop module", why);
	}
	TH_LOG("O_DIRECT on a %s%s%s", t.what, why[0] ? "; " : "", why);

	zc_fill(self->map[0], self->size, 7);
	ret = pwrite(t.fd, self->map[0], self->size, 0);
	EXPECT_EQ((ssize_t)self->size, ret) TH_LOG("pwrite: %s", strerror(errno));
	EXPECT_EQ(0, fsync(t.fd));

	memset(self->map[1], 0, self->size);
	ret = pread(t.fd, self->map[1], self->size, 0);
	EXPECT_EQ((ssize_t)self->size, ret) TH_LOG("pread: %s", strerror(errno));
	EXPECT_EQ(-1, zc_check(self->map[1], self->size, 7));

	/* Sub-range, at an offset, from the middle of the mapping. */
	ret = pwrite(t.fd, self->map[0] + 4 * self->page, 2 * self->page, self->page);
	EXPECT_EQ((ssize_t)(2 * self->page), ret);

	/* What reached the medium, read without O_DIRECT. */
	if (t.backing >= 0) {
		check = malloc(self->size);
		ASSERT_NE(NULL, check);
		ASSERT_EQ((ssize_t)self->size, pread(t.backing, check, self->size, 0));
		EXPECT_EQ(0, memcmp(check + self->page, self->map[0] + 4 * self->page,
				    2 * self->page));
		EXPECT_EQ(0, memcmp(check, self->map[0], self->page));
		free(check);
	}
	odirect_teardown(&t);
}

/* ---- MSG_ZEROCOPY -------------------------------------------------------- */

static int loopback_up(void)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			ret = -errno;
	}
	close(s);
	return ret;
}

/* A connected TCP pair over 127.0.0.1; 0 or -errno. */
static int tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	int l;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -errno;
	if (bind(l, (void *)&addr, sizeof(addr)) || listen(l, 1) ||
	    getsockname(l, (void *)&addr, &alen))
		goto fail;
	*tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*tx < 0 || connect(*tx, (void *)&addr, sizeof(addr)))
		goto fail;
	*rx = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (*rx < 0)
		goto fail;
	close(l);
	return 0;
fail:
	close(l);
	return -errno;
}

/*
 * Read zerocopy completions until sends [0, nsends) are all done.
 * Returns the number completed, or -errno; *copied says the kernel fell
 * back to copying for some of them (normal on loopback).
 */
static int zerocopy_completions(int fd, unsigned int nsends, int *copied)
{
	unsigned int done = 0;

	*copied = 0;
	while (done < nsends) {
		char control[CMSG_SPACE(sizeof(struct sock_extended_err)) + 64];
		struct msghdr msg = { .msg_control = control,
				      .msg_controllen = sizeof(control) };
		struct pollfd pfd = { .fd = fd, .events = 0 };
		struct sock_extended_err *serr;
		struct cmsghdr *cm;

		if (poll(&pfd, 1, 10000) != 1)
			return -ETIMEDOUT;
		if (recvmsg(fd, &msg, MSG_ERRQUEUE) < 0) {
			if (errno == EAGAIN)
				continue;
			return -errno;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			serr = (void *)CMSG_DATA(cm);
			if (serr->ee_origin != SO_EE_ORIGIN_ZEROCOPY || serr->ee_errno)
				return -EPROTO;
			done += serr->ee_data - serr->ee_info + 1;
			if (serr->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				*copied = 1;
		}
	}
	return done;
}

TEST_F(gup, msg_zerocopy_tcp)
{
	const unsigned int nsends = 4;
	size_t chunk = self->size / nsends;
	int tx, rx, one = 1, copied, ret;
	unsigned int i;
	uint8_t *in;

	ret = loopback_up();
	ASSERT_EQ(0, ret) TH_LOG("bringing lo up: %s", strerror(-ret));
	ret = tcp_pair(&tx, &rx);
	ASSERT_EQ(0, ret) TH_LOG("TCP over 127.0.0.1: %s", strerror(-ret));
	ASSERT_EQ(0, setsockopt(tx, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
		TH_LOG("SO_ZEROCOPY: %s", strerror(errno));

	zc_fill(self->map[0], self->size, 8);
	for (i = 0; i < nsends; i++) {
		ret = send(tx, self->map[0] + i * chunk, chunk, MSG_ZEROCOPY);
		ASSERT_EQ((ssize_t)chunk, ret) TH_LOG("send %u: %s", i, strerror(errno));
	}
	/* The receiver reads straight into the other buffer's mapping. */
	in = self->map[1];
	ASSERT_EQ((ssize_t)self->size, read_full(rx, in, self->size));
	EXPECT_EQ(-1, zc_check(in, self->size, 8));

	ret = zerocopy_completions(tx, nsends, &copied);
	EXPECT_EQ((int)nsends, ret) TH_LOG("completions: %s",
					   ret < 0 ? strerror(-ret) : "too few");
	TH_LOG("zerocopy completions: %d%s", ret, copied ? " (kernel copied: loopback)" : "");
	close(tx);
	close(rx);
}

/* ---- io_uring fixed buffers ---------------------------------------------- */

/* Register and unregister [addr, addr + len) as an io_uring fixed buffer. */
static int uring_register(void *addr, size_t len)
{
	int ring = zc_uring_pin(addr, len);

	return ring < 0 ? ring : zc_uring_unpin(ring);
}

/* Registering fixed buffers pins with FOLL_LONGTERM | FOLL_WRITE. */
TEST_F(gup, io_uring_fixed_buffer)
{
	void *anon, *shm;
	int ret, memfd;

	/* Controls: anonymous memory and a shared shmem mapping (memfd). */
	anon = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	ret = uring_register(anon, self->size);
	munmap(anon, self->size);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring is not available here (%s)", strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("anonymous memory: %s", strerror(-ret));

	memfd = memfd_create("zcbuf-gup", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, self->size));
	shm = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, shm);
	memset(shm, 1, self->size);
	ret = uring_register(shm, self->size);
	munmap(shm, self->size);
	close(memfd);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "this kernel's io_uring takes no file-backed fixed buffers (memfd too)");

	memset(self->map[0], 1, self->size);
	ret = uring_register(self->map[0], self->size);
	/*
	 * io_uring of 6.1 refuses every file-backed VMA but shmem and hugetlb
	 * with EOPNOTSUPP, whatever the pages are (later kernels dropped that
	 * check).  A mapping GUP cannot pin fails with EFAULT instead.
	 */
	if (ret == -EOPNOTSUPP)
		SKIP(return, "this kernel's io_uring takes file-backed fixed buffers only from shmem/hugetlb");
	EXPECT_EQ(0, ret) TH_LOG("zcbuf mapping: %s", strerror(-ret));
}

TEST_HARNESS_MAIN
