// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: a fuzzer that knows the ioctl structures.
 *
 * It starts from valid calls on /dev/vmaccel-vic and on coalescer fds and
 * mutates them: bits of flags and reserved fields, boundary and random
 * values in every parameter, every kind of fd in every fd position (eventfds,
 * dups of them, closed fds, -1, huge numbers, a pipe, a regular file,
 * /dev/null, an O_PATH fd, the device, a coalescer, the same fd twice),
 * neighbouring ioctl numbers (other sizes and directions, other numbers) and
 * bad pointers (NULL, 1, a kernel address, an unmapped page, a read-only
 * page for output, structures straddling into those).  Calls come in random
 * order with writes to source eventfds and reads of targets in between.
 *
 * Two phases:
 *
 * - strict: one thread.  The state of every fd is known, so the result of
 *   each call is predicted: success, or the set of errnos that apply to the
 *   input (whichever check the kernel makes first).  GET_PARAMS and
 *   GET_STATS are checked against a model of every coalescer, and every
 *   CREATE against the "coalescers" counter and the fd table.
 * - chaos: FZ_THREADS threads on a shared pool of fds while one more thread
 *   closes and replaces fds of the pool under them.  A pool fd may be closed
 *   at any moment, so EBADF is always allowed; everything else is predicted
 *   as in the strict phase.
 *
 * Every errno is counted per call and printed at the end ("fuzz: ...").
 * After each phase everything is closed and no coalescer and no fd number
 * may be left behind.  A last test checks that a fresh coalescer still
 * counts exactly.
 *
 * Every pool fd lives at a fixed fd number that belongs to one role (placed
 * there with dup3()), so a stale number is either closed or an object of the
 * same role.  Eventfds come in FZ_LAYERS layers and a coalescer is only ever
 * created from a lower layer to a higher one: the fuzzer never builds a
 * cycle of coalescers (two coalescers in "off" mode feeding each other
 * deliver to each other forever).
 *
 * Environment: VMACCEL_FUZZ_SEED (replays the strict phase exactly; the
 * chaos phase also depends on the interleaving), VMACCEL_FUZZ_ITERS
 * (operations per phase), VMACCEL_FUZZ_SECS (time bound per phase).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "vic_util.h"
#include "../lib/vmaccel_fuzz.h"

/*
 * Operations per phase: about 25 s for the whole program in a TCG VM.  A
 * phase also stops after FZ_DEFAULT_SECS (a bound for debug kernels, not a
 * measurement).
 */
#define FZ_DEFAULT_ITERS	300000
#define FZ_DEFAULT_SECS		60
#define FZ_THREADS		4
/* Other ioctl numbers tried: the module's range [BASE, BASE + SPAN). */
#define FZ_CMD_NR_BASE		0
#define FZ_CMD_NR_SPAN		16

/* The pool: a fixed fd number per slot, from FZ_FD_BASE up. */
#define FZ_FD_BASE		300
#define FZ_FD_NEVER		(FZ_FD_BASE - 1)	/* never opened */
#define FZ_LAYERS		3
#define FZ_EFD_PER_LAYER	6
#define FZ_NR_DEV		3
#define FZ_NR_COAL		16

enum fz_kind { FZ_EFD, FZ_DEV, FZ_COAL, FZ_MISC };
enum fz_misc { FZ_PIPE_R, FZ_PIPE_W, FZ_MEMFD, FZ_DEVNULL, FZ_OPATH, FZ_NR_MISC };

#define FZ_NR_SLOTS	(FZ_LAYERS * FZ_EFD_PER_LAYER + FZ_NR_DEV + \
			 FZ_NR_COAL + FZ_NR_MISC)
#define FZ_FIRST_DEV	(FZ_LAYERS * FZ_EFD_PER_LAYER)
#define FZ_FIRST_COAL	(FZ_FIRST_DEV + FZ_NR_DEV)
#define FZ_FIRST_MISC	(FZ_FIRST_COAL + FZ_NR_COAL)

/* Slot states (a slot's fd number is open exactly while it is FULL). */
#define FZ_EMPTY	VMACCEL_FUZZ_EMPTY
#define FZ_BUSY		VMACCEL_FUZZ_BUSY
#define FZ_FULL		VMACCEL_FUZZ_FULL

struct fz_slot {
	int num;
	enum fz_kind kind;
	int layer;			/* FZ_EFD */
	enum fz_misc misc;		/* FZ_MISC */
	atomic_int state;
	/* The model, strict phase only. */
	unsigned int obj;		/* FZ_EFD: eventfd identity (dups share it) */
	struct vmaccel_vic_params params;	/* FZ_COAL */
	__u32 cif;
	struct vmaccel_vic_stats last;
};

/* Histogram rows. */
enum {
	FZ_C_CREATE, FZ_C_SET_PARAMS, FZ_C_GET_PARAMS, FZ_C_GET_STATS,
	FZ_C_SET_CIF, FZ_C_FLUSH, FZ_C_BADCMD, FZ_C_WRITE, FZ_C_READ,
	FZ_NR_CALLS
};

static const char * const fz_call_names[FZ_NR_CALLS] = {
	"CREATE", "SET_PARAMS", "GET_PARAMS", "GET_STATS", "SET_CIF",
	"FLUSH", "other-cmd", "write", "read",
};

static const unsigned long fz_cmds[FZ_C_BADCMD] = {
	VMACCEL_VIC_CREATE, VMACCEL_VIC_SET_PARAMS, VMACCEL_VIC_GET_PARAMS,
	VMACCEL_VIC_GET_STATS, VMACCEL_VIC_SET_CIF, VMACCEL_VIC_FLUSH,
};

#define B(e)		VMACCEL_FUZZ_B(e)
#define FZ_OK		B(0)
/* What any call of the ioctl ABI may return. */
#define FZ_IOCTL_ALLOWED (FZ_OK | B(EINVAL) | B(EBADF) | B(EFAULT) | \
			  B(ENOTTY) | B(ENOMEM) | B(EMFILE))

