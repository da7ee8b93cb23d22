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

enum vh_knob {
	K_ZC_ENABLE, K_ZC_MIN_LEN, K_ZC_MAX_PENDING, K_ZC_FAIL_PCT,
	K_ZC_BACKOFF, K_ZC_STALL_MS, K_TX_WEIGHT, K_RX_WEIGHT,
	K_TXB_MAX_LEN, K_TXB_PKTS,
};

struct vh_knob_attr {
	struct device_attribute attr;
	enum vh_knob knob;
};

static u32 vh_knob_get(enum vh_knob k)
{
	switch (k) {
	case K_ZC_ENABLE:
		return !!(vh_zpol_default.flags & VMACCEL_VHOST_ZCOPY_ENABLE);
	case K_ZC_MIN_LEN:
		return vh_zpol_default.min_len;
	case K_ZC_MAX_PENDING:
		return vh_zpol_default.max_pending;
	case K_ZC_FAIL_PCT:
		return vh_zpol_default.fail_pct;
	case K_ZC_BACKOFF:
		return vh_zpol_default.backoff_pkts;
	case K_ZC_STALL_MS:
		return vh_zpol_default.stall_ms;
	case K_TX_WEIGHT:
		return READ_ONCE(vh_tx_weight);
	case K_RX_WEIGHT:
		return READ_ONCE(vh_rx_weight);
	case K_TXB_MAX_LEN:
		return READ_ONCE(vh_txb_max_len);
	case K_TXB_PKTS:
		return READ_ONCE(vh_txb_pkts);
	}
	return 0;
}

static ssize_t knob_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct vh_knob_attr *ka = container_of(attr, struct vh_knob_attr, attr);
	u32 v;

	mutex_lock(&vh_param_lock);
	v = vh_knob_get(ka->knob);
	mutex_unlock(&vh_param_lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t knob_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct vh_knob_attr *ka = container_of(attr, struct vh_knob_attr, attr);
	struct vmaccel_vhost_zcopy z;
	int ret = 0;
	u32 v;

	/* Decimal, as every vmaccel knob: "010" is ten, not eight. */
	if (kstrtou32(buf, 10, &v))
		return -EINVAL;
	mutex_lock(&vh_param_lock);
	z = vh_zpol_default;
	switch (ka->knob) {
	case K_ZC_ENABLE:
		if (v > 1)
			ret = -EINVAL;
		z.flags = v ? VMACCEL_VHOST_ZCOPY_ENABLE : 0;
		break;
	case K_ZC_MIN_LEN:
		z.min_len = v;
		break;
	case K_ZC_MAX_PENDING:
		z.max_pending = v;
		break;
	case K_ZC_FAIL_PCT:
		z.fail_pct = v;
		break;
	case K_ZC_BACKOFF:
		z.backoff_pkts = v;
		break;
	case K_ZC_STALL_MS:
		z.stall_ms = v;
		break;
	case K_TX_WEIGHT:
	case K_RX_WEIGHT:
		if (!v || v > VH_WEIGHT_MAX) {
			ret = -EINVAL;
			break;
		}
		WRITE_ONCE(*(ka->knob == K_TX_WEIGHT ? &vh_tx_weight : &vh_rx_weight), v);
		break;
	case K_TXB_MAX_LEN:
		if (v > vh_txb_len_limit()) {
			ret = -EINVAL;
			break;
		}
		WRITE_ONCE(vh_txb_max_len, v);
		break;
	case K_TXB_PKTS:
		if (!v || v > VH_TXB_MAX) {
			ret = -EINVAL;
			break;
		}
		WRITE_ONCE(vh_txb_pkts, v);
		break;
	}
	if (!ret)
		ret = vh_zpol_check(&z);
	if (!ret)
		vh_zpol_default = z;
	mutex_unlock(&vh_param_lock);
	return ret ? ret : count;
}

#define VH_KNOB(_name, _knob)						\
	static struct vh_knob_attr dev_attr_##_name = {			\
		.attr = __ATTR(_name, 0644, knob_show, knob_store),	\
		.knob = _knob,						\
	}

