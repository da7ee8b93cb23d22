// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_ksm - vmaccelfs: a filesystem whose regular files are guest RAM.
 *
 * The module owns the pages of a file: vk_inode.pages maps a page index to a
 * struct page (not the page cache: a merged page backs many indices of many
 * files).  Files are mapped with MAP_SHARED only; ->fault hands out the page
 * of an index, ->page_mkwrite gives a merged page's index a private copy
 * (copy-on-write break) and asks for a retry.  Pages are allocated with
 * __GFP_ACCOUNT and, when a writer of the file causes the allocation (a
 * fault through a writable file, write(), a copy-on-write break, the
 * unmerge of run=2), charged to the memory cgroup of the file's creator,
 * the VMM of the guest whose RAM it is (vk_alloc_page()).
 * Directory operations come from libfs.  security.* and trusted.*
 * extended attributes live in memory (xattr.c), so that an LSM can label
 * each domain's files.
 *
 * Merge groups are chosen by the admin, never by whoever writes a file: the
 * mount's group=, one group per directory at depth dirgroups= (one per
 * libvirt domain), or a group of its own for a %VMACCEL_KSM_CREATE file;
 * only %CAP_SYS_ADMIN moves a file to another group (ioctl.c).  Renames and
 * links never carry a file into another group directory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/uio.h>

#include "ksm.h"
#include "trace.h"

/* Movable pages (migrate.c) come from movable pageblocks. */
#define VK_GFP		(GFP_USER | __GFP_ACCOUNT | \
			 (VK_MOVABLE ? __GFP_MOVABLE : 0))
#define VK_DEFAULT_MODE	0755
/* Deepest dirgroups= accepted. */
#define VK_DIRGROUPS_MAX 16

static struct kmem_cache *vk_inode_cache;
static struct vfsmount *vk_mnt;
static const struct inode_operations vk_file_iops;
static const struct inode_operations vk_dir_iops;
static const struct vm_operations_struct vk_vm_ops;
/* Numbers of the kernel-allocated groups (VMACCEL_KSM_GROUP_AUTO | n). */
static DEFINE_IDA(vk_group_ida);

static struct vk_sb *VK_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static pgoff_t vk_size_pages(struct inode *inode)
{
	return DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE);
}

/**
 * vk_unmap_index() - remove every user mapping of one file page
 * @vi: the file.
 * @index: the page index.
 *
 * Context: process context; vi->lock must not be held.
 */
void vk_unmap_index(struct vk_inode *vi, pgoff_t index)
{
	unmap_mapping_range(vi->vfs_inode.i_mapping, (loff_t)index << PAGE_SHIFT,
			    PAGE_SIZE, 0);
}

/*
 * The memory cgroup of the current task's mm, with a reference: a file's
 * owner when the task creates it, the payer when a kernel thread in a
 * VMM's mm pays for itself.
 * NULL for the root cgroup, which is never charged and whose
 * set_active_memcg() would turn the task's charge off.
 */
static struct mem_cgroup *vk_mm_memcg(void)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(current->mm);

	if (memcg && !memcg->css.parent) {
		mem_cgroup_put(memcg);
		memcg = NULL;
	}
	return memcg;
#else
	return NULL;
#endif
}

/* Whether the current task is in @memcg or below it. */
static bool vk_current_in(struct mem_cgroup *memcg)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *cur;
	bool in;

	rcu_read_lock();
	cur = mem_cgroup_from_task(current);
	in = cur && mem_cgroup_is_descendant(cur, memcg);
	rcu_read_unlock();
	return in;
#else
	return true;
#endif
}

/*
 * A page for @vi.  On behalf of a writer of the file (@owner_pays) it is
 * charged to the file's owner (vi->memcg), whoever the current task is:
 * another VMM, a helper, an admin writing run=2.  A task outside the
 * owner's cgroup must not set off that cgroup's OOM killer (which cannot
 * pick it, and would kill the owner's tasks to no avail): its allocation
 * may fail instead (__GFP_RETRY_MAYFAIL), and then gets -EDQUOT.  A
 * reader's page (a read fault through a read-only file), a file without
 * an owner and an owner whose cgroup is gone: the current task pays (the
 * kernel's own charge); a kernel thread working in a VMM's mm (6.1's
 * vhost worker), which that charge skips, pays through the cgroup of the
 * mm.  Returns the page or an ERR_PTR().
 */
static struct page *vk_alloc_page(struct vk_inode *vi, bool owner_pays)
{
	struct mem_cgroup *memcg = owner_pays ? vi->memcg : NULL;
	struct mem_cgroup *task = NULL, *old;
	gfp_t gfp = VK_GFP;
	bool foreign = false;
	struct page *page;

	if (memcg && !mem_cgroup_online(memcg))
		memcg = NULL;
	if (!memcg) {
		if (current->flags & PF_KTHREAD) {
			task = vk_mm_memcg();
			memcg = task;
		}
	} else if (!vk_current_in(memcg)) {
		foreign = true;
		gfp |= __GFP_RETRY_MAYFAIL;
	}
	old = set_active_memcg(memcg);
	page = alloc_page(gfp);
	set_active_memcg(old);
	mem_cgroup_put(task);
	if (!page)
		return ERR_PTR(foreign ? -EDQUOT : -ENOMEM);
	return page;
}