struct fz {
	struct vmaccel_fuzz c;		/* seed, phase, failure log, counts */
	int dev;			/* private device fd, for refills */
	struct fz_slot slot[FZ_NR_SLOTS];
	struct vmaccel_vic_params defaults;
	unsigned int next_obj;
	__u64 coalescers0;		/* "coalescers" at start */
	unsigned int live;		/* strict: coalescers in the pool */
	atomic_ulong created, skipped;
};

/* Each thread's: the framework's part first (vmaccel_fuzz_run_threads()). */
struct fz_thread {
	struct vmaccel_fuzz_thread c;
	struct fz *fz;
};

/* Short names of the framework's helpers, on this fuzzer's structs. */
#define fz_fail(fz, ...)	vmaccel_fuzz_fail(&(fz)->c, __VA_ARGS__)
#define fz_rand(t)		vmaccel_fuzz_rand(&(t)->c)
#define fz_below(t, n)		vmaccel_fuzz_below(&(t)->c, n)
#define fz_chance(t, pct)	vmaccel_fuzz_chance(&(t)->c, pct)
#define fz_count(t, call, err)	vmaccel_fuzz_count(&(t)->c, call, err)
#define fz_range_ok(t, p, n, w)	vmaccel_fuzz_range_ok(&(t)->c, p, n, w)
#define fz_claim(s, from)	vmaccel_fuzz_claim(&(s)->state, from, FZ_BUSY)

/* --- randomness --- */

/* --- parameters --- */

struct fz_limit {
	__u32 min, max;
};

/* The ABI limits of the fields of struct vmaccel_vic_params, in order. */
static const struct fz_limit fz_limits[6] = {
	{ VMACCEL_VIC_MODE_OFF, VMACCEL_VIC_MODE_ADAPTIVE },
	{ 1, VMACCEL_VIC_RATIO_MAX },
	{ 0, VMACCEL_VIC_CIF_THRESHOLD_MAX },
	{ 0, VMACCEL_VIC_IOPS_THRESHOLD_MAX },
	{ VMACCEL_VIC_DELAY_US_MIN, VMACCEL_VIC_DELAY_US_MAX },
	{ 1, VMACCEL_VIC_RATIO_MAX },
};

static __u32 *fz_field(struct vmaccel_vic_params *p, int i)
{
	__u32 *f[6] = {
		&p->mode, &p->fixed_ratio, &p->cif_threshold,
		&p->iops_threshold, &p->max_delay_us, &p->max_ratio,
	};

	return f[i];
}

static bool fz_params_valid(const struct vmaccel_vic_params *p)
{
	struct vmaccel_vic_params q = *p;
	__u32 v;
	int i;

	for (i = 0; i < 6; i++) {
		v = *fz_field(&q, i);
		if (v < fz_limits[i].min || v > fz_limits[i].max)
			return false;
	}
	return true;
}

static bool fz_params_zero(const struct vmaccel_vic_params *p)
{
	static const struct vmaccel_vic_params zero;

	return !memcmp(p, &zero, sizeof(zero));
}

/* A value in [min, max], biased towards the ends and small values. */
static __u32 fz_valid_value(struct fz_thread *t, const struct fz_limit *l)
{
	__u64 span = (__u64)l->max - l->min + 1;

	switch (fz_below(t, 4)) {
	case 0:
		return l->min;
	case 1:
		return l->max;
	case 2:
		return l->min + (__u32)(fz_rand(t) % (span < 64 ? span : 64));
	default:
		return l->min + (__u32)(fz_rand(t) % span);
	}
}

static __u32 fz_any_value(struct fz_thread *t, const struct fz_limit *l)
{
	switch (fz_below(t, 8)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return l->max;
	case 3:
		return l->max + 1;
	case 4:
		return l->min - 1;
	case 5:
		return UINT32_MAX;
	case 6:
		return 1U << fz_below(t, 32);
	default:
		return (__u32)fz_rand(t);
	}
}

static struct vmaccel_vic_params fz_valid_params(struct fz_thread *t)
{
	struct vmaccel_vic_params p;
	int i;

	for (i = 0; i < 6; i++)
		*fz_field(&p, i) = fz_valid_value(t, &fz_limits[i]);
	return p;
}

/* Valid parameters, then (usually) a few fields set to anything. */
static struct vmaccel_vic_params fz_mutated_params(struct fz_thread *t)
{
	struct vmaccel_vic_params p = fz_valid_params(t);
	int i, n;

	if (fz_chance(t, 40))
		return p;
	n = 1 + fz_below(t, 3);
	for (i = 0; i < n; i++) {
		int f = fz_below(t, 6);

		*fz_field(&p, f) = fz_any_value(t, &fz_limits[f]);
	}
	return p;
}

/* --- the pool --- */

static int fz_layer_of(int num)
{
	int i = num - FZ_FD_BASE;

	if (i < 0 || i >= FZ_FIRST_DEV)
		return -1;
	return i / FZ_EFD_PER_LAYER;
}

static struct fz_slot *fz_slot_of(struct fz *fz, int num)
{
	int i = num - FZ_FD_BASE;

	if (i < 0 || i >= FZ_NR_SLOTS)
		return NULL;
	return &fz->slot[i];
}

static struct fz_slot *fz_efd_slot(struct fz_thread *t, int layer)
{
	return &t->fz->slot[layer * FZ_EFD_PER_LAYER +
			    fz_below(t, FZ_EFD_PER_LAYER)];
}

static struct fz_slot *fz_coal_slot(struct fz_thread *t)
{
	return &t->fz->slot[FZ_FIRST_COAL + fz_below(t, FZ_NR_COAL)];
}

