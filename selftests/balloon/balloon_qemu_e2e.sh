#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# balloon_qemu_e2e.sh - the real-VMM test of vmaccel_balloon (run by
# balloon_qemu_test in the test VM, with the module loaded).
#
# A small Linux guest (the Debian kernel, a busybox initramfs with
# virtio_balloon) runs under QEMU with its 512 MiB of RAM in a file on
# vmaccelfs (tmpfs when vmaccelfs is not there) and virtio-balloon with
# statistics; tools/vmaccel-balloond bridges the kernel's targets to QEMU.
# The guest touches and frees 300 MiB, so the file is resident.  Then
# memory is taken in the host (a file in /dev/shm) until MemAvailable falls
# below the low watermark: the target must drop and the file must give back
# at least half of what the target asks for, within a bounded time.  The
# hog removed, the guest must deflate back to its ceiling.  QEMU killed,
# the bridge must unregister the VM (and wait for it to come back).
#
# Exit: 0 pass, 1 fail, 4 skip.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/balloon-e2e.sh
. "$top/selftests/lib/balloon-e2e.sh"
GUEST_MB=512
FLOOR_MB=128
BOOT_S=${BALLOON_E2E_BOOT_S:-600}
RECLAIM_S=${BALLOON_E2E_RECLAIM_S:-180}

say() { echo "# e2e: $*"; }
skip() { say "SKIP: $*"; exit 4; }
fail() {
	say "FAIL: $*"
	[ -f "$dir/balloond.log" ] && sed 's/^/# balloond: /' "$dir/balloond.log" | tail -n 20
	[ -f "$dir/serial" ] && tail -n 15 "$dir/serial" | sed 's/^/# guest: /'
	[ -r "$bal_vms" ] && sed 's/^/# vms: /' "$bal_vms"
	exit 1
}

[ -d "$bal_sys" ] || skip "vmaccel_balloon is not loaded"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
kernel=/boot/vmlinuz-$(uname -r)
[ -r "$kernel" ] || for kernel in /boot/vmlinuz-*; do :; done	# the last one
[ -r "$kernel" ] || skip "no guest kernel in /boot"
kver=${kernel#/boot/vmlinuz-}
kernel=$(sh "$top/selftests/lib/guest-kernel.sh" "$kver") || skip "no /boot/vmlinuz-$kver"
[ -d "/lib/modules/$kver/kernel" ] || skip "no modules for $kver"
command -v busybox >/dev/null || skip "no busybox"
[ -x "$top/tools/vmaccel-balloond" ] || skip "no tools/vmaccel-balloond"

dir=$(mktemp -d)
qpid='' bpid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null
	wait 2>/dev/null
	rm -f /dev/shm/vmaccel-balloon-hog
	mountpoint -q "$dir/fs" 2>/dev/null && umount "$dir/fs"
	rm -rf "$dir"
	echo -1 2>/dev/null >"$bal_sys/test_available_pct"
	balloon_defaults
}
trap cleanup EXIT

# --- the guest's initramfs ---
mkdir -p "$dir/fs"
cat >"$dir/init" <<'INIT'
#!/bin/busybox sh
# Touch 300 MiB and free it: resident in the host's file, free in here.
dd if=/dev/zero of=/fill bs=1M count=300 2>/dev/null
rm /fill
echo "GUEST-READY $(awk '/MemAvailable/ { print int($2 / 1024) " MiB available" }' /proc/meminfo)"
while :; do
	sleep 10
	echo "guest: $(grep -E 'MemTotal' /proc/meminfo | tr -s ' ')"
done
INIT
sh "$top/selftests/lib/guest-initramfs.sh" "$kver" "$dir/init" "$dir/initrd" \
	virtio_balloon || fail "guest initramfs"

# --- guest RAM on vmaccelfs when there is one ---
if grep -qw vmaccelfs /proc/filesystems && mount -t vmaccelfs none "$dir/fs"; then
	ramfs=vmaccelfs
else
	ramfs=tmpfs
fi
ram=$dir/fs/ram
say "guest RAM: $GUEST_MB MiB in a $ramfs file; kernel $kver"

qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m "$GUEST_MB" -nodefaults \
	-no-reboot -display none -no-user-config \
	-object "memory-backend-file,id=ram,mem-path=$ram,size=${GUEST_MB}M,share=on" \
	-machine pc,memory-backend=ram \
	-device virtio-balloon-pci,id=balloon0 \
	-qmp "unix:$dir/qmp,server=on,wait=off" \
	-qmp "unix:$dir/qmp2,server=on,wait=off" \
	-kernel "$kernel" -initrd "$dir/initrd" \
	-append "console=ttyS0 quiet panic=-1 $(cat "$top/selftests/lib/guest-cmdline")" \
	-serial "file:$dir/serial" >"$dir/qemu.log" 2>&1 &
