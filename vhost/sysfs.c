// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - sysfs attributes of /dev/vmaccel-vhost-net
 * (/sys/class/misc/vmaccel-vhost-net/): defaults for new devices (zero-copy
 * policy), handler weights, TX batching and, under stats/, totals over all devices since
 * the module was loaded.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <vmaccel/knob.h>

#include "vhost.h"

/* Protects the defaults below (the zero-copy policy as a whole). */
DEFINE_MUTEX(vh_param_lock);

/* Defaults, documented in Documentation/ABI/testing/sysfs-class-misc-vmaccel-vhost-net. */
struct vmaccel_vhost_zcopy vh_zpol_default = {
	.flags = VMACCEL_VHOST_ZCOPY_ENABLE,
	.min_len = 4096,
	.max_pending = 512,
	.fail_pct = 50,
	.backoff_pkts = 1024,
	.stall_ms = 1000,
};

unsigned int vh_tx_weight = 256;
unsigned int vh_rx_weight = 256;
/* TX batching (txbatch.c): frames up to this length, this many per send. */
unsigned int vh_txb_max_len = 256;
unsigned int vh_txb_pkts = VH_TXB_MAX;

#define VH_WEIGHT_MAX 65536

/*
 * A field of the zero-copy policy, @k->arg its offset in &struct
 * vmaccel_vhost_zcopy; zcopy_enable is the ENABLE bit of its flags.
 */
static s64 vh_zpol_get(const struct vmk_knob *k)
{
	u32 val;

	lockdep_assert_held(&vh_param_lock);
	if (k->arg == offsetof(struct vmaccel_vhost_zcopy, flags))
		return !!(vh_zpol_default.flags & VMACCEL_VHOST_ZCOPY_ENABLE);
	memcpy(&val, (u8 *)&vh_zpol_default + k->arg, sizeof(val));
	return val;
}

/* The policy with the new value must pass vh_zpol_check() as a whole. */
static int vh_zpol_set(const struct vmk_knob *k, s64 val)
{
	struct vmaccel_vhost_zcopy z = vh_zpol_default;
	u32 v = val;
	int ret;

	lockdep_assert_held(&vh_param_lock);
	if (k->arg == offsetof(struct vmaccel_vhost_zcopy, flags))
		z.flags = v ? VMACCEL_VHOST_ZCOPY_ENABLE : 0;
	else
		memcpy((u8 *)&z + k->arg, &v, sizeof(v));
	ret = vh_zpol_check(&z);
	if (!ret)
		vh_zpol_default = z;
	return ret;
}

/* The longest batched frame depends on the build: checked at run time. */
static int vh_txb_len_set(const struct vmk_knob *k, s64 val)
{
	if (val > vh_txb_len_limit())
		return -EINVAL;
	return vmk_knob_write(k, val);
}

#define VH_LOCKED .lock = &vh_param_lock, .flags = VMK_SHOW_LOCKED
#define VH_ZPOL(_name, _field, _max)					\
	VMK_DEV_KNOB(_name, VH_LOCKED, .type = VMK_U32,			\
		     VMK_RANGE(0, _max), .get = vh_zpol_get,		\
		     .set = vh_zpol_set,					\
		     .arg = offsetof(struct vmaccel_vhost_zcopy, _field))

VH_ZPOL(zcopy_enable, flags, 1);
VH_ZPOL(zcopy_min_len, min_len, U32_MAX);
VH_ZPOL(zcopy_max_pending, max_pending, U32_MAX);
VH_ZPOL(zcopy_fail_pct, fail_pct, U32_MAX);
VH_ZPOL(zcopy_backoff_pkts, backoff_pkts, U32_MAX);
VH_ZPOL(zcopy_stall_ms, stall_ms, U32_MAX);
VMK_DEV_KNOB(tx_weight, VH_LOCKED, VMK_U32_VAR(&vh_tx_weight),
	     VMK_RANGE(1, VH_WEIGHT_MAX));
VMK_DEV_KNOB(rx_weight, VH_LOCKED, VMK_U32_VAR(&vh_rx_weight),
	     VMK_RANGE(1, VH_WEIGHT_MAX));
VMK_DEV_KNOB(tx_batch_max_len, VH_LOCKED, VMK_U32_VAR(&vh_txb_max_len),
	     VMK_RANGE(0, U32_MAX), .set = vh_txb_len_set);
VMK_DEV_KNOB(tx_batch_pkts, VH_LOCKED, VMK_U32_VAR(&vh_txb_pkts),
	     VMK_RANGE(1, VH_TXB_MAX));

static struct attribute *vh_attrs[] = {
	VMK_ATTR(zcopy_enable),
	VMK_ATTR(zcopy_min_len),
	VMK_ATTR(zcopy_max_pending),
	VMK_ATTR(zcopy_fail_pct),
	VMK_ATTR(zcopy_backoff_pkts),
	VMK_ATTR(zcopy_stall_ms),
	VMK_ATTR(tx_weight),
	VMK_ATTR(rx_weight),
	VMK_ATTR(tx_batch_max_len),
	VMK_ATTR(tx_batch_pkts),
	NULL,
};

static const struct attribute_group vh_attr_group = {
	.attrs = vh_attrs,
};

#define VH_TOTAL(_name, _field)						\
	VMK_DEV_COUNTER(_name, VMK_ATOMIC64_VAR(&vh_totals._field))

VMK_DEV_COUNTER(devices, VMK_ATOMIC_VAR(&vh_totals.devices));
VH_TOTAL(tx_packets, tx_packets);
VH_TOTAL(tx_bytes, tx_bytes);
VH_TOTAL(rx_packets, rx_packets);
VH_TOTAL(rx_bytes, rx_bytes);
VH_TOTAL(dropped, dropped);
VH_TOTAL(zcopy_sent, zcopy_sent);
VH_TOTAL(zcopy_failed, zcopy_failed);
VH_TOTAL(notify_sent, notify_sent);
VH_TOTAL(errors, errors);
VH_TOTAL(tx_batched, tx_batched);
VH_TOTAL(tx_batch_sends, tx_batch_sends);
VH_TOTAL(log_pages, log_pages);
VH_TOTAL(zcopy_orphaned, zcopy_orphaned);

static struct attribute *vh_stats_attrs[] = {
	VMK_ATTR(devices),
	VMK_ATTR(tx_packets),
	VMK_ATTR(tx_bytes),
	VMK_ATTR(rx_packets),
	VMK_ATTR(rx_bytes),
	VMK_ATTR(dropped),
	VMK_ATTR(zcopy_sent),
	VMK_ATTR(zcopy_failed),
	VMK_ATTR(notify_sent),
	VMK_ATTR(errors),
	VMK_ATTR(tx_batched),
	VMK_ATTR(tx_batch_sends),
	VMK_ATTR(log_pages),
	VMK_ATTR(zcopy_orphaned),
	NULL,
};

static const struct attribute_group vh_stats_group = {
	.name = "stats",
	.attrs = vh_stats_attrs,
};

const struct attribute_group *vh_attr_groups[] = {
	&vh_attr_group,
	&vh_stats_group,
	NULL,
};