static struct fz_slot *fz_dev_slot(struct fz_thread *t)
{
	return &t->fz->slot[FZ_FIRST_DEV + fz_below(t, FZ_NR_DEV)];
}

static int fz_new_misc(enum fz_misc m)
{
	int p[2], fd;

	switch (m) {
	case FZ_PIPE_R:
	case FZ_PIPE_W:
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			return -1;
		/* Keep one end only: reads see EOF, writes EPIPE. */
		fd = m == FZ_PIPE_R ? p[0] : p[1];
		close(m == FZ_PIPE_R ? p[1] : p[0]);
		return fd;
	case FZ_MEMFD:
		return memfd_create("vic-fuzz", MFD_CLOEXEC);
	case FZ_DEVNULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	default:
		return open(VIC_DEV, O_PATH | O_CLOEXEC);
	}
}

static void fz_adopt_coal(struct fz_thread *t, int fd,
			  const struct vmaccel_vic_params *p,
			  struct fz_slot *into);

/*
 * A valid CREATE between eventfds of two layers of the pool, through the
 * private device fd; the coalescer goes to slot @s (claimed by the caller).
 */
static void fz_fill_coal(struct fz_thread *t, struct fz_slot *s)
{
	struct fz *fz = t->fz;
	struct vmaccel_vic_create c;
	struct fz_slot *src, *dst;
	int fd, err, a;

	memset(&c, 0, sizeof(c));
	a = fz_below(t, FZ_LAYERS - 1);
	src = fz_efd_slot(t, a);
	dst = fz_efd_slot(t, a + 1 + fz_below(t, FZ_LAYERS - 1 - a));
	if (!fz->c.racy && (atomic_load(&src->state) != FZ_FULL ||
			    atomic_load(&dst->state) != FZ_FULL)) {
		atomic_store(&s->state, FZ_EMPTY);
		return;
	}
	c.src_fd = src->num;
	c.dst_fd = dst->num;
	if (fz_chance(t, 70)) {
		c.flags = VMACCEL_VIC_CREATE_PARAMS;
		c.params = fz_valid_params(t);
	}
	fd = ioctl(fz->dev, VMACCEL_VIC_CREATE, &c);
	err = fd < 0 ? errno : 0;
	fz_count(t, FZ_C_CREATE, err);
	/* The eventfds may have been closed under us: EBADF. */
	if (err && (!fz->c.racy || err != EBADF))
		fz_fail(fz, "valid CREATE(src %d, dst %d): %s", c.src_fd,
			c.dst_fd, vmaccel_fuzz_errname(err));
	if (fd < 0) {
		atomic_store(&s->state, FZ_EMPTY);
		return;
	}
	fz_adopt_coal(t, fd, c.flags ? &c.params : &fz->defaults, s);
}

/* Open a new fd of the slot's kind into an empty slot. */
static void fz_fill(struct fz_thread *t, struct fz_slot *s)
{
	struct fz *fz = t->fz;
	struct fz_slot *o;
	int fd;

	if (!fz_claim(s, FZ_EMPTY))
		return;
	switch (s->kind) {
	case FZ_EFD:
		o = fz_efd_slot(t, s->layer);
		if (o != s && fz_chance(t, 30) &&
		    (fz->c.racy || atomic_load(&o->state) == FZ_FULL) &&
		    dup3(o->num, s->num, O_CLOEXEC) == s->num) {
			/* A dup of another eventfd of the same layer. */
			if (!fz->c.racy)
				s->obj = o->obj;
			break;
		}
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC |
			     (fz_chance(t, 20) ? EFD_SEMAPHORE : 0));
		if (vmaccel_fuzz_place_fd(&fz->c, s->num, fd)) {
			atomic_store(&s->state, FZ_EMPTY);
			return;
		}
		if (!fz->c.racy)
			s->obj = ++fz->next_obj;
		break;
	case FZ_DEV:
		if (vmaccel_fuzz_place_fd(&fz->c, s->num, vic_open_dev())) {
			atomic_store(&s->state, FZ_EMPTY);
			return;
		}
		break;
	case FZ_COAL:
		fz_fill_coal(t, s);	/* stores the state itself */
		return;
	case FZ_MISC:
		if (vmaccel_fuzz_place_fd(&fz->c, s->num, fz_new_misc(s->misc))) {
			atomic_store(&s->state, FZ_EMPTY);
			return;
		}
		break;
	}
	atomic_store(&s->state, FZ_FULL);
}

static void fz_close_slot(struct fz_thread *t, struct fz_slot *s)
{
	struct fz *fz = t->fz;

	if (!fz_claim(s, FZ_FULL))
		return;
	if (close(s->num))
		fz_fail(fz, "close(%d) of a pool fd: %s", s->num,
			strerror(errno));
	if (s->kind == FZ_COAL && !fz->c.racy)
		fz->live--;
	atomic_fetch_add(&fz->c.closes, 1);
	atomic_store(&s->state, FZ_EMPTY);
}

/* Strict phase: the module's coalescer count matches the pool. */
static void fz_check_live(struct fz *fz, const char *when)
{
	__u64 n;
	int r;

	if (fz->c.racy)
		return;
	r = vic_sysfs_u64("coalescers", &n);
	if (r)
		fz_fail(fz, "%s: read coalescers: %s", when, strerror(-r));
	else if (n != fz->coalescers0 + fz->live)
		fz_fail(fz, "%s: %llu coalescers, expected %llu", when,
			(unsigned long long)n,
			(unsigned long long)(fz->coalescers0 + fz->live));
}

/* Strict phase: no fd number was taken by a failed call. */
static void fz_check_fds(struct fz *fz, const char *when)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	if (fd != fz->c.low_fd)
		fz_fail(fz, "%s: lowest free fd is %d, was %d", when, fd,
			fz->c.low_fd);
}

