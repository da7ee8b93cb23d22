// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: lifetime of coalescers and of the eventfds they
 * reference: closing in every order, delivering what is pending on close,
 * many coalescers, O_CLOEXEC, debugfs, fork, chaining two coalescers (the
 * nested-signalling path), the bounds on chains and fans (a cycle, a path
 * of more than 4 coalescers, or a check that would walk more than 128 are
 * refused; an eventfd feeds and is fed by at most 64) and the module
 * reference held by a coalescer.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "vic_util.h"
#include "vic_env_fixture.h"

static int vic_close(int *fd)
{
	int r = close(*fd);

	*fd = -1;
	return r;
}

/* After the coalescer is closed the source is no longer consumed. */
TEST_F(vic, close_coalescer_first)
{
	struct vmaccel_vic_params p = vic_params_off();

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	vic_env_expect(_metadata, &self->e, 3);
	ASSERT_EQ(0, vic_close(&self->e.fd));
	ASSERT_EQ(0, vic_signal(self->e.src, 1));
	ASSERT_EQ(1, vic_take(self->e.src));
	vic_env_expect(_metadata, &self->e, 0);
	ASSERT_EQ(0, vic_close(&self->e.src));
	ASSERT_EQ(0, vic_close(&self->e.dst));
}

/* The source's fd closed first: the coalescer keeps working until closed. */
TEST_F(vic, close_source_first)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, VIC_LONG_DELAY_US);
	struct vmaccel_vic_stats st;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 5));
	ASSERT_EQ(0, vic_close(&self->e.src));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(5U, st.pending);
	ASSERT_EQ(0, vic_flush(self->e.fd));
	vic_env_expect(_metadata, &self->e, 1);
	ASSERT_EQ(0, vic_set_cif(self->e.fd, 3));
	ASSERT_EQ(0, vic_close(&self->e.fd));
	vic_env_expect(_metadata, &self->e, 0);
}

/* The source's fd closed first, then the coalescer with work pending. */
TEST_F(vic, close_source_then_coalescer_delivers)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, VIC_LONG_DELAY_US);

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 5));
	ASSERT_EQ(0, vic_close(&self->e.src));
	ASSERT_EQ(0, vic_close(&self->e.fd));
	vic_env_expect(_metadata, &self->e, 1);
}

/*
 * The target's fd closed first: the coalescer holds its own reference, so
 * immediate, backstop and close-time deliveries to it are harmless.
 */
TEST_F(vic, close_target_first)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_close(&self->e.dst));
	ASSERT_EQ(0, vic_complete(self->e.src, 100));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(100), st.completions);
	ASSERT_EQ(VIC_U64(100), st.interrupts);

	p = vic_params_fixed(64, 2000);
	ASSERT_EQ(0, vic_set_params(self->e.fd, &p));
	ASSERT_EQ(0, vic_signal(self->e.src, 3));
	st = vic_env_settle(_metadata, &self->e, 1000);
	ASSERT_EQ(VIC_U64(1), st.backstop);
	ASSERT_EQ(VIC_U64(101), st.interrupts);
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	ASSERT_EQ(0, vic_close(&self->e.fd));
}

/* Both eventfds closed, then the coalescer (with work pending). */
TEST_F(vic, close_both_eventfds_then_coalescer)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, VIC_LONG_DELAY_US);

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 5));
	ASSERT_EQ(0, vic_close(&self->e.dst));
	ASSERT_EQ(0, vic_close(&self->e.src));
	ASSERT_EQ(0, vic_flush(self->e.fd));
	ASSERT_EQ(0, vic_close(&self->e.fd));
}

/* The device fd is only needed to create: coalescers outlive it. */
TEST_F(vic, coalescer_outlives_device_fd)
{
	struct vmaccel_vic_params p = vic_params_off();

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_close(&self->e.dev));
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	vic_env_expect(_metadata, &self->e, 3);
}

/* Closing a coalescer delivers its pending completions, once. */
TEST_F(vic, close_delivers_pending)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, VIC_LONG_DELAY_US);

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	vic_env_expect(_metadata, &self->e, 0);
	ASSERT_EQ(0, vic_close(&self->e.fd));
	vic_env_expect(_metadata, &self->e, 1);
	vic_sleep_ms(50);
	vic_env_expect(_metadata, &self->e, 0);
}

