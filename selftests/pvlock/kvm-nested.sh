#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kvm-nested.sh - the test VM side of the pvlock selftests under real KVM
# paravirt: boots a KVM guest of PVLOCK_KVM_CPUS vCPUs (default 2) with
# tools/nested-kvm and runs selftests/pvlock/kvm-guest.sh in it.  The
# 'nested-kvm' tier of 'make check' runs this in the TCG test VM.
#
# When this machine cannot run a KVM guest, it says why as one TAP SKIP
# line and a summary of 1 skipped; otherwise the guest's TAP and summary
# are the result (a guest that crashes or hangs counts as a failure).
# Env: PVLOCK_KVM_CPUS (2), PVLOCK_KVM_MEM (MiB, 1024), PVLOCK_KVM_TIMEOUT
# (s, 600); PVLOCK_KVM_TESTS and PVLOCK_BACKENDS go to kvm-guest.sh.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# The guest gets no environment but what its command line sets: pass on
# kvm-guest.sh's knobs when they are set (an empty one means something).
set --
[ -n "${PVLOCK_KVM_TESTS+set}" ] && set -- "$@" "PVLOCK_KVM_TESTS=$PVLOCK_KVM_TESTS"
[ -n "${PVLOCK_BACKENDS+set}" ] && set -- "$@" "PVLOCK_BACKENDS=$PVLOCK_BACKENDS"
err=$(mktemp)
"$top/tools/nested-kvm" -c "${PVLOCK_KVM_CPUS:-2}" -m "${PVLOCK_KVM_MEM:-1024}" \
	-t "${PVLOCK_KVM_TIMEOUT:-600}" -- env "$@" sh "$top/selftests/pvlock/kvm-guest.sh" 2>"$err"
rc=$?
cat "$err" >&2
why=$(sed -n 's/^nested-kvm: SKIP: //p' "$err" | head -n 1)
rm -f "$err"
if [ "$rc" = 4 ] && [ -n "$why" ]; then
	echo "ok - pvlock under nested KVM # SKIP $why"
	echo "VMACCEL-SUMMARY: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ "$rc" = 125 ]; then
	echo "not ok - pvlock under nested KVM: the KVM guest crashed or timed out"
	echo "VMACCEL-SUMMARY: 0 passed, 1 failed, 0 skipped"
fi
exit "$rc"
