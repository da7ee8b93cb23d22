// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon - registered VMs: registration, the VM file descriptor
 * and its ioctls, target changes and the accounting of what each VM's
 * guest-RAM file really gave back.
 *
 * The resident size of a guest-RAM file is its allocated size
 * (inode->i_blocks): what shmem (memfd, tmpfs) and vmaccelfs account for
 * the pages they hold, and what a punched hole gives back.  A VM whose RAM
 * is anonymous memory (%VMACCEL_BALLOON_REGISTER_PROCESS) is measured by
 * its VMM process's anonymous pages, resident or swapped (MM_ANONPAGES +
 * MM_SWAPENTS, RssAnon + VmSwap of /proc/<pid>/status): what the
 * balloon's MADV_DONTNEED gives back, and not what swap-out moves (shmem's
 * i_blocks counts swapped pages too).  The VMM's own heap is in it, and
 * its churn shows as released or refaulted memory; on 6.1 each thread's
 * faults are counted in batches of up to 64 pages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/err.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "balloon.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Resident bytes of a guest-RAM file. */
static u64 balloon_file_resident(struct file *mem)
{
	struct inode *inode = file_inode(mem);
	u64 blocks;

	spin_lock(&inode->i_lock);
	blocks = inode->i_blocks;
	spin_unlock(&inode->i_lock);
	return blocks << 9;
}

/*
 * Anonymous bytes (resident or swapped) of a VM's process, and optionally
 * its address-space size; false once it has exited (no task, or a task
 * that no longer has an mm) and for a kernel thread (whose mm is
 * borrowed).  task_lock keeps the mm from being detached and freed while
 * its counters are read; nothing here sleeps.
 */
static bool balloon_proc_resident(struct pid *proc, u64 *res, u64 *vm_bytes)
{
	struct task_struct *task;
	struct mm_struct *mm;
	bool alive = false;

	rcu_read_lock();
	task = pid_task(proc, PIDTYPE_TGID);
	if (task && !(task->flags & PF_KTHREAD)) {
		task_lock(task);
		mm = task->mm;
		if (mm) {
			*res = ((u64)vmaccel_mm_counter_sum(mm, MM_ANONPAGES) +
				vmaccel_mm_counter_sum(mm, MM_SWAPENTS)) <<
			       PAGE_SHIFT;
			if (vm_bytes)
				*vm_bytes = (u64)READ_ONCE(mm->total_vm) <<
					    PAGE_SHIFT;
			alive = true;
		}
		task_unlock(task);
	}
	rcu_read_unlock();
	return alive;
}

/**
 * balloon_vm_sample() - measure a VM's guest-RAM file and account it
 * @vm: the VM.
 * @now: CLOCK_MONOTONIC nanoseconds.
 *
 * Adds every decrease of the resident size to what the VM released,
 * completes a pending release once the file gave back what the target
 * decreases asked for (or shrank to the target), and marks the VM stalled
 * when that takes longer than stall_ms.
 */
void balloon_vm_sample(struct balloon_vm *vm, u64 now)
{
	u64 res = 0;
	u64 stall_ns;

	lockdep_assert_held(&balloon_lock);
	if (vm->gone)
		return;
	if (vm->mem) {
		res = balloon_file_resident(vm->mem);
	} else if (!balloon_proc_resident(vm->proc, &res, NULL)) {
		/* Its memory went with the process: nothing was given back. */
		vm->gone = true;
		vm->resident = 0;
		vm->release_pending = false;
		vm->stalled = false;
		return;
	}
	if (res < vm->resident) {
		vm->released += vm->resident - res;
		atomic64_add(vm->resident - res, &balloon_totals.released_bytes);
	}
	vm->resident = res;
	vm->peak = max(vm->peak, res);
	if (!vm->release_pending)
		return;
	if (res <= vm->target ||
	    (vm->resident_at_ask > res && vm->resident_at_ask - res >= vm->asked)) {
		vm->release_pending = false;
		vm->stalled = false;
		vm->last_release_ns = now - vm->changed_ns;
		trace_balloon_release(vm->name, vm->resident_at_ask > res ?
				      vm->resident_at_ask - res : 0,
				      vm->last_release_ns);
		return;
	}
	stall_ns = (u64)READ_ONCE(balloon_params.stall_ms) * NSEC_PER_MSEC;
	if (!vm->stalled && now - vm->changed_ns > stall_ns) {
		vm->stalled = true;
		atomic64_inc(&balloon_totals.stalls);
	}
}