/* Free a page vk_page_own() gave an index it did not get. */
static void vk_page_drop_new(struct page *page)
{
	lock_page(page);
	vk_page_disown(page);
	unlock_page(page);
	put_page(page);
}

/*
 * A new zeroed page at @index, which must be empty; charged as
 * vk_alloc_page() says.
 */
static int vk_add_page(struct vk_inode *vi, pgoff_t index, bool owner_pays,
		       struct page **pagep)
{
	struct vk_sb *sbi = VK_SB(vi->vfs_inode.i_sb);
	unsigned long max_pages = READ_ONCE(sbi->max_pages);
	struct page *page;
	int err;

	lockdep_assert_held(&vi->lock);
	if (atomic_long_inc_return(&sbi->used_pages) > max_pages && max_pages) {
		atomic_long_dec(&sbi->used_pages);
		return -ENOSPC;
	}
	page = vk_alloc_page(vi, owner_pays);
	if (IS_ERR(page)) {
		atomic_long_dec(&sbi->used_pages);
		return PTR_ERR(page);
	}
	clear_highpage(page);
	vk_page_own(page, vi, index);
	err = xa_err(xa_store(&vi->pages, index, page, GFP_KERNEL));
	if (err) {
		vk_page_drop_new(page);
		atomic_long_dec(&sbi->used_pages);
		return err;
	}
	vi->nr_pages++;
	/* st_blocks: what the file holds (vmaccel_balloon accounts by it). */
	inode_add_bytes(&vi->vfs_inode, PAGE_SIZE);
	*pagep = page;
	return 0;
}

/*
 * Give @index, which holds the merged page @old, a private copy.  The slot's
 * reference on @old is dropped; the caller unmaps @index afterwards.  A
 * page with a memory error is not copied (-EHWPOISON): the copy reads it
 * with machine-check recovery, and one known bad is not read at all.
 */
static int vk_cow(struct vk_inode *vi, pgoff_t index, struct page *old,
		  bool count, struct page **newp)
{
	struct page *page;
	int err;

	lockdep_assert_held(&vi->lock);
	if (PageHWPoison(old))
		return -EHWPOISON;
	/* Only a writer of the file breaks copy-on-write: its owner pays. */
	page = vk_alloc_page(vi, true);
	if (IS_ERR(page))
		return PTR_ERR(page);
	if (copy_mc_user_highpage(page, old, 0, NULL)) {
		/*
		 * A machine check the copy survived: have the page marked
		 * (6.1's copy does not queue it, 6.12's does; a second report
		 * is harmless), so that nothing reads it again.
		 */
		memory_failure_queue(page_to_pfn(old), 0);
		put_page(page);
		return -EHWPOISON;
	}
	vk_page_own(page, vi, index);
	/* Wait for a fault that mapped @old and still holds its lock. */
	lock_page(old);
	err = xa_err(xa_store(&vi->pages, index, page, GFP_KERNEL));
	unlock_page(old);
	if (err) {
		vk_page_drop_new(page);
		return err;
	}
	if (count) {
		vi->cow_breaks++;
		atomic_long_inc(&vk_cow_breaks);
	}
	trace_vk_cow_break(vi->vfs_inode.i_ino, index, count);
	vk_release_slot(old);
	if (newp)
		*newp = page;
	return 0;
}

/*
 * The private page at @index with a reference for the caller: allocated if
 * the index is empty and @create, copied if it holds a merged page.
 * *pagep is NULL for an empty index without @create.  -EIO for a page with
 * a memory error, as shmem says.
 */
static int vk_get_private(struct vk_inode *vi, pgoff_t index, bool create,
			  struct page **pagep)
{
	struct page *page;
	bool cowed = false;
	int err = 0;

	mutex_lock(&vi->lock);
	page = xa_load(&vi->pages, index);
	if (!page) {
		if (create)
			err = vk_add_page(vi, index, true, &page);
	} else if (PageHWPoison(page)) {
		err = -EIO;
	} else if (vk_page_merged(page)) {
		err = vk_cow(vi, index, page, true, &page);
		cowed = !err;
		if (err == -EHWPOISON)
			err = -EIO;
	}
	if (!err && page)
		get_page(page);
	mutex_unlock(&vi->lock);
	if (cowed)
		vk_unmap_index(vi, index);
	*pagep = err ? NULL : page;
	return err;
}

/**
 * vk_break_range() - give every merged page of a range a private copy
 * @vi: the file.
 * @start: first page index.
 * @end: last page index + 1.
 *
 * A merged page with a memory error stays merged: it cannot be copied,
 * and its users get the error when they touch it.  The rest of the range
 * is done; -EHWPOISON then says that such a page is left.
 *
 * Context: process context, may sleep; vi->lock not held.
 * Return: 0, -ENOMEM, -EINTR on a fatal signal, or -EHWPOISON.
 */
