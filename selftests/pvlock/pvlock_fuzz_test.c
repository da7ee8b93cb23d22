// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: a fuzzer that knows the ioctl structures.
 *
 * It starts from valid RUN_START, RUN_RESULT and RUN_STOP calls on
 * /dev/vmaccel-pvlock and mutates them: every lock kind and invalid ones,
 * bits of flags and of the reserved fields, boundary and random values of
 * the thread count, the duration and the critical-section and outside
 * lengths, the spin threshold with and without its flag, neighbouring ioctl
 * numbers (other sizes, directions and numbers) and bad pointers (NULL, 1,
 * a kernel address, an unmapped page, a read-only page, structures
 * straddling into those).  Calls go to a pool of device fds, to other kinds
 * of fds (a pipe, /dev/null, a memfd, an O_PATH fd of the device) and to
 * closed or impossible fd numbers.  Valid runs are short (a few ms) unless
 * a STOP or a close ends them.
 *
 * Two phases:
 *
 * - strict: one thread.  The run state of every device fd is modelled
 *   (none, started at a known time for a known duration, stopped, finished),
 *   so every call has a predicted result: success, or the set of errnos
 *   documented for its input (whichever check the kernel makes first).
 *   Results are checked against the parameters of the run, the backend and
 *   spin_threshold in effect at its start (the fuzzer writes them through
 *   sysfs too, with predicted results), and stay the same until the next
 *   START.
 * - chaos: FZ_THREADS threads on the shared pool while one more thread
 *   closes and reopens pool fds under them and another writes backend and
 *   spin_threshold in sysfs.  A pool fd may be closed at any moment and a
 *   run's state is unknown, so the predictions are wider; results are
 *   still checked for consistency.
 *
 * After each phase everything is closed: no run may stay active
 * (runs_active), no lock in use (locks_in_use), no fd number taken, and the
 * sysfs settings are restored.  Every call is counted by errno and the
 * counts printed ("fuzz: ...").
 *
 * Fault injection (the debug tier runs every selftest again with
 * /proc/self/make-it-fail set): any call may then also fail with ENOMEM, or
 * EFAULT when the kernel cannot fault in a user page; those are accepted.
 *
 * Environment: VMACCEL_FUZZ_SEED (replays the strict phase exactly, up to
 * timing), VMACCEL_FUZZ_ITERS (operations per phase), VMACCEL_FUZZ_SECS
 * (time bound per phase).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "pvlock_util.h"

/*
 * The time bound is what ends a phase in a TCG VM (about 12 s each); the
 * operation count bounds fast machines.
 */
#define FZ_DEFAULT_ITERS	200000
#define FZ_DEFAULT_SECS		12
#define FZ_THREADS		4

/* The pool: a fixed fd number per slot, from FZ_FD_BASE up. */
#define FZ_FD_BASE		300
#define FZ_FD_NEVER		(FZ_FD_BASE - 1)	/* never opened */
#define FZ_NR_DEV		8

enum fz_kind { FZ_DEV, FZ_MISC };
enum fz_misc { FZ_PIPE_R, FZ_MEMFD, FZ_DEVNULL, FZ_OPATH, FZ_NR_MISC };

#define FZ_NR_SLOTS	(FZ_NR_DEV + FZ_NR_MISC)

/* Slot states; a slot's fd number is open exactly while it is FULL. */
enum { FZ_EMPTY, FZ_BUSY, FZ_FULL };

/* The run state of a device fd, strict phase only. */
enum fz_run { FZ_RUN_NONE, FZ_RUN_STARTED, FZ_RUN_DONE };

struct fz_slot {
	int num;
	enum fz_kind kind;
	enum fz_misc misc;		/* FZ_MISC */
	atomic_int state;
	/* The model, strict phase only. */
	enum fz_run run;
	bool stopped;			/* STOP after the START */
	__u64 end_ns;			/* the run lasts at least until then */
	struct vmaccel_pvlock_run p;	/* as started */
	__u32 threshold;		/* expected in the results */
	__u32 backend;			/* in effect at the start */
	bool have_res;
	struct vmaccel_pvlock_result res;	/* first results of the run */
};

/* Histogram rows. */
enum {
	FZ_C_START, FZ_C_RESULT, FZ_C_STOP, FZ_C_BADCMD, FZ_C_BACKEND,
	FZ_C_THRESHOLD, FZ_C_CLOSE, FZ_NR_CALLS
};

static const char * const fz_call_names[FZ_NR_CALLS] = {
	"RUN_START", "RUN_RESULT", "RUN_STOP", "other-cmd", "backend",
	"threshold", "close",
};

static const unsigned long fz_cmds[FZ_C_BADCMD] = {
	VMACCEL_PVLOCK_RUN_START, VMACCEL_PVLOCK_RUN_RESULT,
	VMACCEL_PVLOCK_RUN_STOP,
};

#define FZ_NR_ERRNO	160	/* histogram columns; larger errnos share the last */
#define B(e)		(1ULL << (e))
#define FZ_OK		B(0)

#define FZ_MAX_FAILS	8
#define FZ_MSG_LEN	320

/* Backends by enum vmaccel_pvlock_backend value. */
static const char * const fz_backends[] = { "spin", "ipi", "kvm" };
#define FZ_NR_BACKENDS	3

struct fz {
	bool racy;			/* chaos phase */
	bool faulty;			/* allocations fail at random */
	__u64 seed;
	unsigned long iters;
	__u64 deadline;			/* CLOCK_MONOTONIC ns */
	atomic_bool timed_out;
	struct fz_slot slot[FZ_NR_SLOTS];
	int nr_cpus;
	bool avail[FZ_NR_BACKENDS];
	/* sysfs at the start, restored after each phase */
	int backend0;
	__u32 threshold0;
	/* the model of sysfs, strict phase */
	int backend;
	__u32 threshold;
	int low_fd;			/* lowest free fd number at start */
	__u64 active0;			/* runs_active at the start of the phase */
	atomic_bool stop;
	atomic_ulong runs, closes, results, acquisitions;
	pthread_mutex_t lock;		/* protects the failure log */
	unsigned int nfail;
	char fail[FZ_MAX_FAILS][FZ_MSG_LEN];
	unsigned long count[FZ_NR_CALLS][FZ_NR_ERRNO];
};

struct fz_thread {
	struct fz *fz;
	pthread_t tid;
	__u64 rng;
	unsigned char *arena;		/* RW, RW, RO, PROT_NONE */
	size_t pg;
	unsigned long count[FZ_NR_CALLS][FZ_NR_ERRNO];
};

/* One ioctl as issued. */
struct fz_call {
	int fd;
	int what;		/* FZ_C_* of the structure built */
	int call;		/* FZ_C_* of the command actually issued */
	unsigned long cmd;
	void *arg;
	const char *argname;
};

/* --- output --- */

static void fz_msg(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ksft_print_msg("%s\n", buf);
	fflush(stdout);
}

