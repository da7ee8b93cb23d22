/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The libvirt tests (build/selftests/<mod>/<mod>_libvirt_qemu_test for vhost,
 * ksm and balloon, all three built from selftests/lib/libvirt_qemu_test.c):
 * one libvirt run, selftests/lib/libvirt_e2e.sh, checks the three modules
 * at once (two domains booted once serve all three), and each program
 * asserts the verdict of its own module.
 *
 * The first of these programs to run in a boot of the test VM runs the
 * script; it leaves its verdicts and its log in LIBVIRT_E2E_DIR, on /run,
 * a fresh tmpfs in every boot of tools/vm-run, where the programs that run
 * after it read them.  A verdict is "ok ...", "fail ..." or "skip ..."; a
 * missing verdict (the run was cut short) is a failure.
 *
 * Skipped outside the test VM (the script rewrites /etc/libvirt), in the
 * debug tier (nested guests under the KASAN kernel do not fit its time),
 * without libvirt (the script says which package), and for a module that
 * is not loaded.
 */
#ifndef VMACCEL_LIBVIRT_E2E_H
#define VMACCEL_LIBVIRT_E2E_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The 6.1 harness's TEST() wrappers have unused parameters. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#include "vmaccel_srcdir.h"

#define LIBVIRT_E2E_DIR		"/run/vmaccel-libvirt-e2e"
/* Below the target's timeout (settings: 900 s), above the script's waits. */
#define LIBVIRT_E2E_SECS	840

/* Prints the lines of @log that mention @part (or all with @part NULL). */
static inline void libvirt_e2e_show(const char *log, const char *part)
{
	char line[2048], tag[32];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	snprintf(tag, sizeof(tag), "libvirt: %s", part ? part : "");
	while (fgets(line, sizeof(line), f)) {
		if (!part || strstr(line, tag) || strstr(line, "ABORT") ||
		    strstr(line, "libvirt: parts") ||
		    strstr(line, "libvirt: libvirtd") ||
		    (strstr(line, " up after ")))
			printf("%s", line);
	}
	fclose(f);
	fflush(stdout);
}

/*
 * Runs the script unless a run in this boot left verdicts, then reads the
 * verdict of @part into @why.  Returns 0 ok, 1 fail, 4 skip.
 */
static inline int libvirt_e2e_verdict(const char *part, char *why, size_t len)
{
	char script[PATH_MAX], cmd[2 * PATH_MAX], path[PATH_MAX], *nl;
	struct stat st;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), LIBVIRT_E2E_DIR "/%s", part);
	if (!stat(path, &st)) {
		printf("# the libvirt run of an earlier test in this boot; its %s lines:\n",
		       part);
		libvirt_e2e_show(LIBVIRT_E2E_DIR "/log", part);
	} else {
		ret = vmaccel_src_path(script, sizeof(script),
				       "selftests/lib/libvirt_e2e.sh");
		if (ret) {
			snprintf(why, len, "the repository from /proc/self/exe: %s",
				 strerror(-ret));
			return 1;
		}
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p %s && timeout -k 20 %d sh %s %s >%s/log 2>&1",
			 LIBVIRT_E2E_DIR, LIBVIRT_E2E_SECS - 30, script,
			 LIBVIRT_E2E_DIR, LIBVIRT_E2E_DIR);
		ret = system(cmd);
		libvirt_e2e_show(LIBVIRT_E2E_DIR "/log", NULL);
		if (ret == -1 || !WIFEXITED(ret) || WEXITSTATUS(ret) > 1)
			printf("# libvirt_e2e.sh ended with status %d\n", ret);
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(why, len, "no %s verdict: the libvirt run was cut short",
			 part);
		return 1;
	}
	if (!fgets(why, len, f))
		why[0] = '\0';
	fclose(f);
	nl = strchr(why, '\n');
	if (nl)
		*nl = '\0';
	if (!strncmp(why, "ok", 2))
		return 0;
	if (!strncmp(why, "skip", 4))
		return 4;
	return 1;
}

/*
 * Why a test of @part cannot run here (a SKIP reason), or NULL: outside
 * the test VM, and in the debug tier.
 */
static inline const char *libvirt_e2e_unfit(void)
{
	const char *tier = getenv("VMACCEL_TIER");

	if (!getenv("VMACCEL_IN_VM"))
		return "only in the test VM (tools/vm-run)";
	if (tier && !strcmp(tier, "debug"))
		return "nested guests under the KASAN kernel: too slow";
	return NULL;
}

#endif /* VMACCEL_LIBVIRT_E2E_H */
