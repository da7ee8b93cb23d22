#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# vic_e2e.sh [-c] [-r ROUNDS] [-n RR_N] [-b STREAM_BYTES] [-u UX_N] [-p UX_PPS]
#	WORKDIR - vmaccel_vic
# seen from a Linux guest: vic off against adaptive, in the same guest, in the
# same run.
#
# Stock QEMU (TCG, or KVM with VIC_E2E_ACCEL=kvm) boots the running kernel
# (/boot/vmlinuz-$(uname -r)) with a busybox initramfs holding virtio_net
# (selftests/lib/guest-initramfs.sh) and the static client vic_e2e_net
# (bench/vic/vic_e2e_net.c, build/bench/vic/).  The guest has two virtio-net
# NICs, both with vhost=on,vhostforce=on,vhostfd= on /dev/vmaccel-vhost-net,
# each on its own tap and /24:
#   off       the node opened while /sys/class/misc/vmaccel-vic/default_mode
#             was "off": every notification of its queues is an interrupt;
#   adaptive  opened while it was "adaptive" (the other default_* knobs as
#             they are); the knob is restored afterwards.
# VIC_E2E_KNOBS="default_iops_threshold=100 ..." sets other knobs of
# /sys/class/misc/vmaccel-vic/ for the adaptive NIC only (restored too).
# Under TCG it defaults to the knobs scaled to a nested TCG guest, which
# handles a packet in milliseconds, not microseconds: no rate threshold,
# a 30 ms backstop instead of 200 us, and CIF threshold 1 (ratio = the
# completions expected within one backstop); under KVM to none (the
# defaults as they are); set but empty, to none as well.  The script
# prints the knobs it used, in its result line too.  They are set only
# while the adaptive NIC's node is opened (a device takes vic's defaults
# at open), and restored right after.
# (A device takes vic's parameters at open; they cannot be changed later by
# anyone but the VMM that owns it, so each mode gets its own NIC.)
#
# The guest runs, ROUNDS times, each mode in turn (the first mode alternates
# between rounds), on that mode's NIC, three phases against vic_e2e_net serve
# on the host side of the taps:
#   rr  RR_N UDP request/response transactions, one in flight (CIF 1);
#       latency p50/p99 as the guest's client measured it;
#   rx  one TCP stream of STREAM_BYTES from the host to the guest;
#   tx  the same from the guest to the host;
#   ux  a UDP stream to the guest: UX_N datagrams of 1 KiB at UX_PPS per
#       second, none answered (a stream of packets, not of bytes: the TCP
#       streams above are few large GSO packets, each acknowledged).
# Before and after each phase the guest prints on its serial console the
# /proc/interrupts lines of that NIC's virtio device (virtioN-input.0,
# -output.0), its rx/tx packet counters and the busy and idle time of
# /proc/stat.  Per phase: guest interrupts per packet (both queues' lines
# over rx+tx packets of the NIC), guest CPU per packet (busy time over
# packets: everything the guest did, in us) and, for rr, vic's own
# deferred and backstop counts (module totals, read on the host by the
# server at the phase's begin and end while the guest waits).
#
# The default rates suit a nested TCG guest (a few hundred packets per
# second at most); on a real KVM host use far more (see below).
#
# Prints each phase, then a table of medians over the rounds with their
# range (min-max), and adaptive / off as ratios of the medians.  No time
# is compared in the checks (the UDP stream's rate, set by the host's
# pacing, decides how much vic coalesces, though): with -c (the selftest, selftests/vic/
# vic_e2e_qemu_test.c) it exits 1 unless the rr phases of the adaptive
# NIC deferred nothing and fired no backstop, off deferred nothing
# anywhere, and on the UDP stream adaptive deferred completions and its
# median interrupts per packet is below off's, with no more datagrams lost
# than off beyond 2 % (3 at least: a slow guest drops some on either NIC;
# coalescing must not).  The TCP streams are
# measured and printed, not checked: in a nested TCG guest they are a few
# large GSO packets, each acknowledged (CIF 1 or 2), and holding their
# interrupts back only delays the acknowledgements that clock the stream
# (a note gives their ratios).  -s "rr rx ux" runs only the phases named
# (default all four); a TCP phase that runs must still complete and be
# measured.  The selftest leaves tx out, which saves it a minute of a
# nested TCG guest.
# Exit: 0 ok, 1 failed (E2E-RESULT: fail ...), 4 something missing (skip).
#
# On a real KVM host: load vmaccel_vhost_net, build (make bench), then
#   VIC_E2E_ACCEL=kvm sh <this script> -r 5 -n 20000 -b 268435456 \
#	-u 200000 -p 100000 /tmp/vice2e
# shellcheck disable=SC2086 # $nets and $taps are lists of words
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
check=0 rounds=2 rr_n=2000 bytes=$((8 << 20)) ux_n=300 ux_pps=100
phases="rr rx tx ux"
while getopts cr:n:b:u:p:s: o; do
	case $o in
	c) check=1 ;;
	r) rounds=$OPTARG ;;
	n) rr_n=$OPTARG ;;
	b) bytes=$OPTARG ;;
	u) ux_n=$OPTARG ;;
	p) ux_pps=$OPTARG ;;
	s) phases=$OPTARG ;;
	*) echo "usage: $0 [-c] [-r ROUNDS] [-n RR_N] [-b BYTES]" \
		"[-u UX_N] [-p UX_PPS] [-s PHASES] WORKDIR" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
