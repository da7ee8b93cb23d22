// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - debugfs, /sys/kernel/debug/vmaccel_vhost_net/:
 *
 *   queues   one line per queue of every open device with its counters
 *            (the same as VMACCEL_VHOST_GET_VQ_STATS)
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "vhost.h"

static struct dentry *vh_debugfs_dir;

static int queues_show(struct seq_file *m, void *unused)
{
	vh_devices_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(queues);

/**
 * vh_debugfs_init() - create the debugfs directory (failures are ignored)
 */
void vh_debugfs_init(void)
{
	vh_debugfs_dir = debugfs_create_dir("vmaccel_vhost_net", NULL);
	debugfs_create_file("queues", 0400, vh_debugfs_dir, NULL,
			    &queues_fops);
}

/**
 * vh_debugfs_exit() - remove the debugfs directory
 */
void vh_debugfs_exit(void)
{
	debugfs_remove_recursive(vh_debugfs_dir);
}
