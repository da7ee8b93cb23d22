// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - extended attributes of vmaccelfs inodes (security.*,
 * trusted.*), kept in memory as tmpfs keeps them, so that an LSM can label
 * each libvirt domain's directory and RAM files (sVirt).
 *
 * The kernel's in-memory xattr library (simple_xattr_*) is not exported to
 * modules on any supported kernel, so this file keeps its own: a short list
 * per inode, under a spinlock, charged to the memory cgroup of the task that
 * sets an attribute (GFP_KERNEL_ACCOUNT) and bounded per inode
 * (%VK_XATTR_MAX_BYTES).  user.* and the POSIX ACL names are not supported
 * (EOPNOTSUPP).  The VFS and the LSMs do the permission checks:
 * trusted.* needs CAP_SYS_ADMIN, and without an LSM that says otherwise
 * security.* is written only with CAP_SYS_ADMIN (commoncap).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/xattr.h>

#include "ksm.h"

/*
 * What the attributes of one inode may take, counting each one's header,
 * full name and value: a file's writer cannot pin more than this (plus
 * slab rounding) per inode.  An SELinux label takes about 100 bytes, an
 * IMA signature a few hundred.
 */
#define VK_XATTR_MAX_BYTES	4096

/**
 * struct vk_xattr - one extended attribute
 * @node: in vk_inode.xattrs (vk_inode.xattr_lock).
 * @name: full name ("security.selinux"), NUL-terminated, after @value.
 * @size: bytes of @value.
 * @value: the value.
 */
struct vk_xattr {
	struct list_head node;
	const char *name;
	size_t size;
	char value[];
};

static size_t vk_xattr_cost(size_t name_len, size_t size)
{
	return sizeof(struct vk_xattr) + size + name_len + 1;
}

/* Caller holds vi->xattr_lock. */
static struct vk_xattr *vk_xattr_find(struct vk_inode *vi, const char *name)
{
	struct vk_xattr *x;

	lockdep_assert_held(&vi->xattr_lock);
	list_for_each_entry(x, &vi->xattrs, node)
		if (!strcmp(x->name, name))
			return x;
	return NULL;
}

/*
 * Set (@value != NULL) or remove (@value == NULL) the attribute @name with
 * the XATTR_CREATE / XATTR_REPLACE semantics of setxattr(2).
 */
static int vk_xattr_set(struct vk_inode *vi, const char *name,
			const void *value, size_t size, int flags)
{
	size_t len = strlen(name), cost = 0, old_cost;
	struct vk_xattr *new = NULL, *old;
	int err = 0;

	if (value) {
		cost = vk_xattr_cost(len, size);
		if (cost > VK_XATTR_MAX_BYTES)
			return -E2BIG;
		new = kmalloc(cost, GFP_KERNEL_ACCOUNT);
		if (!new)
			return -ENOMEM;
		new->size = size;
		memcpy(new->value, value, size);
		memcpy(new->value + size, name, len + 1);
		new->name = new->value + size;
	}
	spin_lock(&vi->xattr_lock);
	old = vk_xattr_find(vi, name);
	if (old && (flags & XATTR_CREATE)) {
		err = -EEXIST;
		goto out;
	}
	if (!old && (!value || (flags & XATTR_REPLACE))) {
		err = -ENODATA;
		goto out;
	}
	old_cost = old ? vk_xattr_cost(len, old->size) : 0;
	if (vi->xattr_bytes - old_cost + cost > VK_XATTR_MAX_BYTES) {
		err = -ENOSPC;
		goto out;
	}
	vi->xattr_bytes = vi->xattr_bytes - old_cost + cost;
	if (old)
		list_del(&old->node);
	if (new)
		list_add_tail(&new->node, &vi->xattrs);
	new = old;	/* freed below */
out:
	spin_unlock(&vi->xattr_lock);
	kfree(new);
	return err;
}

static int vk_xattr_get(const struct xattr_handler *handler,
			struct dentry *dentry, struct inode *inode,
			const char *name, void *buffer, size_t size)
{
	struct vk_inode *vi = VK_I(inode);
	struct vk_xattr *x;
	int ret;

	name = xattr_full_name(handler, name);
	spin_lock(&vi->xattr_lock);
	x = vk_xattr_find(vi, name);
	if (!x) {
		ret = -ENODATA;
	} else if (!buffer) {
		ret = x->size;
	} else if (size < x->size) {
		ret = -ERANGE;
	} else {
		memcpy(buffer, x->value, x->size);
		ret = x->size;
	}
	spin_unlock(&vi->xattr_lock);
	return ret;
}