/*
 * A new coalescer fd from CREATE: check it and move it into slot @into
 * (claimed by the caller) or into a coalescer slot of the pool, evicting
 * one if they are all full.
 */
static void fz_adopt_coal(struct fz_thread *t, int fd,
			  const struct vmaccel_vic_params *p,
			  struct fz_slot *into)
{
	struct fz *fz = t->fz;
	char link[64], path[64];
	struct fz_slot *s = into;
	int i, fl;
	ssize_t n;

	atomic_fetch_add(&fz->created, 1);
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || !(fl & FD_CLOEXEC))
		fz_fail(fz, "coalescer fd %d: not O_CLOEXEC", fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, "anon_inode:[vmaccel-vic]"))
		fz_fail(fz, "coalescer fd %d is \"%s\"", fd, link);

	for (i = 0; !s && i < 2 * FZ_NR_COAL; i++) {
		s = fz_coal_slot(t);
		if (i >= FZ_NR_COAL)
			fz_close_slot(t, s);
		if (!fz_claim(s, FZ_EMPTY))
			s = NULL;
	}
	if (!s || vmaccel_fuzz_place_fd(&fz->c, s->num, fd)) {
		if (!s)
			close(fd);
		else
			atomic_store(&s->state, FZ_EMPTY);
		if (!fz->c.racy)
			fz_fail(fz, "no room for a new coalescer");
		return;
	}
	s->params = *p;
	s->cif = 0;
	memset(&s->last, 0, sizeof(s->last));
	if (!fz->c.racy)
		fz->live++;
	atomic_store(&s->state, FZ_FULL);
}

/* --- picking fds and pointers --- */

/* Any fd the fuzzer uses: a pool slot of any kind or a bad number. */
static int fz_any_fd(struct fz_thread *t)
{
	if (fz_chance(t, 15))
		return vmaccel_fuzz_special_fd(&t->c, FZ_FD_NEVER);
	return t->fz->slot[fz_below(t, FZ_NR_SLOTS)].num;
}

/* What an fd number can be when the call runs. */
enum {
	FK_BAD = 1 << 0,	/* not open, or O_PATH */
	FK_EFD = 1 << 1,
	FK_DEV = 1 << 2,
	FK_COAL = 1 << 3,
	FK_FILE = 1 << 4,	/* open, none of ours, not an eventfd */
};

static unsigned int fz_kinds(struct fz *fz, int num, struct fz_slot **sp)
{
	struct fz_slot *s = fz_slot_of(fz, num);
	unsigned int k, bad;

	*sp = s;
	if (num == fz->dev)
		return FK_DEV;
	if (!s) {
		/* From memory we did not write: anything but ours. */
		if (num < 0 || num >= FZ_FD_NEVER)
			return FK_BAD;
		return FK_BAD | FK_FILE;
	}
	bad = fz->c.racy ? FK_BAD : 0;
	if (!fz->c.racy && atomic_load(&s->state) != FZ_FULL)
		return FK_BAD;
	switch (s->kind) {
	case FZ_EFD:
		k = FK_EFD;
		break;
	case FZ_DEV:
		k = FK_DEV;
		break;
	case FZ_COAL:
		k = FK_COAL;
		break;
	default:
		k = s->misc == FZ_OPATH ? FK_BAD : FK_FILE;
		break;
	}
	return k | bad;
}

/* Where the arena's read-only page keeps a valid params structure. */
#define FZ_RO_PARAMS_OFF	256

/* --- building calls --- */

static void fz_build_create(struct fz_thread *t, struct vmaccel_vic_create *c)
{
	struct fz *fz = t->fz;
	struct fz_slot *src, *dst, *o;
	int a, i;

	memset(c, 0, sizeof(*c));
	a = fz_below(t, FZ_LAYERS - 1);
	src = fz_efd_slot(t, a);
	dst = fz_efd_slot(t, a + 1 + fz_below(t, FZ_LAYERS - 1 - a));
	c->src_fd = src->num;
	c->dst_fd = dst->num;
	switch (fz_below(t, 12)) {
	case 0:
		c->src_fd = fz_any_fd(t);
		break;
	case 1:
		c->dst_fd = fz_any_fd(t);
		break;
	case 2:
		c->src_fd = fz_any_fd(t);
		c->dst_fd = c->src_fd;
		break;
	case 3:
		/* The same eventfd twice, through a dup if there is one. */
		c->dst_fd = c->src_fd;
		for (i = 0; !fz->c.racy && i < FZ_EFD_PER_LAYER; i++) {
			o = &fz->slot[a * FZ_EFD_PER_LAYER + i];
			if (o != src && o->obj == src->obj &&
			    atomic_load(&o->state) == FZ_FULL)
				c->dst_fd = o->num;
		}
		break;
	case 4:
		/* The device or a coalescer as an eventfd. */
		c->src_fd = fz_chance(t, 50) ? fz_dev_slot(t)->num :
					       fz_coal_slot(t)->num;
		break;
	default:
		break;
	}
	if (fz_chance(t, 75)) {
		c->flags = VMACCEL_VIC_CREATE_PARAMS;
		c->params = fz_mutated_params(t);
	} else if (fz_chance(t, 15)) {
		c->params = fz_mutated_params(t);	/* without the flag */
	}
	c->flags = vmaccel_fuzz_flip(&t->c, c->flags, 12);
	c->reserved = vmaccel_fuzz_flip(&t->c, c->reserved, 8);
}

