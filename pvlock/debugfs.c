// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_pvlock - debugfs, /sys/kernel/debug/vmaccel_pvlock/:
 *
 *   stats               every counter, "name value" per line
 *   histo_time_blocked  time blocked per acquisition, log2 buckets
 *   zero_stats          write 1 to reset the counters and the histogram
 *   waiters             the waiters registered to be kicked right now
 *   runs                the torture runs of all open files
 *   stale_kick          read: run pvlock_stale_kick_check() a few times
 *   stale_mark          the same, the slot turned over before the mark
 *   stale_premark       the same, the slot marked kicked before the mark
 *   hash                size and use of the waiter hash
 *   hash_probes         hash entries a registration may try (0: none, so
 *                       every waiter is found by the scan; for the tests)
 *   lookup_timing       Y: time each waiter lookup into stats' lookup_ns
 *                       (for bench/pvlock/lookup_cost.sh; default N)
 *   hash_broken_fallback  Y: registrations without a hash entry are not
 *                       counted for the scan (negative control, tests only)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "pvlock.h"

static struct dentry *pvlock_debugfs_dir;

static int stats_show(struct seq_file *m, void *unused)
{
	struct pvlock_stats sum;
	unsigned int i;

	pvlock_stats_sum(&sum);
	for (i = 0; i < PVLOCK_NR_STATS; i++)
		seq_printf(m, "%s %llu\n", pvlock_stat_names[i], sum.stat[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int histo_time_blocked_show(struct seq_file *m, void *unused)
{
	struct pvlock_stats sum;
	unsigned int i;

	pvlock_stats_sum(&sum);
	seq_puts(m, "from_ns to_ns count\n");
	seq_printf(m, "0 1 %llu\n", sum.histo[0]);
	for (i = 1; i < PVLOCK_HISTO_BUCKETS - 1; i++)
		seq_printf(m, "%llu %llu %llu\n", 1ULL << (i - 1), 1ULL << i,
			   sum.histo[i]);
	seq_printf(m, "%llu inf %llu\n", 1ULL << (i - 1), sum.histo[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(histo_time_blocked);

static int waiters_show(struct seq_file *m, void *unused)
{
	pvlock_waiters_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(waiters);

static int hash_show(struct seq_file *m, void *unused)
{
	pvlock_hash_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hash);

static int runs_show(struct seq_file *m, void *unused)
{
	pvlock_runs_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(runs);

/* Rounds of the stale-kicker check per read of stale_kick. */
#define PVLOCK_STALE_ROUNDS	8

static int stale_show(struct seq_file *m, enum pvlock_stale_how how)
{
	struct pvlock_stale_res res = { 0 };
	unsigned int i;
	int ret;

	for (i = 0; i < PVLOCK_STALE_ROUNDS; i++) {
		ret = pvlock_stale_kick_check(&res, how);
		if (ret)
			return ret;
	}
	seq_printf(m, "rounds %llu turned %llu marked %llu kicked %llu\n",
		   res.rounds, res.turned, res.marked, res.kicked);
	return 0;
}

static int stale_kick_show(struct seq_file *m, void *unused)
{
	return stale_show(m, PVLOCK_STALE_AT_FIND);
}
DEFINE_SHOW_ATTRIBUTE(stale_kick);

static int stale_mark_show(struct seq_file *m, void *unused)
{
	return stale_show(m, PVLOCK_STALE_AT_MARK);
}
DEFINE_SHOW_ATTRIBUTE(stale_mark);

static int stale_premark_show(struct seq_file *m, void *unused)
{
	return stale_show(m, PVLOCK_STALE_PREMARK);
}
DEFINE_SHOW_ATTRIBUTE(stale_premark);

static ssize_t zero_stats_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	bool zero;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &zero);
	if (ret)
		return ret;
	if (zero)
		pvlock_stats_zero();
	return count;
}

static const struct file_operations zero_stats_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = zero_stats_write,
};

/**
 * pvlock_debugfs_init() - create /sys/kernel/debug/vmaccel_pvlock/
 *
 * Failures are ignored: debugfs is optional and never fails module load.
 */
void pvlock_debugfs_init(void)
{
	pvlock_debugfs_dir = debugfs_create_dir("vmaccel_pvlock", NULL);
	debugfs_create_file("stats", 0400, pvlock_debugfs_dir, NULL,
			    &stats_fops);
	debugfs_create_file("histo_time_blocked", 0400, pvlock_debugfs_dir,
			    NULL, &histo_time_blocked_fops);
	debugfs_create_file("zero_stats", 0200, pvlock_debugfs_dir, NULL,
			    &zero_stats_fops);
	debugfs_create_file("waiters", 0400, pvlock_debugfs_dir, NULL,
			    &waiters_fops);
	debugfs_create_file("runs", 0400, pvlock_debugfs_dir, NULL,
			    &runs_fops);
	debugfs_create_file("stale_kick", 0400, pvlock_debugfs_dir, NULL,
			    &stale_kick_fops);
	debugfs_create_file("stale_mark", 0400, pvlock_debugfs_dir, NULL,
			    &stale_mark_fops);
	debugfs_create_file("stale_premark", 0400, pvlock_debugfs_dir, NULL,
			    &stale_premark_fops);
	debugfs_create_file("hash", 0400, pvlock_debugfs_dir, NULL,
			    &hash_fops);
	debugfs_create_u32("hash_probes", 0600, pvlock_debugfs_dir,
			   &pvlock_hash_probes);
	debugfs_create_bool("lookup_timing", 0600, pvlock_debugfs_dir,
			    &pvlock_lookup_timing);
	debugfs_create_bool("hash_broken_fallback", 0600, pvlock_debugfs_dir,
			    &pvlock_hash_broken_fallback);
}

/**
 * pvlock_debugfs_exit() - remove /sys/kernel/debug/vmaccel_pvlock/
 */
void pvlock_debugfs_exit(void)
{
	debugfs_remove_recursive(pvlock_debugfs_dir);
	pvlock_debugfs_dir = NULL;
}
