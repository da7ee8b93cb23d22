// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: the backstop timer, FLUSH, and the consistency of
 * the counters over a mixed run.
 *
 * The VM running these tests may be emulated (TCG) and 10-50x slower than
 * hardware, so lower bounds on delays are exact (a backstop never fires
 * before max_delay_us after the oldest pending completion) while upper
 * bounds are generous (a 2 ms backstop must fire within one second).
 */
#define _GNU_SOURCE
#include "vic_util.h"
#include "vic_env_fixture.h"

/*
 * Wait until the target of @e is readable and return the time it became so
 * (or 0 after @timeout_ms).
 */
static __u64 vic_wait_delivery(struct vic_env *e, int timeout_ms)
{
	if (vic_wait_readable(e->dst, timeout_ms) != 1)
		return 0;
	return vic_now_ns();
}

/* A batch below the ratio is delivered by the backstop, not before. */
TEST_F(vic, backstop_delivers_idle_batch)
{
	const __u32 delay_us = 2000;
	struct vmaccel_vic_params p = vic_params_fixed(64, delay_us);
	struct vmaccel_vic_stats st;
	__u64 t0, t1;

	vic_env_create(_metadata, &self->e, &p);
	t0 = vic_now_ns();
	/* One call: a slow VM cannot let the backstop split the batch. */
	ASSERT_EQ(0, vic_signal(self->e.src, 3));
	st = vic_env_stats(_metadata, &self->e);
	/* Unless this slow VM already spent most of the delay, nothing yet. */
	if (vic_now_ns() - t0 < delay_us * 1000ULL / 2) {
		ASSERT_EQ(VIC_U64(0), st.interrupts);
		ASSERT_EQ(3U, st.pending);
	}
	t1 = vic_wait_delivery(&self->e, 2000);
	ASSERT_NE(VIC_U64(0), t1) TH_LOG("no backstop delivery within 2 s");
	ASSERT_LE(VIC_U64(delay_us * 1000ULL * 95 / 100), t1 - t0);
	ASSERT_GT(VIC_NSEC_PER_SEC, t1 - t0);
	vic_env_expect(_metadata, &self->e, 1);

	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(3), st.completions);
	ASSERT_EQ(VIC_U64(3), st.deferred);
	ASSERT_EQ(VIC_U64(1), st.interrupts);
	ASSERT_EQ(VIC_U64(1), st.backstop);
	ASSERT_EQ(0U, st.pending);
	/* The oldest completion waited at least max_delay_us, and not 1 s. */
	ASSERT_LE(VIC_U64(delay_us * 1000ULL), st.max_delay_ns);
	ASSERT_GT(VIC_NSEC_PER_SEC, st.max_delay_ns);
}

/* Every idle batch gets its own backstop. */
TEST_F(vic, backstop_repeats)
{
	struct vmaccel_vic_params p = vic_params_fixed(64, 2000);
	struct vmaccel_vic_stats st;
	int i;

	vic_env_create(_metadata, &self->e, &p);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, vic_signal(self->e.src, 2));
		ASSERT_NE(VIC_U64(0), vic_wait_delivery(&self->e, 2000))
			TH_LOG("round %d: no backstop delivery within 2 s", i);
		vic_env_expect(_metadata, &self->e, 1);
		st = vic_env_stats(_metadata, &self->e);
		ASSERT_EQ(VIC_U64(i + 1), st.backstop);
		ASSERT_EQ(0U, st.pending);
	}
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(10), st.completions);
	ASSERT_EQ(VIC_U64(10), st.deferred);
	ASSERT_EQ(VIC_U64(5), st.interrupts);
}

