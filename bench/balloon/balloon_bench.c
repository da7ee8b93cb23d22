// SPDX-License-Identifier: GPL-2.0-only
/*
 * balloon_bench - how fast memory comes back under host pressure, from
 * which guests, and how much work the guests lose, with vmaccel_balloon's
 * policy against a static baseline.
 *
 * The guests are simulated in this process (a nested QEMU guest per data
 * point would take minutes under TCG): each has its RAM in a memfd, all of
 * it touched (resident, as in a guest that has run a while), and a
 * workload thread that keeps writing its working set (16, 48, 96 and 160
 * MiB of 192 MiB).  The rest is free guest memory.  A guest reports its
 * free memory as VIRTIO_BALLOON_S_AVAIL, and inflates as a virtio-balloon
 * guest does: it gives free pages first (punched out of the memfd, as QEMU
 * does), and working-set pages only when asked for more than it has free;
 * the workload then refaults those, which is the work it loses.
 *
 * Pressure is real: a file in /dev/shm takes 15 % of RAM, with the
 * watermarks set just above what is then available.  Three runs:
 *
 *   vmaccel  the module's policy (interval 200 ms, step 10 %), targets
 *            applied on each eventfd;
 *   mom      the policy off; a userspace policy modelled on the balloon
 *            rules of oVirt's Memory Overcommitment Manager, with the
 *            same inputs and cadence: every 200 ms, while the host's
 *            available memory is below the low watermark (MOM: host free
 *            < 20 %; here the module's band, so both see the same
 *            pressure), every guest shrinks by 5 % of its current size,
 *            never below what it uses plus 20 % of its RAM free; above
 *            the high watermark guests grow by 5 % of their size.  It
 *            stops at the low watermark, where the module aims at the
 *            middle of the band, and it keeps 20 % free where the module
 *            runs with guest_free_pct 5 here: what each gives back
 *            differs by those choices, not by who is faster;
 *   static   the policy off; at the start of pressure every guest is asked
 *            for an equal share of the same deficit (what a management
 *            tool without guest statistics does).
 *
 * A static run with a 2 s window comes first and is thrown away (warm-up).
 * Printed: the time until the host's available memory was back above the
 * low watermark (pressure relieved), the time until the files gave back N
 * MiB (N: the deficit to the middle of the band, which a policy that stops
 * once out of pressure need not reach), memory given back in all and per
 * guest, the working-set memory taken from guests (what they must refault:
 * a real guest's major faults or swap-ins), and the OOM kills during the
 * run (/proc/vmstat oom_kill; must be 0), then ratios mom / vmaccel and
 * static / vmaccel.  Each guest's workload throughput during the window
 * relative to before is printed too, but under TCG (four workload threads
 * on the test VM's vCPUs) it varied from 59 % to 1574 % within one run:
 * it is noise here, not a result.
 *
 * usage: balloon_bench [-w WINDOW_MS]   (vmaccel_balloon loaded, root)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmaccel_balloon.h>

#include "../../selftests/lib/vmaccel_sysfs.h"

#define DEV		"/dev/vmaccel-balloon"
#define SYSFS		"/sys/kernel/mm/vmaccel_balloon/"
#define HOG		"/dev/shm/vmaccel-balloon-bench-hog"
#define MiB		(1024ULL * 1024)
#define PAGE		4096ULL
#define NR_GUESTS	4
#define GUEST		(192 * MiB)
#define FLOOR		(16 * MiB)
#define INTERVAL_MS	200

/* The MOM-style rules: steps of the guest's current size, a free reserve. */
#define MOM_SHRINK_PCT	5
#define MOM_GROW_PCT	5
#define MOM_MIN_FREE_PCT 20	/* of the guest's RAM */

enum policy { P_VMACCEL, P_MOM, P_STATIC, NR_POLICIES };
static const char *const policy_names[NR_POLICIES] = {
	"vmaccel", "mom", "static"
};

static const unsigned int ws_mib[NR_GUESTS] = { 16, 48, 96, 160 };