int vk_break_range(struct vk_inode *vi, pgoff_t start, pgoff_t end)
{
	unsigned long index = start;
	bool poisoned = false;
	struct page *page;
	int err = 0;

	while (index < end) {
		bool cowed = false;

		if (fatal_signal_pending(current))
			return -EINTR;
		mutex_lock(&vi->lock);
		page = xa_find(&vi->pages, &index, end - 1, XA_PRESENT);
		if (!page) {
			mutex_unlock(&vi->lock);
			break;
		}
		if (vk_page_merged(page)) {
			err = vk_cow(vi, index, page, false, NULL);
			cowed = !err;
			if (err == -EHWPOISON) {
				poisoned = true;
				err = 0;
			}
		}
		mutex_unlock(&vi->lock);
		if (err)
			return err;
		if (cowed)
			vk_unmap_index(vi, index);
		if (index == ULONG_MAX)
			break;
		index++;
		cond_resched();
	}
	return poisoned ? -EHWPOISON : 0;
}

/*
 * Free the pages of [start, end).  The caller unmapped the range first; a
 * fault that got a page before it left the file holds the page lock until
 * the page is mapped, so waiting for the lock and unmapping again removes
 * every mapping.
 */
#define VK_BATCH 16
static void vk_remove_range(struct vk_inode *vi, pgoff_t start, pgoff_t end)
{
	struct vk_sb *sbi = VK_SB(vi->vfs_inode.i_sb);
	struct page *batch[VK_BATCH];
	unsigned long index;
	struct page *page;
	unsigned int n, i;
	bool any = false;

	if (start >= end)
		return;
	do {
		n = 0;
		mutex_lock(&vi->lock);
		xa_for_each_range(&vi->pages, index, page, start, end - 1) {
			xa_erase(&vi->pages, index);
			batch[n++] = page;
			if (n == VK_BATCH)
				break;
		}
		vi->nr_pages -= n;
		inode_sub_bytes(&vi->vfs_inode, (loff_t)n << PAGE_SHIFT);
		mutex_unlock(&vi->lock);
		atomic_long_sub(n, &sbi->used_pages);
		for (i = 0; i < n; i++) {
			lock_page(batch[i]);
			unlock_page(batch[i]);
			vk_release_slot(batch[i]);
		}
		any |= n > 0;
		cond_resched();
	} while (n == VK_BATCH);
	if (any && mapping_mapped(vi->vfs_inode.i_mapping))
		unmap_mapping_range(vi->vfs_inode.i_mapping,
				    (loff_t)start << PAGE_SHIFT,
				    end == ULONG_MAX ? 0 :
				    (loff_t)(end - start) << PAGE_SHIFT, 0);
}

/* Zero [pos, pos + len) inside one page, if the page exists. */
static int vk_zero_partial(struct vk_inode *vi, loff_t pos, unsigned int len)
{
	struct page *page;
	int err;

	if (!len)
		return 0;
	err = vk_get_private(vi, pos >> PAGE_SHIFT, false, &page);
	/* As shmem: a page with a memory error is left, not zeroed. */
	if (err == -EIO)
		return 0;
	if (err || !page)
		return err;
	zero_user(page, offset_in_page(pos), len);
	put_page(page);
	return 0;
}

/*
 * Lock @page, which the caller holds a reference to, under vi->lock: 0 if
 * locked with vi->lock still held.  A page locked elsewhere may stay so
 * for a whole migration batch; then vi->lock is dropped (so that faults
 * on the file's other pages, and migrations of them, go on), the page
 * waited for, the reference dropped, and -EAGAIN says to start over;
 * -EINTR if a fatal signal came meanwhile.
 */
static int vk_lock_page_or_wait(struct vk_inode *vi, struct page *page)
{
	int err;

	lockdep_assert_held(&vi->lock);
	if (trylock_page(page))
		return 0;
	mutex_unlock(&vi->lock);
	err = folio_wait_locked_killable(page_folio(page));
	put_page(page);
	return err ?: -EAGAIN;
}

