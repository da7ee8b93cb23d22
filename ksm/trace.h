/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_ksm tracepoints: a file page merged, a merged page's copy-on-write
 * break (or unmerge), the end of a scanner pass.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmaccel_ksm

#if !defined(_VMACCEL_KSM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMACCEL_KSM_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>

TRACE_EVENT(vk_merge,
	    TP_PROTO(unsigned long ino, unsigned long index, unsigned long pfn,
		     bool zero),
	    TP_ARGS(ino, index, pfn, zero),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(unsigned long, index)
			     __field(unsigned long, pfn)
			     __field(bool, zero)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->index = index;
			   __entry->pfn = pfn;
			   __entry->zero = zero;),
	    TP_printk("ino=%lu index=%lu pfn=0x%lx zero=%d", __entry->ino,
		      __entry->index, __entry->pfn, __entry->zero)
);

TRACE_EVENT(vk_cow_break,
	    TP_PROTO(unsigned long ino, unsigned long index, bool write),
	    TP_ARGS(ino, index, write),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(unsigned long, index)
			     __field(bool, write)),
	    TP_fast_assign(__entry->ino = ino;
			   __entry->index = index;
			   __entry->write = write;),
	    TP_printk("ino=%lu index=%lu write=%d", __entry->ino,
		      __entry->index, __entry->write)
);

TRACE_EVENT(vk_pass,
	    TP_PROTO(unsigned long full_scans, unsigned long pages),
	    TP_ARGS(full_scans, pages),
	    TP_STRUCT__entry(__field(unsigned long, full_scans)
			     __field(unsigned long, pages)),
	    TP_fast_assign(__entry->full_scans = full_scans;
			   __entry->pages = pages;),
	    TP_printk("full_scans=%lu pages=%lu", __entry->full_scans,
		      __entry->pages)
);

#endif /* _VMACCEL_KSM_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
