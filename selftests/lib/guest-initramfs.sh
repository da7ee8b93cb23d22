#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-initramfs.sh KVER INIT OUT [MODULE...] - the initramfs of the small
# Linux guests that the nested-QEMU tests boot (the Debian kernel
# /boot/vmlinuz-KVER, direct kernel boot).
#
# OUT (a gzip'd newc cpio) holds the host's static busybox as /bin/busybox,
# the file INIT as /init, and the named modules of /lib/modules/KVER
# (decompressed) in /mods with their load order in /mods/order.  A module
# that is not found is left out (built in, or not needed by this kernel).
# The guest's /init loads them with
#   for m in $(cat /mods/order); do insmod /mods/$m.ko; done
# Exit: 0 done, 1 error, 4 a prerequisite is missing (message on stderr).
set -u
kver=$1 init=$2 out=$3
shift 3

bb=$(command -v busybox) || { echo "guest-initramfs: no busybox" >&2; exit 4; }
[ -d "/lib/modules/$kver/kernel" ] || { echo "guest-initramfs: no /lib/modules/$kver" >&2; exit 4; }
stage=$(mktemp -d) || exit 1
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/mods" "$stage/dev" "$stage/proc" "$stage/sys" || exit 1
cp "$bb" "$stage/bin/busybox" || exit 1
cp "$init" "$stage/init" && chmod 755 "$stage/init" || exit 1
: >"$stage/mods/order"
for m in "$@"; do
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