for p in $phases; do
	case $p in rr | rx | tx | ux) ;; *) echo "$0: unknown phase $p" >&2; exit 2 ;; esac
done
# -c checks the rr and UDP stream phases: both must run.
case " $phases " in
*" rr "*" ux "* | *" ux "*" rr "*) ;;
*) [ "$check" = 0 ] || { echo "$0: -c needs the rr and ux phases" >&2; exit 2; } ;;
esac
dir=${1:?usage: $0 [-c] [-r ROUNDS] [-n RR_N] [-b BYTES] [-u UX_N] [-p UX_PPS] [-s PHASES] WORKDIR}
node=${VIC_E2E_NODE:-/dev/vmaccel-vhost-net}
accel=${VIC_E2E_ACCEL:-tcg}
if [ "$accel" = tcg ]; then
	tcg_knobs="default_iops_threshold=0 default_max_delay_us=30000"
	knobs=${VIC_E2E_KNOBS-$tcg_knobs default_cif_threshold=1}
else
	knobs=${VIC_E2E_KNOBS-}
fi
timeout_s=${E2E_TIMEOUT:-900}
bin=${VIC_E2E_NET:-$top/build/bench/vic/vic_e2e_net}
knob=/sys/class/misc/vmaccel-vic
port=7777
taps="vce0 vce1" nets="10.77.11 10.77.12" modes="off adaptive"

skip() { echo "E2E-RESULT: skip $*"; exit 4; }
pids=
saved_mode=
saved_knobs=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=
	for t in $taps; do ip link del "$t" 2>/dev/null; done
	for kv in $saved_knobs; do echo "${kv#*=}" >"$knob/${kv%%=*}"; done
	saved_knobs=
	[ -n "$saved_mode" ] && echo "$saved_mode" >"$knob/default_mode"
	saved_mode=
}
fail() {
	echo "E2E-RESULT: fail $*"
	cleanup
	exit 1
}

for c in qemu-system-x86_64 ip; do
	command -v $c >/dev/null || skip "no $c"
done
[ -c "$node" ] || skip "no $node (vmaccel_vhost_net not loaded)"
[ -w "$knob/default_mode" ] || skip "no $knob/default_mode"
[ -x "$bin" ] || skip "no $bin (make bench)"
kernel=$(sh "$top/selftests/lib/guest-kernel.sh" "$(uname -r)") ||
	skip "no /boot/vmlinuz-$(uname -r)"
mkdir -p "$dir" || fail "mkdir $dir"
rm -f "$dir/serial.log" "$dir/qemu.log" "$dir/server.log"

# The guest: static addresses (no DHCP: nothing but our traffic on the
# NICs), found by MAC; then the rounds.
{
	cat <<'EOS'
#!/bin/busybox sh
nic_of() {
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address")" = "$1" ] && { basename "$d"; return; }
	done
}
snap() {	# snap LABEL begin|end IFACE
	v=$(basename "$(readlink "/sys/class/net/$3/device")")
	grep -E "$v(-input|-output|\$)" /proc/interrupts | sed "s/^/VICE2E-IRQ $1 $2:/"
	irq=$(grep -E "$v(-input|-output|\$)" /proc/interrupts |
		awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }')
	st=/sys/class/net/$3/statistics
	cpu=$(awk '/^cpu / { print "busy=" $2 + $3 + $4 + $7 + $8 + $9, "idle=" $5 + $6 }' /proc/stat)
	echo "VICE2E $1 $2 irq=$irq rx=$(cat $st/rx_packets) tx=$(cat $st/tx_packets) $cpu"
}
phase() {	# phase WHAT MODE ROUND IFACE HOST
	l=$1.$2.$3
	/vic_e2e_net mark B "$5" PORT "$l" || echo "VICE2E-FAIL $l"
	snap "$l" begin "$4"
	case $1 in
	rr) /vic_e2e_net rr "$5" PORT RR_N "$l" ;;
	ux) /vic_e2e_net ux "$5" PORT UX_N UX_PPS "$l" ;;
	*) /vic_e2e_net "$1" "$5" PORT BYTES "$l" ;;
	esac || echo "VICE2E-FAIL $l"
	snap "$l" end "$4"
	/vic_e2e_net mark E "$5" PORT "$l" || echo "VICE2E-FAIL $l"
}
ifconfig lo up
EOS
	i=0
	for m in $modes; do
		set -- $nets
		shift $i
		echo "if_$m=\$(nic_of 52:54:00:12:0e:0$i)"
		echo "ifconfig \$if_$m $1.2 netmask 255.255.255.0 up"
		echo "host_$m=$1.1"
		i=$((i + 1))
	done
	cat <<'EOS'
