// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock selftest: bad input gets a clear errno and never a hang;
 * one run at a time per file; closing the file stops its run; the module
 * cannot be unloaded while a run is active.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "pvlock_util.h"

#define RUNS_ACTIVE	PVLOCK_SYSFS "runs_active"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = pvlock_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

static struct vmaccel_pvlock_run good(void)
{
	return pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 50, 100, 100, 0);
}

/* Start must fail with @err and leave no run behind. */
static void start_fails(struct __test_metadata *_metadata, int fd,
			const struct vmaccel_pvlock_run *p, int err)
{
	struct vmaccel_pvlock_result r;

	EXPECT_EQ(-1, pvlock_start(fd, p));
	EXPECT_EQ(err, errno);
	EXPECT_EQ(-1, pvlock_result(fd, &r, VMACCEL_PVLOCK_RESULT_NONBLOCK));
	EXPECT_EQ(ENODATA, errno);
}

#define EXPECT_START_FAILS(fd, p, err)	start_fails(_metadata, fd, p, err)

TEST_F(dev, bad_kind)
{
	struct vmaccel_pvlock_run p = good();

	p.kind = VMACCEL_PVLOCK_KIND_UNFAIR + 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.kind = 0xffffffff;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
}

TEST_F(dev, bad_thread_counts)
{
	struct vmaccel_pvlock_run p = good();

	p.nr_threads = 0;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.nr_threads = VMACCEL_PVLOCK_MAX_THREADS + 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.nr_threads = 0xffffffff;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
}

TEST_F(dev, bad_durations)
{
	struct vmaccel_pvlock_run p = good();

	p.duration_ms = 0;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.duration_ms = VMACCEL_PVLOCK_DURATION_MS_MAX + 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.duration_ms = 0xffffffff;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
}

TEST_F(dev, bad_lengths)
{
	struct vmaccel_pvlock_run p = good();

	p.cs_ns = VMACCEL_PVLOCK_CS_NS_MAX + 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p = good();
	p.outside_ns = VMACCEL_PVLOCK_OUTSIDE_NS_MAX + 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p = good();
	p.flags = VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD;
	p.spin_threshold = VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX + 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
}

TEST_F(dev, bad_flags_and_reserved)
{
	struct vmaccel_pvlock_run p = good();
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		if ((1U << bit) & VMACCEL_PVLOCK_RUN_FLAGS)
			continue;
		p = good();
		p.flags = 1U << bit;
		EXPECT_START_FAILS(self->fd, &p, EINVAL);
	}
	p = good();
	p.reserved = 1;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	/* A threshold without the flag that says it is there. */
	p = good();
	p.spin_threshold = 5;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	/* Flags that only make sense for the pv lock. */
	p = good();
	p.kind = VMACCEL_PVLOCK_KIND_SPINLOCK;
	p.flags = VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.flags = VMACCEL_PVLOCK_RUN_VERIFY_KICKS;
	p.kind = VMACCEL_PVLOCK_KIND_TICKET;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.flags = VMACCEL_PVLOCK_RUN_API;
	p.kind = VMACCEL_PVLOCK_KIND_BROKEN;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.kind = VMACCEL_PVLOCK_KIND_PV_NOKICK;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.flags = VMACCEL_PVLOCK_RUN_VERIFY_KICKS;
	p.kind = VMACCEL_PVLOCK_KIND_UNFAIR;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	/* The kick-less lock's waiters would never wake with interrupts off. */
	p.flags = VMACCEL_PVLOCK_RUN_IRQS_OFF;
	p.kind = VMACCEL_PVLOCK_KIND_PV_NOKICK;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.flags = VMACCEL_PVLOCK_RUN_FREE_AFTER_UNLOCK;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	/* The API mode has no per-acquisition report to check. */
	p = good();
	p.flags = VMACCEL_PVLOCK_RUN_API | VMACCEL_PVLOCK_RUN_VERIFY_KICKS;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
	p.flags = VMACCEL_PVLOCK_RUN_API | VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD;
	EXPECT_START_FAILS(self->fd, &p, EINVAL);
}

