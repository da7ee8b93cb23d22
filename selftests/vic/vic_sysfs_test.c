// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: the sysfs attributes of /dev/vmaccel-vic: the
 * defaults for new coalescers (documented values, limits, rejected writes
 * that change nothing, use by VMACCEL_VIC_CREATE without parameters) and
 * the read-only module-wide counters.  Every test restores the defaults.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "vic_util.h"

FIXTURE(sysfs) {
	struct vic_env e;
	struct vic_defaults saved;
};

FIXTURE_SETUP(sysfs)
{
	vic_env_open(_metadata, &self->e);
	ASSERT_EQ(0, vic_defaults_save(&self->saved));
}

FIXTURE_TEARDOWN(sysfs)
{
	EXPECT_EQ(0, vic_defaults_restore(&self->saved))
		TH_LOG("could not restore the sysfs defaults");
	vic_env_close(&self->e);
}

/* Read a numeric attribute, asserting its format. */
static __u64 vic_read_num(struct __test_metadata *_metadata, const char *name)
{
	__u64 v = 0;
	int r;

	r = vic_sysfs_u64(name, &v);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", name, strerror(-r));
	return v;
}

static void vic_read_mode(struct __test_metadata *_metadata, char *buf,
			  size_t size)
{
	int r = vic_sysfs_read("default_mode", buf, size);

	ASSERT_LT(0, r) TH_LOG("default_mode: %s", strerror(-r));
	ASSERT_EQ('\n', buf[r - 1]);
	buf[r - 1] = '\0';
}

struct vic_num_attr {
	const char *name;
	__u64 dflt, min, max;
};

static const struct vic_num_attr vic_num_attrs[] = {
	{ "default_fixed_ratio", 4, 1, VMACCEL_VIC_RATIO_MAX },
	{ "default_cif_threshold", 4, 0, VMACCEL_VIC_CIF_THRESHOLD_MAX },
	{ "default_iops_threshold", 2000, 0, VMACCEL_VIC_IOPS_THRESHOLD_MAX },
	{ "default_max_delay_us", 200, VMACCEL_VIC_DELAY_US_MIN,
	  VMACCEL_VIC_DELAY_US_MAX },
	{ "default_max_ratio", 32, 1, VMACCEL_VIC_RATIO_MAX },
};

static const char * const vic_counters[] = {
	"coalescers", "completions", "interrupts", "deferred", "backstop",
};

/* After loading, the defaults are the documented ones. */
TEST_F(sysfs, documented_defaults)
{
	char mode[64];
	unsigned int i;
	__u64 v;

	vic_read_mode(_metadata, mode, sizeof(mode));
	ASSERT_STREQ("adaptive", mode);
	for (i = 0; i < ARRAY_SIZE(vic_num_attrs); i++) {
		v = vic_read_num(_metadata, vic_num_attrs[i].name);
		ASSERT_EQ(vic_num_attrs[i].dflt, v)
			TH_LOG("%s", vic_num_attrs[i].name);
	}
	for (i = 0; i < ARRAY_SIZE(vic_counters); i++)
		vic_read_num(_metadata, vic_counters[i]);
}

/* The limits are accepted and read back, with or without a newline. */
TEST_F(sysfs, limits_accepted)
{
	const struct vic_num_attr *a;
	char buf[32];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vic_num_attrs); i++) {
		a = &vic_num_attrs[i];
		ASSERT_EQ(0, vic_sysfs_set_u64(a->name, a->min))
			TH_LOG("%s = %llu", a->name, a->min);
		ASSERT_EQ(a->min, vic_read_num(_metadata, a->name));
		snprintf(buf, sizeof(buf), "%llu", a->max);
		ASSERT_EQ(0, vic_sysfs_write(a->name, buf))
			TH_LOG("%s = %s", a->name, buf);
		ASSERT_EQ(a->max, vic_read_num(_metadata, a->name));
		ASSERT_EQ(0, vic_sysfs_set_u64(a->name, a->dflt));
		ASSERT_EQ(a->dflt, vic_read_num(_metadata, a->name));
	}
}

