#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# qemu-e2e.sh NODE TAP NET WORKDIR [ipxe|linux] - a stock QEMU using a
# vhost-net node.
#
# ipxe (the default): QEMU (TCG) boots iPXE from its virtio-net ROM with
#   -netdev tap,ifname=TAP,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=9
# where fd 9 is NODE opened read-write (/dev/vmaccel-vhost-net, or
# /dev/vhost-net as the control).  dnsmasq on TAP gives iPXE a DHCP lease
# whose boot file is an iPXE script on a small HTTP server (python3) on the
# host side; the script downloads a 16 MiB random file, then fetches
# /done/<bytes-it-got>.  The server checks what it sent against the
# file's sha256 and length; iPXE only moves on after a complete download
# (Content-Length, TCP checksums).  NET is the /24 prefix, e.g. 10.77.1.
#
# linux: QEMU boots the running kernel with a busybox initramfs holding
# virtio_net (and failover, net_failover, the virtio transport when they
# are modules; built by ../lib/guest-initramfs.sh); the guest gets its
# address with udhcpc from the same dnsmasq, downloads the same file with
# wget, computes its sha256 itself and fetches /done/<sha256>: the guest's
# own checksum must match the file.
#
# Prints "E2E-RESULT: ok ..." or "E2E-RESULT: fail ..." and exits 0/1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
node=$1 tap=$2 net=$3 dir=$4 guest=${5:-ipxe}
timeout_s=${E2E_TIMEOUT:-600}
host=$net.1

fail() {
	echo "E2E-RESULT: fail $*"
	cleanup
	exit 1
}
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	ip link del "$tap" 2>/dev/null
}

for c in qemu-system-x86_64 dnsmasq python3 ip; do
	command -v $c >/dev/null || { echo "E2E-RESULT: skip no $c"; exit 4; }
done
[ -c "$node" ] || { echo "E2E-RESULT: skip no $node"; exit 4; }
if [ "$guest" = linux ]; then
	kernel=$(sh "$top/selftests/lib/guest-kernel.sh" "$(uname -r)") ||
		{ echo "E2E-RESULT: skip no /boot/vmlinuz-$(uname -r)"; exit 4; }
fi

mkdir -p "$dir/www"
# Nothing from an earlier run in the same directory may count for this one.
rm -f "$dir/dnsmasq.log" "$dir/leases" "$dir/http.log" "$dir/serial.log" "$dir/qemu.log"
head -c $((16 << 20)) /dev/urandom >"$dir/www/big.bin"
sum=$(sha256sum "$dir/www/big.bin" | cut -d' ' -f1)
cat >"$dir/www/boot.ipxe" <<EOS
#!ipxe
echo vmaccel e2e: got \${net0/ip}
imgfetch --name big http://$host:8080/big.bin || goto failed
imgfree big
chain http://$host:8080/done || goto failed
:failed
chain http://$host:8080/failed
EOS

if [ "$guest" = linux ]; then
	# The guest's init: DHCP, the download and the checksum.
	cat >"$dir/init" <<EOS
#!/bin/busybox sh
ifconfig lo up
ifconfig eth0 up
echo "GUEST: dhcp"
udhcpc -i eth0 -n -q -t 30 -s /udhcpc.sh || echo "GUEST: no lease"
echo "GUEST: \$(ifconfig eth0 | grep 'inet addr')"
if wget -q -O /big http://$host:8080/big.bin; then
	sum=\$(sha256sum /big | cut -d' ' -f1)
	echo "GUEST: sha256 \$sum size \$(wc -c </big)"
	wget -q -O /dev/null http://$host:8080/done/\$sum
else
	echo "GUEST: wget failed"
	wget -q -O /dev/null http://$host:8080/failed
fi
while :; do sleep 60; done
EOS
	why=$(sh "$top/selftests/lib/guest-initramfs.sh" "$(uname -r)" \
		"$dir/init" "$dir/initrd" failover net_failover virtio_net 2>&1)
	case $? in
	0) ;;
	4) echo "E2E-RESULT: skip $why"; exit 4 ;;
	*) fail "initramfs: $why" ;;
	esac
