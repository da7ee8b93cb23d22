// SPDX-License-Identifier: GPL-2.0-only
/*
 * ksm_bench - vmaccel_ksm against upstream KSM on the same content.
 *
 * The same N MiB of guest-RAM-like content (duplicate pages in groups of
 * four, zero pages, unique pages, and volatile pages a thread keeps
 * rewriting) is merged with the same pages_to_scan, sleep_millisecs and
 * max_page_sharing: by vmaccel_ksm in a vmaccelfs file (MAP_SHARED) and by
 * upstream KSM in anonymous MADV_MERGEABLE memory.  Rounds alternate which
 * one goes first; each round fills fresh memory.
 *
 * Measured per run, sampling every 10 ms from the moment run=1 is written:
 *   S  memory saved: pages_sharing at the end of the run (the run ends
 *      -H seconds after pages_sharing first reached what the content
 *      allows, or at the timeout);
 *   T  time to converge: the first sample from which pages_sharing stays
 *      >= 99% of S until the end of the run (same rule for both);
 *   C  scanner CPU to converge: on-CPU time of the scanner thread
 *      (vmaccel_ksmd or ksmd; /proc/<pid>/schedstat, nanoseconds, falling
 *      back to utime + stime) from run=1 to that sample.
 * Ratios (each > 1 means vmaccel_ksm is better):
 *   time to converge          T(upstream) / T(vmaccel_ksm)
 *   scanner CPU / merged page (C/S)(upstream) / (C/S)(vmaccel_ksm)
 *   convergence / CPU-second  (S/C)(vmaccel_ksm) / (S/C)(upstream): pages
 *                             saved at convergence per scanner CPU-second.
 *                             This is the target metric (>= 2x
 *                             with memory saved >= 1.00x); it is the
 *                             inverse of CPU per merged page, so the two
 *                             ratios are equal by construction.
 *   memory saved              S(vmaccel_ksm) / S(upstream)
 * Each round's ratios are printed, then the median and the best.
 *
 * Two mixes (-M): "base" is the content above; "written" turns a fifth
 * of the duplicates (10% of all pages) into pages that are about to be
 * written: duplicates when the scanner starts, each written once -d
 * seconds later (which makes it unique).  Merging at first sight merges
 * them and then pays a copy-on-write break for each; waiting for a page
 * to stay unchanged does not.  Per run and side the bench counts the
 * copy-on-write breaks of merged pages (vmaccel_ksm's cow_breaks,
 * upstream's cow_ksm in /proc/vmstat) and the page faults the writers
 * took (the process's minor faults: copy-on-write breaks, and refaults
 * of pages the scanner unmapped or write-protected), and the run does not
 * end before the writes were made.  The default runs both mixes, so the
 * ratios come with and without such pages.  use_zero_pages is left as the
 * admin set it on each side, and printed.
 *
 * Usage: ksm_bench [-m MiB] [-p pages_to_scan] [-s sleep_millisecs]
 *                  [-r rounds] [-H hold_s] [-t timeout_s]
 *                  [-M base|written|both] [-d write_after_s]
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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmaccel_ksm.h>

#include "../../selftests/lib/vmaccel_sysfs.h"

#define PG		4096UL
#define OURS		"/sys/kernel/mm/vmaccel_ksm/"
#define UPSTREAM	"/sys/kernel/mm/ksm/"

struct result {
	bool ok;		/* reached the content's full saving */
	double secs;		/* T: time to converge */
	double cpu_secs;	/* C: scanner CPU to converge */
	long sharing;		/* S: pages saved at the end */
	long cow;		/* copy-on-write breaks of merged pages */
	long faults;		/* minor faults of the writers */
};

struct sample {
	double t, cpu;
	long sharing;
};

#define MAX_SAMPLES	200000
static struct sample samples[MAX_SAMPLES];

static char *mem;
static size_t npages;
static long max_sharing = 256;	/* set in both KSMs */
static atomic_bool stop_writer;
/* The "written" mix: pages of kinds 8 and 9 are written once, this late. */
static bool soon_written;
static double write_after = 1;
static double run_start;
static atomic_bool written;

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

