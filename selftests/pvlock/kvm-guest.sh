#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kvm-guest.sh - the pvlock selftests in a real KVM guest (run there by
# selftests/pvlock/kvm-nested.sh through tools/nested-kvm).
#
# A KVM guest is where the kvm backend matters: KVM_FEATURE_PV_UNHALT and
# KVM_HC_KICK_CPU are there, and the kernel's own spinlock_t is
# pv-qspinlock.  This checks both, then runs tools/run-tests pvlock with
# the selftests that exercise the kvm backend; none of them may skip for
# want of the kvm backend here.  The output is tools/run-tests' TAP with
# three more results, and a closing VMACCEL-SUMMARY line that counts them.
#
# Env: PVLOCK_KVM_TESTS (selftest programs, shell globs).  The default is
# the programs whose subject is the blocking path (backend choice, block
# and kick with interrupts on and off, lost wake-ups and their negative
# control, stale kicks, use after unlock), about 40 s here; 'pvlock_*'
# runs them all.  PVLOCK_BACKENDS (default kvm; "" for all): the backends
# whose pvlock_wakeup_test variants run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tests=${PVLOCK_KVM_TESTS:-pvlock_backend_test pvlock_wakeup_test pvlock_stale_test pvlock_uaf_test}
pass=0 fail=0 skip=0

result() {	# result ok|fail description
	case $1 in
	ok) pass=$((pass + 1)); echo "ok - $2" ;;
	*) fail=$((fail + 1)); echo "not ok - $2" ;;
	esac
}

# The kernel's own verdict on spinlock_t (kvm_spinlock_init()), before
# tools/run-tests clears the log: "PV spinlocks enabled" is printed where
# it sets pv_ops.lock to __pv_queued_spin_lock_slowpath, anything else
# ("disabled, no host support", "... single CPU", nopvspin) where not.
verdict=$(dmesg | sed -n 's/.*kvm-guest: \(PV spinlocks .*\)/\1/p' | tail -n 1)
echo "# spinlock_t in this guest: kernel says '${verdict:-nothing (not a KVM guest?)}'"
if [ "$verdict" = "PV spinlocks enabled" ]; then
	result ok "spinlock_t in this KVM guest is pv-qspinlock (kvm-guest: PV spinlocks enabled)"
else
	result fail "spinlock_t in this KVM guest is pv-qspinlock (kernel says: ${verdict:-nothing})"
fi

# The module's own choice at load, the same pv_ops test from the inside
# (a "spinning:" note would mean it found the kernel's PV spinlocks off).
# Read here, before the selftests switch backends and reload it.
ko=${VMACCEL_KO_DIR:-$top}/pvlock/vmaccel_pvlock.ko
if insmod "$ko"; then
	chosen=$(cat /sys/class/misc/vmaccel-pvlock/backend)
	load=$(dmesg | grep -o 'vmaccel_pvlock: backend [a-z]* (kvm PV unhalt.*' | tail -n 1)
	rmmod vmaccel_pvlock || result fail "rmmod vmaccel_pvlock after the first load"
else
	chosen='' load=''
fi
echo "# ${load:-vmaccel_pvlock printed no backend line at load}"
if [ "$chosen" = kvm ]; then
	result ok "vmaccel_pvlock chose the kvm backend at load"
else
	result fail "vmaccel_pvlock chose the kvm backend at load (it chose: ${chosen:-no load})"
fi

out=$(mktemp)
# pvlock_wakeup_test's ipi and spin variants run in every other tier.
PVLOCK_BACKENDS=${PVLOCK_BACKENDS-kvm} VMACCEL_ONLY=$tests VMACCEL_TIER=nested-kvm \
	sh "$top/tools/run-tests" pvlock | tee "$out"
sed -n 's/^VMACCEL-SUMMARY: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' \
	"$out" >"$out.sum"
# shellcheck disable=SC2046 # three numbers
set -- $(cat "$out.sum") x x x
if [ "$1" = x ]; then
	result fail "tools/run-tests ended without its summary"
else
	pass=$((pass + $1)) fail=$((fail + $2)) skip=$((skip + $3))
fi

# Here nothing may skip for want of the kvm backend, and with the default
# programs each kvm test must have run and passed (a skip for any reason,
# or a glob that matched nothing, is not a run).  The kvm_irqs_off run is
# the one whose halts only a delivered kick ends (interrupts off): a kick
# that is marked but never arrives hangs the guest, reported as a failure
# by kvm-nested.sh.
if grep -E '# SKIP.*(not available here|no KVM PV unhalt)' "$out"; then
	result fail "kvm-backend tests skipped in a KVM guest (above)"
else
	result ok "no kvm-backend test skipped for want of PV unhalt"
fi
if [ -z "${PVLOCK_KVM_TESTS+set}" ]; then
	for t in knobs.kvm_backend_blocks_with_irqs_off_too \
		wake.kvm.long_run_no_lost_wakeups wake.kvm.nokick_lock_is_reported \
		wake.kvm.two_locks_at_once wake.kvm_irqs_off.long_run_no_lost_wakeups; do
		# The programs' TAP, as the kselftest runner prefixes it.
		if grep -E "^# ok [0-9]+ $t\$" "$out" >/dev/null; then
			result ok "$t ran and passed in the KVM guest"
		else
			result fail "$t ran and passed in the KVM guest"
		fi
	done
fi
rm -f "$out" "$out.sum"
echo "VMACCEL-SUMMARY: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
