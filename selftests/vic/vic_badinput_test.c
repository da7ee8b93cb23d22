// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic selftest: every invalid input of the ioctl ABI is rejected
 * with the documented error (ENOTTY unknown command, EINVAL unknown flags,
 * non-zero reserved fields, out-of-range parameters, non-eventfds or the
 * same eventfd twice, EBADF a closed fd, EFAULT a bad pointer), leaves no fd
 * or coalescer behind, and changes nothing.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <termios.h>

#include "vic_util.h"

FIXTURE(vic) {
	struct vic_env e;
	__u64 coalescers;
	int nfds;
};

FIXTURE_SETUP(vic)
{
	vic_env_open(_metadata, &self->e);
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &self->coalescers));
	self->nfds = vic_count_fds();
}

FIXTURE_TEARDOWN(vic)
{
	vic_env_close(&self->e);
}

/* No failed call left an fd or a coalescer behind. */
static void vic_check_no_leaks(struct __test_metadata *_metadata, int nfds,
			       __u64 coalescers)
{
	__u64 now;

	ASSERT_EQ(nfds, vic_count_fds());
	ASSERT_EQ(0, vic_sysfs_u64("coalescers", &now));
	ASSERT_EQ(coalescers, now);
}

/* ioctl() expecting failure with @err. */
#define ASSERT_IOCTL_ERR(err, fd, cmd, arg) do {				\
	errno = 0;							\
	ASSERT_EQ(-1, ioctl(fd, cmd, arg))				\
		TH_LOG("%s succeeded", #cmd);				\
	ASSERT_EQ(err, errno)						\
		TH_LOG("%s: %s", #cmd, strerror(errno));		\
} while (0)

static struct vmaccel_vic_create vic_create_arg(int src, int dst)
{
	struct vmaccel_vic_create c;

	memset(&c, 0, sizeof(c));
	c.flags = VMACCEL_VIC_CREATE_PARAMS;
	c.src_fd = src;
	c.dst_fd = dst;
	c.params = vic_params_fixed(4, 200);
	return c;
}

TEST_F(vic, unknown_ioctl_on_device)
{
	struct vmaccel_vic_create c = vic_create_arg(self->e.src, self->e.dst);
	char buf[256] = { 0 };
	const unsigned long cmds[] = {
		_IO(VMACCEL_IOCTL_TYPE, 0x0f),
		_IO(VMACCEL_IOCTL_TYPE, 0x06),
		_IO(VMACCEL_IOCTL_TYPE, 0x00),
		_IOW(VMACCEL_IOCTL_TYPE, 0x00, __u64),
		_IOR(VMACCEL_IOCTL_TYPE, 0x00, struct vmaccel_vic_create),
		_IOWR(VMACCEL_IOCTL_TYPE, 0x00, struct vmaccel_vic_create),
		_IOW(VMACCEL_IOCTL_TYPE + 1, 0x00, struct vmaccel_vic_create),
		_IOW('x', 0x00, struct vmaccel_vic_create),
		VMACCEL_VIC_SET_PARAMS,
		VMACCEL_VIC_GET_PARAMS,
		VMACCEL_VIC_GET_STATS,
		VMACCEL_VIC_SET_CIF,
		VMACCEL_VIC_FLUSH,
		TCGETS,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memcpy(buf, &c, sizeof(c));
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->e.dev, cmds[i], buf))
			TH_LOG("cmd %#lx succeeded", cmds[i]);
		ASSERT_EQ(ENOTTY, errno)
			TH_LOG("cmd %#lx: %s", cmds[i], strerror(errno));
	}
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

