/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmaccel_vic tracepoints: one event per interrupt delivered and one per
 * completion batch deferred.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmaccel_vic

#if !defined(_VMACCEL_VIC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMACCEL_VIC_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>

TRACE_EVENT(vic_deliver,
	    TP_PROTO(u32 id, u64 pending, u32 ratio, bool backstop,
		     u64 delay_ns),
	    TP_ARGS(id, pending, ratio, backstop, delay_ns),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, ratio)
			     __field(u64, pending)
			     __field(u64, delay_ns)
			     __field(bool, backstop)),
	    TP_fast_assign(__entry->id = id;
			   __entry->ratio = ratio;
			   __entry->pending = pending;
			   __entry->delay_ns = delay_ns;
			   __entry->backstop = backstop;),
	    TP_printk("id=%u pending=%llu ratio=%u backstop=%d delay_ns=%llu",
		      __entry->id, __entry->pending, __entry->ratio,
		      __entry->backstop, __entry->delay_ns)
);

TRACE_EVENT(vic_defer,
	    TP_PROTO(u32 id, u64 pending, u32 ratio),
	    TP_ARGS(id, pending, ratio),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, ratio)
			     __field(u64, pending)),
	    TP_fast_assign(__entry->id = id;
			   __entry->ratio = ratio;
			   __entry->pending = pending;),
	    TP_printk("id=%u pending=%llu ratio=%u",
		      __entry->id, __entry->pending, __entry->ratio)
);

#endif /* _VMACCEL_VIC_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
