/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The framework of the vmaccel ioctl fuzzers (selftests/<mod>/<mod>_fuzz_test.c).
 *
 * A fuzzer keeps its module-specific state in its own struct, which embeds
 * a struct vmaccel_fuzz (the run: phase, seed, time bound, failure log,
 * errno histogram), and gives each thread a struct that starts with a
 * struct vmaccel_fuzz_thread (random state, pointer arena, the thread's own
 * histogram).  What it mutates and what it predicts stays in the test; this
 * header does the rest:
 *
 * - output: errno names, errno sets, the failure log (checked at the end of
 *   a phase), the per-call errno histogram printed as "fuzz: ..." lines;
 * - randomness: xorshift per thread seeded by splitmix from the run's seed
 *   (VMACCEL_FUZZ_SEED replays a run);
 * - the arena every pointer argument points into: two read-write pages, a
 *   read-only page holding one valid structure, and a PROT_NONE page, and
 *   the pointer kinds built from it (straddling, NULL, kernel, ...);
 * - the fd pool's fixed numbers: setup of the numbers (free, below the
 *   limit, 0-2 kept open), placing an fd at its number, bad fd numbers,
 *   the fd-leak check;
 * - phases: time bound (VMACCEL_FUZZ_SECS), operation count
 *   (VMACCEL_FUZZ_ITERS), starting workers and helper threads (the one
 *   that closes fds during use) and joining them before anything is
 *   asserted.
 *
 * Include after "kselftest_harness.h" (the <mod>_util.h of the test).
 */
#ifndef VMACCEL_FUZZ_H
#define VMACCEL_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

/* Histogram columns; larger errnos share the last. */
#define VMACCEL_FUZZ_NR_ERRNO	160
/* Histogram rows (calls of a fuzzer) at the most. */
#define VMACCEL_FUZZ_MAX_CALLS	16
/* Failures kept for the log; all are counted. */
#define VMACCEL_FUZZ_MAX_FAILS	8
#define VMACCEL_FUZZ_MSG_LEN	320

/* An errno as a bit of a set of expected results; bit 0 is success. */
#define VMACCEL_FUZZ_B(e)	(1ULL << (e))

struct vmaccel_fuzz_thread;

/*
 * Pool slot states: a slot's fd number is open exactly while it is FULL;
 * a thread claims a slot (BUSY) to open or close its fd.
 */
enum { VMACCEL_FUZZ_EMPTY, VMACCEL_FUZZ_BUSY, VMACCEL_FUZZ_FULL };

/**
 * struct vmaccel_fuzz_ops - what the framework calls in the fuzzer
 * @nr_slots: slots in the fd pool
 * @state: the state of slot @i (VMACCEL_FUZZ_EMPTY, ...)
 * @fill: open an fd of slot @i's kind into it, if it is empty
 * @close: close slot @i's fd, if it is full
 * @step: one random operation of a worker
 * @time_every: the clock is read every so many operations
 * @closer_pause_ms: the closer thread sleeps up to this between two
 *	closes (0: yields)
 */
struct vmaccel_fuzz_ops {
	int nr_slots;

	atomic_int *(*state)(struct vmaccel_fuzz_thread *t, int i);
	void (*fill)(struct vmaccel_fuzz_thread *t, int i);
	void (*close)(struct vmaccel_fuzz_thread *t, int i);
	void (*step)(struct vmaccel_fuzz_thread *t);
	unsigned long time_every;
	unsigned int closer_pause_ms;
};

/**
 * struct vmaccel_fuzz - one fuzzing run (both phases)
 * @ops: the fuzzer's pool and operations
 * @nr_workers: worker threads of the chaos phase
 * @racy: chaos phase: several threads, predictions are wider
 * @faulty: allocations fail at random (the debug tier's fault pass)
 * @seed: of the run, printed for a replay
 * @iters: operations per phase
 * @deadline: CLOCK_MONOTONIC ns when the phase stops at the latest
 * @timed_out: the phase was stopped by @deadline
 * @low_fd: lowest free fd number before the phase (the leak check)
 * @stop: tells helper threads to stop
 * @closes: pool fds closed
 * @nr_calls: rows of @count in use
 * @call_names: names of the rows
 * @lock: protects @nfail and @fail
 * @nfail: unexpected results
 * @fail: the first of them
 * @count: calls by row and errno, summed from the threads
 */
