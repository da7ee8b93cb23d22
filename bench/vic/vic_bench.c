// SPDX-License-Identifier: GPL-2.0-only
/*
 * vic_bench - interrupts per completion and delivery latency of the
 * vmaccel_vic eventfd coalescer, with coalescing off, fixed and adaptive.
 *
 * For every completion rate and mode (a row of the table) coalescers are
 * created between two eventfds, as a VMM would between a device's completion
 * eventfd and a KVM irqfd:
 *
 *  - the producer (main thread) plays the device: it paces completions at the
 *    target rate by busy-waiting on CLOCK_MONOTONIC, timestamps each one and
 *    write()s 1 to the source eventfd;
 *  - the consumer thread plays the guest: it poll()s the target eventfd,
 *    reads it (the interrupts raised since its last read) and timestamps the
 *    read.
 *
 * A completion's delivery latency is the time from its write() to the first
 * read of the target that observed an interrupt covering it.  Which
 * completions an interrupt covered is taken from the coalescer itself: an
 * interrupt covers every completion pending when it is raised, so the first
 * (completions - pending) completions of VMACCEL_VIC_GET_STATS have been
 * covered; the consumer fetches it around each read (see consume_one()).
 * Crediting every completion written before the read instead would credit
 * completions that are still pending and flatter the coalescing modes.
 *
 * Each row's measuring time is split into slices (--rounds) and the rows
 * take turns slice by slice, in a rotating order, each slice with a fresh
 * coalescer: a machine that is noisy for a while (a software-emulated VM on
 * a busy host) then disturbs every row alike instead of one of them.
 *
 * "direct" is what upstream does today and the baseline: no coalescer, the
 * device writes the target eventfd itself (vhost-net signals the call
 * eventfd that KVM's irqfd listens on), one interrupt per completion.  Every
 * other row is also printed as a ratio against the "direct" row measured at
 * the same rate in the same run.  "off" runs through a coalescer that does
 * not coalesce: its latency against "direct" is the cost of the hop through
 * the coalescer's eventfd wake-up and irq_work, which a VMM that wires a
 * coalescer between the two eventfds pays (vmaccel_vhost_net's in-kernel
 * path calls the engine directly and has no such hop).
 *
 * Adaptive coalescing needs load: a device with queue depth QD is simulated
 * by reporting CIF = QD with VMACCEL_VIC_SET_CIF when a slice starts; one
 * more adaptive row reports nothing, so that the coalescer estimates the load
 * from the completion rate.
 *
 * This measures and prints; it asserts nothing about timing.  It fails only
 * when the kernel's accounting disagrees with what was observed: the
 * interrupts read from the target must equal the coalescer's interrupt
 * count, and every completion written must be counted and delivered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/vmaccel_vic.h>

#include "../../selftests/lib/vmaccel_sysfs.h"

#define VIC_DEV			"/dev/vmaccel-vic"
#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL
#define MAX_RATES		16
#define MAX_QDS			8
#define MAX_COMPLETIONS		(64ULL << 20)
/* Below this share of the target rate a row is marked with '*'. */
#define RATE_SHORTFALL		0.9

/* Consumer: poll() timeout, so that it notices the end of a slice. */
#define POLL_MS			20
/* After the producer ends: how long the backstop may take to drain. */
#define DRAIN_GRACE_NS		(2 * NSEC_PER_SEC)

struct options {
	__u64 rates[MAX_RATES];
	int nr_rates;
	__u32 qds[MAX_QDS];
	int nr_qds;
	__u64 duration_ns;
	__u32 rounds;
	__u32 max_delay_us;
	__u32 fixed_ratio;
	__u32 cif_threshold;
	__u32 iops_threshold;
	__u32 max_ratio;
};

/* One row of the table: a mode, with or without a reported CIF. */
struct row_kind {
	char name[24];
	bool direct;		/* no coalescer: the baseline */
	__u32 mode;
	bool set_cif;
	__u32 qd;
};

