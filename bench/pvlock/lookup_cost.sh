#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# lookup_cost - does an unlock's search for the waiter to kick stay flat as
# the VM gets more CPUs?  Compares the waiter hash of this tree with the
# scan of every online CPU's slots that main used before it (OLD_REF), in
# the same VM for each CPU count, and prints the mean time per lookup and
# the ratio old/new (medians of the rounds, each round interleaving the two).
#
# usage: bench/pvlock/lookup_cost.sh [CPUS...]      (default: 2 8 32 64)
# env:   OLD_REF (git ref of the old lookup, default 8e9b585), KDIR,
#        LOOKUP_ROUNDS (5), LOOKUP_MS (per run, 1000), LOOKUP_MEM (MiB, 2048),
#        LOOKUP_LOG (console log prefix, default /tmp/lookup-cost)
# The old module is built in build/lookup-cost-old.
#
# On the host: builds this tree (make modules bench) and, in a scratch
# directory, OLD_REF's pvlock with lookup-ns-main.patch, which adds the same
# lookup_ns counter (local_clock() around the scan) that this tree has
# around the lookup.  Then, per CPU count, one VM (tools/vm-run -c N) runs
# lookup_cost_vm.sh, which loads the two modules in turn.  The scan walks
# the online CPUs, so the VMs have that many vCPUs online; under TCG they
# are threads on the host's cores, which is why the load is light (three
# threads): the number is the lookup, not the lock under load.  Times come
# from local_clock() in the guest (TCG: scaled, compare ratios, not ns).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$(tools/find-kdir 2>/dev/null)}
ref=${OLD_REF:-8e9b585}
cpus=${*:-2 8 32 64}
log=${LOOKUP_LOG:-/tmp/lookup-cost}

make -s modules bench KDIR="$kdir" >/dev/null
# Under the tree, not /tmp: the VM sees the host's files but has its own /tmp.
old=$top/build/lookup-cost-old
rm -rf "$old"
mkdir -p "$old"
git archive "$ref" Kbuild include compat VERSION pvlock | tar -x -C "$old"
patch -s -d "$old" -p1 <bench/pvlock/lookup-ns-main.patch
make -s -C "$kdir" M="$old" modules >/dev/null

out=$(mktemp /tmp/lookup-cost-out.XXXXXX)
trap 'rm -f "$out"' EXIT
for c in $cpus; do
	KDIR=$kdir tools/vm-run -q -c "$c" -m "${LOOKUP_MEM:-2048}" -t 900 \
		-l "$log-$c.log" -- bench/pvlock/lookup_cost_vm.sh \
		"$old/pvlock/vmaccel_pvlock.ko" pvlock/vmaccel_pvlock.ko \
		"${LOOKUP_ROUNDS:-5}" "${LOOKUP_MS:-1000}" >/dev/null ||
		echo "lookup_cost: the VM with $c CPUs failed, see $log-$c.log" >&2
	# The command's output is on the VM's console, in the log.
	grep -a '^lookup ' "$log-$c.log" | sort -u >>"$out" || true
done

echo "--- pvlock: waiter lookup per contended unlock (guest ns; median of rounds [min-max])"
printf '%5s %22s %22s %8s %14s\n' cpus old_ns/op new_ns/op old/new lookups_o/n
awk '/^lookup /{
	split($3, cc, "="); split($5, l, "="); split($7, x, "=");
	k = cc[2] " " $2; v[k, ++nv[k]] = x[2] + 0; nl[k] += l[2];
	if (!(cc[2] in seen)) { seen[cc[2]] = 1; order[++n] = cc[2] }
}
function med(k,   i, j, t, m) {
	m = nv[k];
	for (i = 1; i <= m; i++) s[i] = v[k, i];
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	lo = s[1]; hi = s[m];
	return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2;
}
END {
	for (i = 1; i <= n; i++) {
		c = order[i];
		o = med(c " old"); ol = lo; oh = hi;
		w = med(c " new"); wl = lo; wh = hi;
		printf "%5s %8d [%5d-%5d] %8d [%5d-%5d] %8.2f %7d/%d\n", c, o, ol, oh, w, wl, wh, w ? o / w : 0, nl[c " old"], nl[c " new"]
	}
}' "$out"