/* A counter of /proc/vmstat, or -1. */
static long vmstat_get(const char *name)
{
	long v = -1;

	return vmaccel_read_keyed("/proc/vmstat", name, &v) ? -1 : v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of @pid in seconds (clock-tick resolution), or -1. */
static double cpu_of_stat(int pid)
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

/*
 * On-CPU time of @pid in seconds: the scheduler's sum_exec_runtime from
 * /proc/<pid>/schedstat (nanoseconds; tick sampling is too coarse for a
 * scanner that runs a fraction of a second), else utime + stime.
 */
static double cpu_of(int pid)
{
	unsigned long long ns;
	char path[64], buf[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			ns = strtoull(buf, NULL, 10);
			if (ns)
				return ns / 1e9;
		}
	}
	return cpu_of_stat(pid);
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
 * 10-12 zero, 13-17 unique, 18-19 volatile; in the "written" mix 8-9 are
 * duplicates about to be written.  Returns what merging saves once they
 * were written.
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
			dups += !(soon_written && k >= 8);
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

/* The "written" mix: each page of kinds 8 and 9 gets content of its own. */
static void write_soon_written(void)
{
	size_t i;

	for (i = 0; i < npages; i++)
		if (i % 20 >= 8 && i % 20 < 10)
			__atomic_store_n((unsigned long *)(mem + i * PG + 64),
					 i + 1, __ATOMIC_RELAXED);
	atomic_store(&written, true);
}

static void *writer(void *unused)
{
	unsigned long gen = 1;

	(void)unused;
	while (!atomic_load(&stop_writer)) {
		size_t i;

		if (soon_written && !atomic_load(&written) &&
		    now() - run_start >= write_after)
			write_soon_written();
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

/*
 * One run: start the scanner, sample pages_sharing and the scanner's CPU
 * every 10 ms until the content's full saving @target was reached and @hold
 * seconds passed, or @timeout.  Then T and C are read off the samples at
 * the first one from which pages_sharing stays >= 99% of the final value.
 */
static struct result run(const char *dir, int pid, long target, double hold,
			 double timeout)
{
	bool ours = !strcmp(dir, OURS);
	struct result r = { 0 };
	double t0, cpu0, reached = -1, t;
	long n = 0, i, conv, cow0;
	struct rusage ru;
	long flt0;
	pthread_t th;

	atomic_store(&stop_writer, false);
	atomic_store(&written, !soon_written);
	cow0 = ours ? sys_get(OURS, "cow_breaks") : vmstat_get("cow_ksm");
	getrusage(RUSAGE_SELF, &ru);
	flt0 = ru.ru_minflt;
	cpu0 = cpu_of(pid);
	t0 = now();
	run_start = t0;
	pthread_create(&th, NULL, writer, NULL);
	sys_set(dir, "run", 1);
	for (;;) {
		t = now() - t0;
		samples[n].t = t;
		samples[n].cpu = cpu_of(pid) - cpu0;
		samples[n].sharing = sys_get(dir, "pages_sharing");
		if (reached < 0 && samples[n].sharing >= target &&
		    atomic_load(&written)) {
			reached = t;
			r.ok = true;
		}
		n++;
		if (n == MAX_SAMPLES || t >= timeout ||
		    (reached >= 0 && t >= reached + hold))
			break;
		usleep(10000);
	}
	if (!r.ok)
		printf("%s: shared %ld sharing %ld unshared %ld volatile %ld scans %ld\n",
		       dir, sys_get(dir, "pages_shared"),
		       sys_get(dir, "pages_sharing"),
		       sys_get(dir, "pages_unshared"),
		       sys_get(dir, "pages_volatile"), sys_get(dir, "full_scans"));
	atomic_store(&stop_writer, true);
	pthread_join(th, NULL);
	r.cow = (ours ? sys_get(OURS, "cow_breaks") : vmstat_get("cow_ksm")) - cow0;
	getrusage(RUSAGE_SELF, &ru);
	r.faults = ru.ru_minflt - flt0;
	sys_set(dir, "run", 2);
	r.sharing = samples[n - 1].sharing;
	conv = n - 1;
	for (i = n - 1; i >= 0; i--) {
		if (samples[i].sharing * 100 < r.sharing * 99)
			break;
		conv = i;
	}
	r.secs = samples[conv].t;
	r.cpu_secs = samples[conv].cpu;
	return r;
}

static void print(const char *name, struct result r, long target)
{
	printf("  %-12s %s T %6.2f s, C %6.3f s, %6.2f us CPU/saved page, saved %ld/%ld pages,",
	       name, r.ok ? "converged" : "TIMED OUT", r.secs, r.cpu_secs,
	       r.sharing > 0 ? r.cpu_secs * 1e6 / r.sharing : 0.0,
	       r.sharing, target);
	printf(" %ld COW breaks, %ld faults\n", r.cow, r.faults);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v; prints it, its median, best and worst. */
static void summary(const char *name, double *v, int n)
{
	double med;
	int i;

	qsort(v, n, sizeof(*v), cmp_double);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf("%-28s", name);
	for (i = 0; i < n; i++)
		printf(" %.2f", v[i]);
	printf("  | median %.2fx best %.2fx worst %.2fx\n", med, v[n - 1],
	       v[0]);
}

/* vmaccel_ksm: a fresh vmaccelfs file, filled, merged, freed. */
static struct result run_ours(int dev, int kpid, long pages_to_scan,
			      long sleep_ms, double hold, double timeout,
			      long *target)
{
	struct vmaccel_ksm_create c = { 0 };
	struct result r = { 0 };
	int fd;

	c.size = npages * PG;
	fd = ioctl(dev, VMACCEL_KSM_CREATE, &c);
	mem = fd < 0 ? MAP_FAILED : mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror("ksm_bench: vmaccelfs file");
		exit(1);
	}
	sys_set(OURS, "run", 2);
	sys_set(OURS, "pages_to_scan", pages_to_scan);
	sys_set(OURS, "sleep_millisecs", sleep_ms);
	sys_set(OURS, "max_page_sharing", max_sharing);
	*target = fill_all();
	r = run(OURS, kpid, *target, hold, timeout);
	munmap(mem, npages * PG);
	close(fd);
	sys_set(OURS, "run", 0);
	return r;
}

/* Upstream KSM: fresh anonymous MADV_MERGEABLE memory. */
static struct result run_upstream(int upid, long pages_to_scan, long sleep_ms,
				  double hold, double timeout, long *target)
{
	struct result r = { 0 };

	mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || madvise(mem, npages * PG, MADV_NOHUGEPAGE) ||
	    madvise(mem, npages * PG, MADV_MERGEABLE)) {
		perror("ksm_bench: MADV_MERGEABLE");
		exit(1);
	}
	sys_set(UPSTREAM, "run", 2);
	sys_set(UPSTREAM, "pages_to_scan", pages_to_scan);
	sys_set(UPSTREAM, "sleep_millisecs", sleep_ms);
	if (sys_set(UPSTREAM, "max_page_sharing", max_sharing))
		printf("upstream KSM: cannot set max_page_sharing\n");
	*target = fill_all();
	r = run(UPSTREAM, upid, *target, hold, timeout);
	sys_set(UPSTREAM, "run", 0);
	munmap(mem, npages * PG);
	return r;
}

#define MAX_ROUNDS 64

struct params {
	int dev, kpid, upid, rounds;
	long pages_to_scan, sleep_ms;
	double hold, timeout;
	bool upstream;
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n longs (sorts @v). */
static long median_l(long *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_long);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The rounds of one mix, their ratios and summary; false if ours failed. */
static bool bench_mix(const struct params *pa)
{
	double rt[MAX_ROUNDS], rc[MAX_ROUNDS], rv[MAX_ROUNDS], rs[MAX_ROUNDS];
	long cow_o[MAX_ROUNDS], cow_u[MAX_ROUNDS];
	long flt_o[MAX_ROUNDS], flt_u[MAX_ROUNDS];
	double best_ours = 1e9, best_up = 1e9;	/* least-disturbed C/S */
	int i, n = 0, nr = 0, met = 0;
	bool failed = false;
	long target = 0;

	if (soon_written)
		printf("=== mix written: 40%% dup x4, 10%% dup x4 written once %s\n",
		       "after the start, 15% 0, 25% unique, 10% volatile");
	else
		printf("=== mix base: 50%% dup x4, 15%% 0, 25%% unique, 10%% volatile\n");
	if (soon_written)
		printf("ksm_bench: the 10%% are written %.2f s after run=1\n",
		       write_after);
	for (i = 0; i < pa->rounds; i++) {
		struct result ours, up = { 0 };

		/* Alternate the order: drift in host load hits both alike. */
		if (pa->upstream && i % 2)
			up = run_upstream(pa->upid, pa->pages_to_scan,
					  pa->sleep_ms, pa->hold, pa->timeout,
					  &target);
		ours = run_ours(pa->dev, pa->kpid, pa->pages_to_scan,
				pa->sleep_ms, pa->hold, pa->timeout, &target);
		if (pa->upstream && !(i % 2))
			up = run_upstream(pa->upid, pa->pages_to_scan,
					  pa->sleep_ms, pa->hold, pa->timeout,
					  &target);
		printf("round %d:\n", i + 1);
		print("vmaccel_ksm", ours, target);
		failed |= !ours.ok;
		cow_o[nr] = ours.cow;
		flt_o[nr] = ours.faults;
		if (!pa->upstream) {
			nr++;
			continue;
		}
		print("upstream", up, target);
		cow_u[nr] = up.cow;
		flt_u[nr] = up.faults;
		nr++;
		if (!ours.ok || !up.ok || ours.cpu_secs <= 0 || ours.secs <= 0 ||
		    up.sharing <= 0 || ours.sharing <= 0) {
			printf("  ratios: n/a (a run did not converge or used no CPU)\n");
			continue;
		}
		rt[n] = up.secs / ours.secs;
		rc[n] = (up.cpu_secs / up.sharing) / (ours.cpu_secs / ours.sharing);
		rv[n] = ((double)ours.sharing / ours.cpu_secs) /
			((double)up.sharing / up.cpu_secs);
		rs[n] = (double)ours.sharing / up.sharing;
		printf("  ratios: time %.2fx, CPU/merged pg %.2fx, conv/CPU-s %.2fx, saved %.2fx\n",
		       rt[n], rc[n], rv[n], rs[n]);
		met += rv[n] >= 2 && rs[n] >= 1;
		if (ours.cpu_secs / ours.sharing < best_ours)
			best_ours = ours.cpu_secs / ours.sharing;
		if (up.cpu_secs / up.sharing < best_up)
			best_up = up.cpu_secs / up.sharing;
		n++;
	}
	printf("COW breaks per run, median: vmaccel_ksm %ld", median_l(cow_o, nr));
	if (pa->upstream)
		printf(", upstream %ld", median_l(cow_u, nr));
	printf("; writer faults per run, median: vmaccel_ksm %ld", median_l(flt_o, nr));
	if (pa->upstream)
		printf(", upstream %ld", median_l(flt_u, nr));
	printf("\n");
	if (n) {
		printf("summary over %d rounds (each ratio > 1: vmaccel_ksm better), sorted:\n", n);
		summary("ratio time to converge", rt, n);
		summary("ratio CPU per merged page", rc, n);
		summary("ratio convergence/CPU-s", rv, n);
		summary("ratio memory saved", rs, n);
		/* Other load only adds CPU time: each side's minimum is its best estimate. */
		printf("ratio conv/CPU-s, least CPU per side: %.2fx (%.1f / %.1f us/page)\n",
		       best_up / best_ours, best_up * 1e6, best_ours * 1e6);
		printf("target (conv/CPU-s >= 2x, saved >= 1.00x): met in %d of %d rounds\n",
		       met, n);
	}
	return !failed;
}

int main(int argc, char **argv)
{
	long mib = 64, old_scan, old_sleep, ours_scan, ours_sleep;
	struct params pa = {
		.rounds = 5, .pages_to_scan = 1000, .sleep_ms = 20,
		.hold = 1, .timeout = 600,
	};
	const char *mix = "both";
	bool failed = false;
	int opt;

	while ((opt = getopt(argc, argv, "m:p:s:r:H:t:M:d:")) != -1) {
		switch (opt) {
		case 'm':
			mib = atol(optarg);
			break;
		case 'p':
			pa.pages_to_scan = atol(optarg);
			break;
		case 's':
			pa.sleep_ms = atol(optarg);
			break;
		case 'r':
			pa.rounds = atoi(optarg);
			break;
		case 'H':
			pa.hold = atof(optarg);
			break;
		case 't':
			pa.timeout = atof(optarg);
			break;
		case 'M':
			mix = optarg;
			break;
		case 'd':
			write_after = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-m MiB] [-p n] [-s ms] [-r n] %s\n",
				argv[0], "[-H s] [-t s] [-M base|written|both] [-d s]");
			return 2;
		}
	}
	if (pa.rounds < 1 || pa.rounds > MAX_ROUNDS || mib < 1 ||
	    write_after < 0 || (strcmp(mix, "base") && strcmp(mix, "written") &&
				strcmp(mix, "both"))) {
		fprintf(stderr, "ksm_bench: 1 <= rounds <= %d, MiB >= 1, -d >= 0, %s\n",
			MAX_ROUNDS, "-M base|written|both");
		return 2;
	}
	/* Whole groups of four 20-page blocks: the savings are exact. */
	npages = mib * 1048576 / PG / 80 * 80;
	printf("ksm_bench: %ld MiB, %zu pages, mix %s\n", mib, npages, mix);
	printf("ksm_bench: pages_to_scan=%ld sleep_millisecs=%ld max_page_sharing=%ld\n",
	       pa.pages_to_scan, pa.sleep_ms, max_sharing);
	printf("ksm_bench: %d rounds; converged: saved >= 99%% of final, and stays\n",
	       pa.rounds);

	pa.kpid = (int)sys_get(OURS, "scanner_pid");
	pa.dev = open("/dev/vmaccel-ksm", O_RDWR);
	if (pa.dev < 0 || pa.kpid <= 0) {
		perror("ksm_bench: /dev/vmaccel-ksm (vmaccel_ksm loaded?)");
		return 1;
	}
	ours_scan = sys_get(OURS, "pages_to_scan");
	ours_sleep = sys_get(OURS, "sleep_millisecs");
	pa.upid = pid_of("ksmd");
	pa.upstream = !access(UPSTREAM "run", W_OK) && pa.upid > 0;
	if (!pa.upstream)
		printf("upstream KSM: not available (no /sys/kernel/mm/ksm or ksmd)\n");
	old_scan = sys_get(UPSTREAM, "pages_to_scan");
	old_sleep = sys_get(UPSTREAM, "sleep_millisecs");
	printf("ksm_bench: use_zero_pages: vmaccel_ksm %ld, upstream %ld (as set; not changed)\n",
	       sys_get(OURS, "use_zero_pages"), sys_get(UPSTREAM, "use_zero_pages"));

	if (strcmp(mix, "written")) {
		soon_written = false;
		failed |= !bench_mix(&pa);
	}
	if (strcmp(mix, "base")) {
		soon_written = true;
		failed |= !bench_mix(&pa);
	}
	sys_set(OURS, "pages_to_scan", ours_scan);
	sys_set(OURS, "sleep_millisecs", ours_sleep);
	if (pa.upstream) {
		sys_set(UPSTREAM, "pages_to_scan", old_scan);
		sys_set(UPSTREAM, "sleep_millisecs", old_sleep);
	}
	return failed ? 1 : 0;
}