static const char *fz_errname(int e)
{
	static const char * const names[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [EINTR] = "EINTR",
		[EIO] = "EIO", [EBADF] = "EBADF", [EAGAIN] = "EAGAIN",
		[ENOMEM] = "ENOMEM", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[ENODEV] = "ENODEV", [EINVAL] = "EINVAL", [ENFILE] = "ENFILE",
		[EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC",
		[ERANGE] = "ERANGE", [ENODATA] = "ENODATA",
	};
	static __thread char other[24];

	if (e == 0)
		return "0";
	if (e > 0 && e < (int)ARRAY_SIZE(names) && names[e])
		return names[e];
	snprintf(other, sizeof(other), "errno %d", e);
	return other;
}

static void fz_mask_str(__u64 mask, char *buf, size_t size)
{
	size_t len = 0;
	int e;

	buf[0] = '\0';
	for (e = 0; e < 64 && len < size; e++)
		if (mask & B(e))
			len += snprintf(buf + len, size - len, "%s%s",
					len ? "," : "", fz_errname(e));
}

static void fz_fail(struct fz *fz, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fz->lock);
	if (fz->nfail < FZ_MAX_FAILS) {
		va_start(ap, fmt);
		vsnprintf(fz->fail[fz->nfail], FZ_MSG_LEN, fmt, ap);
		va_end(ap);
	}
	fz->nfail++;
	pthread_mutex_unlock(&fz->lock);
}

static void fz_count(struct fz_thread *t, int call, int err)
{
	t->count[call][err < FZ_NR_ERRNO ? err : FZ_NR_ERRNO - 1]++;
}

/* --- randomness --- */