/**
 * balloon_vm_set_target() - change a VM's target and tell its VMM
 * @vm: the VM.
 * @target: the new target, within the VM's floor and ceiling.
 * @now: CLOCK_MONOTONIC nanoseconds.
 * @avail_pct: host available memory the decision was made on (traced).
 */
void balloon_vm_set_target(struct balloon_vm *vm, u64 target, u64 now,
			   unsigned int avail_pct)
{
	u64 old = vm->target;

	lockdep_assert_held(&balloon_lock);
	target = clamp(target, vm->floor, vm->ceiling);
	if (target == old)
		return;
	if (target < old) {
		if (!vm->release_pending) {
			vm->asked = 0;
			vm->resident_at_ask = vm->resident;
		}
		vm->asked += old - target;
		vm->release_pending = true;
		atomic64_inc(&balloon_totals.inflations);
	} else {
		/* Growing again: whatever was still asked for is moot. */
		vm->release_pending = false;
		vm->stalled = false;
		atomic64_inc(&balloon_totals.deflations);
	}
	vm->target = target;
	vm->seq++;
	vm->changed_ns = now;
	atomic64_inc(&balloon_totals.target_changes);
	trace_balloon_target(vm->name, old, target, avail_pct);
	eventfd_signal(vm->event);
}

/**
 * balloon_vm_avail() - memory the guest reported as available
 * @vm: the VM.
 *
 * VIRTIO_BALLOON_S_AVAIL when reported, else free memory plus disk caches;
 * 0 when the guest never reported either.  Guest-supplied values; the sum
 * saturates at U64_MAX.
 *
 * Return: bytes.
 */
u64 balloon_vm_avail(const struct balloon_vm *vm)
{
	u64 sum;

	lockdep_assert_held(&balloon_lock);
	if (test_bit(6, &vm->stats_valid))	/* VIRTIO_BALLOON_S_AVAIL */
		return vm->stats[6];
	if (!test_bit(4, &vm->stats_valid))	/* VIRTIO_BALLOON_S_MEMFREE */
		return 0;
	if (!test_bit(7, &vm->stats_valid))	/* VIRTIO_BALLOON_S_CACHES */
		return vm->stats[4];
	/* Guest-supplied: saturate, so a wrap cannot hide it from pressure. */
	if (check_add_overflow(vm->stats[4], vm->stats[7], &sum))
		return U64_MAX;
	return sum;
}

static long balloon_vm_get_target(struct balloon_vm *vm, void __user *argp)
{
	struct vmaccel_balloon_target t;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;
	if (t.flags)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	mutex_lock(&balloon_lock);
	t.target_bytes = vm->target;
	t.seq = vm->seq;
	t.changed_ns = vm->changed_ns;
	mutex_unlock(&balloon_lock);
	return copy_to_user(argp, &t, sizeof(t)) ? -EFAULT : 0;
}

