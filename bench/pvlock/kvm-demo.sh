#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kvm-demo.sh - the pvlock bench under real KVM paravirt, for 'make demo'.
# Runs in the test VM: boots a KVM guest (tools/nested-kvm) with as many
# vCPUs as this machine has (1x) and one with twice as many (2x), and runs
# 'tools/demo pvlock' (bench/pvlock/demo.sh) in each.  There the kvm
# backend halts and kicks through KVM itself, and spinlock_t is the
# kernel's pv-qspinlock: the baseline a KVM guest really has.
#
# When this machine cannot run a KVM guest, it prints a demo section that
# says why and exits 0.  Env: PVLOCK_DEMO_MS, PVLOCK_DEMO_REPS (demo.sh).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
n=$(nproc)
rc=0
for cpus in "$n" $((2 * n)); do
	err=$(mktemp)
	"$top/tools/nested-kvm" -c "$cpus" -m 1024 -t 900 -- \
		env PVLOCK_DEMO_MS="${PVLOCK_DEMO_MS:-1000}" \
		PVLOCK_DEMO_REPS="${PVLOCK_DEMO_REPS:-3}" "$top/tools/demo" pvlock 2>"$err"
	r=$?
	cat "$err" >&2
	why=$(sed -n 's/^nested-kvm: SKIP: //p' "$err" | head -n 1)
	rm -f "$err"
	if [ "$r" = 4 ] && [ -n "$why" ]; then
		echo "=== vmaccel demo: pvlock under KVM"
		echo "not run: $why"
		echo "=== end of demo"
		exit "$rc"
	fi
	[ "$r" = 0 ] || rc=1
done
exit "$rc"