static __u64 fz_splitmix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static __u64 fz_rand(struct fz_thread *t)
{
	__u64 x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned int fz_below(struct fz_thread *t, unsigned int n)
{
	return (unsigned int)(fz_rand(t) % n);
}

static bool fz_chance(struct fz_thread *t, unsigned int percent)
{
	return fz_below(t, 100) < percent;
}

static __u32 fz_range(struct fz_thread *t, __u32 lo, __u32 hi)
{
	return lo + (__u32)(fz_rand(t) % ((__u64)hi - lo + 1));
}

static __u32 fz_flip(struct fz_thread *t, __u32 v, unsigned int percent)
{
	if (fz_chance(t, percent))
		v ^= 1U << fz_below(t, 32);
	return v;
}

/* Anything around a limit: mostly invalid for a field of [lo, hi]. */
static __u32 fz_any_value(struct fz_thread *t, __u32 lo, __u32 hi)
{
	switch (fz_below(t, 8)) {
	case 0:
		return 0;
	case 1:
		return lo - 1;
	case 2:
		return hi;
	case 3:
		return hi + 1;
	case 4:
		return UINT32_MAX;
	case 5:
		return 1U << fz_below(t, 32);
	case 6:
		return INT32_MAX + 1U;
	default:
		return (__u32)fz_rand(t);
	}
}

/* --- the run parameters --- */

/*
 * The rules of struct vmaccel_pvlock_run (uapi header and the kernel-doc of
 * RUN_START): what makes START fail with EINVAL.
 */
static bool fz_run_valid(const struct vmaccel_pvlock_run *p)
{
	const __u32 pv_only = VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			      VMACCEL_PVLOCK_RUN_VERIFY_KICKS |
			      VMACCEL_PVLOCK_RUN_API;

	if (p->flags & ~VMACCEL_PVLOCK_RUN_FLAGS || p->reserved)
		return false;
	if (p->kind > VMACCEL_PVLOCK_KIND_BROKEN)
		return false;
	if (!p->nr_threads || p->nr_threads > VMACCEL_PVLOCK_MAX_THREADS)
		return false;
	if (!p->duration_ms || p->duration_ms > VMACCEL_PVLOCK_DURATION_MS_MAX)
		return false;
	if (p->cs_ns > VMACCEL_PVLOCK_CS_NS_MAX ||
	    p->outside_ns > VMACCEL_PVLOCK_OUTSIDE_NS_MAX)
		return false;
	if (p->flags & VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD ?
	    p->spin_threshold > VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX :
	    p->spin_threshold != 0)
		return false;
	if (p->kind != VMACCEL_PVLOCK_KIND_PV && p->flags & pv_only)
		return false;
	if (p->flags & VMACCEL_PVLOCK_RUN_API &&
	    p->flags & (VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			VMACCEL_PVLOCK_RUN_VERIFY_KICKS))
		return false;
	return true;
}

/* Longer than this, a run must be ended by STOP or close (strict only). */
#define FZ_SHORT_MS	20

/* A valid run: short, usually few threads, sometimes many. */
static struct vmaccel_pvlock_run fz_valid_run(struct fz_thread *t)
{
	struct vmaccel_pvlock_run p = { 0 };
	unsigned int r;

	p.kind = fz_below(t, 4);
	if (p.kind == VMACCEL_PVLOCK_KIND_PV) {
		r = fz_below(t, 4);
		if (r == 0)
			p.flags = VMACCEL_PVLOCK_RUN_API;
		else if (r == 1)
			p.flags = fz_below(t, 2) * VMACCEL_PVLOCK_RUN_VERIFY_KICKS |
				  VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD;
		else if (r == 2)
			p.flags = VMACCEL_PVLOCK_RUN_VERIFY_KICKS;
	}
	if (fz_chance(t, 30))
		p.flags |= VMACCEL_PVLOCK_RUN_IRQS_OFF;
	if (p.flags & VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD) {
		switch (fz_below(t, 4)) {
		case 0:
			p.spin_threshold = 0;
			break;
		case 1:
			p.spin_threshold = VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX;
			break;
		default:
			p.spin_threshold = fz_below(t, 256);
			break;
		}
	}
	r = fz_below(t, 100);
	if (r < 70)
		p.nr_threads = fz_range(t, 1, 4);
	else if (r < 92)
		p.nr_threads = fz_range(t, 5, 16);
	else if (r < 98)
		p.nr_threads = fz_range(t, 17, 64);
	else
		p.nr_threads = fz_range(t, 65, VMACCEL_PVLOCK_MAX_THREADS);
	r = fz_below(t, 100);
	if (r < 80)
		p.duration_ms = fz_range(t, 1, 4);
	else if (r < 96 || t->fz->racy)
		p.duration_ms = fz_range(t, 5, FZ_SHORT_MS);
	else	/* long: ended by STOP or close */
		p.duration_ms = fz_chance(t, 50) ? VMACCEL_PVLOCK_DURATION_MS_MAX :
			fz_range(t, 1000, VMACCEL_PVLOCK_DURATION_MS_MAX);
	switch (fz_below(t, 4)) {
	case 0:
		p.cs_ns = 0;
		break;
	case 1:
		p.cs_ns = VMACCEL_PVLOCK_CS_NS_MAX;
		break;
	default:
		p.cs_ns = fz_below(t, 5000);
		break;
	}
	switch (fz_below(t, 4)) {
	case 0:
		p.outside_ns = 0;
		break;
	case 1:
		p.outside_ns = VMACCEL_PVLOCK_OUTSIDE_NS_MAX;
		break;
	default:
		p.outside_ns = fz_below(t, 20000);
		break;
	}
	return p;
}

/*
 * Valid parameters, then (usually) a field or a few set to anything.  A
 * mutated structure that is still valid keeps its values within the short
 * runs' bounds.
 */
static struct vmaccel_pvlock_run fz_mutated_run(struct fz_thread *t)
{
	struct vmaccel_pvlock_run p = fz_valid_run(t), q;
	int i, n;

	if (fz_chance(t, 35))
		return p;
	q = p;
	n = 1 + fz_below(t, 2);
	for (i = 0; i < n; i++) {
		switch (fz_below(t, 9)) {
		case 0:
			p.flags = fz_chance(t, 50) ? fz_flip(t, p.flags, 100) :
				  fz_below(t, 2 * VMACCEL_PVLOCK_RUN_FLAGS + 2);
			break;
		case 1:
			p.kind = fz_chance(t, 50) ? fz_below(t, 8) :
				 fz_any_value(t, 0, VMACCEL_PVLOCK_KIND_BROKEN);
			break;
		case 2:
			p.nr_threads = fz_any_value(t, 1, VMACCEL_PVLOCK_MAX_THREADS);
			break;
		case 3:
			p.duration_ms = fz_any_value(t, 1,
						     VMACCEL_PVLOCK_DURATION_MS_MAX);
			break;
		case 4:
			p.cs_ns = fz_any_value(t, 0, VMACCEL_PVLOCK_CS_NS_MAX);
			break;
		case 5:
			p.outside_ns = fz_any_value(t, 0,
						    VMACCEL_PVLOCK_OUTSIDE_NS_MAX);
			break;
		case 6:
			p.spin_threshold =
				fz_any_value(t, 0, VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX);
			break;
		case 7:
			p.flags ^= VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD;
			break;
		default:
			p.reserved = fz_flip(t, p.reserved, 100);
			break;
		}
	}
	/* Still valid but long: keep the original values. */
	if (fz_run_valid(&p) && p.duration_ms > FZ_SHORT_MS)
		return q;
	return p;
}

/* --- the pool --- */

static struct fz_slot *fz_slot_of(struct fz *fz, int num)
{
	int i = num - FZ_FD_BASE;

	if (i < 0 || i >= FZ_NR_SLOTS)
		return NULL;
	return &fz->slot[i];
}

static struct fz_slot *fz_dev_slot(struct fz_thread *t)
{
	return &t->fz->slot[fz_below(t, FZ_NR_DEV)];
}

static bool fz_claim(struct fz_slot *s, int from)
{
	int expected = from;

	return atomic_compare_exchange_strong(&s->state, &expected, FZ_BUSY);
}

/* Move @fd to the number of slot @s, which the caller claimed. */
static int fz_place_fd(struct fz *fz, struct fz_slot *s, int fd)
{
	int r;

	if (fd < 0)
		return -1;
	r = dup3(fd, s->num, O_CLOEXEC);
	if (r != s->num && !(fz->faulty && errno == ENOMEM))
		fz_fail(fz, "dup3(%d, %d): %s", fd, s->num, strerror(errno));
	close(fd);
	return r == s->num ? 0 : -1;
}

static int fz_new_misc(enum fz_misc m)
{
	int p[2];

	switch (m) {
	case FZ_PIPE_R:
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			return -1;
		close(p[1]);
		return p[0];
	case FZ_MEMFD:
		return memfd_create("pvlock-fuzz", MFD_CLOEXEC);
	case FZ_DEVNULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	default:
		return open(PVLOCK_DEV, O_PATH | O_CLOEXEC);
	}
}

/* Open a new fd of the slot's kind into an empty slot. */
static void fz_fill(struct fz_thread *t, struct fz_slot *s)
{
	struct fz *fz = t->fz;
	int fd, err;

	if (!fz_claim(s, FZ_EMPTY))
		return;
	fd = s->kind == FZ_DEV ? pvlock_open() : fz_new_misc(s->misc);
	err = fd < 0 ? errno : 0;
	if (s->kind == FZ_DEV && err && !(fz->faulty && err == ENOMEM))
		fz_fail(fz, "open %s: %s", PVLOCK_DEV, strerror(err));
	if (fz_place_fd(fz, s, fd)) {
		atomic_store(&s->state, FZ_EMPTY);
		return;
	}
	s->run = FZ_RUN_NONE;
	s->stopped = false;
	s->have_res = false;
	atomic_store(&s->state, FZ_FULL);
}

static void fz_close_slot(struct fz_thread *t, struct fz_slot *s)
{
	struct fz *fz = t->fz;
	int err;

	if (!fz_claim(s, FZ_FULL))
		return;
	err = close(s->num) ? errno : 0;
	fz_count(t, FZ_C_CLOSE, err);
	if (err)
		fz_fail(fz, "close(%d) of a pool fd: %s", s->num, strerror(err));
	atomic_fetch_add(&fz->closes, 1);
	atomic_store(&s->state, FZ_EMPTY);
}

/* --- picking fds and pointers --- */

static int fz_special_fd(struct fz_thread *t)
{
	static const int special[] = {
		-1, FZ_FD_NEVER, INT_MAX, 1 << 20, INT_MIN, -2,
	};

	return special[fz_below(t, ARRAY_SIZE(special))];
}

/* Any fd: mostly the device, else a pool slot of any kind or a bad number. */
static int fz_any_fd(struct fz_thread *t)
{
	if (fz_chance(t, 80))
		return fz_dev_slot(t)->num;
	if (fz_chance(t, 30))
		return fz_special_fd(t);
	return t->fz->slot[fz_below(t, FZ_NR_SLOTS)].num;
}

/* What an fd number can be when the call runs. */
enum {
	FK_BAD = 1 << 0,	/* not open, or O_PATH */
	FK_DEV = 1 << 1,
	FK_FILE = 1 << 2,	/* open, not the device */
};

static unsigned int fz_kinds(struct fz *fz, int num, struct fz_slot **sp)
{
	struct fz_slot *s = fz_slot_of(fz, num);
	unsigned int k;

	*sp = s;
	if (!s)
		return FK_BAD;
	if (!fz->racy && atomic_load(&s->state) != FZ_FULL)
		return FK_BAD;
	if (s->kind == FZ_DEV)
		k = FK_DEV;
	else
		k = s->misc == FZ_OPATH ? FK_BAD : FK_FILE;
	return k | (fz->racy ? FK_BAD : 0);
}

enum fz_ptr {
	FZ_P_OK, FZ_P_END, FZ_P_RW_RO, FZ_P_RO, FZ_P_RO_RUN, FZ_P_RO_NONE,
	FZ_P_NONE, FZ_P_NULL, FZ_P_ONE, FZ_P_KERNEL, FZ_P_HIGH, FZ_NR_PTR
};

static const char * const fz_ptr_names[FZ_NR_PTR] = {
	"ok", "end-of-rw", "rw|ro", "ro", "ro-run", "ro|none", "none",
	"NULL", "1", "kernel", "high",
};

/* Where the arena's read-only page keeps a valid run structure. */
#define FZ_RO_RUN_OFF	256

static void *fz_pointer(struct fz_thread *t, size_t size, const char **name)
{
	unsigned char *a = t->arena;
	size_t pg = t->pg;
	unsigned int k;
	size_t cut;

	k = fz_chance(t, 85) ? FZ_P_OK : fz_below(t, FZ_NR_PTR);
	*name = fz_ptr_names[k];
	cut = size > 1 ? 1 + fz_below(t, size - 1) : 1;
	switch (k) {
	case FZ_P_OK:
		return a + fz_below(t, 2 * pg - size);	/* unaligned too */
	case FZ_P_END:
		return a + 2 * pg - size;
	case FZ_P_RW_RO:
		return a + 2 * pg - cut;
	case FZ_P_RO:
		return a + 2 * pg;
	case FZ_P_RO_RUN:
		return a + 2 * pg + FZ_RO_RUN_OFF;
	case FZ_P_RO_NONE:
		return a + 3 * pg - cut;
	case FZ_P_NONE:
		return a + 3 * pg;
	case FZ_P_NULL:
		return NULL;
	case FZ_P_ONE:
		return (void *)1;
	case FZ_P_KERNEL:
		return (void *)0xffff888000000000ULL;
	default:
		return (void *)((1ULL << 47) - 8);
	}
}

/* [p, p + size) is in the arena's readable (@write: writable) pages. */
static bool fz_range_ok(struct fz_thread *t, const void *p, size_t size,
			bool write)
{
	uintptr_t a = (uintptr_t)t->arena, x = (uintptr_t)p;
	uintptr_t end = a + (write ? 2 : 3) * t->pg;

	return x >= a && x + size <= end;
}

/* Copy the part of @src that lands in writable pages of the arena to @p. */
static void fz_put(struct fz_thread *t, void *p, const void *src, size_t size)
{
	uintptr_t a = (uintptr_t)t->arena, x = (uintptr_t)p;
	uintptr_t end = a + 2 * t->pg;

	if (x < a || x >= end)
		return;
	if (x + size > end)
		size = end - x;
	memcpy(p, src, size);
}

/* --- building calls --- */

/* Whether a blocking RESULT on slot @s could wait for a long run. */
static bool fz_may_wait_long(struct fz *fz, const struct fz_slot *s)
{
	if (fz->racy)
		return false;	/* chaos runs are all short */
	return s && s->kind == FZ_DEV && s->run == FZ_RUN_STARTED &&
	       !s->stopped && s->p.duration_ms > FZ_SHORT_MS;
}

static void fz_build(struct fz_thread *t, struct fz_call *c)
{
	union {
		struct vmaccel_pvlock_run run;
		struct vmaccel_pvlock_result res;
		unsigned char raw[sizeof(struct vmaccel_pvlock_result)];
	} u;
	size_t size, i;

	for (i = 0; i < 64; i++)
		u.raw[i] = (unsigned char)fz_rand(t);
	switch (c->what) {
	case FZ_C_START:
		u.run = fz_mutated_run(t);
		size = sizeof(u.run);
		break;
	case FZ_C_RESULT:
		/* Output-only fields carry garbage or zeroes. */
		if (fz_chance(t, 50))
			memset(&u.res, 0, sizeof(u.res));
		else
			memset(&u.raw[64], 0x5a, sizeof(u.res) - 64);
		u.res.flags = fz_chance(t, 50) ? VMACCEL_PVLOCK_RESULT_NONBLOCK : 0;
		u.res.flags = fz_flip(t, u.res.flags, 8);
		u.res.reserved[0] = 0;
		u.res.reserved[1] = 0;
		if (fz_chance(t, 6))
			u.res.reserved[fz_below(t, 2)] = 1ULL << fz_below(t, 64);
		size = sizeof(u.res);
		break;
	default:
		size = 64;
		break;
	}
	c->arg = fz_pointer(t, size, &c->argname);
	fz_put(t, c->arg, &u, size);
}

/* A command number: usually @what's, else one next to it. */
static unsigned long fz_cmd(struct fz_thread *t, int what)
{
	static const unsigned int sizes[] = {
		0, 1, 4, 8, 28, 31, 32, 33, 64, 1208, 1215, 1216, 1217, 16383,
	};
	unsigned long cmd = fz_cmds[what];
	unsigned int bit;

	if (fz_chance(t, 85))
		return cmd;
	switch (fz_below(t, 4)) {
	case 0:		/* another direction */
		return _IOC(fz_below(t, 4), _IOC_TYPE(cmd), _IOC_NR(cmd),
			    _IOC_SIZE(cmd));
	case 1:		/* another size */
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd),
			    sizes[fz_below(t, ARRAY_SIZE(sizes))]);
	case 2:		/* another number, in pvlock's range or anywhere */
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd),
			    fz_chance(t, 50) ? 0x70 + fz_below(t, 32) :
					       fz_below(t, 256),
			    _IOC_SIZE(cmd));
	default:	/* one bit flipped, outside the type byte */
		bit = fz_below(t, 24);
		return cmd ^ (1UL << (bit < 8 ? bit : bit + 8));
	}
}

