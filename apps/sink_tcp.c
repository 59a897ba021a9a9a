// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the "tcp" sink.  Frames go over a loopback TCP connection
 * to a receiver thread that this sink starts itself and that checks every
 * frame's CRC-32 again on the far side.
 *
 * By default each frame is sent with MSG_ZEROCOPY straight from the mapped
 * DMA-buf pages.  The kernel then still reads those pages after send()
 * returns, so the buffer is NOT given back to the device until the
 * zerocopy completion for every send() of that frame has arrived on the
 * socket's error queue (capture.c waits for POLLERR on the socket and calls
 * reap()).  A completion flagged SO_EE_CODE_ZEROCOPY_COPIED means the kernel
 * copied the data after all: over loopback it always does, because the
 * receiving socket must not keep references to the sender's pages
 * (skb_orphan_frags_rx), so the count of copied sends is reported, not
 * hidden.  --copy sends with plain send() and gives the buffer back at once.
 *
 * Each frame is preceded by a small header (sent with a plain send()) that
 * carries its sequence, length and CRC-32.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY	60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY	0x4000000
#endif

#define FRAME_MAGIC	0x7a636266U	/* "zcbf" */
#define ID_RING		65536		/* zerocopy ids in flight, at most */
#define FINISH_WAIT_MS	5000

struct wire_header {
	uint32_t magic;
	uint32_t crc;
	uint64_t sequence;
	uint64_t length;
};

struct receiver {
	int lfd;
	uint64_t frames, bytes, bad;
	int err;			/* errno of a failure, 0 */
	char why[128];
};

struct tcp_sink {
	int fd;
	bool zerocopy;
	release_fn release;
	void *release_ctx;
	pthread_t thread;
	bool thread_started;
	struct receiver rx;
	uint32_t next_id;
	uint64_t in_flight;		/* ids sent, not completed */
	unsigned int pending[MAX_BUFFERS];
	uint8_t id_slot[ID_RING];
	uint64_t frames, bytes, sends, completed, copied, enobufs;
	bool lo_raised;
};

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = recv(fd, (char *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return done ? -EPIPE : 0;
		done += (size_t)n;
	}
	return 1;
}

static void *receiver_main(void *arg)
{
	struct receiver *rx = arg;
	struct wire_header h;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int fd, ret;

	do {
		fd = accept4(rx->lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		rx->err = errno;
		snprintf(rx->why, sizeof(rx->why), "accept: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		ret = read_full(fd, &h, sizeof(h));
		if (ret <= 0)
			break;
		if (h.magic != FRAME_MAGIC || h.length > (1ULL << 31)) {
			ret = -EPROTO;
			break;
		}
		if (h.length > cap) {
			uint8_t *nb = realloc(buf, h.length);

			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap = h.length;
		}
		ret = read_full(fd, buf, h.length);
		if (ret <= 0) {
			ret = ret ? ret : -EPIPE;
			break;
		}
		if (zcbuf_crc32(0, buf, h.length) != h.crc)
			rx->bad++;
		rx->frames++;
		rx->bytes += h.length;
	}
	if (ret < 0) {
		rx->err = -ret;
		snprintf(rx->why, sizeof(rx->why), "receive: %s",
			 strerror(-ret));
	}
	free(buf);
	close(fd);
	return NULL;
}

/* The guest's busybox init may leave "lo" down; a loopback test needs it. */
static int loopback_up(bool *raised)
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
		else
			*raised = true;
	}
	close(s);
	return ret;
}

