#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# libvirt_e2e.sh OUTDIR - vmaccel under libvirt: one run, three verdicts.
#
# Run by the <mod>_libvirt_qemu_test programs of vhost, ksm and balloon
# (all three built from selftests/lib/libvirt_qemu_test.c),
# in the test VM only (it writes /etc/libvirt and adds the libvirt-qemu
# user in the VM's overlay), with the modules loaded.
#
# libvirtd and virtlogd are started by hand (no systemd in the VM) with the
# qemu.conf below: root, no security driver, no cgroups, no namespaces,
# memory_backing_dir on a vmaccelfs mount.  Two transient domains from the
# same image (type 'qemu', i.e. TCG; direct boot of the Debian kernel with a
# busybox initramfs) have
#   <memoryBacking><source type='file'/><access mode='shared'/>  (ksm)
#   <interface type='ethernet'> on a tap, <driver name='vhost'/>,
#     <backend vhost='/dev/vmaccel-vhost-net'/>                  (vhost)
#   <memballoon model='virtio'/> (vmaccel-balloond --libvirt finds the
#     domains and sets the statistics period through libvirt)      (balloon)
# A part whose module is not loaded is left out of the domains.
#
# vhost: both QEMUs hold an fd of /dev/vmaccel-vhost-net (none of
#   /dev/vhost-net); each guest gets a DHCP lease from dnsmasq on the
#   bridge of the taps, downloads a 16 MiB random file over HTTP and prints
#   its size and sha256, which must match; the device's sysfs totals
#   (devices, rx_bytes, tx_packets) move accordingly; after the domains are
#   destroyed no device is left open.
# ksm: each domain's RAM is a file that libvirt placed under the vmaccelfs
#   mount, mapped by its QEMU and resident; with the scanner stopped
#   nothing is merged (the control); the mount has dirgroups=3, so each
#   domain's directory (libvirt/qemu/<id>-<name>/) is a merge group of its
#   own: a forced pass (VMACCEL_KSM_SCAN) merges each guest's duplicate
#   memory (pages_sharing, non-zero merged pages in each file) while the
#   two domains share no merged page; both guests keep running afterwards.
# balloon: vmaccel-balloond --libvirt finds and registers both domains
#   through the libvirt API (no QMP socket of its own, no <qemu:commandline>,
#   no taint); under host pressure domain 1's target drops and its RAM file gives
#   back at least half of what was asked, within a bounded time; pressure
#   gone, the guest deflates to its full size; the domain destroyed, the
#   bridge unregisters it.
#
# Writes OUTDIR/vhost, OUTDIR/ksm, OUTDIR/balloon: one line each,
# "ok ...", "fail ..." or "skip ...".  Exit 0 when no part failed, else 1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=balloon-e2e.sh
. "$top/selftests/lib/balloon-e2e.sh"
out=$1
GUEST_MB=${LIBVIRT_E2E_GUEST_MB:-320}
FILL_MB=160
FLOOR_MB=96
BOOT_S=${LIBVIRT_E2E_BOOT_S:-420}
RECLAIM_S=120
NET=10.77.9
DOMS="vmaccel-lv1 vmaccel-lv2"
ksys=/sys/kernel/mm/vmaccel_ksm
vsys=/sys/class/misc/vmaccel-vhost-net/stats
virsh="virsh -q -c qemu:///system"

mkdir -p "$out" || exit 1
rm -f "$out/vhost" "$out/ksm" "$out/balloon"
parts=

t_start=$(date +%s)
say() { echo "# libvirt: $*   [$(($(date +%s) - t_start))s]"; }
# verdict PART ok|fail|skip TEXT: the first verdict of a part stands.
verdict() {
	[ -e "$out/$1" ] && return 0
	echo "$2 $3" >"$out/$1"
	say "$1: $2: $3"
}
# abort TEXT: every part without a verdict fails; cleanup; exit.
abort() {
	say "ABORT: $*"
	for p in $parts; do verdict "$p" fail "$*"; done
	diag
	exit 1
}
skip_all() {
	for p in vhost ksm balloon; do verdict "$p" skip "$*"; done
	exit 0
}

[ "${VMACCEL_IN_VM:-}" = 1 ] || skip_all "runs only in the test VM (tools/vm-run): it rewrites /etc/libvirt"
for c in libvirtd virtlogd virsh; do
	command -v $c >/dev/null || skip_all "no $c (libvirt-daemon, libvirt-clients: make deps)"
