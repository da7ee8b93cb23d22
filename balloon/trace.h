/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_balloon tracepoints: a VM's target changes, a VM's guest-RAM file
 * gives back what a target decrease asked for.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmaccel_balloon

#if !defined(_VMACCEL_BALLOON_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMACCEL_BALLOON_TRACE_H

#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/types.h>
#include <linux/vmaccel_balloon.h>

TRACE_EVENT(balloon_target,
	    TP_PROTO(const char *vm, u64 old, u64 target,
		     unsigned int avail_pct),
	    TP_ARGS(vm, old, target, avail_pct),
	    TP_STRUCT__entry(__array(char, vm, VMACCEL_BALLOON_NAME_LEN)
			     __field(u64, old)
			     __field(u64, target)
			     __field(unsigned int, avail_pct)),
	    TP_fast_assign(strscpy(__entry->vm, vm, sizeof(__entry->vm));
			   __entry->old = old;
			   __entry->target = target;
			   __entry->avail_pct = avail_pct;),
	    TP_printk("vm=%s old=%llu target=%llu host_avail=%u%%",
		      __entry->vm, __entry->old, __entry->target,
		      __entry->avail_pct)
);

TRACE_EVENT(balloon_release,
	    TP_PROTO(const char *vm, u64 released, u64 ns),
	    TP_ARGS(vm, released, ns),
	    TP_STRUCT__entry(__array(char, vm, VMACCEL_BALLOON_NAME_LEN)
			     __field(u64, released)
			     __field(u64, ns)),
	    TP_fast_assign(strscpy(__entry->vm, vm, sizeof(__entry->vm));
			   __entry->released = released;
			   __entry->ns = ns;),
	    TP_printk("vm=%s released=%llu after_ns=%llu",
		      __entry->vm, __entry->released, __entry->ns)
);

#endif /* _VMACCEL_BALLOON_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