fi

ip tuntap add dev "$tap" mode tap vnet_hdr || fail "ip tuntap add"
ip addr add "$host/24" dev "$tap" || fail "ip addr"
ip link set "$tap" up || fail "ip link up"

# The HTTP server logs each request and how many bytes of a file it sent
# (START/SENT/GET lines, selftests/lib/e2e_httpd.py).
: >"$dir/http.log"
python3 "$top/selftests/lib/e2e_httpd.py" "$dir/www" "$host" "$dir/http.log" &
pids="$pids $!"

dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="$tap" \
	--bind-interfaces --except-interface=lo \
	--dhcp-range="$net.10,$net.50,1h" --dhcp-leasefile="$dir/leases" \
	--dhcp-boot="http://$host:8080/boot.ipxe" --log-dhcp \
	--log-facility="$dir/dnsmasq.log" --pid-file="$dir/dnsmasq.pid" \
	>"$dir/dnsmasq.out" 2>&1 &
pids="$pids $!"

# fd 9: the vhost-net node, opened by the shell as a VMM would.
if [ "$guest" = linux ]; then
	set -- -cpu max -no-reboot -kernel "$kernel" -initrd "$dir/initrd" \
		-append "console=ttyS0 quiet panic=-1 $(cat "$top/selftests/lib/guest-cmdline")"
else
	set -- -boot n
fi
qemu-system-x86_64 -nodefaults -display none -no-user-config -m 256 \
	-accel tcg -serial "file:$dir/serial.log" "$@" \
	-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=9" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \
	9<>"$node" >"$dir/qemu.log" 2>&1 &
qpid=$!
pids="$pids $qpid"

start=$(date +%s)
while :; do
	grep -q '^GET /done' "$dir/http.log" && break
	grep -q '^GET /failed' "$dir/http.log" && fail "iPXE reported a failed download"
	if ! kill -0 "$qpid" 2>/dev/null; then
		# Why: QEMU's own messages and the end of the guest's console
		# (a guest panic ends QEMU: -no-reboot, panic=-1).
		wait "$qpid"
		echo "# qemu exit status $? after $(($(date +%s) - start))s; qemu.log:"
		sed 's/^/#   /' "$dir/qemu.log"
		echo "# guest console, last lines:"
		tail -n 40 "$dir/serial.log" 2>/dev/null | tr -d '\r' | sed 's/^/#   /'
		fail "qemu exited"
	fi
	[ $(($(date +%s) - start)) -gt "$timeout_s" ] && break
	sleep 1
done
secs=$(($(date +%s) - start))
lease=$(grep -c 'DHCPACK' "$dir/dnsmasq.log" 2>/dev/null)
sent=$(grep '^SENT /big.bin' "$dir/http.log" | tail -n 1)
echo "# dnsmasq: $(grep -E 'DHCP(DISCOVER|OFFER|REQUEST|ACK)' "$dir/dnsmasq.log" | sed 's/.*dnsmasq-dhcp[^ ]* //' | tr '\n' ';')"
echo "# http: $(tr '\n' ';' <"$dir/http.log")"
[ "${lease:-0}" -ge 1 ] || fail "no DHCP lease after ${secs}s"
grep -q '^GET /done' "$dir/http.log" || fail "DHCP ok, download not completed after ${secs}s ($sent)"
[ "$sent" = "SENT /big.bin $((16 << 20)) $sum" ] || fail "served bytes do not match the file: $sent"
if [ "$guest" = linux ]; then
	grep 'GUEST:' "$dir/serial.log" | sed 's/^/# /'
	grep -q "^GET /done/$sum\$" "$dir/http.log" ||
		fail "the guest's sha256 of what it received is not the file's"
fi
cleanup
echo "E2E-RESULT: ok node=$node guest=$guest lease=yes download=16MiB sha256=$sum seconds=$secs"
exit 0