static int tcp_open(void **state, const struct stream_desc *sd,
		    release_fn release, void *release_ctx)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	struct tcp_sink *s;
	int one = 1, ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->rx.lfd = -1;
	s->zerocopy = !sd->opt->copy;
	s->release = release;
	s->release_ctx = release_ctx;

	ret = loopback_up(&s->lo_raised);
	if (ret) {
		fprintf(stderr, "zcbuf-capture: cannot bring loopback up: %s\n",
			strerror(-ret));
		goto fail;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->rx.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->rx.lfd < 0 || bind(s->rx.lfd, (struct sockaddr *)&addr,
				  sizeof(addr)) ||
	    listen(s->rx.lfd, 1) ||
	    getsockname(s->rx.lfd, (struct sockaddr *)&addr, &alen)) {
		ret = -errno;
		fprintf(stderr, "zcbuf-capture: tcp listen: %s\n",
			strerror(errno));
		goto fail;
	}
	ret = -pthread_create(&s->thread, NULL, receiver_main, &s->rx);
	if (ret)
		goto fail;
	s->thread_started = true;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (s->zerocopy &&
	    setsockopt(s->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		ret = -errno;
		fprintf(stderr, "zcbuf-capture: SO_ZEROCOPY: %s (use --copy)\n",
			strerror(errno));
		goto fail;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (connect(s->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		fprintf(stderr, "zcbuf-capture: tcp connect: %s\n",
			strerror(errno));
		goto fail;
	}
	*state = s;
	return 0;

fail:
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->thread_started) {
		/* Unblock accept(): connect and hang up at once. */
		shutdown(s->rx.lfd, SHUT_RDWR);
		pthread_join(s->thread, NULL);
	}
	if (s->rx.lfd >= 0)
		close(s->rx.lfd);
	free(s);
	return ret;
}

static int send_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* Read every zerocopy completion queued on the socket, release buffers. */
static int tcp_reap(void *state)
{
	struct tcp_sink *s = state;
	char control[CMSG_SPACE(sizeof(struct sock_extended_err)) + 64];
	struct sock_extended_err *ee;
	struct cmsghdr *cm;
	struct msghdr msg;
	uint32_t lo, hi, id;
	int ret;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		if (recvmsg(s->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (!((cm->cmsg_level == SOL_IP &&
			       cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 &&
			       cm->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (struct sock_extended_err *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
				if (ee->ee_errno)
					return -(int)ee->ee_errno;
				continue;
			}
			lo = ee->ee_info;
			hi = ee->ee_data;
			if (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				s->copied += (uint32_t)(hi - lo) + 1;
			id = lo;
			do {
				unsigned int slot = s->id_slot[id % ID_RING];

				s->completed++;
				s->in_flight--;
				if (!--s->pending[slot]) {
					ret = s->release(s->release_ctx, slot);
					if (ret)
						return ret;
				}
			} while (id++ != hi);
		}
	}
}

static int wait_errqueue(struct tcp_sink *s, int timeout_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = 0 };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? tcp_reap(s) : -ETIME;
}

static int tcp_consume(void *state, const struct frame *f)
{
	struct tcp_sink *s = state;
	struct wire_header h = {
		.magic = FRAME_MAGIC, .crc = f->checksum,
		.sequence = f->sequence, .length = f->bytesused,
	};
	size_t len = f->bytesused, done = 0;
	ssize_t n;
	int ret;

	if (!f->checksum_is_payload)
		h.crc = zcbuf_crc32(0, f->data, len);
	ret = send_all(s->fd, &h, sizeof(h));
	if (ret)
		goto err;
	if (!s->zerocopy) {
		ret = send_all(s->fd, f->data, len);
		if (ret)
			goto err;
		s->sends++;
		s->frames++;
		s->bytes += len;
		return 0;
	}
	/*
	 * Hold the buffer while sending: a completion for the first part of
	 * the frame may arrive (in wait_errqueue) before the last part is
	 * sent, and must not give the buffer back yet.
	 */
	s->pending[f->slot]++;
	while (done < len) {
		if (s->in_flight >= ID_RING) {
			ret = wait_errqueue(s, FINISH_WAIT_MS);
			if (ret)
				goto unhold;
			continue;
		}
		n = send(s->fd, f->data + done, len - done,
			 MSG_ZEROCOPY | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Too many completions unread (optmem). */
				s->enobufs++;
				ret = wait_errqueue(s, FINISH_WAIT_MS);
				if (ret)
					goto unhold;
				continue;
			}
			ret = -errno;
			goto unhold;
		}
		/* Every send() that took data gets the next id. */
		s->id_slot[s->next_id++ % ID_RING] = (uint8_t)f->slot;
		s->pending[f->slot]++;
		s->in_flight++;
		s->sends++;
		done += (size_t)n;
	}
	s->frames++;
	s->bytes += len;
	return --s->pending[f->slot] ? 1 : 0;

unhold:
	s->pending[f->slot]--;
err:
	fprintf(stderr, "\nzcbuf-capture: tcp send: %s%s%s\n", strerror(-ret),
		s->rx.err ? "; receiver: " : "", s->rx.why);
	return ret;
}

static int tcp_pollfd(void *state)
{
	struct tcp_sink *s = state;

	return s->zerocopy ? s->fd : -1;
}

static int tcp_finish(void *state)
{
	struct tcp_sink *s = state;
	int errors = 0, ret;

	/* Every buffer still with the kernel comes back before we stop. */
	while (s->in_flight) {
		ret = wait_errqueue(s, FINISH_WAIT_MS);
		if (ret) {
			fprintf(stderr, "zcbuf-capture: tcp: %llu zerocopy "
				"completions missing: %s\n",
				(unsigned long long)s->in_flight,
				strerror(-ret));
			errors++;
			break;
		}
	}
	shutdown(s->fd, SHUT_WR);
	pthread_join(s->thread, NULL);
	s->thread_started = false;

	if (s->lo_raised)
		printf("tcp: brought the loopback interface up\n");
	if (s->zerocopy) {
		printf("tcp: %llu frames, %llu bytes sent with MSG_ZEROCOPY in "
		       "%llu sends; %llu completions, %llu of them copied by "
		       "the kernel anyway (SO_EE_CODE_ZEROCOPY_COPIED)\n",
		       (unsigned long long)s->frames,
		       (unsigned long long)s->bytes,
		       (unsigned long long)s->sends,
		       (unsigned long long)s->completed,
		       (unsigned long long)s->copied);
		printf("tcp: over loopback the kernel always copies: the "
		       "receiving socket may not hold the sender's pages, so "
		       "the zero-copy saving is on the send side only\n");
		if (s->enobufs)
			printf("tcp: %llu sends waited for completions "
			       "(ENOBUFS)\n", (unsigned long long)s->enobufs);
	} else {
		printf("tcp: %llu frames, %llu bytes sent with send() "
		       "(copied, --copy)\n", (unsigned long long)s->frames,
		       (unsigned long long)s->bytes);
	}
	printf("tcp receiver: %llu frames, %llu bytes, %llu CRC-32 "
	       "mismatches%s%s\n", (unsigned long long)s->rx.frames,
	       (unsigned long long)s->rx.bytes,
	       (unsigned long long)s->rx.bad, s->rx.err ? "; " : "",
	       s->rx.why);
	if (s->rx.err || s->rx.bad || s->rx.frames != s->frames ||
	    s->rx.bytes != s->bytes) {
		fprintf(stderr, "zcbuf-capture: tcp: the receiver did not get "
			"exactly what was sent\n");
		errors++;
	}
	return errors;
}

static void tcp_close(void *state)
{
	struct tcp_sink *s = state;

	if (s->thread_started) {
		shutdown(s->fd, SHUT_RDWR);
		shutdown(s->rx.lfd, SHUT_RDWR);
		pthread_join(s->thread, NULL);
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->rx.lfd >= 0)
		close(s->rx.lfd);
	free(s);
}

static void tcp_status(void *state, char *buf, size_t len)
{
	struct tcp_sink *s = state;

	if (s->zerocopy)
		snprintf(buf, len, "zc sends %llu copied %llu",
			 (unsigned long long)s->sends,
			 (unsigned long long)s->copied);
	else
		snprintf(buf, len, "copy sends %llu",
			 (unsigned long long)s->sends);
}

const struct sink_ops sink_tcp_ops = {
	.name = "tcp",
	.open = tcp_open,
	.consume = tcp_consume,
	.pollfd = tcp_pollfd,
	.poll_events = 0,	/* POLLERR: completions on the error queue */
	.reap = tcp_reap,
	.finish = tcp_finish,
	.close = tcp_close,
	.status = tcp_status,
};