/* Build the structure of command @what at a random pointer. */
static void fz_build(struct fz_thread *t, struct vmaccel_fuzz_call *c)
{
	union {
		struct vmaccel_vic_create create;
		struct vmaccel_vic_params params;
		struct vmaccel_vic_stats stats;
		struct vmaccel_vic_cif cif;
		unsigned char raw[128];
	} u;
	size_t size = 0;
	unsigned int i;

	for (i = 0; i < sizeof(u.raw); i++)
		u.raw[i] = (unsigned char)fz_rand(t);
	switch (c->what) {
	case FZ_C_CREATE:
		fz_build_create(t, &u.create);
		size = sizeof(u.create);
		break;
	case FZ_C_SET_PARAMS:
		u.params = fz_mutated_params(t);
		size = sizeof(u.params);
		break;
	case FZ_C_GET_PARAMS:
		size = sizeof(u.params);	/* output only: garbage in */
		break;
	case FZ_C_GET_STATS:
		if (fz_chance(t, 50))
			memset(&u.stats, 0, sizeof(u.stats));
		u.stats.flags = vmaccel_fuzz_flip(&t->c, 0, 12);
		size = sizeof(u.stats);
		break;
	case FZ_C_SET_CIF:
		u.cif.flags = vmaccel_fuzz_flip(&t->c, 0, 12);
		u.cif.cif = fz_any_value(t, &fz_limits[2]);
		size = sizeof(u.cif);
		break;
	default:
		size = 64;
		break;
	}
	c->arg = vmaccel_fuzz_pointer(&t->c, size, 80, 1, FZ_RO_PARAMS_OFF,
				      "ro-params", &c->argname);
	vmaccel_fuzz_put(&t->c, c->arg, &u, size);
}

/* A command number: usually @what's, else one next to it. */
static unsigned long fz_cmd(struct fz_thread *t, int what)
{
	static const unsigned int sizes[] = {
		0, 1, 4, 8, 23, 24, 25, 47, 48, 49, 79, 80, 81, 128, 16383,
	};

	return vmaccel_fuzz_cmd(&t->c, fz_cmds[what], sizes, ARRAY_SIZE(sizes),
				FZ_CMD_NR_BASE, FZ_CMD_NR_SPAN);
}

/* --- predicting results --- */

/* Errors of an fd as the source or target of CREATE, per possible kind. */
static __u64 fz_create_fd_errs(unsigned int k, bool *maybe_ok)
{
	__u64 e = 0;

	*maybe_ok = k & FK_EFD;
	if (k & FK_BAD)
		e |= B(EBADF);
	if (k & (FK_DEV | FK_COAL | FK_FILE))
		e |= B(EINVAL);
	return e;
}

static __u64 fz_expect_create(struct fz_thread *t, const struct vmaccel_fuzz_call *c)
{
	struct vmaccel_vic_create cr;
	struct fz *fz = t->fz;
	struct fz_slot *ss, *ds;
	unsigned int ks, kd;
	bool ok_s, ok_d;
	__u64 errs, mask;

	if (!fz_range_ok(t, c->arg, sizeof(cr), false))
		return B(EFAULT);
	memcpy(&cr, c->arg, sizeof(cr));
	errs = 0;
	if (cr.flags & ~VMACCEL_VIC_CREATE_FLAGS || cr.reserved)
		errs |= B(EINVAL);
	if (cr.flags & VMACCEL_VIC_CREATE_PARAMS ?
	    !fz_params_valid(&cr.params) : !fz_params_zero(&cr.params))
		errs |= B(EINVAL);
	ks = fz_kinds(fz, cr.src_fd, &ss);
	kd = fz_kinds(fz, cr.dst_fd, &ds);
	/* Every error that applies may be the one reported. */
	mask = errs | fz_create_fd_errs(ks, &ok_s) | fz_create_fd_errs(kd, &ok_d);
	if (ok_s && ok_d) {
		/*
		 * Both may be eventfds: the same one is an error.  (In the
		 * chaos phase they are always of different layers.)
		 */
		bool same = !fz->c.racy && ss && ds && ss->kind == FZ_EFD &&
			    ds->kind == FZ_EFD && ss->obj == ds->obj;

		if (same)
			mask |= B(EINVAL);
		else if (!errs)
			mask |= FZ_OK | B(ENOMEM);
	}
	return mask;
}

static __u64 fz_expect_coal(struct fz_thread *t, const struct vmaccel_fuzz_call *c)
{
	struct vmaccel_vic_params p;
	struct vmaccel_vic_stats st;
	struct vmaccel_vic_cif ci;
	__u64 mask;

	switch (c->call) {
	case FZ_C_SET_PARAMS:
		if (!fz_range_ok(t, c->arg, sizeof(p), false))
			return B(EFAULT);
		memcpy(&p, c->arg, sizeof(p));
		return fz_params_valid(&p) ? FZ_OK : B(EINVAL);
	case FZ_C_GET_PARAMS:
		return fz_range_ok(t, c->arg, sizeof(p), true) ? FZ_OK : B(EFAULT);
	case FZ_C_GET_STATS:
		if (!fz_range_ok(t, c->arg, sizeof(st), false))
			return B(EFAULT);
		memcpy(&st, c->arg, sizeof(st));
		mask = st.flags ? B(EINVAL) : 0;
		if (!fz_range_ok(t, c->arg, sizeof(st), true))
			mask |= B(EFAULT);
		return mask ? mask : FZ_OK;
	case FZ_C_SET_CIF:
		if (!fz_range_ok(t, c->arg, sizeof(ci), false))
			return B(EFAULT);
		memcpy(&ci, c->arg, sizeof(ci));
		return ci.flags ? B(EINVAL) : FZ_OK;
	case FZ_C_FLUSH:
		return FZ_OK;
	default:
		return B(ENOTTY);
	}
}

static __u64 fz_expect_ioctl(struct fz_thread *t, const struct vmaccel_fuzz_call *c)
{
	struct fz_slot *s;
	unsigned int k = fz_kinds(t->fz, c->fd, &s);
	__u64 mask = 0;

	if (k & FK_BAD)
		mask |= B(EBADF);
	if (k & (FK_EFD | FK_FILE))
		mask |= B(ENOTTY);
	if (k & FK_DEV)
		mask |= c->call == FZ_C_CREATE ? fz_expect_create(t, c) :
						 B(ENOTTY);
	if (k & FK_COAL)
		mask |= c->call == FZ_C_CREATE ? B(ENOTTY) : fz_expect_coal(t, c);
	return mask;
}

