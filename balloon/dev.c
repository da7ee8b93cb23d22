// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon - the host side of memory ballooning.
 *
 * Module init/exit and the misc device /dev/vmaccel-balloon, whose one
 * ioctl registers a VM and returns its VM file descriptor (vm.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "balloon.h"

static long balloon_dev_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct vmaccel_balloon_register r;

	switch (cmd) {
	case VMACCEL_BALLOON_REGISTER:
		if (copy_from_user(&r, (void __user *)arg, sizeof(r)))
			return -EFAULT;
		return balloon_vm_register(&r);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations balloon_dev_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = balloon_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice balloon_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmaccel-balloon",
	.fops = &balloon_dev_fops,
	.mode = 0600,
};

static int __init balloon_init(void)
{
	int ret;

	/* The policy first: the knobs queue ticks. */
	ret = balloon_policy_init();
	if (ret)
		return ret;
	ret = balloon_sysfs_init();
	if (ret)
		goto err_policy;
	balloon_debugfs_init();
	ret = misc_register(&balloon_misc);
	if (ret)
		goto err_sysfs;
	return 0;

err_sysfs:
	balloon_debugfs_exit();
	balloon_sysfs_exit();
err_policy:
	balloon_policy_exit();
	return ret;
}

/*
 * Everything that can queue a policy tick goes before the tick is
 * cancelled: the device (VM registrations; VM descriptors hold a module
 * reference, so none is left here), then the knobs (removing them waits
 * for writers in progress).  The shrinker goes in balloon_policy_exit()
 * before the cancel.  A knob write that kicked after the cancel would run
 * the tick from freed module text.
 */
static void __exit balloon_exit(void)
{
	misc_deregister(&balloon_misc);
	balloon_sysfs_exit();
	balloon_debugfs_exit();
	balloon_policy_exit();
}

module_init(balloon_init);
module_exit(balloon_exit);

MODULE_DESCRIPTION("vmaccel: host-side balloon policy, targets and accounting");
MODULE_AUTHOR("vmaccel developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMACCEL_VERSION);
