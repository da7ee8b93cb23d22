#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# vmaccel_stat_test - tools/vmaccel-stat against the counters it reports,
# while completions flow through a vic coalescer.  TAP output, as the
# kselftest-harness programs (tools/run-tests counts "ok N" and "not ok N").
# Needs root and vmaccel_vic loaded; other modules may or may not be.
# Python, as the tool: it checks the tool's JSON with the same json module.
#
# Rates and the counters read directly: the tool takes its two readings at
# moments this test cannot see, within the test's own readings before and
# after it.  So, under continuous traffic, its figures are checked against
# bounds, not equalities: its totals lie between the test's readings, its
# delta is at most theirs, and rate x interval is its delta (up to float
# rounding, 1e-9 relative).  An exact check follows without traffic in the
# background: a burst of a known number of completions between two frames
# of the running tool must show up, summed over the frames, as exactly that
# many.  No check depends on how fast the machine is.

import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

# The repository: VMACCEL_SRC_DIR when set (an installed tree), else the
# one this program was built into (build/selftests/vic/).
TOP = os.environ.get("VMACCEL_SRC_DIR") or os.path.realpath(os.path.join(
    os.path.dirname(os.path.realpath(__file__)), "..", "..", ".."))
# The tool as make install installs it (make selftests makes it), else
# the source; VMACCEL_STAT names another.
TOOL = os.environ.get("VMACCEL_STAT", os.path.join(TOP, "build", "sbin",
                                                   "vmaccel-stat"))
if not os.path.exists(TOOL):
    TOOL = os.path.join(TOP, "tools", "vmaccel-stat")
VIC = "/sys/class/misc/vmaccel-vic/"
SHORT = {"vic": "vmaccel_vic", "vhost": "vmaccel_vhost_net",
         "ksm": "vmaccel_ksm", "balloon": "vmaccel_balloon",
         "pvlock": "vmaccel_pvlock"}

# struct vmaccel_vic_create: flags, src_fd, dst_fd, reserved, params
# (mode, fixed_ratio, cif_threshold, iops_threshold, max_delay_us,
# max_ratio); VMACCEL_VIC_CREATE = _IOW(0xB8, 0x00, struct).
CREATE_FMT = "=Iiii6I"
VIC_CREATE = (1 << 30) | (struct.calcsize(CREATE_FMT) << 16) | (0xB8 << 8)

n = 0
failed = 0


def check(ok, desc, detail=None):
    global n, failed
    n += 1
    if ok:
        print("ok %d %s" % (n, desc), flush=True)
    else:
        failed += 1
        print("not ok %d %s" % (n, desc), flush=True)
        if detail is not None:
            for line in str(detail).splitlines():
                print("# " + line, flush=True)
    return ok


def run(args, env=None):
    return subprocess.run([TOOL] + args, capture_output=True, text=True,
                          env=env, timeout=120)


def counter(name):
    with open(VIC + name) as f:
        return int(f.read())


def loaded():
    return {s for s, m in SHORT.items() if os.path.isdir("/sys/module/" + m)}


class Traffic:
    """A coalescer in fixed mode (4 completions per interrupt) and a thread
    signalling its source eventfd and draining its target."""

    def __init__(self):
        self.dev = os.open("/dev/vmaccel-vic", os.O_RDWR | os.O_CLOEXEC)
        self.src = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.dst = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        req = bytearray(struct.pack(CREATE_FMT, 1, self.src, self.dst, 0,
                                    1, 4, 4, 0, 1000000, 32))
        self.coal = fcntl.ioctl(self.dev, VIC_CREATE, req, True)
        self.stop = threading.Event()
        self.thread = None

    def complete(self, count):
        one = struct.pack("=Q", 1)
        for _ in range(count):
            os.write(self.src, one)
        try:
            os.read(self.dst, 8)
        except BlockingIOError:
            pass

    def _loop(self):
        while not self.stop.is_set():
            self.complete(64)

    def start(self):
        self.stop.clear()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        self.thread.join()

    def close(self):
        for fd in (self.coal, self.src, self.dst, self.dev):
            os.close(fd)


def test_version():
    r = run(["--version"])
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines and
          lines[0].startswith("vmaccel-stat ") and
          lines[0].split()[1] not in ("", "unknown"),
          "--version prints the tool's version", r.stdout + r.stderr)
    want = []
    for s, m in SHORT.items():
        try:
            with open("/sys/module/%s/version" % m) as f:
                want.append("%s %s" % (m, f.read().strip()))
        except OSError:
            want.append("%s not loaded" % m)
    check(lines[1:] == want,
          "--version prints /sys/module/*/version of each loaded module",
          "got %r\nwant %r" % (lines[1:], want))
    with open("/sys/module/vmaccel_vic/version") as f:
        v = f.read().strip()
    check(v not in ("", "unknown"),
          "vmaccel_vic has a MODULE_VERSION (%s)" % v)