/* Closing with the backstop armed: one delivery, no timer afterwards. */
TEST_F(vic, close_with_backstop_armed)
{
	struct vmaccel_vic_params p = vic_params_fixed(64, 20000);
	int i;

	for (i = 0; i < 20; i++) {
		self->e.fd = vic_create(self->e.dev, self->e.src, self->e.dst,
					&p);
		ASSERT_LE(0, self->e.fd);
		ASSERT_EQ(0, vic_signal(self->e.src, 3));
		ASSERT_EQ(0, vic_close(&self->e.fd));
		vic_env_expect(_metadata, &self->e, 1);
	}
	/* Past every backstop: nothing more arrives. */
	vic_sleep_ms(100);
	vic_env_expect(_metadata, &self->e, 0);
}

/* A count already in the source when the coalescer is created is not lost. */
TEST_F(vic, create_picks_up_earlier_count)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats st;

	ASSERT_EQ(0, vic_signal(self->e.src, 5));
	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_signal(self->e.src, 1));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(6), st.completions);
	ASSERT_EQ(0, vic_take(self->e.src));
	vic_env_expect(_metadata, &self->e, st.interrupts);
}

/*
 * A semaphore-mode source hands out one unit per read.  The coalescer must
 * either refuse it or still take every completion signalled: a count left
 * behind in the source would never be delivered.
 */
TEST_F(vic, semaphore_source)
{
	struct vmaccel_vic_params p = vic_params_fixed(4, 2000);
	struct vmaccel_vic_stats st;
	int sem;

	sem = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, sem);
	ASSERT_EQ(0, vic_close(&self->e.src));
	self->e.src = sem;
	self->e.fd = vic_create(self->e.dev, sem, self->e.dst, &p);
	if (self->e.fd < 0) {
		ASSERT_EQ(EINVAL, errno);
		return;
	}
	ASSERT_EQ(0, vic_signal(sem, 5));
	ASSERT_EQ(0, vic_signal(sem, 2));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(7), st.completions)
		TH_LOG("%llu of 7 completions taken from a semaphore eventfd",
		       st.completions);
	ASSERT_EQ(0, vic_take(sem));
}

/*
 * Huge counts: a plain source's whole counter is one engine call, and a
 * semaphore source is drained in bounded batches; neither may stall the
 * CPU in the source's wake-up, and closing stops a long drain.
 */
TEST_F(vic, huge_counts)
{
	struct vmaccel_vic_params p = vic_params_fixed(4, 2000);
	const __u64 big = 0xfffffffffffffffeULL;
	struct vmaccel_vic_stats st;
	int sem, i;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_signal(self->e.src, big));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(big, st.completions);

	sem = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, sem);
	ASSERT_EQ(0, vic_close(&self->e.fd));
	ASSERT_EQ(0, vic_close(&self->e.src));
	self->e.src = sem;
	self->e.fd = vic_create(self->e.dev, sem, self->e.dst, &p);
	ASSERT_LE(0, self->e.fd);
	ASSERT_EQ(0, vic_signal(sem, 100000));
	for (i = 0; i < 500; i++) {
		st = vic_env_stats(_metadata, &self->e);
		if (st.completions == 100000)
			break;
		vic_sleep_ms(20);
	}
	ASSERT_EQ(VIC_U64(100000), st.completions);
	ASSERT_EQ(0, vic_take(sem));
	/* A drain that would never end is cut short by close. */
	ASSERT_EQ(0, vic_signal(sem, big));
	ASSERT_EQ(0, vic_close(&self->e.fd));
}