/*
 * Would this CREATE link two eventfds against the layer order (a possible
 * cycle)?  Such calls are not made.
 */
static bool fz_create_unsafe(struct fz_thread *t, const struct vmaccel_fuzz_call *c)
{
	struct vmaccel_vic_create cr;
	struct fz *fz = t->fz;
	struct fz_slot *ss, *ds;
	int ls, ld;

	if (c->call != FZ_C_CREATE || !fz_range_ok(t, c->arg, sizeof(cr), false))
		return false;
	memcpy(&cr, c->arg, sizeof(cr));
	ls = fz_layer_of(cr.src_fd);
	ld = fz_layer_of(cr.dst_fd);
	if (ls < 0 || ld < 0 || ls < ld)
		return false;
	if (fz->c.racy)
		return true;
	/* Strict: the same eventfd (rejected) or a closed one is fine. */
	ss = fz_slot_of(fz, cr.src_fd);
	ds = fz_slot_of(fz, cr.dst_fd);
	if (atomic_load(&ss->state) != FZ_FULL ||
	    atomic_load(&ds->state) != FZ_FULL)
		return false;
	return ss->obj != ds->obj;
}

/* --- checking results --- */

static void fz_check_stats(struct fz_thread *t, struct fz_slot *s,
			   const struct vmaccel_vic_stats *st)
{
	struct fz *fz = t->fz;

	if (st->flags || st->reserved[0] || st->reserved[1])
		fz_fail(fz, "GET_STATS on %d: flags %u reserved %llu %llu",
			s->num, st->flags,
			(unsigned long long)st->reserved[0],
			(unsigned long long)st->reserved[1]);
	if (st->interrupts > st->completions ||
	    st->deferred > st->completions ||
	    st->backstop > st->interrupts || st->pending > st->completions ||
	    st->cur_ratio < 1 || st->cur_ratio > VMACCEL_VIC_RATIO_MAX)
		fz_fail(fz,
			"GET_STATS on %d: inconsistent: completions %llu interrupts %llu deferred %llu backstop %llu pending %u ratio %u",
			s->num, (unsigned long long)st->completions,
			(unsigned long long)st->interrupts,
			(unsigned long long)st->deferred,
			(unsigned long long)st->backstop, st->pending,
			st->cur_ratio);
	if (fz->c.racy)
		return;
	if (st->cif != s->cif)
		fz_fail(fz, "GET_STATS on %d: cif %u, last SET_CIF %u", s->num,
			st->cif, s->cif);
	if (st->completions < s->last.completions ||
	    st->interrupts < s->last.interrupts ||
	    st->deferred < s->last.deferred ||
	    st->backstop < s->last.backstop ||
	    st->max_delay_ns < s->last.max_delay_ns)
		fz_fail(fz, "GET_STATS on %d: a counter went backwards", s->num);
	s->last = *st;
}

/* After a successful call: the model and the output. */
static void fz_after(struct fz_thread *t, const struct vmaccel_fuzz_call *c, int ret,
		     const void *in)
{
	const struct vmaccel_vic_create *cr = in;
	const struct vmaccel_vic_params *ip = in;
	const struct vmaccel_vic_cif *ci = in;
	struct fz *fz = t->fz;
	struct vmaccel_vic_params p;
	struct vmaccel_vic_stats st;
	struct fz_slot *s = fz_slot_of(fz, c->fd);

	if (c->call == FZ_C_CREATE) {
		fz_adopt_coal(t, ret, cr->flags ? &cr->params : &fz->defaults,
			      NULL);
		return;
	}
	if (ret != 0)
		fz_fail(fz, "%s on %d returned %d", fz_call_names[c->call],
			c->fd, ret);
	if (!s || s->kind != FZ_COAL)
		return;
	switch (c->call) {
	case FZ_C_SET_PARAMS:
		if (!fz->c.racy)
			s->params = *ip;
		break;
	case FZ_C_GET_PARAMS:
		memcpy(&p, c->arg, sizeof(p));
		if (!fz_params_valid(&p) ||
		    (!fz->c.racy && !vic_params_equal(&p, &s->params)))
			fz_fail(fz,
				"GET_PARAMS on %d: {%u %u %u %u %u %u}, expected {%u %u %u %u %u %u}",
				c->fd, p.mode, p.fixed_ratio, p.cif_threshold,
				p.iops_threshold, p.max_delay_us, p.max_ratio,
				s->params.mode, s->params.fixed_ratio,
				s->params.cif_threshold,
				s->params.iops_threshold,
				s->params.max_delay_us, s->params.max_ratio);
		break;
	case FZ_C_GET_STATS:
		memcpy(&st, c->arg, sizeof(st));
		fz_check_stats(t, s, &st);
		break;
	case FZ_C_SET_CIF:
		if (!fz->c.racy)
			s->cif = ci->cif;
		break;
	default:
		break;
	}
}

