// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: unloading and reloading the module.
 *
 * - An open device or coalescer fd pins the module: delete_module(2) fails
 *   with EWOULDBLOCK (or EBUSY) and the coalescer keeps working.
 * - With nothing open the module unloads, its device and sysfs directory go
 *   away, and finit_module(2) brings back a fresh one.
 * - Stress: one "VMM" thread per CPU (at least two) opens the device,
 *   creates coalescers, pushes completions through them and closes
 *   everything, over and over, while another thread keeps trying to unload
 *   the module and reloads it whenever that succeeded.  Each round has a
 *   phase in which a pinning coalescer is open (every unload must be
 *   refused), a free phase, and a quiet point at which nothing is open (the
 *   unload must succeed).  An unload that succeeds while some fd was open
 *   for the whole call is an error.
 *
 * The runner loads the module before and unloads it after this program;
 * every test leaves it loaded.  The module file is
 * $VMACCEL_KO_DIR/vic/vmaccel_vic.ko, or vic/vmaccel_vic.ko from the
 * repository root (the current directory) when VMACCEL_KO_DIR is unset.
 * VMACCEL_STRESS_SECS sets the length of the stress test (default 12).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>

#include "vic_util.h"
#include "../lib/vmaccel_unload.h"

#define UL_MOD			"vmaccel_vic"
#define UL_SYSMOD		"/sys/module/" UL_MOD
#define UL_PAIRS		3	/* coalescers per worker iteration, at most */

static long long ul_coalescers(void)
{
	__u64 n;

	return vic_sysfs_u64("coalescers", &n) ? -1 : (long long)n;
}

/* A coalescer in "off" mode counts @n completions exactly. */
static void ul_check_works(struct __test_metadata *_metadata, unsigned int n)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;
	struct vic_env e;

	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, &p);
	ASSERT_EQ(0, vic_complete(e.src, n));
	vic_env_expect(_metadata, &e, n);
	st = vic_env_stats(_metadata, &e);
	ASSERT_EQ(VIC_U64(n), st.completions);
	ASSERT_EQ(VIC_U64(n), st.interrupts);
	vic_env_close(&e);
}

FIXTURE(unload) {
	struct vmaccel_unload_fixture f;
};

/* With the whole suite loaded, vhost holds vic: it is taken out. */
FIXTURE_SETUP(unload)
{
	vmaccel_unload_setup(_metadata, &self->f, "vic", UL_MOD);
}

FIXTURE_TEARDOWN(unload)
{
	vmaccel_unload_teardown(_metadata, &self->f, UL_MOD);
}

/* Open device and coalescer fds pin the module. */
TEST_F(unload, refused_while_in_use)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;
	struct vic_env e;
	int r, dev2;

	if (self->f.holders)
		SKIP(return, "%d modules depend on %s", self->f.holders, UL_MOD);
	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, &p);

	/* Device and coalescer open. */
	r = vmaccel_kmod_unload(UL_MOD);
	ASSERT_TRUE(vmaccel_kmod_refused(r))
		TH_LOG("delete_module with fds open: %s",
		       r ? strerror(-r) : "unloaded");
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));

	/* Only the coalescer (and its eventfds) open. */
	close(e.dev);
	e.dev = -1;
	ASSERT_LE(1, vmaccel_kmod_refcnt(UL_MOD));
	r = vmaccel_kmod_unload(UL_MOD);
	ASSERT_TRUE(vmaccel_kmod_refused(r))
		TH_LOG("delete_module with a coalescer open: %s",
		       r ? strerror(-r) : "unloaded");
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));

	/* The coalescer still works, exactly. */
	ASSERT_EQ(0, vic_complete(e.src, 50));
	vic_env_expect(_metadata, &e, 50);
	st = vic_env_stats(_metadata, &e);
	ASSERT_EQ(VIC_U64(50), st.completions);
	ASSERT_EQ(VIC_U64(50), st.interrupts);

	/* Only a device fd open. */
	dev2 = vic_open_dev();
	ASSERT_LE(0, dev2);
	close(e.fd);
	e.fd = -1;
	r = vmaccel_kmod_unload(UL_MOD);
	ASSERT_TRUE(vmaccel_kmod_refused(r))
		TH_LOG("delete_module with the device open: %s",
		       r ? strerror(-r) : "unloaded");
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	close(dev2);

	/* Everything closed: no reference left. */
	vic_env_close(&e);
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
	ASSERT_EQ(0, ul_coalescers());
}