done
[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] ||
	skip_all "no libvirt QEMU driver (libvirt-daemon-driver-qemu: make deps)"
for c in qemu-system-x86_64 dnsmasq python3 ip busybox cpio; do
	command -v $c >/dev/null || skip_all "no $c"
done
kver=$(uname -r)
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || skip_all "no $kernel for the guests"

# KVM inside the test VM: under TCG, QEMU's "max" CPU emulates AMD SVM with
# nested paging, so kvm_amd loads and the domains are type 'kvm', as on a
# real host (and libvirt uses vhost for KVM domains only).  Without a KVM
# that runs a vCPU the domains are type 'qemu' (TCG) and vhost is skipped.
kvm_loaded=
if [ ! -c /dev/kvm ]; then
	for m in kvm_amd kvm_intel; do
		modprobe -q $m 2>/dev/null && kvm_loaded="$m kvm" && break
	done
fi
if [ -c /dev/kvm ] && timeout 30 "$top/tools/kvm-probe" 2>/dev/null; then
	virt=kvm
else
	virt=qemu
fi
if [ "$virt" != kvm ]; then
	verdict vhost skip "no KVM in this VM: libvirt opens <backend vhost=...> for KVM domains only"
elif [ -c /dev/vmaccel-vhost-net ] && [ -d "$vsys" ]; then
	parts="$parts vhost"
else
	verdict vhost skip "vmaccel_vhost_net is not loaded"
fi
if grep -qw vmaccelfs /proc/filesystems && [ -d "$ksys" ]; then
	parts="$parts ksm"
	if [ -d "$bal_sys" ] && [ -c /dev/vmaccel-balloon ]; then
		parts="$parts balloon"
	else
		verdict balloon skip "vmaccel_balloon is not loaded"
	fi
else
	verdict ksm skip "vmaccel_ksm is not loaded"
	verdict balloon skip "vmaccel_balloon needs vmaccel_ksm's vmaccelfs for the guest RAM file"
fi
has() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
unload_kvm() {
	# shellcheck disable=SC2086 # module names
	[ -n "$kvm_loaded" ] && rmmod $kvm_loaded 2>/dev/null
	kvm_loaded=
}
[ -n "$parts" ] || { unload_kvm; exit 0; }
say "parts:$parts; domain type '$virt'; guests: 2 x $GUEST_MB MiB, kernel $kver"

dir=$(mktemp -d /tmp/vmaccel-libvirt.XXXXXX) || exit 1
pids='' bpid=''
diag() {
	for d in $DOMS; do
		[ -f "$dir/$d.serial" ] && tail -n 8 "$dir/$d.serial" | sed "s/^/# $d: /"
		[ -f "/var/log/libvirt/qemu/$d.log" ] &&
			tail -n 6 "/var/log/libvirt/qemu/$d.log" | sed "s/^/# $d qemu log: /"
	done
	[ -f "$dir/libvirtd.log" ] && grep -E ' error : ' "$dir/libvirtd.log" | tail -n 8 | sed 's/^/# libvirtd: /'
	[ -f "$dir/balloond.log" ] && tail -n 10 "$dir/balloond.log" | sed 's/^/# balloond: /'
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for d in $DOMS; do $virsh destroy "$d" >/dev/null 2>&1; done
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip link del lvtap1 2>/dev/null
	ip link del lvtap2 2>/dev/null
	ip link del lvbr0 2>/dev/null
	rm -f /dev/shm/vmaccel-libvirt-hog
	if has ksm; then
		mountpoint -q /run/vmaccel && umount /run/vmaccel
		echo 2 >"$ksys/run"; echo 0 >"$ksys/run"
	fi
	has balloon && balloon_defaults
	rm -rf "$dir"
	unload_kvm
}
trap cleanup EXIT
trap 'say "killed"; exit 1' TERM INT HUP

# --- libvirt, configured and started by hand --------------------------------
# libvirt-daemon-system would create these; the QEMU driver refuses to start
# without its default user even when qemu.conf says root.
mkdir -p /etc/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu \
	/var/cache/libvirt/qemu /run/libvirt /run/vmaccel
if ! getent passwd libvirt-qemu >/dev/null; then
	echo 'libvirt-qemu:x:64055:' >>/etc/group
	echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd
