// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm selftest: a real VMM.  Two QEMU guests (TCG) boot from the
 * same kernel and initramfs with their RAM on a vmaccelfs mount of one merge
 * group:
 *   -object memory-backend-file,mem-path=<mount>,share=on,size=...
 * (a directory mem-path: QEMU creates and unlinks a file there).  Each guest
 * copies its busybox binary into a tmpfs eight times, prints
 * VMACCEL-READY, then VMACCEL-ALIVE <n> every second on its serial port.
 *
 * Control: with the scanner stopped (run=0) the booted guests' RAM is
 * resident in vmaccelfs and nothing is merged (pages_sharing 0).  Then
 * scanner passes run: pages_sharing must show the duplicate guest memory
 * merged (kernel, initramfs and the copies: thousands of pages), and both
 * guests must keep running (their ALIVE counters move on, no panic).
 *
 * The guests boot the vmlinux of /boot/vmlinuz-$(uname -r) when
 * selftests/lib/guest-kernel.sh can unpack it, else the bzImage.
 * Skipped without qemu-system-x86_64, /boot/vmlinuz-$(uname -r) or a
 * static /bin/busybox, and in the debug tier (VMACCEL_TIER=debug), where
 * nested TCG under KASAN would not fit the time.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "ksm_util.h"
#include "../lib/vmaccel_srcdir.h"

#define QG_MEM_MB	160
#define QG_BOOT_SECS	540

static const char qg_init[] =
	"#!/bin/busybox sh\n"
	"B=/bin/busybox\n"
	"$B mount -t proc none /proc\n"
	"$B mount -t tmpfs -o size=64m tmpfs /mnt\n"
	"for k in 1 2 3 4 5 6 7 8; do $B cp $B /mnt/copy$k; done\n"
	"echo VMACCEL-READY\n"
	"i=0\n"
	"while :; do echo VMACCEL-ALIVE $i; i=$((i+1)); $B sleep 1; done\n";

/* newc cpio entry. */
static int cpio_add(FILE *f, const char *name, unsigned int mode,
		    unsigned int rmaj, unsigned int rmin, const void *data,
		    size_t size)
{
	static unsigned int ino = 100;
	size_t nlen = strlen(name) + 1;
	char zero[4] = { 0 };

	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		ino++, mode, 0, 0, 1, 0, size, 0, 0, rmaj, rmin, nlen, 0);
	fwrite(name, 1, nlen, f);
	fwrite(zero, 1, (4 - (110 + nlen) % 4) % 4, f);
	if (size)
		fwrite(data, 1, size, f);
	fwrite(zero, 1, (4 - size % 4) % 4, f);
	return ferror(f) ? -1 : 0;
}

static void *slurp(const char *path, size_t *size)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*size = st.st_size;
	return buf;
}

static int make_initrd(const char *path)
{
	size_t bsize;
	void *bb = slurp("/bin/busybox", &bsize);
	FILE *f = fopen(path, "w");
	int r = 0;

	if (!bb || !f)
		return -1;
	r |= cpio_add(f, ".", S_IFDIR | 0755, 0, 0, NULL, 0);
	r |= cpio_add(f, "bin", S_IFDIR | 0755, 0, 0, NULL, 0);
	r |= cpio_add(f, "dev", S_IFDIR | 0755, 0, 0, NULL, 0);
	r |= cpio_add(f, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	r |= cpio_add(f, "proc", S_IFDIR | 0755, 0, 0, NULL, 0);
	r |= cpio_add(f, "mnt", S_IFDIR | 0755, 0, 0, NULL, 0);
	r |= cpio_add(f, "bin/busybox", S_IFREG | 0755, 0, 0, bb, bsize);
	r |= cpio_add(f, "init", S_IFREG | 0755, 0, 0, qg_init,
		      sizeof(qg_init) - 1);
	r |= cpio_add(f, "TRAILER!!!", 0, 0, 0, NULL, 0);
	free(bb);
	return fclose(f) || r ? -1 : 0;
}

static bool static_busybox(void)
{
	char head[64 * 1024];
	size_t n;
	FILE *f = fopen("/bin/busybox", "r");

	if (!f)
		return false;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	/* A dynamic ELF names its interpreter near the start. */
	return n > 4 && !memmem(head, n, "ld-linux", 8);
}

/*
 * Print a guest's kernel report, from its first "Oops", "BUG:", "PANIC:" or
 * "general protection" line (else the panic line), up to 40 lines, for TAP.
 */
static void print_report(const char *log, const char *buf, const char *panic)
{
	static const char *const starts[] = {
		"Oops", "BUG:", "PANIC:", "general protection",
	};
	const char *p = panic, *q;
	unsigned int i;
	int lines;

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		q = strstr(buf, starts[i]);
		if (q && q < p)
			p = q;
	}
	while (p > buf && p[-1] != '\n')
		p--;
	for (lines = 0; *p && lines < 40; lines++) {
		int len = (int)strcspn(p, "\r\n");

		fprintf(stderr, "# %s: %.*s\n", log, len, p);
		p += len;
		p += strspn(p, "\r\n");
	}
}

