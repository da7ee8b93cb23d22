# SPDX-License-Identifier: GPL-2.0-only
"""ramdiff.py A B OFFSET - the 4 KiB pages that differ between two RAM dumps.

A and B are dumps of the same guest-physical range (QMP pmemsave) starting
at OFFSET.  Prints one line per differing page: its guest-physical address,
how many bytes differ, the first and last differing offsets and 16 bytes of
each side from the first one.  Exits 1 when the dumps differ in size.
"""
import sys

PAGE = 4096


def main():
    a_path, b_path, base = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
    with open(a_path, "rb") as a, open(b_path, "rb") as b:
        addr = base
        while True:
            pa, pb = a.read(PAGE), b.read(PAGE)
            if len(pa) != len(pb):
                sys.stderr.write("ramdiff: %s and %s differ in size\n" % (a_path, b_path))
                return 1
            if not pa:
                return 0
            if pa != pb:
                d = [i for i in range(len(pa)) if pa[i] != pb[i]]
                print("page 0x%x: %d bytes differ, 0x%x-0x%x; A %s B %s" % (
                    addr, len(d), d[0], d[-1],
                    pa[d[0]:d[0] + 16].hex(), pb[d[0]:d[0] + 16].hex()))
            addr += len(pa)


if __name__ == "__main__":
    sys.exit(main())
