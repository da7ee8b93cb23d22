// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon: VMs whose RAM is anonymous memory of their VMM process
 * (VMACCEL_BALLOON_REGISTER_PROCESS, libvirt's default memory backing).
 * A child process stands in for QEMU: it maps and touches its "guest RAM"
 * and gives pages back with MADV_DONTNEED, as QEMU's virtio-balloon does.
 */
#include "balloon_util.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

#define RAM		(64 * MiB)
#define PAGE		4096ULL
/*
 * 6.1 adds each thread's faults to the process's counters in batches of up
 * to 64 pages; 6.12's counters are summed exactly.
 */
#define SLACK		(64 * PAGE)

/* Commands to the child, one byte each on its pipe. */
#define CMD_GIVE_HALF	'g'
#define CMD_EXIT	'x'

FIXTURE(proc) {
	int dev;
	int efd;
	pid_t child;
	int cmd;	/* write end: commands to the child */
	int done;	/* read end: the child's answers */
};

static void child_main(int cmd, int done)
{
	char *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u64 i;
	char c;

	if (ram == MAP_FAILED)
		_exit(1);
	for (i = 0; i < RAM; i += PAGE)
		ram[i] = 1;
	if (write(done, "r", 1) != 1)
		_exit(1);
	while (read(cmd, &c, 1) == 1) {
		if (c == CMD_EXIT)
			_exit(0);
		if (c == CMD_GIVE_HALF &&
		    madvise(ram, RAM / 2, MADV_DONTNEED))
			_exit(1);
		if (write(done, "d", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/* Send @c to the child and wait for its answer; 0 when it answered. */
static int child_do(int cmd, int done, char c)
{
	char a;

	if (write(cmd, &c, 1) != 1)
		return -1;
	return read(done, &a, 1) == 1 ? 0 : -1;
}

FIXTURE_SETUP(proc)
{
	int to[2], from[2];
	char c;

	self->child = -1;
	self->dev = balloon_open();
	if (self->dev < 0)
		SKIP(return, "%s: %s (module not loaded?)", BALLOON_DEV,
		     strerror(errno));
	balloon_defaults();
	ASSERT_EQ(0, balloon_set("interval_ms", "60000"));
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, pipe2(to, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from, O_CLOEXEC));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		close(to[1]);
		close(from[0]);
		child_main(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	self->cmd = to[1];
	self->done = from[0];
	ASSERT_EQ(1, read(self->done, &c, 1));	/* its RAM is touched */
}

FIXTURE_TEARDOWN(proc)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
		close(self->cmd);
		close(self->done);
	}
	if (self->dev < 0)
		return;
	balloon_defaults();
	close(self->efd);
	close(self->dev);
}

/* The child's "guest": its RAM, within its address space (VmSize). */
static struct vmaccel_balloon_register proc_req(int efd, pid_t pid)
{
	struct vmaccel_balloon_register r =
		balloon_req(-1, efd, RAM, 16 * MiB, RAM);

	r.flags = VMACCEL_BALLOON_REGISTER_PROCESS;
	r.pid = pid;
	return r;
}

static __u64 total_ram(void)
{
	struct sysinfo si;

	if (sysinfo(&si))
		return 0;
	return (__u64)si.totalram * si.mem_unit;
}

TEST_F(proc, account_follows_the_process)
{
	struct vmaccel_balloon_register r = proc_req(self->efd, self->child);
	struct vmaccel_balloon_account a;
	__u64 before;
	int vm;

	vm = ioctl(self->dev, VMACCEL_BALLOON_REGISTER, &r);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(0U, a.flags);
	/*
	 * Its 64 MiB plus what fork left it of ours; 6.1 counts each
	 * thread's faults in batches of up to 64 pages.
	 */
	EXPECT_LE(RAM - SLACK, a.resident_bytes);
	EXPECT_GT(RAM + 32 * MiB, a.resident_bytes);
	EXPECT_EQ(0ULL, a.released_bytes);
	before = a.resident_bytes;

	/* What the balloon gives back (MADV_DONTNEED) is released memory. */
	ASSERT_EQ(0, child_do(self->cmd, self->done, CMD_GIVE_HALF));
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(0U, a.flags);
	/* Half of it, within 6.1's batch of up to 64 uncounted faults. */
	EXPECT_LE(RAM / 2 - SLACK, a.released_bytes);
	EXPECT_GE(RAM / 2 + SLACK, a.released_bytes);
	/* Measured: the process holds half of its RAM less. */
	EXPECT_GE(before - RAM / 2 + SLACK, a.resident_bytes);
	EXPECT_LE(before - RAM / 2 - SLACK, a.resident_bytes);
	EXPECT_EQ(before, a.peak_resident_bytes);
	TH_LOG("resident %llu KiB, %llu KiB released",
	       a.resident_bytes >> 10, a.released_bytes >> 10);
	close(vm);
}

TEST_F(proc, exited_process_holds_nothing_and_is_not_asked)
{
	struct vmaccel_balloon_register r = proc_req(self->efd, self->child);
	struct vmaccel_balloon_account a;
	int vm, status;

	vm = ioctl(self->dev, VMACCEL_BALLOON_REGISTER, &r);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, balloon_account(vm, &a));
	ASSERT_LT(RAM / 2, a.resident_bytes);

	ASSERT_EQ(1, write(self->cmd, (char []){ CMD_EXIT }, 1));
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	close(self->cmd);
	close(self->done);
	ASSERT_EQ(0, balloon_account(vm, &a));
	EXPECT_EQ(VMACCEL_BALLOON_ACCT_GONE, a.flags);
	EXPECT_EQ(0ULL, a.resident_bytes);
	/* Its exit is not memory the balloon got back. */
	EXPECT_EQ(0ULL, a.released_bytes);

	/* Pressure that asks every VM above its floor skips it. */
	ASSERT_EQ(0, balloon_set("high_pct", "40"));
	ASSERT_EQ(0, balloon_set("low_pct", "30"));
	ASSERT_EQ(0, balloon_set("test_available_pct", "29"));
	EXPECT_EQ(0ULL, balloon_wait_event(self->efd, 300));
	EXPECT_EQ(RAM, balloon_target_bytes(vm));
	close(vm);
}

TEST_F(proc, live_process_pays_a_fair_share)
{
	struct vmaccel_balloon_register r = proc_req(self->efd, self->child);
	__u64 target;
	int vm;

	if (total_ram() / 100 < 4 * PAGE)
		SKIP(return, "too little RAM for a 1 %% share");
	vm = ioctl(self->dev, VMACCEL_BALLOON_REGISTER, &r);
	ASSERT_LE(0, vm);
	/* It reports no statistics: the host's need is asked of it. */
	ASSERT_EQ(0, balloon_set("high_pct", "40"));
	ASSERT_EQ(0, balloon_set("low_pct", "30"));
	ASSERT_EQ(0, balloon_set("test_available_pct", "29"));
	EXPECT_LT(0ULL, balloon_wait_event(self->efd, 2000));
	target = balloon_target_bytes(vm);
	EXPECT_GT(RAM, target);
	EXPECT_LE(16 * MiB, target);
	close(vm);
}

/* Is pid @pid kthreadd (pid 2 outside a PID namespace)? */
static bool is_kthreadd(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strcmp(comm, "kthreadd\n");
}

/*
 * A process without privileges (uid nobody, no capabilities) that holds a
 * device descriptor: it may register itself, not another process.
 */
TEST_F(proc, only_the_process_itself_without_cap_sys_ptrace)
{
	int status, pipefd[2];
	pid_t p;

	ASSERT_EQ(0, pipe(pipefd));
	p = fork();
	ASSERT_LE(0, p);
	if (!p) {
		struct vmaccel_balloon_register r;
		int err[3], fd;
		/* Its address space must hold the guest it names. */
		void *space = mmap(NULL, RAM, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		/* Leaving uid 0 drops every capability. */
		if (space == MAP_FAILED || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		r = proc_req(self->efd, self->child);
		err[0] = balloon_reg_errno(self->dev, &r);
		r = proc_req(self->efd, 1);
		err[1] = balloon_reg_errno(self->dev, &r);
		r = proc_req(self->efd, getpid());
		fd = ioctl(self->dev, VMACCEL_BALLOON_REGISTER, &r);
		err[2] = fd < 0 ? errno : 0;
		if (write(pipefd[1], err, sizeof(err)) != sizeof(err))
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	{
		int err[3];

		ASSERT_EQ((ssize_t)sizeof(err), read(pipefd[0], err, sizeof(err)));
		EXPECT_EQ(EPERM, err[0]);	/* another user's process */
		EXPECT_EQ(EPERM, err[1]);	/* init */
		EXPECT_EQ(0, err[2]);		/* itself */
	}
	close(pipefd[0]);
	ASSERT_EQ(p, waitpid(p, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static void *park(void *arg)
{
	pid_t *tid = arg;

	__atomic_store_n(tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	pause();
	return NULL;
}

TEST_F(proc, bad_process_registrations)
{
	struct vmaccel_balloon_register r;
	pthread_t th;
	pid_t tid = 0, gone;
	int memfd = balloon_memfd(128 * MiB);

	ASSERT_LE(0, memfd);
	r = proc_req(self->efd, self->child);
	EXPECT_EQ(0, balloon_reg_errno(self->dev, &r));
	r.mem_fd = memfd;			/* a file and a process */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = proc_req(self->efd, 0);
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = proc_req(self->efd, -1);
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = proc_req(self->efd, self->child);
	r.guest_bytes = 1ULL << 63;		/* no file size bounds it */
	r.ceiling_bytes = r.guest_bytes;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	/* More than the process's address space holds. */
	r = proc_req(self->efd, self->child);
	r.guest_bytes = 64ULL << 30;
	r.ceiling_bytes = r.guest_bytes;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	r = proc_req(self->efd, self->child);
	r.flags |= 1U << 1;			/* unknown flag */
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));
	/* A pid without the flag: the field is reserved then. */
	r = balloon_req(memfd, self->efd, 128 * MiB, 32 * MiB, 128 * MiB);
	r.pid = self->child;
	EXPECT_EQ(EINVAL, balloon_reg_errno(self->dev, &r));

	/* Not a process: a kernel thread (kthreadd), a thread. */
	if (is_kthreadd(2)) {
		r = proc_req(self->efd, 2);
		EXPECT_EQ(ESRCH, balloon_reg_errno(self->dev, &r));
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, park, &tid));
	while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	r = proc_req(self->efd, tid);
	EXPECT_EQ(ESRCH, balloon_reg_errno(self->dev, &r));
	pthread_cancel(th);
	pthread_join(th, NULL);

	/* A process that is gone. */
	gone = fork();
	ASSERT_LE(0, gone);
	if (!gone)
		_exit(0);
	ASSERT_EQ(gone, waitpid(gone, NULL, 0));
	r = proc_req(self->efd, gone);
	EXPECT_EQ(ESRCH, balloon_reg_errno(self->dev, &r));
	close(memfd);
}

TEST_HARNESS_MAIN