def test_rates_under_traffic(traffic):
    traffic.start()
    c0, i0 = counter("completions"), counter("interrupts")
    r = run(["--once", "--json", "-d", "1", "-m", "ksm,vmaccel_vic"])
    c1, i1 = counter("completions"), counter("interrupts")
    traffic.halt()
    if not check(r.returncode == 0, "--once --json -d 1 exits 0",
                 r.stderr):
        return
    try:
        out = json.loads(r.stdout)
    except ValueError as e:
        check(False, "--json output parses", "%s\n%s" % (e, r.stdout))
        return
    check(True, "--json output parses")
    want = loaded() & {"ksm", "vic"}
    check(set(out["modules"]) == want,
          "-m ksm,vmaccel_vic shows those of them loaded (%s)"
          % ",".join(sorted(want)), list(out["modules"]))
    iv = out["interval"]
    check(iv >= 1.0, "interval %.3f s is at least -d 1" % iv)
    m = out["modules"]["vic"]
    check(m["reset"] is False, "no reset reported")
    for name, lo, hi in (("completions", c0, c1), ("interrupts", i0, i1)):
        cnt = m["counters"][name]
        first = cnt["total"] - cnt["delta"]
        check(lo <= first <= cnt["total"] <= hi,
              "%s: the tool's readings %d..%d lie within the test's %d..%d"
              % (name, first, cnt["total"], lo, hi))
        check(abs(cnt["rate"] * iv - cnt["delta"]) <= 1e-9 * cnt["delta"]
              + 1e-6,
              "%s: rate %.1f/s x interval = delta %d (direct delta %d)"
              % (name, cnt["rate"], cnt["delta"], hi - lo))
    dc = m["counters"]["completions"]["delta"]
    di = m["counters"]["interrupts"]["delta"]
    check(dc > 0, "completions flowed in the tool's interval (%d)" % dc)
    ratio = m["derived"]["coalescing_ratio"]
    check(di > 0 and ratio is not None and abs(ratio - dc / di) < 1e-9,
          "coalescing_ratio %s = completions / interrupts (%d / %d), "
          "fixed mode 4" % (ratio, dc, di))
    check(m["gauges"].get("coalescers", 0) >= 1, "coalescers gauge >= 1")


def frames(args, env=None):
    p = subprocess.Popen([TOOL] + args, stdout=subprocess.PIPE, text=True,
                         env=env)
    return p


def next_frame(p):
    line = p.stdout.readline()
    if not line:
        raise RuntimeError("vmaccel-stat ended (status %s)" % p.wait())
    return json.loads(line)


def test_exact_burst(traffic):
    # Frames of a running tool chain up: each starts where the previous one
    # ended, so their deltas add up to the change between two frames.
    burst = 2003
    p = frames(["--json", "-d", "0.2", "-m", "vic"])
    try:
        f = next_frame(p)
        base = f["modules"]["vic"]["counters"]["completions"]["total"]
        traffic.complete(burst)
        after = counter("completions")
        total_delta, total_rate_iv = 0, 0.0
        while True:
            f = next_frame(p)
            c = f["modules"]["vic"]["counters"]["completions"]
            total_delta += c["delta"]
            total_rate_iv += c["rate"] * f["interval"]
            if c["total"] >= after:
                break
    finally:
        p.kill()
        p.wait()
    check(after - base == burst,
          "the burst of %d completions is in sysfs (%d)" % (burst,
                                                            after - base))
    check(total_delta == burst and abs(total_rate_iv - burst) < 1e-6 * burst,
          "the tool's deltas add up to the burst: %d, rates x intervals %.3f"
          % (total_delta, total_rate_iv))


def test_filter_and_subset():
    have = loaded()
    r = run(["--once", "--json", "-d", "0.1"])
    out = json.loads(r.stdout) if r.returncode == 0 else {"modules": {}}
    check(set(out["modules"]) == have,
          "no filter: exactly the loaded modules (%s)" % ",".join(sorted(
              have)), r.stdout + r.stderr)
    r = run(["--once", "-d", "0.1", "-m", "nosuch"])
    check(r.returncode == 2 and "unknown module" in r.stderr,
          "-m nosuch: a usage error (status %d)" % r.returncode)
    r = run(["--once", "-d", "0.1"])
    check(r.returncode == 0 and
          all(("%s (%s " % (s, SHORT[s])) in r.stdout for s in have),
          "text output names every loaded module", r.stdout + r.stderr)


