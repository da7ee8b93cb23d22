#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# qemu-migrate.sh NODE TAP NET WORKDIR - live migration of a Linux guest
# whose virtio-net runs on the vhost-net node NODE, while the device is
# writing the guest's memory.
#
# Two stock QEMUs (TCG) run on the same host, each with
#   -netdev tap,ifname=...,vhost=on,vhostforce=on,vhostfd=9   (9: NODE)
# on its own tap, both taps on one bridge with dnsmasq and an HTTP server
# (selftests/lib/e2e_httpd.py).  The guest (the running kernel with a
# busybox initramfs holding virtio_net) takes a lease and then downloads a
# 16 MiB random file over and over, computes each copy's sha256 itself and
# reports it as /sum/<n>/<sha256>.  While a download is in flight (the
# device is writing received packets into guest memory and the used ring)
# the source migrates to the destination (-incoming on a unix socket).
# QEMU only migrates with vhost when the device offers VHOST_F_LOG_ALL,
# and the pages the device writes during the migration reach the
# destination only through the device's dirty log: a page missing there
# shows as a lost or corrupt packet in the guest.  TCP recovers lost
# packets, so our device's own count of pages it marked in the log
# (stats/log_pages) must grow during the migration as well.  Pass =
# migration completed, pages were logged (our device), the download that
# was in flight and one more after it finish on the destination with the
# file's sha256, no failed download, and no guest page differs between
# source and destination at the switchover.
#
# Prints "E2E-RESULT: ok ..." or "E2E-RESULT: fail ..." and exits 0/1
# (4: a prerequisite is missing).
#
# The destination starts paused: at the switchover both sides' guest RAM
# is compared page by page (selftests/lib/ramdiff.py) and must be the same.
# Run by vhost_migrate_qemu_test (make check); by hand in the test VM:
#   tools/vm-run -c 2 -m 3072 -- sh -c 'modprobe tun; modprobe tap; \
#     modprobe vhost_iotlb; insmod vic/vmaccel_vic.ko; \
#     insmod vhost/vmaccel_vhost_net.ko; \
#     sh selftests/vhost/qemu-migrate.sh /dev/vmaccel-vhost-net vhm0 10.77.5 /tmp'
set -u
node=$1 tap=$2 net=$3 dir=$4
timeout_s=${E2E_TIMEOUT:-900}
# Guest RAM: 256 MiB and 8 KiB.  QEMU before 9.0 loses stores of TCG vCPUs
# during a migration (its commit 03bfc2188f, "physmem: Fix migration dirty
# bitmap coherency with TCG memory access"): when a RAM block's size is a
# multiple of 64 pages, the dirty bitmap is synced 64 pages at a time
# without resetting the TCG TLB, and later stores through it are not
# marked.  Seen here with QEMU 7.2: after some runs up to 20 guest pages
# (struct page arrays, slab) differed between source and destination,
# none of them written or logged by the device, and the guest crashed.  A
# size that is not such a multiple takes QEMU's page-at-a-time path, which
# resets the TLB.
ram_kib=${MIGRATE_RAM_KIB:-262152}
host=$net.1
br=${tap}br tsrc=${tap}s tdst=${tap}d
lib=$(cd "$(dirname "$0")/../lib" && pwd)

pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	for l in "$tsrc" "$tdst" "$br"; do ip link del "$l" 2>/dev/null; done
}
fail() {
	echo "E2E-RESULT: fail $*"
	for f in qemu-src.log qemu-dst.log; do
		[ -s "$dir/$f" ] && sed "s/^/# $f: /" "$dir/$f"
	done
	[ -f "$dir/serial.log" ] && grep 'GUEST:' "$dir/serial.log" | sed 's/^/# /'
	cleanup
	exit 1
}
skip() {
	echo "E2E-RESULT: skip $*"
	exit 4
}
qmp() {	# qmp SIDE COMMAND [ARGS]: QEMU's answer as JSON
	python3 "$lib/qmp.py" "$dir/$1.qmp" "$2" ${3+"$3"}
}
count() { grep -c "$1" "$dir/http.log"; }
# Our device counts the guest pages it marks in dirty logs; the control
# (/dev/vhost-net) has no such counter.
logstat=/sys/class/misc/$(basename "$node")/stats/log_pages
logged() { if [ -r "$logstat" ]; then cat "$logstat"; else echo -; fi; }

for c in qemu-system-x86_64 dnsmasq python3 ip; do
	command -v $c >/dev/null || skip "no $c"
done
[ -c "$node" ] || skip "no $node"
kver=$(uname -r)
kernel=$(sh "$lib/guest-kernel.sh" "$kver") || skip "no /boot/vmlinuz-$kver"

