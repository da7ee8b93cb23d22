// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: teardown under traffic.  Rounds of chained
 * coalescers (a -> b -> c -> d, fans from one source, semaphore sources
 * drained by the work item) carry traffic from a thread on every CPU
 * (writes at every level, FLUSH, SET_CIF, SET_PARAMS with 1 us backstops
 * firing in hard interrupt context) while the main thread closes the
 * coalescers, and sometimes their eventfds first, in a random order.  Each
 * close frees the coalescer at once, so any access to it after release
 * (a late irq_work, timer, work item or wake-up) is a use-after-free that
 * KASAN reports: the test fails when the kernel log gains a report while
 * it runs, when a close fails, when a coalescer outlives its fd, or when
 * a closed coalescer still consumes its source.
 *
 * Bounded by VMACCEL_TEARDOWN_SECS (default 20) and VMACCEL_TEARDOWN_ROUNDS
 * (default 3000; 300 with VMACCEL_TIER=debug); VMACCEL_TEARDOWN_SEED
 * replays an order.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "vic_util.h"

#define TD_MAX_EFDS	16
#define TD_MAX_COAL	12
#define TD_MAX_WORKERS	8

/* One round's coalescers and eventfds; written by the main thread only. */
struct td_round {
	int efd[TD_MAX_EFDS];
	bool sem[TD_MAX_EFDS];
	int nefd;
	int co[TD_MAX_COAL];
	int co_src[TD_MAX_COAL];	/* index in efd[] */
	int nco;
};

struct td_shared {
	struct td_round r;		/* stable while workers run */
	pthread_barrier_t start, end;
	atomic_bool stop;		/* end of the round's traffic */
	atomic_bool done;		/* no more rounds */
};

struct td_worker {
	pthread_t thread;
	struct td_shared *sh;
	int cpu;
	__u32 seed;
	unsigned long ops;
	unsigned long errors;
	int last_errno;
};

static __u32 td_rand(__u32 *seed)
{
	*seed = *seed * 1103515245U + 12345U;
	return *seed >> 8;
}

/* Valid parameters that defer and fire backstops often. */
static struct vmaccel_vic_params td_params(__u32 r)
{
	switch (r % 4) {
	case 0:
		return vic_params_off();
	case 1:
		return vic_params_fixed(2 + r % 3, VMACCEL_VIC_DELAY_US_MIN);
	case 2:
		return vic_params_fixed(VMACCEL_VIC_RATIO_MAX, 1 + (r >> 4) % 20);
	default:
		return vic_params(VMACCEL_VIC_MODE_ADAPTIVE, 4, 1, 0,
				  1 + (r >> 4) % 10, 32);
	}
}

/* EBADF is expected: the main thread closes fds under the workers. */
static void td_count(struct td_worker *w, int ret)
{
	w->ops++;
	if (ret < 0 && errno != EBADF) {
		w->errors++;
		w->last_errno = errno;
	}
}

static void td_traffic(struct td_worker *w)
{
	const struct td_round *r = &w->sh->r;
	struct vmaccel_vic_params p;
	__u32 x = td_rand(&w->seed);
	int i;

	if (x % 10 < 7 || !r->nco) {
		i = (x >> 4) % r->nefd;
		td_count(w, vic_signal(r->efd[i], r->sem[i] && !(x & 0x300) ?
					       300 : 1));
		return;
	}
	i = (x >> 4) % r->nco;
	switch (x % 10) {
	case 7:
		td_count(w, vic_flush(r->co[i]));
		break;
	case 8:
		td_count(w, vic_set_cif(r->co[i], (x >> 8) % 64));
		break;
	default:
		p = td_params(x >> 8);
		td_count(w, vic_set_params(r->co[i], &p));
		break;
	}
}

static void *td_worker_fn(void *arg)
{
	struct td_worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
	for (;;) {
		pthread_barrier_wait(&w->sh->start);
		if (atomic_load(&w->sh->done))
			return NULL;
		while (!atomic_load(&w->sh->stop))
			td_traffic(w);
		pthread_barrier_wait(&w->sh->end);
	}
}

/*
 * Up to three chains of 1-4 coalescers (the longest allowed), sometimes a
 * second coalescer on a chain's middle eventfd, some sources in semaphore
 * mode.  Returns 0, or -1 with errno if an fd could not be made.
 */