def skip(desc):
    global n
    n += 1
    print("ok %d %s # SKIP" % (n, desc), flush=True)


def test_reload():
    # A real reset: vmaccel_vic unloaded and loaded again under the running
    # tool.  Its counters restart at zero; the tool must say reset and give
    # no negative rate (the module may be missing from a frame meanwhile).
    ko = os.path.join(os.environ.get("VMACCEL_KO_DIR", TOP), "vic",
                      "vmaccel_vic.ko")
    holders = os.listdir("/sys/module/vmaccel_vic/holders")
    if holders or not os.path.exists(ko):
        skip("reload: vmaccel_vic is used by %s or %s is missing"
             % (",".join(holders) or "nothing", ko))
        return
    p = frames(["--json", "-d", "0.2", "-m", "vic"])
    seen = []
    try:
        f = next_frame(p)
        before = f["modules"]["vic"]["counters"]["completions"]["total"]
        rm = subprocess.run(["rmmod", "vmaccel_vic"], capture_output=True,
                            text=True)
        ins = subprocess.run(["insmod", ko], capture_output=True, text=True)
        if not check(rm.returncode == 0 and ins.returncode == 0,
                     "reload: rmmod and insmod vmaccel_vic",
                     rm.stderr + ins.stderr):
            return
        # Frames may wait in the pipe: the first one that read the
        # reloaded module (completions below the count before, which the
        # earlier parts made > 0) is the one whose interval holds the
        # reload, whether the tool saw the module missing or not.  The
        # tool reads every 0.2 s; 100 frames is a safety bound.
        for _ in range(100):
            f = next_frame(p)
            m = f["modules"].get("vic")
            if m and m["counters"]["completions"]["total"] < before:
                seen.append(m)
                break
    finally:
        p.kill()
        p.wait()
    m = seen[-1] if seen else None
    check(before > 0 and m is not None and m["reset"] and
          all(c["rate"] >= 0 and c["delta"] == c["total"]
              for c in m["counters"].values()),
          "reload (completions were %d): the first frame of the reloaded "
          "vic says reset, deltas = totals, no negative rate" % before, m)


def test_fake_sysfs():
    # A sysfs with only vic, whose counters this test sets: a subset of
    # modules, and a counter reset (a module reloaded, pvlock's zero_stats).
    root = tempfile.mkdtemp()
    try:
        mod = os.path.join(root, "module", "vmaccel_vic")
        cdir = os.path.join(root, "class", "misc", "vmaccel-vic")
        os.makedirs(mod)
        os.makedirs(cdir)
        with open(os.path.join(mod, "version"), "w") as f:
            f.write("9.9-fake\n")

        def put(name, v):
            with open(os.path.join(cdir, name), "w") as f:
                f.write("%d\n" % v)
        for c in ("completions", "interrupts", "deferred", "backstop"):
            put(c, 1000)
        put("coalescers", 1)
        env = dict(os.environ, VMACCEL_STAT_SYSFS=root)
        p = frames(["--json", "-d", "0.1"], env)
        try:
            f = next_frame(p)
            check(list(f["modules"]) == ["vic"] and
                  f["modules"]["vic"]["version"] == "9.9-fake",
                  "fake sysfs with vic only: vic only, its version, no "
                  "error", f)
            put("completions", 7)
            while True:
                f = next_frame(p)
                m = f["modules"]["vic"]
                if m["counters"]["completions"]["total"] == 7:
                    break
        finally:
            p.kill()
            p.wait()
        c = m["counters"]["completions"]
        check(m["reset"] and c["delta"] == 7 and c["rate"] >= 0,
              "counter reset 1000 -> 7: reset flagged, delta 7, rate "
              "%.1f not negative" % c["rate"], m)
    finally:
        shutil.rmtree(root)


def timed(fn, *args):
    t0 = time.monotonic()
    fn(*args)
    print("# %s: %.1f s" % (fn.__name__, time.monotonic() - t0), flush=True)


def main():
    if not os.path.isdir("/sys/module/vmaccel_vic"):
        print("1..1")
        print("not ok 1 vmaccel_vic is not loaded")
        return 1
    print("TAP version 13", flush=True)
    timed(test_version)
    t = Traffic()
    try:
        timed(test_rates_under_traffic, t)
        timed(test_exact_burst, t)
    finally:
        t.close()
    timed(test_filter_and_subset)
    timed(test_reload)
    timed(test_fake_sysfs)
    print("1..%d" % n)
    print("# vmaccel_stat_test: %d passed, %d failed" % (n - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
