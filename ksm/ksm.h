/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_ksm - declarations shared by the files of the module.
 *
 * Lock order (outermost first):
 *   vk_scan_mutex -> vk_inode.lock -> page lock -> vk_stable_lock
 *   vk_scan_mutex -> vk_stats_mutex -> vk_inode.lock (counters)
 *   mmap_lock -> vk_inode.lock (faults)
 *   page lock -> vk_inode.lock only with mutex_trylock() (migrate.c)
 * unmap_mapping_range() (i_mmap_rwsem) is never called with vk_inode.lock
 * held.
 */
#ifndef _VMACCEL_KSM_INTERNAL_H
#define _VMACCEL_KSM_INTERNAL_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/memcontrol.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/vmaccel_ksm.h>

/**
 * struct vk_sb - per-superblock data of a vmaccelfs mount
 * @max_pages: size limit in pages (0: none).
 * @used_pages: file pages allocated on this mount (merged pages counted once
 *	per file page that uses them: the limit is on what the files hold).
 * @group: merge group of new files outside the group directories.
 * @dirgroups: 0, or the depth below the root of the group directories: each
 *	directory at that depth gets a group of its own, which every file and
 *	directory below it gets too.  Fixed at mount.
 * @mode: mode of the root directory.
 *
 * @max_pages and @group change on remount (under s_umount) and are read
 * without it: READ_ONCE()/WRITE_ONCE().
 */
struct vk_sb {
	unsigned long max_pages;
	atomic_long_t used_pages;
	u32 group;
	unsigned int dirgroups;
	umode_t mode;
};

/**
 * struct vk_inode - a vmaccelfs inode
 * @lock: protects @pages (stores and the page each index holds), @group,
 *	@cow_breaks updates and the merge decision of the scanner.
 * @pages: file page index -> struct page.  Each entry holds one page
 *	reference.  A private page is owned by its index (page_private() is
 *	this inode | %VK_OWNED, page->index its index: migrate.c); a merged
 *	page (page_private() is its struct vk_spage) may sit at many indices
 *	of many files.
 * @mergeable: maple tree of the ranges the scanner may merge (entry
 *	%VK_MERGEABLE), internally locked.
 * @items: file page index -> struct vk_item, the scanner's per-page state.
 *	Only touched under vk_scan_mutex.
 * @link: in vk_inodes (vk_scan_mutex), regular files only.
 * @group: merge group.  Set at creation (the mount's group, the group of
 *	its group directory, or a group of its own); only a %CAP_SYS_ADMIN
 *	caller changes it (%VMACCEL_KSM_SET_GROUP).
 * @depth: directory depth below the root (0: the root; files: their
 *	parent's + 1).
 * @auto_id: the number (from vk_group_ida) of the group this inode owns: a
 *	group directory's, or a %VMACCEL_KSM_CREATE file's own; -1: none.
 * @group_dir: the group directory whose group this inode was created in,
 *	with a reference that keeps its group number from being reused while
 *	this inode lives; NULL: none.
 * @nr_pages: entries in @pages (@lock).
 * @cow_breaks: copy-on-write breaks of merged pages of this file.
 * @memcg: the file's owner, the memory cgroup its pages are charged to
 *	when a writer of the file makes them be allocated (see
 *	vk_alloc_page()): that of the task that created the file, with a
 *	reference dropped at eviction; NULL (each allocating task pays) for
 *	the root cgroup, a %VMACCEL_KSM_CREATE file with a named group, or
 *	without memcg.  Set before the inode is visible, never changed.
 * @xattr_lock: protects @xattrs and @xattr_bytes.
 * @xattrs: the extended attributes (struct vk_xattr, xattr.c).
 * @xattr_bytes: what @xattrs take, bounded per inode (xattr.c).
 * @vfs_inode: the VFS inode.
 */
struct vk_inode {
	struct mutex lock;	/* see above */
	struct xarray pages;
	struct maple_tree mergeable;
	struct xarray items;
	struct list_head link;
	u32 group;
	unsigned int depth;
	int auto_id;
	struct inode *group_dir;
	unsigned long nr_pages;
	u64 cow_breaks;
	struct mem_cgroup *memcg;
	spinlock_t xattr_lock;	/* see above */
	struct list_head xattrs;
	size_t xattr_bytes;
	struct inode vfs_inode;
};

#define VK_MERGEABLE	xa_mk_value(1)

/* Tag of page->private of a private (not merged) file page: migrate.c. */
#define VK_OWNED	1UL

/*
 * Whether private file pages are movable (migrate.c): where compaction can
 * move them, but not on a kernel with CMA, where a long-term pin
 * (FOLL_LONGTERM) of a page in a CMA block would have GUP try to move it,
 * which GUP does only for LRU pages, and retry for ever.  They are
 * allocated with GFP_USER, never from ZONE_MOVABLE, for the same reason.
 */
#define VK_MOVABLE	(IS_ENABLED(CONFIG_COMPACTION) && !IS_ENABLED(CONFIG_CMA))

static inline struct vk_inode *VK_I(struct inode *inode)
{
	return container_of(inode, struct vk_inode, vfs_inode);
}