static int fz_call_of(unsigned long cmd)
{
	int i;

	for (i = 0; i < FZ_C_BADCMD; i++)
		if (cmd == fz_cmds[i])
			return i;
	return FZ_C_BADCMD;
}

/* --- predicting results --- */

/*
 * The run of slot @s: may it be going on, may it be over, when the kernel
 * looked (between @before and @after)?  Strict phase only.
 */
static void fz_run_state(const struct fz_slot *s, __u64 after,
			 bool *running, bool *over)
{
	*running = s->run == FZ_RUN_STARTED;
	*over = s->run == FZ_RUN_DONE ||
		(s->run == FZ_RUN_STARTED &&
		 (s->stopped || after >= s->end_ns));
}

static __u64 fz_expect_start(struct fz_thread *t, const struct fz_call *c,
			     const struct fz_slot *s, __u64 after)
{
	struct vmaccel_pvlock_run p;
	bool running, over;
	__u64 mask = 0;

	if (!fz_range_ok(t, c->arg, sizeof(p), false))
		return B(EFAULT);
	memcpy(&p, c->arg, sizeof(p));
	if (!fz_run_valid(&p))
		return B(EINVAL);
	/* Documented for a start that cannot get its memory or threads. */
	mask = B(ENOMEM) | B(EINTR);
	if (t->fz->racy)
		return mask | FZ_OK | B(EBUSY);
	fz_run_state(s, after, &running, &over);
	if (running)
		mask |= B(EBUSY);
	if (!running || over)
		mask |= FZ_OK;
	return mask;
}

static __u64 fz_expect_result(struct fz_thread *t, const struct fz_call *c,
			      const struct fz_slot *s, __u64 after)
{
	const size_t roff = offsetof(struct vmaccel_pvlock_result, reserved);
	struct vmaccel_pvlock_result r;
	bool running, over, wr;
	__u64 mask, done;

	if (!fz_range_ok(t, c->arg, sizeof(r.flags), false) ||
	    !fz_range_ok(t, (char *)c->arg + roff, sizeof(r.reserved), false))
		return B(EFAULT);
	memcpy(&r.flags, c->arg, sizeof(r.flags));
	memcpy(r.reserved, (char *)c->arg + roff, sizeof(r.reserved));
	if (r.flags & ~VMACCEL_PVLOCK_RESULT_FLAGS || r.reserved[0] ||
	    r.reserved[1])
		return B(EINVAL);
	wr = fz_range_ok(t, c->arg, sizeof(r), true);
	done = wr ? FZ_OK : B(EFAULT);
	if (t->fz->racy) {
		mask = B(ENODATA) | done;
		if (r.flags & VMACCEL_PVLOCK_RESULT_NONBLOCK)
			mask |= B(EAGAIN);
		return mask;
	}
	if (s->run == FZ_RUN_NONE)
		return B(ENODATA);
	fz_run_state(s, after, &running, &over);
	if (!(r.flags & VMACCEL_PVLOCK_RESULT_NONBLOCK))
		return done;	/* waits for the end */
	mask = 0;
	if (running)
		mask |= B(EAGAIN);
	if (over)
		mask |= done;
	return mask;
}

static __u64 fz_expect_ioctl(struct fz_thread *t, const struct fz_call *c,
			     __u64 after)
{
	struct fz_slot *s;
	unsigned int k = fz_kinds(t->fz, c->fd, &s);
	__u64 mask = 0;

	if (k & FK_BAD)
		mask |= B(EBADF);
	if (k & FK_FILE)
		mask |= B(ENOTTY);
	if (!(k & FK_DEV))
		return mask;
	switch (c->call) {
	case FZ_C_START:
		mask |= fz_expect_start(t, c, s, after);
		break;
	case FZ_C_RESULT:
		mask |= fz_expect_result(t, c, s, after);
		break;
	case FZ_C_STOP:
		if (t->fz->racy || s->run == FZ_RUN_NONE)
			mask |= B(ENODATA);
		if (t->fz->racy || s->run != FZ_RUN_NONE)
			mask |= FZ_OK;
		break;
	default:
		mask |= B(ENOTTY);
		break;
	}
	return mask;
}

