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
 * usage: pvlock_bench [-d MS] [-r REPS] [-t THREADS] [-c CS_NS] [-o OUT_NS]
 *                     [-H HOST_CPUS] [-q]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vmaccel_pvlock.h>

#define DEV	"/dev/vmaccel-pvlock"
#define SYSFS	"/sys/class/misc/vmaccel-pvlock/"

struct kind_res {
	const char *name;
	__u32 kind;
	double rate;		/* median acquisitions per second */
	double max_wait_us;	/* of the median run */
	double blocked_pct;	/* of the median run */
	double fairness;	/* min / max acquisitions per thread */
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void read_sysfs(const char *name, char *buf, size_t size)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(buf, size, "?");
		return;
	}
	buf[n] = '\0';
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

static void usage(void)
{
	fprintf(stderr,
		"usage: pvlock_bench [-d MS] [-r REPS] [-t THREADS] [-c CS_NS] [-o OUT_NS] [-H HOST_CPUS] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct kind_res k[] = {
		{ .name = "pv ticket", .kind = VMACCEL_PVLOCK_KIND_PV },
		{ .name = "plain ticket", .kind = VMACCEL_PVLOCK_KIND_TICKET },
		{ .name = "spinlock_t", .kind = VMACCEL_PVLOCK_KIND_SPINLOCK },
	};
	const unsigned int nk = sizeof(k) / sizeof(k[0]);
	struct vmaccel_pvlock_result *res;
	unsigned int ms = 2000, reps = 3, cs = 200, out = 400, i, j;
	int vcpus = (int)sysconf(_SC_NPROCESSORS_ONLN), host = 0, opt;
	char backend[32], threshold[32], over[32], hosts[32];
	const char *env;
	int quiet = 0;
	int threads = 0;

	while ((opt = getopt(argc, argv, "d:r:t:c:o:H:q")) != -1) {
		switch (opt) {
		case 'd': ms = (unsigned int)atoi(optarg); break;
		case 'r': reps = (unsigned int)atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'c': cs = (unsigned int)atoi(optarg); break;
		case 'o': out = (unsigned int)atoi(optarg); break;
		case 'H': host = atoi(optarg); break;
		case 'q': quiet = 1; break;
		default: usage();
		}
	}
	if (!ms || !reps || reps > 15 || threads < 0)
		usage();
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

	res = calloc(reps, sizeof(*res));
	if (!res)
		return 1;
	for (i = 0; i < nk; i++) {
		double rates[15];
		unsigned int med = 0;

		for (j = 0; j < reps; j++) {
			if (run_once(k[i].kind, threads, ms, cs, out, &res[j]))
				return 1;
			rates[j] = res[j].acquisitions * 1e9 /
				   (double)res[j].elapsed_ns;
			if (res[j].violations || res[j].fifo_violations) {
				fprintf(stderr, "pvlock_bench: %s: %llu violations!\n",
					k[i].name,
					(unsigned long long)res[j].violations);
				return 1;
			}
		}
		qsort(rates, reps, sizeof(rates[0]), cmp_double);
		k[i].rate = rates[reps / 2];
		for (j = 0; j < reps; j++)
			if (res[j].acquisitions * 1e9 / (double)res[j].elapsed_ns ==
			    k[i].rate)
				med = j;
		k[i].max_wait_us = res[med].max_wait_ns / 1e3;
		k[i].blocked_pct = res[med].acquisitions ?
			100.0 * res[med].blocked / res[med].acquisitions : 0;
		k[i].fairness = res[med].acquisitions_max ?
			(double)res[med].acquisitions_min /
			res[med].acquisitions_max : 0;
	}

	if (!quiet) {
		printf("pvlock bench: %d vCPUs, host CPUs %s, overcommit %s; backend %s, spin_threshold %s\n",
		       vcpus, hosts, over, backend, threshold);
		printf("  %d threads, critical section %u ns, outside %u ns, median of %u x %u ms\n",
		       threads, cs, out, reps, ms);
	}
	printf("  %-13s %12s %10s %12s %9s %14s %14s\n", "lock", "acq/s",
	       "fairness", "max_wait_us", "blocked", "vs spinlock_t",
	       "vs plain tkt");
	for (i = 0; i < nk; i++)
		printf("  %-13s %12.0f %10.2f %12.0f %8.2f%% %13.2fx %13.2fx\n",
		       k[i].name, k[i].rate, k[i].fairness, k[i].max_wait_us,
		       k[i].blocked_pct, k[i].rate / k[2].rate,
		       k[i].rate / k[1].rate);
	free(res);
	return 0;
}