/* One slice of a row: shared by the producer and the consumer. */
struct slice {
	/* Set up before the consumer starts, constant afterwards. */
	int src;
	int dst;
	int vfd;		/* -1 for the direct row: src is dst */
	__u64 cap;
	__u64 *ts;		/* ns: write() of completion i */
	__u64 *dt;		/* ns: read() that delivered completion i */

	/* Producer -> consumer, atomic accesses. */
	__u64 written;
	int done;

	/* Consumer results, read after join. */
	__u64 intr_read;
	__u64 covered;
	__u32 flushed;		/* completions a FLUSH had to deliver */
	int err;

	/* Producer results. */
	__u64 n;
	__u64 elapsed_ns;
	struct vmaccel_vic_stats st;
};

/* One row of the table at one rate: the sum of its slices. */
struct result {
	__u64 n;
	__u64 intr;
	__u64 elapsed_ns;
	__u64 backstop;
	__u64 max_delay_ns;
	__u32 cur_ratio;
	__u64 *lat;		/* ns, one per delivered completion */
	__u64 nr_lat;
	__u64 cap_lat;
	double achieved;
	double intr_per_compl;
	double p50_us;
	double p99_us;
};

static int cpu_producer = -1, cpu_consumer = -1;
static bool failed;

#define now_ns	vmaccel_now_ns

static int get_stats(int vfd, struct vmaccel_vic_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(vfd, VMACCEL_VIC_GET_STATS, st);
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: an unpinned run still measures. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The first two CPUs we may run on: producer and consumer. */
static void pick_cpus(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (cpu_producer < 0) {
			cpu_producer = cpu;
		} else {
			cpu_consumer = cpu;
			break;
		}
	}
	if (cpu_consumer < 0)
		cpu_producer = -1;	/* one CPU: let the scheduler share it */
}

/*
 * Completions covered by an interrupt so far: all but the pending ones.
 * Without a coalescer every completion written is its own interrupt.
 */
static int covered_now(struct slice *c, __u64 *covered)
{
	struct vmaccel_vic_stats st;

	if (c->vfd < 0) {
		*covered = __atomic_load_n(&c->written, __ATOMIC_ACQUIRE);
		return 0;
	}
	if (get_stats(c->vfd, &st)) {
		perror("vic_bench: VMACCEL_VIC_GET_STATS");
		return -1;
	}
	*covered = st.completions - st.pending;
	if (*covered > c->cap)
		*covered = c->cap;	/* cannot happen: checked after the run */
	return 0;
}

/* Delivery time @t for the covered completions up to @upto written before @t. */
static void deliver_upto(struct slice *c, __u64 upto, __u64 t)
{
	while (c->covered < upto && c->ts[c->covered] < t)
		c->dt[c->covered++] = t;
}

/*
 * One wake-up of the guest: read the interrupts and date the completions
 * they covered.  Those covered before the read are known from GET_STATS
 * taken just before it.  Those covered between that and a second GET_STATS
 * just after the read were covered by this read's interrupts only if no
 * interrupt is waiting now; otherwise the next read dates them.
 */
static int consume_one(struct slice *c)
{
	struct pollfd pfd = { .fd = c->dst, .events = POLLIN };
	__u64 cnt, before, after, t;
	ssize_t r;

	if (covered_now(c, &before))
		return -1;
	r = read(c->dst, &cnt, sizeof(cnt));
	t = now_ns();
	if (r < 0 && errno == EAGAIN) {
		cnt = 0;
	} else if (r != (ssize_t)sizeof(cnt)) {
		perror("vic_bench: read target eventfd");
		return -1;
	}
	c->intr_read += cnt;
	deliver_upto(c, before, t);
	if (covered_now(c, &after))
		return -1;
	if (after > c->covered && poll(&pfd, 1, 0) == 0)
		deliver_upto(c, after, t);
	return 0;
}

