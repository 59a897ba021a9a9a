// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the "unix" sink, a two-process pipeline the way a real
 * camera stack hands frames around.  Every buffer is exported once as a
 * read-only DMA-buf; each frame's DMA-buf fd travels to a child process over
 * a UNIX socket (SCM_RIGHTS) with its sequence, size and CRC-32.  The child
 * maps the DMA-buf (once per buffer), brackets its read with
 * DMA_BUF_IOCTL_SYNC START/END, checks the CRC-32 and answers; only then does
 * the buffer go back to the device.  Nothing is copied on the way.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"

struct unix_msg {
	uint32_t slot;
	uint32_t crc;
	uint64_t sequence;
	uint64_t bytesused;
};

struct unix_reply {
	uint32_t slot;
	int32_t status;		/* 0, -errno, or 1: CRC mismatch */
	uint64_t sequence;
};

struct unix_sink {
	int sock;
	pid_t child;
	int dmabuf[MAX_BUFFERS];
	unsigned int nbuf;
	release_fn release;
	void *release_ctx;
	unsigned int in_flight;
	uint64_t frames, bad, errors;
};

/* ---- the child: map, sync, verify, answer ---- */

static int child_frame(const struct unix_msg *m, int fd, void **maps,
		       size_t *sizes)
{
	uint32_t crc;
	int ret;

	if (m->slot >= MAX_BUFFERS)
		return -EINVAL;
	if (!maps[m->slot]) {
		ret = zcbuf_map_dmabuf(fd, PROT_READ, &maps[m->slot],
				       &sizes[m->slot]);
		if (ret)
			return ret;
	}
	if (m->bytesused > sizes[m->slot])
		return -EINVAL;
	ret = zcbuf_sync_dmabuf(fd, ZCBUF_SYNC_START | ZCBUF_SYNC_READ);
	if (ret)
		return ret;
	crc = zcbuf_crc32(0, maps[m->slot], m->bytesused);
	ret = zcbuf_sync_dmabuf(fd, ZCBUF_SYNC_END | ZCBUF_SYNC_READ);
	if (ret)
		return ret;
	return crc == m->crc ? 0 : 1;
}

static int recv_with_fd(int sock, void *buf, size_t len, int *fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n ? -errno : 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n != len || *fd < 0 || (msg.msg_flags & MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		return -EPROTO;
	}
	return 1;
}

