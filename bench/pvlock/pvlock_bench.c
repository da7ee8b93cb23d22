// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlock_bench - lock acquisitions per second of the pv ticket lock, the
 * plain ticket lock and the kernel's spinlock_t, in the machine (VM) it runs
 * in, as ratios.
 *
 * One kernel thread per vCPU takes the lock in a loop (the torture of
 * /dev/vmaccel-pvlock, without its extra checks).  Overcommit comes from the
 * VM: run it in a VM with as many vCPUs as host CPUs (1x) and with twice as
 * many (2x).  The host CPU count is taken from -H, from $VMACCEL_HOST_CPUS
 * or from vmaccel.host_cpus= on the kernel command line; it is only
 * printed.
 *
 * The default workload holds the lock 1000 ns and works 2000 ns outside it,
 * the hold time of a busy kernel lock (zone, page-table or runqueue locks
 * hold for about a microsecond); -c and -o change it.  Far shorter critical
 * sections measure mostly the wake-up latency of a halted vCPU (see the
 * "Convoys" section of Documentation/pvlock/design.rst).
 *
 * usage: pvlock_bench [-d MS] [-r REPS] [-t THREADS] [-c CS_NS] [-o OUT_NS]
 *                     [-H HOST_CPUS] [-k pv,ticket,spinlock] [-q]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vmaccel_pvlock.h>

#include "../../selftests/lib/vmaccel_sysfs.h"

#define DEV	"/dev/vmaccel-pvlock"
#define SYSFS	"/sys/class/misc/vmaccel-pvlock/"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct kind_res {
	const char *name;
	__u32 kind;
	double rate;		/* median acquisitions per second */
	double max_wait_us;	/* of the median run */
	double blocked_pct;	/* of the median run */
	double fairness;	/* min / max acquisitions per thread */
	int skip;		/* not asked for with -k */
};

static int run_once(__u32 kind, __u32 threads, __u32 ms, __u32 cs,
		    __u32 out, struct vmaccel_pvlock_result *r)
{
	struct vmaccel_pvlock_run p = {
		.kind = kind,
		.nr_threads = threads,
		.duration_ms = ms,
		.cs_ns = cs,
		.outside_ns = out,
	};
	int fd, ret;

	fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pvlock_bench: %s: %s (is vmaccel_pvlock loaded?)\n",
			DEV, strerror(errno));
		return -1;
	}
	ret = ioctl(fd, VMACCEL_PVLOCK_RUN_START, &p);
	if (!ret) {
		memset(r, 0, sizeof(*r));
		ret = ioctl(fd, VMACCEL_PVLOCK_RUN_RESULT, r);
	}
	if (ret)
		fprintf(stderr, "pvlock_bench: run: %s\n", strerror(errno));
	close(fd);
	return ret;
}

static double rate_of(const struct vmaccel_pvlock_result *r)
{
	return r->elapsed_ns ? r->acquisitions * 1e9 / (double)r->elapsed_ns : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void read_sysfs(const char *name, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS "%s", name);
	if (vmaccel_read_file(path, buf, size) <= 0) {
		snprintf(buf, size, "?");
		return;
	}
	buf[strcspn(buf, "\n")] = '\0';
}

static int host_cpus_from_cmdline(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "vmaccel.host_cpus=");
	return p ? atoi(p + strlen("vmaccel.host_cpus=")) : 0;
}

