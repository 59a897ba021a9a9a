// SPDX-License-Identifier: MIT
/*
 * libzcbuf: waiting for completions, on the context fd (poll) or on an
 * eventfd.  Restarted on EINTR with the time left; a timeout is -ETIME.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int zcbuf_wait(int fd, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? 0 :
			   now_ns() + (int64_t)timeout_ms * 1000000;
	struct pollfd pfd;
	int left = timeout_ms;
	int ret;

	if (fd < 0)
		return -EBADF;
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ret = poll(&pfd, 1, left);
		if (ret > 0)
			break;
		if (ret == 0)
			return -ETIME;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		if (timeout_ms >= 0) {
			/* What is left, rounded up: never return early. */
			int64_t rest = deadline - now_ns();

			left = rest > 0 ? (int)((rest + 999999) / 1000000) : 0;
		}
	}
	if (pfd.revents & POLLIN)
		return 0;
	if (pfd.revents & POLLNVAL)
		return -EBADF;
	return -EIO;
}

int zcbuf_wait_eventfd(int eventfd, int timeout_ms, uint64_t *count)
{
	uint64_t value;
	ssize_t n;
	int ret;

	if (!count)
		return -EINVAL;
	for (;;) {
		ret = zcbuf_wait(eventfd, timeout_ms);
		if (ret < 0)
			return ret;
		n = read(eventfd, &value, sizeof(value));
		if (n == (ssize_t)sizeof(value))
			break;
		if (n >= 0)
			return -EINVAL;	/* not an eventfd */
		/* Another reader took the count first: wait again. */
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	*count = value;
	return 0;
}