/* --- checking results --- */

/* Consistency of any results; @what names the call for the log. */
static void fz_check_res(struct fz_thread *t, const struct vmaccel_pvlock_result *r,
			 __u32 flags_in, int fd)
{
	struct fz *fz = t->fz;
	struct vmaccel_pvlock_run p = r->run;
	__u64 sum = 0, min = UINT64_MAX, max = 0;
	bool fail;
	__u32 i;

	if (!(p.flags & VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD))
		p.spin_threshold = 0;	/* the kernel fills in sysfs's */
	if (!fz_run_valid(&p) ||
	    r->run.spin_threshold > VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX) {
		fz_fail(fz, "RESULT on %d: invalid run {%#x %u %u %u %u %u %u %u}",
			fd, r->run.flags, r->run.kind, r->run.nr_threads,
			r->run.duration_ms, r->run.cs_ns, r->run.outside_ns,
			r->run.spin_threshold, r->run.reserved);
		return;
	}
	if (r->flags != flags_in || r->reserved[0] || r->reserved[1] ||
	    r->status & ~(VMACCEL_PVLOCK_STATUS_FAILURE |
			  VMACCEL_PVLOCK_STATUS_STOPPED) ||
	    r->backend >= FZ_NR_BACKENDS || !fz->avail[r->backend] ||
	    r->nr_cpus != (__u32)fz->nr_cpus)
		fz_fail(fz, "RESULT on %d: flags %#x/%#x status %#x rsv %llu %llu be %u cpus %u",
			fd, r->flags, flags_in, r->status,
			(unsigned long long)r->reserved[0],
			(unsigned long long)r->reserved[1], r->backend,
			r->nr_cpus);
	for (i = 0; i < VMACCEL_PVLOCK_MAX_THREADS; i++) {
		if (i >= r->run.nr_threads) {
			if (r->per_thread[i])
				fz_fail(fz, "RESULT on %d: per_thread[%u] = %llu of %u threads",
					fd, i, (unsigned long long)r->per_thread[i],
					r->run.nr_threads);
			continue;
		}
		sum += r->per_thread[i];
		min = r->per_thread[i] < min ? r->per_thread[i] : min;
		max = r->per_thread[i] > max ? r->per_thread[i] : max;
	}
	if (sum != r->acquisitions || min != r->acquisitions_min ||
	    max != r->acquisitions_max)
		fz_fail(fz, "RESULT on %d: acq %llu min %llu max %llu, threads %llu %llu %llu",
			fd, (unsigned long long)r->acquisitions,
			(unsigned long long)r->acquisitions_min,
			(unsigned long long)r->acquisitions_max,
			(unsigned long long)sum, (unsigned long long)min,
			(unsigned long long)max);
	if (r->blocked > r->taken_slow || r->blocked > r->halts ||
	    r->spurious_wakeups > r->halts || r->taken_slow > r->acquisitions ||
	    r->kicks > r->acquisitions || r->wakeups > r->kicks ||
	    r->trylocks > r->acquisitions ||
	    (r->trylocks && !(r->run.flags & VMACCEL_PVLOCK_RUN_API)) ||
	    r->irqs_off_spins > r->taken_slow)
		fz_fail(fz, "RESULT %d (%u %#x): n %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			fd, r->run.kind, r->run.flags,
			(unsigned long long)r->taken_slow,
			(unsigned long long)r->blocked,
			(unsigned long long)r->halts,
			(unsigned long long)r->spurious_wakeups,
			(unsigned long long)r->kicks,
			(unsigned long long)r->wakeups,
			(unsigned long long)r->trylocks,
			(unsigned long long)r->irqs_off_spins,
			(unsigned long long)r->acquisitions);
	fail = r->violations || r->fifo_violations || r->lost_wakeups;
	if (fail != !!(r->status & VMACCEL_PVLOCK_STATUS_FAILURE) ||
	    (fail && r->run.kind != VMACCEL_PVLOCK_KIND_BROKEN))
		fz_fail(fz, "RESULT on %d: %u %#x %u: status %#x viol %llu fifo %llu lost %llu",
			fd, r->run.kind, r->run.flags, r->run.nr_threads,
			r->status, (unsigned long long)r->violations,
			(unsigned long long)r->fifo_violations,
			(unsigned long long)r->lost_wakeups);
	if (!(r->status & VMACCEL_PVLOCK_STATUS_STOPPED) &&
	    r->elapsed_ns < (__u64)r->run.duration_ms * 1000000ULL)
		fz_fail(fz, "RESULT on %d: %llu ns elapsed of %u ms, not stopped",
			fd, (unsigned long long)r->elapsed_ns,
			r->run.duration_ms);
}

/* Strict: the results belong to the run started on the slot. */
static void fz_check_res_model(struct fz_thread *t, struct fz_slot *s,
			       const struct vmaccel_pvlock_result *r)
{
	struct fz *fz = t->fz;
	struct vmaccel_pvlock_run want = s->p;

	/* The threshold in effect is reported for the pv kind. */
	want.spin_threshold = s->p.kind == VMACCEL_PVLOCK_KIND_PV ?
			      s->threshold : r->run.spin_threshold;
	if (memcmp(&r->run, &want, sizeof(want)) || r->backend != s->backend)
		fz_fail(fz, "RESULT %d: {%#x %u %u %u %u %u %u} %u, not {%#x %u %u %u %u %u %u} %u",
			s->num, r->run.flags, r->run.kind, r->run.nr_threads,
			r->run.duration_ms, r->run.cs_ns, r->run.outside_ns,
			r->run.spin_threshold, r->backend, want.flags,
			want.kind, want.nr_threads, want.duration_ms,
			want.cs_ns, want.outside_ns, want.spin_threshold,
			s->backend);
	if (r->status & VMACCEL_PVLOCK_STATUS_STOPPED && !s->stopped)
		fz_fail(fz, "RESULT on %d: STOPPED without a STOP", s->num);
	if (!s->have_res) {
		s->res = *r;
		s->have_res = true;
	} else if (memcmp(&s->res.status, &r->status,
			  sizeof(*r) - offsetof(typeof(*r), status))) {
		fz_fail(fz, "RESULT on %d: the results of one run changed",
			s->num);
	}
}

/* After the call: the model and the output. */
static void fz_after(struct fz_thread *t, const struct fz_call *c, int err,
		     const void *in, __u64 before)
{
	struct fz *fz = t->fz;
	struct fz_slot *s = fz_slot_of(fz, c->fd);
	const struct vmaccel_pvlock_result *rin = in;
	struct vmaccel_pvlock_result r;

	if (!s || s->kind != FZ_DEV)
		return;
	switch (c->call) {
	case FZ_C_START:
		if (err == 0)
			atomic_fetch_add(&fz->runs, 1);
		if (fz->racy)
			break;
		if (err == 0) {
			s->run = FZ_RUN_STARTED;
			s->stopped = false;
			s->have_res = false;
			memcpy(&s->p, in, sizeof(s->p));
			s->end_ns = before + (__u64)s->p.duration_ms * 1000000ULL;
			s->threshold = s->p.flags & VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD ?
				       s->p.spin_threshold : fz->threshold;
			s->backend = fz->backend;
		} else if (err == ENOMEM || err == EINTR) {
			/* A finished run is dropped before the new one fails. */
			s->run = FZ_RUN_NONE;
		}
		break;
	case FZ_C_RESULT:
		if (err == 0) {
			memcpy(&r, c->arg, sizeof(r));
			atomic_fetch_add(&fz->results, 1);
			atomic_fetch_add(&fz->acquisitions, r.acquisitions);
			fz_check_res(t, &r, rin->flags, c->fd);
			if (!fz->racy) {
				s->run = FZ_RUN_DONE;
				fz_check_res_model(t, s, &r);
			}
		} else if (err == EFAULT && !fz->racy &&
			   s->run != FZ_RUN_NONE &&
			   fz_range_ok(t, c->arg, sizeof(r), false) &&
			   !fz_range_ok(t, c->arg, sizeof(r), true) &&
			   !(rin->flags & ~VMACCEL_PVLOCK_RESULT_FLAGS) &&
			   !rin->reserved[0] && !rin->reserved[1]) {
			/* Only a finished run gets to the copy out. */
			s->run = FZ_RUN_DONE;
		}
		break;
	case FZ_C_STOP:
		if (err == 0 && !fz->racy && s->run == FZ_RUN_STARTED)
			s->stopped = true;
		break;
	default:
		break;
	}
}

