// SPDX-License-Identifier: GPL-2.0-only
/*
 * ksm_bench - vmaccel_ksm against upstream KSM on the same content.
 *
 * The same N MiB of guest-RAM-like content (duplicate pages in groups of
 * four, zero pages, unique pages, and volatile pages a thread keeps
 * rewriting) is merged twice with the same pages_to_scan and
 * sleep_millisecs: by vmaccel_ksm in a vmaccelfs file (MAP_SHARED) and by
 * upstream KSM in anonymous MADV_MERGEABLE memory.  For each it prints the
 * time until every mergeable page is merged (pages_sharing reaches what the
 * content allows), the scanner thread's CPU time (utime + stime of
 * vmaccel_ksmd or ksmd from /proc/<pid>/stat) per merged page, and the
 * memory saved (pages_sharing), then the ratios.
 *
 * Usage: ksm_bench [-m MiB] [-p pages_to_scan] [-s sleep_millisecs]
 *                  [-t timeout_s]
 * Needs root, vmaccel_ksm loaded and CONFIG_KSM (upstream is skipped, with
 * a note, when /sys/kernel/mm/ksm is missing).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmaccel_ksm.h>

#define PG		4096UL
#define OURS		"/sys/kernel/mm/vmaccel_ksm/"
#define UPSTREAM	"/sys/kernel/mm/ksm/"

struct result {
	bool ok;
	double secs, cpu_secs;
	long sharing;
};

static char *mem;
static size_t npages;
static long max_sharing = 256;	/* set in both KSMs */
static atomic_bool stop_writer;

static long sys_get(const char *dir, const char *name)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int sys_set(const char *dir, const char *name, long v)
{
	char path[256], buf[32];
	int fd, n, r;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld", v);
	r = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	return r;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of @pid in seconds, or -1. */
static double cpu_of(int pid)
{
	unsigned long ut, st;
	char path[64], buf[1024], *p;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (i = 0; i < 12 && p; i++)	/* to field 14 (utime) */
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static int pid_of(const char *comm)
{
	struct dirent *d;
	char path[300], buf[64];
	int pid = -1, fd;
	DIR *dir = opendir("/proc");
	ssize_t n;

	while (dir && (d = readdir(dir)) && pid < 0) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n - 1] = '\0';
		if (!strcmp(buf, comm))
			pid = atoi(d->d_name);
	}
	if (dir)
		closedir(dir);
	return pid;
}

static void fill_page(char *p, unsigned long seed)
{
	unsigned long long *q = (unsigned long long *)p, x = seed * 0x9E3779B97F4A7C15ULL + 1;
	size_t i;

	for (i = 0; i < PG / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		q[i] = x;
	}
}

/*
 * Page kinds by index modulo 20: 0-9 duplicates (groups of four copies),
 * 10-12 zero, 13-17 unique, 18-19 volatile.  Returns what merging saves.
 */
static long fill_all(void)
{
	long dups = 0, zeros = 0;
	size_t i;

	for (i = 0; i < npages; i++) {
		unsigned int k = i % 20;
		char *p = mem + i * PG;

		if (k < 10) {
			fill_page(p, 1000000 + (i / 20) / 4 * 10 + k);
			dups++;
		} else if (k < 13) {
			memset(p, 0, PG);
			zeros++;
		} else {
			fill_page(p, 5000000 + i);
		}
	}
	/*
	 * Four copies of each duplicate content save three pages; the zero
	 * pages fill merged pages of up to max_page_sharing users each.
	 */
	return dups / 4 * 3 + zeros - (zeros + max_sharing - 1) / max_sharing;
}

static void *writer(void *unused)
{
	unsigned long gen = 1;

	(void)unused;
	while (!atomic_load(&stop_writer)) {
		size_t i;

		for (i = 18; i < npages; i += 20) {
			__atomic_store_n((unsigned long *)(mem + i * PG), gen,
					 __ATOMIC_RELAXED);
			__atomic_store_n((unsigned long *)(mem + (i + 1) * PG),
					 gen, __ATOMIC_RELAXED);
		}
		gen++;
		usleep(5000);
	}
	return NULL;
}

static struct result run(const char *dir, int pid, long target, double timeout)
{
	struct result r = { 0 };
	double t0, cpu0;
	pthread_t th;

	atomic_store(&stop_writer, false);
	pthread_create(&th, NULL, writer, NULL);
	cpu0 = cpu_of(pid);
	t0 = now();
	sys_set(dir, "run", 1);
	while (now() - t0 < timeout) {
		r.sharing = sys_get(dir, "pages_sharing");
		if (r.sharing >= target) {
			r.ok = true;
			break;
		}
		usleep(10000);
	}
	r.secs = now() - t0;
	r.cpu_secs = cpu_of(pid) - cpu0;
	r.sharing = sys_get(dir, "pages_sharing");
	if (!r.ok)
		printf("%s: pages_shared %ld unshared %ld volatile %ld full_scans %ld\n",
		       dir, sys_get(dir, "pages_shared"),
		       sys_get(dir, "pages_unshared"),
		       sys_get(dir, "pages_volatile"), sys_get(dir, "full_scans"));
	atomic_store(&stop_writer, true);
	pthread_join(th, NULL);
	sys_set(dir, "run", 2);
	return r;
}