static int vk_xattr_handler_set(const struct xattr_handler *handler,
				struct mnt_idmap *idmap,
				struct dentry *dentry, struct inode *inode,
				const char *name, const void *value,
				size_t size, int flags)
{
	int err;

	err = vk_xattr_set(VK_I(inode), xattr_full_name(handler, name),
			   value, size, flags);
	if (!err)
		inode_set_ctime_current(inode);
	return err;
}

static const struct xattr_handler vk_security_xattr_handler = {
	.prefix = XATTR_SECURITY_PREFIX,
	.get = vk_xattr_get,
	.set = vk_xattr_handler_set,
};

static const struct xattr_handler vk_trusted_xattr_handler = {
	.prefix = XATTR_TRUSTED_PREFIX,
	.get = vk_xattr_get,
	.set = vk_xattr_handler_set,
};

/*
 * sb->s_xattr.  Not "* const": 6.1 declares s_xattr as a pointer to
 * non-const pointers (6.12 to const ones); this array converts to both.
 */
const struct xattr_handler *vk_xattr_handlers[] = {
	&vk_security_xattr_handler,
	&vk_trusted_xattr_handler,
	NULL
};

/**
 * vk_listxattr() - the names of an inode's extended attributes
 * @dentry: the inode's dentry.
 * @buffer: where the NUL-terminated names go; NULL: only the size.
 * @size: bytes at @buffer.
 *
 * trusted.* names are listed only to a caller with %CAP_SYS_ADMIN in the
 * initial user namespace, as tmpfs does (not audited: leaving them out is
 * not a denial).
 *
 * Context: process context.
 * Return: bytes of the names, -ERANGE if @size is too small.
 */
ssize_t vk_listxattr(struct dentry *dentry, char *buffer, size_t size)
{
	struct vk_inode *vi = VK_I(d_inode(dentry));
	bool trusted = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	struct vk_xattr *x;
	ssize_t done = 0;

	spin_lock(&vi->xattr_lock);
	list_for_each_entry(x, &vi->xattrs, node) {
		size_t len = strlen(x->name) + 1;

		if (!trusted && !strncmp(x->name, XATTR_TRUSTED_PREFIX,
					 XATTR_TRUSTED_PREFIX_LEN))
			continue;
		if (buffer) {
			if (size - done < len) {
				done = -ERANGE;
				break;
			}
			memcpy(buffer + done, x->name, len);
		}
		done += len;
	}
	spin_unlock(&vi->xattr_lock);
	return done;
}

/* security_inode_init_security()'s callback: store the LSMs' labels. */
static int vk_initxattrs(struct inode *inode, const struct xattr *xattrs,
			 void *fs_info)
{
	const struct xattr *xa;
	char *name;
	int err;

	for (xa = xattrs; xa->name; xa++) {
		name = kasprintf(GFP_KERNEL, XATTR_SECURITY_PREFIX "%s",
				 xa->name);
		if (!name)
			return -ENOMEM;
		err = vk_xattr_set(VK_I(inode), name, xa->value,
				   xa->value_len, XATTR_CREATE);
		kfree(name);
		if (err)
			return err;
	}
	return 0;
}

/**
 * vk_init_security() - give a new inode the LSMs' initial labels
 * @inode: the new inode, not yet visible.
 * @dir: its directory.
 * @qstr: its name.
 *
 * Context: process context, @dir locked.
 * Return: 0 (also when no LSM labels inodes) or a negative errno.
 */
int vk_init_security(struct inode *inode, struct inode *dir,
		     const struct qstr *qstr)
{
	int err = security_inode_init_security(inode, dir, qstr,
					       vk_initxattrs, NULL);

	return err == -EOPNOTSUPP ? 0 : err;
}

/**
 * vk_xattrs_free() - free every extended attribute of an inode
 * @vi: the inode, being evicted.
 */
void vk_xattrs_free(struct vk_inode *vi)
{
	struct vk_xattr *x, *next;

	list_for_each_entry_safe(x, next, &vi->xattrs, node)
		kfree(x);
	INIT_LIST_HEAD(&vi->xattrs);
	vi->xattr_bytes = 0;
}