struct vmaccel_fuzz {
	const struct vmaccel_fuzz_ops *ops;
	int nr_workers;
	bool racy;
	bool faulty;
	__u64 seed;
	unsigned long iters;
	__u64 deadline;
	atomic_bool timed_out;
	int low_fd;
	atomic_bool stop;
	atomic_ulong closes;
	unsigned int nr_calls;
	const char * const *call_names;
	pthread_mutex_t lock;
	unsigned int nfail;
	char fail[VMACCEL_FUZZ_MAX_FAILS][VMACCEL_FUZZ_MSG_LEN];
	unsigned long count[VMACCEL_FUZZ_MAX_CALLS][VMACCEL_FUZZ_NR_ERRNO];
};

/**
 * struct vmaccel_fuzz_thread - what each fuzzing thread owns
 * @run: the run
 * @tid: the thread, when started by vmaccel_fuzz_run_threads()
 * @rng: xorshift state, never 0
 * @arena: 4 pages: RW, RW, RO (one valid structure), PROT_NONE
 * @pg: page size
 * @count: calls of this thread by row and errno
 */
struct vmaccel_fuzz_thread {
	struct vmaccel_fuzz *run;
	pthread_t tid;
	__u64 rng;
	unsigned char *arena;
	size_t pg;
	unsigned long count[VMACCEL_FUZZ_MAX_CALLS][VMACCEL_FUZZ_NR_ERRNO];
};

/* --- output --- */

static inline void vmaccel_fuzz_msg(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ksft_print_msg("%s\n", buf);
	fflush(stdout);
}

static inline const char *vmaccel_fuzz_errname(int e)
{
	static const char * const names[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [EINTR] = "EINTR",
		[EIO] = "EIO", [EBADF] = "EBADF", [EAGAIN] = "EAGAIN",
		[ENOMEM] = "ENOMEM", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [EINVAL] = "EINVAL",
		[ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY",
		[ENOSPC] = "ENOSPC", [EPIPE] = "EPIPE", [ERANGE] = "ERANGE",
		[ENODATA] = "ENODATA", [EOVERFLOW] = "EOVERFLOW",
	};
	static __thread char other[24];

	if (e == 0)
		return "0";
	if (e > 0 && e < (int)ARRAY_SIZE(names) && names[e])
		return names[e];
	snprintf(other, sizeof(other), "errno %d", e);
	return other;
}

/* The set @mask of VMACCEL_FUZZ_B() bits as "0,EINVAL,..." in @buf. */
static inline void vmaccel_fuzz_mask_str(__u64 mask, char *buf, size_t size)
{
	size_t len = 0;
	int e;

	buf[0] = '\0';
	for (e = 0; e < 64 && len < size; e++)
		if (mask & VMACCEL_FUZZ_B(e))
			len += snprintf(buf + len, size - len, "%s%s",
					len ? "," : "", vmaccel_fuzz_errname(e));
}

/* Log an unexpected result; the phase fails at its end. */
static inline void vmaccel_fuzz_fail(struct vmaccel_fuzz *fz, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fz->lock);
	if (fz->nfail < VMACCEL_FUZZ_MAX_FAILS) {
		va_start(ap, fmt);
		vsnprintf(fz->fail[fz->nfail], VMACCEL_FUZZ_MSG_LEN, fmt, ap);
		va_end(ap);
	}
	fz->nfail++;
	pthread_mutex_unlock(&fz->lock);
}