mkdir -p "$dir/www"
rm -f "$dir"/*.log "$dir/leases" "$dir"/*.qmp
head -c $((16 << 20)) /dev/urandom >"$dir/www/big.bin"
sum=$(sha256sum "$dir/www/big.bin" | cut -d' ' -f1)

# The guest's init (selftests/lib/guest-initramfs.sh has set up /proc,
# /sys, /dev, the modules and /udhcpc.sh): a lease, then copies forever.
cat >"$dir/init" <<EOS
#!/bin/busybox sh
ifconfig lo up
ifconfig eth0 up
echo "GUEST: dhcp"
udhcpc -i eth0 -n -q -t 30 -s /udhcpc.sh || echo "GUEST: no lease"
echo "GUEST: \$(ifconfig eth0 | grep 'inet addr')"
n=0
while :; do
	n=\$((n + 1))
	if wget -q -O /big http://$host:8080/big.bin; then
		s=\$(sha256sum /big | cut -d' ' -f1)
		echo "GUEST: download \$n sha256 \$s"
		wget -q -O /dev/null http://$host:8080/sum/\$n/\$s
	else
		echo "GUEST: download \$n failed"
		wget -q -O /dev/null http://$host:8080/failed/\$n
	fi
	rm -f /big
done
EOS
why=$(sh "$lib/guest-initramfs.sh" "$kver" "$dir/init" "$dir/initrd" \
	failover net_failover virtio_net 2>&1)
case $? in
0) ;;
4) skip "guest initramfs: $why" ;;
*) fail "guest initramfs: $why" ;;
esac

modprobe -q bridge 2>/dev/null	# not auto-loaded by "ip link add"
ip link add "$br" type bridge forward_delay 0 || fail "ip link add $br type bridge"
ip addr add "$host/24" dev "$br" || fail "ip addr"
ip link set "$br" up || fail "bridge up"
for t in "$tsrc" "$tdst"; do
	ip tuntap add dev "$t" mode tap vnet_hdr || fail "ip tuntap add $t"
	ip link set "$t" master "$br" || fail "enslave $t"
	ip link set "$t" up || fail "$t up"
done

: >"$dir/http.log"
python3 "$lib/e2e_httpd.py" "$dir/www" "$host" "$dir/http.log" &
pids="$pids $!"
dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="$br" \
	--bind-interfaces --except-interface=lo \
	--dhcp-range="$net.10,$net.50,1h" --dhcp-leasefile="$dir/leases" \
	--log-facility="$dir/dnsmasq.log" --pid-file="$dir/dnsmasq.pid" \
	>"$dir/dnsmasq.out" 2>&1 &
pids="$pids $!"

# One QEMU per side, fd 9 on the node opened by the shell as a VMM would.
vm() {	# vm SIDE TAP [ARGS...]
	side=$1 t=$2
	shift 2
	qemu-system-x86_64 -nodefaults -display none -no-user-config -m "${ram_kib}k" \
		-accel tcg -cpu max -no-reboot -kernel "$kernel" -initrd "$dir/initrd" \
		-append "console=ttyS0 quiet panic=-1 $(cat "$lib/guest-cmdline")" \
		-qmp "unix:$dir/$side.qmp,server=on,wait=off" \
		-netdev "tap,id=n0,ifname=$t,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=9" \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:57 \
		"$@" 9<>"$node" >"$dir/qemu-$side.log" 2>&1 &
}
vm src "$tsrc" -serial "file:$dir/serial.log"
src=$!
pids="$pids $src"
vm dst "$tdst" -serial "file:$dir/serial-dst.log" -incoming "unix:$dir/migrate.sock" -S
dst=$!
pids="$pids $dst"

start=$(date +%s)
elapsed() { echo $(($(date +%s) - start)); }
# Up and downloading: one copy done, the next one in flight.
until [ "$(count '^GET /sum/')" -ge 1 ] &&
      [ "$(count '^START /big.bin')" -gt "$(count '^SENT /big.bin')" ]; do
	grep -q '^GET /failed' "$dir/http.log" && fail "a download failed before the migration"
	kill -0 "$src" 2>/dev/null || fail "source QEMU exited"
	kill -0 "$dst" 2>/dev/null || fail "destination QEMU exited"
	[ "$(elapsed)" -lt "$timeout_s" ] || fail "no download in flight after $(elapsed)s"
	sleep 1
done
boot=$(elapsed)
sums0=$(count '^GET /sum/')
log0=$(logged)
qmp src migrate-set-parameters '{"max-bandwidth": 1073741824, "downtime-limit": 500}' \
	>/dev/null || fail "migrate-set-parameters"
qmp src migrate "{\"uri\": \"unix:$dir/migrate.sock\"}" >/dev/null || fail "migrate"
mstart=$(date +%s)
while :; do
	st=$(qmp src query-migrate) || fail "query-migrate"
	case $st in
	*'"status": "completed"'*) break ;;
	*'"status": "failed"'* | *'"status": "cancelled"'*) fail "migration: $st" ;;
	esac
	[ $(($(date +%s) - mstart)) -lt 600 ] || fail "migration not done in 600s: $st"
	sleep 1
done
msecs=$(($(date +%s) - mstart))
log1=$(logged)
# The copies that ended during the migration were seen by the source.
sums1=$(count '^GET /sum/')
inflight=$(($(count '^START /big.bin') - $(count '^SENT /big.bin')))
echo "# migration: ${msecs}s after ${boot}s, download in flight at its end: $inflight, pages marked in the dirty log: $log0 -> $log1; $(echo "$st" | python3 -c '
import json, sys
m = json.load(sys.stdin)
r = m.get("ram", {})
print("total-time %s ms, downtime %s ms, ram transferred %s MiB, dirty syncs %s" % (
    m.get("total-time"), m.get("downtime"), r.get("transferred", 0) >> 20,
    r.get("dirty-sync-count")))')"
# QEMU turns the device's logging on for the migration; a device that
# marks nothing would lose what it wrote while the guest's RAM was copied.
if [ "$log1" != - ] && [ "$log1" -le "$log0" ]; then
	fail "the device marked no page in the dirty log during the migration"
fi
# wait_dst PATTERN SECS WHAT: until the destination's query-status
# matches PATTERN; fails when it exits or after SECS seconds.
wait_dst() {
	t=0
	until qmp dst query-status 2>/dev/null | grep -q "$1"; do
		kill -0 "$dst" 2>/dev/null || { wait "$dst"; fail "destination QEMU exited (status $?)"; }
		t=$((t + 1))
		[ "$t" -lt "$2" ] || fail "the destination is not $3 ${2}s after the migration: $(qmp dst query-status 2>&1)"
		sleep 1
	done
}
# The destination waits (-S) while both sides' RAM is compared page by
# page: at the switchover it must be the same, or the destination runs
# with pages that were written on the source after their last copy.  The
# pages that differ, with the first bytes that do, are printed.
wait_dst '"status": "paused"' 60 paused
: >"$dir/diff.txt"
off=0 chunk=$((32 << 20)) ram=$((ram_kib * 1024))
while [ "$off" -lt "$ram" ]; do
	n=$((ram - off < chunk ? ram - off : chunk))
	for side in src dst; do
		qmp $side pmemsave "{\"val\": $off, \"size\": $n, \"filename\": \"$dir/ram-$side.bin\"}" \
			>/dev/null || fail "pmemsave on the $side side"
	done
	python3 "$lib/ramdiff.py" "$dir/ram-src.bin" "$dir/ram-dst.bin" "$off" >>"$dir/diff.txt" ||
		fail "comparing the RAM at $off"
	rm -f "$dir/ram-src.bin" "$dir/ram-dst.bin"
	off=$((off + n))
done
ndiff=$(grep -c '^page' "$dir/diff.txt")
echo "# RAM at the switchover: $ndiff of $((ram / 4096)) pages differ between source and destination"
[ "$ndiff" -eq 0 ] || { head -n 32 "$dir/diff.txt" | sed 's/^/# /'; fail "$ndiff guest pages differ between source and destination at the switchover"; }
qmp dst cont >/dev/null || fail "cont on the destination"
qmp src quit >/dev/null 2>&1
wait "$src" 2>/dev/null
wait_dst '"running": true' 30 running

# On the destination: the copy in flight (if it did not end during the
# migration) and at least one whole copy after it.
want=$((sums1 + 2))
until [ "$(count '^GET /sum/')" -ge "$want" ]; do
	grep -q '^GET /failed' "$dir/http.log" && fail "a download failed after the migration"
	kill -0 "$dst" 2>/dev/null || fail "destination QEMU exited"
	[ "$(elapsed)" -lt "$timeout_s" ] || fail "destination: $(count '^GET /sum/') of $want copies after $(elapsed)s"
	sleep 1
done
grep 'GUEST:' "$dir/serial.log" | sed 's/^/# source: /'
grep 'GUEST:' "$dir/serial-dst.log" | sed 's/^/# destination: /'
echo "# http: $(tr '\n' ';' <"$dir/http.log")"
grep -q '^GET /failed' "$dir/http.log" && fail "a download failed"
bad=$(grep '^GET /sum/' "$dir/http.log" | grep -vc "/$sum\$")
[ "$bad" -eq 0 ] || fail "$bad copies with a sha256 other than the file's"
cleanup
echo "E2E-RESULT: ok node=$node migrated in ${msecs}s with a download in flight (dirty log $log0 -> $log1 pages), $(count '^GET /sum/') copies sha256=$sum ($sums0 before, $((sums1 - sums0)) during, $(($(count '^GET /sum/') - sums1)) after the migration)"
exit 0