echo "VICE2E-NICS off=$if_off adaptive=$if_adaptive"
sleep 2
r=1
while [ $r -le ROUNDS ]; do
	order="off adaptive"
	[ $((r % 2)) = 0 ] && order="adaptive off"
	for m in $order; do
		eval "i=\$if_$m h=\$host_$m"
		for p in PHASES; do phase $p $m $r "$i" "$h"; done
	done
	r=$((r + 1))
done
echo "VICE2E-DONE"
while :; do sleep 60; done
EOS
} | sed -e "s/PORT/$port/g" -e "s/RR_N/$rr_n/g" -e "s/BYTES/$bytes/g" \
	-e "s/ROUNDS/$rounds/g" -e "s/UX_N/$ux_n/g" -e "s/UX_PPS/$ux_pps/g" \
	-e "s/PHASES/$phases/g" \
	>"$dir/init"

why=$(sh "$top/selftests/lib/guest-initramfs.sh" "$(uname -r)" \
	"$dir/init" "$dir/initrd" failover net_failover virtio_net 2>&1)
case $? in
0) ;;
4) skip "$why" ;;
*) fail "initramfs: $why" ;;
esac
# The client, appended as a second archive (the kernel unpacks both).
rm -rf "$dir/extra"
mkdir -p "$dir/extra" || fail "mkdir $dir/extra"
cp "$bin" "$dir/extra/vic_e2e_net" || fail "copy $bin"
(cd "$dir/extra" && echo vic_e2e_net | cpio -o -H newc --quiet | gzip -1) \
	>>"$dir/initrd" || fail "cpio"

set -- $nets
for t in $taps; do
	ip tuntap add dev "$t" mode tap vnet_hdr || fail "ip tuntap add $t"
	ip addr add "$1.1/24" dev "$t" || fail "ip addr $t"
	ip link set "$t" up || fail "ip link up $t"
	shift
done

"$bin" serve $port "$knob/completions" "$knob/interrupts" "$knob/deferred" \
	"$knob/backstop" >"$dir/server.log" 2>&1 &
pids="$pids $!"

# fd 8: the node opened with vic off, fd 9: with adaptive.
saved_mode=$(cat "$knob/default_mode")
echo off >"$knob/default_mode" || fail "default_mode off"
exec 8<>"$node"
echo adaptive >"$knob/default_mode" || fail "default_mode adaptive"
echo "adaptive NIC: default_mode=adaptive $knobs"
for kv in $knobs; do
	k=${kv%%=*}
	saved_knobs="$saved_knobs $k=$(cat "$knob/$k")" || fail "no $knob/$k"
	echo "${kv#*=}" >"$knob/$k" || fail "$kv"
done
exec 9<>"$node"
for kv in $saved_knobs; do echo "${kv#*=}" >"$knob/${kv%%=*}"; done
saved_knobs=
echo "$saved_mode" >"$knob/default_mode"
saved_mode=

if [ "$accel" = kvm ]; then
	set -- -accel kvm -cpu host
else
	set -- -accel tcg -cpu max
fi
qemu-system-x86_64 -nodefaults -display none -no-user-config -m 256 -smp 1 \
	"$@" -serial "file:$dir/serial.log" -no-reboot \
	-kernel "$kernel" -initrd "$dir/initrd" \
	-append "console=ttyS0 quiet panic=-1" \
	-netdev "tap,id=n0,ifname=vce0,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=8" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:12:0e:00 \
	-netdev "tap,id=n1,ifname=vce1,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=9" \
	-device virtio-net-pci,netdev=n1,mac=52:54:00:12:0e:01 \
	>"$dir/qemu.log" 2>&1 &