static inline void vmaccel_fuzz_count(struct vmaccel_fuzz_thread *t, int call,
				      int err)
{
	if (err < 0 || err >= VMACCEL_FUZZ_NR_ERRNO)
		err = VMACCEL_FUZZ_NR_ERRNO - 1;
	t->count[call][err]++;
}

/*
 * Print the histogram of the phase: one line with the calls by errno, one
 * line per call.  The fuzzer prints its own totals after it.
 */
static inline void vmaccel_fuzz_report(struct vmaccel_fuzz *fz,
				       const char *phase)
{
	unsigned long calls = 0, sum[VMACCEL_FUZZ_NR_ERRNO] = { 0 }, n;
	unsigned int i;
	const char *sep;
	char line[768];
	size_t len;
	int e;

	for (i = 0; i < fz->nr_calls; i++)
		for (e = 0; e < VMACCEL_FUZZ_NR_ERRNO; e++) {
			sum[e] += fz->count[i][e];
			calls += fz->count[i][e];
		}
	len = snprintf(line, sizeof(line), "fuzz: %lu calls (%s)", calls, phase);
	sep = ";";
	for (e = 0; e < VMACCEL_FUZZ_NR_ERRNO; e++)
		if (sum[e] && len < sizeof(line)) {
			len += snprintf(line + len, sizeof(line) - len, "%s %s: %lu",
					sep, vmaccel_fuzz_errname(e), sum[e]);
			sep = ",";
		}
	vmaccel_fuzz_msg("%s", line);
	for (i = 0; i < fz->nr_calls; i++) {
		n = 0;
		for (e = 0; e < VMACCEL_FUZZ_NR_ERRNO; e++)
			n += fz->count[i][e];
		len = snprintf(line, sizeof(line), "fuzz:   %-10s %7lu",
			       fz->call_names[i], n);
		for (e = 0; e < VMACCEL_FUZZ_NR_ERRNO; e++)
			if (fz->count[i][e] && len < sizeof(line))
				len += snprintf(line + len, sizeof(line) - len,
						" %s: %lu", vmaccel_fuzz_errname(e),
						fz->count[i][e]);
		vmaccel_fuzz_msg("%s", line);
	}
}

/* "; stopped by the time bound" for the fuzzer's totals line, or "". */
static inline const char *vmaccel_fuzz_timed_out_str(struct vmaccel_fuzz *fz)
{
	return atomic_load(&fz->timed_out) ? "; stopped by the time bound" : "";
}

/* --- randomness --- */

static inline __u64 vmaccel_fuzz_splitmix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline __u64 vmaccel_fuzz_rand(struct vmaccel_fuzz_thread *t)
{
	__u64 x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A random number below @n (> 0). */
static inline unsigned int vmaccel_fuzz_below(struct vmaccel_fuzz_thread *t,
					      unsigned int n)
{
	return (unsigned int)(vmaccel_fuzz_rand(t) % n);
}

static inline bool vmaccel_fuzz_chance(struct vmaccel_fuzz_thread *t,
				       unsigned int percent)
{
	return vmaccel_fuzz_below(t, 100) < percent;
}

/* @v with one random bit flipped, with @percent chance. */
static inline __u32 vmaccel_fuzz_flip(struct vmaccel_fuzz_thread *t, __u32 v,
				      unsigned int percent)
{
	if (vmaccel_fuzz_chance(t, percent))
		v ^= 1U << vmaccel_fuzz_below(t, 32);
	return v;
}

/*
 * An ioctl command: usually @cmd, else one next to it: another direction,
 * another size (one of the @nr_sizes @sizes), another number (in the
 * module's range [@nr_base, @nr_base + @nr_span) or anywhere), or one bit
 * flipped outside the type byte.
 */
static inline unsigned long vmaccel_fuzz_cmd(struct vmaccel_fuzz_thread *t,
					     unsigned long cmd,
					     const unsigned int *sizes,
					     unsigned int nr_sizes,
					     unsigned int nr_base,
					     unsigned int nr_span)
{
	unsigned int bit;

	if (vmaccel_fuzz_chance(t, 85))
		return cmd;
	switch (vmaccel_fuzz_below(t, 4)) {
	case 0:		/* another direction */
		return _IOC(vmaccel_fuzz_below(t, 4), _IOC_TYPE(cmd),
			    _IOC_NR(cmd), _IOC_SIZE(cmd));
	case 1:		/* another size */
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd),
			    sizes[vmaccel_fuzz_below(t, nr_sizes)]);
	case 2:		/* another number, in the module's range or anywhere */
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd),
			    vmaccel_fuzz_chance(t, 50) ?
			    nr_base + vmaccel_fuzz_below(t, nr_span) :
			    vmaccel_fuzz_below(t, 256),
			    _IOC_SIZE(cmd));
	default:	/* one bit flipped, outside the type byte */
		bit = vmaccel_fuzz_below(t, 24);
		return cmd ^ (1UL << (bit < 8 ? bit : bit + 8));
	}
}