/*
 * The producer has finished and completions are still not seen delivered
 * after the grace period.  If the coalescer holds them, its backstop failed:
 * FLUSH (reported as an error) and wait once more.  Returns true to stop.
 */
static bool drain_stuck(struct slice *c)
{
	struct vmaccel_vic_stats st;

	if (c->vfd < 0 || c->flushed || get_stats(c->vfd, &st) || !st.pending)
		return true;
	c->flushed = st.pending;
	if (ioctl(c->vfd, VMACCEL_VIC_FLUSH)) {
		perror("vic_bench: VMACCEL_VIC_FLUSH");
		c->err = 1;
		return true;
	}
	return false;
}

static void *consumer(void *arg)
{
	struct pollfd pfd;
	struct slice *c = arg;
	__u64 done_at = 0, t;
	int r;

	pin_self(cpu_consumer);
	pfd.fd = c->dst;
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, POLL_MS);
		if (r < 0 && errno != EINTR) {
			perror("vic_bench: poll target eventfd");
			c->err = 1;
			break;
		}
		if (r > 0 && consume_one(c)) {
			c->err = 1;
			break;
		}
		if (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
			continue;
		if (c->covered >= __atomic_load_n(&c->written, __ATOMIC_ACQUIRE))
			break;
		/* The backstop delivers within max_delay_us; allow plenty. */
		t = now_ns();
		if (!done_at) {
			done_at = t;
		} else if (t - done_at > DRAIN_GRACE_NS) {
			if (drain_stuck(c))
				break;
			done_at = t;
		}
	}
	return NULL;
}