static int td_build(int dev, struct td_round *r, __u32 *seed)
{
	int chains = 1 + td_rand(seed) % 3, c, k, len, first;
	struct vmaccel_vic_params p;
	__u32 x;

	memset(r, 0, sizeof(*r));
	for (c = 0; c < chains; c++) {
		len = 1 + td_rand(seed) % 4;
		if (r->nefd + len + 2 > TD_MAX_EFDS || r->nco + len + 1 > TD_MAX_COAL)
			break;
		first = r->nefd;
		for (k = 0; k <= len; k++) {
			x = td_rand(seed);
			r->sem[r->nefd] = x % 4 == 0;
			r->efd[r->nefd] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC |
					  (r->sem[r->nefd] ? EFD_SEMAPHORE : 0));
			if (r->efd[r->nefd] < 0)
				return -1;
			r->nefd++;
		}
		for (k = 0; k < len; k++) {
			p = td_params(td_rand(seed));
			r->co_src[r->nco] = first + k;
			r->co[r->nco] = vic_create(dev, r->efd[first + k],
						   r->efd[first + k + 1], &p);
			if (r->co[r->nco] < 0)
				return -1;
			r->nco++;
		}
		/* A fan: a second coalescer on the chain's first source. */
		if (td_rand(seed) % 2) {
			r->efd[r->nefd] = vic_eventfd();
			if (r->efd[r->nefd] < 0)
				return -1;
			p = td_params(td_rand(seed));
			r->co_src[r->nco] = first;
			r->co[r->nco] = vic_create(dev, r->efd[first],
						   r->efd[r->nefd], &p);
			r->nefd++;
			if (r->co[r->nco] < 0)
				return -1;
			r->nco++;
		}
	}
	return 0;
}

static void td_shuffle(int *a, int n, __u32 *seed)
{
	int i, j, t;

	for (i = n - 1; i > 0; i--) {
		j = td_rand(seed) % (i + 1);
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* A pause of 0-63 us, busy: sleeping would let the traffic settle. */
static void td_spin_us(unsigned int us)
{
	__u64 end = vic_now_ns() + us * 1000ULL;

	while (vic_now_ns() < end)
		;
}

/* First kernel log record since @fd was opened that is a report, if any. */
static bool td_kmsg_report(int fd, char *rec, size_t size)
{
	static const char * const bad[] = {
		"KASAN", "BUG:", "WARNING:", "general protection",
		"Oops", "refcount_t:",
	};
	unsigned int i;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, size - 1);
		if (n < 0) {
			if (errno == EPIPE)
				continue;
			return false;
		}
		rec[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(bad); i++)
			if (strstr(rec, bad[i]))
				return true;
	}
}

static unsigned long td_env(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

/* Does the running kernel have KASAN (its report function is in kallsyms)? */
static bool td_kasan(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_report\n");
	fclose(f);
	return found;
}

FIXTURE(td) {
	int dev;
	int kmsg;
};

FIXTURE_SETUP(td)
{
	self->kmsg = -1;
	self->dev = vic_open_dev();
	ASSERT_LE(0, self->dev)
		TH_LOG("open %s: %s (is vmaccel_vic loaded?)", VIC_DEV,
		       strerror(errno));
	/* The kernel log is half the verdict: no log, no test. */
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg)
		TH_LOG("open /dev/kmsg: %s", strerror(errno));
	lseek(self->kmsg, 0, SEEK_END);
	if (!td_kasan())
		TH_LOG("no KASAN here: a use-after-free shows only if it corrupts something");
}