static vm_fault_t vk_fault(struct vm_fault *vmf)
{
	struct vk_inode *vi = VK_I(file_inode(vmf->vma->vm_file));
	struct page *page;
	int err;

again:
	err = 0;
	mutex_lock(&vi->lock);
	if (vmf->pgoff >= vk_size_pages(&vi->vfs_inode)) {
		mutex_unlock(&vi->lock);
		return VM_FAULT_SIGBUS;
	}
	page = xa_load(&vi->pages, vmf->pgoff);
	if (!page)
		err = vk_add_page(vi, vmf->pgoff,
				  !!(vmf->vma->vm_file->f_mode & FMODE_WRITE),
				  &page);
	if (err) {
		mutex_unlock(&vi->lock);
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	}
	get_page(page);
	err = vk_lock_page_or_wait(vi, page);
	if (err == -EAGAIN)
		goto again;
	/* Killed: no page; the task dies on its way out of the fault. */
	if (err)
		return VM_FAULT_NOPAGE;
	mutex_unlock(&vi->lock);
	/*
	 * Not mapped again after a memory error (SIGBUS BUS_MCEERR_AR): the
	 * core would try to unmap a marked page from a mapping it does not
	 * have.  Checked under the page lock, right before the core checks:
	 * memory_failure() marks without that lock, so a mark that lands
	 * in between still reaches the core (a window of a few
	 * instructions; closing it needs page->mapping, see the admin guide).
	 */
	if (PageHWPoison(page)) {
		unlock_page(page);
		put_page(page);
		return VM_FAULT_HWPOISON;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

static vm_fault_t vk_page_mkwrite(struct vm_fault *vmf)
{
	struct vk_inode *vi = VK_I(file_inode(vmf->vma->vm_file));
	struct page *page = vmf->page;
	int err;

	file_update_time(vmf->vma->vm_file);
	mutex_lock(&vi->lock);
	if (vmf->pgoff >= vk_size_pages(&vi->vfs_inode)) {
		mutex_unlock(&vi->lock);
		return VM_FAULT_SIGBUS;
	}
	if (xa_load(&vi->pages, vmf->pgoff) != page) {
		/* A stale mapping: the index got another page meanwhile. */
		mutex_unlock(&vi->lock);
		vk_unmap_index(vi, vmf->pgoff);
		return VM_FAULT_NOPAGE;
	}
	if (PageHWPoison(page)) {
		mutex_unlock(&vi->lock);
		return VM_FAULT_HWPOISON;
	}
	if (!vk_page_merged(page)) {
		/* The fault holds a reference; the helper drops its own. */
		get_page(page);
		if (vk_lock_page_or_wait(vi, page))
			return VM_FAULT_NOPAGE;
		put_page(page);
		mutex_unlock(&vi->lock);
		/*
		 * Being migrated: taking its movable operations away now would
		 * make the migration core report it moved without moving it
		 * (and soft offline then mark it bad).  Let the migration end,
		 * then fault again.  Not by sleeping here: the fault holds a
		 * reference to the page, and ->migrate_page() gives up on a
		 * page referenced by anyone but the migration.
		 */
		if (PageIsolated(page)) {
			unlock_page(page);
			atomic_inc(&vk_isolated_faults);
			cond_resched();
			return VM_FAULT_NOPAGE;
		}
		vk_page_writing(page);
		return VM_FAULT_LOCKED;
	}
	/* Copy-on-write break; the retried fault maps the private copy. */
	err = vk_cow(vi, vmf->pgoff, page, true, NULL);
	mutex_unlock(&vi->lock);
	if (err == -EHWPOISON)
		return VM_FAULT_HWPOISON;
	if (err)
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	vk_unmap_index(vi, vmf->pgoff);
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct vk_vm_ops = {
	.fault = vk_fault,
	.page_mkwrite = vk_page_mkwrite,
};

static int vk_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* One page backs many indices: private (COW) mappings are refused. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	file_accessed(file);
	/* No mremap growth, no mlock pagevecs, no khugepaged. */
	vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_ops = &vk_vm_ops;
	return 0;
}

static ssize_t vk_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct vk_inode *vi = VK_I(inode);
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;

	while (iov_iter_count(to)) {
		loff_t size = i_size_read(inode);
		size_t off = offset_in_page(pos), n, copied;
		struct page *page;

		if (pos >= size)
			break;
		n = min_t(loff_t, min_t(size_t, PAGE_SIZE - off,
					iov_iter_count(to)), size - pos);
		mutex_lock(&vi->lock);
		page = xa_load(&vi->pages, pos >> PAGE_SHIFT);
		if (page)
			get_page(page);
		mutex_unlock(&vi->lock);
		if (page && PageHWPoison(page)) {
			/* As shmem: a memory error reads as -EIO. */
			put_page(page);
			if (!done)
				done = -EIO;
			break;
		}
		if (page) {
			copied = copy_page_to_iter(page, off, n, to);
			put_page(page);
		} else {
			copied = iov_iter_zero(n, to);
		}
		pos += copied;
		done += copied;
		if (copied < n) {
			if (!done)
				done = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	iocb->ki_pos = pos;
	file_accessed(iocb->ki_filp);
	return done;
}

static ssize_t vk_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct vk_inode *vi = VK_I(inode);
	ssize_t ret, done = 0;
	loff_t pos;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	ret = file_modified(file);
	if (ret)
		goto out;
	pos = iocb->ki_pos;
	while (iov_iter_count(from)) {
		size_t off = offset_in_page(pos), copied;
		size_t n = min_t(size_t, PAGE_SIZE - off, iov_iter_count(from));
		struct page *page;

		ret = vk_get_private(vi, pos >> PAGE_SHIFT, true, &page);
		if (ret)
			break;
		copied = copy_page_from_iter(page, off, n, from);
		put_page(page);
		pos += copied;
		done += copied;
		if (pos > i_size_read(inode))
			i_size_write(inode, pos);
		if (copied < n) {
			ret = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	iocb->ki_pos = pos;
	if (done)
		ret = done;
out:
	inode_unlock(inode);
	return ret;
}

static long vk_fallocate(struct file *file, int mode, loff_t offset,
			 loff_t len)
{
	struct inode *inode = file_inode(file);
	struct vk_inode *vi = VK_I(inode);
	loff_t end = offset + len;
	long err = 0;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	inode_lock(inode);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		loff_t first = round_up(offset, PAGE_SIZE);
		loff_t last = round_down(end, PAGE_SIZE);

		if (first > last) {	/* inside one page */
			err = vk_zero_partial(vi, offset, len);
			goto out;
		}
		err = vk_zero_partial(vi, offset, first - offset);
		if (!err)
			err = vk_zero_partial(vi, last, end - last);
		if (err)
			goto out;
		if (first < last) {
			unmap_mapping_range(inode->i_mapping, first,
					    last - first, 0);
			vk_remove_range(vi, first >> PAGE_SHIFT,
					last >> PAGE_SHIFT);
		}
		inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
		goto out;
	}
	/* Mode 0 / KEEP_SIZE: allocate every page of the range. */
	err = inode_newsize_ok(inode, end);
	if (err)
		goto out;
	for (pgoff_t i = offset >> PAGE_SHIFT; i < DIV_ROUND_UP(end, PAGE_SIZE); i++) {
		struct page *page;

		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		mutex_lock(&vi->lock);
		if (!xa_load(&vi->pages, i))
			err = vk_add_page(vi, i, true, &page);
		mutex_unlock(&vi->lock);
		if (err)
			break;
		cond_resched();
	}
	if (!err && !(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode)) {
		i_size_write(inode, end);
		inode_set_ctime_current(inode);
	}
out:
	inode_unlock(inode);
	return err;
}

static int vk_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		      struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct vk_inode *vi = VK_I(inode);
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	if ((attr->ia_valid & ATTR_SIZE) && attr->ia_size != inode->i_size) {
		loff_t oldsize = inode->i_size, newsize = attr->ia_size;

		i_size_write(inode, newsize);
		if (newsize < oldsize) {
			loff_t hole = round_up(newsize, PAGE_SIZE);

			unmap_mapping_range(inode->i_mapping, hole, 0, 1);
			/* Zero the tail of the last page for a later extension. */
			err = vk_zero_partial(vi, newsize, hole - newsize);
			vk_remove_range(vi, hole >> PAGE_SHIFT, ULONG_MAX);
			if (err)
				return err;
		}
		inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
	}
	setattr_copy(idmap, inode, attr);
	return 0;
}

const struct file_operations vk_file_ops = {
	.owner = THIS_MODULE,
	.mmap = vk_mmap,
	.read_iter = vk_read_iter,
	.write_iter = vk_write_iter,
	.fallocate = vk_fallocate,
	.llseek = generic_file_llseek,
	.fsync = noop_fsync,
	.unlocked_ioctl = vk_file_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * vk_is_file() - whether a file is a vmaccelfs regular file
 * @file: the file.
 *
 * Return: true for a vmaccelfs regular file.
 */
bool vk_is_file(struct file *file)
{
	return file->f_op == &vk_file_ops;
}

/*
 * simple_getattr() counts page-cache pages as st_blocks; a vmaccelfs file
 * keeps its pages in its own index and counts them in i_blocks.
 */
static int vk_getattr(struct mnt_idmap *idmap,
		      const struct path *path, struct kstat *stat,
		      u32 request_mask, unsigned int query_flags)
{
	generic_fillattr(&nop_mnt_idmap, request_mask, d_inode(path->dentry),
			 stat);
	return 0;
}

static const struct inode_operations vk_file_iops = {
	.setattr = vk_setattr,
	.getattr = vk_getattr,
	.listxattr = vk_listxattr,
};

/* A new group number of the kernel's range, or a negative errno. */
static int vk_alloc_group(struct vk_inode *vi)
{
	int id = ida_alloc_max(&vk_group_ida, INT_MAX, GFP_KERNEL);

	if (id < 0)
		return id;
	vi->auto_id = id;
	vi->group = VMACCEL_KSM_GROUP_AUTO | id;
	return 0;
}

/*
 * The group of a new inode in @dir (NULL: the root).  Above the group
 * directories (or without dirgroups=) it is the mount's group=; a directory
 * at depth dirgroups= gets a new group; below one, everything is in its
 * group and holds a reference to it, so that its number is not reused while
 * a file of the group lives (even unlinked, or moved by a link).
 */
static int vk_init_group(struct vk_inode *vi, struct inode *dir, bool is_dir)
{
	struct vk_sb *sbi = VK_SB(vi->vfs_inode.i_sb);
	struct vk_inode *pd;

	vi->group = READ_ONCE(sbi->group);
	if (!dir)
		return 0;
	pd = VK_I(dir);
	vi->depth = pd->depth + 1;
	if (!sbi->dirgroups || pd->depth < sbi->dirgroups) {
		if (is_dir && vi->depth == sbi->dirgroups)
			return vk_alloc_group(vi);
		return 0;
	}
	vi->group = pd->group;
	vi->group_dir = pd->group_dir ? pd->group_dir : dir;
	ihold(vi->group_dir);
	return 0;
}

/*
 * A new inode; a regular file gets the current task's memory cgroup as its
 * owner if @owned (see vk_alloc_page()).
 */
static struct inode *vk_get_inode(struct super_block *sb, struct inode *dir,
				  umode_t mode, bool owned)
{
	struct inode *inode = new_inode(sb);
	struct vk_inode *vi;

	if (!inode)
		return NULL;
	vi = VK_I(inode);
	if (vk_init_group(vi, dir, S_ISDIR(mode))) {
		iput(inode);
		return NULL;
	}
	inode->i_ino = get_next_ino();
	inode_init_owner(&nop_mnt_idmap, inode, dir, mode);
	simple_inode_init_ts(inode);
	if (S_ISDIR(mode)) {
		inode->i_op = &vk_dir_iops;
		inode->i_fop = &simple_dir_operations;
		inc_nlink(inode);
	} else {
		inode->i_op = &vk_file_iops;
		inode->i_fop = &vk_file_ops;
		if (mtree_store_range(&vi->mergeable, 0, ULONG_MAX,
				      VK_MERGEABLE, GFP_KERNEL)) {
			iput(inode);
			return NULL;
		}
		/* Guest RAM is the creator's: its cgroup pays for it. */
		if (owned)
			vi->memcg = vk_mm_memcg();
		vk_inode_add(vi);
	}
	return inode;
}

static int vk_mknod(struct inode *dir, struct dentry *dentry, umode_t mode)
{
	struct inode *inode;
	int err;

	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return -EINVAL;
	inode = vk_get_inode(dir->i_sb, dir, mode, true);
	if (!inode)
		return -ENOMEM;
	/* The LSMs' initial labels (sVirt: the domain's category). */
	err = vk_init_security(inode, dir, &dentry->d_name);
	if (err) {
		iput(inode);
		return err;
	}
	d_instantiate(dentry, inode);
	dget(dentry);	/* pinned in the dcache, like ramfs */
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
	return 0;
}

static int vk_create(struct mnt_idmap *idmap, struct inode *dir,
		     struct dentry *dentry, umode_t mode, bool excl)
{
	return vk_mknod(dir, dentry, mode | S_IFREG);
}

static int vk_mkdir(struct mnt_idmap *idmap, struct inode *dir,
		    struct dentry *dentry, umode_t mode)
{
	int err = vk_mknod(dir, dentry, mode | S_IFDIR);

	if (!err)
		inc_nlink(dir);
	return err;
}

/*
 * Whether an entry may move from directory @a to @b: always without
 * dirgroups=; else only between directories of the same depth (so that no
 * directory changes depth) that are both above the group directories or
 * both in the same group.
 */
static bool vk_same_group_dir(struct inode *a, struct inode *b)
{
	struct vk_sb *sbi = VK_SB(a->i_sb);
	struct vk_inode *x = VK_I(a), *y = VK_I(b);

	if (a == b || !sbi->dirgroups)
		return true;
	if (x->depth != y->depth)
		return false;
	return x->depth < sbi->dirgroups || x->group == y->group;
}

static int vk_link(struct dentry *old_dentry, struct inode *dir,
		   struct dentry *dentry)
{
	struct dentry *parent = dget_parent(old_dentry);
	bool ok = vk_same_group_dir(d_inode(parent), dir);

	dput(parent);
	return ok ? simple_link(old_dentry, dir, dentry) : -EXDEV;
}

static int vk_rename(struct mnt_idmap *idmap, struct inode *old_dir,
		     struct dentry *old_dentry, struct inode *new_dir,
		     struct dentry *new_dentry, unsigned int flags)
{
	if (!vk_same_group_dir(old_dir, new_dir))
		return -EXDEV;
	return simple_rename(idmap, old_dir, old_dentry, new_dir,
			     new_dentry, flags);
}

static const struct inode_operations vk_dir_iops = {
	.create = vk_create,
	.lookup = simple_lookup,
	.link = vk_link,
	.unlink = simple_unlink,
	.mkdir = vk_mkdir,
	.rmdir = simple_rmdir,
	.rename = vk_rename,
	.getattr = simple_getattr,
	.listxattr = vk_listxattr,
};

static struct inode *vk_alloc_inode(struct super_block *sb)
{
	struct vk_inode *vi = alloc_inode_sb(sb, vk_inode_cache, GFP_KERNEL);

	if (!vi)
		return NULL;
	mutex_init(&vi->lock);
	xa_init(&vi->pages);
	xa_init(&vi->items);
	mt_init(&vi->mergeable);
	INIT_LIST_HEAD(&vi->link);
	vi->group = 0;
	vi->depth = 0;
	vi->auto_id = -1;
	vi->group_dir = NULL;
	vi->nr_pages = 0;
	vi->cow_breaks = 0;
	vi->memcg = NULL;
	spin_lock_init(&vi->xattr_lock);
	INIT_LIST_HEAD(&vi->xattrs);
	vi->xattr_bytes = 0;
	return &vi->vfs_inode;
}

static void vk_free_inode(struct inode *inode)
{
	kmem_cache_free(vk_inode_cache, VK_I(inode));
}

static void vk_evict_inode(struct inode *inode)
{
	struct vk_inode *vi = VK_I(inode);

	truncate_inode_pages_final(&inode->i_data);
	if (S_ISREG(inode->i_mode)) {
		vk_inode_remove(vi);
		vk_remove_range(vi, 0, ULONG_MAX);
		xa_destroy(&vi->pages);
		mtree_destroy(&vi->mergeable);
	}
	vk_xattrs_free(vi);
	clear_inode(inode);
	/* Pages charged through it hold their own reference (an objcg). */
	mem_cgroup_put(vi->memcg);
	/* Nothing of the group is left in this inode: its number may go. */
	if (vi->group_dir)
		iput(vi->group_dir);
	if (vi->auto_id >= 0)
		ida_free(&vk_group_ida, vi->auto_id);
}

static int vk_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct vk_sb *sbi = VK_SB(dentry->d_sb);
	unsigned long max_pages = READ_ONCE(sbi->max_pages);
	long used = atomic_long_read(&sbi->used_pages);
	int err = simple_statfs(dentry, buf);

	if (err)
		return err;
	if (max_pages) {
		buf->f_blocks = max_pages;
		buf->f_bfree = max_pages > used ? max_pages - used : 0;
		buf->f_bavail = buf->f_bfree;
	}
	return 0;
}

static int vk_show_options(struct seq_file *m, struct dentry *root)
{
	struct vk_sb *sbi = VK_SB(root->d_sb);
	unsigned long max_pages = READ_ONCE(sbi->max_pages);

	if (max_pages)
		seq_printf(m, ",size=%luk", max_pages << (PAGE_SHIFT - 10));
	if (READ_ONCE(sbi->group))
		seq_printf(m, ",group=%u", READ_ONCE(sbi->group));
	if (sbi->dirgroups)
		seq_printf(m, ",dirgroups=%u", sbi->dirgroups);
	if (sbi->mode != VK_DEFAULT_MODE)
		seq_printf(m, ",mode=%o", sbi->mode);
	return 0;
}

static const struct super_operations vk_sops = {
	.alloc_inode = vk_alloc_inode,
	.free_inode = vk_free_inode,
	.evict_inode = vk_evict_inode,
	.drop_inode = generic_delete_inode,
	.statfs = vk_statfs,
	.show_options = vk_show_options,
};

enum { VK_OPT_SIZE, VK_OPT_GROUP, VK_OPT_MODE, VK_OPT_DIRGROUPS };

static const struct fs_parameter_spec vk_fs_params[] = {
	fsparam_string("size", VK_OPT_SIZE),
	fsparam_u32("group", VK_OPT_GROUP),
	fsparam_u32oct("mode", VK_OPT_MODE),
	fsparam_u32("dirgroups", VK_OPT_DIRGROUPS),
	{}
};

/*
 * Mount options parsed into a struct vk_sb (fc->s_fs_info), which starts
 * as the defaults (mount) or as the superblock's options (remount).
 */
static int vk_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct vk_sb *sbi = fc->s_fs_info;
	struct fs_parse_result result;
	unsigned long long size;
	char *rest;
	int opt;

	opt = fs_parse(fc, vk_fs_params, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case VK_OPT_SIZE:
		size = memparse(param->string, &rest);
		if (*rest || size > MAX_LFS_FILESIZE)
			return invalfc(fc, "bad size '%s'", param->string);
		sbi->max_pages = DIV_ROUND_UP(size, PAGE_SIZE);
		break;
	case VK_OPT_GROUP:
		if (result.uint_32 >= VMACCEL_KSM_GROUP_AUTO)
			return invalfc(fc, "group must be below %u",
				       VMACCEL_KSM_GROUP_AUTO);
		sbi->group = result.uint_32;
		break;
	case VK_OPT_MODE:
		sbi->mode = result.uint_32 & 07777;
		break;
	case VK_OPT_DIRGROUPS:
		if (result.uint_32 > VK_DIRGROUPS_MAX)
			return invalfc(fc, "dirgroups must be 0..%u",
				       VK_DIRGROUPS_MAX);
		sbi->dirgroups = result.uint_32;
		break;
	}
	return 0;
}

static int vk_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct vk_sb *sbi = sb->s_fs_info;	/* moved here by sget_fc() */
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = VMACCEL_KSM_MAGIC;
	sb->s_op = &vk_sops;
	sb->s_xattr = vk_xattr_handlers;
	sb->s_time_gran = 1;
	root = vk_get_inode(sb, NULL, S_IFDIR | sbi->mode, false);
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int vk_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, vk_fill_super);
}

