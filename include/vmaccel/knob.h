/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel - sysfs knobs and counters, one way for every module.
 *
 * A knob is a number an admin reads and writes in sysfs; a counter is a
 * number it reads.  Both are described by a &struct vmk_knob and declared
 * with VMK_DEV_KNOB()/VMK_DEV_COUNTER() on a misc device or
 * VMK_KOBJ_KNOB()/VMK_KOBJ_COUNTER() under a kobject; VMK_ATTR() names the
 * attribute for a group's list.
 *
 * Every knob parses the same way: decimal only ("010" is ten, "0x10" is
 * refused, a leading '+' allowed as kstrtou32() allows it), one trailing
 * newline allowed, and every value that does not parse or lies outside
 * [@min, @max] is -EINVAL.  A store then checks
 * %CAP_SYS_ADMIN (VMK_ADMIN: -EPERM), takes the knob's mutex if it has
 * one (VMK_KILLABLE: -EINTR on a fatal signal), runs @set (or writes the
 * variable), drops the mutex and calls @after with the result.  So an
 * errno says which check failed, in that order, and the module's own
 * checks (a whole set of parameters, a watermark pair) live in @set.
 *
 * Header only: each module gets its own static copy, and the helpers a
 * module does not use cost nothing.
 */
#ifndef _VMACCEL_KNOB_H
#define _VMACCEL_KNOB_H

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/compiler.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <linux/types.h>

/**
 * enum vmk_type - what a knob's variable is, and how it is shown
 * @VMK_U32: u32 (unsigned int), shown as unsigned.
 * @VMK_S32: int, written and shown as signed.
 * @VMK_BOOL: bool, written and shown as 0 or 1.
 * @VMK_ATOMIC: atomic_t, shown as signed.
 * @VMK_ATOMIC_LONG: atomic_long_t, shown as signed.
 * @VMK_ATOMIC64: atomic64_t, shown as signed.
 * @VMK_ULONG: unsigned long, shown as unsigned.
 * @VMK_S64: no variable: the value of &vmk_knob.get, shown as signed.
 * @VMK_U64: no variable: the value of &vmk_knob.get, shown as unsigned.
 */
enum vmk_type {
	VMK_U32,
	VMK_S32,
	VMK_BOOL,
	VMK_ATOMIC,
	VMK_ATOMIC_LONG,
	VMK_ATOMIC64,
	VMK_ULONG,
	VMK_S64,
	VMK_U64,
};

/* &vmk_knob.flags */
#define VMK_ADMIN	BIT(0)	/* a store needs CAP_SYS_ADMIN: -EPERM */
#define VMK_KILLABLE	BIT(1)	/* the store's mutex_lock is killable: -EINTR */
#define VMK_SHOW_LOCKED	BIT(2)	/* a show takes &vmk_knob.lock too (if any) */

/**
 * struct vmk_knob - one number in sysfs
 * @var: the variable, of @type; NULL when @get gives the value.
 * @u32: @var of a VMK_U32 knob, for the compiler's type check.
 * @s32: @var of a VMK_S32 knob.
 * @b: @var of a VMK_BOOL knob.
 * @atomic: @var of a VMK_ATOMIC counter.
 * @atomic_long: @var of a VMK_ATOMIC_LONG counter.
 * @atomic64: @var of a VMK_ATOMIC64 counter.
 * @ulong: @var of a VMK_ULONG counter.
 * @type: an &enum vmk_type.
 * @flags: VMK_ADMIN, VMK_KILLABLE, VMK_SHOW_LOCKED.
 * @min: smallest value a store accepts.
 * @max: largest value a store accepts.
 * @lock: optional; held around @set (or the write of @var), and around
 *	the show with VMK_SHOW_LOCKED.  The module's mutex that protects
 *	the value (and whatever @set checks it against).
 * @get: optional; the value to show, instead of reading @var.
 * @set: optional; validates @val against the rest of the module's state
 *	and commits it, instead of writing @var.  Called with @lock held.
 *	Returns 0 or a negative errno, which the write returns.
 * @after: optional; called after @lock is dropped with the result of the
 *	store (a wake-up or a kick).  Not called when a check before @set
 *	failed.
 * @arg: for @get and @set: which field, counter or entry the knob is.
 *
 * Locking: a knob without @lock is read and written with READ_ONCE() and
 * WRITE_ONCE() only; its readers must accept any value in range.
 */
