// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmaccel_vhost_net - the guest memory table and the dirty log.
 *
 * VHOST_SET_MEM_TABLE regions go into a vhost_iotlb (the kernel's interval
 * tree of address ranges, linux/vhost_iotlb.h): guest-physical range ->
 * owner's user address.  Descriptor buffers are translated through it into
 * user I/O vectors that the worker (running in the owner's mm) hands to the
 * backend socket.  With VHOST_F_LOG_ALL every guest page the device writes
 * is marked in the owner's bitmap at the log base (one bit per 4 KiB page).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vhost.h"

#define VH_LOG_PAGE	4096ULL

/**
 * vh_set_mem_table() - VHOST_SET_MEM_TABLE
 * @d: device, mutex held.
 * @argp: struct vhost_memory in the caller's memory.
 *
 * Return: 0; -E2BIG for too many regions; -EINVAL for overlapping regions,
 * non-zero padding or a zero-sized region; -EFAULT for a region that wraps
 * or lies outside the caller's address space; -ENOMEM.
 */
int vh_set_mem_table(struct vh_dev *d, void __user *argp)
{
	struct vhost_memory mem;
	struct vhost_memory_region *r = NULL;
	struct vhost_iotlb *umem, *old;
	unsigned int i;
	int ret;

	lockdep_assert_held(&d->mutex);
	if (copy_from_user(&mem, argp, sizeof(mem)))
		return -EFAULT;
	if (mem.padding)
		return -EINVAL;
	if (mem.nregions > VH_MEM_REGIONS_MAX)
		return -E2BIG;
	if (mem.nregions) {
		r = memdup_user(argp + sizeof(mem), mem.nregions * sizeof(*r));
		if (IS_ERR(r))
			return PTR_ERR(r);
	}
	umem = vhost_iotlb_alloc(VH_MEM_REGIONS_MAX, 0);
	if (!umem) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < mem.nregions; i++) {
		u64 gpa = r[i].guest_phys_addr, size = r[i].memory_size;
		u64 hva = r[i].userspace_addr;

		ret = -EINVAL;
		if (r[i].flags_padding || !size)
			goto err;
		ret = -EFAULT;
		if (gpa + size - 1 < gpa || hva + size - 1 < hva ||
		    hva != (unsigned long)hva || size != (unsigned long)size ||
		    !access_ok(u64_to_user_ptr(hva), size))
			goto err;
		ret = -EINVAL;
		if (vhost_iotlb_itree_first(umem, gpa, gpa + size - 1))
			goto err;
		ret = vhost_iotlb_add_range(umem, gpa, gpa + size - 1, hva,
					    VHOST_MAP_RW);
		if (ret)
			goto err;
		if (vh_has(d, VHOST_F_LOG_ALL) &&
		    !access_ok(u64_to_user_ptr(d->log_base + gpa / VH_LOG_PAGE / 8),
			       (gpa + size - 1) / VH_LOG_PAGE / 8 -
			       gpa / VH_LOG_PAGE / 8 + 1)) {
			ret = -EFAULT;
			goto err;
		}
	}
	for (i = 0; i < VH_NVQS; i++)
		mutex_lock_nested(&d->vqs[i].mutex, i);
	old = d->umem;
	d->umem = umem;
	for (i = 0; i < VH_NVQS; i++) {
		d->vqs[i].tmap = NULL;
		mutex_unlock(&d->vqs[i].mutex);
	}
	vhost_iotlb_free(old);
	ret = 0;
	goto out;
err:
	vhost_iotlb_free(umem);
out:
	kfree(r);
	return ret;
}

/**
 * vh_translate() - guest-physical range to user I/O vector
 * @vq: queue, mutex held (the memory table is stable under it).
 * @gpa: start.
 * @len: length; 0 gives no entries.
 * @iov: output entries.
 * @max: room in @iov.
 *
 * Return: entries used, -EFAULT when a byte of the range is not in the
 * table, -ENOBUFS when @max entries are not enough.
 */
int vh_translate(struct vh_vq *vq, u64 gpa, u64 len, struct iovec *iov,
		 unsigned int max)
{
	struct vhost_iotlb *umem = vq->dev->umem;
	struct vhost_iotlb_map *m;
	unsigned int n = 0;
	u64 seg;

	lockdep_assert_held(&vq->mutex);
	if (len && gpa + len - 1 < gpa)
		return -EFAULT;
	while (len) {
		if (!umem)
			return -EFAULT;
		/* Buffers mostly come from one region: try the last hit. */
		m = vq->tmap;
		if (!m || gpa < m->start || gpa > m->last) {
			m = vhost_iotlb_itree_first(umem, gpa, gpa);
			if (!m)
				return -EFAULT;
			vq->tmap = m;
		}
		if (n == max)
			return -ENOBUFS;
		seg = min(len, m->last - gpa + 1);
		iov[n].iov_base = u64_to_user_ptr(m->addr + (gpa - m->start));
		iov[n].iov_len = seg;
		n++;
		len -= seg;
		gpa += seg;
	}
	return n;
}

static int vh_log_page(u64 log_base, u64 pfn)
{
	u64 addr = log_base + pfn / 8;
	struct page *page;
	unsigned long *base;
	int ret;

	ret = pin_user_pages_fast(addr & PAGE_MASK, 1, FOLL_WRITE, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	base = kmap_local_page(page);
	set_bit((addr & ~PAGE_MASK) * 8 + pfn % 8, base);
	kunmap_local(base);
	set_page_dirty_lock(page);
	unpin_user_page(page);
	return 0;
}

/**
 * vh_log_write() - mark guest pages written by the device
 * @vq: queue, mutex held, in the worker (the owner's mm).
 * @gpa: first byte written.
 * @len: bytes written.
 *
 * Does nothing unless logging is on.  Signals the log eventfd.
 *
 * Return: 0 or -EFAULT when the bitmap is not writable.
 */
int vh_log_write(struct vh_vq *vq, u64 gpa, u64 len)
{
	u64 pfn, last;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!len || !vh_logging(vq))
		return 0;
	last = (gpa + len - 1) / VH_LOG_PAGE;
	for (pfn = gpa / VH_LOG_PAGE; pfn <= last; pfn++) {
		ret = vh_log_page(vq->dev->log_base, pfn);
		if (ret)
			return ret;
	}
	atomic64_add(last - gpa / VH_LOG_PAGE + 1, &vh_totals.log_pages);
	if (vq->dev->log_ctx)
		eventfd_signal(vq->dev->log_ctx);
	return 0;
}