/* --- time and environment --- */

static inline __u64 vmaccel_fuzz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline __u64 vmaccel_fuzz_env(const char *name, __u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/*
 * Start a phase: the time bound from VMACCEL_FUZZ_SECS (@def_secs without
 * it) and the line that tells how to replay it.
 */
static inline void vmaccel_fuzz_start(struct vmaccel_fuzz *fz,
				      const char *phase, __u64 def_secs)
{
	static const char fmt[] =
		"fuzz: %s: seed %llu (replay: VMACCEL_FUZZ_SEED=%llu), %lu ops, <= %llu s%s";
	__u64 secs = vmaccel_fuzz_env("VMACCEL_FUZZ_SECS", def_secs);

	fz->deadline = vmaccel_fuzz_now_ns() + secs * 1000000000ULL;
	vmaccel_fuzz_msg(fmt, phase, (unsigned long long)fz->seed,
			 (unsigned long long)fz->seed, fz->iters,
			 (unsigned long long)secs,
			 fz->faulty ? ", allocation failures injected" : "");
}

/* Past the phase's time bound?  The clock is read every few operations. */
static inline bool vmaccel_fuzz_time_up(struct vmaccel_fuzz *fz,
					unsigned long i)
{
	if (i % fz->ops->time_every || vmaccel_fuzz_now_ns() < fz->deadline)
		return atomic_load(&fz->timed_out);
	atomic_store(&fz->timed_out, true);
	return true;
}

/* --- setup --- */

/*
 * Set up a run of a fuzzer with @ops and @nr_calls histogram rows named
 * @names, seed and
 * operation count from the environment (VMACCEL_FUZZ_SEED,
 * VMACCEL_FUZZ_ITERS, else random and @def_iters), and make the pool's fd
 * numbers [@fd_base - 1, @fd_base + @nr_fds) usable: below the fd limit and
 * free (@fd_base - 1 stays closed: a number never opened).  Keeps 0-2 open
 * (memory the fuzzer did not write reads as fd 0, which must never be one
 * of the pool) and ignores SIGPIPE (writes to a lone pipe end).
 */
static inline void vmaccel_fuzz_setup(struct __test_metadata *_metadata,
				      struct vmaccel_fuzz *fz,
				      const struct vmaccel_fuzz_ops *ops,
				      const char * const *names,
				      unsigned int nr_calls,
				      unsigned long def_iters,
				      int fd_base, int nr_fds)
{
	struct rlimit rl;
	int i;

	fz->ops = ops;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			ASSERT_EQ(i, open("/dev/null", O_RDWR));
	ASSERT_GE((unsigned int)VMACCEL_FUZZ_MAX_CALLS, nr_calls);
	fz->call_names = names;
	fz->nr_calls = nr_calls;
	pthread_mutex_init(&fz->lock, NULL);
	fz->seed = vmaccel_fuzz_env("VMACCEL_FUZZ_SEED",
				    vmaccel_fuzz_splitmix((__u64)time(NULL) ^
							  ((__u64)getpid() << 32)));
	fz->iters = vmaccel_fuzz_env("VMACCEL_FUZZ_ITERS", def_iters);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < (rlim_t)fd_base + nr_fds + 64) {
		rl.rlim_cur = fd_base + nr_fds + 64;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	for (i = fd_base - 1; i < fd_base + nr_fds; i++)
		ASSERT_EQ(-1, fcntl(i, F_GETFD)) TH_LOG("fd %d is in use", i);
}

/* Note the lowest free fd number, for vmaccel_fuzz_finish(). */
static inline void vmaccel_fuzz_note_low_fd(struct __test_metadata *_metadata,
					    struct vmaccel_fuzz *fz)
{
	fz->low_fd = dup(0);
	ASSERT_LE(0, fz->low_fd);
	close(fz->low_fd);
}

/*
 * After a phase whose fds are all closed: no unexpected result (the logged
 * ones are printed), no fd number leaked.
 */
static inline void vmaccel_fuzz_finish(struct __test_metadata *_metadata,
				       struct vmaccel_fuzz *fz)
{
	unsigned int i;
	int n;

	for (i = 0; i < fz->nfail && i < VMACCEL_FUZZ_MAX_FAILS; i++)
		TH_LOG("%s", fz->fail[i]);
	ASSERT_EQ(0U, fz->nfail)
		TH_LOG("%u unexpected results (seed %llu)", fz->nfail,
		       (unsigned long long)fz->seed);
	n = dup(0);
	close(n);
	ASSERT_EQ(fz->low_fd, n) TH_LOG("an fd number leaked");
}

/* --- threads --- */

/*
 * Set up thread @idx of run @fz: its random state, and its arena with
 * @size bytes of @valid (a valid structure) at @off of the read-only page.
 * 0, or -1 when the arena cannot be mapped.
 */
static inline int vmaccel_fuzz_thread_init(struct vmaccel_fuzz_thread *t,
					   struct vmaccel_fuzz *fz, int idx,
					   const void *valid, size_t size,
					   size_t off)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *a;

	memset(t, 0, sizeof(*t));
	t->run = fz;
	t->pg = pg;
	t->rng = vmaccel_fuzz_splitmix(fz->seed + 0x1000 * (idx + 1)) | 1;
	a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	memset(a, 0, 3 * pg);
	memcpy(a + 2 * pg + off, valid, size);
	if (mprotect(a + 2 * pg, pg, PROT_READ) ||
	    mprotect(a + 3 * pg, pg, PROT_NONE)) {
		munmap(a, 4 * pg);
		return -1;
	}
	t->arena = a;
	return 0;
}

