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
#include "../lib/vmaccel_fuzz.h"

/*
 * The time bound is what ends a phase in a TCG VM (about 12 s each); the
 * operation count bounds fast machines.
 */
#define FZ_DEFAULT_ITERS	200000
#define FZ_DEFAULT_SECS		12
#define FZ_THREADS		4
/* Other ioctl numbers tried: the module's range [BASE, BASE + SPAN). */
#define FZ_CMD_NR_BASE		0x70
#define FZ_CMD_NR_SPAN		32

/* The pool: a fixed fd number per slot, from FZ_FD_BASE up. */
#define FZ_FD_BASE		300
#define FZ_FD_NEVER		(FZ_FD_BASE - 1)	/* never opened */
#define FZ_NR_DEV		8

enum fz_kind { FZ_DEV, FZ_MISC };
enum fz_misc { FZ_PIPE_R, FZ_MEMFD, FZ_DEVNULL, FZ_OPATH, FZ_NR_MISC };

#define FZ_NR_SLOTS	(FZ_NR_DEV + FZ_NR_MISC)

/* Slot states (a slot's fd number is open exactly while it is FULL). */
#define FZ_EMPTY	VMACCEL_FUZZ_EMPTY
#define FZ_BUSY		VMACCEL_FUZZ_BUSY
#define FZ_FULL		VMACCEL_FUZZ_FULL

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

#define B(e)		VMACCEL_FUZZ_B(e)
#define FZ_OK		B(0)

/* Backends by enum vmaccel_pvlock_backend value. */
static const char * const fz_backends[] = { "spin", "ipi", "kvm" };
#define FZ_NR_BACKENDS	3

struct fz {
	struct vmaccel_fuzz c;		/* seed, phase, failure log, counts */
	struct fz_slot slot[FZ_NR_SLOTS];
	int nr_cpus;
	bool avail[FZ_NR_BACKENDS];
	/* sysfs at the start, restored after each phase */
	int backend0;
	__u32 threshold0;
	/* the model of sysfs, strict phase */
	int backend;
	__u32 threshold;
	__u64 active0;			/* runs_active at the start of the phase */
	atomic_ulong runs, results, acquisitions;
};

struct fz_thread {
	struct vmaccel_fuzz_thread c;	/* first: vmaccel_fuzz_run_threads() */
	struct fz *fz;
};

/* The framework's helpers on this fuzzer's structs. */
#define fz_rand(t)		vmaccel_fuzz_rand(&(t)->c)
#define fz_below(t, n)		vmaccel_fuzz_below(&(t)->c, n)
#define fz_chance(t, pct)	vmaccel_fuzz_chance(&(t)->c, pct)
#define fz_count(t, call, err)	vmaccel_fuzz_count(&(t)->c, call, err)
#define fz_range_ok(t, p, n, w)	vmaccel_fuzz_range_ok(&(t)->c, p, n, w)
#define fz_fail(fz, ...)	vmaccel_fuzz_fail(&(fz)->c, __VA_ARGS__)

/* --- randomness --- */