fi
cat >/etc/libvirt/qemu.conf <<EOF
# vmaccel libvirt e2e (selftests/lib/libvirt_e2e.sh)
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
memory_backing_dir = "/run/vmaccel"
EOF
cat >"$dir/libvirtd.conf" <<EOF
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
log_outputs = "2:file:$dir/libvirtd.log"
EOF
if has ksm; then
	# One merge group per domain: libvirt/qemu/<id>-<name>/ is the third
	# level below memory_backing_dir; size caps the mount.
	mount -t vmaccelfs -o size=1g,dirgroups=3,mode=0755 none /run/vmaccel ||
		abort "mount -t vmaccelfs /run/vmaccel"
	echo 2 >"$ksys/run"; echo 0 >"$ksys/run"
	echo 1 >"$ksys/use_zero_pages"
fi
virtlogd -d || abort "virtlogd did not start"
libvirtd -d -f "$dir/libvirtd.conf" || abort "libvirtd did not start"
t0=$(date +%s)
until $virsh version >/dev/null 2>&1; do
	[ $(($(date +%s) - t0)) -lt 120 ] || abort "libvirtd not answering after 120s"
	sleep 1
done
pids="$pids $(cat /run/libvirtd.pid 2>/dev/null) $(cat /run/virtlogd.pid 2>/dev/null)"
say "libvirtd up in $(($(date +%s) - t0))s: $($virsh version | grep -E 'libvirt|hypervisor' | tr -s ' ' | tr '\n' ';')"

# --- the network: a bridge, two taps, dnsmasq, an HTTP server ---------------
if has vhost; then
	modprobe -q bridge
	ip link add lvbr0 type bridge || abort "ip link add bridge"
	{ ip addr add "$NET.1/24" dev lvbr0 && ip link set lvbr0 up; } || abort "bridge address"
	for t in lvtap1 lvtap2; do
		{ ip tuntap add dev $t mode tap vnet_hdr && ip link set $t master lvbr0 &&
			ip link set $t up; } || abort "tap $t"
	done
	mkdir -p "$dir/www"
	head -c $((16 << 20)) /dev/urandom >"$dir/www/big.bin"
	sum=$(sha256sum "$dir/www/big.bin" | cut -d' ' -f1)
	(cd "$dir/www" && exec python3 -m http.server --bind "$NET.1" 8080) \
		>"$dir/http.log" 2>&1 &
	pids="$pids $!"
	dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=lvbr0 \
		--bind-interfaces --except-interface=lo \
		--dhcp-range="$NET.10,$NET.50,1h" --dhcp-leasefile="$dir/leases" \
		--log-dhcp --log-facility="$dir/dnsmasq.log" >"$dir/dnsmasq.out" 2>&1 &
	pids="$pids $!"
	v0_devices=$(cat "$vsys/devices")
	v0_rx_bytes=$(cat "$vsys/rx_bytes")
	v0_rx_packets=$(cat "$vsys/rx_packets")
	v0_tx_packets=$(cat "$vsys/tx_packets")
fi

# --- the guests' image --------------------------------------------------------
cat >"$dir/init" <<EOF
#!/bin/busybox sh
echo "VMACCEL-INIT \$(cut -d' ' -f1 /proc/uptime)s: modules loaded"
if [ -e /sys/class/net/eth0 ]; then
	ip link set eth0 up
	if udhcpc -i eth0 -s /udhcpc.sh -n -q -t 20 -T 3 >/dev/null 2>&1; then
		ip=\$(ip -4 -o addr show eth0 | awk '{ print \$4 }')
		if wget -q -O /big http://$NET.1:8080/big.bin; then
			echo "VMACCEL-INIT \$(cut -d' ' -f1 /proc/uptime)s: downloaded"
			echo "VMACCEL-NET-OK \$ip \$(wc -c </big) \$(sha256sum /big | cut -d' ' -f1)"
		else
			echo "VMACCEL-NET-FAIL \$ip: wget failed"
		fi
		rm -f /big
	else
		echo "VMACCEL-NET-FAIL no DHCP lease"
	fi