TEST_F(vic, unknown_ioctl_on_coalescer)
{
	struct vmaccel_vic_params p = vic_params_fixed(4, 200);
	struct vmaccel_vic_create c = vic_create_arg(self->e.src, self->e.dst);
	struct vmaccel_vic_params got;
	char buf[256];
	const unsigned long cmds[] = {
		VMACCEL_VIC_CREATE,
		_IO(VMACCEL_IOCTL_TYPE, 0x06),
		_IO(VMACCEL_IOCTL_TYPE, 0x0f),
		_IO(VMACCEL_IOCTL_TYPE, 0x01),
		_IOW(VMACCEL_IOCTL_TYPE, 0x01, __u32),
		_IOR(VMACCEL_IOCTL_TYPE, 0x01, struct vmaccel_vic_params),
		_IOW(VMACCEL_IOCTL_TYPE, 0x02, struct vmaccel_vic_params),
		_IOR(VMACCEL_IOCTL_TYPE, 0x03, struct vmaccel_vic_stats),
		_IOW(VMACCEL_IOCTL_TYPE, 0x04, __u32),
		_IOW(VMACCEL_IOCTL_TYPE, 0x05, __u32),
		_IOW(VMACCEL_IOCTL_TYPE + 1, 0x01, struct vmaccel_vic_params),
		TCGETS,
	};
	unsigned int i;

	vic_env_create(_metadata, &self->e, &p);
	self->nfds++;
	self->coalescers++;
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &c, sizeof(c));
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->e.fd, cmds[i], buf))
			TH_LOG("cmd %#lx succeeded", cmds[i]);
		ASSERT_EQ(ENOTTY, errno)
			TH_LOG("cmd %#lx: %s", cmds[i], strerror(errno));
	}
	ASSERT_EQ(0, vic_get_params(self->e.fd, &got));
	ASSERT_TRUE(vic_params_equal(&p, &got));
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

TEST_F(vic, create_unknown_flags)
{
	const __u32 bad[] = { 1U << 1, 1U << 31, ~0U,
			      ~VMACCEL_VIC_CREATE_FLAGS };
	struct vmaccel_vic_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		c = vic_create_arg(self->e.src, self->e.dst);
		c.flags = bad[i];
		ASSERT_IOCTL_ERR(EINVAL, self->e.dev, VMACCEL_VIC_CREATE, &c);
		/* Without PARAMS among them, too. */
		c.flags = bad[i] & ~VMACCEL_VIC_CREATE_PARAMS;
		memset(&c.params, 0, sizeof(c.params));
		ASSERT_IOCTL_ERR(EINVAL, self->e.dev, VMACCEL_VIC_CREATE, &c);
	}
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

TEST_F(vic, create_reserved_nonzero)
{
	const __u32 bad[] = { 1, 1U << 31, ~0U };
	struct vmaccel_vic_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		c = vic_create_arg(self->e.src, self->e.dst);
		c.reserved = bad[i];
		ASSERT_IOCTL_ERR(EINVAL, self->e.dev, VMACCEL_VIC_CREATE, &c);
		c.flags = 0;
		memset(&c.params, 0, sizeof(c.params));
		ASSERT_IOCTL_ERR(EINVAL, self->e.dev, VMACCEL_VIC_CREATE, &c);
	}
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