static void fz_ioctl(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	union {
		struct vmaccel_vic_create create;
		struct vmaccel_vic_params params;
		struct vmaccel_vic_cif cif;
		struct vmaccel_vic_stats stats;
	} in;
	char want[128];
	struct vmaccel_fuzz_call c;
	__u64 mask;
	int ret, err;

	switch (fz_below(t, 20)) {
	case 0 ... 8:
		c.fd = fz_coal_slot(t)->num;
		c.what = 1 + fz_below(t, FZ_C_BADCMD - 1);
		break;
	case 9 ... 12:
		c.fd = fz_dev_slot(t)->num;
		c.what = FZ_C_CREATE;
		break;
	default:
		c.fd = fz_any_fd(t);
		c.what = fz_below(t, FZ_C_BADCMD);
		break;
	}
	c.cmd = fz_cmd(t, c.what);
	c.call = vmaccel_fuzz_call_of(c.cmd, fz_cmds, FZ_C_BADCMD);
	fz_build(t, &c);
	if (fz_create_unsafe(t, &c)) {
		atomic_fetch_add(&fz->skipped, 1);
		return;
	}
	mask = fz_expect_ioctl(t, &c);
	/* What the kernel reads, for the model after a success. */
	if (c.call < FZ_C_BADCMD &&
	    fz_range_ok(t, c.arg, _IOC_SIZE(c.cmd), false))
		memcpy(&in, c.arg, _IOC_SIZE(c.cmd));

	ret = ioctl(c.fd, c.cmd, c.arg);
	err = ret < 0 ? errno : 0;
	fz_count(t, c.call, err);
	if (err >= 64 || !(mask & B(err)) || !(FZ_IOCTL_ALLOWED & B(err))) {
		vmaccel_fuzz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "ioctl(%d, %#lx [%s], %s %s) = %s, expected {%s}",
			c.fd, c.cmd, fz_call_names[c.call],
			fz_call_names[c.what], c.argname, vmaccel_fuzz_errname(err),
			want);
		if (ret >= 0 && c.call == FZ_C_CREATE)
			close(ret);
		return;
	}
	if (!err)
		fz_after(t, &c, ret, &in);
	if (c.call == FZ_C_CREATE && !fz->c.racy) {
		fz_check_live(fz, "after CREATE");
		if (err)
			fz_check_fds(fz, "after a failed CREATE");
	}
}

/* read() or write() of 8 bytes: the errors each kind of fd gives. */
static __u64 fz_expect_rw(struct fz *fz, int fd, bool wr, __u64 val)
{
	struct fz_slot *s;
	unsigned int k = fz_kinds(fz, fd, &s);
	__u64 mask = 0;

	if (k & FK_BAD)
		mask |= B(EBADF);
	if (k & FK_EFD)
		mask |= wr && val == UINT64_MAX ? B(EINVAL) : FZ_OK | B(EAGAIN);
	if (k & (FK_DEV | FK_COAL))
		mask |= B(EINVAL);
	if (k & FK_FILE) {
		if (s->misc == FZ_PIPE_R)
			mask |= wr ? B(EBADF) : FZ_OK;
		else if (s->misc == FZ_PIPE_W)
			mask |= wr ? B(EPIPE) : B(EBADF);
		else
			mask |= FZ_OK;
	}
	return mask;
}

static void fz_rw(struct fz_thread *t, bool wr)
{
	static const __u64 vals[] = {
		0, UINT32_MAX, 1ULL << 32, UINT64_MAX - 1, UINT64_MAX,
	};
	struct fz *fz = t->fz;
	char want[64];
	__u64 val = 1, mask;
	ssize_t r;
	int fd, err;

	if (fz_chance(t, 65))
		fd = fz_efd_slot(t, wr ? fz_below(t, 2) : 1 + fz_below(t, 2))->num;
	else
		fd = fz_any_fd(t);
	if (wr && fz_chance(t, 30))
		val = fz_chance(t, 50) ? 1 + fz_below(t, 64) :
					 vals[fz_below(t, ARRAY_SIZE(vals))];
	mask = fz_expect_rw(fz, fd, wr, val);
	r = wr ? write(fd, &val, sizeof(val)) : read(fd, &val, sizeof(val));
	err = r < 0 ? errno : 0;
	fz_count(t, wr ? FZ_C_WRITE : FZ_C_READ, err);
	if (err >= 64 || !(mask & B(err))) {
		vmaccel_fuzz_mask_str(mask, want, sizeof(want));
		fz_fail(fz, "%s(%d) = %s, expected {%s}",
			wr ? "write" : "read", fd, vmaccel_fuzz_errname(err), want);
	} else if (wr && !err && r != sizeof(val)) {
		fz_fail(fz, "write(%d) of 8 bytes = %zd", fd, r);
	}
}

/* One random operation. */
static void fz_step(struct fz_thread *t)
{
	struct fz *fz = t->fz;
	unsigned int r = fz_below(t, 100);

	if (r < 62)
		fz_ioctl(t);
	else if (r < 77)
		fz_rw(t, true);
	else if (r < 87)
		fz_rw(t, false);
	else if (r < 92)
		/* In chaos only coalescers: the closer thread does the rest. */
		fz_close_slot(t, fz->c.racy ? fz_coal_slot(t) :
				 &fz->slot[fz_below(t, FZ_NR_SLOTS)]);
	else
		vmaccel_fuzz_fill_any(&t->c);
}

/* The framework's view of the pool and of the operations. */
VMACCEL_FUZZ_DEFINE_OPS(fz_ops, 256, 0);

/* --- threads and phases --- */

/* The read-only page of the arena: zeroes, and valid params at one offset. */
static int fz_thread_init(struct fz_thread *t, struct fz *fz, int idx)
{
	struct vmaccel_vic_params p = vic_params_off();

	t->fz = fz;
	return vmaccel_fuzz_thread_init(&t->c, &fz->c, idx, &p, sizeof(p),
					FZ_RO_PARAMS_OFF);
}

static void fz_report(struct fz *fz, const char *phase)
{
	static const char fmt[] =
		"fuzz: %lu coalescers created, %lu pool fds closed, %lu CREATE skipped (layers)%s";

	vmaccel_fuzz_report(&fz->c, phase);
	vmaccel_fuzz_msg(fmt, atomic_load(&fz->created),
			 atomic_load(&fz->c.closes), atomic_load(&fz->skipped),
			 vmaccel_fuzz_timed_out_str(&fz->c));
}