qpid=$!
pids="$pids $qpid"
exec 8<&- 9<&-

start=$(date +%s)
while ! grep -q VICE2E-DONE "$dir/serial.log" 2>/dev/null; do
	if ! kill -0 "$qpid" 2>/dev/null; then
		sed 's/^/# qemu: /' "$dir/qemu.log"
		tail -n 30 "$dir/serial.log" 2>/dev/null | tr -d '\r' | sed 's/^/# guest: /'
		fail "qemu exited after $(($(date +%s) - start))s"
	fi
	if [ $(($(date +%s) - start)) -gt "$timeout_s" ]; then
		tail -n 30 "$dir/serial.log" 2>/dev/null | tr -d '\r' | sed 's/^/# guest: /'
		fail "no end of the guest's rounds after ${timeout_s}s"
	fi
	sleep 1
done
secs=$(($(date +%s) - start))
cleanup
tr -d '\r' <"$dir/serial.log" >"$dir/guest.log"
grep -q VICE2E-FAIL "$dir/guest.log" &&
	fail "a phase failed in the guest: $(grep VICE2E-FAIL "$dir/guest.log" | tr '\n' ' ')"

# Per phase, then the table.  awk reads the server's COUNTERS lines and the
# guest's VICE2E/RR/STREAM lines.
cat "$dir/server.log" "$dir/guest.log" | awk -v check=$check -v secs="$secs" -v phases="$phases" \
	-v knobs="${knobs:-none}" '