/* Without VMACCEL_VIC_CREATE_PARAMS every params field must be 0. */
TEST_F(vic, create_params_without_flag)
{
	struct vmaccel_vic_create c;
	__u32 *field;
	unsigned int i;

	for (i = 0; i < sizeof(c.params) / sizeof(__u32); i++) {
		memset(&c, 0, sizeof(c));
		c.src_fd = self->e.src;
		c.dst_fd = self->e.dst;
		field = (__u32 *)&c.params + i;
		*field = 1;
		ASSERT_IOCTL_ERR(EINVAL, self->e.dev, VMACCEL_VIC_CREATE, &c);
	}
	/* The same with valid parameters: the flag is what is missing. */
	c = vic_create_arg(self->e.src, self->e.dst);
	c.flags = 0;
	ASSERT_IOCTL_ERR(EINVAL, self->e.dev, VMACCEL_VIC_CREATE, &c);
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

struct vic_bad_param {
	const char *name;
	size_t offset;
	__u32 value;
};

#define VIC_BAD(field, val) \
	{ #field "=" #val, offsetof(struct vmaccel_vic_params, field), val }

static const struct vic_bad_param vic_bad_params[] = {
	VIC_BAD(mode, 3),
	VIC_BAD(mode, 0xffffffff),
	VIC_BAD(fixed_ratio, 0),
	VIC_BAD(fixed_ratio, 257),
	VIC_BAD(fixed_ratio, 0xffffffff),
	VIC_BAD(cif_threshold, 65537),
	VIC_BAD(cif_threshold, 0xffffffff),
	VIC_BAD(iops_threshold, 100000001),
	VIC_BAD(iops_threshold, 0xffffffff),
	VIC_BAD(max_delay_us, 0),
	VIC_BAD(max_delay_us, 1000001),
	VIC_BAD(max_delay_us, 0xffffffff),
	VIC_BAD(max_ratio, 0),
	VIC_BAD(max_ratio, 257),
	VIC_BAD(max_ratio, 0xffffffff),
};

static void vic_set_field(struct vmaccel_vic_params *p, size_t offset,
			  __u32 value)
{
	memcpy((char *)p + offset, &value, sizeof(value));
}

/* Each field out of range, in every mode: EINVAL from CREATE. */
TEST_F(vic, create_params_out_of_range)
{
	struct vmaccel_vic_create c;
	unsigned int i;
	__u32 mode;

	for (mode = 0; mode <= VMACCEL_VIC_MODE_ADAPTIVE; mode++) {
		for (i = 0; i < ARRAY_SIZE(vic_bad_params); i++) {
			c = vic_create_arg(self->e.src, self->e.dst);
			c.params.mode = mode;
			vic_set_field(&c.params, vic_bad_params[i].offset,
				      vic_bad_params[i].value);
			errno = 0;
			ASSERT_EQ(-1, ioctl(self->e.dev, VMACCEL_VIC_CREATE, &c))
				TH_LOG("mode %u %s accepted", mode,
				       vic_bad_params[i].name);
			ASSERT_EQ(EINVAL, errno)
				TH_LOG("mode %u %s: %s", mode,
				       vic_bad_params[i].name, strerror(errno));
		}
	}
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

/* Each field out of range: EINVAL from SET_PARAMS, and nothing changes. */
TEST_F(vic, set_params_out_of_range)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, VIC_LONG_DELAY_US);
	struct vmaccel_vic_params bad, got;
	struct vmaccel_vic_stats st;
	unsigned int i;
	__u32 mode;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_complete(self->e.src, 5));
	for (mode = 0; mode <= VMACCEL_VIC_MODE_ADAPTIVE; mode++) {
		for (i = 0; i < ARRAY_SIZE(vic_bad_params); i++) {
			bad = p;
			bad.mode = mode;
			vic_set_field(&bad, vic_bad_params[i].offset,
				      vic_bad_params[i].value);
			errno = 0;
			ASSERT_EQ(-1, vic_set_params(self->e.fd, &bad))
				TH_LOG("mode %u %s accepted", mode,
				       vic_bad_params[i].name);
			ASSERT_EQ(EINVAL, errno)
				TH_LOG("mode %u %s: %s", mode,
				       vic_bad_params[i].name, strerror(errno));
			ASSERT_EQ(0, vic_get_params(self->e.fd, &got));
			ASSERT_TRUE(vic_params_equal(&p, &got))
				TH_LOG("%s changed the parameters",
				       vic_bad_params[i].name);
		}
	}
	/* A rejected change (e.g. to off mode) delivered nothing. */
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(5U, st.pending);
	ASSERT_EQ(VIC_U64(0), st.interrupts);
	ASSERT_EQ(8U, st.cur_ratio);
	vic_env_expect(_metadata, &self->e, 0);
}