/*
 * Remount: fc->s_fs_info started as a copy of the superblock's options, so
 * an option not given keeps its value.  size= and group= change (group= for
 * files created afterwards); dirgroups= and mode= are fixed at mount.
 */
static int vk_reconfigure(struct fs_context *fc)
{
	struct vk_sb *new = fc->s_fs_info, *sbi = VK_SB(fc->root->d_sb);

	if (new->dirgroups != sbi->dirgroups)
		return invalfc(fc, "dirgroups cannot change on remount");
	if (new->mode != sbi->mode)
		return invalfc(fc, "mode cannot change on remount (chmod the root)");
	if (new->max_pages &&
	    new->max_pages < atomic_long_read(&sbi->used_pages))
		return invalfc(fc, "size below what the files hold");
	WRITE_ONCE(sbi->max_pages, new->max_pages);
	WRITE_ONCE(sbi->group, new->group);
	return 0;
}

static void vk_free_fc(struct fs_context *fc)
{
	kfree(fc->s_fs_info);
}

static const struct fs_context_operations vk_context_ops = {
	.parse_param = vk_parse_param,
	.get_tree = vk_get_tree,
	.reconfigure = vk_reconfigure,
	.free = vk_free_fc,
};

static int vk_init_fs_context(struct fs_context *fc)
{
	struct vk_sb *sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);

	if (!sbi)
		return -ENOMEM;
	sbi->mode = VK_DEFAULT_MODE;
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE) {
		struct vk_sb *cur = VK_SB(fc->root->d_sb);

		sbi->max_pages = READ_ONCE(cur->max_pages);
		sbi->group = READ_ONCE(cur->group);
		sbi->dirgroups = cur->dirgroups;
		sbi->mode = cur->mode;
	}
	atomic_long_set(&sbi->used_pages, 0);
	fc->s_fs_info = sbi;
	fc->ops = &vk_context_ops;
	return 0;
}