static void print(const char *name, struct result r, long target)
{
	printf("%-24s %s in %7.2f s, scanner CPU %6.2f s\n", name,
	       r.ok ? "converged" : "TIMED OUT", r.secs, r.cpu_secs);
	printf("%-24s %7.2f us CPU/merged page, saved %ld of %ld pages (%.1f MiB)\n",
	       "", r.sharing > 0 ? r.cpu_secs * 1e6 / r.sharing : 0.0,
	       r.sharing, target, r.sharing * PG / 1048576.0);
}

int main(int argc, char **argv)
{
	long mib = 32, pages_to_scan = 1000, sleep_ms = 20, target;
	double timeout = 600;
	struct result ours, up;
	struct vmaccel_ksm_create c = { 0 };
	int opt, dev, fd, kpid, upid;

	while ((opt = getopt(argc, argv, "m:p:s:t:")) != -1) {
		switch (opt) {
		case 'm':
			mib = atol(optarg);
			break;
		case 'p':
			pages_to_scan = atol(optarg);
			break;
		case 's':
			sleep_ms = atol(optarg);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-m MiB] [-p pages] [-s ms] [-t s]\n",
				argv[0]);
			return 2;
		}
	}
	/* Whole groups of four 20-page blocks: the savings are exact. */
	npages = mib * 1048576 / PG / 80 * 80;
	printf("ksm_bench: %ld MiB, %zu pages: 50%% dup x4, 15%% 0, 25%% unique, 10%% volatile\n",
	       mib, npages);
	printf("ksm_bench: pages_to_scan=%ld sleep_millisecs=%ld\n",
	       pages_to_scan, sleep_ms);

	/* vmaccel_ksm: a vmaccelfs file. */
	kpid = (int)sys_get(OURS, "scanner_pid");
	dev = open("/dev/vmaccel-ksm", O_RDWR);
	if (dev < 0 || kpid <= 0) {
		perror("ksm_bench: /dev/vmaccel-ksm (vmaccel_ksm loaded?)");
		return 1;
	}
	c.size = npages * PG;
	fd = ioctl(dev, VMACCEL_KSM_CREATE, &c);
	mem = fd < 0 ? MAP_FAILED : mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror("ksm_bench: vmaccelfs file");
		return 1;
	}
	sys_set(OURS, "run", 2);
	sys_set(OURS, "pages_to_scan", pages_to_scan);
	sys_set(OURS, "sleep_millisecs", sleep_ms);
	sys_set(OURS, "max_page_sharing", max_sharing);
	target = fill_all();
	ours = run(OURS, kpid, target, timeout);
	munmap(mem, npages * PG);
	close(fd);
	close(dev);
	sys_set(OURS, "run", 0);
	sys_set(OURS, "pages_to_scan", 100);
	sys_set(OURS, "sleep_millisecs", 20);
	print("vmaccel_ksm (vmaccelfs)", ours, target);

	/* Upstream KSM: anonymous MADV_MERGEABLE memory. */
	upid = pid_of("ksmd");
	if (access(UPSTREAM "run", W_OK) || upid <= 0) {
		printf("upstream KSM: not available (no /sys/kernel/mm/ksm or ksmd)\n");
		return ours.ok ? 0 : 1;
	}
	mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || madvise(mem, npages * PG, MADV_NOHUGEPAGE) ||
	    madvise(mem, npages * PG, MADV_MERGEABLE)) {
		perror("ksm_bench: MADV_MERGEABLE");
		return 1;
	}
	{
		long old_scan = sys_get(UPSTREAM, "pages_to_scan");
		long old_sleep = sys_get(UPSTREAM, "sleep_millisecs");

		sys_set(UPSTREAM, "run", 2);
		sys_set(UPSTREAM, "pages_to_scan", pages_to_scan);
		sys_set(UPSTREAM, "sleep_millisecs", sleep_ms);
		if (sys_set(UPSTREAM, "max_page_sharing", max_sharing))
			printf("upstream KSM: cannot set max_page_sharing\n");
		fill_all();
		up = run(UPSTREAM, upid, target, timeout);
		sys_set(UPSTREAM, "run", 0);
		sys_set(UPSTREAM, "pages_to_scan", old_scan);
		sys_set(UPSTREAM, "sleep_millisecs", old_sleep);
	}
	munmap(mem, npages * PG);
	print("upstream KSM (anon)", up, target);

	if (ours.ok && up.ok && ours.secs > 0 && ours.cpu_secs > 0) {
		printf("ratio time to converge (upstream / vmaccel_ksm): %.2fx\n",
		       up.secs / ours.secs);
		printf("ratio scanner CPU per merged page (upstream / vmaccel_ksm): %.2fx\n",
		       (up.cpu_secs / (up.sharing > 0 ? up.sharing : 1)) /
		       (ours.cpu_secs / (ours.sharing > 0 ? ours.sharing : 1)));
		printf("ratio memory saved (vmaccel_ksm / upstream): %.2fx\n",
		       (double)ours.sharing / (up.sharing > 0 ? up.sharing : 1));
	} else {
		printf("ratios: n/a (a run did not converge or used no CPU)\n");
	}
	return ours.ok ? 0 : 1;
}
