#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# demo_pvlock - the pvlock part of 'make demo'.  Runs inside the test VM
# with vmaccel_pvlock loaded and prints acquisitions per second of the pv
# ticket lock, the plain ticket lock and spinlock_t in this VM, as ratios,
# and what the module counters saw.  The overcommit table is two runs of
# it: a VM with as many vCPUs as the host has CPUs (1x) and one with twice
# as many (2x).  Give the host CPU count with vmaccel.host_cpus= on the
# guest kernel command line or VMACCEL_HOST_CPUS in the environment.
#
# Env: PVLOCK_DEMO_MS (per run, default 1000), PVLOCK_DEMO_REPS (default 3).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sys=/sys/class/misc/vmaccel-pvlock
bench=$top/build/bench/pvlock/pvlock_bench

if [ ! -d "$sys" ]; then
	echo "demo_pvlock: vmaccel_pvlock is not loaded" >&2
	exit 1
fi
if [ ! -x "$bench" ]; then
	echo "demo_pvlock: $bench missing (make bench)" >&2
	exit 1
fi

stat() { cat "$sys/stats/$1"; }

# spinlock_kind: which lock the kernel's spinlock_t is in this machine.
# On KVM the kernel says so at boot (kvm_spinlock_init()): "PV spinlocks
# enabled" is where it points pv_ops.lock at __pv_queued_spin_lock_slowpath;
# without host support a guest falls back to virt_spin_lock()'s
# test-and-set lock, as on any hypervisor without PV spinlocks (TCG);
# KVM's other "disabled" cases (realtime hint, nopvspin, one CPU) and bare
# metal keep the native qspinlock.
spinlock_kind() {
	v=$(dmesg 2>/dev/null | sed -n 's/.*kvm-guest: \(PV spinlocks .*\)/\1/p' | tail -n 1)
	case $v in
	"PV spinlocks enabled") echo "pv-qspinlock (kvm-guest: $v)" ;;
	*"no host support") echo "test-and-set (virt_spin_lock; kvm-guest: $v)" ;;
	?*) echo "qspinlock, native (kvm-guest: $v)" ;;
	*)
		if grep -qw hypervisor /proc/cpuinfo; then
			echo "test-and-set (virt_spin_lock: a hypervisor without PV spinlocks)"
		else
			echo "qspinlock, native (no hypervisor)"
		fi ;;
	esac
}

echo "--- pvlock: paravirtual ticket spinlocks under vCPU overcommit"
echo "backends here: $(cat "$sys/available_backends")   in use: $(cat "$sys/backend")"
echo "spinlock_t here: $(spinlock_kind)"
"$bench" -d "${PVLOCK_DEMO_MS:-1000}" -r "${PVLOCK_DEMO_REPS:-3}" || exit 1
printf '  pv counters: taken_fast %s  taken_slow %s  blocked %s  halts %s  kicked %s  spurious %s  blocked_ms %s\n' \
	"$(stat taken_fast)" "$(stat taken_slow)" "$(stat blocked)" \
	"$(stat halts)" "$(stat released_slow_kicked)" "$(stat spurious_wakeups)" \
	"$(($(stat time_blocked_ns) / 1000000))"
echo "  (every run checked mutual exclusion and ticket order; kernel log:)"
dmesg | grep -o 'pvlock: [a-z_]*-torture: backend=[a-z]*.*End of test: [A-Z]*' |
	sed 's/: backend=\([a-z]*\) .*End of test: / (\1): /' | sort | uniq -c |
	sed 's/^/  /'
