// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - debugfs, /sys/kernel/debug/vmaccel_ksm/:
 *
 *   files   one line per vmaccelfs file: inode number, group and the
 *           counters of VMACCEL_KSM_GET_STATS
 *   isolated_write_faults
 *           write faults that found their page being migrated and were
 *           retried (ksm_migrate_test shows it reaches that race)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "ksm.h"

static struct dentry *vk_debugfs_dir;

static int files_show(struct seq_file *m, void *unused)
{
	vk_files_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(files);

/**
 * vk_debugfs_init() - create /sys/kernel/debug/vmaccel_ksm/ (failures
 * are ignored, as debugfs wants)
 */
void vk_debugfs_init(void)
{
	vk_debugfs_dir = debugfs_create_dir("vmaccel_ksm", NULL);
	debugfs_create_file("files", 0400, vk_debugfs_dir, NULL, &files_fops);
	debugfs_create_atomic_t("isolated_write_faults", 0400, vk_debugfs_dir,
				&vk_isolated_faults);
}

/**
 * vk_debugfs_exit() - remove /sys/kernel/debug/vmaccel_ksm/
 */
void vk_debugfs_exit(void)
{
	debugfs_remove_recursive(vk_debugfs_dir);
}