/* Add the thread's counts to the run's and free its arena. */
static inline void vmaccel_fuzz_thread_fini(struct vmaccel_fuzz_thread *t)
{
	unsigned int i;
	int e;

	if (!t->run)
		return;
	for (i = 0; i < VMACCEL_FUZZ_MAX_CALLS; i++)
		for (e = 0; e < VMACCEL_FUZZ_NR_ERRNO; e++)
			t->run->count[i][e] += t->count[i][e];
	memset(t->count, 0, sizeof(t->count));
	if (t->arena)
		munmap(t->arena, 4 * t->pg);
	t->arena = NULL;
}

/* --- the pool --- */

/*
 * Define the struct vmaccel_fuzz_ops @name of a fuzzer written in the
 * usual shape: a struct fz_thread starting with its struct
 * vmaccel_fuzz_thread, whose ->fz->slot[] are the pool's slots (with an
 * atomic_int state), and fz_fill(t, slot), fz_close_slot(t, slot),
 * fz_step(t) on them.
 */
#define VMACCEL_FUZZ_DEFINE_OPS(name, every, pause_ms)			\
static atomic_int *name##_state(struct vmaccel_fuzz_thread *c, int i)	\
{									\
	return &((struct fz_thread *)c)->fz->slot[i].state;		\
}									\
static void name##_fill(struct vmaccel_fuzz_thread *c, int i)		\
{									\
	struct fz_thread *t = (struct fz_thread *)c;			\
									\
	fz_fill(t, &t->fz->slot[i]);					\
}									\
static void name##_close(struct vmaccel_fuzz_thread *c, int i)		\
{									\
	struct fz_thread *t = (struct fz_thread *)c;			\
									\
	fz_close_slot(t, &t->fz->slot[i]);				\
}									\
static void name##_step(struct vmaccel_fuzz_thread *c)			\
{									\
	fz_step((struct fz_thread *)c);					\
}									\
static const struct vmaccel_fuzz_ops name = {				\
	.nr_slots = ARRAY_SIZE(((struct fz *)NULL)->slot),		\
	.state = name##_state,						\
	.fill = name##_fill,						\
	.close = name##_close,						\
	.step = name##_step,						\
	.time_every = (every),						\
	.closer_pause_ms = (pause_ms),					\
}