struct vmk_knob {
	union {
		void *var;
		u32 *u32;
		int *s32;
		bool *b;
		atomic_t *atomic;
		atomic_long_t *atomic_long;
		atomic64_t *atomic64;
		unsigned long *ulong;
	};
	u8 type;
	u8 flags;
	s64 min;
	s64 max;
	struct mutex *lock;	/* the module's, see @lock above */
	s64 (*get)(const struct vmk_knob *k);
	int (*set)(const struct vmk_knob *k, s64 val);
	void (*after)(const struct vmk_knob *k, int ret);
	unsigned long arg;
};

/*
 * Initialisers for &struct vmk_knob: the variable, through the union member
 * of its type so that the compiler checks it, and the range.
 */
#define VMK_U32_VAR(p)		.u32 = (p), .type = VMK_U32
#define VMK_S32_VAR(p)		.s32 = (p), .type = VMK_S32
#define VMK_BOOL_VAR(p)		.b = (p), .type = VMK_BOOL
#define VMK_ATOMIC_VAR(p)	.atomic = (p), .type = VMK_ATOMIC
#define VMK_ATOMIC_LONG_VAR(p)	.atomic_long = (p), .type = VMK_ATOMIC_LONG
#define VMK_ATOMIC64_VAR(p)	.atomic64 = (p), .type = VMK_ATOMIC64
#define VMK_ULONG_VAR(p)	.ulong = (p), .type = VMK_ULONG
#define VMK_RANGE(lo, hi)	.min = (lo), .max = (hi)

/**
 * vmk_knob_value() - the current value of a knob or counter
 * @k: the knob.
 *
 * Context: process context if &vmk_knob.get may sleep (the getters of
 * this suite may); the caller holds @k->lock if the value needs it.
 * Return: the value; an unsigned type's value is the s64 of the same bits.
 */
static inline s64 vmk_knob_value(const struct vmk_knob *k)
{
	if (k->get)
		return k->get(k);
	switch (k->type) {
	case VMK_U32:
		return READ_ONCE(*k->u32);
	case VMK_S32:
		return READ_ONCE(*k->s32);
	case VMK_BOOL:
		return READ_ONCE(*k->b);
	case VMK_ATOMIC:
		return atomic_read(k->atomic);
	case VMK_ATOMIC_LONG:
		return atomic_long_read(k->atomic_long);
	case VMK_ATOMIC64:
		return atomic64_read(k->atomic64);
	case VMK_ULONG:
		return READ_ONCE(*k->ulong);
	}
	return 0;
}

/**
 * vmk_knob_write() - write a knob's variable
 * @k: a knob of type VMK_U32, VMK_S32 or VMK_BOOL with a variable.
 * @val: a value in [@k->min, @k->max].
 *
 * The store's default when the knob has no &vmk_knob.set; a @set callback
 * that only adds a check calls it to commit.
 *
 * Context: @k->lock held if the knob has one.
 * Return: 0, or -EINVAL for a knob that cannot be written.
 */
static inline int vmk_knob_write(const struct vmk_knob *k, s64 val)
{
	if (k->lock)
		lockdep_assert_held(k->lock);
	switch (k->type) {
	case VMK_U32:
		WRITE_ONCE(*k->u32, val);
		return 0;
	case VMK_S32:
		WRITE_ONCE(*k->s32, val);
		return 0;
	case VMK_BOOL:
		WRITE_ONCE(*k->b, val);
		return 0;
	}
	return -EINVAL;
}

/**
 * vmk_knob_show() - format a knob or counter for a sysfs read
 * @k: the knob.
 * @buf: the sysfs page.
 *
 * Context: process context; takes @k->lock with VMK_SHOW_LOCKED.
 * Return: the length written.
 */
