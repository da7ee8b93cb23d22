#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-kernel.sh KVER - print the kernel image that the nested-QEMU tests
# boot as their small Linux guest: /boot/vmlinuz-KVER's own vmlinux when
# it can be booted directly (an ELF with the PVH entry note, which Debian's
# kernels have: CONFIG_PVH=y), else /boot/vmlinuz-KVER itself.
#
# Why: under TCG inside the TCG test VM, the bzImage's decompressor is the
# slowest part of a guest's boot.  Measured on 2026-12-07 (Debian 6.1,
# xz): a guest reached its init 95 s after QEMU started with the bzImage,
# 35 s with the vmlinux (the kernel's own boot, 52-73 s, either way).
#
# The vmlinux is unpacked once (xz with python3's lzma, zstd with zstd(1))
# into ${TMPDIR:-/tmp}/vmaccel-guest-vmlinux-KVER and reused; anything that
# goes wrong falls back to the bzImage, which boots the same kernel.
# VMACCEL_GUEST_BZIMAGE=1 prints the bzImage (the boot as it was before).
# Exit: 0 (a path printed), 4 no /boot/vmlinuz-KVER.
set -u
kver=$1
bz=/boot/vmlinuz-$kver
[ -r "$bz" ] || { echo "guest-kernel: no $bz" >&2; exit 4; }
[ "${VMACCEL_GUEST_BZIMAGE:-}" = 1 ] && { echo "$bz"; exit 0; }
out=${TMPDIR:-/tmp}/vmaccel-guest-vmlinux-$kver

pvh() {	# pvh FILE: an ELF image with XEN_ELFNOTE_PHYS32_ENTRY (18)
	readelf -n "$1" 2>/dev/null | grep -q 'Xen.*(0x00000012)'
}

# Only a file of ours (the directory may be anyone's /tmp).
if [ -s "$out" ] && [ -O "$out" ] && [ ! -L "$out" ] && pvh "$out"; then
	echo "$out"
	exit 0
fi
tmp=$(mktemp "$out.XXXXXX") || { echo "$bz"; exit 0; }
# The payload starts at the compressor's magic: xz FD 37 7A 58 5A 00,
# zstd 28 B5 2F FD.
python3 - "$bz" "$tmp" <<'EOF' 2>/dev/null
import lzma
import subprocess
import sys

data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as out:
    at = data.find(b"\xfd7zXZ\x00")
    if at >= 0:
        out.write(lzma.LZMADecompressor().decompress(data[at:]))
        sys.exit(0)
    at = data.find(b"\x28\xb5\x2f\xfd")
    if at < 0:
        sys.exit(1)
    # zstd stops at the end of its frame; what follows it is not zstd.
    p = subprocess.run(["zstd", "-qdc"], input=data[at:],
                       stdout=subprocess.PIPE)
    out.write(p.stdout)
    sys.exit(0 if p.stdout else 1)
EOF
if [ -s "$tmp" ] && pvh "$tmp" && mv -f "$tmp" "$out"; then
	echo "$out"
else
	rm -f "$tmp"
	echo "$bz"
fi
exit 0