/* Busy-wait pacing: completion i is due at start + i / rate. */
static void produce(struct slice *c, __u64 rate, __u64 duration_ns)
{
	__u64 start, end, due, t = 0, one = 1, i;

	start = now_ns();
	end = start + duration_ns;
	for (i = 0; i < c->cap; i++) {
		due = start + i * NSEC_PER_SEC / rate;
		do {
			t = now_ns();
		} while (t < due);
		if (t >= end)
			break;
		c->ts[i] = t;
		if (write(c->src, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
			perror("vic_bench: write source eventfd");
			c->err = 1;
			break;
		}
		__atomic_store_n(&c->written, i + 1, __ATOMIC_RELEASE);
	}
	if (t < end)
		t = now_ns();
	c->n = i;
	c->elapsed_ns = t - start;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v[0..n-1]. */
static __u64 percentile(const __u64 *v, __u64 n, unsigned int pct)
{
	__u64 rank = (n * pct + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

/* Start a loud error line on stderr; the caller prints the rest. */
static void error_loud(const char *what)
{
	failed = true;
	fflush(stdout);
	fprintf(stderr, "vic_bench: ERROR: %s: ", what);
}

/*
 * After the consumer has stopped: collect what is still in flight towards
 * the target (deliveries the module had to defer to a work item) until the
 * interrupts read match the coalescer's count, or a second passes.
 */
static int settle(struct slice *c)
{
	struct pollfd pfd = { .fd = c->dst, .events = POLLIN };
	__u64 deadline = now_ns() + NSEC_PER_SEC, cnt;
	ssize_t r;

	for (;;) {
		r = read(c->dst, &cnt, sizeof(cnt));
		if (r == (ssize_t)sizeof(cnt)) {
			c->intr_read += cnt;
			continue;
		}
		if (r >= 0 || errno != EAGAIN) {
			perror("vic_bench: read target eventfd");
			return -1;
		}
		if (c->vfd < 0) {
			/* No coalescer: what it would have counted. */
			c->st.completions = c->n;
			c->st.interrupts = c->n;
			return 0;
		}
		if (get_stats(c->vfd, &c->st)) {
			perror("vic_bench: VMACCEL_VIC_GET_STATS");
			return -1;
		}
		if (c->st.interrupts <= c->intr_read || now_ns() >= deadline)
			return 0;
		poll(&pfd, 1, POLL_MS);
	}
}

static void check_slice(struct slice *c, const char *label)
{
	if (c->flushed) {
		error_loud(label);
		fprintf(stderr,
			"the backstop left %u completions pending for %llu s after the last one; FLUSH was needed\n",
			c->flushed, DRAIN_GRACE_NS / NSEC_PER_SEC);
	}
	if (c->st.interrupts != c->intr_read) {
		error_loud(label);
		fprintf(stderr,
			"interrupts read from the target eventfd (%llu) != GET_STATS interrupts (%llu)\n",
			c->intr_read, c->st.interrupts);
	}
	if (c->st.completions != c->n) {
		error_loud(label);
		fprintf(stderr,
			"completions written (%llu) != GET_STATS completions (%llu)\n",
			c->n, c->st.completions);
	}
	if (c->covered < c->n || c->st.pending) {
		error_loud(label);
		fprintf(stderr,
			"%llu of %llu completions not seen delivered (GET_STATS pending %u)\n",
			c->n - (c->covered < c->n ? c->covered : c->n), c->n,
			c->st.pending);
	}
}

/* Fold a finished slice into its row's result. */
static void add_slice(struct result *res, const struct slice *c)
{
	__u64 i;

	res->n += c->n;
	res->intr += c->intr_read;
	res->elapsed_ns += c->elapsed_ns;
	res->backstop += c->st.backstop;
	if (c->st.max_delay_ns > res->max_delay_ns)
		res->max_delay_ns = c->st.max_delay_ns;
	res->cur_ratio = c->st.cur_ratio;
	for (i = 0; i < c->n && i < c->covered && res->nr_lat < res->cap_lat; i++)
		res->lat[res->nr_lat++] = c->dt[i] > c->ts[i] ? c->dt[i] - c->ts[i] : 0;
}

static void finish_result(struct result *res)
{
	if (res->elapsed_ns)
		res->achieved = (double)res->n * NSEC_PER_SEC / res->elapsed_ns;
	if (res->n)
		res->intr_per_compl = (double)res->intr / res->n;
	if (!res->nr_lat)
		return;
	qsort(res->lat, res->nr_lat, sizeof(*res->lat), cmp_u64);
	res->p50_us = (double)percentile(res->lat, res->nr_lat, 50) / NSEC_PER_USEC;
	res->p99_us = (double)percentile(res->lat, res->nr_lat, 99) / NSEC_PER_USEC;
}

/* Measure one slice of @slice_ns for row @k at @rate into @res. */
static int run_slice(int dev, const struct options *o,
		     const struct row_kind *k, __u64 rate, __u64 slice_ns,
		     struct result *res)
{
	struct vmaccel_vic_create cr;
	struct vmaccel_vic_cif cif;
	struct slice sl, *c = &sl;
	char label[64];
	pthread_t th;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->src = -1;
	c->dst = -1;
	c->vfd = -1;
	snprintf(label, sizeof(label), "%.23s at %llu/s", k->name, rate);

	c->cap = rate * slice_ns / NSEC_PER_SEC + 2;
	c->ts = calloc(c->cap, sizeof(*c->ts));
	c->dt = calloc(c->cap, sizeof(*c->dt));
	if (!c->ts || !c->dt) {
		fprintf(stderr, "vic_bench: %s: out of memory\n", label);
		goto out;
	}

	c->dst = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->src = k->direct ? dup(c->dst) : eventfd(0, EFD_CLOEXEC);
	if (c->src < 0 || c->dst < 0) {
		perror("vic_bench: eventfd");
		goto out;
	}
	if (k->direct)
		goto run;
	memset(&cr, 0, sizeof(cr));
	cr.flags = VMACCEL_VIC_CREATE_PARAMS;
	cr.src_fd = c->src;
	cr.dst_fd = c->dst;
	cr.params.mode = k->mode;
	cr.params.fixed_ratio = o->fixed_ratio;
	cr.params.cif_threshold = o->cif_threshold;
	cr.params.iops_threshold = o->iops_threshold;
	cr.params.max_delay_us = o->max_delay_us;
	cr.params.max_ratio = o->max_ratio;
	c->vfd = ioctl(dev, VMACCEL_VIC_CREATE, &cr);
	if (c->vfd < 0) {
		fprintf(stderr, "vic_bench: %s: VMACCEL_VIC_CREATE: %s\n",
			label, strerror(errno));
		goto out;
	}
	if (k->set_cif) {
		memset(&cif, 0, sizeof(cif));
		cif.cif = k->qd;
		if (ioctl(c->vfd, VMACCEL_VIC_SET_CIF, &cif)) {
			fprintf(stderr, "vic_bench: %s: VMACCEL_VIC_SET_CIF: %s\n",
				label, strerror(errno));
			goto out;
		}
	}

run:
	errno = pthread_create(&th, NULL, consumer, c);
	if (errno) {
		perror("vic_bench: pthread_create");
		goto out;
	}
	produce(c, rate, slice_ns);
	pthread_join(th, NULL);
	if (c->err)
		goto out;
	if (settle(c))
		goto out;
	check_slice(c, label);
	add_slice(res, c);
	ret = 0;
out:
	if (c->vfd >= 0)
		close(c->vfd);
	if (c->dst >= 0)
		close(c->dst);
	if (c->src >= 0)
		close(c->src);
	free(c->ts);
	free(c->dt);
	return ret;
}

/* "0.13x"; "-" when there is nothing to compare with. */
static const char *vs(char *buf, size_t size, double val, double off)
{
	if (off <= 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2fx", val / off);
	return buf;
}

static void print_header(void)
{
	printf("%8s %9s  %-12s %8s %7s %10s %6s %8s %6s %8s %6s %6s %5s %9s\n",
	       "rate/s", "achieved", "mode", "compl", "intr", "intr/compl",
	       "vs dir", "p50_us", "vs dir", "p99_us", "vs dir", "bkstop",
	       "ratio", "maxdly_us");
}

static void print_row(const struct row_kind *k, __u64 rate,
		      const struct result *r, const struct result *base)
{
	char a[16], b[16], d[16];
	bool short_rate = r->achieved < RATE_SHORTFALL * rate;

	printf("%8llu %8.0f%s  %-12s %8llu %7llu %10.3f %6s %8.1f %6s %8.1f %6s %6llu %5u %9.1f\n",
	       rate, r->achieved, short_rate ? "*" : " ", k->name, r->n,
	       r->intr, r->intr_per_compl,
	       vs(a, sizeof(a), r->intr_per_compl, base ? base->intr_per_compl : 0),
	       r->p50_us, vs(b, sizeof(b), r->p50_us, base ? base->p50_us : 0),
	       r->p99_us, vs(d, sizeof(d), r->p99_us, base ? base->p99_us : 0),
	       r->backstop, r->cur_ratio,
	       (double)r->max_delay_ns / NSEC_PER_USEC);
}

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: vic_bench [options]\n"
		"  -r, --rates LIST        completion rates per second (default 2000,10000,50000,200000)\n"
		"  -d, --duration SEC      measuring time per row and rate (default 1.0)\n"
		"  -n, --rounds N          split it into N slices; the rows take turns slice by\n"
		"                          slice, so that noise hits them alike (default 4)\n"
		"  -q, --qd LIST           queue depths of the simulated device; one adaptive\n"
		"                          row each, reported with SET_CIF (default 1,32)\n"
		"      --max-delay US      backstop max_delay_us (default 200)\n"
		"      --fixed-ratio N     completions per interrupt in fixed mode (default 8)\n"
		"      --cif-threshold N   adaptive cif_threshold (default 4)\n"
		"      --iops-threshold N  adaptive iops_threshold (default 2000)\n"
		"      --max-ratio N       adaptive max_ratio (default 32)\n"
		"      --quick             short run for the demo: rates 2000,10000,50000, 0.4 s\n"
		"  -h, --help              this text\n"
		"Needs the vmaccel_vic module (%s).\n", VIC_DEV);
}

static int parse_u64(const char *s, __u64 min, __u64 max, __u64 *val)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*val = strtoull(s, &end, 10);
	if (errno || *end || *val < min || *val > max)
		return -1;
	return 0;
}

static int parse_u32(const char *s, __u32 min, __u32 max, __u32 *val)
{
	__u64 v;

	if (parse_u64(s, min, max, &v))
		return -1;
	*val = v;
	return 0;
}

/* Comma-separated list of numbers in [min, max]; returns the count or -1. */
static int parse_list(const char *s, __u64 min, __u64 max, __u64 *out, int n)
{
	char buf[256], *tok, *save;
	int i = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (i == n || parse_u64(tok, min, max, &out[i]))
			return -1;
		i++;
	}
	return i ? i : -1;
}

enum {
	OPT_MAX_DELAY = 256,
	OPT_FIXED_RATIO,
	OPT_CIF_THRESHOLD,
	OPT_IOPS_THRESHOLD,
	OPT_MAX_RATIO,
	OPT_QUICK,
};

static const struct option long_opts[] = {
	{ "rates", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rounds", required_argument, NULL, 'n' },
	{ "qd", required_argument, NULL, 'q' },
	{ "max-delay", required_argument, NULL, OPT_MAX_DELAY },
	{ "fixed-ratio", required_argument, NULL, OPT_FIXED_RATIO },
	{ "cif-threshold", required_argument, NULL, OPT_CIF_THRESHOLD },
	{ "iops-threshold", required_argument, NULL, OPT_IOPS_THRESHOLD },
	{ "max-ratio", required_argument, NULL, OPT_MAX_RATIO },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const __u64 def_rates[] = { 2000, 10000, 50000, 200000 };
	static const __u64 quick_rates[] = { 2000, 10000, 50000 };
	bool rates_set = false, duration_set = false, quick = false;
	__u64 qds[MAX_QDS];
	double sec;
	char *end;
	int opt, i, n;

	memset(o, 0, sizeof(*o));
	o->duration_ns = NSEC_PER_SEC;
	o->rounds = 4;
	o->qds[0] = 1;
	o->qds[1] = 32;
	o->nr_qds = 2;
	o->max_delay_us = 200;
	o->fixed_ratio = 8;
	o->cif_threshold = 4;
	o->iops_threshold = 2000;
	o->max_ratio = 32;

	while ((opt = getopt_long(argc, argv, "r:d:n:q:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o->nr_rates = parse_list(optarg, 1, 100000000,
						 o->rates, MAX_RATES);
			if (o->nr_rates < 0)
				goto bad;
			rates_set = true;
			break;
		case 'd':
			errno = 0;
			sec = strtod(optarg, &end);
			if (errno || *end || !(sec >= 0.01 && sec <= 3600))
				goto bad;
			o->duration_ns = (__u64)(sec * NSEC_PER_SEC);
			duration_set = true;
			break;
		case 'n':
			if (parse_u32(optarg, 1, 1000, &o->rounds))
				goto bad;
			break;
		case 'q':
			n = parse_list(optarg, 0, 1000000, qds, MAX_QDS);
			if (n < 0)
				goto bad;
			for (i = 0; i < n; i++)
				o->qds[i] = qds[i];
			o->nr_qds = n;
			break;
		case OPT_MAX_DELAY:
			if (parse_u32(optarg, VMACCEL_VIC_DELAY_US_MIN,
				      VMACCEL_VIC_DELAY_US_MAX, &o->max_delay_us))
				goto bad;
			break;
		case OPT_FIXED_RATIO:
			if (parse_u32(optarg, 1, VMACCEL_VIC_RATIO_MAX,
				      &o->fixed_ratio))
				goto bad;
			break;
		case OPT_CIF_THRESHOLD:
			if (parse_u32(optarg, 0, VMACCEL_VIC_CIF_THRESHOLD_MAX,
				      &o->cif_threshold))
				goto bad;
			break;
		case OPT_IOPS_THRESHOLD:
			if (parse_u32(optarg, 0, VMACCEL_VIC_IOPS_THRESHOLD_MAX,
				      &o->iops_threshold))
				goto bad;
			break;
		case OPT_MAX_RATIO:
			if (parse_u32(optarg, 1, VMACCEL_VIC_RATIO_MAX,
				      &o->max_ratio))
				goto bad;
			break;
		case OPT_QUICK:
			quick = true;
			break;
		case 'h':
			print_help(stdout);
			exit(0);
		default:
			print_help(stderr);
			exit(2);
		}
	}
	if (optind != argc)
		goto bad_arg;
	if (!rates_set) {
		const __u64 *r = quick ? quick_rates : def_rates;

		o->nr_rates = quick ? 3 : 4;
		for (i = 0; i < o->nr_rates; i++)
			o->rates[i] = r[i];
	}
	if (quick && !duration_set)
		o->duration_ns = 400 * NSEC_PER_MSEC;
	for (i = 0; i < o->nr_rates; i++) {
		if (o->rates[i] * o->duration_ns / NSEC_PER_SEC > MAX_COMPLETIONS) {
			fprintf(stderr,
				"vic_bench: more than %llu completions per row; lower --rates or --duration\n",
				MAX_COMPLETIONS);
			exit(2);
		}
	}
	if (o->duration_ns / o->rounds < 10 * NSEC_PER_MSEC) {
		fprintf(stderr, "vic_bench: slices shorter than 10 ms; lower --rounds\n");
		exit(2);
	}
	return 0;
bad:
	fprintf(stderr, "vic_bench: bad option value '%s'\n", optarg);
	print_help(stderr);
	exit(2);
bad_arg:
	fprintf(stderr, "vic_bench: unexpected argument '%s'\n", argv[optind]);
	print_help(stderr);
	exit(2);
}

static int build_rows(const struct options *o, struct row_kind *rows)
{
	int n = 0, i;

	memset(rows, 0, sizeof(*rows) * (o->nr_qds + 4));
	snprintf(rows[n].name, sizeof(rows[n].name), "direct");
	rows[n++].direct = true;
	snprintf(rows[n].name, sizeof(rows[n].name), "off");
	rows[n++].mode = VMACCEL_VIC_MODE_OFF;
	snprintf(rows[n].name, sizeof(rows[n].name), "fixed/%u",
		 o->fixed_ratio);
	rows[n++].mode = VMACCEL_VIC_MODE_FIXED;
	for (i = 0; i < o->nr_qds; i++) {
		snprintf(rows[n].name, sizeof(rows[n].name), "adapt qd=%u",
			 o->qds[i]);
		rows[n].mode = VMACCEL_VIC_MODE_ADAPTIVE;
		rows[n].set_cif = true;
		rows[n++].qd = o->qds[i];
	}
	snprintf(rows[n].name, sizeof(rows[n].name), "adapt est");
	rows[n++].mode = VMACCEL_VIC_MODE_ADAPTIVE;
	return n;
}

/* All rows at one rate, slice by slice, then their table lines. */
static int run_rate(int dev, const struct options *o,
		    const struct row_kind *rows, int nr_rows, __u64 rate)
{
	struct result res[MAX_QDS + 4];
	__u64 slice_ns = o->duration_ns / o->rounds;
	const struct result *base = NULL;
	int i, j, ret = -1;
	__u32 r;

	memset(res, 0, sizeof(res));
	for (j = 0; j < nr_rows; j++) {
		res[j].cap_lat = (rate * slice_ns / NSEC_PER_SEC + 2) * o->rounds;
		res[j].lat = calloc(res[j].cap_lat, sizeof(*res[j].lat));
		if (!res[j].lat) {
			fprintf(stderr, "vic_bench: out of memory\n");
			goto out;
		}
	}
	/* Rotate the order every round: no row is always first. */
	for (r = 0; r < o->rounds; r++) {
		for (i = 0; i < nr_rows; i++) {
			j = (i + r) % nr_rows;
			if (run_slice(dev, o, &rows[j], rate, slice_ns, &res[j]))
				goto out;
		}
	}
	for (j = 0; j < nr_rows; j++) {
		finish_result(&res[j]);
		if (rows[j].direct)
			base = &res[j];
		print_row(&rows[j], rate, &res[j], base);
	}
	ret = 0;
out:
	for (j = 0; j < nr_rows; j++)
		free(res[j].lat);
	return ret;
}

int main(int argc, char **argv)
{
	struct row_kind rows[MAX_QDS + 4];
	struct options o;
	int dev, nr_rows, i;

	parse_options(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);

	dev = open(VIC_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr,
			"vic_bench: cannot open %s: %s (is the vmaccel_vic module loaded?)\n",
			VIC_DEV, strerror(errno));
		return 1;
	}
	pick_cpus();
	pin_self(cpu_producer);
	nr_rows = build_rows(&o, rows);

	fprintf(stdout,
		"vic_bench: params max_delay_us=%u fixed_ratio=%u cif_threshold=%u iops_threshold=%u max_ratio=%u\n",
		o.max_delay_us, o.fixed_ratio, o.cif_threshold,
		o.iops_threshold, o.max_ratio);
	printf("vic_bench: %.2f s per row and rate, in %u slices taking turns; ",
	       (double)o.duration_ns / NSEC_PER_SEC, o.rounds);
	if (cpu_producer >= 0)
		printf("producer on cpu %d, consumer on cpu %d\n",
		       cpu_producer, cpu_consumer);
	else
		printf("producer and consumer share one cpu\n");
	fprintf(stdout, "%s%s%s",
		"vic_bench: latency: write() of a completion to the read() of the first interrupt covering it\n",
		"vic_bench: vs dir: this row / the direct row at the same rate (direct: no coalescer, one interrupt per completion, as upstream)\n",
		"vic_bench: off: through a coalescer that does not coalesce; its latency vs dir is the cost of the hop\n\n");
	print_header();

	for (i = 0; i < o.nr_rates; i++) {
		if (run_rate(dev, &o, rows, nr_rows, o.rates[i])) {
			close(dev);
			fprintf(stderr, "vic_bench: aborted\n");
			return 1;
		}
	}
	close(dev);

	fprintf(stdout, "%s%s%s",
		"\nintr/compl: interrupts per completion; bkstop: interrupts raised by the backstop timer;\n",
		"ratio: completions per interrupt in effect at the end (GET_STATS cur_ratio);\n",
		"maxdly_us: longest wait of a completion as the coalescer measured it (GET_STATS max_delay_ns);\n");
	printf("* achieved rate below %.0f%% of the target (this machine could not go faster)\n",
	       RATE_SHORTFALL * 100);
	for (i = 0; i < o.nr_qds; i++) {
		if (o.qds[i] > o.cif_threshold)
			continue;
		fprintf(stdout,
			"adapt qd=%u: CIF %u <= cif_threshold never coalesces, just like off: its latency against off\n",
			o.qds[i], o.qds[i]);
		fprintf(stdout,
			"             shows how much of a latency difference is this machine's noise\n");
		break;
	}
	if (failed) {
		fprintf(stdout,
			"vic_bench: FAILED: the coalescer's accounting disagrees with what was observed (see the errors above)\n");
		return 1;
	}
	return 0;
}