qpid=$!

start=$(date +%s)
until grep -q GUEST-READY "$dir/serial" 2>/dev/null; do
	kill -0 "$qpid" 2>/dev/null || { cat "$dir/qemu.log"; fail "QEMU exited"; }
	[ $(($(date +%s) - start)) -lt "$BOOT_S" ] || fail "guest not up in ${BOOT_S}s"
	sleep 2
done
say "guest up in $(($(date +%s) - start))s: $(grep -o 'GUEST-READY.*' "$dir/serial")"

qmp2() {	# qmp2 COMMAND: QEMU's answer, on the second monitor
	python3 - "$dir/qmp2" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for c in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": c}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            break
print(json.dumps(r.get("return", r.get("error"))))
PY
}
res0=$(balloon_resident "$ram")
say "resident after the guest's 300 MiB: $res0 MiB"
[ "$res0" -ge 300 ] || fail "the guest's memory is not resident in $ram ($res0 MiB)"

# --- the bridge ---
balloon_bridge "$top" guest1 "$dir/qmp" "$ram" "$FLOOR_MB" "$dir/balloond.log"
bpid=$bal_pid
balloon_wait_stats
case $? in
1) fail "the bridge exited" ;;
2) fail "no guest statistics in 60s" ;;
esac
say "guest reports $(( $(balloon_vmfield 10) / 1048576 )) MiB available"
[ "$(balloon_vmfield 5)" = $((GUEST_MB * 1048576)) ] || fail "target moved before any pressure"

# --- host pressure: the band just below what is available now ---
cur=$(cat "$bal_sys/host_available_pct")
[ "$cur" -ge 40 ] || skip "only $cur % of host memory available"
balloon_squeeze "$cur" /dev/shm/vmaccel-balloon-hog
say "host: $cur % available, took $hog MiB: now $(cat "$bal_sys/host_available_pct") % (band $((cur - 10))-$((cur - 5)))"

start=$(date +%s) ok=
balloon_wait_reclaim "$ram" "$res0" "$GUEST_MB" "$RECLAIM_S" && ok=1
t=$(($(date +%s) - start))
say "target $target MiB (asked $asked MiB): the file gave back $got MiB in ${t}s"
[ -n "$ok" ] || fail "less than half of what was asked came back in ${RECLAIM_S}s"
say "QEMU: $(qmp2 query-balloon)"

# --- pressure gone: back to the ceiling ---
rm -f /dev/shm/vmaccel-balloon-hog
start=$(date +%s) ok=
while [ $(($(date +%s) - start)) -lt "$RECLAIM_S" ]; do
	if [ "$(balloon_vmfield 5)" = $((GUEST_MB * 1048576)) ] &&
	   qmp2 query-balloon | grep -q "\"actual\": $((GUEST_MB * 1048576))"; then
		ok=1
		break
	fi
	sleep 2
done
say "pressure gone: target $(($(balloon_vmfield 5) / 1048576)) MiB after $(($(date +%s) - start))s; QEMU: $(qmp2 query-balloon)"
[ -n "$ok" ] || fail "the guest did not deflate back to $GUEST_MB MiB"
{ grep -q "GUEST-READY" "$dir/serial" && kill -0 "$qpid"; } || fail "the guest died"

# --- QEMU goes away: the bridge unregisters it and waits for it ---
kill "$qpid"; wait "$qpid" 2>/dev/null; qpid=
start=$(date +%s)
while [ "$(cat "$bal_sys/vms")" != 0 ] && [ $(($(date +%s) - start)) -lt 30 ]; do sleep 1; done
[ "$(cat "$bal_sys/vms")" = 0 ] || fail "the bridge did not notice QEMU going away: the VM is still registered"
grep -q "unregistered" "$dir/balloond.log" || fail "the bridge did not say it unregistered"
kill -0 "$bpid" 2>/dev/null || fail "the bridge exited instead of waiting for QEMU to come back"
kill -TERM "$bpid"; wait "$bpid"; st=$?; bpid=
[ "$st" = 0 ] || fail "the bridge exited $st on SIGTERM"
sed 's/^/# balloond: /' "$dir/balloond.log" | tail -n 8
say "PASS"
exit 0
