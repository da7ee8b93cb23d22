// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: concurrency.  Several threads signal one source
 * while others change parameters, CIF, flush, read stats, or close the
 * coalescer; backstops race immediate deliveries.  Whatever the
 * interleaving, no completion is lost, counters stay consistent and
 * nothing hangs.  (Worker threads never assert; they count errors.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>

#include "vic_util.h"
#include "vic_env_fixture.h"

#define NR_WRITERS	4

struct vic_writer {
	pthread_t thread;
	int src;
	unsigned int count;		/* 0: until *stop */
	atomic_bool *stop;
	unsigned int written;
	unsigned int errors;
};

static void *vic_writer_fn(void *arg)
{
	struct vic_writer *w = arg;

	while (w->count ? w->written < w->count : !atomic_load(w->stop)) {
		if (vic_signal(w->src, 1)) {
			w->errors++;
			break;
		}
		w->written++;
	}
	return NULL;
}

static int vic_start_writers(struct vic_writer *w, int n, int src,
			     unsigned int count, atomic_bool *stop)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].src = src;
		w[i].count = count;
		w[i].stop = stop;
		if (pthread_create(&w[i].thread, NULL, vic_writer_fn, &w[i]))
			return -1;
	}
	return 0;
}

/* Join the writers: total written, or -1 if any failed. */
static long vic_join_writers(struct vic_writer *w, int n)
{
	long total = 0;
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		total += w[i].written;
		bad |= w[i].errors != 0;
	}
	return bad ? -1 : total;
}

/* off mode: 4 x 10000 concurrent completions, 40000 interrupts. */
TEST_F_TIMEOUT(vic, off_concurrent_writers, 300)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vic_writer w[NR_WRITERS];
	struct vmaccel_vic_stats st;
	const unsigned int per = 10000;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_start_writers(w, NR_WRITERS, self->e.src, per, NULL));
	ASSERT_EQ(NR_WRITERS * per, vic_join_writers(w, NR_WRITERS));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(NR_WRITERS * per), st.completions);
	ASSERT_EQ(VIC_U64(NR_WRITERS * per), st.interrupts);
	ASSERT_EQ(VIC_U64(0), st.deferred);
	vic_env_expect(_metadata, &self->e, NR_WRITERS * per);
}

/* fixed 4: every delivery accounted for, and each triggered by one. */
TEST_F_TIMEOUT(vic, fixed_concurrent_writers, 300)
{
	struct vmaccel_vic_params p = vic_params_fixed(4, VIC_LONG_DELAY_US);
	struct vic_writer w[NR_WRITERS];
	struct vmaccel_vic_stats st;
	const unsigned int per = 10000;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_start_writers(w, NR_WRITERS, self->e.src, per, NULL));
	ASSERT_EQ(NR_WRITERS * per, vic_join_writers(w, NR_WRITERS));
	st = vic_env_settle(_metadata, &self->e, 2000);
	ASSERT_EQ(VIC_U64(NR_WRITERS * per), st.completions);
	ASSERT_EQ(st.completions,
		  st.deferred + (st.interrupts - st.backstop));
	/* No interrupt covers more than 4 single completions. */
	ASSERT_LE(VIC_U64(NR_WRITERS * per / 4), st.interrupts);
	vic_env_expect(_metadata, &self->e, st.interrupts);
}

/*
 * A 1 us backstop races every deferral: timer deliveries and immediate
 * ones interleave on two CPUs.  Still each completion is delivered once.
 */
TEST_F_TIMEOUT(vic, backstop_races_deliveries, 300)
{
	struct vmaccel_vic_params p = vic_params_fixed(3,
						       VMACCEL_VIC_DELAY_US_MIN);
	struct vic_writer w[2];
	struct vmaccel_vic_stats st;
	const unsigned int per = 10000;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_start_writers(w, 2, self->e.src, per, NULL));
	ASSERT_EQ(2 * per, vic_join_writers(w, 2));
	st = vic_env_settle(_metadata, &self->e, 2000);
	ASSERT_EQ(VIC_U64(2 * per), st.completions);
	ASSERT_EQ(st.completions,
		  st.deferred + (st.interrupts - st.backstop));
	ASSERT_LT(VIC_U64(0), st.backstop);
	ASSERT_GT(VIC_NSEC_PER_SEC, st.max_delay_ns);
	vic_env_expect(_metadata, &self->e, st.interrupts);
}

struct vic_control {
	pthread_t thread;
	int fd;
	atomic_bool *stop;
	unsigned int ops;
	unsigned int errors;
};

