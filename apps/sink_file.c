// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf-capture: the "file" sink.  Each frame is written to one raw file
 * straight from the mapped buffer (write() reads the DMA-buf pages; no copy
 * in user space).  With --direct the file is opened O_DIRECT, so the pages
 * go to the block layer through get_user_pages(); O_DIRECT needs aligned
 * lengths, so each frame is then written padded to a multiple of 4096 bytes
 * (the buffer is a whole number of pages, so the padding is the buffer's
 * own zeroed tail).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"

#define DIRECT_ALIGN	4096

struct file_sink {
	int fd;
	bool direct;
	const char *path;
	uint64_t frames, bytes, padded;
};

static int file_open(void **state, const struct stream_desc *sd,
		     release_fn release, void *release_ctx)
{
	const struct options *opt = sd->opt;
	struct file_sink *s;
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;

	(void)release;
	(void)release_ctx;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->direct = opt->direct;
	s->path = opt->output;
	if (opt->direct)
		flags |= O_DIRECT;
	if (!strcmp(opt->output, "-")) {
		/* --stream-to -: the real stdout, kept aside by main(). */
		s->path = "standard output";
		s->fd = fcntl(opt->stdout_fd, F_DUPFD_CLOEXEC, 3);
	} else {
		s->fd = open(opt->output, flags, 0644);
	}
	if (s->fd < 0) {
		int err = errno;

		fprintf(stderr, "zcbuf-capture: %s: %s%s\n", s->path,
			strerror(err), opt->direct && err == EINVAL ?
			" (this file system does not support O_DIRECT)" : "");
		free(s);
		return -err;
	}
	*state = s;
	return 0;
}

static int file_consume(void *state, const struct frame *f)
{
	struct file_sink *s = state;
	size_t len = f->bytesused, done = 0;
	ssize_t n;

	if (s->direct) {
		len = (len + DIRECT_ALIGN - 1) & ~(size_t)(DIRECT_ALIGN - 1);
		if (len > f->map_size)
			return -EINVAL;
	}
	while (done < len) {
		n = write(s->fd, f->data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			fprintf(stderr, "\nzcbuf-capture: write %s: %s\n",
				s->path, strerror(err));
			return -err;
		}
		done += (size_t)n;
	}
	s->frames++;
	s->bytes += len;
	s->padded += len - f->bytesused;
	return 0;
}

static int file_finish(void *state)
{
	struct file_sink *s = state;

	printf("file: %llu frames, %llu bytes written to %s%s",
	       (unsigned long long)s->frames, (unsigned long long)s->bytes,
	       s->path, s->direct ? " with O_DIRECT" : "");
	if (s->padded)
		printf(" (%llu bytes of padding to 4096-byte blocks)",
		       (unsigned long long)s->padded);
	printf("\n");
	if (fsync(s->fd) && errno != EINVAL && errno != EROFS) {
		fprintf(stderr, "zcbuf-capture: fsync %s: %s\n", s->path,
			strerror(errno));
		return 1;
	}
	return 0;
}

static void file_close(void *state)
{
	struct file_sink *s = state;

	close(s->fd);
	free(s);
}

const struct sink_ops sink_file_ops = {
	.name = "file",
	.open = file_open,
	.consume = file_consume,
	.finish = file_finish,
	.close = file_close,
};