/* The limits themselves are accepted. */
TEST_F_TIMEOUT(dev, limits_accepted, 120)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, VMACCEL_PVLOCK_MAX_THREADS,
			  1, VMACCEL_PVLOCK_CS_NS_MAX,
			  VMACCEL_PVLOCK_OUTSIDE_NS_MAX,
			  VMACCEL_PVLOCK_RUN_SPIN_THRESHOLD |
			  VMACCEL_PVLOCK_RUN_VERIFY_KICKS |
			  VMACCEL_PVLOCK_RUN_IRQS_OFF);
	p.spin_threshold = VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX;
	ASSERT_EQ(0, pvlock_start(self->fd, &p));
	ASSERT_EQ(0, pvlock_result(self->fd, &r, 0));
	pvlock_expect_sane(_metadata, &p, &r);
	EXPECT_EQ(PVLOCK_U64(0), r.violations);
	EXPECT_EQ(VMACCEL_PVLOCK_SPIN_THRESHOLD_MAX, r.run.spin_threshold);
	EXPECT_EQ(p.flags, r.run.flags);
}

TEST_F(dev, unknown_commands)
{
	struct vmaccel_pvlock_run p = good();
	char buf[4096] = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, _IO(VMACCEL_IOCTL_TYPE, 0x8f)));
	EXPECT_EQ(ENOTTY, errno);
	/* A vic command number on the pvlock device. */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(VMACCEL_IOCTL_TYPE, 0x00), buf));
	EXPECT_EQ(ENOTTY, errno);
	/* The right number with the wrong size or direction. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(VMACCEL_IOCTL_TYPE, 0x70, __u64),
			    &p));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(VMACCEL_IOCTL_TYPE, 0x71,
					   struct vmaccel_pvlock_result), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(0x42, 0x70)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, bad_pointers)
{
	EXPECT_EQ(-1, ioctl(self->fd, VMACCEL_PVLOCK_RUN_START, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VMACCEL_PVLOCK_RUN_START, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VMACCEL_PVLOCK_RUN_RESULT, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, result_and_stop_without_run)
{
	struct vmaccel_pvlock_result r;

	EXPECT_EQ(-1, pvlock_result(self->fd, &r, 0));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_EQ(-1, pvlock_stop(self->fd));
	EXPECT_EQ(ENODATA, errno);
}

TEST_F(dev, bad_result_input)
{
	struct vmaccel_pvlock_run p = good();
	struct vmaccel_pvlock_result r;

	ASSERT_EQ(0, pvlock_start(self->fd, &p));
	EXPECT_EQ(-1, pvlock_result(self->fd, &r, 1U << 1));
	EXPECT_EQ(EINVAL, errno);
	memset(&r, 0, sizeof(r));
	r.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VMACCEL_PVLOCK_RUN_RESULT, &r));
	EXPECT_EQ(EINVAL, errno);
	/* Output-only fields on input are ignored. */
	memset(&r, 0xff, sizeof(r));
	r.flags = 0;
	memset(r.reserved, 0, sizeof(r.reserved));
	EXPECT_EQ(0, ioctl(self->fd, VMACCEL_PVLOCK_RUN_RESULT, &r));
	pvlock_expect_sane(_metadata, &p, &r);
}

/* One run per file: a second START is -EBUSY until the first ended. */
TEST_F(dev, one_run_per_file)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	int other;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_SPINLOCK, 2, 30000, 100, 1000, 0);
	ASSERT_EQ(0, pvlock_start(self->fd, &p));
	EXPECT_EQ(-1, pvlock_start(self->fd, &p));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, pvlock_result(self->fd, &r,
				    VMACCEL_PVLOCK_RESULT_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);

	/* Another file runs its own at the same time. */
	other = pvlock_open();
	ASSERT_LE(0, other);
	p.duration_ms = 100;
	ASSERT_EQ(0, pvlock_start(other, &p));
	ASSERT_EQ(0, pvlock_result(other, &r, 0));
	EXPECT_EQ(100U, r.run.duration_ms);
	EXPECT_EQ(0U, r.status);
	close(other);

	/* STOP ends the long one early; results say so. */
	ASSERT_EQ(0, pvlock_stop(self->fd));
	ASSERT_EQ(0, pvlock_result(self->fd, &r, 0));
	EXPECT_EQ(VMACCEL_PVLOCK_STATUS_STOPPED, r.status);
	EXPECT_EQ(30000U, r.run.duration_ms);
	EXPECT_LT(r.elapsed_ns, 30000ULL * 1000000ULL);
	/* Results stay readable; a new run replaces them. */
	ASSERT_EQ(0, pvlock_result(self->fd, &r,
				   VMACCEL_PVLOCK_RESULT_NONBLOCK));
	EXPECT_EQ(30000U, r.run.duration_ms);
	p.duration_ms = 50;
	ASSERT_EQ(0, pvlock_start(self->fd, &p));
	ASSERT_EQ(0, pvlock_result(self->fd, &r, 0));
	EXPECT_EQ(50U, r.run.duration_ms);
	EXPECT_EQ(0U, r.status);
}