static void vk_kill_sb(struct super_block *sb)
{
	struct vk_sb *sbi = VK_SB(sb);

	kill_litter_super(sb);
	kfree(sbi);
}

static struct file_system_type vk_fs_type = {
	.owner = THIS_MODULE,
	.name = "vmaccelfs",
	.init_fs_context = vk_init_fs_context,
	.parameters = vk_fs_params,
	.kill_sb = vk_kill_sb,
};

/*
 * The internal mount of VMACCEL_KSM_CREATE files: not registered, and with
 * no owner, so that it does not pin the module (each file does, through
 * its file operations).
 */
static struct file_system_type vk_internal_fs_type = {
	.name = "vmaccelfs",
	.init_fs_context = vk_init_fs_context,
	.kill_sb = vk_kill_sb,
};

/**
 * vk_create_file() - an unlinked vmaccelfs file on the internal mount
 * @size: initial size in bytes.
 * @has_group: @group is valid (the caller checked the privilege); else the
 *	file gets a new group of its own.
 * @group: merge group.
 *
 * Context: process context.
 * Return: the file, or an ERR_PTR().
 */
struct file *vk_create_file(u64 size, bool has_group, u32 group)
{
	struct inode *inode;
	struct file *file;
	int err;

	if (size > MAX_LFS_FILESIZE)
		return ERR_PTR(-EINVAL);
	/*
	 * A named group needs CAP_SYS_ADMIN: such a file is made by a
	 * privileged helper for a VMM, and is not the helper's RAM (no
	 * owner: the tasks that allocate its pages pay).
	 */
	inode = vk_get_inode(vk_mnt->mnt_sb, NULL, S_IFREG | 0600, !has_group);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (has_group) {
		VK_I(inode)->group = group;
	} else {
		err = vk_alloc_group(VK_I(inode));
		if (err) {
			iput(inode);
			return ERR_PTR(err);
		}
	}
	inode->i_size = size;
	clear_nlink(inode);
	if (!try_module_get(THIS_MODULE)) {
		iput(inode);
		return ERR_PTR(-ENOENT);
	}
	file = alloc_file_pseudo(inode, vk_mnt, "vmaccel-ksm", O_RDWR,
				 &vk_file_ops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(THIS_MODULE);
		return file;
	}
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	file->f_flags |= O_LARGEFILE;
	return file;
}