FIXTURE_TEARDOWN(td)
{
	if (self->kmsg >= 0)
		close(self->kmsg);
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * Close every coalescer of a round in a random order (in some rounds its
 * eventfds first, so their last close wakes the coalescers with EPOLLHUP)
 * while traffic runs on every CPU, thousands of times.
 */
TEST_F_TIMEOUT(td, close_chains_under_traffic, 600)
{
	const char *tier = getenv("VMACCEL_TIER");
	bool debug = tier && !strcmp(tier, "debug");
	unsigned long max_rounds = td_env("VMACCEL_TEARDOWN_ROUNDS",
					  debug ? 300 : 3000);
	unsigned long secs = td_env("VMACCEL_TEARDOWN_SECS", 20);
	__u32 seed = (__u32)td_env("VMACCEL_TEARDOWN_SEED", (unsigned long)time(NULL));
	unsigned long rounds = 0, closes = 0, hups = 0, ops = 0, errors = 0;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), nw, i, k;
	struct vic_totals t0, t1;
	struct td_worker w[TD_MAX_WORKERS];
	struct td_shared sh;
	int order[TD_MAX_COAL];
	bool reported = false;
	__u64 deadline;
	char rec[1024];
	__s64 left;

	TH_LOG("seed %u, at most %lu rounds or %lu s", seed, max_rounds, secs);
	ASSERT_EQ(0, vic_totals_read(&t0));
	nw = ncpu < 2 ? 2 : ncpu;
	if (nw > TD_MAX_WORKERS)
		nw = TD_MAX_WORKERS;
	memset(&sh, 0, sizeof(sh));
	ASSERT_EQ(0, pthread_barrier_init(&sh.start, NULL, nw + 1));
	ASSERT_EQ(0, pthread_barrier_init(&sh.end, NULL, nw + 1));
	for (i = 0; i < nw; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].sh = &sh;
		w[i].cpu = i % (ncpu > 0 ? ncpu : 1);
		w[i].seed = seed + 7919U * (i + 1);
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, td_worker_fn,
					    &w[i]));
	}

	deadline = vic_now_ns() + secs * VIC_NSEC_PER_SEC;
	while (rounds < max_rounds && vic_now_ns() < deadline) {
		bool hup = td_rand(&seed) % 4 == 0;

		ASSERT_EQ(0, td_build(self->dev, &sh.r, &seed))
			TH_LOG("round %lu: %s", rounds, strerror(errno));
		atomic_store(&sh.stop, false);
		pthread_barrier_wait(&sh.start);

		td_spin_us(td_rand(&seed) % 64);
		if (hup) {
			/* Sources closed first: EPOLLHUP, then the coalescer. */
			for (k = 0; k < sh.r.nefd; k++) {
				if (td_rand(&seed) % 2)
					continue;
				ASSERT_EQ(0, close(sh.r.efd[k]));
				sh.r.efd[k] = -1;
				hups++;
			}
		}
		for (k = 0; k < sh.r.nco; k++)
			order[k] = k;
		td_shuffle(order, sh.r.nco, &seed);
		for (k = 0; k < sh.r.nco; k++) {
			i = order[k];
			if (td_rand(&seed) % 2)
				td_spin_us(td_rand(&seed) % 32);
			ASSERT_EQ(0, close(sh.r.co[i]))
				TH_LOG("close: %s", strerror(errno));
			closes++;
		}

		atomic_store(&sh.stop, true);
		pthread_barrier_wait(&sh.end);

		/* Closed coalescers leave their sources alone. */
		for (k = 0; k < sh.r.nco; k++) {
			int s = sh.r.efd[sh.r.co_src[k]];

			if (s < 0)
				continue;
			ASSERT_EQ(0, vic_signal(s, 1));
			left = vic_take(s);
			ASSERT_LT(0, left);
		}
		for (k = 0; k < sh.r.nefd; k++)
			if (sh.r.efd[k] >= 0)
				ASSERT_EQ(0, close(sh.r.efd[k]));
		rounds++;
		if (td_kmsg_report(self->kmsg, rec, sizeof(rec))) {
			TH_LOG("round %lu: kernel report: %s", rounds, rec);
			reported = true;
			break;
		}
	}
	atomic_store(&sh.done, true);
	pthread_barrier_wait(&sh.start);
	for (i = 0; i < nw; i++) {
		pthread_join(w[i].thread, NULL);
		ops += w[i].ops;
		errors += w[i].errors;
		if (w[i].errors)
			TH_LOG("worker %d: %lu errors, last %s", i,
			       w[i].errors, strerror(w[i].last_errno));
	}
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.end);

	ASSERT_EQ(0, vic_totals_read(&t1));
	TH_LOG("%lu rounds, %lu coalescers closed, %lu eventfds closed first",
	       rounds, closes, hups);
	TH_LOG("%lu ops on %d CPUs, %llu backstops", ops, ncpu,
	       (unsigned long long)(t1.backstop - t0.backstop));
	EXPECT_EQ(0UL, errors);
	EXPECT_LT(0UL, rounds);
	/* Every coalescer is gone with its fd. */
	EXPECT_EQ(t0.coalescers, t1.coalescers);
	/* The hard-irq backstop was part of the race. */
	EXPECT_LT(t0.backstop, t1.backstop);
	if (!reported && td_kmsg_report(self->kmsg, rec, sizeof(rec))) {
		TH_LOG("kernel report: %s", rec);
		reported = true;
	}
	EXPECT_FALSE(reported);
}

TEST_HARNESS_MAIN