VH_KNOB(zcopy_enable, K_ZC_ENABLE);
VH_KNOB(zcopy_min_len, K_ZC_MIN_LEN);
VH_KNOB(zcopy_max_pending, K_ZC_MAX_PENDING);
VH_KNOB(zcopy_fail_pct, K_ZC_FAIL_PCT);
VH_KNOB(zcopy_backoff_pkts, K_ZC_BACKOFF);
VH_KNOB(zcopy_stall_ms, K_ZC_STALL_MS);
VH_KNOB(tx_weight, K_TX_WEIGHT);
VH_KNOB(rx_weight, K_RX_WEIGHT);
VH_KNOB(tx_batch_max_len, K_TXB_MAX_LEN);
VH_KNOB(tx_batch_pkts, K_TXB_PKTS);

static struct attribute *vh_attrs[] = {
	&dev_attr_zcopy_enable.attr.attr,
	&dev_attr_zcopy_min_len.attr.attr,
	&dev_attr_zcopy_max_pending.attr.attr,
	&dev_attr_zcopy_fail_pct.attr.attr,
	&dev_attr_zcopy_backoff_pkts.attr.attr,
	&dev_attr_zcopy_stall_ms.attr.attr,
	&dev_attr_tx_weight.attr.attr,
	&dev_attr_rx_weight.attr.attr,
	&dev_attr_tx_batch_max_len.attr.attr,
	&dev_attr_tx_batch_pkts.attr.attr,
	NULL,
};

static const struct attribute_group vh_attr_group = {
	.attrs = vh_attrs,
};

#define VH_TOTAL(_name, _expr)						\
	static ssize_t _name##_show(struct device *dev,			\
				    struct device_attribute *attr,	\
				    char *buf)				\
	{								\
		return sysfs_emit(buf, "%lld\n", (long long)(_expr));	\
	}								\
	static DEVICE_ATTR_RO(_name)

VH_TOTAL(devices, atomic_read(&vh_totals.devices));
VH_TOTAL(tx_packets, atomic64_read(&vh_totals.tx_packets));
VH_TOTAL(tx_bytes, atomic64_read(&vh_totals.tx_bytes));
VH_TOTAL(rx_packets, atomic64_read(&vh_totals.rx_packets));
VH_TOTAL(rx_bytes, atomic64_read(&vh_totals.rx_bytes));
VH_TOTAL(dropped, atomic64_read(&vh_totals.dropped));
VH_TOTAL(zcopy_sent, atomic64_read(&vh_totals.zcopy_sent));
VH_TOTAL(zcopy_failed, atomic64_read(&vh_totals.zcopy_failed));
VH_TOTAL(notify_sent, atomic64_read(&vh_totals.notify_sent));
VH_TOTAL(errors, atomic64_read(&vh_totals.errors));
VH_TOTAL(tx_batched, atomic64_read(&vh_totals.tx_batched));
VH_TOTAL(tx_batch_sends, atomic64_read(&vh_totals.tx_batch_sends));
VH_TOTAL(log_pages, atomic64_read(&vh_totals.log_pages));
VH_TOTAL(zcopy_orphaned, atomic64_read(&vh_totals.zcopy_orphaned));

static struct attribute *vh_stats_attrs[] = {
	&dev_attr_devices.attr,
	&dev_attr_tx_packets.attr,
	&dev_attr_tx_bytes.attr,
	&dev_attr_rx_packets.attr,
	&dev_attr_rx_bytes.attr,
	&dev_attr_dropped.attr,
	&dev_attr_zcopy_sent.attr,
	&dev_attr_zcopy_failed.attr,
	&dev_attr_notify_sent.attr,
	&dev_attr_errors.attr,
	&dev_attr_tx_batched.attr,
	&dev_attr_tx_batch_sends.attr,
	&dev_attr_log_pages.attr,
	&dev_attr_zcopy_orphaned.attr,
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