/* Coalescers may chain but never form a cycle. */
TEST_F(vic, cycle_refused)
{
	struct vmaccel_vic_params p = vic_params_off();
	int dev = self->e.dev, a, b, c, ab, bc, ca, ba;

	a = vic_eventfd();
	b = vic_eventfd();
	c = vic_eventfd();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ab = vic_create(dev, a, b, &p);
	ASSERT_LE(0, ab);
	ba = vic_create(dev, b, a, &p);
	ASSERT_EQ(-1, ba);
	ASSERT_EQ(ELOOP, errno);
	bc = vic_create(dev, b, c, &p);
	ASSERT_LE(0, bc);
	ca = vic_create(dev, c, a, &p);
	ASSERT_EQ(-1, ca);
	ASSERT_EQ(ELOOP, errno);
	/* The chain still works: one completion on a reaches c. */
	ASSERT_EQ(0, vic_signal(a, 1));
	ASSERT_EQ(1, vic_collect(c, 1, 2000));
	/* Once a -> b is gone, c -> a closes no cycle. */
	close(ab);
	ca = vic_create(dev, c, a, &p);
	ASSERT_LE(0, ca);
	close(ca);
	close(bc);
	close(a);
	close(b);
	close(c);
}

/*
 * A path of chained coalescers holds at most 4 (VIC_FD_MAX_CHAIN), however
 * it is built: appended at its end or prepended at its start.
 */
TEST_F(vic, chain_length_bounded)
{
	struct vmaccel_vic_params p = vic_params_off();
	int dev = self->e.dev, e[7], c[6], i, x;

	for (i = 0; i < 7; i++) {
		e[i] = vic_eventfd();
		ASSERT_LE(0, e[i]);
	}
	/* e1 -> e2 -> e3 -> e4 -> e5: four coalescers. */
	for (i = 1; i < 5; i++) {
		c[i] = vic_create(dev, e[i], e[i + 1], &p);
		ASSERT_LE(0, c[i]) TH_LOG("link %d: %s", i, strerror(errno));
	}
	x = vic_create(dev, e[5], e[6], &p);
	EXPECT_EQ(-1, x);
	EXPECT_EQ(ELOOP, errno);
	x = vic_create(dev, e[0], e[1], &p);
	EXPECT_EQ(-1, x);
	EXPECT_EQ(ELOOP, errno);
	/* The chain carries a completion end to end. */
	ASSERT_EQ(0, vic_signal(e[1], 1));
	ASSERT_EQ(1, vic_collect(e[5], 1, 2000));
	/* Cut in the middle: both ends may grow again. */
	close(c[3]);
	c[0] = vic_create(dev, e[0], e[1], &p);
	EXPECT_LE(0, c[0]);
	c[5] = vic_create(dev, e[5], e[6], &p);
	EXPECT_LE(0, c[5]);
	close(c[0]);
	close(c[5]);
	for (i = 1; i < 5; i++)
		if (i != 3)
			close(c[i]);
	for (i = 0; i < 7; i++)
		close(e[i]);
}

#define DEGREE	64	/* VIC_FD_MAX_DEGREE */

/*
 * One eventfd feeds at most 64 coalescers, and is fed by at most 64: what
 * one signal wakes (in the backstop's hard interrupt, too) is bounded.
 * Chaining in front of a full fan is fine: the check walks its 64 edges.
 */
TEST_F(vic, fan_degree_bounded)
{
	struct vmaccel_vic_params p = vic_params_off();
	int dev = self->e.dev, s, t, x, d[DEGREE + 1], c[DEGREE], in[DEGREE];
	int i, r;

	s = vic_eventfd();
	t = vic_eventfd();
	ASSERT_LE(0, s);
	ASSERT_LE(0, t);
	for (i = 0; i <= DEGREE; i++) {
		d[i] = vic_eventfd();
		ASSERT_LE(0, d[i]);
	}
	for (i = 0; i < DEGREE; i++) {
		c[i] = vic_create(dev, s, d[i], &p);
		ASSERT_LE(0, c[i]) TH_LOG("fan %d: %s", i, strerror(errno));
	}
	r = vic_create(dev, s, d[DEGREE], &p);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EMLINK, errno);
	x = vic_create(dev, t, s, &p);
	EXPECT_LE(0, x);
	close(x);
	/* The other side: 64 sources into t, then no more. */
	for (i = 0; i < DEGREE; i++) {
		in[i] = vic_create(dev, d[i], t, &p);
		ASSERT_LE(0, in[i]) TH_LOG("fan-in %d: %s", i, strerror(errno));
	}
	r = vic_create(dev, d[DEGREE], t, &p);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EMLINK, errno);
	/* Closing one makes room again. */
	close(in[0]);
	in[0] = vic_create(dev, d[DEGREE], t, &p);
	EXPECT_LE(0, in[0]);
	for (i = 0; i < DEGREE; i++) {
		close(in[i]);
		close(c[i]);
	}
	for (i = 0; i <= DEGREE; i++)
		close(d[i]);
	close(s);
	close(t);
}

