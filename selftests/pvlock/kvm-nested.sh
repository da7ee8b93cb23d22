#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kvm-nested.sh - the test VM side of the pvlock selftests under real KVM
# paravirt: boots a KVM guest of PVLOCK_KVM_CPUS vCPUs (default 2) with
# tools/nested-kvm and runs selftests/pvlock/kvm-guest.sh in it.  The
# 'nested-kvm' tier of 'make check' runs this in the TCG test VM.
#
# The guest's TAP and summary are the result (a guest that crashes or
# hangs counts as a failure).  In the test VM (VMACCEL_IN_VM=1), whose
# "max" CPU offers SVM, a KVM that cannot run a guest is a failure too:
# the tier must not turn green without running the kvm backend.  With
# NESTED_KVM_OPTIONAL=1 (a test VM on a host whose KVM has nested
# virtualization off) and outside a test VM it is one TAP SKIP line with
# the reason and a summary of 1 skipped.
# Env: PVLOCK_KVM_CPUS (2), PVLOCK_KVM_MEM (MiB, 1024), PVLOCK_KVM_TIMEOUT
# (s, 420: within the tier's 900 s for the outer VM, so that a hang in the
# guest is reported from here); PVLOCK_KVM_TESTS, PVLOCK_BACKENDS and
# VMACCEL_KO_DIR (modules built for this kernel elsewhere) go to
# kvm-guest.sh.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# The guest gets no environment but what its command line sets: pass on
# kvm-guest.sh's knobs when they are set (an empty one means something).
set --
[ -n "${PVLOCK_KVM_TESTS+set}" ] && set -- "$@" "PVLOCK_KVM_TESTS=$PVLOCK_KVM_TESTS"
[ -n "${PVLOCK_BACKENDS+set}" ] && set -- "$@" "PVLOCK_BACKENDS=$PVLOCK_BACKENDS"
[ -n "${VMACCEL_KO_DIR:-}" ] && set -- "$@" "VMACCEL_KO_DIR=$VMACCEL_KO_DIR"
err=$(mktemp)
"$top/tools/nested-kvm" -c "${PVLOCK_KVM_CPUS:-2}" -m "${PVLOCK_KVM_MEM:-1024}" \
	-t "${PVLOCK_KVM_TIMEOUT:-420}" -- env "$@" sh "$top/selftests/pvlock/kvm-guest.sh" 2>"$err"
rc=$?
cat "$err" >&2
why=$(sed -n 's/^nested-kvm: SKIP: //p' "$err" | head -n 1)
rm -f "$err"
if [ "$rc" = 4 ] && [ -n "$why" ] && [ "${VMACCEL_IN_VM:-}" = 1 ] &&
   [ "${NESTED_KVM_OPTIONAL:-}" != 1 ]; then
	echo "not ok - pvlock under nested KVM: $why (NESTED_KVM_OPTIONAL=1 makes this a skip)"
	echo "VMACCEL-SUMMARY: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
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