fi
# Duplicate content for the merge (as ksm_qemu_test), then touch and free
# $FILL_MB MiB, so that the RAM file is resident for the balloon.
mkdir -p /mnt && mount -t tmpfs -o size=32m tmpfs /mnt
for k in 1 2 3 4; do cp /bin/busybox /mnt/copy\$k; done
dd if=/dev/zero of=/fill bs=1M count=$FILL_MB 2>/dev/null
rm /fill
echo "VMACCEL-READY at \$(cut -d' ' -f1 /proc/uptime)s, \$(awk '/MemAvailable/ { print int(\$2 / 1024) }' /proc/meminfo) MiB available"
i=0
while :; do
	echo "VMACCEL-ALIVE \$i"
	i=\$((i + 1))
	sleep 1
done
EOF
sh "$top/selftests/lib/guest-initramfs.sh" "$kver" "$dir/init" "$dir/initrd" \
	virtio_balloon failover net_failover virtio_net || abort "guest initramfs"

# --- the domains ----------------------------------------------------------------
n=0
for d in $DOMS; do
	n=$((n + 1))
	{
		echo "<domain type='$virt' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
		echo "  <name>$d</name>"
		echo "  <memory unit='MiB'>$GUEST_MB</memory>"
		echo "  <vcpu>1</vcpu>"
		has ksm && cat <<EOF
  <memoryBacking>
    <source type='file'/>
    <access mode='shared'/>
  </memoryBacking>
EOF
		cat <<EOF
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$dir/initrd</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
EOF
		if [ "$virt" = kvm ]; then
			echo "  <cpu mode='host-passthrough'/>"
		else
			echo "  <features><tcg><tb-cache unit='MiB'>64</tb-cache></tcg></features>"
		fi
		cat <<EOF
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$dir/$d.serial'/>
    </serial>
EOF
		has vhost && cat <<EOF
    <interface type='ethernet'>
      <mac address='52:54:00:76:6d:0$n'/>
      <target dev='lvtap$n' managed='no'/>
      <model type='virtio'/>
      <driver name='vhost'/>
      <backend vhost='/dev/vmaccel-vhost-net'/>
    </interface>
EOF
		if has balloon; then
			# No <stats period>: vmaccel-balloond sets it through libvirt.
			cat <<EOF
    <memballoon model='virtio'/>
  </devices>
EOF
		else
			echo "    <memballoon model='none'/>"
			echo "  </devices>"
		fi
		echo "</domain>"
	} >"$dir/$d.xml"
done
say "network and guest image ready"
# Both at once: starting one takes libvirt and QEMU half a minute here.
t0=$(date +%s)
cpids=
for d in $DOMS; do
	$virsh create "$dir/$d.xml" >"$dir/$d.create" 2>&1 &
	cpids="$cpids $d:$!"
done
for dp in $cpids; do
	d=${dp%%:*}
	wait "${dp##*:}" || {
		sed 's/^/# virsh: /' "$dir/$d.create"
		abort "virsh create $d failed"
	}
	say "$d created"