/*
 * A lattice behind an eventfd (s -> 64 d_i, each d_i -> x and -> y: 192
 * coalescers) is more than one check may walk (128 edges): chaining in
 * front of s is refused, whatever the number of coalescers elsewhere.
 */
TEST_F(vic, check_walk_bounded)
{
	struct vmaccel_vic_params p = vic_params_off();
	int dev = self->e.dev, s, t, x, y, d[DEGREE], c[3 * DEGREE], i, r;

	s = vic_eventfd();
	t = vic_eventfd();
	x = vic_eventfd();
	y = vic_eventfd();
	ASSERT_LE(0, s);
	ASSERT_LE(0, t);
	ASSERT_LE(0, x);
	ASSERT_LE(0, y);
	for (i = 0; i < DEGREE; i++) {
		d[i] = vic_eventfd();
		ASSERT_LE(0, d[i]);
		c[3 * i] = vic_create(dev, s, d[i], &p);
		c[3 * i + 1] = vic_create(dev, d[i], x, &p);
		c[3 * i + 2] = vic_create(dev, d[i], y, &p);
		ASSERT_LE(0, c[3 * i]);
		ASSERT_LE(0, c[3 * i + 1]);
		ASSERT_LE(0, c[3 * i + 2]);
	}
	r = vic_create(dev, t, s, &p);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ELOOP, errno);
	/* Without the second layer to y it fits (64 + 64 edges). */
	for (i = 0; i < DEGREE; i++)
		close(c[3 * i + 2]);
	r = vic_create(dev, t, s, &p);
	EXPECT_LE(0, r);
	close(r);
	for (i = 0; i < DEGREE; i++) {
		close(c[3 * i]);
		close(c[3 * i + 1]);
		close(d[i]);
	}
	close(s);
	close(t);
	close(x);
	close(y);
}

/* The coalescer fd is O_CLOEXEC. */
TEST_F(vic, fd_is_cloexec)
{
	struct vmaccel_vic_params p = vic_params_off();
	int flags;

	vic_env_create(_metadata, &self->e, &p);
	flags = fcntl(self->e.fd, F_GETFD);
	ASSERT_LE(0, flags);
	ASSERT_TRUE(flags & FD_CLOEXEC);
	/* Also when created with the sysfs defaults. */
	ASSERT_EQ(0, vic_close(&self->e.fd));
	self->e.fd = vic_create(self->e.dev, self->e.src, self->e.dst, NULL);
	ASSERT_LE(0, self->e.fd);
	flags = fcntl(self->e.fd, F_GETFD);
	ASSERT_LE(0, flags);
	ASSERT_TRUE(flags & FD_CLOEXEC);
}

/* Many coalescers: the live count follows; eventfds may go right away. */
TEST_F_TIMEOUT(vic, create_and_close_many, 120)
{
	struct vmaccel_vic_params p = vic_params_fixed(4, 2000);
	enum { N = 200 };
	__u64 start, now;
	int fds[N], i, r, src, dst;

	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &start));
	for (i = 0; i < N; i++) {
		src = vic_eventfd();
		dst = vic_eventfd();
		ASSERT_LE(0, src);
		ASSERT_LE(0, dst);
		fds[i] = vic_create(self->e.dev, src, dst, &p);
		ASSERT_LE(0, fds[i]) TH_LOG("coalescer %d: %s", i,
					    strerror(errno));
		/* Leave some with pending work and an armed backstop. */
		ASSERT_EQ(0, vic_complete(src, i % 2 ? 1 + i % 3 : 0));
		close(src);
		close(dst);
	}
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &now));
	ASSERT_EQ(start + N, now);
	for (i = 0; i < N; i++) {
		r = close(fds[i]);
		ASSERT_EQ(0, r);
	}
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &now));
	ASSERT_EQ(start, now);
}

/* Lines of the debugfs list, -1 if it cannot be read. */
static int vic_debugfs_lines(void)
{
	char buf[4096];
	ssize_t r;
	int fd, lines = 0;

	fd = open(VIC_DEBUGFS, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		ssize_t i;

		for (i = 0; i < r; i++)
			lines += buf[i] == '\n';
	}
	close(fd);
	return r < 0 ? -1 : lines;
}