static void vk_inode_init_once(void *p)
{
	struct vk_inode *vi = p;

	inode_init_once(&vi->vfs_inode);
}

/**
 * vk_fs_init() - create the inode cache and the internal mount, register
 * vmaccelfs
 *
 * Return: 0 or a negative errno.
 */
int vk_fs_init(void)
{
	int err;

	vk_inode_cache = kmem_cache_create("vmaccel_ksm_inode",
					   sizeof(struct vk_inode), 0,
					   SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					   vk_inode_init_once);
	if (!vk_inode_cache)
		return -ENOMEM;
	vk_mnt = kern_mount(&vk_internal_fs_type);
	if (IS_ERR(vk_mnt)) {
		err = PTR_ERR(vk_mnt);
		goto err_cache;
	}
	err = register_filesystem(&vk_fs_type);
	if (err)
		goto err_mnt;
	return 0;

err_mnt:
	kern_unmount(vk_mnt);
err_cache:
	/* A failed or undone mount frees its inodes after a grace period. */
	rcu_barrier();
	kmem_cache_destroy(vk_inode_cache);
	return err;
}

/**
 * vk_fs_exit() - undo vk_fs_init()
 */
void vk_fs_exit(void)
{
	unregister_filesystem(&vk_fs_type);
	kern_unmount(vk_mnt);
	rcu_barrier();	/* inodes are freed after an RCU grace period */
	kmem_cache_destroy(vk_inode_cache);
	ida_destroy(&vk_group_ida);
}