/* Closing the file stops its run, before close() returns. */
TEST_F(dev, close_stops_the_run)
{
	struct vmaccel_pvlock_run p;
	__u64 active;
	__u64 t0;
	int fd;

	ASSERT_EQ(0, pvlock_sysfs_u64(RUNS_ACTIVE, &active));
	ASSERT_EQ(PVLOCK_U64(0), active);
	fd = pvlock_open();
	ASSERT_LE(0, fd);
	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, pvlock_crowd(),
			  VMACCEL_PVLOCK_DURATION_MS_MAX, 1000, 1000, 0);
	ASSERT_EQ(0, pvlock_start(fd, &p));
	ASSERT_EQ(0, pvlock_sysfs_u64(RUNS_ACTIVE, &active));
	EXPECT_EQ(PVLOCK_U64(1), active);
	t0 = pvlock_now_ns();
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, pvlock_sysfs_u64(RUNS_ACTIVE, &active));
	EXPECT_EQ(PVLOCK_U64(0), active);
	/* Far from the minute the run asked for. */
	EXPECT_LT(pvlock_now_ns() - t0, 30ULL * 1000000000ULL);
}

/* rmmod is refused while a run is active. */
TEST_F(dev, no_unload_while_running)
{
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;

	p = pvlock_params(VMACCEL_PVLOCK_KIND_PV, 2, 30000, 100, 1000, 0);
	ASSERT_EQ(0, pvlock_start(self->fd, &p));
	EXPECT_EQ(-1, syscall(SYS_delete_module, "vmaccel_pvlock", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(0, access(PVLOCK_DEV, F_OK));
	ASSERT_EQ(0, pvlock_stop(self->fd));
	ASSERT_EQ(0, pvlock_result(self->fd, &r, 0));
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Signals @arg (the main thread) once, after a second. */
static void *signal_later(void *arg)
{
	pvlock_sleep_ms(1000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

/* A signal interrupts a blocking RESULT; the run goes on. */
TEST_F(dev, result_wait_is_interruptible)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	pthread_t self_thread = pthread_self(), killer;
	struct vmaccel_pvlock_run p;
	struct vmaccel_pvlock_result r;
	int ret, err;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	p = pvlock_params(VMACCEL_PVLOCK_KIND_SPINLOCK, 2, 30000, 100, 1000, 0);
	ASSERT_EQ(0, pvlock_start(self->fd, &p));
	ASSERT_EQ(0, pthread_create(&killer, NULL, signal_later, &self_thread));
	ret = pvlock_result(self->fd, &r, 0);
	err = errno;
	pthread_join(killer, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINTR, err);
	EXPECT_EQ(-1, pvlock_result(self->fd, &r,
				    VMACCEL_PVLOCK_RESULT_NONBLOCK));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, pvlock_stop(self->fd));
	ASSERT_EQ(0, pvlock_result(self->fd, &r, 0));
	EXPECT_EQ(VMACCEL_PVLOCK_STATUS_STOPPED, r.status);
}

/*
 * Every numeric file as the knob helper declares it: spin_threshold 0644,
 * the counters 0444, one decimal number and a newline each.
 */
TEST_F(dev, numbers_modes_and_format)
{
	static const char * const knobs[] = { "spin_threshold", NULL };
	static const char * const counters[] = {
		"locks_in_use", "runs_active", "stats/taken_fast",
		"stats/taken_slow", "stats/taken_slow_pickup", "stats/blocked",
		"stats/halts", "stats/spurious_wakeups", "stats/irqs_off_spins",
		"stats/released_slow", "stats/released_slow_kicked",
		"stats/wakeups_sent", "stats/time_blocked_ns",
		NULL,
	};
	const char *bad = NULL;
	int r;

	r = vmaccel_sysfs_numbers(PVLOCK_SYSFS, knobs, counters, NULL, &bad);
	ASSERT_EQ(0, r) TH_LOG("%s%s: %s", PVLOCK_SYSFS, bad, strerror(-r));
}

TEST_HARNESS_MAIN
