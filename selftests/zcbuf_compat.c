// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_compat: runs zcbuf_compat32 (the ABI from a 32-bit process) and
 * passes on its result; skips when the kernel runs no 32-bit programs
 * (no IA32_EMULATION, or ia32_emulation=0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define NO_EXEC		99

TEST(compat32)
{
	char self_path[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;
	int status;
	pid_t pid;

	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	ASSERT_LT(0, n);
	self_path[n] = 0;
	snprintf(path, sizeof(path), "%s/zcbuf_compat32", dirname(self_path));
	ASSERT_EQ(0, access(path, X_OK)) TH_LOG("%s: %s", path, strerror(errno));

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execl(path, path, (char *)NULL);
		_exit(errno == ENOEXEC ? NO_EXEC : 127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	if (WEXITSTATUS(status) == NO_EXEC)
		SKIP(return, "this kernel does not run 32-bit programs");
	if (WEXITSTATUS(status) == KSFT_SKIP)
		SKIP(return, "zcbuf_compat32 skipped");
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