static long balloon_vm_report(struct balloon_vm *vm, void __user *argp)
{
	struct vmaccel_balloon_stats s;
	struct vmaccel_balloon_stat *st;
	unsigned int i;
	long ret = 0;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.flags || s.reserved[0] || s.reserved[1] ||
	    s.nr > VMACCEL_BALLOON_MAX_STATS)
		return -EINVAL;
	st = memdup_user(u64_to_user_ptr(s.stats_ptr),
			 array_size(s.nr, sizeof(*st)));
	if (IS_ERR(st))
		return PTR_ERR(st);
	for (i = 0; i < s.nr; i++) {
		if (st[i].tag >= VMACCEL_BALLOON_NR_TAGS || st[i].reserved[0] ||
		    st[i].reserved[1] || st[i].reserved[2]) {
			ret = -EINVAL;
			goto out;
		}
	}
	mutex_lock(&balloon_lock);
	for (i = 0; i < s.nr; i++) {
		vm->stats[st[i].tag] = st[i].val;
		__set_bit(st[i].tag, &vm->stats_valid);
	}
	if (s.actual_bytes)
		vm->actual = s.actual_bytes;
	vm->stats_ns = ktime_get_ns();
	mutex_unlock(&balloon_lock);
out:
	kfree(st);
	return ret;
}

static long balloon_vm_account(struct balloon_vm *vm, void __user *argp)
{
	struct vmaccel_balloon_account a;
	u64 now;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	mutex_lock(&balloon_lock);
	now = ktime_get_ns();
	balloon_vm_sample(vm, now);
	a.flags = (vm->stalled ? VMACCEL_BALLOON_ACCT_STALLED : 0) |
		  (vm->gone ? VMACCEL_BALLOON_ACCT_GONE : 0);
	a.resident_bytes = vm->resident;
	a.peak_resident_bytes = vm->peak;
	a.released_bytes = vm->released;
	a.target_bytes = vm->target;
	a.actual_bytes = vm->actual;
	a.target_changes = vm->seq;
	a.last_release_ns = vm->last_release_ns;
	a.stats_age_ns = vm->stats_ns ? now - vm->stats_ns : 0;
	mutex_unlock(&balloon_lock);
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : 0;
}

static long balloon_vm_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct balloon_vm *vm = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VMACCEL_BALLOON_GET_TARGET:
		return balloon_vm_get_target(vm, argp);
	case VMACCEL_BALLOON_REPORT_STATS:
		return balloon_vm_report(vm, argp);
	case VMACCEL_BALLOON_GET_ACCOUNT:
		return balloon_vm_account(vm, argp);
	default:
		return -ENOTTY;
	}
}

static void balloon_vm_free(struct balloon_vm *vm)
{
	eventfd_ctx_put(vm->event);
	if (vm->mem)
		fput(vm->mem);
	put_pid(vm->proc);
	kfree(vm);
}

static int balloon_vm_release(struct inode *inode, struct file *file)
{
	struct balloon_vm *vm = file->private_data;

	mutex_lock(&balloon_lock);
	list_del(&vm->node);
	balloon_nr_vms--;
	mutex_unlock(&balloon_lock);
	balloon_vm_free(vm);
	return 0;
}

static const struct file_operations balloon_vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = balloon_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = balloon_vm_release,
	.llseek = noop_llseek,
};

static int balloon_check_register(const struct vmaccel_balloon_register *r)
{
	unsigned int i;

	if (r->flags & ~VMACCEL_BALLOON_REGISTER_PROCESS)
		return -EINVAL;
	if (r->flags & VMACCEL_BALLOON_REGISTER_PROCESS) {
		/* No file size bounds it: keep it a size a file could have. */
		if (r->mem_fd != -1 || r->pid <= 0 ||
		    r->guest_bytes > MAX_LFS_FILESIZE)
			return -EINVAL;
	} else if (r->pid) {
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(r->reserved); i++)
		if (r->reserved[i])
			return -EINVAL;
	if (strnlen(r->name, sizeof(r->name)) == sizeof(r->name))
		return -EINVAL;
	if (!PAGE_ALIGNED(r->guest_bytes) || !PAGE_ALIGNED(r->floor_bytes) ||
	    !PAGE_ALIGNED(r->ceiling_bytes))
		return -EINVAL;
	if (r->floor_bytes < VMACCEL_BALLOON_MIN_FLOOR ||
	    r->floor_bytes > r->ceiling_bytes ||
	    r->ceiling_bytes > r->guest_bytes)
		return -EINVAL;
	return 0;
}