static void print_usage(void)
{
	fprintf(stderr, "%s%s",
		"usage: pvlock_bench [-d MS] [-r REPS] [-t THREADS] [-c CS_NS]",
		" [-o OUT_NS] [-H HOST_CPUS] [-k pv,ticket,spinlock] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct kind_res k[] = {
		{ .name = "pv ticket", .kind = VMACCEL_PVLOCK_KIND_PV },
		{ .name = "plain ticket", .kind = VMACCEL_PVLOCK_KIND_TICKET },
		{ .name = "spinlock_t", .kind = VMACCEL_PVLOCK_KIND_SPINLOCK },
	};
	const unsigned int nk = ARRAY_SIZE(k);
	struct vmaccel_pvlock_result *res;
	unsigned int ms = 2000, reps = 5, cs = 1000, out = 2000, i, j;
	int vcpus = (int)sysconf(_SC_NPROCESSORS_ONLN), host = 0, opt;
	char backend[32], threshold[32], over[32], hosts[32];
	const char *env, *kinds = NULL;
	int quiet = 0;
	int threads = 0;

	while ((opt = getopt(argc, argv, "d:r:t:c:o:H:k:q")) != -1) {
		switch (opt) {
		case 'd':
			ms = (unsigned int)atoi(optarg);
			break;
		case 'r':
			reps = (unsigned int)atoi(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'c':
			cs = (unsigned int)atoi(optarg);
			break;
		case 'o':
			out = (unsigned int)atoi(optarg);
			break;
		case 'H':
			host = atoi(optarg);
			break;
		case 'k':
			kinds = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			print_usage();
		}
	}
	if (!ms || !reps || reps > 15 || threads < 0)
		print_usage();
	if (!threads)
		threads = vcpus;
	env = getenv("VMACCEL_HOST_CPUS");
	if (!host && env)
		host = atoi(env);
	if (!host)
		host = host_cpus_from_cmdline();

	read_sysfs("backend", backend, sizeof(backend));
	read_sysfs("spin_threshold", threshold, sizeof(threshold));
	if (host > 0) {
		snprintf(hosts, sizeof(hosts), "%d", host);
		snprintf(over, sizeof(over), "%.1fx", (double)vcpus / host);
	} else {
		snprintf(hosts, sizeof(hosts), "unknown");
		snprintf(over, sizeof(over), "unknown");
	}

	if (kinds) {
		static const char *const short_names[] = {
			"pv", "ticket", "spinlock",
		};

		for (i = 0; i < nk; i++)
			k[i].skip = !strstr(kinds, short_names[i]);
	}

	/* Interleaved (pv, ticket, spinlock, pv, ...): drift hits all alike. */
	res = calloc((size_t)reps * nk, sizeof(*res));
	if (!res)
		return 1;
	for (j = 0; j < reps; j++) {
		for (i = 0; i < nk; i++) {
			struct vmaccel_pvlock_result *r = &res[i * reps + j];

			if (k[i].skip)
				continue;
			if (run_once(k[i].kind, threads, ms, cs, out, r))
				return 1;
			if (r->violations || r->fifo_violations) {
				fprintf(stderr, "pvlock_bench: %s: %llu violations!\n",
					k[i].name,
					(unsigned long long)r->violations);
				return 1;
			}
		}
	}
	for (i = 0; i < nk; i++) {
		struct vmaccel_pvlock_result *r = &res[i * reps], *m;
		double rates[15];
		unsigned int med = 0;

		if (k[i].skip)
			continue;
		for (j = 0; j < reps; j++)
			rates[j] = rate_of(&r[j]);
		qsort(rates, reps, sizeof(rates[0]), cmp_double);
		k[i].rate = rates[reps / 2];
		for (j = 0; j < reps; j++)
			if (rate_of(&r[j]) == k[i].rate)
				med = j;
		m = &r[med];
		k[i].max_wait_us = m->max_wait_ns / 1e3;
		k[i].blocked_pct = m->acquisitions ?
			100.0 * m->blocked / m->acquisitions : 0;
		k[i].fairness = m->acquisitions_max ?
			(double)m->acquisitions_min / m->acquisitions_max : 0;
	}

	if (!quiet) {
		printf("pvlock bench: %d vCPUs, host CPUs %s, overcommit %s; ",
		       vcpus, hosts, over);
		printf("backend %s, spin_threshold %s\n", backend, threshold);
		printf("  %d threads, critical section %u ns, outside %u ns, ",
		       threads, cs, out);
		printf("median of %u x %u ms\n", reps, ms);
	}
	printf("  %-13s %12s %10s %12s %9s %14s %14s\n", "lock", "acq/s",
	       "fairness", "max_wait_us", "blocked", "vs spinlock_t",
	       "vs plain tkt");
	for (i = 0; i < nk; i++) {
		if (k[i].skip)
			continue;
		printf("  %-13s %12.0f %10.2f %12.0f %8.2f%%", k[i].name,
		       k[i].rate, k[i].fairness, k[i].max_wait_us,
		       k[i].blocked_pct);
		if (!k[2].skip)
			printf(" %13.2fx", k[i].rate / k[2].rate);
		else
			printf(" %14s", "-");
		if (!k[1].skip)
			printf(" %13.2fx\n", k[i].rate / k[1].rate);
		else
			printf(" %14s\n", "-");
	}
	free(res);
	return 0;
}
