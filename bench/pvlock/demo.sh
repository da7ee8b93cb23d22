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

echo "--- pvlock: paravirtual ticket spinlocks under vCPU overcommit"
echo "backends here: $(cat "$sys/available_backends")   in use: $(cat "$sys/backend")"
"$bench" -d "${PVLOCK_DEMO_MS:-1000}" -r "${PVLOCK_DEMO_REPS:-3}" || exit 1
printf '  pv counters: taken_fast %s  taken_slow %s  blocked %s  kicked %s  spurious %s\n' \
	"$(stat taken_fast)" "$(stat taken_slow)" "$(stat blocked)" \
	"$(stat released_slow_kicked)" "$(stat spurious_wakeups)"
echo "  (every run checked mutual exclusion and ticket order; kernel log:)"
dmesg | grep -o 'pvlock: [a-z_]*-torture: backend=[a-z]*.*End of test: [A-Z]*' |
	sed 's/: backend=\([a-z]*\) .*End of test: / (\1): /' | sort | uniq -c |
	sed 's/^/  /'