/* Out of range and garbage: EINVAL, value unchanged. */
TEST_F(sysfs, bad_numbers_rejected)
{
	const char * const garbage[] = {
		"abc", "-1", "\n", "12abc", "4294967296", "18446744073709551616",
		"1 2", "x1",
	};
	const struct vic_num_attr *a;
	char buf[32];
	unsigned int i, j;
	__u64 before;
	int r;

	for (i = 0; i < ARRAY_SIZE(vic_num_attrs); i++) {
		a = &vic_num_attrs[i];
		/* Start from a value that is neither limit. */
		ASSERT_EQ(0, vic_sysfs_set_u64(a->name, a->min + 1));
		before = vic_read_num(_metadata, a->name);
		for (j = 0; j < ARRAY_SIZE(garbage) + 2; j++) {
			if (j < ARRAY_SIZE(garbage))
				snprintf(buf, sizeof(buf), "%s", garbage[j]);
			else if (j == ARRAY_SIZE(garbage))
				snprintf(buf, sizeof(buf), "%llu\n", a->max + 1);
			else if (a->min > 0)
				snprintf(buf, sizeof(buf), "%llu\n", a->min - 1);
			else
				continue;
			r = vic_sysfs_write(a->name, buf);
			ASSERT_EQ(-EINVAL, r)
				TH_LOG("%s = \"%s\": %s", a->name, buf,
				       r ? strerror(-r) : "accepted");
			ASSERT_EQ(before, vic_read_num(_metadata, a->name))
				TH_LOG("%s changed by \"%s\"", a->name, buf);
		}
	}
}

TEST_F(sysfs, mode_words)
{
	const char * const good[][2] = {
		{ "off", "off" }, { "fixed\n", "fixed" },
		{ "adaptive\n", "adaptive" }, { "fixed", "fixed" },
		{ "off\n", "off" }, { "adaptive", "adaptive" },
	};
	const char * const bad[] = {
		"fast", "of", "offf", "adaptive2", "\n", "1", "fixed fixed",
	};
	char mode[64];
	unsigned int i;
	int r;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		ASSERT_EQ(0, vic_sysfs_write("default_mode", good[i][0]))
			TH_LOG("\"%s\" rejected", good[i][0]);
		vic_read_mode(_metadata, mode, sizeof(mode));
		ASSERT_STREQ(good[i][1], mode);
	}
	ASSERT_EQ(0, vic_sysfs_write("default_mode", "fixed"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = vic_sysfs_write("default_mode", bad[i]);
		ASSERT_EQ(-EINVAL, r)
			TH_LOG("\"%s\": %s", bad[i],
			       r ? strerror(-r) : "accepted");
		vic_read_mode(_metadata, mode, sizeof(mode));
		ASSERT_STREQ("fixed", mode);
	}
}

/* The counters are read-only, even for root. */
TEST_F(sysfs, counters_read_only)
{
	char path[256];
	struct stat st;
	unsigned int i;
	__u64 before;
	int fd;

	for (i = 0; i < ARRAY_SIZE(vic_counters); i++) {
		snprintf(path, sizeof(path), VIC_SYSFS "%s", vic_counters[i]);
		ASSERT_EQ(0, stat(path, &st));
		ASSERT_EQ(0U, st.st_mode & 0222) TH_LOG("%s", path);
		before = vic_read_num(_metadata, vic_counters[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			ASSERT_EQ(-1, write(fd, "0\n", 2))
				TH_LOG("%s accepted a write", path);
			close(fd);
		}
		ASSERT_EQ(before, vic_read_num(_metadata, vic_counters[i]));
	}
	/* The defaults are writable by root only. */
	for (i = 0; i < VIC_NR_DEFAULTS; i++) {
		snprintf(path, sizeof(path), VIC_SYSFS "%s",
			 vic_default_name(i));
		ASSERT_EQ(0, stat(path, &st));
		ASSERT_EQ(0200U, st.st_mode & 0222) TH_LOG("%s", path);
	}
}

/* The counters are also under stats/, as in every module of the suite. */
TEST_F(sysfs, counters_also_under_stats)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vic_counters); i++) {
		const char *n = vic_counters[i];

		ASSERT_EQ(0, vmaccel_stats_alias(VIC_SYSFS, n))
			TH_LOG("%sstats/%s", VIC_SYSFS, n);
	}
}

/*
 * Every numeric file as the knob helper declares it: knobs 0644, counters
 * 0444 (also under stats/), one decimal number and a newline each.
 */
TEST_F(sysfs, numbers_modes_and_format)
{
	static const char * const knobs[] = {
		"default_fixed_ratio", "default_cif_threshold",
		"default_iops_threshold", "default_max_delay_us",
		"default_max_ratio",
		NULL,
	};
	static const char * const counters[] = {
		"coalescers", "completions", "interrupts", "deferred",
		"backstop", "stats/coalescers", "stats/completions",
		"stats/interrupts", "stats/deferred", "stats/backstop",
		NULL,
	};
	const char *bad = NULL;
	int r;

	r = vmaccel_sysfs_numbers(VIC_SYSFS, knobs, counters, NULL, &bad);
	ASSERT_EQ(0, r) TH_LOG("%s%s: %s", VIC_SYSFS, bad, strerror(-r));
}