function med(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function kv(s, k,    i, f) {
	for (i = 1; i <= NF; i++)
		if (index($i, k "=") == 1)
			return substr($i, length(k) + 2)
	return ""
}
function add(key, v) {
	v += 0
	n[key]++; vals[key, n[key]] = v
	if (!(key in lo) || v < lo[key]) lo[key] = v
	if (!(key in hi) || v > hi[key]) hi[key] = v
}
function m(key,    i, a) {
	if (!n[key]) return 0
	for (i = 1; i <= n[key]; i++) a[i] = vals[key, i]
	return med(a, n[key])
}
function cell(key, fmt) {
	if (!n[key]) return sprintf("%22s", "-")
	return sprintf("%22s", sprintf(fmt " (" fmt "-" fmt ")", m(key), lo[key], hi[key]))
}
function ratio(key) {
	return m(key "|off") > 0 && n[key "|adaptive"] ? sprintf("%8.2f", m(key "|adaptive") / m(key "|off")) : sprintf("%8s", "-")
}
$1 == "COUNTERS" {
	# The last report of a phase counts (a lost answer makes the guest
	# send its end mark again).
	cnt[$2, "deferred"] = kv($0, "deferred"); cnt[$2, "backstop"] = kv($0, "backstop")
	cnt[$2, "completions"] = kv($0, "completions"); labels[$2] = 1
	next
}
$1 == "VICE2E" && ($3 == "begin" || $3 == "end") {
	for (k = 4; k <= NF; k++) {
		split($k, f, "="); s[$2, $3, f[1]] = f[2]
	}
	if ($3 == "end") {
		split($2, l, "."); ph = l[1]; mode = l[2]
		pk = s[$2, "end", "rx"] - s[$2, "begin", "rx"] + s[$2, "end", "tx"] - s[$2, "begin", "tx"]
		irq = s[$2, "end", "irq"] - s[$2, "begin", "irq"]
		busy = s[$2, "end", "busy"] - s[$2, "begin", "busy"]
		if (pk > 0) {
			add(ph "_irqpk|" mode, irq / pk)
			add(ph "_cpupk|" mode, busy * 10000 / pk)
		}
		printf("# %-16s packets %8d irqs %7d irq/pkt %.3f cpu/pkt %.1f us\n", $2, pk, irq, pk ? irq / pk : 0, pk ? busy * 10000 / pk : 0)
	}
	next
}
$1 == "RR" {
	split($2, l, "."); mode = l[2]
	add("rr_p50|" mode, kv($0, "p50_us")); add("rr_p99|" mode, kv($0, "p99_us"))
	print "# " $0
	next
}
$1 == "STREAM" {
	split($2, l, "."); mode = l[2]
	add(l[1] "_mbit|" mode, kv($0, "mbit_s"))
	if (kv($0, "got") != "")
		add(l[1] "_got|" mode, kv($0, "got"))
	print "# " $0
	next
}
END {
	for (lb in labels) {
		split(lb, l, "."); k = l[1] "|" l[2]
		deferred[k] += cnt[lb, "deferred"]; backstop[k] += cnt[lb, "backstop"]
		compl[k] += cnt[lb, "completions"]
	}
	printf("\nvic end to end: median (min-max) over the rounds; adaptive/off = ratio of medians\n")
	printf("%-26s %22s %22s %8s\n", "metric", "off", "adaptive", "ad/off")
	nrows = split("ux_irqpk:udp stream, guest irq/pkt:%.3f;" \
	    "rx_irqpk:rx stream, guest irq/pkt:%.3f;tx_irqpk:tx stream, guest irq/pkt:%.3f;" \
	    "rr_irqpk:rr, guest irq/pkt:%.3f;ux_cpupk:udp stream, guest us/pkt:%.1f;" \
	    "rx_cpupk:rx stream, guest us/pkt:%.1f;" \
	    "tx_cpupk:tx stream, guest us/pkt:%.1f;rr_cpupk:rr, guest us/pkt:%.1f;" \
	    "ux_got:udp stream, received:%.0f;" \
	    "rx_mbit:rx stream, Mbit/s:%.1f;tx_mbit:tx stream, Mbit/s:%.1f;" \
	    "rr_p50:rr p50 latency, us:%.0f;rr_p99:rr p99 latency, us:%.0f", rows, ";")
	for (i = 1; i <= nrows; i++) {
		split(rows[i], r, ":")
		printf("%-26s %s %s %s\n", r[2], cell(r[1] "|off", r[3]), cell(r[1] "|adaptive", r[3]), ratio(r[1]))
	}
	printf("vic, all rounds: completions / deferred / backstop interrupts\n")
	split("rr rx tx ux", phs, " ")
	for (i = 1; i <= 4; i++)
		printf("%-26s %22s %22s\n", phs[i] ", vic", \
		    sprintf("%d / %d / %d", compl[phs[i] "|off"], deferred[phs[i] "|off"], backstop[phs[i] "|off"]), \
		    sprintf("%d / %d / %d", compl[phs[i] "|adaptive"], deferred[phs[i] "|adaptive"], backstop[phs[i] "|adaptive"]))
	ok = 1; why = ""
	for (i = 2; i <= 4; i++) {
		d = phs[i]
		if (index(" " phases " ", " " d " ") == 0)
			continue
		if (!n[d "_irqpk|off"] || !n[d "_irqpk|adaptive"]) {
			ok = 0; why = why " no " d " stream measured"
		} else if (d != "ux") {
			rt = ratio(d "_irqpk"); gsub(/ /, "", rt)
			note = note sprintf(" %s (tcp) stream, not checked: adaptive" \
			    " deferred %d of %d completions, irq/pkt adaptive/off %s;",
			    d, deferred[d "|adaptive"], compl[d "|adaptive"], rt)
		} else if (!deferred[d "|adaptive"]) {
			ok = 0
			why = why sprintf(" udp stream: adaptive deferred nothing" \
			    " (%d completions)", compl[d "|adaptive"])
		} else if (m(d "_irqpk|adaptive") >= m(d "_irqpk|off")) {
			ok = 0
			why = why sprintf(" udp stream: adaptive deferred %d completions" \
			    " yet %.3f irq/pkt, not fewer than off %.3f", deferred[d "|adaptive"],
			    m(d "_irqpk|adaptive"), m(d "_irqpk|off"))
		}
		slack = m("ux_got|off") / 50; if (slack < 3) slack = 3
		if (d == "ux" && m("ux_got|adaptive") + slack < m("ux_got|off")) {
			ok = 0
			why = why sprintf(" udp stream: adaptive received %d datagrams," \
			    " off %d", m("ux_got|adaptive"), m("ux_got|off"))
		}
	}
	for (i = 1; i <= 4; i++)
		if (deferred[phs[i] "|off"] || backstop[phs[i] "|off"]) {
			ok = 0; why = why " " phs[i] ": vic off deferred completions"
		}
	if (note != "") printf("note:%s\n", note)
	if (deferred["rr|adaptive"] || backstop["rr|adaptive"]) {
		ok = 0; why = why sprintf(" rr (CIF 1): adaptive deferred %d completions, backstop %d", deferred["rr|adaptive"], backstop["rr|adaptive"])
	}
	if (!check) ok = 1
	printf("E2E-RESULT: %s%s (guest %ds; adaptive knobs: %s)\n",
	    ok ? "ok" : "fail", why, secs, knobs)
	exit !ok
}'