/* debugfs lists every live coalescer, one line each. */
TEST_F(vic, debugfs_lists_coalescers)
{
	struct vmaccel_vic_params p = vic_params_off();
	int before, during, after, fd2, src2, dst2;
	struct stat sb;

	if (stat(VIC_DEBUGFS_DIR "/vmaccel_vic", &sb)) {
		if (mount("debugfs", VIC_DEBUGFS_DIR, "debugfs", 0, NULL) &&
		    errno == ENODEV)
			SKIP(return, "kernel without debugfs");
	}
	before = vic_debugfs_lines();
	ASSERT_LE(0, before) TH_LOG("cannot read %s", VIC_DEBUGFS);

	vic_env_create(_metadata, &self->e, &p);
	src2 = vic_eventfd();
	dst2 = vic_eventfd();
	ASSERT_LE(0, src2);
	ASSERT_LE(0, dst2);
	fd2 = vic_create(self->e.dev, src2, dst2, &p);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vic_complete(self->e.src, 7));
	during = vic_debugfs_lines();
	ASSERT_EQ(before + 2, during);

	close(fd2);
	close(src2);
	close(dst2);
	ASSERT_EQ(before + 1, vic_debugfs_lines());
	ASSERT_EQ(0, vic_close(&self->e.fd));
	after = vic_debugfs_lines();
	ASSERT_EQ(before, after);
}

#define VIC_TRACEFS	"/sys/kernel/tracing"

/* Write @val to a tracefs file (truncating it): 0 or -1. */
static int vic_trace_write(const char *file, const char *val)
{
	char path[256];
	ssize_t len = strlen(val), r;
	int fd;

	snprintf(path, sizeof(path), VIC_TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = len ? write(fd, val, len) : 0;
	close(fd);
	return r == len ? 0 : -1;
}

/* The trace buffer (at most 1 MiB), NUL-terminated, to free(); NULL. */
static char *vic_trace_read(void)
{
	size_t size = 1 << 20, used = 0;
	ssize_t r;
	char *buf;
	int fd;

	buf = malloc(size + 1);
	if (!buf)
		return NULL;
	fd = open(VIC_TRACEFS "/trace", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (used < size && (r = read(fd, buf + used, size - used)) > 0)
		used += r;
	close(fd);
	buf[used] = '\0';
	return buf;
}

/* Occurrences of @needle in the trace buffer, -1 on error. */
static int vic_trace_count(const char *needle)
{
	char *buf = vic_trace_read(), *p;
	int n = 0;

	if (!buf)
		return -1;
	for (p = buf; (p = strstr(p, needle)); p++)
		n++;
	free(buf);
	return n;
}

/* The tracepoints report every deferral and every delivery. */
TEST_F(vic, tracepoints)
{
	struct vmaccel_vic_params p = vic_params_fixed(2, VIC_LONG_DELAY_US);
	int delivers, defers;

	/*
	 * Under injected allocation failures the kernel's own tracing core
	 * WARNs when it disables an event whose probe failed to register
	 * (tracepoint_probe_unregister: -ENOENT): not ours to test there.
	 */
	if (vmaccel_fault_injected())
		SKIP(return, "tracing core WARNs under fault injection");
	if (access(VIC_TRACEFS "/events", F_OK) &&
	    mount("tracefs", VIC_TRACEFS, "tracefs", 0, NULL))
		SKIP(return, "no tracefs");
	ASSERT_EQ(0, access(VIC_TRACEFS "/events/vmaccel_vic/vic_deliver",
			    F_OK));
	ASSERT_EQ(0, access(VIC_TRACEFS "/events/vmaccel_vic/vic_defer",
			    F_OK));

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_trace_write("trace", ""));
	ASSERT_EQ(0, vic_trace_write("events/vmaccel_vic/enable", "1"));
	/* defer, deliver, defer, deliver (flush) */
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	ASSERT_EQ(0, vic_flush(self->e.fd));
	ASSERT_EQ(0, vic_trace_write("events/vmaccel_vic/enable", "0"));
	delivers = vic_trace_count("vic_deliver:");
	defers = vic_trace_count("vic_defer:");
	ASSERT_EQ(0, vic_trace_write("trace", ""));
	ASSERT_EQ(2, delivers);
	ASSERT_EQ(2, defers);
	vic_env_expect(_metadata, &self->e, 2);
}

/*
 * The trace line's context flags of the backstop's delivery: the
 * hardirq/softirq flag is 'h' (or 'H') in a hard interrupt, 's' in a
 * softirq.  Its column is found from the header, whose "=>" lines name the
 * flags in order ("d.h1." without PREEMPT_RT; the -rt kernels add a
 * need-resched-lazy column before it).  Return that character, 0 if no
 * such line, -1 on error.
 */
static int vic_trace_backstop_ctx(void)
{
	char *buf = vic_trace_read(), *line, *save = NULL;
	unsigned int col = 2, n = 0;
	int ret = 0;

	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		char *flags = strstr(line, "] ");

		if (line[0] == '#') {
			if (strstr(line, "hardirq/softirq"))
				col = n;
			if (strstr(line, "=>"))
				n++;
			continue;
		}
		if (!strstr(line, "vic_deliver:") ||
		    !strstr(line, "backstop=1") || !flags ||
		    strlen(flags) < col + 3)
			continue;
		ret = (unsigned char)flags[col + 2];
	}
	free(buf);
	return ret;
}