/* max_delay_us is microseconds: 300000 holds a completion 0.3 s. */
TEST_F(vic, backstop_delay_is_in_microseconds)
{
	const __u32 delay_us = 300000;
	struct vmaccel_vic_params p = vic_params_fixed(64, delay_us);
	struct vmaccel_vic_stats st;
	__u64 t0, t1;

	vic_env_create(_metadata, &self->e, &p);
	t0 = vic_now_ns();
	ASSERT_EQ(0, vic_complete(self->e.src, 1));
	t1 = vic_wait_delivery(&self->e, 3000);
	ASSERT_NE(VIC_U64(0), t1) TH_LOG("no backstop delivery within 3 s");
	ASSERT_LE(VIC_U64(delay_us * 1000ULL * 95 / 100), t1 - t0);
	ASSERT_GT(VIC_U64(delay_us * 1000ULL + VIC_NSEC_PER_SEC), t1 - t0);
	vic_env_expect(_metadata, &self->e, 1);
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(1), st.backstop);
	ASSERT_LE(VIC_U64(delay_us * 1000ULL), st.max_delay_ns);
}

/*
 * The backstop is due max_delay_us after the *oldest* pending completion:
 * a later completion of the same batch does not postpone it.
 */
TEST_F(vic, backstop_counts_from_oldest_completion)
{
	const __u32 delay_us = 500000;
	struct vmaccel_vic_params p = vic_params_fixed(64, delay_us);
	struct vmaccel_vic_stats st;
	__u64 t0, t1;

	vic_env_create(_metadata, &self->e, &p);
	t0 = vic_now_ns();
	ASSERT_EQ(0, vic_complete(self->e.src, 1));
	vic_sleep_ms(400);
	st = vic_env_stats(_metadata, &self->e);
	if (st.backstop)
		SKIP(return, "this VM took over 500 ms to sleep 400 ms");
	ASSERT_EQ(0, vic_complete(self->e.src, 1));
	t1 = vic_wait_delivery(&self->e, 3000);
	ASSERT_NE(VIC_U64(0), t1) TH_LOG("no backstop delivery within 3 s");
	/* Due at t0 + 0.5 s; postponing to the second one would be >= 0.9 s. */
	ASSERT_LE(VIC_U64(delay_us * 1000ULL), t1 - t0);
	ASSERT_GT(VIC_U64(850 * VIC_NSEC_PER_MSEC), t1 - t0)
		TH_LOG("backstop fired %llu ms after the oldest completion",
		       (t1 - t0) / VIC_NSEC_PER_MSEC);
	vic_env_expect(_metadata, &self->e, 1);
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(1), st.interrupts);
	ASSERT_EQ(VIC_U64(1), st.backstop);
	ASSERT_EQ(VIC_U64(2), st.deferred);
	ASSERT_EQ(0U, st.pending);
	ASSERT_LE(VIC_U64(delay_us * 1000ULL), st.max_delay_ns);
}

/*
 * Shortening max_delay_us applies to the batch already pending: it is not
 * held for the old delay (here one second).
 */
TEST_F(vic, shorter_delay_applies_to_pending_batch)
{
	struct vmaccel_vic_params p = vic_params_fixed(64, VIC_LONG_DELAY_US);
	struct vmaccel_vic_stats st;
	__u64 t0, t1;

	vic_env_create(_metadata, &self->e, &p);
	t0 = vic_now_ns();
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	p.max_delay_us = 2000;
	ASSERT_EQ(0, vic_set_params(self->e.fd, &p));
	t1 = vic_wait_delivery(&self->e, 3000);
	ASSERT_NE(VIC_U64(0), t1);
	ASSERT_GT(VIC_U64(600 * VIC_NSEC_PER_MSEC), t1 - t0)
		TH_LOG("delivered after %llu ms", (t1 - t0) / VIC_NSEC_PER_MSEC);
	vic_env_expect(_metadata, &self->e, 1);
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(1), st.backstop);
	ASSERT_EQ(0U, st.pending);
}

/* An immediate delivery cancels the backstop: no second interrupt. */
TEST_F(vic, delivery_cancels_backstop)
{
	struct vmaccel_vic_params p = vic_params_fixed(4, 200000);
	struct vmaccel_vic_stats st;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 3));
	ASSERT_EQ(0, vic_complete(self->e.src, 1));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(1), st.interrupts);
	ASSERT_EQ(VIC_U64(0), st.backstop);
	vic_env_expect(_metadata, &self->e, 1);
	vic_sleep_ms(500);
	vic_env_expect(_metadata, &self->e, 0);
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(1), st.interrupts);
	ASSERT_EQ(VIC_U64(0), st.backstop);
	ASSERT_EQ(0U, st.pending);
}