static __u32 fz_range(struct fz_thread *t, __u32 lo, __u32 hi)
{
	return lo + (__u32)(fz_rand(t) % ((__u64)hi - lo + 1));
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
	if (p->kind > VMACCEL_PVLOCK_KIND_UNFAIR)
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
	if (p->kind != VMACCEL_PVLOCK_KIND_PV &&
	    p->kind != VMACCEL_PVLOCK_KIND_PV_NOKICK && p->flags & pv_only)
		return false;
	if (p->kind != VMACCEL_PVLOCK_KIND_PV &&
	    p->flags & VMACCEL_PVLOCK_RUN_API)
		return false;
	if (p->kind == VMACCEL_PVLOCK_KIND_PV_NOKICK &&
	    p->flags & VMACCEL_PVLOCK_RUN_IRQS_OFF)
		return false;
	if (p->flags & VMACCEL_PVLOCK_RUN_API &&
	    p->flags & (VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			VMACCEL_PVLOCK_RUN_VERIFY_KICKS))
		return false;
	if (p->flags & VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK &&
	    (p->kind != VMACCEL_PVLOCK_KIND_PV ||
	     p->flags & (VMACCEL_PVLOCK_RUN_API | VMACCEL_PVLOCK_RUN_IRQS_OFF)))
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
		else
			p.flags = fz_below(t, 2) *
				  VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK;
	}
	if (fz_chance(t, 30) &&
	    !(p.flags & VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK))
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
	else if (r < 96 || t->fz->c.racy)
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
			p.flags = fz_chance(t, 50) ? vmaccel_fuzz_flip(&t->c, p.flags, 100) :
				  fz_below(t, 2 * VMACCEL_PVLOCK_RUN_FLAGS + 2);
			break;
		case 1:
			p.kind = fz_chance(t, 50) ? fz_below(t, 8) :
				 fz_any_value(t, 0, VMACCEL_PVLOCK_KIND_UNFAIR);
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
			p.reserved = vmaccel_fuzz_flip(&t->c, p.reserved, 100);
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

	if (!vmaccel_fuzz_claim(&s->state, FZ_EMPTY, FZ_BUSY))
		return;
	fd = s->kind == FZ_DEV ? pvlock_open() : fz_new_misc(s->misc);
	err = fd < 0 ? errno : 0;
	if (s->kind == FZ_DEV && err && !(fz->c.faulty && err == ENOMEM))
		fz_fail(fz, "open %s: %s", PVLOCK_DEV, strerror(err));
	if (vmaccel_fuzz_place_fd(&fz->c, s->num, fd)) {
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

	if (!vmaccel_fuzz_claim(&s->state, FZ_FULL, FZ_BUSY))
		return;
	err = close(s->num) ? errno : 0;
	fz_count(t, FZ_C_CLOSE, err);
	if (err)
		fz_fail(fz, "close(%d) of a pool fd: %s", s->num, strerror(err));
	atomic_fetch_add(&fz->c.closes, 1);
	atomic_store(&s->state, FZ_EMPTY);
}

/* --- picking fds --- */

/* Any fd: mostly the device, else a pool slot of any kind or a bad number. */
static int fz_any_fd(struct fz_thread *t)
{
	if (fz_chance(t, 80))
		return fz_dev_slot(t)->num;
	if (fz_chance(t, 30))
		return vmaccel_fuzz_special_fd(&t->c, FZ_FD_NEVER);
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
	if (!fz->c.racy && atomic_load(&s->state) != FZ_FULL)
		return FK_BAD;
	if (s->kind == FZ_DEV)
		k = FK_DEV;
	else
		k = s->misc == FZ_OPATH ? FK_BAD : FK_FILE;
	return k | (fz->c.racy ? FK_BAD : 0);
}

/* Where the arena's read-only page keeps a valid run structure. */
#define FZ_RO_RUN_OFF	256

/* --- building calls --- */

/* Whether a blocking RESULT on slot @s could wait for a long run. */
static bool fz_may_wait_long(struct fz *fz, const struct fz_slot *s)
{
	if (fz->c.racy)
		return false;	/* chaos runs are all short */
	return s && s->kind == FZ_DEV && s->run == FZ_RUN_STARTED &&
	       !s->stopped && s->p.duration_ms > FZ_SHORT_MS;
}

static void fz_build(struct fz_thread *t, struct vmaccel_fuzz_call *c)
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
		u.res.flags = vmaccel_fuzz_flip(&t->c, u.res.flags, 8);
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
	c->arg = vmaccel_fuzz_pointer(&t->c, size, 85, 2, FZ_RO_RUN_OFF, "ro-run",
				      &c->argname);
	vmaccel_fuzz_put(&t->c, c->arg, &u, size);
}