/* Nothing open: the module unloads, and reloads as a fresh one. */
TEST_F(unload, unload_when_idle_and_reload)
{
	struct vmaccel_vic_params p;
	struct vic_env e;
	__u64 v;
	int r, fd;

	if (self->f.holders)
		SKIP(return, "%d modules depend on %s", self->f.holders, UL_MOD);
	vmaccel_unload_need_ko(_metadata, self->f.ko);
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
	r = vmaccel_kmod_unload(UL_MOD);
	ASSERT_EQ(0, r) TH_LOG("delete_module with nothing open: %s",
			       strerror(-r));
	ASSERT_FALSE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(-1, access(UL_SYSMOD, F_OK));
	ASSERT_EQ(-1, access(VIC_SYSFS, F_OK));
	fd = vic_open_dev();
	ASSERT_EQ(-1, fd) TH_LOG("%s opened without the module", VIC_DEV);
	ASSERT_TRUE(errno == ENOENT || errno == ENODEV)
		TH_LOG("open %s: %s", VIC_DEV, strerror(errno));
	ASSERT_EQ(-ENOENT, vmaccel_kmod_unload(UL_MOD));

	r = vmaccel_kmod_load(self->f.ko);
	ASSERT_EQ(0, r) TH_LOG("finit_module(%s): %s", self->f.ko,
			       vmaccel_kmod_load_hint(r));
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(-EEXIST, vmaccel_kmod_load(self->f.ko));

	/* A fresh module: counters at zero, documented defaults. */
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &v));
	ASSERT_EQ(VIC_U64(0), v);
	ASSERT_EQ(0, vic_sysfs_u64("completions", &v));
	ASSERT_EQ(VIC_U64(0), v);
	ASSERT_EQ(0, vic_sysfs_u64("interrupts", &v));
	ASSERT_EQ(VIC_U64(0), v);
	vic_env_open(_metadata, &e);
	vic_env_create(_metadata, &e, NULL);
	ASSERT_EQ(0, vic_get_params(e.fd, &p));
	vic_env_close(&e);
	ASSERT_EQ((__u32)VMACCEL_VIC_MODE_ADAPTIVE, p.mode);
	ASSERT_EQ(4U, p.fixed_ratio);
	ASSERT_EQ(4U, p.cif_threshold);
	ASSERT_EQ(2000U, p.iops_threshold);
	ASSERT_EQ(200U, p.max_delay_us);
	ASSERT_EQ(32U, p.max_ratio);

	ul_check_works(_metadata, 100);
	ASSERT_EQ(0, vic_sysfs_u64("completions", &v));
	ASSERT_EQ(VIC_U64(100), v);
	ASSERT_EQ(0, ul_coalescers());
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
}

/* --- stress --- */

struct ul_stress {
	struct vmaccel_unload c;	/* first: the framework's */
	atomic_ulong coalescers, completions;
	/* Per worker: its source and target eventfds. */
	int src[VMACCEL_UL_MAX_WORKERS][UL_PAIRS];
	int dst[VMACCEL_UL_MAX_WORKERS][UL_PAIRS];
	/* The pinning coalescer of the main thread and its eventfds. */
	int pin, pin_src, pin_dst;
};

#define ul_fail(s, ...)		vmaccel_unload_fail(&(s)->c, __VA_ARGS__)
#define ul_rand			vmaccel_unload_rand

static struct ul_stress *ul_stress_of(struct vmaccel_unload *c)
{
	return (struct ul_stress *)c;
}

/*
 * One VMM lifecycle: open the device, create coalescers, push completions
 * through them, close.  Everything after a successful open must work.
 */
static void ul_lifecycle(struct vmaccel_unload_worker *w)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct ul_stress *s = ul_stress_of(w->s);
	int *src = s->src[w->idx], *dst = s->dst[w->idx];
	int dev, fd[UL_PAIRS], n, i, j;
	struct vmaccel_vic_stats st;
	unsigned int m[UL_PAIRS];
	__s64 got[UL_PAIRS], r;

	dev = vic_open_dev();
	if (dev < 0) {
		if (errno == ENOENT || errno == ENODEV) {
			/* Unloaded right now. */
			atomic_fetch_add(&s->c.absent, 1);
			return;
		}
		ul_fail(s, "worker %d: open %s: %s", w->idx, VIC_DEV,
			strerror(errno));
		return;
	}
	vmaccel_unload_hold(w);
	n = 1 + ul_rand(w, UL_PAIRS);
	for (i = 0; i < n; i++) {
		fd[i] = vic_create(dev, src[i], dst[i], &p);
		if (fd[i] < 0) {
			ul_fail(s, "worker %d: CREATE: %s", w->idx,
				strerror(errno));
			break;
		}
		vmaccel_unload_hold(w);
		atomic_fetch_add(&s->coalescers, 1);
	}
	n = i;
	if (ul_rand(w, 2))
		vmaccel_unload_release(w, dev);	/* a VMM keeps only the coalescers */
	else
		dev = -1 - dev;		/* closed last */

	for (i = 0; i < n; i++) {
		m[i] = 1 + ul_rand(w, 32);
		got[i] = 0;
		for (j = 0; j < (int)m[i]; j++) {
			if (vic_signal(src[i], 1))
				ul_fail(s, "worker %d: write: %s", w->idx,
					strerror(errno));
			if (j % 8 == 7) {
				r = vic_take(dst[i]);
				if (r < 0)
					ul_fail(s, "worker %d: read: %s",
						w->idx, strerror(errno));
				else
					got[i] += r;
			}
		}
		if (vic_set_cif(fd[i], ul_rand(w, 64)) || vic_flush(fd[i]) ||
		    vic_get_stats(fd[i], &st))
			ul_fail(s, "worker %d: ioctl: %s", w->idx,
				strerror(errno));
		else if (st.completions != m[i] || st.interrupts != m[i])
			ul_fail(s, "worker %d: %u completions gave stats %llu/%llu",
				w->idx, m[i],
				(unsigned long long)st.completions,
				(unsigned long long)st.interrupts);
	}
	for (i = 0; i < n; i++) {
		vmaccel_unload_release(w, fd[i]);
		/* Closing delivered everything: the target holds it all. */
		r = vic_take(dst[i]);
		if (r < 0 || got[i] + r != m[i])
			ul_fail(s,
				"worker %d: %u completions, %lld interrupts on the target after close",
				w->idx, m[i], (long long)(got[i] + r));
		atomic_fetch_add(&s->completions, m[i]);
	}
	if (dev < 0)
		vmaccel_unload_release(w, -1 - dev);
	atomic_fetch_add(&s->c.lifecycles, 1);
}

