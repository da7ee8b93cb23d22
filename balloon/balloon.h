/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_balloon - private declarations shared by the module's files.
 */
#ifndef _VMACCEL_BALLOON_PRIV_H
#define _VMACCEL_BALLOON_PRIV_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/vmaccel_balloon.h>

struct dentry;
struct eventfd_ctx;
struct file;
struct pid;

/* Registered VMs at most. */
#define BALLOON_MAX_VMS		1024

/**
 * struct balloon_vm - one registered VM
 * @node: entry in balloon_vms.
 * @mem: the guest-RAM file (our own reference), or NULL for a VM whose RAM
 *	is the anonymous memory of @proc.
 * @proc: the VMM process of a %VMACCEL_BALLOON_REGISTER_PROCESS VM (our
 *	own reference to its struct pid, which never names a later process
 *	that reuses the number), else NULL.
 * @event: signalled on every target change (our own reference).
 * @name: NUL-terminated name given at registration.
 * @guest: guest RAM size in bytes (the size of @mem at registration),
 *	below 2^63.
 * @floor: the target never goes below this.
 * @ceiling: the target never goes above this.
 * @target: the memory the guest should keep now.
 * @seq: number of target changes.
 * @changed_ns: CLOCK_MONOTONIC time of the last target change.
 * @stats: the last reported value of each virtio-balloon stat tag.
 * @stats_valid: bit N set when tag N was reported.
 * @stats_ns: time of the last statistics report (0: never).
 * @actual: the VMM's last reported guest size (0: never).
 * @resident: resident size of @mem (or anonymous memory of @proc) at the
 *	last sample.
 * @peak: the largest resident size sampled.
 * @released: sum of every decrease of the resident size.
 * @asked: bytes the pending target decreases asked the guest to give.
 * @resident_at_ask: resident size when the first pending decrease was made.
 * @release_pending: a decrease is waiting for the file to shrink.
 * @last_release_ns: time the last completed release took.
 * @stalled: a release was not seen within the stall timeout.
 * @gone: the process of @proc has exited: the VM holds nothing and is
 *	asked for nothing.
 *
 * Locking: everything after @ceiling, and @node, is protected by
 * balloon_lock; @mem, @proc, @event, @name, @guest, @floor and @ceiling
 * are set before the VM is visible and constant until it is freed.
 */
struct balloon_vm {
	struct list_head node;
	struct file *mem;
	struct pid *proc;
	struct eventfd_ctx *event;
	char name[VMACCEL_BALLOON_NAME_LEN];
	u64 guest;
	u64 floor;
	u64 ceiling;
	u64 target;
	u64 seq;
	u64 changed_ns;
	u64 stats[VMACCEL_BALLOON_NR_TAGS];
	unsigned long stats_valid;
	u64 stats_ns;
	u64 actual;
	u64 resident;
	u64 peak;
	u64 released;
	u64 asked;
	u64 resident_at_ask;
	bool release_pending;
	u64 last_release_ns;
	bool stalled;
	bool gone;
};

/**
 * struct balloon_params - the policy knobs (sysfs)
 * @enabled: the policy changes targets only when true.
 * @interval_ms: time between two policy ticks.
 * @low_pct: host available memory (percent of RAM) below which the
 *	policy inflates balloons.
 * @high_pct: host available memory above which it deflates them.
 * @step_pct: the most a target moves in one tick, percent of guest RAM.
 * @guest_free_pct: free memory a guest keeps, percent of its RAM.
 * @stall_ms: a VM that has not given back what a decrease asked for in
 *	this time is stalled: the policy asks the others instead.
 * @stats_max_age_ms: statistics older than this are stale: what they
 *	said the guest can spare no longer counts.
 * @test_available_pct: when >= 0, used instead of the host's real
 *	available memory (tests and demos simulate pressure with it).
 *
 * Locking: each field is read and written with READ_ONCE/WRITE_ONCE; the
 * stores in sysfs.c that must keep @low_pct < @high_pct hold balloon_lock.
 */
struct balloon_params {
	bool enabled;
	u32 interval_ms;
	u32 low_pct;
	u32 high_pct;
	u32 step_pct;
	u32 guest_free_pct;
	u32 stall_ms;
	u32 stats_max_age_ms;
	int test_available_pct;
};

/**
 * struct balloon_totals - module-wide counters (sysfs, read-only)
 * @target_changes: target changes made, all VMs.
 * @inflations: target decreases.
 * @deflations: target increases.
 * @released_bytes: memory given back by guest-RAM files, all VMs.
 * @pressure_ticks: policy ticks that found the host under pressure.
 * @reclaim_ticks: policy ticks that saw direct reclaim since the last.
 * @stalls: releases that did not come within the stall timeout.
 * @fair_shares: target decreases of VMs whose statistics offered nothing
 *	(none, stale, or no spare memory), asked for their share of what
 *	the others could not give.
 */
struct balloon_totals {
	atomic64_t target_changes;
	atomic64_t inflations;
	atomic64_t deflations;
	atomic64_t released_bytes;
	atomic64_t pressure_ticks;
	atomic64_t reclaim_ticks;
	atomic64_t stalls;
	atomic64_t fair_shares;
};

extern struct mutex balloon_lock;
extern struct list_head balloon_vms;
extern unsigned int balloon_nr_vms;
extern struct balloon_params balloon_params;
extern struct balloon_totals balloon_totals;

/* vm.c */
long balloon_vm_register(const struct vmaccel_balloon_register *r);
void balloon_vm_sample(struct balloon_vm *vm, u64 now);
void balloon_vm_set_target(struct balloon_vm *vm, u64 target, u64 now,
			   unsigned int avail_pct);
u64 balloon_vm_avail(const struct balloon_vm *vm);

/* policy.c */
int balloon_policy_init(void);
void balloon_policy_exit(void);
void balloon_policy_kick(void);
unsigned int balloon_host_avail_pct(void);

/* sysfs.c */
int balloon_sysfs_init(void);
void balloon_sysfs_exit(void);

/* debugfs.c */
void balloon_debugfs_init(void);
void balloon_debugfs_exit(void);

#endif /* _VMACCEL_BALLOON_PRIV_H */