/*
 * Is the running kernel PREEMPT_RT?  /sys/kernel/realtime (1) exists only
 * there; "PREEMPT_RT" in uname -v as a fallback.
 */
static bool vic_kernel_is_rt(void)
{
	struct utsname u;
	char c = 0;
	FILE *f;

	f = fopen("/sys/kernel/realtime", "r");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = 0;
		fclose(f);
		return c == '1';
	}
	return !uname(&u) && strstr(u.version, "PREEMPT_RT");
}

/*
 * The backstop delivers from a hard interrupt, not from the timer softirq
 * (which ksoftirqd may run late under softirq load, breaking the bound).
 * On PREEMPT_RT, where the engine's and the eventfd's spinlocks sleep, it
 * is a plain (not _HARD) hrtimer there and so expires in the softirq
 * thread: 's', as Documentation/vic/design.rst says.
 */
TEST_F(vic, backstop_context)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, 1000);
	bool rt = vic_kernel_is_rt();
	int ctx;

	if (vmaccel_fault_injected())
		SKIP(return, "tracing core WARNs under fault injection");
	if (access(VIC_TRACEFS "/events", F_OK) &&
	    mount("tracefs", VIC_TRACEFS, "tracefs", 0, NULL))
		SKIP(return, "no tracefs");
	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_trace_write("trace", ""));
	ASSERT_EQ(0, vic_trace_write("events/vmaccel_vic/vic_deliver/enable",
				     "1"));
	ASSERT_EQ(0, vic_complete(self->e.src, 1));
	vic_env_expect(_metadata, &self->e, 1);
	ASSERT_EQ(0, vic_trace_write("events/vmaccel_vic/vic_deliver/enable",
				     "0"));
	ctx = vic_trace_backstop_ctx();
	ASSERT_EQ(0, vic_trace_write("trace", ""));
	ASSERT_LT(0, ctx) TH_LOG("no backstop delivery traced");
	if (rt) {
		EXPECT_EQ('s', ctx)
			TH_LOG("PREEMPT_RT: backstop in context '%c', not the softirq thread",
			       ctx);
	} else {
		EXPECT_TRUE(ctx == 'h' || ctx == 'H')
			TH_LOG("backstop delivered in context '%c', not a hard interrupt",
			       ctx);
	}
}