static void __attribute__((noreturn)) child_main(int sock)
{
	void *maps[MAX_BUFFERS] = { 0 };
	size_t sizes[MAX_BUFFERS] = { 0 };
	struct unix_reply r;
	struct unix_msg m;
	int fd = -1, ret;

	for (;;) {
		ret = recv_with_fd(sock, &m, sizeof(m), &fd);
		if (ret <= 0)
			_exit(ret ? 1 : 0);
		memset(&r, 0, sizeof(r));
		r.slot = m.slot;
		r.sequence = m.sequence;
		r.status = child_frame(&m, fd, maps, sizes);
		/* The mapping keeps the DMA-buf alive; the fd is not needed. */
		close(fd);
		if (send(sock, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
			_exit(1);
	}
}

/* ---- the parent ---- */

static int unix_open(void **state, const struct stream_desc *sd,
		     release_fn release, void *release_ctx)
{
	struct unix_sink *s;
	int sv[2], ret;
	unsigned int i;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sock = -1;
	s->release = release;
	s->release_ctx = release_ctx;
	for (i = 0; i < MAX_BUFFERS; i++)
		s->dmabuf[i] = -1;
	s->nbuf = sd->nbuffers;
	for (i = 0; i < s->nbuf; i++) {
		ret = zcbuf_export_buffer(sd->fd, sd->first + i,
					  ZCBUF_EXPORT_CLOEXEC, &s->dmabuf[i]);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: export buffer %u: %s\n",
				sd->first + i, strerror(-ret));
			goto fail;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		goto fail;
	}
	s->child = fork();
	if (s->child < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (s->child == 0) {
		/* The consumer holds nothing but what it is sent. */
		close(sd->fd);
		close(sv[0]);
		for (i = 0; i < s->nbuf; i++)
			close(s->dmabuf[i]);
		child_main(sv[1]);
	}
	close(sv[1]);
	s->sock = sv[0];
	*state = s;
	return 0;

fail:
	for (i = 0; i < s->nbuf; i++)
		if (s->dmabuf[i] >= 0)
			close(s->dmabuf[i]);
	free(s);
	return ret;
}

static int unix_consume(void *state, const struct frame *f)
{
	struct unix_sink *s = state;
	char control[CMSG_SPACE(sizeof(int))];
	struct unix_msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.slot = f->slot;
	m.sequence = f->sequence;
	m.bytesused = f->bytesused;
	m.crc = f->checksum_is_payload ? f->checksum :
		zcbuf_crc32(0, f->data, f->bytesused);

	memset(&msg, 0, sizeof(msg));
	memset(control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s->dmabuf[f->slot], sizeof(int));
	do {
		n = sendmsg(s->sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m)) {
		int err = n < 0 ? errno : EPROTO;

		fprintf(stderr, "\nzcbuf-capture: unix: send to the consumer "
			"process: %s\n", strerror(err));
		return -err;
	}
	s->in_flight++;
	return 1;	/* back when the child has answered */
}

static int unix_pollfd(void *state)
{
	return ((struct unix_sink *)state)->sock;
}

/* Read the child's answers that are there; release their buffers. */
static int unix_reap(void *state)
{
	struct unix_sink *s = state;
	struct unix_reply r;
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(s->sock, &r, sizeof(r), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n != (ssize_t)sizeof(r) || r.slot >= s->nbuf) {
			fprintf(stderr, "\nzcbuf-capture: unix: the consumer "
				"process went away\n");
			return -EPIPE;
		}
		s->in_flight--;
		s->frames++;
		if (r.status == 1) {
			s->bad++;
			fprintf(stderr, "\nzcbuf-capture: MISMATCH: frame %llu "
				"read through the DMA-buf in the other process "
				"has another CRC-32\n",
				(unsigned long long)r.sequence);
		} else if (r.status) {
			s->errors++;
			fprintf(stderr, "\nzcbuf-capture: unix: consumer: "
				"frame %llu: %s\n",
				(unsigned long long)r.sequence,
				strerror(-r.status));
		}
		ret = s->release(s->release_ctx, r.slot);
		if (ret)
			return ret;
	}
}

static int unix_finish(void *state)
{
	struct unix_sink *s = state;
	struct pollfd pfd = { .fd = s->sock, .events = POLLIN };
	int status = 0, errors = 0, n;

	while (s->in_flight) {
		n = poll(&pfd, 1, 5000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || unix_reap(s)) {
			errors++;
			break;
		}
	}
	shutdown(s->sock, SHUT_WR);
	while (waitpid(s->child, &status, 0) < 0 && errno == EINTR)
		;
	s->child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		errors++;
	printf("unix: %llu frames passed as DMA-buf fds (SCM_RIGHTS) to a "
	       "consumer process, which mapped them and found %llu CRC-32 "
	       "mismatches, %llu errors%s\n", (unsigned long long)s->frames,
	       (unsigned long long)s->bad,
	       (unsigned long long)s->errors,
	       errors ? "; it did not finish cleanly" : "");
	return errors + (int)(s->bad + s->errors > 1000 ? 1000 :
			      s->bad + s->errors);
}

static void unix_close(void *state)
{
	struct unix_sink *s = state;
	unsigned int i;

	if (s->sock >= 0)
		close(s->sock);
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		waitpid(s->child, NULL, 0);
	}
	for (i = 0; i < s->nbuf; i++)
		if (s->dmabuf[i] >= 0)
			close(s->dmabuf[i]);
	free(s);
}

static void unix_status(void *state, char *buf, size_t len)
{
	struct unix_sink *s = state;

	snprintf(buf, len, "consumer %llu", (unsigned long long)s->frames);
}

const struct sink_ops sink_unix_ops = {
	.name = "unix",
	.open = unix_open,
	.consume = unix_consume,
	.pollfd = unix_pollfd,
	.poll_events = POLLIN,
	.reap = unix_reap,
	.finish = unix_finish,
	.close = unix_close,
	.status = unix_status,
};
