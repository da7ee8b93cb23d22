#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# lookup_cost_vm - the in-VM half of lookup_cost.sh: the time an unlock of
# a contended vmaccel_pvlock spends finding the waiter to kick, for two
# builds of the module, loaded in turn in this one VM.
#
# usage: lookup_cost_vm.sh OLD_KO NEW_KO [ROUNDS [MS]]
#
# Both modules must count that time in the debugfs counter lookup_ns (the
# new one does; lookup_cost.sh builds main's with lookup-ns-main.patch).
# Each round loads OLD_KO, runs a light load, unloads it, then the same for
# NEW_KO (interleaved, so that drifts of the VM hit both).  The load is one
# torture run of the pv kind with 3 threads holding the lock 20 us and
# nothing outside, spin threshold 0 (so that waiters block and nearly every
# unlock takes the slow path) and the ipi backend: three vCPUs busy, the
# others idle; the lookup is measured, not the lock under load.  Prints one line per module
# and round:
#   lookup <old|new> cpus=N round=R lookups=L ns=T ns_per_lookup=X
# A lookup that an interrupt hits counts the handler's time too; those
# outliers are why lookup_cost.sh takes the median of the rounds.
set -u
[ $# -ge 2 ] || { echo "usage: $0 OLD_KO NEW_KO [ROUNDS [MS]]" >&2; exit 2; }
old=$1
new=$2
rounds=${3:-5}
ms=${4:-1000}
top=$(cd "$(dirname "$0")/../.." && pwd)
bench=$top/build/bench/pvlock/pvlock_bench
sys=/sys/class/misc/vmaccel-pvlock
dbg=/sys/kernel/debug/vmaccel_pvlock
cpus=$(grep -c '^processor' /proc/cpuinfo)

[ -x "$bench" ] || { echo "lookup_cost_vm: $bench missing (make bench)" >&2; exit 1; }
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

# debugfs counter $1 of the loaded module
dstat() { sed -n "s/^$1 //p" "$dbg/stats"; }

# measure KO: one round; prints "lookups ns"
measure() {
	insmod "$1" || { echo "lookup_cost_vm: insmod $1 failed" >&2; exit 1; }
	echo ipi >"$sys/backend" && echo 0 >"$sys/spin_threshold" &&
		echo 1 >"$dbg/zero_stats" || exit 1
	# The module of this tree times lookups only when asked; the old one
	# (with lookup-ns-main.patch) always does.
	if [ -e "$dbg/lookup_timing" ]; then
		echo Y >"$dbg/lookup_timing" || exit 1
	fi
	"$bench" -k pv -t 3 -c 20000 -o 0 -d "$ms" -r 1 -q >/dev/null || exit 1
	n=$(dstat released_slow)
	t=$(dstat lookup_ns)
	rmmod vmaccel_pvlock || exit 1
	[ -n "$t" ] || { echo "lookup_cost_vm: $1 has no lookup_ns" >&2; exit 1; }
	echo "$n $t"
}

# line NAME ROUND "LOOKUPS NS"
line() {
	n=${3% *} t=${3#* }
	echo "lookup $1 cpus=$cpus round=$2 lookups=$n ns=$t ns_per_lookup=$((n ? t / n : 0))"
}

i=1
while [ "$i" -le "$rounds" ]; do
	r=$(measure "$old") || exit 1
	line old "$i" "$r"
	r=$(measure "$new") || exit 1
	line new "$i" "$r"
	i=$((i + 1))
done