/* A forked child closing its copy does not detach the parent's coalescer. */
TEST_F(vic, fork_child_close_keeps_coalescer)
{
	struct vmaccel_vic_params p = vic_params_off();
	int status;
	pid_t pid;

	vic_env_create(_metadata, &self->e, &p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(self->e.fd);
		_exit(vic_signal(self->e.src, 2) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The child's signal still went through the coalescer: one call. */
	vic_env_expect(_metadata, &self->e, 1);
	ASSERT_EQ(0, vic_complete(self->e.src, 4));
	vic_env_expect(_metadata, &self->e, 4);
}

/* Two coalescers on separate eventfds do not see each other's work. */
TEST_F(vic, coalescers_are_independent)
{
	struct vmaccel_vic_params p = vic_params_fixed(2, VIC_LONG_DELAY_US);
	struct vmaccel_vic_stats st;
	int src2, dst2, fd2;

	vic_env_create(_metadata, &self->e, &p);
	src2 = vic_eventfd();
	dst2 = vic_eventfd();
	ASSERT_LE(0, src2);
	ASSERT_LE(0, dst2);
	fd2 = vic_create(self->e.dev, src2, dst2, &p);
	ASSERT_LE(0, fd2);

	ASSERT_EQ(0, vic_complete(self->e.src, 6));
	ASSERT_EQ(0, vic_complete(src2, 1));
	vic_env_expect(_metadata, &self->e, 3);
	ASSERT_EQ(0, vic_get_stats(fd2, &st));
	ASSERT_EQ(VIC_U64(1), st.completions);
	ASSERT_EQ(1U, st.pending);
	ASSERT_EQ(0, vic_take(dst2));
	close(fd2);
	ASSERT_EQ(1, vic_collect(dst2, 1, 2000));
	close(src2);
	close(dst2);
}

/* Several coalescers may share one target (several queues, one vector). */
TEST_F(vic, shared_target)
{
	struct vmaccel_vic_params p = vic_params_off();
	int src2, fd2;

	vic_env_create(_metadata, &self->e, &p);
	src2 = vic_eventfd();
	ASSERT_LE(0, src2);
	fd2 = vic_create(self->e.dev, src2, self->e.dst, &p);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	ASSERT_EQ(0, vic_complete(src2, 4));
	vic_env_expect(_metadata, &self->e, 7);
	close(fd2);
	close(src2);
}

/*
 * Chained coalescers e1 -> A -> e2 -> B -> e3.  A's delivery signals e2
 * from inside an eventfd signal, where B must not signal e3 directly
 * (nested eventfd signalling); B defers, and nothing is lost.
 */
TEST_F(vic, chained_coalescers)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vmaccel_vic_stats sa, sb;
	int e3, b, i;
	__s64 got;

	vic_env_create(_metadata, &self->e, &p);	/* A: src -> dst */
	e3 = vic_eventfd();
	ASSERT_LE(0, e3);
	b = vic_create(self->e.dev, self->e.dst, e3, &p);	/* B: dst -> e3 */
	ASSERT_LE(0, b);

	ASSERT_EQ(0, vic_complete(self->e.src, 10));
	/* B consumes e2 as it is signalled, possibly in batches. */
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, vic_get_stats(b, &sb));
		if (sb.completions >= 10)
			break;
		vic_sleep_ms(10);
	}
	ASSERT_EQ(0, vic_get_stats(self->e.fd, &sa));
	ASSERT_EQ(VIC_U64(10), sa.interrupts);
	ASSERT_EQ(VIC_U64(10), sb.completions);
	ASSERT_LE(VIC_U64(1), sb.interrupts);
	ASSERT_GE(VIC_U64(10), sb.interrupts);
	got = vic_collect(e3, sb.interrupts, 2000);
	ASSERT_EQ(sb.interrupts, VIC_U64(got));
	/* e2 was consumed by B: nothing left in it for a reader. */
	ASSERT_EQ(0, vic_take(self->e.dst));

	/* Tear down the middle first. */
	close(b);
	ASSERT_EQ(0, vic_complete(self->e.src, 2));
	ASSERT_EQ(2, vic_collect(self->e.dst, 2, 2000));
	close(e3);
}

/*
 * A coalescer fd pins the module: unloading must fail while it is open.
 * (The device fd is closed first, so only the coalescer holds a reference.)
 */
TEST_F(vic, coalescer_pins_module)
{
	struct vmaccel_vic_params p = vic_params_off();
	long r;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_close(&self->e.dev));
	r = syscall(SYS_delete_module, "vmaccel_vic", O_NONBLOCK);
	ASSERT_EQ(-1, r) TH_LOG("vmaccel_vic unloaded under an open coalescer");
	ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, vic_complete(self->e.src, 2));
	vic_env_expect(_metadata, &self->e, 2);
}

TEST_HARNESS_MAIN