struct guest {
	int mem, efd, vm;
	char *ram;
	__u64 ws;		/* working set, bytes from offset 0 */
	__u64 ballooned;	/* bytes given, from the end of RAM down */
	__u64 ws_taken;		/* most working-set bytes ballooned at once */
	__u64 res0;		/* resident at the start of pressure */
	__u64 given;		/* resident res0 - now, at the end */
	double ops0, ops1;	/* workload pages/s before and during */
	pthread_t th;
	unsigned long long ops;	/* pages written by the workload */
	bool stop;
};

static struct guest guests[NR_GUESTS];

#define now_ns		vmaccel_now_ns
#define sleep_ms	vmaccel_sleep_ms

/* Write a knob of the module; 0 or -errno. */
static int knob(const char *name, long val)
{
	char path[128];

	snprintf(path, sizeof(path), SYSFS "%s", name);
	return vmaccel_write_long(path, val);
}

/* Read a knob of the module; -1 on failure. */
static long knob_read(const char *name)
{
	char path[128];
	long v;

	snprintf(path, sizeof(path), SYSFS "%s", name);
	return vmaccel_read_long(path, &v) ? -1 : v;
}

static __u64 resident(const struct guest *g)
{
	struct stat st;

	return fstat(g->mem, &st) ? 0 : (__u64)st.st_blocks * 512;
}