static void fz_ioctl(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	union {
		struct vmaccel_pvlock_run run;
		struct vmaccel_pvlock_result res;
	} in;
	struct fz_slot *s;
	__u64 mask, before, after;
	char want[128];
	struct fz_call c;
	int ret, err;

	memset(&in, 0, sizeof(in));
	c.fd = fz_any_fd(t);
	switch (fz_below(t, 20)) {
	case 0 ... 8:
		c.what = FZ_C_START;
		break;
	case 9 ... 15:
		c.what = FZ_C_RESULT;
		break;
	default:
		c.what = FZ_C_STOP;
		break;
	}
	c.cmd = fz_cmd(t, c.what);
	c.call = fz_call_of(c.cmd);
	fz_build(t, &c);
	s = fz_slot_of(fz, c.fd);
	/*
	 * A blocking RESULT must not wait for a long run: ask without
	 * blocking, or not at all when the flags cannot be changed.
	 */
	if (c.call == FZ_C_RESULT && fz_may_wait_long(fz, s) &&
	    fz_range_ok(t, c.arg, sizeof(__u32), false) && !*(__u32 *)c.arg) {
		if (!fz_range_ok(t, c.arg, sizeof(__u32), true))
			return;
		*(__u32 *)c.arg = VMACCEL_PVLOCK_RESULT_NONBLOCK;
	}
	/* What the kernel reads, for the model after the call. */
	if (c.call == FZ_C_START && fz_range_ok(t, c.arg, sizeof(in.run), false))
		memcpy(&in.run, c.arg, sizeof(in.run));
	if (c.call == FZ_C_RESULT && fz_range_ok(t, c.arg, sizeof(in.res), false))
		memcpy(&in.res, c.arg, sizeof(in.res));

	before = pvlock_now_ns();
	ret = ioctl(c.fd, c.cmd, c.arg);
	err = ret < 0 ? errno : 0;
	after = pvlock_now_ns();
	fz_count(t, c.call, err);
	mask = fz_expect_ioctl(t, &c, after);
	if (fz->faulty)
		mask |= B(ENOMEM) | B(EFAULT);
	if (err >= 64 || !(mask & B(err)) || ret > 0) {
		fz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "ioctl(%d, %#lx [%s], %s %s) = %d (%s), expected {%s}",
			c.fd, c.cmd, fz_call_names[c.call],
			fz_call_names[c.what], c.argname, ret, fz_errname(err),
			want);
		return;
	}
	fz_after(t, &c, err, &in, before);
}

/* --- sysfs --- */

static const char *fz_backend_word(struct fz_thread *t, int *id)
{
	static const char * const bad[] = {
		"foo", "\n", "kvm2", "ipi ", " spin", "SPIN", "spi", "kvm\n\n",
		"0", "ipi\nspin",
	};
	static const char * const good[] = {
		"spin", "ipi", "kvm", "spin\n", "ipi\n", "kvm\n",
	};
	unsigned int i;

	if (fz_chance(t, 25)) {
		*id = -1;
		return bad[fz_below(t, ARRAY_SIZE(bad))];
	}
	i = fz_below(t, ARRAY_SIZE(good));
	*id = i % FZ_NR_BACKENDS;
	return good[i];
}

static int fz_backend_id(const char *name)
{
	int i;

	for (i = 0; i < FZ_NR_BACKENDS; i++)
		if (!strcmp(name, fz_backends[i]))
			return i;
	return -1;
}

/* Whether any run of the strict model may still count as active. */
static bool fz_any_run_active(struct fz *fz)
{
	int i;

	for (i = 0; i < FZ_NR_DEV; i++)
		if (atomic_load(&fz->slot[i].state) == FZ_FULL &&
		    fz->slot[i].run == FZ_RUN_STARTED)
			return true;
	return false;
}

static void fz_sysfs_backend(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	char want[64];
	__u64 mask;
	int id, err;
	const char *w = fz_backend_word(t, &id);

	if (id < 0)
		mask = B(EINVAL);
	else if (!fz->avail[id])
		mask = B(ENODEV);
	else if (fz->racy || fz->active0 || fz_any_run_active(fz))
		mask = FZ_OK | B(EBUSY);
	else
		mask = FZ_OK;
	if (fz->faulty)
		mask |= B(ENOMEM);
	err = -pvlock_sysfs_write(PVLOCK_SYSFS "backend", w);
	fz_count(t, FZ_C_BACKEND, err);
	if (err >= 64 || !(mask & B(err))) {
		fz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "write \"%s\" to backend: %s, expected {%s}%s", w,
			fz_errname(err), want,
			err == EBUSY ? " (no run active: runs_active leaked?)" : "");
	}
	if (!err && !fz->racy)
		fz->backend = id;
}

static void fz_sysfs_threshold(struct fz_thread *t)
{
	static const char * const bad[] = {
		"-1", "abc", "16777217", "4294967295", "4294967296", "1 2",
		"0x10",
	};
	struct fz *fz = t->fz;
	char buf[32], want[64];
	const char *w = buf;
	__u32 v = 0;
	bool ok = true;
	__u64 mask;
	int err;

	switch (fz_below(t, 5)) {
	case 0:
		w = bad[fz_below(t, ARRAY_SIZE(bad))];
		ok = false;
		break;
	case 1:
		v = VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX;
		break;
	case 2:
		v = 0;
		break;
	default:
		v = fz_below(t, 1024);
		break;
	}
	if (ok)
		snprintf(buf, sizeof(buf), fz_chance(t, 50) ? "%u\n" : "%u", v);
	mask = ok ? FZ_OK : B(EINVAL);
	if (fz->faulty)
		mask |= B(ENOMEM);
	err = -pvlock_sysfs_write(PVLOCK_SYSFS "spin_threshold", w);
	fz_count(t, FZ_C_THRESHOLD, err);
	if (err >= 64 || !(mask & B(err))) {
		fz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "write \"%s\" to spin_threshold: %s, expected {%s}",
			w, fz_errname(err), want);
	}
	if (!err && !fz->racy)
		fz->threshold = v;
}

/* --- threads and phases --- */

/* Fill an empty slot, if there is one. */
static void fz_fill_any(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	unsigned int i, first = fz_below(t, FZ_NR_SLOTS);
	struct fz_slot *s;

	for (i = 0; i < FZ_NR_SLOTS; i++) {
		s = &fz->slot[(first + i) % FZ_NR_SLOTS];
		if (atomic_load(&s->state) == FZ_EMPTY) {
			fz_fill(t, s);
			return;
		}
	}
}

