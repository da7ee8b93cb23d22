# SPDX-License-Identifier: GPL-2.0-only
"""qmp.py SOCKET COMMAND [ARGS-JSON] - one QMP command to a QEMU monitor.

Connects to the QMP unix socket, negotiates capabilities, runs COMMAND with
the arguments ARGS-JSON (an object) and prints the "return" value as JSON.
Exits 1 (the error printed on stderr) when QEMU answers with an error,
2 when the monitor cannot be reached.  Events that arrive before the
answer are skipped.
"""
import json
import socket
import sys


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: qmp.py SOCKET COMMAND [ARGS-JSON]\n")
        return 2
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
    except OSError as e:
        sys.stderr.write("qmp: %s: %s\n" % (sys.argv[1], e))
        return 2
    f = s.makefile("rw")
    f.readline()
    cmds = [("qmp_capabilities", None)]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    cmds.append((sys.argv[2], args))
    for name, a in cmds:
        req = {"execute": name}
        if a is not None:
            req["arguments"] = a
        f.write(json.dumps(req) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                sys.stderr.write("qmp: monitor closed\n")
                return 2
            r = json.loads(line)
            if "return" in r or "error" in r:
                break
        if "error" in r:
            sys.stderr.write("qmp: %s: %s\n" % (name, r["error"].get("desc", r)))
            return 1
    print(json.dumps(r["return"]))
    return 0


sys.exit(main())