done
qpid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }
# A QEMU gone already is left to the boot loop below (started again once if
# its guest printed nothing).
for d in $DOMS; do
	p=$(qpid "$d")
	if [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null; then
		say "$d: no QEMU process right after the start"
		continue
	fi
	say "$d: QEMU pid $p: $(tr '\0' ' ' </proc/"$p"/cmdline | grep -o -E -- '-(netdev|object|device) [^ ]*(vhost|memory-backend|balloon|net)[^ ]*' | tr '\n' ' ')"
done

# --- boot -----------------------------------------------------------------------
guest() {	# guest DOM PATTERN: the last serial line matching PATTERN
	grep -a -E "$2" "$dir/$1.serial" 2>/dev/null | tail -n 1 | tr -d '\r'
}
alive() {	# alive DOM: the guest's last ALIVE count (-1 before)
	a=$(guest "$1" '^VMACCEL-ALIVE [0-9]+' | awk '{ print $2 }')
	echo "${a:--1}"
}
# A KVM guest inside the TCG test VM (nested SVM emulated by TCG) now and
# then dies before its kernel prints a line: before virtio, so before any
# of our modules is used.  Such a domain is started again, once.
restarted=
check_running() {
	for x in $DOMS; do
		grep -a -q 'Kernel panic' "$dir/$x.serial" 2>/dev/null && abort "$x panicked"
		$virsh domstate "$x" 2>/dev/null | grep -q running && continue
		if [ -n "${booting:-}" ] && [ ! -s "$dir/$x.serial" ] &&
		   ! echo "$restarted" | grep -q -w "$x"; then
			restarted="$restarted $x"
			say "$x died before its kernel printed anything (nested KVM); starting it again"
			$virsh create "$dir/$x.xml" >"$dir/$x.create" 2>&1 ||
				abort "virsh create $x failed (second start)"
			continue
		fi
		abort "$x is not running"
	done
}
booting=1
for d in $DOMS; do
	until [ -n "$(guest "$d" '^VMACCEL-READY')" ]; do
		check_running
		[ $(($(date +%s) - t0)) -lt "$BOOT_S" ] || abort "$d not up in ${BOOT_S}s"
		sleep 2
	done
	say "$d up after $(($(date +%s) - t0))s: $(guest "$d" '^VMACCEL-READY')"
done
booting=

# vhost: which vhost node did each QEMU open?  Checked once both guests are
# up, so that a QEMU started again above is the one counted.
if has vhost; then
	for d in $DOMS; do
		p=$(qpid "$d")
		[ -n "$p" ] || abort "no QEMU pid for $d after its boot"
		ours=0 theirs=0
		for fd in /proc/"$p"/fd/*; do
			case $(readlink "$fd") in
			/dev/vmaccel-vhost-net) ours=$((ours + 1)) ;;
			/dev/vhost-net) theirs=$((theirs + 1)) ;;
			esac
		done
		say "vhost: $d: QEMU pid $p: fds on /dev/vmaccel-vhost-net: $ours, on /dev/vhost-net: $theirs"
		[ "$ours" -ge 1 ] || verdict vhost fail "$d's QEMU holds no fd of /dev/vmaccel-vhost-net"
		[ "$theirs" = 0 ] || verdict vhost fail "$d's QEMU opened /dev/vhost-net"
	done
	devs=$(cat "$vsys/devices")
	[ "$devs" -ge $((v0_devices + 2)) ] ||
		verdict vhost fail "stats/devices $devs with both domains running (was $v0_devices)"
	for d in $DOMS; do
		line=$(guest "$d" '^VMACCEL-NET')
		say "vhost: $d: $line"
		case $line in
		"VMACCEL-NET-OK $NET."*" $((16 << 20)) $sum") ;;
		*) verdict vhost fail "$d: no DHCP lease or a wrong download: '$line' (want $((16 << 20)) bytes, $sum)" ;;
		esac
	done
	acks=$(grep -c 'DHCPACK' "$dir/dnsmasq.log" 2>/dev/null)
	say "vhost: dnsmasq: ${acks:-0} DHCPACK; http: $(grep -c 'GET /big.bin' "$dir/http.log") GETs"
	[ "${acks:-0}" -ge 2 ] || verdict vhost fail "dnsmasq acked ${acks:-0} leases, want 2"
	d_rx_bytes=$(($(cat "$vsys/rx_bytes") - v0_rx_bytes))
	d_rx_packets=$(($(cat "$vsys/rx_packets") - v0_rx_packets))
	d_tx_packets=$(($(cat "$vsys/tx_packets") - v0_tx_packets))
	say "vhost: vmaccel-vhost-net totals moved by: rx_bytes $d_rx_bytes rx_packets $d_rx_packets tx_packets $d_tx_packets"
	[ "$d_rx_bytes" -ge $((2 * (16 << 20))) ] ||
		verdict vhost fail "the device carried $d_rx_bytes bytes to the guests, less than the two downloads"
	[ "$d_tx_packets" -gt 0 ] || verdict vhost fail "no TX packet went through the device"
fi

# --- ksm: where is the RAM, and is it merged ----------------------------------
ramfile() {	# ramfile DOM: the mem-path libvirt gave QEMU
	tr '\0' '\n' <"/proc/$(qpid "$1")/cmdline" |
		sed -n 's/.*"mem-path":"\([^"]*\)".*/\1/p; s/.*mem-path=\([^,]*\).*/\1/p' | head -n 1
}
if has ksm; then
	for d in $DOMS; do
		f=$(ramfile "$d")
		p=$(qpid "$d")
		[ -n "$f" ] || { verdict ksm fail "$d: no mem-path on QEMU's command line"; continue; }
		case $f in /run/vmaccel/*) ;; *) verdict ksm fail "$d: RAM file $f is not under memory_backing_dir" ;; esac
		fstype=$(stat -f -c %t "$f" 2>/dev/null)
		mnttype=$(stat -f -c %t /run/vmaccel)
		mapped=$(grep -c " $f\$" "/proc/$p/maps")
		res=$(balloon_resident "$f")
		say "ksm: $d: RAM file $f (fs type 0x$fstype, the vmaccelfs mount's 0x$mnttype), $mapped mappings in QEMU, $res MiB resident"
		{ [ -n "$fstype" ] && [ "$fstype" = "$mnttype" ]; } ||
			verdict ksm fail "$d: $f is not on the vmaccelfs mount"
		[ "$mapped" -ge 1 ] || verdict ksm fail "$d: QEMU does not map $f"
		[ "$res" -ge "$FILL_MB" ] || verdict ksm fail "$d: only $res MiB of $f resident"
	done
	grep -q ' /run/vmaccel vmaccelfs ' /proc/mounts || verdict ksm fail "/run/vmaccel is not vmaccelfs"
	sharing0=$(cat "$ksys/pages_sharing")
	say "ksm: control (scanner stopped): pages_sharing $sharing0"
	[ "$sharing0" = 0 ] || verdict ksm fail "pages merged with the scanner stopped ($sharing0)"
fi

# --- balloon: the bridge finds both domains through libvirt --------------------
if has balloon; then (
	d=vmaccel-lv1
	bal_vm=$d
	ram=$(ramfile $d)
	bfail() { verdict balloon fail "$*"; exit 1; }
	[ -n "$ram" ] || bfail "no RAM file for $d"
	/usr/bin/python3 -c 'import libvirt' 2>/dev/null ||
		{ verdict balloon skip "no libvirt Python binding (python3-libvirt: make deps)"; exit 0; }
	res0=$(balloon_resident "$ram")
	balloon_bridge_libvirt "$top" qemu:///system "$FLOOR_MB" "$dir/balloond.log"
	echo "$bal_pid" >"$dir/balloond.pid"
	start=$(date +%s)
	until [ "$(cat "$bal_sys/vms")" = 2 ] || [ $(($(date +%s) - start)) -ge 60 ]; do sleep 1; done
	[ "$(cat "$bal_sys/vms")" = 2 ] ||
		bfail "the bridge did not register the two domains in 60s: $(tail -n 4 "$dir/balloond.log" | tr '\n' ' ')"
	for x in $DOMS; do
		grep -v '^#' "$bal_vms" | grep -q "^$x " ||
			bfail "domain $x is not registered: $(grep -v '^#' "$bal_vms" | awk '{ print $1 }' | tr '\n' ' ')"
	done
	balloon_wait_stats
	case $? in
	1) bfail "the bridge exited: $(tail -n 3 "$dir/balloond.log" | tr '\n' ' ')" ;;
	2) bfail "no guest statistics in 60s (the bridge sets the period through libvirt)" ;;
	esac
	say "balloon: the bridge found and registered $DOMS through libvirt; $d: $res0 MiB resident, guest reports $(($(balloon_vmfield 10) / 1048576)) MiB available; libvirt: $($virsh dommemstat $d 2>/dev/null | tr '\n' ' ')"
	[ "$(balloon_vmfield 5)" = $((GUEST_MB * 1048576)) ] || bfail "target moved before any pressure"
	cur=$(cat "$bal_sys/host_available_pct")
	[ "$cur" -ge 30 ] || { verdict balloon skip "only $cur % of the VM's memory available"; exit 0; }
	balloon_squeeze "$cur" /dev/shm/vmaccel-libvirt-hog
	say "balloon: host $cur % available, took $hog MiB: now $(cat "$bal_sys/host_available_pct") % (band $((cur - 10))-$((cur - 5)))"
	start=$(date +%s) ok=
	balloon_wait_reclaim "$ram" "$res0" "$GUEST_MB" "$RECLAIM_S" && ok=1
	say "balloon: target $target MiB (asked $asked MiB): the RAM file gave back $got MiB in $(($(date +%s) - start))s; libvirt: $($virsh dommemstat $d 2>/dev/null | grep -E '^actual' | tr '\n' ' ')"
	say "balloon: targets: $(grep -v '^#' "$bal_vms" | awk '{ printf "%s %d MiB; ", $1, $5 / 1048576 }')"
	rm -f /dev/shm/vmaccel-libvirt-hog
	[ -n "$ok" ] || bfail "less than half of what was asked came back in ${RECLAIM_S}s (asked $asked MiB, got $got MiB)"
	start=$(date +%s) ok=
	while [ $(($(date +%s) - start)) -lt "$RECLAIM_S" ]; do
		if [ "$(balloon_vmfield 5)" = $((GUEST_MB * 1048576)) ] &&
		   $virsh dommemstat $d 2>/dev/null | grep -q "^actual $((GUEST_MB * 1024))\$"; then
			ok=1
			break
		fi
		sleep 2
	done
	say "balloon: pressure gone: target $(($(balloon_vmfield 5) / 1048576)) MiB after $(($(date +%s) - start))s; libvirt: $($virsh dommemstat $d 2>/dev/null | grep -E '^actual' | tr '\n' ' ')"
	[ -n "$ok" ] || bfail "the guest did not deflate back to $GUEST_MB MiB"
	for x in $DOMS; do
		[ -r "/var/log/libvirt/qemu/$x.log" ] || bfail "no libvirt log of $x to look for a taint in"
		if grep -E 'tainted: (custom-argv|custom-monitor)' "/var/log/libvirt/qemu/$x.log"; then
			bfail "domain $x is tainted"
		fi
	done
	echo "asked $asked MiB, the RAM file gave back $got MiB; both domains found through libvirt, none tainted" >"$dir/balloon.res"
	exit 0
); fi
[ -f "$dir/balloond.pid" ] && bpid=$(cat "$dir/balloond.pid")

# --- ksm: the forced pass, then both guests must go on --------------------------
if has ksm; then
	check_running
	a0s=
	for d in $DOMS; do a0s="$a0s $d:$(alive "$d")"; done
	# The forced pass, then each RAM file's own counters.
	python3 - "$(ramfile vmaccel-lv1)" "$(ramfile vmaccel-lv2)" >"$dir/scan.out" <<'PY' ||
import fcntl, os, struct, sys
def ioc(d, nr, size):
    return (d << 30) | (size << 16) | (0xB8 << 8) | nr
# struct vmaccel_ksm_scan: passes, flags, merged, scanned, reserved[2]
scan = "=IIQQ2Q"
buf = bytearray(struct.pack(scan, 2, 0, 0, 0, 0, 0))
fd = os.open("/dev/vmaccel-ksm", os.O_RDWR)
fcntl.ioctl(fd, ioc(3, 0x36, struct.calcsize(scan)), buf)  # VMACCEL_KSM_SCAN
print("scan", struct.unpack(scan, buf)[2])
# Read before the files' counters: with the scanner stopped merged pages
# only go away, so two domains that share nothing have at most this many.
with open("/sys/kernel/mm/vmaccel_ksm/pages_shared") as f:
    print("pages_shared", f.read().strip())
# struct vmaccel_ksm_file_stats: size resident merged shared sharing zero
# cow_breaks group flags reserved[4]
fst = "=7QII4Q"
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDWR)  # per-file counters: writers only
    buf = bytearray(struct.calcsize(fst))
    fcntl.ioctl(fd, ioc(2, 0x35, len(buf)), buf)  # VMACCEL_KSM_GET_STATS
    v = struct.unpack(fst, buf)
    print("file", path, "resident", v[1], "merged", v[2], "zero", v[5],
          "shared", v[3], "group", v[7])
PY
		verdict ksm fail "VMACCEL_KSM_SCAN or VMACCEL_KSM_GET_STATS failed"
	sharing=$(cat "$ksys/pages_sharing")
	say "ksm: forced pass merged $(sed -n 's/^scan //p' "$dir/scan.out") pages: pages_shared $(cat "$ksys/pages_shared") pages_sharing $sharing zero_pages_sharing $(cat "$ksys/zero_pages_sharing") ($((sharing / 256)) MiB saved)"
	# Four copies of busybox in each guest alone are > 3000 duplicate pages.
	[ "$sharing" -ge 3000 ] || verdict ksm fail "pages_sharing $sharing after a pass: the guests' duplicate memory was not merged"
	# Each domain's file has merged pages that are not zero pages, in a
	# group of its own, and the domains share none: each merged page is
	# used by one file only, so the files' distinct merged pages add up to
	# at most pages_shared (a page both used would be counted twice).
	shared0=$(sed -n 's/^pages_shared //p' "$dir/scan.out")
	sum_shared=0
	groups=
	while read -r _ f _ res _ mer _ zero _ shr _ grp; do
		say "ksm: $f: group $grp, $res pages resident, $mer merged, $zero of them zero pages, $shr distinct merged pages"
		[ $((mer - zero)) -ge 1000 ] || verdict ksm fail "$f: only $((mer - zero)) non-zero pages merged"
		[ "$grp" -ge 2147483648 ] || verdict ksm fail "$f: group $grp is not a per-directory group"
		case " $groups " in *" $grp "*) verdict ksm fail "$f: group $grp is another domain's too" ;; esac
		groups="$groups $grp"
		sum_shared=$((sum_shared + shr))
	done <<EOF2
$(grep '^file ' "$dir/scan.out")
EOF2
	say "ksm: the files' distinct merged pages: $sum_shared; pages_shared before: $shared0"
	if [ "$sum_shared" -eq 0 ] || [ "$sum_shared" -gt "$shared0" ]; then
		verdict ksm fail "the domains share merged pages: $sum_shared distinct per file, pages_shared $shared0"
	fi
	for da in $a0s; do
		d=${da%%:*} a0=${da##*:}
		start=$(date +%s)
		while [ "$(alive "$d")" -lt $((a0 + 3)) ] && [ $(($(date +%s) - start)) -lt 120 ]; do
			check_running
			sleep 1
		done
		say "ksm: $d: ALIVE $a0 before the pass, $(alive "$d") now"
		[ "$(alive "$d")" -ge $((a0 + 3)) ] || verdict ksm fail "$d stopped after the merge"
	done
	say "ksm: after: pages_sharing $(cat "$ksys/pages_sharing") cow_breaks $(cat "$ksys/cow_breaks")"
fi

# --- teardown through libvirt ---------------------------------------------------
for d in $DOMS; do
	$virsh destroy "$d" >/dev/null 2>&1 || abort "virsh destroy $d"
done
if has balloon && [ -n "$bpid" ]; then
	start=$(date +%s)
	while [ "$(cat "$bal_sys/vms")" != 0 ] && [ $(($(date +%s) - start)) -lt 30 ]; do sleep 1; done
	if [ "$(cat "$bal_sys/vms")" != 0 ]; then
		verdict balloon fail "the bridge did not notice the domain going away: the VM is still registered"
	elif ! grep -q unregistered "$dir/balloond.log"; then
		verdict balloon fail "the bridge did not say it unregistered"
	elif ! kill -0 "$bpid" 2>/dev/null; then
		verdict balloon fail "the bridge exited instead of waiting for the domain to come back"
	else
		# Not this shell's child (started in the balloon part's
		# subshell): its last log line says it stopped cleanly.
		kill -TERM "$bpid"
		start=$(date +%s)
		while kill -0 "$bpid" 2>/dev/null && [ $(($(date +%s) - start)) -lt 30 ]; do sleep 1; done
		if kill -0 "$bpid" 2>/dev/null; then
			verdict balloon fail "the bridge did not stop on SIGTERM"
		elif [ "$(tail -n 1 "$dir/balloond.log")" != "vmaccel-balloond: stopped" ]; then
			verdict balloon fail "the bridge did not stop cleanly: $(tail -n 2 "$dir/balloond.log" | tr '\n' ' ')"
		fi
		bpid=
	fi
	tail -n 4 "$dir/balloond.log" | sed 's/^/# balloond: /'
fi
if has vhost; then
	start=$(date +%s)
	while [ "$(cat "$vsys/devices")" != "$v0_devices" ] && [ $(($(date +%s) - start)) -lt 30 ]; do sleep 1; done
	[ "$(cat "$vsys/devices")" = "$v0_devices" ] ||
		verdict vhost fail "$(cat "$vsys/devices") devices still open after the domains were destroyed"
fi
if has ksm; then
	left=$(find /run/vmaccel -type f | wc -l)
	[ "$left" = 0 ] || verdict ksm fail "$left RAM files left on vmaccelfs after the domains were destroyed"
fi

grep -q "^fail" "$out"/* && diag
has vhost && verdict vhost ok "2 domains: vhost fds on /dev/vmaccel-vhost-net, DHCP leases, 16 MiB downloads, sha256 $sum"
has ksm && verdict ksm ok "2 domains: RAM files on vmaccelfs via memory_backing_dir, one group each (dirgroups=3), pages_sharing 0 -> $sharing after a pass, none shared between them, both kept running"
has balloon && verdict balloon ok "vmaccel-balloond --libvirt on two domains: inflated under pressure ($(cat "$dir/balloon.res" 2>/dev/null)), deflated, unregistered"
grep -q '^fail' "$out"/* && exit 1
exit 0