/* One random operation. */
static void fz_step(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	unsigned int r = fz_below(t, 100);

	if (fz->racy || r < 88)
		fz_ioctl(t);
	else if (r < 91)
		fz_close_slot(t, fz_dev_slot(t));
	else if (r < 94)
		fz_fill_any(t);
	else if (r < 97)
		fz_sysfs_backend(t);
	else
		fz_sysfs_threshold(t);
}

static int fz_thread_init(struct fz_thread *t, struct fz *fz, int idx)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct vmaccel_pvlock_run p = {
		.kind = VMACCEL_PVLOCK_KIND_SPINLOCK,
		.nr_threads = 2,
		.duration_ms = 1,
	};
	unsigned char *a;

	memset(t, 0, sizeof(*t));
	t->fz = fz;
	t->pg = pg;
	t->rng = fz_splitmix(fz->seed + 0x1000 * (idx + 1)) | 1;
	a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	memset(a, 0, 3 * pg);
	/* The read-only page: zeroes, and a valid run at one offset. */
	memcpy(a + 2 * pg + FZ_RO_RUN_OFF, &p, sizeof(p));
	if (mprotect(a + 2 * pg, pg, PROT_READ) ||
	    mprotect(a + 3 * pg, pg, PROT_NONE)) {
		munmap(a, 4 * pg);
		return -1;
	}
	t->arena = a;
	return 0;
}

static void fz_thread_fini(struct fz_thread *t)
{
	int i, e;

	for (i = 0; i < FZ_NR_CALLS; i++)
		for (e = 0; e < FZ_NR_ERRNO; e++)
			t->fz->count[i][e] += t->count[i][e];
	memset(t->count, 0, sizeof(t->count));
	if (t->arena)
		munmap(t->arena, 4 * t->pg);
	t->arena = NULL;
}

/* Past the phase's time bound?  Checked every 16 operations. */
static bool fz_time_up(struct fz *fz, unsigned long i)
{
	if (i % 16 || pvlock_now_ns() < fz->deadline)
		return atomic_load(&fz->timed_out);
	atomic_store(&fz->timed_out, true);
	return true;
}

static void *fz_worker(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long i, n = t->fz->iters / FZ_THREADS;

	for (i = 0; i < n && !fz_time_up(t->fz, i); i++)
		fz_step(t);
	return NULL;
}

/* Closes random pool fds under the workers and opens new ones. */
static void *fz_closer(void *arg)
{
	struct fz_thread *t = arg;
	struct fz *fz = t->fz;

	while (!atomic_load(&fz->stop)) {
		fz_close_slot(t, &fz->slot[fz_below(t, FZ_NR_SLOTS)]);
		fz_fill_any(t);
		pvlock_sleep_ms(fz_below(t, 3));
	}
	return NULL;
}

/* Writes the sysfs knobs while runs start and end. */
static void *fz_sysfs_writer(void *arg)
{
	struct fz_thread *t = arg;
	struct fz *fz = t->fz;

	while (!atomic_load(&fz->stop)) {
		if (fz_chance(t, 50))
			fz_sysfs_backend(t);
		else
			fz_sysfs_threshold(t);
		pvlock_sleep_ms(1 + fz_below(t, 4));
	}
	return NULL;
}

static void fz_close_all(struct fz_thread *t)
{
	int i;

	for (i = 0; i < FZ_NR_SLOTS; i++)
		fz_close_slot(t, &t->fz->slot[i]);
}

static void fz_report(struct fz *fz, const char *phase)
{
	unsigned long calls = 0, sum[FZ_NR_ERRNO] = { 0 }, n;
	const char *sep;
	char line[768];
	size_t len;
	int i, e;

	for (i = 0; i < FZ_NR_CALLS; i++)
		for (e = 0; e < FZ_NR_ERRNO; e++) {
			sum[e] += fz->count[i][e];
			calls += fz->count[i][e];
		}
	len = snprintf(line, sizeof(line), "fuzz: %lu calls (%s)", calls, phase);
	sep = ";";
	for (e = 0; e < FZ_NR_ERRNO; e++)
		if (sum[e] && len < sizeof(line)) {
			len += snprintf(line + len, sizeof(line) - len, "%s %s: %lu",
					sep, fz_errname(e), sum[e]);
			sep = ",";
		}
	fz_msg("%s", line);
	for (i = 0; i < FZ_NR_CALLS; i++) {
		n = 0;
		for (e = 0; e < FZ_NR_ERRNO; e++)
			n += fz->count[i][e];
		len = snprintf(line, sizeof(line), "fuzz:   %-10s %7lu",
			       fz_call_names[i], n);
		for (e = 0; e < FZ_NR_ERRNO; e++)
			if (fz->count[i][e] && len < sizeof(line))
				len += snprintf(line + len, sizeof(line) - len,
						" %s: %lu", fz_errname(e),
						fz->count[i][e]);
		fz_msg("%s", line);
	}
	fz_msg("fuzz: %lu runs started, %lu results (%lu acquisitions), %lu pool fds closed%s",
	       atomic_load(&fz->runs), atomic_load(&fz->results),
	       atomic_load(&fz->acquisitions), atomic_load(&fz->closes),
	       atomic_load(&fz->timed_out) ? "; stopped by the time bound" : "");
}