/* FLUSH delivers the batch and cancels its backstop. */
TEST_F(vic, flush_cancels_backstop)
{
	struct vmaccel_vic_params p = vic_params_fixed(64, 200000);
	struct vmaccel_vic_stats st;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 5));
	ASSERT_EQ(0, vic_flush(self->e.fd));
	vic_env_expect(_metadata, &self->e, 1);
	vic_sleep_ms(500);
	vic_env_expect(_metadata, &self->e, 0);
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(1), st.interrupts);
	ASSERT_EQ(VIC_U64(0), st.backstop);
	ASSERT_EQ(VIC_U64(5), st.deferred);
	ASSERT_EQ(0U, st.pending);
}

/* adaptive: with CIF 64 (ratio 16) a short tail is drained by the backstop. */
TEST_F(vic, adaptive_idle_queue_drains)
{
	struct vmaccel_vic_params p = vic_params(VMACCEL_VIC_MODE_ADAPTIVE, 4,
						 4, 0, 2000, 32);
	struct vmaccel_vic_stats st;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_set_cif(self->e.fd, 64));
	/* Whole calls, so that a slow VM cannot let the backstop split them. */
	ASSERT_EQ(0, vic_signal(self->e.src, 16));
	ASSERT_EQ(0, vic_signal(self->e.src, 16));
	ASSERT_EQ(0, vic_signal(self->e.src, 5));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(2), st.interrupts - st.backstop);
	ASSERT_EQ(16U, st.cur_ratio);
	st = vic_env_settle(_metadata, &self->e, 1000);
	ASSERT_EQ(VIC_U64(3), st.interrupts);
	ASSERT_EQ(VIC_U64(1), st.backstop);
	vic_env_expect(_metadata, &self->e, 3);
}

/* adaptive with estimated CIF: after a coalesced burst the tail drains. */
TEST_F(vic, adaptive_estimate_tail_drains)
{
	struct vmaccel_vic_params p = vic_params(VMACCEL_VIC_MODE_ADAPTIVE, 4,
						 4, 0, 100000, 32);
	struct vmaccel_vic_stats st;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 5000));
	/* 100 ms backstop; allow a slow VM a full second. */
	st = vic_env_settle(_metadata, &self->e, 1000);
	ASSERT_EQ(VIC_U64(5000), st.completions);
	ASSERT_GT(VIC_U64(2500), st.interrupts);
	vic_env_expect(_metadata, &self->e, st.interrupts);
	ASSERT_EQ(st.completions,
		  st.deferred + (st.interrupts - st.backstop));
	ASSERT_GT(VIC_U64(100000 * 1000ULL + VIC_NSEC_PER_SEC),
		  st.max_delay_ns);
}

/* A reference model of the engine in fixed mode. */
struct vic_model {
	__u32 ratio;
	__u64 completions, interrupts, deferred, backstop, pending;
	__u64 triggering;	/* completions of calls that delivered */
	__u64 triggers;		/* calls that delivered */
};

/* One engine call with @n completions; returns interrupts raised. */
static int vic_model_complete(struct vic_model *m, __u64 n)
{
	m->completions += n;
	m->pending += n;
	if (m->pending >= m->ratio) {
		m->pending = 0;
		m->interrupts++;
		m->triggering += n;
		m->triggers++;
		return 1;
	}
	m->deferred += n;
	return 0;
}

static __u32 vic_rand(__u32 *state)
{
	*state = *state * 1103515245U + 12345U;
	return (*state >> 16) & 0x7fff;
}

/*
 * A mixed run of counted writes, single writes, flushes and backstops,
 * checked step by step against the model, then the identity
 * completions == deferred + completions of the calls that delivered,
 * and the module-wide totals in sysfs against the coalescer's.
 */