/* Fill an empty slot, if there is one. */
static inline void vmaccel_fuzz_fill_any(struct vmaccel_fuzz_thread *t)
{
	const struct vmaccel_fuzz_ops *ops = t->run->ops;
	int i, n = ops->nr_slots, first = (int)vmaccel_fuzz_below(t, n);

	for (i = 0; i < n; i++)
		if (atomic_load(ops->state(t, (first + i) % n)) ==
		    VMACCEL_FUZZ_EMPTY) {
			ops->fill(t, (first + i) % n);
			return;
		}
}

static inline void vmaccel_fuzz_fill_all(struct vmaccel_fuzz_thread *t)
{
	int i;

	for (i = 0; i < t->run->ops->nr_slots; i++)
		t->run->ops->fill(t, i);
}

static inline void vmaccel_fuzz_close_all(struct vmaccel_fuzz_thread *t)
{
	int i;

	for (i = 0; i < t->run->ops->nr_slots; i++)
		t->run->ops->close(t, i);
}

/*
 * Fixture teardown: stop the helper threads, close the pool and finish
 * the main thread @t (when it was set up).
 */
static inline void vmaccel_fuzz_teardown(struct vmaccel_fuzz_thread *t)
{
	if (!t->run)
		return;
	atomic_store(&t->run->stop, true);
	vmaccel_fuzz_close_all(t);
	vmaccel_fuzz_thread_fini(t);
}

/* The strict phase: every operation in this thread. */
static inline void vmaccel_fuzz_run_strict(struct vmaccel_fuzz_thread *t)
{
	unsigned long i;

	vmaccel_fuzz_fill_all(t);
	for (i = 0; i < t->run->iters && !vmaccel_fuzz_time_up(t->run, i); i++)
		t->run->ops->step(t);
}

/* A worker of the chaos phase: its share of the operations. */
static inline void *vmaccel_fuzz_worker(void *arg)
{
	struct vmaccel_fuzz_thread *t = arg;
	unsigned long i, n = t->run->iters / t->run->nr_workers;

	for (i = 0; i < n && !vmaccel_fuzz_time_up(t->run, i); i++)
		t->run->ops->step(t);
	return NULL;
}

