// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - module init, /dev/vmaccel-ksm.
 *
 * /dev/vmaccel-ksm creates unlinked vmaccelfs files (%VMACCEL_KSM_CREATE,
 * like memfd_create(); each in a group of its own unless a %CAP_SYS_ADMIN
 * caller names one) and runs scanner passes on request (%VMACCEL_KSM_SCAN,
 * %CAP_SYS_ADMIN).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "ksm.h"

static long vk_dev_create(void __user *argp)
{
	struct vmaccel_ksm_create arg;
	struct file *file;
	int fd;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if ((arg.flags & ~VMACCEL_KSM_CREATE_FLAGS) || arg.reserved[0] ||
	    arg.reserved[1])
		return -EINVAL;
	if (arg.flags & VMACCEL_KSM_CREATE_GROUP) {
		if (arg.group >= VMACCEL_KSM_GROUP_AUTO)
			return -EINVAL;
		/* Choosing whom a file shares pages with is the admin's. */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
	} else if (arg.group) {
		return -EINVAL;
	}
	fd = get_unused_fd_flags(O_RDWR | O_LARGEFILE |
				 (arg.flags & VMACCEL_KSM_CREATE_CLOEXEC ?
				  O_CLOEXEC : 0));
	if (fd < 0)
		return fd;
	file = vk_create_file(arg.size, arg.flags & VMACCEL_KSM_CREATE_GROUP,
			      arg.group);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

/**
 * vk_dev_ioctl() - ioctls on /dev/vmaccel-ksm
 * @file: the device file.
 * @cmd: %VMACCEL_KSM_CREATE or %VMACCEL_KSM_SCAN.
 * @arg: user pointer to the command's structure.
 *
 * Context: process context.
 * Return: a new file descriptor (CREATE), 0 (SCAN); -EFAULT, -EINVAL,
 * -ENOMEM, -ENOSPC, -EMFILE, -EINTR, -EPERM (CREATE with a group or SCAN without
 * %CAP_SYS_ADMIN); -ENOTTY for an unknown command.
 */
static long vk_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case VMACCEL_KSM_CREATE:
		return vk_dev_create((void __user *)arg);
	case VMACCEL_KSM_SCAN:
		return vk_scan_ioctl((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vk_dev_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = vk_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vk_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmaccel-ksm",
	.fops = &vk_dev_fops,
	.mode = 0600,
};

static int __init vk_init(void)
{
	int ret;

	ret = vk_scan_init();
	if (ret)
		return ret;
	ret = vk_fs_init();
	if (ret)
		goto err_scan;
	ret = vk_sysfs_init();
	if (ret)
		goto err_fs;
	vk_debugfs_init();
	ret = misc_register(&vk_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", vk_misc.name, ret);
		goto err_debugfs;
	}
	return 0;

err_debugfs:
	vk_debugfs_exit();
	vk_sysfs_exit();
err_fs:
	vk_fs_exit();
err_scan:
	vk_scan_exit();
	return ret;
}

static void __exit vk_exit(void)
{
	misc_deregister(&vk_misc);
	vk_debugfs_exit();
	vk_sysfs_exit();
	vk_fs_exit();
	vk_migrate_exit();
	vk_scan_exit();
}

module_init(vk_init);
module_exit(vk_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VMACCEL_VERSION);
MODULE_AUTHOR("vmaccel developers");
MODULE_DESCRIPTION("vmaccelfs: guest RAM files with KSM-style page deduplication");
MODULE_ALIAS_FS("vmaccelfs");
