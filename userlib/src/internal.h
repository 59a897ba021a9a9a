/* SPDX-License-Identifier: MIT */
/* libzcbuf internals: the export macro and the ioctl helper. */
#ifndef LIBZCBUF_INTERNAL_H
#define LIBZCBUF_INTERNAL_H

#define LIBZCBUF_API __attribute__((visibility("default")))

#include <zcbuf/libzcbuf.h>

/*
 * ioctl() returning 0 or -errno, restarted on EINTR, and also on EAGAIN
 * when @retry_again is set (the cache-sync ioctls).
 */
int zcbuf__ioctl(int fd, unsigned long request, void *arg, int retry_again);

#endif /* LIBZCBUF_INTERNAL_H */