/* Closes random pool fds under the workers and opens new ones. */
static inline void *vmaccel_fuzz_closer(void *arg)
{
	struct vmaccel_fuzz_thread *t = arg;
	const struct vmaccel_fuzz_ops *ops = t->run->ops;
	struct timespec ts = { 0 };

	while (!atomic_load(&t->run->stop)) {
		ops->close(t, (int)vmaccel_fuzz_below(t, ops->nr_slots));
		vmaccel_fuzz_fill_any(t);
		if (!ops->closer_pause_ms) {
			sched_yield();
			continue;
		}
		ts.tv_nsec = vmaccel_fuzz_below(t, ops->closer_pause_ms) *
			     1000000L;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * Run the chaos phase's threads: @th is an array of @nr thread structs of
 * @stride bytes, each starting with a struct vmaccel_fuzz_thread.  The first
 * @nr_workers run vmaccel_fuzz_worker() until they are done, the next one
 * vmaccel_fuzz_closer() (closing fds during use), the others @helpers[i]
 * (writing sysfs, ...), until the run's stop flag, set once the workers
 * are joined.  Every thread started is joined and
 * every thread struct finished (vmaccel_fuzz_thread_fini()) before this
 * returns the number of threads started (@nr when all were).
 */
static inline int vmaccel_fuzz_run_threads(struct vmaccel_fuzz *fz, void *th,
					   size_t stride, int nr,
					   int nr_workers,
					   void *(*const *helpers)(void *))
{
	struct vmaccel_fuzz_thread *t;
	int i, started;

	fz->nr_workers = nr_workers;
	for (started = 0; started < nr; started++) {
		t = (void *)((char *)th + started * stride);
		if (pthread_create(&t->tid, NULL,
				   started < nr_workers ? vmaccel_fuzz_worker :
				   started == nr_workers ? vmaccel_fuzz_closer :
				   helpers[started - nr_workers - 1], t))
			break;
	}
	for (i = 0; i < started && i < nr_workers; i++)
		pthread_join(((struct vmaccel_fuzz_thread *)
			      ((char *)th + i * stride))->tid, NULL);
	atomic_store(&fz->stop, true);
	for (i = nr_workers; i < started; i++)
		pthread_join(((struct vmaccel_fuzz_thread *)
			      ((char *)th + i * stride))->tid, NULL);
	for (i = 0; i < nr; i++)
		vmaccel_fuzz_thread_fini((void *)((char *)th + i * stride));
	return started;
}

/* --- fds --- */

/*
 * Move @fd to @num (the fixed number of a pool slot), closing @fd; 0, or
 * -1 (the failure is logged unless it is ENOMEM while failures are
 * injected).  A negative @fd (a failed open) gives -1.
 */
static inline int vmaccel_fuzz_place_fd(struct vmaccel_fuzz *fz, int num,
					int fd)
{
	int r;

	if (fd < 0)
		return -1;
	r = dup3(fd, num, O_CLOEXEC);
	if (r != num && !(fz->faulty && errno == ENOMEM))
		vmaccel_fuzz_fail(fz, "dup3(%d, %d): %s", fd, num,
				  strerror(errno));
	close(fd);
	return r == num ? 0 : -1;
}

/* Take a pool slot in state @from: it becomes @busy. */
static inline bool vmaccel_fuzz_claim(atomic_int *state, int from, int busy)
{
	int expected = from;

	return atomic_compare_exchange_strong(state, &expected, busy);
}

/* A number that is no open fd: negative, huge, or @never (never opened). */
static inline int vmaccel_fuzz_special_fd(struct vmaccel_fuzz_thread *t,
					  int never)
{
	const int special[] = { -1, never, INT_MAX, 1 << 20, INT_MIN, -2 };

	return special[vmaccel_fuzz_below(t, ARRAY_SIZE(special))];
}

/* Which of the @n commands @cmds is @cmd: its index, else @n. */
static inline int vmaccel_fuzz_call_of(unsigned long cmd,
				       const unsigned long *cmds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (cmd == cmds[i])
			return i;
	return n;
}

/**
 * struct vmaccel_fuzz_call - one ioctl as issued
 * @fd: on this fd number
 * @what: the fuzzer's call (histogram row) of the structure built
 * @call: the fuzzer's call of the command actually issued
 * @cmd: the command
 * @arg: the pointer passed
 * @argname: its kind (see vmaccel_fuzz_pointer())
 */
struct vmaccel_fuzz_call {
	int fd;
	int what;
	int call;
	unsigned long cmd;
	void *arg;
	const char *argname;
};

/* --- pointers --- */

/* Pointer kinds; VMACCEL_FUZZ_P_RO_VALID points at the valid structure. */
enum vmaccel_fuzz_ptr {
	VMACCEL_FUZZ_P_OK, VMACCEL_FUZZ_P_END, VMACCEL_FUZZ_P_RW_RO,
	VMACCEL_FUZZ_P_RO, VMACCEL_FUZZ_P_RO_VALID, VMACCEL_FUZZ_P_RO_NONE,
	VMACCEL_FUZZ_P_NONE, VMACCEL_FUZZ_P_NULL, VMACCEL_FUZZ_P_ONE,
	VMACCEL_FUZZ_P_KERNEL, VMACCEL_FUZZ_P_HIGH, VMACCEL_FUZZ_NR_PTR
};

/*
 * A pointer for an argument of @size bytes: with @ok_percent chance a good
 * one, anywhere in the first @ok_pages read-write pages (unaligned too),
 * else one of any kind.  Its kind's name goes to @name (@valid_name for
 * the valid structure at @valid_off of the read-only page).
 */
static inline void *vmaccel_fuzz_pointer(struct vmaccel_fuzz_thread *t,
					 size_t size, unsigned int ok_percent,
					 unsigned int ok_pages, size_t valid_off,
					 const char *valid_name,
					 const char **name)
{
	static const char * const names[VMACCEL_FUZZ_NR_PTR] = {
		"ok", "end-of-rw", "rw|ro", "ro", NULL, "ro|none", "none",
		"NULL", "1", "kernel", "high",
	};
	unsigned char *a = t->arena;
	size_t pg = t->pg;
	unsigned int k;
	size_t cut;

	k = vmaccel_fuzz_chance(t, ok_percent) ? VMACCEL_FUZZ_P_OK :
		vmaccel_fuzz_below(t, VMACCEL_FUZZ_NR_PTR);
	*name = k == VMACCEL_FUZZ_P_RO_VALID ? valid_name : names[k];
	cut = size > 1 ? 1 + vmaccel_fuzz_below(t, size - 1) : 1;
	switch (k) {
	case VMACCEL_FUZZ_P_OK:
		return a + vmaccel_fuzz_below(t, ok_pages * pg - size);
	case VMACCEL_FUZZ_P_END:
		return a + 2 * pg - size;
	case VMACCEL_FUZZ_P_RW_RO:
		return a + 2 * pg - cut;
	case VMACCEL_FUZZ_P_RO:
		return a + 2 * pg;
	case VMACCEL_FUZZ_P_RO_VALID:
		return a + 2 * pg + valid_off;
	case VMACCEL_FUZZ_P_RO_NONE:
		return a + 3 * pg - cut;
	case VMACCEL_FUZZ_P_NONE:
		return a + 3 * pg;
	case VMACCEL_FUZZ_P_NULL:
		return NULL;
	case VMACCEL_FUZZ_P_ONE:
		return (void *)1;
	case VMACCEL_FUZZ_P_KERNEL:
		return (void *)0xffff888000000000ULL;
	default:
		return (void *)((1ULL << 47) - 8);
	}
}

/* [p, p + size) is in the arena's readable (@write: writable) pages. */
static inline bool vmaccel_fuzz_range_ok(struct vmaccel_fuzz_thread *t,
					 const void *p, size_t size, bool write)
{
	uintptr_t a = (uintptr_t)t->arena, x = (uintptr_t)p;
	uintptr_t end = a + (write ? 2 : 3) * t->pg;

	return x >= a && x + size <= end;
}

/* Copy the part of @src that lands in writable pages of the arena to @p. */
static inline void vmaccel_fuzz_put(struct vmaccel_fuzz_thread *t, void *p,
				    const void *src, size_t size)
{
	uintptr_t a = (uintptr_t)t->arena, x = (uintptr_t)p;
	uintptr_t end = a + 2 * t->pg;

	if (x < a || x >= end)
		return;
	if (x + size > end)
		size = end - x;
	memcpy(p, src, size);
}

#endif /* VMACCEL_FUZZ_H */