/* CREATE without parameters takes the defaults of the moment. */
TEST_F(sysfs, create_uses_defaults)
{
	struct vmaccel_vic_params want = vic_params(VMACCEL_VIC_MODE_FIXED,
						    9, 17, 1234, 4321, 77);
	struct vmaccel_vic_params got;
	int fd2;

	ASSERT_EQ(0, vic_sysfs_write("default_mode", "fixed\n"));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_fixed_ratio", 9));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_cif_threshold", 17));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_iops_threshold", 1234));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_max_delay_us", 4321));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_max_ratio", 77));
	vic_env_create(_metadata, &self->e, NULL);
	ASSERT_EQ(0, vic_get_params(self->e.fd, &got));
	ASSERT_EQ(want.mode, got.mode);
	ASSERT_EQ(want.fixed_ratio, got.fixed_ratio);
	ASSERT_EQ(want.cif_threshold, got.cif_threshold);
	ASSERT_EQ(want.iops_threshold, got.iops_threshold);
	ASSERT_EQ(want.max_delay_us, got.max_delay_us);
	ASSERT_EQ(want.max_ratio, got.max_ratio);

	/* Later changes apply to new coalescers only. */
	ASSERT_EQ(0, vic_sysfs_write("default_mode", "off"));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_max_ratio", 3));
	ASSERT_EQ(0, vic_get_params(self->e.fd, &got));
	ASSERT_TRUE(vic_params_equal(&want, &got));
	/* Same direction as the first: a reverse edge would be a cycle. */
	fd2 = vic_create(self->e.dev, self->e.src, self->e.dst, NULL);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vic_get_params(fd2, &got));
	ASSERT_EQ((__u32)VMACCEL_VIC_MODE_OFF, got.mode);
	ASSERT_EQ(3U, got.max_ratio);
	ASSERT_EQ(9U, got.fixed_ratio);
	close(fd2);
}

/* A coalescer created from the defaults behaves as they say. */
TEST_F(sysfs, defaults_drive_behaviour)
{
	struct vmaccel_vic_stats st;

	ASSERT_EQ(0, vic_sysfs_write("default_mode", "fixed"));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_fixed_ratio", 3));
	ASSERT_EQ(0, vic_sysfs_set_u64("default_max_delay_us",
				       VIC_LONG_DELAY_US));
	vic_env_create(_metadata, &self->e, NULL);
	ASSERT_EQ(0, vic_complete(self->e.src, 10));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(VIC_U64(3), st.interrupts);
	ASSERT_EQ(1U, st.pending);
	ASSERT_EQ(3U, st.cur_ratio);
	vic_env_expect(_metadata, &self->e, 3);
}

/*
 * The module-wide counters: coalescers follows creation and release;
 * the totals grow by at least what a coalescer counts and never shrink.
 */
TEST_F(sysfs, counters_follow_coalescers)
{
	struct vmaccel_vic_params p = vic_params_off();
	struct vic_totals t0, t1, t2;
	struct vmaccel_vic_stats st;

	ASSERT_EQ(0, vic_totals_read(&t0));
	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_totals_read(&t1));
	ASSERT_EQ(t0.coalescers + 1, t1.coalescers);

	ASSERT_EQ(0, vic_complete(self->e.src, 50));
	p = vic_params_fixed(4, 2000);
	ASSERT_EQ(0, vic_set_params(self->e.fd, &p));
	ASSERT_EQ(0, vic_complete(self->e.src, 10));	/* 2 interrupts, 2 left */
	ASSERT_EQ(0, vic_flush(self->e.fd));
	/* One more, for the backstop. */
	ASSERT_EQ(0, vic_complete(self->e.src, 1));
	st = vic_env_settle(_metadata, &self->e, 1000);
	ASSERT_EQ(VIC_U64(61), st.completions);
	ASSERT_LE(VIC_U64(1), st.backstop);

	ASSERT_EQ(0, vic_totals_read(&t1));
	ASSERT_LE(st.completions, t1.completions - t0.completions);
	ASSERT_LE(st.interrupts, t1.interrupts - t0.interrupts);
	ASSERT_LE(st.deferred, t1.deferred - t0.deferred);
	ASSERT_LE(st.backstop, t1.backstop - t0.backstop);

	close(self->e.fd);
	self->e.fd = -1;
	ASSERT_EQ(0, vic_totals_read(&t2));
	ASSERT_EQ(t0.coalescers, t2.coalescers);
	ASSERT_LE(t1.completions, t2.completions);
	ASSERT_LE(t1.interrupts, t2.interrupts);
	ASSERT_LE(t1.deferred, t2.deferred);
	ASSERT_LE(t1.backstop, t2.backstop);
}

TEST_HARNESS_MAIN
