/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_vic - private declarations shared by the files of the module.
 */
#ifndef _VMACCEL_VIC_PRIV_H
#define _VMACCEL_VIC_PRIV_H

#include <linux/sysfs.h>
#include <linux/types.h>
#include <vmaccel/vic.h>

/* Defaults of a new coalescer, before any sysfs write. */
#define VIC_DEFAULT_MODE		VMACCEL_VIC_MODE_ADAPTIVE
#define VIC_DEFAULT_FIXED_RATIO		4
#define VIC_DEFAULT_CIF_THRESHOLD	4
#define VIC_DEFAULT_IOPS_THRESHOLD	2000
#define VIC_DEFAULT_MAX_DELAY_US	200
#define VIC_DEFAULT_MAX_RATIO		32

/**
 * struct vic_totals - module-wide counters since load
 * @completions: completions reported to all coalescers.
 * @interrupts: interrupts delivered by all coalescers.
 * @deferred: completions that did not raise an interrupt on arrival.
 * @backstop: interrupts delivered by backstop timers.
 */
struct vic_totals {
	u64 completions;
	u64 interrupts;
	u64 deferred;
	u64 backstop;
};

/* engine.c */
void vic_totals_read(struct vic_totals *t);
unsigned int vic_live_count(void);
u32 vic_id(const struct vmaccel_vic *v);
void vic_for_each(void (*fn)(struct vmaccel_vic *v, void *arg), void *arg);
void vic_engine_exit(void);

/* params.c */
const char *vic_mode_name(u32 mode);
int vic_mode_parse(const char *buf);
int vic_defaults_set(size_t offset, u32 val);

/* fd.c */
int vic_fd_create(int src_fd, int dst_fd,
		  const struct vmaccel_vic_params *params);
void vic_fd_exit(void);

/* sysfs.c */
extern const struct attribute_group *vic_attr_groups[];

/* debugfs.c */
void vic_debugfs_init(void);
void vic_debugfs_exit(void);

#endif /* _VMACCEL_VIC_PRIV_H */