/* The limits themselves are accepted by CREATE and SET_PARAMS. */
TEST_F(vic, params_limits_accepted)
{
	const struct vmaccel_vic_params ok[] = {
		vic_params(VMACCEL_VIC_MODE_OFF, 1, 0, 0,
			   VMACCEL_VIC_DELAY_US_MIN, 1),
		vic_params(VMACCEL_VIC_MODE_ADAPTIVE, VMACCEL_VIC_RATIO_MAX,
			   VMACCEL_VIC_CIF_THRESHOLD_MAX,
			   VMACCEL_VIC_IOPS_THRESHOLD_MAX,
			   VMACCEL_VIC_DELAY_US_MAX, VMACCEL_VIC_RATIO_MAX),
		vic_params(VMACCEL_VIC_MODE_FIXED, 1, 65536, 100000000,
			   1, 256),
	};
	struct vmaccel_vic_params got;
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		fd = vic_create(self->e.dev, self->e.src, self->e.dst, &ok[i]);
		ASSERT_LE(0, fd) TH_LOG("set %u: %s", i, strerror(errno));
		ASSERT_EQ(0, vic_get_params(fd, &got));
		ASSERT_TRUE(vic_params_equal(&ok[i], &got));
		ASSERT_EQ(0, vic_set_params(fd, &ok[(i + 1) % ARRAY_SIZE(ok)]));
		ASSERT_EQ(0, vic_get_params(fd, &got));
		ASSERT_TRUE(vic_params_equal(&ok[(i + 1) % ARRAY_SIZE(ok)],
					     &got));
		close(fd);
	}
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
}

/* Source and target must be open eventfds, and different ones. */
TEST_F(vic, create_bad_fds)
{
	int pipefd[2], file, closed, dup_src, coal;
	struct vmaccel_vic_create c;
	unsigned int defaults;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, file);
	/* A number no other fd of this test will take. */
	closed = fcntl(self->e.src, F_DUPFD_CLOEXEC, 900);
	ASSERT_LE(900, closed);
	close(closed);
	dup_src = dup(self->e.src);
	ASSERT_LE(0, dup_src);
	coal = vic_create(self->e.dev, self->e.src, self->e.dst, NULL);
	ASSERT_LE(0, coal);
	self->nfds += 5;
	self->coalescers++;

	/* With explicit parameters, then with the defaults. */
	for (defaults = 0; defaults < 2; defaults++) {
		const struct { int src, dst, err; } cases[] = {
			{ -1, self->e.dst, EBADF },
			{ self->e.src, -1, EBADF },
			{ -1, -1, EBADF },
			{ closed, self->e.dst, EBADF },
			{ self->e.src, closed, EBADF },
			{ 100000, self->e.dst, EBADF },
			{ self->e.src, 100000, EBADF },
			{ pipefd[0], self->e.dst, EINVAL },
			{ pipefd[1], self->e.dst, EINVAL },
			{ self->e.src, pipefd[1], EINVAL },
			{ file, self->e.dst, EINVAL },
			{ self->e.src, file, EINVAL },
			{ self->e.dev, self->e.dst, EINVAL },
			{ self->e.src, self->e.dev, EINVAL },
			{ coal, self->e.dst, EINVAL },
			{ self->e.src, coal, EINVAL },
			{ self->e.src, self->e.src, EINVAL },
			{ self->e.dst, self->e.dst, EINVAL },
			{ self->e.src, dup_src, EINVAL },
			{ dup_src, self->e.src, EINVAL },
		};
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			c = vic_create_arg(cases[i].src, cases[i].dst);
			if (defaults) {
				c.flags = 0;
				memset(&c.params, 0, sizeof(c.params));
			}
			errno = 0;
			ASSERT_EQ(-1, ioctl(self->e.dev, VMACCEL_VIC_CREATE, &c))
				TH_LOG("case %u (src %d dst %d) accepted", i,
				       cases[i].src, cases[i].dst);
			ASSERT_EQ(cases[i].err, errno)
				TH_LOG("case %u (src %d dst %d): %s", i,
				       cases[i].src, cases[i].dst,
				       strerror(errno));
		}
	}
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
	/* The eventfds used in failed attempts still work normally. */
	ASSERT_EQ(0, vic_signal(self->e.src, 1));
	close(coal);
	close(dup_src);
	close(file);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(vic, get_stats_flags)
{
	struct vmaccel_vic_params p = vic_params_off();
	const __u32 bad[] = { 1, 1U << 31, ~0U };
	struct vmaccel_vic_stats st;
	unsigned int i;

	vic_env_create(_metadata, &self->e, &p);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&st, 0, sizeof(st));
		st.flags = bad[i];
		ASSERT_IOCTL_ERR(EINVAL, self->e.fd, VMACCEL_VIC_GET_STATS,
				 &st);
	}
	/* Output reserved fields are zero whatever the input held. */
	memset(&st, 0xa5, sizeof(st));
	st.flags = 0;
	ASSERT_EQ(0, ioctl(self->e.fd, VMACCEL_VIC_GET_STATS, &st));
	ASSERT_EQ(VIC_U64(0), st.reserved[0]);
	ASSERT_EQ(VIC_U64(0), st.reserved[1]);
	ASSERT_EQ(VIC_U64(0), st.completions);
	ASSERT_EQ(0U, st.flags);
}