/* Last VMACCEL-ALIVE number in a log, -1 before READY, -2 on a panic. */
static long guest_state(const char *log)
{
	size_t size = 0;
	char *buf = slurp(log, &size), *p, *last = NULL;
	long n = -1;

	if (!buf)
		return -1;
	buf = realloc(buf, size + 1);
	buf[size] = '\0';
	p = strstr(buf, "Kernel panic");
	if (p) {
		print_report(log, buf, p);
		free(buf);
		return -2;
	}
	if (strstr(buf, "VMACCEL-READY"))
		n = 0;
	for (p = buf; (p = strstr(p, "VMACCEL-ALIVE ")); p++)
		last = p;
	if (last)
		n = atol(last + 14) + 1;
	free(buf);
	return n;
}

FIXTURE(qemu) {
	char dir[64], mnt[80], log[2][96], initrd[96];
	pid_t pid[2];
	bool mounted;
};

FIXTURE_SETUP(qemu)
{
	const char *tier = getenv("VMACCEL_TIER");

	self->pid[0] = 0;
	self->pid[1] = 0;
	self->mounted = false;
	if (!ksm_present())
		SKIP(return, "vmaccel_ksm not loaded");
	if (tier && !strcmp(tier, "debug"))
		SKIP(return, "nested QEMU does not fit the debug tier's time");
	if (access("/usr/bin/qemu-system-x86_64", X_OK))
		SKIP(return, "no qemu-system-x86_64");
	if (!static_busybox())
		SKIP(return, "no static /bin/busybox for the guests' initramfs");
	ksm_quiet();
	strcpy(self->dir, "/tmp/vmaccel-qemu.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/ram", self->dir);
	snprintf(self->initrd, sizeof(self->initrd), "%s/initrd", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0700));
	ASSERT_EQ(0, mount("none", self->mnt, "vmaccelfs", 0, "size=1g,group=9"));
	self->mounted = true;
	ASSERT_EQ(0, make_initrd(self->initrd));
}

FIXTURE_TEARDOWN(qemu)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->pid[i] > 0) {
			kill(self->pid[i], SIGKILL);
			waitpid(self->pid[i], NULL, 0);
		}
	}
	if (self->mounted) {
		for (i = 0; i < 50 && umount(self->mnt); i++)
			usleep(100000);
	}
	ksm_quiet();
}

/*
 * The guests' kernel command line: ours, then the options that
 * selftests/lib/guest-cmdline gives every nested-QEMU test's guest (its
 * boot under nested TCG is shorter without them; none if it is missing).
 */
static void guest_append(char *buf, size_t len)
{
	char path[PATH_MAX], opts[512] = "";
	FILE *f = NULL;

	if (!vmaccel_src_path(path, sizeof(path), "selftests/lib/guest-cmdline"))
		f = fopen(path, "r");
	if (f) {
		if (!fgets(opts, sizeof(opts), f))
			opts[0] = '\0';
		fclose(f);
	}
	opts[strcspn(opts, "\n")] = '\0';
	snprintf(buf, len, "console=ttyS0 rdinit=/init panic=-1 quiet %s", opts);
}

/*
 * The image to boot: the release's vmlinux when selftests/lib/guest-kernel.sh
 * can unpack it (no decompressor to run under nested TCG), else its bzImage.
 */
static int guest_kernel(char *buf, size_t len, const char *release)
{
	char script[PATH_MAX], cmd[PATH_MAX + 128];
	FILE *f;
	int st;

	snprintf(buf, len, "/boot/vmlinuz-%s", release);
	if (access(buf, R_OK))
		return -1;
	if (vmaccel_src_path(script, sizeof(script),
			     "selftests/lib/guest-kernel.sh"))
		return 0;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", script, release);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	if (!fgets(buf, len, f))
		snprintf(buf, len, "/boot/vmlinuz-%s", release);
	buf[strcspn(buf, "\n")] = '\0';
	st = pclose(f);
	if (st || access(buf, R_OK))
		snprintf(buf, len, "/boot/vmlinuz-%s", release);
	return 0;
}