/*
 * The process @nr of the caller's PID namespace, as a VM's @proc: a
 * process (not a thread, not a kernel thread) that has memory now, and its
 * anonymous memory as the first sample.  Only the process itself, or a
 * caller that may trace processes (CAP_SYS_PTRACE, as /proc's protections
 * of another process's memory figures ask), may register it: the
 * accounting reads that process.  Its address space must hold the guest:
 * the size weighs in the policy and no file bounds it.
 */
static int balloon_vm_get_proc(struct balloon_vm *vm, pid_t nr, u64 guest)
{
	u64 vm_bytes = 0;
	int ret = -ESRCH;

	vm->proc = find_get_pid(nr);
	if (!vm->proc)
		return -ESRCH;
	if (vm->proc != task_tgid(current) && !capable(CAP_SYS_PTRACE)) {
		ret = -EPERM;
		goto err;
	}
	if (!balloon_proc_resident(vm->proc, &vm->resident, &vm_bytes))
		goto err;
	if (guest > vm_bytes) {
		ret = -EINVAL;
		goto err;
	}
	return 0;
err:
	put_pid(vm->proc);
	vm->proc = NULL;
	return ret;
}

/**
 * balloon_vm_register() - register a VM (%VMACCEL_BALLOON_REGISTER)
 * @r: the request, copied from userspace.
 *
 * Return: a new VM file descriptor, or a negative errno.
 */
long balloon_vm_register(const struct vmaccel_balloon_register *r)
{
	struct balloon_vm *vm;
	struct file *file;
	int fd, ret;

	ret = balloon_check_register(r);
	if (ret)
		return ret;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	if (r->flags & VMACCEL_BALLOON_REGISTER_PROCESS) {
		ret = balloon_vm_get_proc(vm, r->pid, r->guest_bytes);
		if (ret)
			goto err_free;
	} else {
		vm->mem = fget(r->mem_fd);
		if (!vm->mem) {
			ret = -EBADF;
			goto err_free;
		}
		if (!S_ISREG(file_inode(vm->mem)->i_mode) ||
		    i_size_read(file_inode(vm->mem)) != r->guest_bytes) {
			ret = -EINVAL;
			goto err_mem;
		}
	}
	vm->event = eventfd_ctx_fdget(r->event_fd);
	if (IS_ERR(vm->event)) {
		ret = PTR_ERR(vm->event);
		goto err_mem;
	}
	strscpy(vm->name, r->name, sizeof(vm->name));
	vm->guest = r->guest_bytes;
	vm->floor = r->floor_bytes;
	vm->ceiling = r->ceiling_bytes;
	vm->target = r->ceiling_bytes;
	if (vm->mem)
		vm->resident = balloon_file_resident(vm->mem);
	vm->peak = vm->resident;

	/* Take a slot first: once the file exists, its release unlinks. */
	mutex_lock(&balloon_lock);
	if (balloon_nr_vms >= BALLOON_MAX_VMS) {
		mutex_unlock(&balloon_lock);
		ret = -ENOSPC;
		goto err_event;
	}
	balloon_nr_vms++;
	mutex_unlock(&balloon_lock);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_slot;
	}
	file = anon_inode_getfile("[vmaccel-balloon-vm]", &balloon_vm_fops, vm,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	mutex_lock(&balloon_lock);
	list_add_tail(&vm->node, &balloon_vms);
	mutex_unlock(&balloon_lock);
	fd_install(fd, file);
	balloon_policy_kick();
	return fd;

err_fd:
	put_unused_fd(fd);
err_slot:
	mutex_lock(&balloon_lock);
	balloon_nr_vms--;
	mutex_unlock(&balloon_lock);
err_event:
	eventfd_ctx_put(vm->event);
err_mem:
	if (vm->mem)
		fput(vm->mem);
	put_pid(vm->proc);
err_free:
	kfree(vm);
	return ret;
}
