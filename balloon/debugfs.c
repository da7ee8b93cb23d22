// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_balloon - debugfs: /sys/kernel/debug/vmaccel_balloon/vms lists
 * every registered VM with its target, statistics and accounting.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>

#include "balloon.h"

static struct dentry *balloon_debugfs_dir;

static int balloon_vms_show(struct seq_file *m, void *unused)
{
	struct balloon_vm *vm;
	u64 now = ktime_get_ns();

	seq_puts(m, "# name guest floor ceiling target seq resident peak released avail_reported actual last_release_ns stalled stats_age_ms ram\n");
	mutex_lock(&balloon_lock);
	list_for_each_entry(vm, &balloon_vms, node) {
		balloon_vm_sample(vm, now);
		seq_printf(m, "%s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %d %lld %s\n",
			   vm->name[0] ? vm->name : "-", vm->guest, vm->floor,
			   vm->ceiling, vm->target, vm->seq, vm->resident,
			   vm->peak, vm->released, balloon_vm_avail(vm),
			   vm->actual, vm->last_release_ns, vm->stalled,
			   vm->stats_ns ? (s64)div_u64(now - vm->stats_ns,
						       NSEC_PER_MSEC) : -1LL,
			   vm->mem ? "file" : vm->gone ? "gone" : "process");
	}
	mutex_unlock(&balloon_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(balloon_vms);

/**
 * balloon_debugfs_init() - create the debugfs directory (best effort)
 */
void balloon_debugfs_init(void)
{
	balloon_debugfs_dir = debugfs_create_dir("vmaccel_balloon", NULL);
	debugfs_create_file("vms", 0400, balloon_debugfs_dir, NULL,
			    &balloon_vms_fops);
}

/**
 * balloon_debugfs_exit() - remove the debugfs directory
 */
void balloon_debugfs_exit(void)
{
	debugfs_remove_recursive(balloon_debugfs_dir);
}