static __u64 fz_env(const char *name, __u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/* Whether allocations of this process fail at random (the fault pass). */
static bool fz_fault_injected(void)
{
	char buf[16];

	return !pvlock_sysfs_read("/proc/self/make-it-fail", buf, sizeof(buf)) &&
	       atoi(buf) > 0;
}

/* Read the sysfs knobs; 0 or -1. */
static int fz_read_knobs(int *backend, __u32 *threshold)
{
	char buf[64];
	__u64 v;

	if (pvlock_sysfs_read(PVLOCK_SYSFS "backend", buf, sizeof(buf)))
		return -1;
	*backend = fz_backend_id(buf);
	if (pvlock_sysfs_u64(PVLOCK_SYSFS "spin_threshold", &v))
		return -1;
	*threshold = (__u32)v;
	return *backend < 0 ? -1 : 0;
}

/* Put the knobs back as they were; 0 or -errno. */
static int fz_restore_knobs(struct fz *fz)
{
	char buf[32];
	int r;

	r = pvlock_sysfs_write(PVLOCK_SYSFS "backend", fz_backends[fz->backend0]);
	snprintf(buf, sizeof(buf), "%u", fz->threshold0);
	return pvlock_sysfs_write(PVLOCK_SYSFS "spin_threshold", buf) ?: r;
}

FIXTURE(fuzz) {
	struct fz *fz;
	struct fz_thread main;
};

FIXTURE_SETUP(fuzz)
{
	struct rlimit rl;
	struct fz *fz;
	char buf[64];
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			ASSERT_EQ(i, open("/dev/null", O_RDWR));
	fz = calloc(1, sizeof(*fz));
	ASSERT_NE(NULL, fz);
	self->fz = fz;
	pthread_mutex_init(&fz->lock, NULL);
	fz->faulty = fz_fault_injected();
	fz->seed = fz_env("VMACCEL_FUZZ_SEED",
			  fz_splitmix((__u64)time(NULL) ^ ((__u64)getpid() << 32)));
	fz->iters = fz_env("VMACCEL_FUZZ_ITERS", FZ_DEFAULT_ITERS);
	fz->nr_cpus = pvlock_nr_cpus();
	for (i = 0; i < FZ_NR_SLOTS; i++) {
		struct fz_slot *s = &fz->slot[i];

		s->num = FZ_FD_BASE + i;
		atomic_init(&s->state, FZ_EMPTY);
		s->kind = i < FZ_NR_DEV ? FZ_DEV : FZ_MISC;
		s->misc = i < FZ_NR_DEV ? 0 : i - FZ_NR_DEV;
	}
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < FZ_FD_BASE + FZ_NR_SLOTS + 64) {
		rl.rlim_cur = FZ_FD_BASE + FZ_NR_SLOTS + 64;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	for (i = FZ_FD_NEVER; i < FZ_FD_BASE + FZ_NR_SLOTS; i++)
		ASSERT_EQ(-1, fcntl(i, F_GETFD)) TH_LOG("fd %d is in use", i);
	ASSERT_EQ(0, access(PVLOCK_DEV, F_OK))
		TH_LOG("%s: %s (is vmaccel_pvlock loaded?)", PVLOCK_DEV,
		       strerror(errno));
	ASSERT_EQ(0, pvlock_sysfs_read(PVLOCK_SYSFS "available_backends", buf,
				       sizeof(buf)));
	for (i = 0; i < FZ_NR_BACKENDS; i++)
		fz->avail[i] = pvlock_word_in(buf, fz_backends[i]);
	ASSERT_EQ(0, fz_read_knobs(&fz->backend0, &fz->threshold0));
	fz->backend = fz->backend0;
	fz->threshold = fz->threshold0;
	fz->low_fd = dup(0);
	ASSERT_LE(0, fz->low_fd);
	close(fz->low_fd);
	ASSERT_EQ(0, fz_thread_init(&self->main, fz, 0));
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fz *fz = self->fz;

	if (!fz)
		return;
	atomic_store(&fz->stop, true);
	if (self->main.fz) {
		fz_close_all(&self->main);
		fz_thread_fini(&self->main);
	}
	fz_restore_knobs(fz);
	free(fz);
}

static void fz_start(struct fz *fz, const char *phase)
{
	__u64 secs = fz_env("VMACCEL_FUZZ_SECS", FZ_DEFAULT_SECS);

	fz->deadline = pvlock_now_ns() + secs * 1000000000ULL;
	/* Runs of other programs may be counted still; only ours matter. */
	if (pvlock_sysfs_u64(PVLOCK_SYSFS "runs_active", &fz->active0))
		fz_fail(fz, "read runs_active: %s", strerror(errno));
	else if (fz->active0)
		fz_msg("fuzz: %llu runs active before the phase",
		       (unsigned long long)fz->active0);
	fz_msg("fuzz: %s: seed %llu (replay: VMACCEL_FUZZ_SEED=%llu), %lu ops, <= %llu s%s",
	       phase, (unsigned long long)fz->seed,
	       (unsigned long long)fz->seed, fz->iters,
	       (unsigned long long)secs,
	       fz->faulty ? ", allocation failures injected" : "");
}

static void fz_fill_all(struct fz_thread *t)
{
	int i;

	for (i = 0; i < FZ_NR_SLOTS; i++)
		fz_fill(t, &t->fz->slot[i]);
}

/* After a phase: everything reported, everything closed, nothing left. */
static void fz_finish(struct __test_metadata *_metadata, struct fz_thread *t,
		      const char *phase)
{
	struct fz *fz = t->fz;
	__u64 active = 0, inuse = 0;
	unsigned int i;
	int n, r;

	fz_close_all(t);
	fz_thread_fini(t);
	fz_report(fz, phase);
	/* close() returned: the release stopped every run of the pool. */
	r = pvlock_sysfs_u64(PVLOCK_SYSFS "runs_active", &active) ||
	    pvlock_sysfs_u64(PVLOCK_SYSFS "locks_in_use", &inuse);
	if (!r && (active != fz->active0 || inuse))
		fz_fail(fz, "all fds closed, but runs_active %llu (%llu before), locks_in_use %llu",
			(unsigned long long)active,
			(unsigned long long)fz->active0,
			(unsigned long long)inuse);
	r = fz_restore_knobs(fz);
	if (r)
		fz_fail(fz, "restoring backend %s and spin_threshold %u: %s",
			fz_backends[fz->backend0], fz->threshold0,
			strerror(-r));
	for (i = 0; i < fz->nfail && i < FZ_MAX_FAILS; i++)
		TH_LOG("%s", fz->fail[i]);
	ASSERT_EQ(0U, fz->nfail)
		TH_LOG("%u unexpected results (seed %llu)", fz->nfail,
		       (unsigned long long)fz->seed);
	n = dup(0);
	close(n);
	ASSERT_EQ(fz->low_fd, n) TH_LOG("an fd number leaked");
}

/* One thread, every result predicted from a model of every fd. */
TEST_F_TIMEOUT(fuzz, strict, 600)
{
	struct fz_thread *t = &self->main;
	unsigned long i;

	fz_start(self->fz, "strict");
	fz_fill_all(t);
	for (i = 0; i < self->fz->iters && !fz_time_up(self->fz, i); i++)
		fz_step(t);
	fz_finish(_metadata, t, "strict, 1 thread");
}

/*
 * Threads on a shared pool, one more closing and reopening fds under them,
 * one more writing the sysfs knobs.
 */
TEST_F_TIMEOUT(fuzz, chaos, 600)
{
	struct fz_thread *th;
	struct fz *fz = self->fz;
	const int nr = FZ_THREADS + 2;
	char phase[80];
	int i, started;

	fz->racy = true;
	fz_start(fz, "chaos");
	th = calloc(nr, sizeof(*th));
	ASSERT_NE(NULL, th);
	fz_fill_all(&self->main);
	for (i = 0; i < nr; i++)
		if (fz_thread_init(&th[i], fz, i + 1))
			break;
	ASSERT_EQ(nr, i);
	/* Threads are joined before anything is asserted. */
	for (started = 0; started < nr; started++)
		if (pthread_create(&th[started].tid, NULL,
				   started < FZ_THREADS ? fz_worker :
				   started == FZ_THREADS ? fz_closer :
				   fz_sysfs_writer, &th[started]))
			break;
	for (i = 0; i < started && i < FZ_THREADS; i++)
		pthread_join(th[i].tid, NULL);
	atomic_store(&fz->stop, true);
	for (i = FZ_THREADS; i < started; i++)
		pthread_join(th[i].tid, NULL);
	for (i = 0; i < nr; i++)
		fz_thread_fini(&th[i]);
	free(th);
	ASSERT_EQ(nr, started);
	snprintf(phase, sizeof(phase),
		 "chaos, %d threads + 1 closing fds + 1 writing sysfs",
		 FZ_THREADS);
	fz_finish(_metadata, &self->main, phase);
}

/* After all that, a plain run still works and reports exactly. */
TEST_F(fuzz, fresh_run_exact)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	__u64 active0, active;

	ASSERT_EQ(0, pvlock_sysfs_u64(PVLOCK_SYSFS "runs_active", &active0));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(), 20, 200, 200,
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS);
	pvlock_must_run(_metadata, &p, &r);
	pvlock_expect_sane(_metadata, &p, &r);
	ASSERT_EQ(0U, r.status);
	ASSERT_EQ(PVLOCK_U64(0), r.violations);
	ASSERT_EQ(PVLOCK_U64(0), r.fifo_violations);
	ASSERT_EQ(PVLOCK_U64(0), r.lost_wakeups);
	ASSERT_LT(PVLOCK_U64(0), r.acquisitions);
	ASSERT_EQ(0, pvlock_sysfs_u64(PVLOCK_SYSFS "runs_active", &active));
	ASSERT_EQ(active0, active);
}

TEST_HARNESS_MAIN