static pid_t start_guest(const char *kernel, const char *initrd,
			 const char *mnt, const char *log)
{
	char serial[128], obj[256], mem[16], append[640];
	pid_t pid = fork();

	if (pid)
		return pid;
	guest_append(append, sizeof(append));
	snprintf(serial, sizeof(serial), "file:%s", log);
	snprintf(obj, sizeof(obj),
		 "memory-backend-file,id=ram0,mem-path=%s,share=on,size=%dM",
		 mnt, QG_MEM_MB);
	snprintf(mem, sizeof(mem), "%d", QG_MEM_MB);
	execl("/usr/bin/qemu-system-x86_64", "qemu-system-x86_64",
	      "-accel", "tcg,tb-size=64", "-m", mem, "-smp", "1",
	      "-machine", "pc,memory-backend=ram0", "-object", obj,
	      "-nodefaults", "-display", "none", "-monitor", "none",
	      "-serial", serial, "-no-reboot",
	      "-kernel", kernel, "-initrd", initrd,
	      "-append", append,
	      (char *)NULL);
	_exit(127);
}

TEST_F_TIMEOUT(qemu, two_guests_merge, 840)
{
	long alive[2], sharing, merged;
	struct statfs sf;
	int dev;
	char kernel[PATH_MAX];
	struct utsname u;
	time_t end;
	int i;

	ASSERT_EQ(0, uname(&u));
	if (guest_kernel(kernel, sizeof(kernel), u.release))
		SKIP(return, "no /boot/vmlinuz-%s", u.release);
	for (i = 0; i < 2; i++) {
		snprintf(self->log[i], sizeof(self->log[i]), "%s/guest%d.log",
			 self->dir, i);
		self->pid[i] = start_guest(kernel, self->initrd, self->mnt,
					   self->log[i]);
		ASSERT_LT(0, self->pid[i]);
	}
	/* Boot with the scanner stopped: the control. */
	end = time(NULL) + QG_BOOT_SECS;
	do {
		sleep(2);
		for (i = 0; i < 2; i++) {
			alive[i] = guest_state(self->log[i]);
			ASSERT_NE(-2, alive[i]) TH_LOG("guest %d panicked", i);
			ASSERT_EQ(0, waitpid(self->pid[i], NULL, WNOHANG))
				TH_LOG("guest %d exited", i);
		}
	} while ((alive[0] < 1 || alive[1] < 1) && time(NULL) < end);
	ASSERT_LE(1, alive[0]) TH_LOG("guest 0 did not boot in %d s", QG_BOOT_SECS);
	ASSERT_LE(1, alive[1]) TH_LOG("guest 1 did not boot in %d s", QG_BOOT_SECS);
	ASSERT_EQ(0, statfs(self->mnt, &sf));
	TH_LOG("control: %lu pages of guest RAM resident, pages_sharing %ld",
	       (unsigned long)(sf.f_blocks - sf.f_bfree),
	       ksm_sys_get("pages_sharing"));
	EXPECT_EQ(0, ksm_sys_get("pages_sharing"));
	/* Both guests' copies of busybox alone: 16 x ~2 MiB. */
	EXPECT_LT(8192, sf.f_blocks - sf.f_bfree);
	/* Merge: two full passes, as the scanner thread would do. */
	dev = open(KSM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	merged = ksm_scan(dev, 2);
	close(dev);
	sharing = ksm_sys_get("pages_sharing");
	TH_LOG("merged %ld: pages_shared %ld pages_sharing %ld (%ld MiB saved)",
	       merged, ksm_sys_get("pages_shared"), sharing, sharing / 256);
	TH_LOG("zero_pages_sharing %ld", ksm_sys_get("zero_pages_sharing"));
	EXPECT_LT(8192, sharing);
	/* Both guests keep running on merged memory. */
	end = time(NULL) + 180;
	for (i = 0; i < 2; i++) {
		long now;

		do {
			sleep(1);
			now = guest_state(self->log[i]);
			ASSERT_NE(-2, now) TH_LOG("guest %d panicked", i);
			ASSERT_EQ(0, waitpid(self->pid[i], NULL, WNOHANG))
				TH_LOG("guest %d exited", i);
		} while (now < alive[i] + 3 && time(NULL) < end);
		EXPECT_LE(alive[i] + 3, now) TH_LOG("guest %d stopped", i);
	}
	TH_LOG("after merging: cow_breaks %ld, pages_sharing %ld",
	       ksm_sys_get("cow_breaks"), ksm_sys_get("pages_sharing"));
}

TEST_HARNESS_MAIN