/* Flip modes, ratios, delays and CIF; flush; read stats. */
static void *vic_control_fn(void *arg)
{
	struct vic_control *c = arg;
	struct vmaccel_vic_params p;
	struct vmaccel_vic_stats st;
	__u32 seed = 99, r;

	while (!atomic_load(c->stop)) {
		seed = seed * 1103515245U + 12345U;
		r = seed >> 16;
		switch (r % 5) {
		case 0:
			p = vic_params(r % 3, 1 + r % 16, r % 8, (r % 2) * 1000,
				       1 + r % 500, 1 + r % 64);
			c->errors += vic_set_params(c->fd, &p) != 0;
			break;
		case 1:
			c->errors += vic_set_cif(c->fd, r % 128) != 0;
			break;
		case 2:
			c->errors += vic_flush(c->fd) != 0;
			break;
		default:
			c->errors += vic_get_stats(c->fd, &st) != 0;
			break;
		}
		c->ops++;
	}
	return NULL;
}

/* Writers against a thread changing everything under them. */
TEST_F_TIMEOUT(vic, writers_vs_control, 300)
{
	struct vmaccel_vic_params p = vic_params(VMACCEL_VIC_MODE_ADAPTIVE, 4,
						 4, 0, 100, 32);
	struct vic_writer w[NR_WRITERS];
	struct vmaccel_vic_stats st;
	const unsigned int per = 5000;
	atomic_bool stop = false;
	struct vic_control c = { .stop = &stop };

	vic_env_create(_metadata, &self->e, &p);
	c.fd = self->e.fd;
	ASSERT_EQ(0, pthread_create(&c.thread, NULL, vic_control_fn, &c));
	ASSERT_EQ(0, vic_start_writers(w, NR_WRITERS, self->e.src, per, NULL));
	ASSERT_EQ(NR_WRITERS * per, vic_join_writers(w, NR_WRITERS));
	atomic_store(&stop, true);
	pthread_join(c.thread, NULL);
	ASSERT_EQ(0U, c.errors);
	ASSERT_LT(0U, c.ops);

	ASSERT_EQ(0, vic_flush(self->e.fd));
	st = vic_env_settle(_metadata, &self->e, 2000);
	ASSERT_EQ(VIC_U64(NR_WRITERS * per), st.completions);
	ASSERT_GE(st.completions, st.deferred);
	ASSERT_LE(VIC_U64(1), st.interrupts);
	ASSERT_GE(st.completions, st.interrupts);
	vic_env_expect(_metadata, &self->e, st.interrupts);
}

/*
 * Close the coalescer while writers signal its source: writes after the
 * close stay in the source, deliveries before it reach the target.
 */
TEST_F_TIMEOUT(vic, close_while_writing, 300)
{
	struct vmaccel_vic_params p = vic_params_fixed(2, 50);
	struct vic_writer w[NR_WRITERS];
	atomic_bool stop = false;
	__s64 delivered, left;
	long written;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_start_writers(w, NR_WRITERS, self->e.src, 0, &stop));
	vic_sleep_ms(200);
	ASSERT_EQ(0, close(self->e.fd));
	self->e.fd = -1;
	vic_sleep_ms(200);
	atomic_store(&stop, true);
	written = vic_join_writers(w, NR_WRITERS);
	ASSERT_LT(0, written);

	delivered = vic_collect(self->e.dst, 1, 2000);
	ASSERT_LT(0, delivered);
	/* Nobody consumes the source any more. */
	left = vic_take(self->e.src);
	ASSERT_LT(0, left);
	ASSERT_GT(written, left);
	ASSERT_EQ(0, vic_signal(self->e.src, 1));
	ASSERT_EQ(1, vic_take(self->e.src));
}

struct vic_churn {
	pthread_t thread;
	int dev;
	unsigned int rounds;
	unsigned int errors;
};

/* Create, use and close coalescers in a loop. */
static void *vic_churn_fn(void *arg)
{
	struct vmaccel_vic_params p = vic_params_fixed(3, 100);
	struct vic_churn *c = arg;
	unsigned int i;
	int src, dst, fd;

	for (i = 0; i < c->rounds; i++) {
		src = vic_eventfd();
		dst = vic_eventfd();
		fd = vic_create(c->dev, src, dst, i % 2 ? &p : NULL);
		if (src < 0 || dst < 0 || fd < 0) {
			c->errors++;
		} else {
			c->errors += vic_complete(src, i % 7) != 0;
			if (i % 3 == 0)
				close(src);
		}
		close(fd);
		close(dst);
		if (i % 3)
			close(src);
	}
	return NULL;
}

/* Threads creating and closing coalescers leave the live count as it was. */
TEST_F_TIMEOUT(vic, create_close_threads, 300)
{
	struct vic_churn c[NR_WRITERS];
	__u64 before, after;
	int i;

	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &before));
	for (i = 0; i < NR_WRITERS; i++) {
		c[i].dev = self->e.dev;
		c[i].rounds = 100;
		c[i].errors = 0;
		ASSERT_EQ(0, pthread_create(&c[i].thread, NULL, vic_churn_fn,
					    &c[i]));
	}
	for (i = 0; i < NR_WRITERS; i++) {
		pthread_join(c[i].thread, NULL);
		ASSERT_EQ(0U, c[i].errors);
	}
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &after));
	ASSERT_EQ(before, after);
}

TEST_HARNESS_MAIN