static void *workload(void *arg)
{
	struct guest *g = arg;
	__u64 off;

	while (!__atomic_load_n(&g->stop, __ATOMIC_RELAXED)) {
		for (off = 0; off < g->ws; off += PAGE)
			g->ram[off]++;
		__atomic_add_fetch(&g->ops, g->ws / PAGE, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The guest's balloon driver: give (or take back) down to @target. */
static void balloon_to(struct guest *g, __u64 target)
{
	__u64 want = target < GUEST ? GUEST - target : 0;

	if (want > g->ballooned)
		fallocate(g->mem, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(GUEST - want), (off_t)(want - g->ballooned));
	/* Deflating only makes the pages the guest's again. */
	g->ballooned = want;
	/* Past its free memory, the balloon takes working-set pages. */
	if (want > GUEST - g->ws && want - (GUEST - g->ws) > g->ws_taken)
		g->ws_taken = want - (GUEST - g->ws);
}

/*
 * One step of the MOM-style policy: the same inputs as the module (host
 * available memory against its band, the guest's reported free memory).
 */
static void mom_step(long low, long high)
{
	long avail = knob_read("host_available_pct");
	int i;

	for (i = 0; i < NR_GUESTS; i++) {
		struct guest *g = &guests[i];
		__u64 cur = GUEST - g->ballooned;
		__u64 keep = g->ws + GUEST * MOM_MIN_FREE_PCT / 100;
		__u64 next = cur;

		if (avail >= 0 && avail < low) {
			next = cur - cur * MOM_SHRINK_PCT / 100;
			if (next > cur || next < keep)
				next = keep;
			if (next < FLOOR)
				next = FLOOR;
			if (next > cur)
				next = cur;
		} else if (avail > high) {
			next = cur + cur * MOM_GROW_PCT / 100;
			if (next > GUEST)
				next = GUEST;
		}
		if (next != cur)
			balloon_to(g, next & ~(PAGE - 1));
	}
}

/* The kernel's OOM-kill count (/proc/vmstat oom_kill); -1 unknown. */
static long oom_kills(void)
{
	char name[64];
	long long v;
	long n = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, "oom_kill"))
			n = (long)v;
	fclose(f);
	return n;
}

static void report(struct guest *g)
{
	struct vmaccel_balloon_stat st[2];
	struct vmaccel_balloon_stats s;
	__u64 used = g->ws + g->ballooned;

	memset(st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	st[0].tag = 6;	/* VIRTIO_BALLOON_S_AVAIL */
	st[0].val = used < GUEST ? GUEST - used : 0;
	st[1].tag = 5;	/* VIRTIO_BALLOON_S_MEMTOT */
	st[1].val = GUEST;
	s.nr = 2;
	s.stats_ptr = (__u64)(uintptr_t)st;
	ioctl(g->vm, VMACCEL_BALLOON_REPORT_STATS, &s);
}

static __u64 target_of(struct guest *g)
{
	struct vmaccel_balloon_target t;

	memset(&t, 0, sizeof(t));
	if (ioctl(g->vm, VMACCEL_BALLOON_GET_TARGET, &t))
		return GUEST;
	return t.target_bytes;
}

static int setup_guests(int dev)
{
	struct vmaccel_balloon_register r;
	int i;

	for (i = 0; i < NR_GUESTS; i++) {
		struct guest *g = &guests[i];

		memset(g, 0, sizeof(*g));
		g->ws = ws_mib[i] * MiB;
		g->mem = memfd_create("balloon-bench", MFD_CLOEXEC);
		if (g->mem < 0 || ftruncate(g->mem, GUEST))
			return -1;
		g->ram = mmap(NULL, GUEST, PROT_READ | PROT_WRITE, MAP_SHARED,
			      g->mem, 0);
		if (g->ram == MAP_FAILED)
			return -1;
		memset(g->ram, 1, GUEST);
		g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		memset(&r, 0, sizeof(r));
		r.mem_fd = g->mem;
		r.event_fd = g->efd;
		r.guest_bytes = GUEST;
		r.floor_bytes = FLOOR;
		r.ceiling_bytes = GUEST;
		snprintf(r.name, sizeof(r.name), "bench%d", i);
		g->vm = ioctl(dev, VMACCEL_BALLOON_REGISTER, &r);
		if (g->vm < 0)
			return -1;
		report(g);
		if (pthread_create(&g->th, NULL, workload, g))
			return -1;
	}
	return 0;
}

static void teardown_guests(void)
{
	int i;

	for (i = 0; i < NR_GUESTS; i++) {
		struct guest *g = &guests[i];

		__atomic_store_n(&g->stop, true, __ATOMIC_RELAXED);
		pthread_join(g->th, NULL);
		munmap(g->ram, GUEST);
		close(g->vm);
		close(g->efd);
		close(g->mem);
	}
}

static void rates(int which, unsigned int ms)
{
	unsigned long long before[NR_GUESTS];
	int i;

	for (i = 0; i < NR_GUESTS; i++)
		before[i] = __atomic_load_n(&guests[i].ops, __ATOMIC_RELAXED);
	sleep_ms(ms);
	for (i = 0; i < NR_GUESTS; i++) {
		double r = (double)(__atomic_load_n(&guests[i].ops,
						    __ATOMIC_RELAXED) -
				    before[i]) * 1000.0 / ms;
		if (which)
			guests[i].ops1 = r;
		else
			guests[i].ops0 = r;
	}
}

struct run {
	const char *name;
	double secs_to_n;	/* -1: not reached */
	double secs_relieved;	/* -1: not reached */
	__u64 given_total;
	__u64 ws_taken;		/* working-set bytes taken, all guests */
	long oom_kills;		/* during the run; -1 unknown */
	double given[NR_GUESTS];
	double kept[NR_GUESTS];	/* workload throughput during / before */
};

/* One run; the hog is created at its start and removed at its end. */
static int run_one(int dev, enum policy policy, unsigned int window_ms,
		   __u64 hog, __u64 *need, struct run *out)
{
	struct sysinfo si;
	__u64 t0, deadline, next_report = 0, next_mom = 0, total = 0;
	long cur, oom0 = oom_kills();
	int i, fd;

	if (setup_guests(dev))
		return -1;
	knob("enabled", policy == P_VMACCEL);
	knob("interval_ms", INTERVAL_MS);
	knob("step_pct", 10);
	knob("guest_free_pct", 5);
	/* Warm up (TCG translates the loops), then the rate before. */
	sleep_ms(2000);
	rates(0, 2000);
	cur = knob_read("host_available_pct");
	knob("high_pct", cur - 3);
	knob("low_pct", cur - 6);

	/* Pressure. */
	fd = open(HOG, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, (off_t)hog))
		return -1;
	close(fd);
	sysinfo(&si);
	if (!*need) {
		/* The deficit to the middle of the band, as the policy sees it. */
		long now = knob_read("host_available_pct");
		double mid = (double)(cur - 3 + cur - 6) / 2;

		*need = (__u64)((mid - now) / 100.0 * si.totalram * si.mem_unit);
		*need &= ~(PAGE - 1);
	}
	for (i = 0; i < NR_GUESTS; i++)
		guests[i].res0 = resident(&guests[i]);
	{
		unsigned long long before[NR_GUESTS];
		double secs;

		for (i = 0; i < NR_GUESTS; i++)
			before[i] = __atomic_load_n(&guests[i].ops,
						    __ATOMIC_RELAXED);
		t0 = now_ns();
		deadline = t0 + (__u64)window_ms * 1000000ULL;
		out->secs_to_n = -1;
		out->secs_relieved = -1;
		if (policy == P_STATIC)
			for (i = 0; i < NR_GUESTS; i++)
				balloon_to(&guests[i], GUEST - *need / NR_GUESTS);
		/* The window: the VMMs apply targets; the workloads run on. */
		do {
			struct pollfd p[NR_GUESTS];
			__u64 v;

			for (i = 0; i < NR_GUESTS; i++) {
				p[i].fd = guests[i].efd;
				p[i].events = POLLIN;
			}
			poll(p, NR_GUESTS, 20);
			for (i = 0; i < NR_GUESTS; i++) {
				if (!(p[i].revents & POLLIN))
					continue;
				if (read(guests[i].efd, &v, sizeof(v)) < 0)
					continue;
				balloon_to(&guests[i], target_of(&guests[i]));
			}
			if (now_ns() >= next_report) {
				next_report = now_ns() + 200000000ULL;
				for (i = 0; i < NR_GUESTS; i++)
					report(&guests[i]);
			}
			if (policy == P_MOM && now_ns() >= next_mom) {
				next_mom = now_ns() + INTERVAL_MS * 1000000ULL;
				mom_step(cur - 6, cur - 3);
			}
			for (total = 0, i = 0; i < NR_GUESTS; i++) {
				__u64 r = resident(&guests[i]);

				total += guests[i].res0 > r ?
					 guests[i].res0 - r : 0;
			}
			if (out->secs_to_n < 0 && total >= *need)
				out->secs_to_n = (now_ns() - t0) / 1e9;
			if (out->secs_relieved < 0 &&
			    knob_read("host_available_pct") >= cur - 6)
				out->secs_relieved = (now_ns() - t0) / 1e9;
		} while (now_ns() < deadline);
		secs = (now_ns() - t0) / 1e9;
		for (i = 0; i < NR_GUESTS; i++)
			guests[i].ops1 = (double)(__atomic_load_n(&guests[i].ops,
								  __ATOMIC_RELAXED) -
						  before[i]) / secs;
	}
	out->given_total = total;
	out->ws_taken = 0;
	for (i = 0; i < NR_GUESTS; i++)
		out->ws_taken += guests[i].ws_taken;
	out->oom_kills = oom0 >= 0 && oom_kills() >= 0 ? oom_kills() - oom0 : -1;
	for (i = 0; i < NR_GUESTS; i++) {
		__u64 r = resident(&guests[i]);

		out->given[i] = guests[i].res0 > r ?
				(double)(guests[i].res0 - r) / MiB : 0;
		out->kept[i] = guests[i].ops0 > 0 ?
			       guests[i].ops1 / guests[i].ops0 : 0;
	}
	unlink(HOG);
	teardown_guests();
	knob("enabled", 1);
	knob("high_pct", 30);
	knob("low_pct", 20);
	knob("high_pct", 30);
	knob("interval_ms", 1000);
	knob("step_pct", 5);
	knob("guest_free_pct", 10);
	sleep_ms(500);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int window_ms = 8000;
	struct run runs[NR_POLICIES];
	struct sysinfo si;
	__u64 hog, need = 0;
	int dev, opt, i, k;

	while ((opt = getopt(argc, argv, "w:")) != -1) {
		if (opt == 'w') {
			window_ms = atoi(optarg);
		} else {
			fprintf(stderr, "usage: %s [-w WINDOW_MS]\n", argv[0]);
			return 2;
		}
	}
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "%s: %s (load vmaccel_balloon)\n", DEV,
			strerror(errno));
		return 1;
	}
	sysinfo(&si);
	hog = (__u64)si.totalram * si.mem_unit * 15 / 100;
	hog &= ~(PAGE - 1);
	printf("balloon_bench: %d simulated guests of %llu MiB (working sets",
	       NR_GUESTS, GUEST / MiB);
	for (i = 0; i < NR_GUESTS; i++)
		printf(" %u", ws_mib[i]);
	printf(" MiB), host pressure %llu MiB, window %u ms\n", hog / MiB,
	       window_ms);
	/*
	 * A run thrown away first: the first run's workloads measured a rate
	 * before pressure several times lower than the later runs' (TCG's
	 * translation, the first faults of this much memory), which made
	 * whichever policy ran first look best.
	 */
	memset(&runs[0], 0, sizeof(runs[0]));
	if (run_one(dev, P_STATIC, 2000, hog, &need, &runs[0])) {
		fprintf(stderr, "balloon_bench: warm-up run failed: %s\n",
			strerror(errno));
		unlink(HOG);
		return 1;
	}
	for (k = 0; k < NR_POLICIES; k++) {
		memset(&runs[k], 0, sizeof(runs[k]));
		runs[k].name = policy_names[k];
		if (run_one(dev, k, window_ms, hog, &need, &runs[k])) {
			fprintf(stderr, "balloon_bench: %s run failed: %s\n",
				runs[k].name, strerror(errno));
			unlink(HOG);
			return 1;
		}
	}
	printf("deficit N = %llu MiB (to the middle of the watermark band)\n\n",
	       need / MiB);
	printf("%-8s %12s %12s %10s %9s %4s", "policy", "relieved (s)",
	       "to N MiB (s)", "given MiB", "ws taken", "oom");
	for (i = 0; i < NR_GUESTS; i++)
		printf("  g%d(ws%3u) given/kept", i, ws_mib[i]);
	printf("\n");
	for (k = 0; k < NR_POLICIES; k++) {
		struct run *r = &runs[k];

		printf("%-8s ", r->name);
		if (r->secs_relieved < 0)
			printf("%12s ", "not reached");
		else
			printf("%12.2f ", r->secs_relieved);
		if (r->secs_to_n < 0)
			printf("%12s", "not reached");
		else
			printf("%12.2f", r->secs_to_n);
		printf(" %10llu %5llu MiB %4ld", r->given_total / MiB,
		       r->ws_taken / MiB, r->oom_kills);
		for (i = 0; i < NR_GUESTS; i++)
			printf("  %9.0f MiB %5.0f%%", r->given[i],
			       100.0 * r->kept[i]);
		printf("\n");
	}
	printf("\n");
	for (k = P_MOM; k < NR_POLICIES; k++) {
		struct run *r = &runs[k];

		printf("ratios %s / vmaccel: given back %.2fx, ", r->name,
		       runs[0].given_total ?
		       (double)r->given_total / runs[0].given_total : 0);
		if (r->secs_relieved < 0 || runs[0].secs_relieved <= 0)
			printf("time to relieve -");
		else
			printf("time to relieve %.2fx",
			       r->secs_relieved / runs[0].secs_relieved);
		printf(", working set taken %llu vs %llu MiB\n",
		       r->ws_taken / MiB, runs[0].ws_taken / MiB);
	}
	close(dev);
	return 0;
}
