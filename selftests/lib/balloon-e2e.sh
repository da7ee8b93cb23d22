# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# balloon-e2e.sh - the shell functions that the two real-VMM tests of
# vmaccel_balloon share: sourced by selftests/balloon/balloon_qemu_e2e.sh
# and by selftests/lib/libvirt_e2e.sh (its balloon part).  In both, one VM
# is registered with the module by tools/vmaccel-balloond, its RAM a file.

bal_sys=/sys/kernel/mm/vmaccel_balloon
bal_vms=/sys/kernel/debug/vmaccel_balloon/vms

# balloon_vmfield N: field N of the line of VM $bal_vm in debugfs (of the
# first VM when bal_vm is empty; 5: the target, 10: what the guest reports
# available; bytes).
bal_vm=
balloon_vmfield() {
	grep -v '^#' "$bal_vms" | awk -v n="$1" -v vm="$bal_vm" \
		'vm == "" || $1 == vm { print $n; exit }'
}

# balloon_resident FILE: how many MiB of FILE are resident.
balloon_resident() { echo $(($(stat -c %b "$1") * 512 / 1048576)); }

# balloon_bridge TOP NAME QMP RAM FLOOR LOG: the module checks every 500 ms
# and moves targets by 10 %; TOP/tools/vmaccel-balloond, in the background,
# bridges VM NAME (QMP socket QMP, RAM file RAM, floor FLOOR MiB) and logs
# to LOG.  Sets bal_pid.
balloon_bridge() {
	echo 500 >"$bal_sys/interval_ms"
	echo 10 >"$bal_sys/step_pct"
	"$1/tools/vmaccel-balloond" --vm "$2,qmp=$3,mem=$4,floor=$5" \
		--stats-interval 1 >"$6" 2>&1 &
	bal_pid=$!
}

# balloon_bridge_libvirt TOP URI FLOOR LOG: TOP/tools/vmaccel-balloond, in
# the background, serves every running domain of libvirt URI through the
# libvirt API (floor FLOOR MiB), logging to LOG; knobs as balloon_bridge.
# Sets bal_pid.
balloon_bridge_libvirt() {
	echo 500 >"$bal_sys/interval_ms"
	echo 10 >"$bal_sys/step_pct"
	/usr/bin/python3 "$1/tools/vmaccel-balloond" --libvirt "$2" --floor "$3" \
		--stats-interval 1 --scan-interval 1 >"$4" 2>&1 &
	bal_pid=$!
}

# balloon_wait_stats: waits for the guest's first statistics, 60 s at
# most.  Returns 0 when they came, 1 when the bridge exited, 2 when none
# came in time.
balloon_wait_stats() {
	bal_start=$(date +%s)
	until [ "$(balloon_vmfield 10 2>/dev/null || echo 0)" -gt 0 ] 2>/dev/null; do
		kill -0 "$bal_pid" 2>/dev/null || return 1
		[ $(($(date +%s) - bal_start)) -lt 60 ] || return 2
		sleep 1
	done
	return 0
}

# balloon_squeeze CUR HOG: puts the module's band just below CUR % of
# memory available (CUR - 10 to CUR - 5), then takes 15 % of memory in the
# file HOG (on /dev/shm).  Sets hog, the MiB taken.
balloon_squeeze() {
	echo $(($1 - 5)) >"$bal_sys/high_pct"
	echo $(($1 - 10)) >"$bal_sys/low_pct"
	hog=$(($(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) * 15 / 100))
	dd if=/dev/zero of="$2" bs=1M count="$hog" 2>/dev/null
}

# balloon_wait_reclaim RAM RES0 GUEST_MB SECS: waits, SECS at most, until
# the target has dropped below GUEST_MB and the file RAM (RES0 MiB resident
# before) has given back at least half of what the target asks for.  Sets
# target, asked and got (MiB).  Returns 0 when it has, 1 when not in time.
balloon_wait_reclaim() {
	bal_start=$(date +%s)
	while [ $(($(date +%s) - bal_start)) -lt "$4" ]; do
		target=$(($(balloon_vmfield 5) / 1048576))
		asked=$(($3 - target))
		got=$(($2 - $(balloon_resident "$1")))
		if [ "$asked" -gt 0 ] && [ $((2 * got)) -ge "$asked" ]; then
			return 0
		fi
		sleep 2
	done
	return 1
}

# balloon_defaults: the module's tunables back to their defaults (high
# first may be refused while low is above it).
balloon_defaults() {
	{
		echo 30 >"$bal_sys/high_pct"; echo 20 >"$bal_sys/low_pct"; echo 30 >"$bal_sys/high_pct"
		echo 1000 >"$bal_sys/interval_ms"; echo 5 >"$bal_sys/step_pct"
	} 2>/dev/null
}
