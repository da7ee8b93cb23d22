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
# What differs for the guest: the PVH entry skips the decompressor, which
# is where x86 KASLR places the kernel, so it runs at its link address.
#
# The payload is cut out of the bzImage as its setup header says
# (payload_offset, payload_length), unpacked (xz with python3's lzma, zstd
# with zstd(1)) and must come out as long as the size that the build
# appended to it; it is kept in ${TMPDIR:-/tmp} under a name made of KVER
# and the bzImage's size and time, and reused.  Anything that goes wrong
# prints the bzImage, which boots the same kernel.
# VMACCEL_GUEST_BZIMAGE=1 prints the bzImage (the boot as it was before).
# The guests' kernel command line adds selftests/lib/guest-cmdline (one
# line) to each test's own: options that shorten a Linux boot under nested
# TCG without changing what the tests use (measured 2026-12-07, Debian
# 6.1, the test VM at load 4-5: 202 s to the guest's init without them,
# 160 s with them, two runs each; DHCP on virtio-net, the balloon and the
# serial console work).  No cryptomgr self-tests, no TSC or timer checks
# (TCG's TSC is stable), no Spectre-class mitigations or audit in a
# throw-away guest, no watchdogs, no AER or IOMMU setup.
# Exit: 0 (a path printed), 4 no /boot/vmlinuz-KVER.
set -u
kver=$1
bz=/boot/vmlinuz-$kver
[ -r "$bz" ] || { echo "guest-kernel: no $bz" >&2; exit 4; }
[ "${VMACCEL_GUEST_BZIMAGE:-}" = 1 ] && { echo "$bz"; exit 0; }
out=${TMPDIR:-/tmp}/vmaccel-guest-vmlinux-$kver-$(stat -c %s-%Y "$bz")

pvh() {	# pvh FILE: an ELF image with XEN_ELFNOTE_PHYS32_ENTRY (18)
	readelf -n "$1" 2>/dev/null | grep -q 'Xen.*(0x00000012)'
}

# Only a file of ours (the directory may be anyone's /tmp).
if [ -f "$out" ] && [ -O "$out" ] && [ ! -L "$out" ] && pvh "$out"; then
	echo "$out"
	exit 0
fi
tmp=$(mktemp "$out.XXXXXX") || { echo "$bz"; exit 0; }
if python3 - "$bz" "$tmp" <<'PY' 2>/dev/null && pvh "$tmp" && mv -fT "$tmp" "$out"; then
import lzma
import struct
import subprocess
import sys

data = open(sys.argv[1], "rb").read()
if data[0x202:0x206] != b"HdrS":
    sys.exit(1)
setup = (data[0x1f1] or 4) + 1
off, length = struct.unpack_from("<II", data, 0x248)
payload = data[setup * 512 + off:setup * 512 + off + length]
if len(payload) != length or length < 8:
    sys.exit(1)
size = struct.unpack("<I", payload[-4:])[0]
comp = payload[:-4]
if comp.startswith(b"\xfd7zXZ\x00"):
    dec = lzma.LZMADecompressor()
    image = dec.decompress(comp)
    if not dec.eof:
        sys.exit(1)
elif comp.startswith(b"\x28\xb5\x2f\xfd"):
    p = subprocess.run(["zstd", "-qdc"], input=comp, stdout=subprocess.PIPE)
    if p.returncode:
        sys.exit(1)
    image = p.stdout
else:
    sys.exit(1)
if len(image) != size or image[:4] != b"\x7fELF":
    sys.exit(1)
with open(sys.argv[2], "wb") as f:
    f.write(image)
PY
	echo "$out"
else
	rm -f "$tmp"
	echo "$bz"
fi
exit 0