static inline ssize_t vmk_knob_show(const struct vmk_knob *k, char *buf)
{
	bool locked = k->lock && (k->flags & VMK_SHOW_LOCKED);
	s64 v;

	if (locked)
		mutex_lock(k->lock);
	v = vmk_knob_value(k);
	if (locked)
		mutex_unlock(k->lock);
	switch (k->type) {
	case VMK_U32:
	case VMK_ULONG:
	case VMK_U64:
		return sysfs_emit(buf, "%llu\n", (u64)v);
	}
	return sysfs_emit(buf, "%lld\n", v);
}

/**
 * vmk_knob_parse() - parse a sysfs write for a knob
 * @k: the knob.
 * @buf: what was written.
 * @val: the value, on success.
 *
 * Decimal only, as kstrtou32()/kstrtoint() read it: an optional leading
 * '+' (and '-' for a signed knob, VMK_S32, only), one trailing newline.
 * A store is a u32 or an int: @k->min and @k->max lie within that type.
 *
 * Return: 0, or -EINVAL for anything that is not a number in
 * [@k->min, @k->max].
 */
static inline int vmk_knob_parse(const struct vmk_knob *k, const char *buf,
				 s64 *val)
{
	int s;
	u32 u;

	if (k->type == VMK_S32) {
		if (kstrtoint(buf, 10, &s))
			return -EINVAL;
		*val = s;
	} else {
		if (kstrtou32(buf, 10, &u))
			return -EINVAL;
		*val = u;
	}
	return *val < k->min || *val > k->max ? -EINVAL : 0;
}

/**
 * vmk_knob_store() - a sysfs write to a knob
 * @k: the knob.
 * @buf: what was written.
 * @count: its length.
 *
 * Parse and range (-EINVAL), then VMK_ADMIN (-EPERM), then @k->lock
 * (-EINTR with VMK_KILLABLE), then &vmk_knob.set or the variable, then
 * &vmk_knob.after with the result.
 *
 * Context: process context; may sleep.
 * Return: @count, or a negative errno.
 */
static inline ssize_t vmk_knob_store(const struct vmk_knob *k,
				     const char *buf, size_t count)
{
	s64 val;
	int ret;

	if (vmk_knob_parse(k, buf, &val))
		return -EINVAL;
	if ((k->flags & VMK_ADMIN) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (k->lock) {
		if (!(k->flags & VMK_KILLABLE))
			mutex_lock(k->lock);
		else if (mutex_lock_killable(k->lock))
			return -EINTR;
	}
	ret = k->set ? k->set(k, val) : vmk_knob_write(k, val);
	if (k->lock)
		mutex_unlock(k->lock);
	if (k->after)
		k->after(k, ret);
	return ret ? ret : count;
}

/**
 * struct vmk_dev_attr - a knob or counter of a device (a misc device's
 *	directory under /sys/class/misc/)
 * @attr: the device attribute.
 * @k: the knob.
 */
struct vmk_dev_attr {
	struct device_attribute attr;
	struct vmk_knob k;
};

/**
 * struct vmk_kobj_attr - a knob or counter under a kobject (a directory
 *	such as /sys/kernel/mm/vmaccel_ksm/)
 * @attr: the kobject attribute.
 * @k: the knob.
 */
struct vmk_kobj_attr {
	struct kobj_attribute attr;
	struct vmk_knob k;
};

/**
 * vmk_dev_show() - &device_attribute.show of a VMK_DEV_KNOB or counter
 * @dev: the device.
 * @attr: the attribute, in a &struct vmk_dev_attr.
 * @buf: the sysfs page.
 *
 * Return: the length written.
 */
static inline ssize_t vmk_dev_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return vmk_knob_show(&container_of(attr, struct vmk_dev_attr, attr)->k,
			     buf);
}

/**
 * vmk_dev_store() - &device_attribute.store of a VMK_DEV_KNOB
 * @dev: the device.
 * @attr: the attribute, in a &struct vmk_dev_attr.
 * @buf: what was written.
 * @count: its length.
 *
 * Return: @count, or a negative errno (see vmk_knob_store()).
 */