/*
 * The pinning coalescer: open while the module is known to be loaded, with
 * its device fd closed.  0, or -1 (logged).
 */
static int ul_pin(struct vmaccel_unload *c)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct ul_stress *s = ul_stress_of(c);
	int dev;

	s->pin_src = vic_eventfd();
	s->pin_dst = vic_eventfd();
	dev = vic_open_dev();
	if (s->pin_src < 0 || s->pin_dst < 0 || dev < 0) {
		ul_fail(s, "pin: open: %s", strerror(errno));
		return -1;
	}
	s->pin = vic_create(dev, s->pin_src, s->pin_dst, &p);
	if (s->pin < 0)
		ul_fail(s, "pin: CREATE: %s", strerror(errno));
	close(dev);
	return s->pin < 0 ? -1 : 0;
}

/* The pinning coalescer survived all the attempts. */
static void ul_unpin(struct vmaccel_unload *c)
{
	struct ul_stress *s = ul_stress_of(c);
	__s64 got;

	if (vic_complete(s->pin_src, 20) || vic_flush(s->pin))
		ul_fail(s, "pin: %s", strerror(errno));
	close(s->pin);
	got = vic_take(s->pin_dst);
	if (got != 20)
		ul_fail(s, "pin: 20 completions, %lld interrupts", (long long)got);
	close(s->pin_src);
	close(s->pin_dst);
}

/* At a quiet point nothing is open: no coalescer left. */
static bool ul_quiet(struct vmaccel_unload *c, int refcnt)
{
	struct ul_stress *s = ul_stress_of(c);

	if (refcnt != 0 || ul_coalescers() != 0) {
		ul_fail(s, "nothing open, but refcnt %d and %lld coalescers",
			refcnt, ul_coalescers());
		return false;
	}
	return true;
}

static const struct vmaccel_unload_ops ul_ops = {
	.lifecycle = ul_lifecycle,
	.pin = ul_pin,
	.unpin = ul_unpin,
	.quiet = ul_quiet,
	.pinned = "the pinning coalescer was open",
	.idle_one_in = 4,
	.idle_max_ms = 2,
	.unloader_pause_us = 200,
};

TEST_F_TIMEOUT(unload, stress, 900)
{
	unsigned int rounds, phase_ms;
	struct ul_stress *s;
	int i, j;

	if (self->f.holders)
		SKIP(return, "%d modules depend on %s", self->f.holders, UL_MOD);
	vmaccel_unload_need_ko(_metadata, self->f.ko);
	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	vmaccel_unload_init(&s->c, &ul_ops, UL_MOD, self->f.ko, &rounds,
			    &phase_ms);
	for (i = 0; i < s->c.nworkers; i++) {
		for (j = 0; j < UL_PAIRS; j++) {
			s->src[i][j] = vic_eventfd();
			s->dst[i][j] = vic_eventfd();
			ASSERT_LE(0, s->src[i][j]);
			ASSERT_LE(0, s->dst[i][j]);
		}
	}
	ksft_print_msg("unload: %d workers, %u rounds of 2 x %u ms\n",
		       s->c.nworkers, rounds, phase_ms);
	fflush(stdout);

	/* Threads start paused; they are joined before anything is asserted. */
	vmaccel_unload_run(&s->c, rounds, phase_ms);

	ksft_print_msg("unload: %lu lifecycles, %lu coalescers, %lu completions, %lu no device\n",
		       atomic_load(&s->c.lifecycles), atomic_load(&s->coalescers),
		       atomic_load(&s->completions), atomic_load(&s->c.absent));
	fflush(stdout);
	vmaccel_unload_check(_metadata, &s->c, rounds);

	/* Final state: loaded, nothing left, and it works. */
	for (i = 0; i < s->c.nworkers; i++) {
		for (j = 0; j < UL_PAIRS; j++) {
			close(s->src[i][j]);
			close(s->dst[i][j]);
		}
	}
	free(s);
	ASSERT_TRUE(vmaccel_kmod_loaded(UL_MOD));
	ASSERT_EQ(0, ul_coalescers());
	ASSERT_EQ(0, vmaccel_kmod_refcnt(UL_MOD));
	ul_check_works(_metadata, 100);
}

TEST_HARNESS_MAIN