TEST_F(vic, set_cif_flags)
{
	struct vmaccel_vic_params p = vic_params(VMACCEL_VIC_MODE_ADAPTIVE, 4,
						 4, 0, VIC_LONG_DELAY_US, 32);
	const __u32 bad[] = { 1, 1U << 31, ~0U };
	struct vmaccel_vic_stats st;
	struct vmaccel_vic_cif c;
	unsigned int i;

	vic_env_create(_metadata, &self->e, &p);
	ASSERT_EQ(0, vic_set_cif(self->e.fd, 64));
	ASSERT_EQ(0, vic_complete(self->e.src, 10));	/* ratio 16 */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		c.flags = bad[i];
		c.cif = 1;	/* would deliver the 10 pending */
		ASSERT_IOCTL_ERR(EINVAL, self->e.fd, VMACCEL_VIC_SET_CIF, &c);
	}
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(64U, st.cif);
	ASSERT_EQ(10U, st.pending);
	ASSERT_EQ(VIC_U64(0), st.interrupts);
}

/* Bad pointers: EFAULT, and nothing created or changed. */
TEST_F(vic, bad_pointers)
{
	struct vmaccel_vic_params p = vic_params_fixed(8, VIC_LONG_DELAY_US);
	struct vmaccel_vic_params got;
	struct vmaccel_vic_stats st;
	long page = sysconf(_SC_PAGESIZE);
	char *none, *ro, *edge;
	void *bad[4];
	unsigned int i;

	none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	ro = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	/* ro: first page read-only (zeroes), second page inaccessible. */
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	ASSERT_EQ(0, mprotect(ro + page, page, PROT_NONE));
	/* A structure straddling into the inaccessible page. */
	edge = ro + page - 4;

	vic_env_create(_metadata, &self->e, &p);
	self->nfds++;
	self->coalescers++;
	ASSERT_EQ(0, vic_complete(self->e.src, 3));

	bad[0] = NULL;
	bad[1] = (void *)1;
	bad[2] = none;
	bad[3] = edge;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_IOCTL_ERR(EFAULT, self->e.dev, VMACCEL_VIC_CREATE,
				 bad[i]);
		ASSERT_IOCTL_ERR(EFAULT, self->e.fd, VMACCEL_VIC_SET_PARAMS,
				 bad[i]);
		ASSERT_IOCTL_ERR(EFAULT, self->e.fd, VMACCEL_VIC_GET_PARAMS,
				 bad[i]);
		ASSERT_IOCTL_ERR(EFAULT, self->e.fd, VMACCEL_VIC_GET_STATS,
				 bad[i]);
		ASSERT_IOCTL_ERR(EFAULT, self->e.fd, VMACCEL_VIC_SET_CIF,
				 bad[i]);
	}
	/* Readable but not writable: the output cannot be stored. */
	ASSERT_IOCTL_ERR(EFAULT, self->e.fd, VMACCEL_VIC_GET_PARAMS, ro);
	ASSERT_IOCTL_ERR(EFAULT, self->e.fd, VMACCEL_VIC_GET_STATS, ro);

	ASSERT_EQ(0, vic_get_params(self->e.fd, &got));
	ASSERT_TRUE(vic_params_equal(&p, &got));
	st = vic_env_stats(_metadata, &self->e);
	ASSERT_EQ(3U, st.pending);
	ASSERT_EQ(0U, st.cif);
	vic_check_no_leaks(_metadata, self->nfds, self->coalescers);
	munmap(none, page);
	munmap(ro, 2 * page);
}

TEST_HARNESS_MAIN
