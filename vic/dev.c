// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic - adaptive virtual interrupt coalescing (vIC).
 *
 * Module init/exit and the misc device /dev/vmaccel-vic, whose only ioctl
 * creates eventfd coalescers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <vmaccel/vic.h>

#include "vic.h"

static long vic_dev_create(void __user *argp)
{
	struct vmaccel_vic_create c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~VMACCEL_VIC_CREATE_FLAGS)
		return -EINVAL;
	if (c.reserved)
		return -EINVAL;
	if (c.flags & VMACCEL_VIC_CREATE_PARAMS) {
		if (vmaccel_vic_check_params(&c.params))
			return -EINVAL;
	} else {
		if (memchr_inv(&c.params, 0, sizeof(c.params)))
			return -EINVAL;
		vmaccel_vic_default_params(&c.params);
	}
	return vic_fd_create(c.src_fd, c.dst_fd, &c.params);
}

/**
 * vic_dev_ioctl() - ioctls on /dev/vmaccel-vic
 * @file: an open /dev/vmaccel-vic.
 * @cmd: %VMACCEL_VIC_CREATE.
 * @arg: user pointer to &struct vmaccel_vic_create.
 *
 * Creates a coalescer between two eventfds.  Unknown flags, a non-zero
 * reserved field, invalid params with %VMACCEL_VIC_CREATE_PARAMS, or
 * non-zero params without it are rejected.  Without the flag the sysfs
 * defaults apply.
 *
 * Context: process context.
 * Return: a new O_CLOEXEC coalescer fd; -EFAULT for a bad user pointer;
 * -EINVAL for invalid input, a non-eventfd file or the same eventfd twice;
 * -EBADF for an fd that is not open; -ENOMEM, -EMFILE, -ENFILE; -ENOTTY for
 * an unknown command.
 */
static long vic_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case VMACCEL_VIC_CREATE:
		return vic_dev_create((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vic_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vic_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vic_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmaccel-vic",
	.fops = &vic_dev_fops,
	.groups = vic_attr_groups,
	.mode = 0600,
};

static int __init vic_init(void)
{
	int ret;

	vic_debugfs_init();
	ret = misc_register(&vic_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", vic_misc.name, ret);
		vic_debugfs_exit();
		return ret;
	}
	return 0;
}

static void __exit vic_exit(void)
{
	misc_deregister(&vic_misc);
	vic_debugfs_exit();
	vic_fd_exit();
	vic_engine_exit();
}

module_init(vic_init);
module_exit(vic_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VMACCEL_VERSION);
MODULE_AUTHOR("vmaccel developers");
MODULE_DESCRIPTION("Adaptive virtual interrupt coalescing (vIC) for virtual devices");
