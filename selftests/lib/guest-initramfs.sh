#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-initramfs.sh KVER INIT OUT [MODULE...] - the initramfs of the small
# Linux guests that the nested-QEMU tests boot (the Debian kernel
# /boot/vmlinuz-KVER, direct kernel boot): selftests/vhost/qemu-e2e.sh
# (linux), selftests/balloon/balloon_qemu_e2e.sh, selftests/lib/libvirt_e2e.sh.
#
# OUT (a gzip'd newc cpio) holds the host's busybox as /bin/busybox, the
# virtio PCI transport and the named modules of /lib/modules/KVER
# (decompressed, in /mods, loaded in that order), the file INIT as
# /guest-init, /udhcpc.sh and an /init that
#   - installs busybox's applets in /bin,
#   - mounts /proc, /sys and devtmpfs on /dev,
#   - loads the modules,
#   - execs "sh /guest-init": INIT is the guest's PID 1 from there on.
# A module that is not found is left out (built in, or not needed by this
# kernel).  /udhcpc.sh is a udhcpc script (udhcpc -s /udhcpc.sh) that sets
# the address of the lease on the interface.
# Exit: 0 done, 1 error, 4 a prerequisite is missing (message on stderr).
set -u
kver=$1 init=$2 out=$3
shift 3

bb=$(command -v busybox) || { echo "guest-initramfs: no busybox" >&2; exit 4; }
command -v cpio >/dev/null || { echo "guest-initramfs: no cpio" >&2; exit 4; }
[ -d "/lib/modules/$kver/kernel" ] || { echo "guest-initramfs: no /lib/modules/$kver" >&2; exit 4; }
stage=$(mktemp -d) || exit 1
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/mods" "$stage/dev" "$stage/proc" "$stage/sys" || exit 1
cp "$bb" "$stage/bin/busybox" || exit 1
cp "$init" "$stage/guest-init" || exit 1
cat >"$stage/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /mods/order); do insmod /mods/$m.ko; done
exec sh /guest-init
EOS
cat >"$stage/udhcpc.sh" <<'EOS'
#!/bin/sh
case $1 in
bound|renew) ifconfig "$interface" "$ip" netmask "$subnet" up ;;
esac
exit 0
EOS
chmod 755 "$stage/init" "$stage/guest-init" "$stage/udhcpc.sh" || exit 1
: >"$stage/mods/order"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	 virtio_pci "$@"; do
	# modinfo reads the module index: a find over the module tree takes
	# minutes on the test VM's 9p root.
	f=$(modinfo -k "$kver" -n "$m" 2>/dev/null)
	[ -f "$f" ] || continue
	case $f in
	*.xz) xz -dc "$f" >"$stage/mods/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$stage/mods/$m.ko" ;;
	*) cp "$f" "$stage/mods/$m.ko" ;;
	esac || exit 1
	echo "$m" >>"$stage/mods/order"
done
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out" || exit 1
