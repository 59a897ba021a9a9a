// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_interop_scm: the multi-process pipeline a camera stack uses.
 *
 * A producer process streams from the simulated camera; for each completed
 * frame it exports the buffer as a read-only DMA-buf fd and passes it over a
 * UNIX socket (SCM_RIGHTS) to a consumer process, with the frame's sequence,
 * size and CRC-32 alongside.  The consumer maps the fd, brackets its reads
 * with DMA_BUF_IOCTL_SYNC, checks the CRC and the frame number drawn in the
 * picture, and acknowledges; only then does the producer queue the buffer
 * again.  The consumer also checks that its fd is read-only.  At the end the
 * producer closes its context while the consumer still holds the last
 * frame's fd: the frame must stay readable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "zcbuf_stream.h"

#define NBUFS		4
#define NFRAMES		24
#define WIDTH		320
#define HEIGHT		240
#define FMT		ZCBUF_FMT_RGB24

/* Producer -> consumer, with one fd (none in the final message). */
struct frame_msg {
	uint64_t sequence;
	uint64_t bytesused;
	uint32_t checksum;
	uint32_t last;		/* 1: the producer's context is gone after this */
};

/* Consumer -> producer. */
struct frame_ack {
	uint64_t sequence;
	int32_t result;		/* 0, or what went wrong (see consume()) */
	uint32_t pad;
};

static int send_frame(int sock, const struct frame_msg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == sizeof(*m) ? 0 : -1;
}

/* Receive a message and its fd (*fd = -1 if none); bytes or -1. */
static ssize_t recv_frame(int sock, struct frame_msg *m, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

/*
 * Check one frame through its DMA-buf fd: 0, or 1 no fd, 2 mmap failed,
 * 3 writable, 4 sync failed, 5 wrong CRC, 6 wrong frame number.
 */
static int consume(int fd, const struct frame_msg *m)
{
	int result = 0;
	size_t len = m->bytesused;
	uint8_t *p;

	if (fd < 0)
		return 1;
	/* Read-only fd: a writable shared mapping is refused. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return 3;
	}
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	if (dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
		result = 4;
	else if (zs_crc32(p, len) != m->checksum)
		result = 5;
	else if (zs_read_number(p, WIDTH, HEIGHT, FMT) != (long long)m->sequence)
		result = 6;
	if (dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ) && !result)
		result = 4;
	munmap(p, len);
	return result;
}

/* The consumer process: exit 0 after NFRAMES good frames and the last one. */
static int consumer(int sock)
{
	struct frame_msg m;
	int frames = 0, fd;

	for (;;) {
		struct frame_ack a = { 0 };
		ssize_t n = recv_frame(sock, &m, &fd);

		if (n != sizeof(m)) {
			fprintf(stderr, "# consumer: recvmsg %zd (%s) after %d frames\n",
				n, n < 0 ? strerror(errno) : "short", frames);
			return 10;
		}
		if (m.last) {
			/* The producer's context is closed: this fd is all. */
			int r = consume(fd, &m);

			if (r)
				fprintf(stderr, "# consumer: last frame (seq %llu) after the context closed: error %d\n",
					(unsigned long long)m.sequence, r);
			close(fd);
			return r ? 20 + r : (frames == NFRAMES ? 0 : 11);
		}
		a.sequence = m.sequence;
		a.result = consume(fd, &m);
		if (fd >= 0)
			close(fd);
		if (a.result)
			fprintf(stderr, "# consumer: frame seq %llu: error %d\n",
				(unsigned long long)m.sequence, a.result);
		else
			frames++;
		if (send(sock, &a, sizeof(a), MSG_NOSIGNAL) != sizeof(a))
			return 12;
	}
}

FIXTURE(pipeline)
{
	int fd;			/* /dev/zcbuf */
	int sock;		/* producer's end */
	pid_t child;
	uint32_t first;
	uint32_t frame_size;
};

FIXTURE_SETUP(pipeline)
{
	int sv[2];

	self->fd = self->sock = -1;
	self->child = -1;
	self->fd = zc_open();
	if (self->fd == -ENOENT)
		SKIP(return, "%s does not exist: zcbuf.ko not loaded", ZCBUF_DEV);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, zs_config_camera(self->fd, WIDTH, HEIGHT, FMT, 0, 0,
				      &self->frame_size));
	ASSERT_EQ(0, zc_alloc(self->fd, self->frame_size, NBUFS, 0,
			      &self->first));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		/* Nothing of the producer's but the socket. */
		close(sv[0]);
		close(self->fd);
		_exit(consumer(sv[1]));
	}
	close(sv[1]);
	self->sock = sv[0];
}

FIXTURE_TEARDOWN(pipeline)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->sock >= 0)
		close(self->sock);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(pipeline, frames_over_scm_rights)
{
	struct frame_msg m = { 0 };
	struct zcbuf_dqbuf d;
	int i, n, status, fd;

	for (i = 0; i < NBUFS; i++)
		ASSERT_EQ(0, zs_qbuf(self->fd, self->first + i, 0));
	ASSERT_EQ(0, zs_streamon(self->fd));

	for (n = 0; n < NFRAMES; n++) {
		struct frame_ack a;

		ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS))
			TH_LOG("frame %d", n);
		ASSERT_EQ(0, d.flags);
		ASSERT_EQ(self->frame_size, d.bytesused);
		/* The producer never reads the frame: the consumer does. */
		fd = zc_export(self->fd, d.index, ZCBUF_EXPORT_CLOEXEC);
		ASSERT_LE(0, fd);
		m.sequence = d.sequence;
		m.bytesused = d.bytesused;
		m.checksum = d.checksum;
		ASSERT_EQ(0, send_frame(self->sock, &m, fd));
		close(fd);
		ASSERT_EQ(sizeof(a), recv(self->sock, &a, sizeof(a), 0));
		ASSERT_EQ(d.sequence, a.sequence);
		ASSERT_EQ(0, a.result) TH_LOG("consumer: frame %llu: error %d",
					      (unsigned long long)a.sequence,
					      a.result);
		ASSERT_EQ(0, zs_qbuf(self->fd, d.index, 0));
	}

	/* One more frame; its fd outlives the producer's context. */
	ASSERT_EQ(0, zs_dqbuf_wait(self->fd, &d, ZS_WAIT_MS));
	fd = zc_export(self->fd, d.index, ZCBUF_EXPORT_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, zs_streamoff(self->fd));
	close(self->fd);
	self->fd = -1;
	m.sequence = d.sequence;
	m.bytesused = d.bytesused;
	m.checksum = d.checksum;
	m.last = 1;
	ASSERT_EQ(0, send_frame(self->sock, &m, fd));
	close(fd);

	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