TEST_F_TIMEOUT(vic, stats_match_model, 120)
{
	struct vmaccel_vic_params p = vic_params_fixed(5, 500000);
	struct vic_model m = { .ratio = 5 };
	struct vic_totals before, after;
	struct vmaccel_vic_stats st;
	__u32 seed = 12345, op, k, i;
	int round, waits = 0, flushes = 0;
	__u64 raised;

	ASSERT_EQ(0, vic_totals_read(&before));
	vic_env_create(_metadata, &self->e, &p);
	for (round = 0; round < 60; round++) {
		op = vic_rand(&seed) % 4;
		raised = 0;
		switch (op) {
		case 0:	/* one call with k completions */
			k = 1 + vic_rand(&seed) % 12;
			ASSERT_EQ(0, vic_signal(self->e.src, k));
			raised = vic_model_complete(&m, k);
			break;
		case 1:	/* k calls with one completion each */
			k = 1 + vic_rand(&seed) % 6;
			for (i = 0; i < k; i++) {
				ASSERT_EQ(0, vic_signal(self->e.src, 1));
				raised += vic_model_complete(&m, 1);
			}
			break;
		case 2:
			if (!m.pending)
				continue;
			ASSERT_EQ(0, vic_flush(self->e.fd));
			m.pending = 0;
			m.interrupts++;
			raised = 1;
			flushes++;
			break;
		default:
			if (!m.pending || waits >= 4)
				continue;
			ASSERT_NE(VIC_U64(0), vic_wait_delivery(&self->e, 3000));
			m.pending = 0;
			m.interrupts++;
			m.backstop++;
			raised = 1;
			waits++;
			break;
		}
		st = vic_env_stats(_metadata, &self->e);
		ASSERT_EQ(m.completions, st.completions)
			TH_LOG("round %d op %u", round, op);
		ASSERT_EQ(m.interrupts, st.interrupts)
			TH_LOG("round %d op %u", round, op);
		ASSERT_EQ(m.deferred, st.deferred)
			TH_LOG("round %d op %u", round, op);
		ASSERT_EQ(m.backstop, st.backstop)
			TH_LOG("round %d op %u", round, op);
		ASSERT_EQ(m.pending, VIC_U64(st.pending))
			TH_LOG("round %d op %u", round, op);
		vic_env_expect(_metadata, &self->e, raised);
	}
	if (m.pending) {
		ASSERT_EQ(0, vic_flush(self->e.fd));
		m.interrupts++;
		flushes++;
		vic_env_expect(_metadata, &self->e, 1);
	}
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(m.interrupts, st.interrupts);
	ASSERT_EQ(0U, st.pending);
	ASSERT_LT(0, flushes);
	ASSERT_LT(0, waits);
	ASSERT_EQ(st.completions, st.deferred + m.triggering);
	ASSERT_EQ(m.triggers, st.interrupts - st.backstop - flushes);

	/* The totals grew by at least this coalescer's counts. */
	ASSERT_EQ(0, vic_totals_read(&after));
	ASSERT_EQ(before.coalescers + 1, after.coalescers);
	ASSERT_LE(st.completions, after.completions - before.completions);
	ASSERT_LE(st.interrupts, after.interrupts - before.interrupts);
	ASSERT_LE(st.deferred, after.deferred - before.deferred);
	ASSERT_LE(st.backstop, after.backstop - before.backstop);
}

/*
 * Single completions at random gaps of 0-3 ms against a 2 ms backstop:
 * every completion is delivered, each immediate delivery was triggered by
 * one completion, and nothing waits anywhere near a second.
 */
TEST_F_TIMEOUT(vic, bounded_delay_under_irregular_load, 120)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, 2000);
	struct vmaccel_vic_stats st;
	__u32 seed = 777;
	int i;

	vic_env_create(_metadata, &self->e, &p);
	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, vic_complete(self->e.src, 1));
		usleep(vic_rand(&seed) % 3000);
	}
	st = vic_env_settle(_metadata, &self->e, 1000);
	ASSERT_EQ(VIC_U64(300), st.completions);
	vic_env_expect(_metadata, &self->e, st.interrupts);
	ASSERT_EQ(st.completions,
		  st.deferred + (st.interrupts - st.backstop));
	ASSERT_LT(VIC_U64(0), st.backstop);
	ASSERT_LE(VIC_U64(2000 * 1000ULL), st.max_delay_ns);
	ASSERT_GT(VIC_NSEC_PER_SEC, st.max_delay_ns);
}

TEST_HARNESS_MAIN