static int fz_read_defaults(struct vmaccel_vic_params *p)
{
	static const char * const modes[] = { "off\n", "fixed\n", "adaptive\n" };
	char buf[64];
	__u64 v;
	int i, r;

	r = vic_sysfs_read("default_mode", buf, sizeof(buf));
	if (r < 0)
		return r;
	p->mode = UINT32_MAX;
	for (i = 0; i < (int)ARRAY_SIZE(modes); i++)
		if (!strcmp(buf, modes[i]))
			p->mode = i;
	for (i = 1; i < 6; i++) {
		r = vic_sysfs_u64(vic_default_name(i), &v);
		if (r)
			return r;
		*fz_field(p, i) = (__u32)v;
	}
	return fz_params_valid(p) ? 0 : -EPROTO;
}

FIXTURE(fuzz) {
	struct fz *fz;
	struct fz_thread main;
};

FIXTURE_SETUP(fuzz)
{
	struct fz *fz;
	int i;

	fz = calloc(1, sizeof(*fz));
	ASSERT_NE(NULL, fz);
	self->fz = fz;
	fz->dev = -1;
	/* The pool's fd numbers must be free and below the limit. */
	vmaccel_fuzz_setup(_metadata, &fz->c, &fz_ops, fz_call_names,
			   FZ_NR_CALLS, FZ_DEFAULT_ITERS, FZ_FD_BASE, FZ_NR_SLOTS);
	for (i = 0; i < FZ_NR_SLOTS; i++) {
		struct fz_slot *s = &fz->slot[i];

		s->num = FZ_FD_BASE + i;
		atomic_init(&s->state, FZ_EMPTY);
		if (i < FZ_FIRST_DEV) {
			s->kind = FZ_EFD;
			s->layer = i / FZ_EFD_PER_LAYER;
		} else if (i < FZ_FIRST_COAL) {
			s->kind = FZ_DEV;
		} else if (i < FZ_FIRST_MISC) {
			s->kind = FZ_COAL;
		} else {
			s->kind = FZ_MISC;
			s->misc = i - FZ_FIRST_MISC;
		}
	}

	fz->dev = vic_open_dev();
	ASSERT_LE(0, fz->dev)
		TH_LOG("open %s: %s (is vmaccel_vic loaded?)", VIC_DEV,
		       strerror(errno));
	ASSERT_EQ(0, fz_read_defaults(&fz->defaults));
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &fz->coalescers0));
	vmaccel_fuzz_note_low_fd(_metadata, &fz->c);
	ASSERT_EQ(0, fz_thread_init(&self->main, fz, 0));
}

static void fz_start(struct fz *fz, const char *phase)
{
	vmaccel_fuzz_start(&fz->c, phase, FZ_DEFAULT_SECS);
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fz *fz = self->fz;

	if (!fz)
		return;
	vmaccel_fuzz_teardown(&self->main.c);
	if (fz->dev >= 0)
		close(fz->dev);
	free(fz);
}

/* After a phase: everything reported, everything closed, nothing leaked. */
static void fz_finish(struct __test_metadata *_metadata, struct fz_thread *t,
		      const char *phase)
{
	struct fz *fz = t->fz;
	__u64 n;

	vmaccel_fuzz_close_all(&t->c);
	vmaccel_fuzz_thread_fini(&t->c);
	fz_report(fz, phase);
	vmaccel_fuzz_finish(_metadata, &fz->c);
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &n));
	ASSERT_EQ(fz->coalescers0, n) TH_LOG("coalescers leaked");
}

/* One thread, every result predicted from a model of every fd. */
TEST_F_TIMEOUT(fuzz, strict, 600)
{
	struct fz_thread *t = &self->main;

	fz_start(self->fz, "strict");
	vmaccel_fuzz_run_strict(&t->c);
	fz_finish(_metadata, t, "strict, 1 thread");
}

/* Threads on a shared pool, one of them closing fds under the others. */
TEST_F_TIMEOUT(fuzz, chaos, 600)
{
	struct fz *fz = self->fz;
	struct fz_thread *th;
	char phase[64];
	int i, started;

	fz->c.racy = true;
	fz_start(fz, "chaos");
	th = calloc(FZ_THREADS + 1, sizeof(*th));
	ASSERT_NE(NULL, th);
	vmaccel_fuzz_fill_all(&self->main.c);
	for (i = 0; i <= FZ_THREADS; i++)
		if (fz_thread_init(&th[i], fz, i + 1))
			break;
	ASSERT_EQ(FZ_THREADS + 1, i);
	/* Threads are joined before anything is asserted. */
	started = vmaccel_fuzz_run_threads(&fz->c, th, sizeof(*th),
					   FZ_THREADS + 1, FZ_THREADS,
					   NULL);
	free(th);
	ASSERT_EQ(FZ_THREADS + 1, started);
	snprintf(phase, sizeof(phase), "chaos, %d threads + 1 closing fds",
		 FZ_THREADS);
	fz_finish(_metadata, &self->main, phase);
}

/* After all that, a new coalescer in "off" mode still counts exactly. */
TEST_F(fuzz, fresh_coalescer_exact)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;
	struct vic_env e;
	__u64 n0, n1;

	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &n0));
	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, &p);
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &n1));
	ASSERT_EQ(n0 + 1, n1);
	ASSERT_EQ(0, vic_complete(e.src, 1000));
	vic_env_expect(_metadata, &e, 1000);
	st = vic_env_stats(_metadata, &e);
	ASSERT_EQ(VIC_U64(1000), st.completions);
	ASSERT_EQ(VIC_U64(1000), st.interrupts);
	ASSERT_EQ(VIC_U64(0), st.deferred);
	ASSERT_EQ(VIC_U64(0), st.backstop);
	ASSERT_EQ(0U, st.pending);
	ASSERT_EQ(1U, st.cur_ratio);
	vic_env_close(&e);
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &n1));
	ASSERT_EQ(n0, n1);
}

TEST_HARNESS_MAIN
