// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vic - debugfs: /sys/kernel/debug/vmaccel_vic/coalescers lists every
 * live coalescer, one line each.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <vmaccel/vic.h>

#include "vic.h"

static struct dentry *vic_debugfs_dir;

static void vic_debugfs_line(struct vmaccel_vic *v, void *arg)
{
	struct seq_file *m = arg;
	struct vmaccel_vic_params p;
	struct vmaccel_vic_stats s;

	vmaccel_vic_get_params(v, &p);
	vmaccel_vic_get_stats(v, &s);
	seq_printf(m,
		   "id=%u mode=%s ratio=%u completions=%llu interrupts=%llu deferred=%llu backstop=%llu max_delay_ns=%llu rate=%llu cif=%u pending=%u\n",
		   vic_id(v), vic_mode_name(p.mode), s.cur_ratio,
		   s.completions, s.interrupts, s.deferred, s.backstop,
		   s.max_delay_ns, s.rate, s.cif, s.pending);
}

static int coalescers_show(struct seq_file *m, void *unused)
{
	vic_for_each(vic_debugfs_line, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(coalescers);

/**
 * vic_debugfs_init() - create /sys/kernel/debug/vmaccel_vic/
 *
 * Failures are ignored: debugfs is optional and never fails module load.
 */
void vic_debugfs_init(void)
{
	vic_debugfs_dir = debugfs_create_dir("vmaccel_vic", NULL);
	debugfs_create_file("coalescers", 0400, vic_debugfs_dir, NULL,
			    &coalescers_fops);
}

/**
 * vic_debugfs_exit() - remove /sys/kernel/debug/vmaccel_vic/
 */
void vic_debugfs_exit(void)
{
	debugfs_remove_recursive(vic_debugfs_dir);
	vic_debugfs_dir = NULL;
}