/* A command number: usually @what's, else one next to it. */
static unsigned long fz_cmd(struct fz_thread *t, int what)
{
	static const unsigned int sizes[] = {
		0, 1, 4, 8, 28, 31, 32, 33, 64, 1208, 1215, 1216, 1217, 16383,
	};

	return vmaccel_fuzz_cmd(&t->c, fz_cmds[what], sizes, ARRAY_SIZE(sizes),
				FZ_CMD_NR_BASE, FZ_CMD_NR_SPAN);
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

static __u64 fz_expect_start(struct fz_thread *t, const struct vmaccel_fuzz_call *c,
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
	if (t->fz->c.racy)
		return mask | FZ_OK | B(EBUSY);
	fz_run_state(s, after, &running, &over);
	if (running)
		mask |= B(EBUSY);
	if (!running || over)
		mask |= FZ_OK;
	return mask;
}

static __u64 fz_expect_result(struct fz_thread *t, const struct vmaccel_fuzz_call *c,
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
	if (t->fz->c.racy) {
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

static __u64 fz_expect_ioctl(struct fz_thread *t, const struct vmaccel_fuzz_call *c,
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
		if (t->fz->c.racy || s->run == FZ_RUN_NONE)
			mask |= B(ENODATA);
		if (t->fz->c.racy || s->run != FZ_RUN_NONE)
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
	    (fail && r->run.kind != VMACCEL_PVLOCK_KIND_BROKEN &&
	     r->run.kind != VMACCEL_PVLOCK_KIND_PV_NOKICK &&
	     r->run.kind != VMACCEL_PVLOCK_KIND_UNFAIR))
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
static void fz_after(struct fz_thread *t, const struct vmaccel_fuzz_call *c, int err,
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
		if (fz->c.racy)
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
			if (!fz->c.racy) {
				s->run = FZ_RUN_DONE;
				fz_check_res_model(t, s, &r);
			}
		} else if (err == EFAULT && !fz->c.racy &&
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
		if (err == 0 && !fz->c.racy && s->run == FZ_RUN_STARTED)
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
	struct vmaccel_fuzz_call c;
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
	c.call = vmaccel_fuzz_call_of(c.cmd, fz_cmds, FZ_C_BADCMD);
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
	if (fz->c.faulty)
		mask |= B(ENOMEM) | B(EFAULT);
	if (err >= 64 || !(mask & B(err)) || ret > 0) {
		vmaccel_fuzz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "ioctl(%d, %#lx [%s], %s %s) = %d (%s), expected {%s}",
			c.fd, c.cmd, fz_call_names[c.call],
			fz_call_names[c.what], c.argname, ret, vmaccel_fuzz_errname(err),
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
	else if (fz->c.racy || fz->active0 || fz_any_run_active(fz))
		mask = FZ_OK | B(EBUSY);
	else
		mask = FZ_OK;
	if (fz->c.faulty)
		mask |= B(ENOMEM);
	err = -pvlock_sysfs_write(PVLOCK_SYSFS "backend", w);
	fz_count(t, FZ_C_BACKEND, err);
	if (err >= 64 || !(mask & B(err))) {
		vmaccel_fuzz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "write \"%s\" to backend: %s, expected {%s}%s", w,
			vmaccel_fuzz_errname(err), want,
			err == EBUSY ? " (no run active: runs_active leaked?)" : "");
	}
	if (!err && !fz->c.racy)
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
	if (fz->c.faulty)
		mask |= B(ENOMEM);
	err = -pvlock_sysfs_write(PVLOCK_SYSFS "spin_threshold", w);
	fz_count(t, FZ_C_THRESHOLD, err);
	if (err >= 64 || !(mask & B(err))) {
		vmaccel_fuzz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "write \"%s\" to spin_threshold: %s, expected {%s}",
			w, vmaccel_fuzz_errname(err), want);
	}
	if (!err && !fz->c.racy)
		fz->threshold = v;
}

/* --- threads and phases --- */

/* One random operation. */
static void fz_step(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	unsigned int r = fz_below(t, 100);

	if (fz->c.racy || r < 88)
		fz_ioctl(t);
	else if (r < 91)
		fz_close_slot(t, fz_dev_slot(t));
	else if (r < 94)
		vmaccel_fuzz_fill_any(&t->c);
	else if (r < 97)
		fz_sysfs_backend(t);
	else
		fz_sysfs_threshold(t);
}

/* The framework's view of the pool and of the operations. */
VMACCEL_FUZZ_DEFINE_OPS(fz_ops, 16, 3);

/* The read-only page of the arena: zeroes, and a valid run at one offset. */
static int fz_thread_init(struct fz_thread *t, struct fz *fz, int idx)
{
	struct vmaccel_pvlock_run p = {
		.kind = VMACCEL_PVLOCK_KIND_SPINLOCK,
		.nr_threads = 2,
		.duration_ms = 1,
	};

	t->fz = fz;
	return vmaccel_fuzz_thread_init(&t->c, &fz->c, idx, &p, sizeof(p),
					FZ_RO_RUN_OFF);
}

/* Writes the sysfs knobs while runs start and end. */
static void *fz_sysfs_writer(void *arg)
{
	struct fz_thread *t = arg;
	struct fz *fz = t->fz;

	while (!atomic_load(&fz->c.stop)) {
		if (fz_chance(t, 50))
			fz_sysfs_backend(t);
		else
			fz_sysfs_threshold(t);
		pvlock_sleep_ms(1 + fz_below(t, 4));
	}
	return NULL;
}

static void fz_report(struct fz *fz, const char *phase)
{
	static const char fmt[] =
		"fuzz: %lu runs started, %lu results (%lu acquisitions), %lu pool fds closed%s";

	vmaccel_fuzz_report(&fz->c, phase);
	vmaccel_fuzz_msg(fmt, atomic_load(&fz->runs),
			 atomic_load(&fz->results),
			 atomic_load(&fz->acquisitions),
			 atomic_load(&fz->c.closes),
			 vmaccel_fuzz_timed_out_str(&fz->c));
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
	struct fz *fz;
	char buf[64];
	int i;

	fz = calloc(1, sizeof(*fz));
	ASSERT_NE(NULL, fz);
	self->fz = fz;
	fz->c.faulty = vmaccel_fault_injected();
	vmaccel_fuzz_setup(_metadata, &fz->c, &fz_ops, fz_call_names,
			   FZ_NR_CALLS, FZ_DEFAULT_ITERS, FZ_FD_BASE, FZ_NR_SLOTS);
	fz->nr_cpus = pvlock_nr_cpus();
	for (i = 0; i < FZ_NR_SLOTS; i++) {
		struct fz_slot *s = &fz->slot[i];

		s->num = FZ_FD_BASE + i;
		atomic_init(&s->state, FZ_EMPTY);
		s->kind = i < FZ_NR_DEV ? FZ_DEV : FZ_MISC;
		s->misc = i < FZ_NR_DEV ? 0 : i - FZ_NR_DEV;
	}
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
	vmaccel_fuzz_note_low_fd(_metadata, &fz->c);
	ASSERT_EQ(0, fz_thread_init(&self->main, fz, 0));
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fz *fz = self->fz;

	if (!fz)
		return;
	vmaccel_fuzz_teardown(&self->main.c);
	fz_restore_knobs(fz);
	free(fz);
}

static void fz_start(struct fz *fz, const char *phase)
{
	vmaccel_fuzz_start(&fz->c, phase, FZ_DEFAULT_SECS);
	/* Runs of other programs may be counted still; only ours matter. */
	if (pvlock_sysfs_u64(PVLOCK_SYSFS "runs_active", &fz->active0))
		fz_fail(fz, "read runs_active: %s", strerror(errno));
	else if (fz->active0)
		vmaccel_fuzz_msg("fuzz: %llu runs active before the phase",
				 (unsigned long long)fz->active0);
}

/* After a phase: everything reported, everything closed, nothing left. */
static void fz_finish(struct __test_metadata *_metadata, struct fz_thread *t,
		      const char *phase)
{
	struct fz *fz = t->fz;
	__u64 active = 0, inuse = 0;
	int r;

	vmaccel_fuzz_close_all(&t->c);
	vmaccel_fuzz_thread_fini(&t->c);
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
	vmaccel_fuzz_finish(_metadata, &fz->c);
}

/* One thread, every result predicted from a model of every fd. */
TEST_F_TIMEOUT(fuzz, strict, 600)
{
	struct fz_thread *t = &self->main;

	fz_start(self->fz, "strict");
	vmaccel_fuzz_run_strict(&t->c);
	fz_finish(_metadata, t, "strict, 1 thread");
}

/*
 * Threads on a shared pool, one more closing and reopening fds under them,
 * one more writing the sysfs knobs.
 */
TEST_F_TIMEOUT(fuzz, chaos, 600)
{
	void *(*const helpers[])(void *) = { fz_sysfs_writer };
	struct fz *fz = self->fz;
	struct fz_thread *th;
	const int nr = FZ_THREADS + 2;
	char phase[80];
	int i, started;

	fz->c.racy = true;
	fz_start(fz, "chaos");
	th = calloc(nr, sizeof(*th));
	ASSERT_NE(NULL, th);
	vmaccel_fuzz_fill_all(&self->main.c);
	for (i = 0; i < nr; i++)
		if (fz_thread_init(&th[i], fz, i + 1))
			break;
	ASSERT_EQ(nr, i);
	/* Threads are joined before anything is asserted. */
	started = vmaccel_fuzz_run_threads(&fz->c, th, sizeof(*th), nr,
					   FZ_THREADS, helpers);
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
