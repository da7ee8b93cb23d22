// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock - paravirtual ticket spinlocks.
 *
 * Module init/exit and the misc device /dev/vmaccel-pvlock, whose ioctls
 * start, wait for and stop torture runs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "pvlock.h"

static int pvlock_dev_open(struct inode *inode, struct file *file)
{
	struct pvlock_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->mutex);
	init_waitqueue_head(&f->wq);
	file->private_data = f;
	return stream_open(inode, file);
}

static int pvlock_dev_release(struct inode *inode, struct file *file)
{
	struct pvlock_file *f = file->private_data;

	mutex_lock(&f->mutex);
	if (f->run)
		pvlock_run_destroy(f->run);
	f->run = NULL;
	mutex_unlock(&f->mutex);
	mutex_destroy(&f->mutex);
	kfree(f);
	return 0;
}

static long pvlock_dev_start(struct pvlock_file *f,
			     struct vmaccel_pvlock_run __user *argp)
{
	struct vmaccel_pvlock_run p;
	struct pvlock_run *run;
	long ret = 0;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	ret = pvlock_run_check(&p);
	if (ret)
		return ret;

	mutex_lock(&f->mutex);
	if (f->run && !pvlock_run_finished(f->run)) {
		ret = -EBUSY;
		goto out;
	}
	if (f->run) {
		pvlock_run_destroy(f->run);
		f->run = NULL;
	}
	run = pvlock_run_start(f, &p);
	if (IS_ERR(run))
		ret = PTR_ERR(run);
	else
		f->run = run;
out:
	mutex_unlock(&f->mutex);
	return ret;
}

static long pvlock_dev_result(struct pvlock_file *f,
			      struct vmaccel_pvlock_result __user *argp)
{
	const struct vmaccel_pvlock_result *res;
	__u64 reserved[ARRAY_SIZE(res->reserved)];
	__u32 flags;
	long ret;
	u64 seq;

	if (get_user(flags, &argp->flags) ||
	    copy_from_user(reserved, argp->reserved, sizeof(reserved)))
		return -EFAULT;
	if (flags & ~VMACCEL_PVLOCK_RESULT_FLAGS ||
	    memchr_inv(reserved, 0, sizeof(reserved)))
		return -EINVAL;

	for (;;) {
		mutex_lock(&f->mutex);
		if (!f->run) {
			ret = -ENODATA;
			break;
		}
		if (pvlock_run_finished(f->run)) {
			res = pvlock_run_result(f->run);
			ret = 0;
			if (copy_to_user(argp, res, sizeof(*res)) ||
			    put_user(flags, &argp->flags))
				ret = -EFAULT;
			break;
		}
		if (flags & VMACCEL_PVLOCK_RESULT_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		seq = f->seq;
		mutex_unlock(&f->mutex);
		if (wait_event_interruptible(f->wq,
					     READ_ONCE(f->done_seq) >= seq))
			return -ERESTARTSYS;
	}
	mutex_unlock(&f->mutex);
	return ret;
}

static long pvlock_dev_stop(struct pvlock_file *f)
{
	long ret = 0;

	mutex_lock(&f->mutex);
	if (f->run)
		pvlock_run_stop(f->run);
	else
		ret = -ENODATA;
	mutex_unlock(&f->mutex);
	return ret;
}

/**
 * pvlock_dev_ioctl() - ioctls on /dev/vmaccel-pvlock
 * @file: an open /dev/vmaccel-pvlock.
 * @cmd: %VMACCEL_PVLOCK_RUN_START, %VMACCEL_PVLOCK_RUN_RESULT or
 *	%VMACCEL_PVLOCK_RUN_STOP.
 * @arg: user pointer to &struct vmaccel_pvlock_run or
 *	&struct vmaccel_pvlock_result; unused for STOP.
 *
 * One run at a time per file: START while the run of the file goes on is
 * refused; START after it ended drops its results.  RESULT waits for the
 * end (interruptible) unless %VMACCEL_PVLOCK_RESULT_NONBLOCK.
 *
 * Context: process context.
 * Return: 0; -EFAULT for a bad user pointer; -EINVAL for unknown flags, a
 * non-zero reserved field, an unknown kind or a value out of range;
 * -EBUSY for START while a run goes on; -ENODATA for RESULT or STOP before
 * any START; -EAGAIN for a non-blocking RESULT of a run that goes on;
 * -ERESTARTSYS when a signal interrupts RESULT; -ENOMEM, -EINTR; -ENOTTY
 * for an unknown command.
 */
static long pvlock_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct pvlock_file *f = file->private_data;

	switch (cmd) {
	case VMACCEL_PVLOCK_RUN_START:
		return pvlock_dev_start(f, (void __user *)arg);
	case VMACCEL_PVLOCK_RUN_RESULT:
		return pvlock_dev_result(f, (void __user *)arg);
	case VMACCEL_PVLOCK_RUN_STOP:
		return pvlock_dev_stop(f);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations pvlock_dev_fops = {
	.owner = THIS_MODULE,
	.open = pvlock_dev_open,
	.release = pvlock_dev_release,
	.unlocked_ioctl = pvlock_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice pvlock_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmaccel-pvlock",
	.fops = &pvlock_dev_fops,
	.groups = pvlock_attr_groups,
	.mode = 0600,
};

static int __init pvlock_init(void)
{
	int ret;

	ret = pvlock_hash_init();
	if (ret)
		return ret;
	ret = pvlock_backend_init();
	if (ret) {
		pvlock_hash_exit();
		return ret;
	}
	pvlock_debugfs_init();
	ret = misc_register(&pvlock_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", pvlock_misc.name, ret);
		pvlock_debugfs_exit();
		pvlock_backend_exit();
		pvlock_hash_exit();
		return ret;
	}
	return 0;
}

static void __exit pvlock_exit(void)
{
	misc_deregister(&pvlock_misc);
	pvlock_debugfs_exit();
	pvlock_backend_exit();
	pvlock_hash_exit();
}

module_init(pvlock_init);
module_exit(pvlock_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VMACCEL_VERSION);
MODULE_AUTHOR("vmaccel developers");
MODULE_DESCRIPTION("Paravirtual ticket spinlocks that survive vCPU overcommit, with a torture and benchmark");