/**
 * struct vk_item - the scanner's state of one file page
 * @vi: the file.
 * @index: the page index in the file.
 * @csum: xxh64 of the page content when last scanned.
 * @node: in the unstable tree when @seq is the current pass.
 * @seq: pass number in which @node was inserted (0: never).
 * @group: the key group the item was inserted under.
 */
struct vk_item {
	struct vk_inode *vi;
	pgoff_t index;
	u64 csum;
	u32 group;
	struct rb_node node;
	unsigned long seq;
};

/**
 * struct vk_stable_key - a content in the stable tree
 * @node: in the stable tree (stable_root, scan.c), ordered by (group,
 *	csum, content).
 * @group: merge group (0 for all when merging across groups).
 * @csum: xxh64 of the content.
 * @zero: the content is all zeroes.
 * @pages: the struct vk_spage of this content; more than one when
 *	max_page_sharing is reached.
 *
 * Protected by vk_stable_lock.
 */
struct vk_stable_key {
	struct rb_node node;
	u32 group;
	u64 csum;
	bool zero;
	struct list_head pages;
};

/**
 * struct vk_spage - a merged (stable, write-protected) page
 * @page: the page; page_private(@page) points back here.  Holds one
 *	reference of its own.
 * @key: its content key.
 * @sharing: file page indices that use @page (each holds a reference).
 * @link: in @key->pages.
 * @stats_seq: the vk_file_stats() call that last counted this page
 *	(vk_stats_mutex, not vk_stable_lock).
 *
 * Protected by vk_stable_lock, but for @stats_seq.
 */
struct vk_spage {
	struct page *page;
	struct vk_stable_key *key;
	unsigned long sharing;
	struct list_head link;
	u64 stats_seq;
};

/* Run states, as in /sys/kernel/mm/ksm/run. */
#define KSM_RUN_STOP	0
#define KSM_RUN_MERGE	1
#define KSM_RUN_UNMERGE	2

/* Knobs (sysfs). */
extern unsigned int vk_run;
extern unsigned int vk_pages_to_scan;
extern unsigned int vk_sleep_millisecs;
extern unsigned int vk_max_page_sharing;
extern bool vk_use_zero_pages;
extern bool vk_merge_across_groups;

/* Counters. */
extern atomic_long_t vk_pages_shared;		/* live struct vk_spage */
extern atomic_long_t vk_sharing_total;	/* sum of vk_spage.sharing */
extern atomic_long_t vk_zero_sharing;		/* file pages on zero pages */
extern atomic_long_t vk_nr_items;
extern unsigned long vk_pages_unshared;	/* vk_scan_mutex */
extern unsigned long vk_full_scans;		/* vk_scan_mutex */
extern atomic_long_t vk_pages_scanned;
extern atomic_long_t vk_cow_breaks;
extern atomic_long_t vk_pages_pinned;
extern atomic_long_t vk_pages_migrated;
extern atomic_t vk_isolated_faults;

extern struct mutex vk_scan_mutex;
extern spinlock_t vk_stable_lock;

/* fs.c */
extern const struct file_operations vk_file_ops;
int vk_fs_init(void);
void vk_fs_exit(void);
struct file *vk_create_file(u64 size, bool has_group, u32 group);
bool vk_is_file(struct file *file);
void vk_unmap_index(struct vk_inode *vi, pgoff_t index);
int vk_break_range(struct vk_inode *vi, pgoff_t start, pgoff_t end);

/* xattr.c */
extern const struct xattr_handler *vk_xattr_handlers[];
ssize_t vk_listxattr(struct dentry *dentry, char *buffer, size_t size);
int vk_init_security(struct inode *inode, struct inode *dir,
		     const struct qstr *qstr);
void vk_xattrs_free(struct vk_inode *vi);

/* scan.c */
int vk_scan_init(void);
void vk_scan_exit(void);
void vk_scan_wake(void);
void vk_inode_add(struct vk_inode *vi);
void vk_inode_remove(struct vk_inode *vi);
int vk_scan_passes(unsigned int passes, u64 *merged, u64 *scanned);
int vk_unmerge_all(void);
int vk_set_group(struct vk_inode *vi, u32 group);
int vk_set_mergeable(struct vk_inode *vi, pgoff_t start, pgoff_t last,
		     bool on);
void vk_files_show(struct seq_file *m);
pid_t vk_scan_pid(void);
bool vk_page_merged(struct page *page);
struct vk_spage *vk_page_spage(struct page *page);
bool vk_page_zero(struct page *page);
void vk_release_slot(struct page *page);

/* migrate.c */
extern const struct movable_operations vk_movable_ops;
struct vk_inode *vk_page_owner(struct page *page);
void vk_page_own(struct page *page, struct vk_inode *vi, pgoff_t index);
void vk_page_disown(struct page *page);
void vk_page_writing(struct page *page);
void vk_page_rearm(struct page *page);
void vk_rearm_flush(void);
void vk_migrate_exit(void);

/* ioctl.c */
long vk_file_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
long vk_scan_ioctl(void __user *argp);

/* sysfs.c */
int vk_sysfs_init(void);
void vk_sysfs_exit(void);

/* debugfs.c, ioctl.c */
void vk_debugfs_init(void);
void vk_debugfs_exit(void);
int vk_file_stats(struct vk_inode *vi, struct vmaccel_ksm_file_stats *st);

#endif /* _VMACCEL_KSM_INTERNAL_H */