static inline ssize_t vmk_dev_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	return vmk_knob_store(&container_of(attr, struct vmk_dev_attr, attr)->k,
			      buf, count);
}

/**
 * vmk_kobj_show() - &kobj_attribute.show of a VMK_KOBJ_KNOB or counter
 * @kobj: the kobject.
 * @attr: the attribute, in a &struct vmk_kobj_attr.
 * @buf: the sysfs page.
 *
 * Return: the length written.
 */
static inline ssize_t vmk_kobj_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return vmk_knob_show(&container_of(attr, struct vmk_kobj_attr, attr)->k,
			     buf);
}

/**
 * vmk_kobj_store() - &kobj_attribute.store of a VMK_KOBJ_KNOB
 * @kobj: the kobject.
 * @attr: the attribute, in a &struct vmk_kobj_attr.
 * @buf: what was written.
 * @count: its length.
 *
 * Return: @count, or a negative errno (see vmk_knob_store()).
 */
static inline ssize_t vmk_kobj_store(struct kobject *kobj,
				     struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	return vmk_knob_store(&container_of(attr, struct vmk_kobj_attr, attr)->k,
			      buf, count);
}

/*
 * Declarations: the file @_name (mode 0644 for a knob, 0444 for a counter),
 * the rest of the arguments initialise its &struct vmk_knob.
 */
#define VMK_DEV_KNOB(_name, ...)					\
	static struct vmk_dev_attr vmk_attr_##_name = {			\
		.attr = __ATTR(_name, 0644, vmk_dev_show, vmk_dev_store), \
		.k = { __VA_ARGS__ },					\
	}
#define VMK_DEV_COUNTER(_name, ...)					\
	static struct vmk_dev_attr vmk_attr_##_name = {			\
		.attr = __ATTR(_name, 0444, vmk_dev_show, NULL),	\
		.k = { __VA_ARGS__ },					\
	}
#define VMK_KOBJ_KNOB(_name, ...)					\
	static struct vmk_kobj_attr vmk_attr_##_name = {		\
		.attr = __ATTR(_name, 0644, vmk_kobj_show, vmk_kobj_store), \
		.k = { __VA_ARGS__ },					\
	}
#define VMK_KOBJ_COUNTER(_name, ...)					\
	static struct vmk_kobj_attr vmk_attr_##_name = {		\
		.attr = __ATTR(_name, 0444, vmk_kobj_show, NULL),	\
		.k = { __VA_ARGS__ },					\
	}

/* The &struct attribute of a knob or counter declared above. */
#define VMK_ATTR(_name)		(&vmk_attr_##_name.attr.attr)

/**
 * vmk_kobj_add() - a directory of knobs under a kobject
 * @parent: the parent kobject (mm_kobj for /sys/kernel/mm/); NULL fails.
 * @name: the directory's name.
 * @groups: its attribute groups.
 *
 * Context: process context (module init).
 * Return: the new kobject, or an ERR_PTR() (-ENOENT without @parent,
 * -ENOMEM, or sysfs_create_groups()'s error).
 */
static inline struct kobject *
vmk_kobj_add(struct kobject *parent, const char *name,
	     const struct attribute_group **groups)
{
	struct kobject *kobj;
	int err;

	/* Never the sysfs root: a missing parent is an error. */
	if (!parent)
		return ERR_PTR(-ENOENT);
	kobj = kobject_create_and_add(name, parent);
	if (!kobj)
		return ERR_PTR(-ENOMEM);
	err = sysfs_create_groups(kobj, groups);
	if (err) {
		kobject_put(kobj);
		return ERR_PTR(err);
	}
	return kobj;
}

/**
 * vmk_kobj_del() - remove what vmk_kobj_add() made
 * @kobj: its kobject (an error pointer or NULL: nothing to do).
 * @groups: the same groups.
 */
static inline void vmk_kobj_del(struct kobject *kobj,
				const struct attribute_group **groups)
{
	if (IS_ERR_OR_NULL(kobj))
		return;
	sysfs_remove_groups(kobj, groups);
	kobject_put(kobj);
}

#endif /* _VMACCEL_KNOB_H */
