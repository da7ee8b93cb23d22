# SPDX-License-Identifier: GPL-2.0-only
"""e2e_httpd.py ROOT ADDR LOG - the HTTP server of the nested-QEMU tests.

Serves the files under ROOT on ADDR:8080 (HTTP/1.0, Content-Length) and
writes one line per request to LOG:
  START <path>               a file download begins
  SENT <path> <bytes> <sha256 of the bytes sent>   it ended (or broke off)
  GET <path>                 any other path; answered with "ok"
The tests' guests report results by fetching paths (/done/<sha256>, ...).
"""
import hashlib
import http.server
import os
import sys

root, addr, log = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def note(self, s):
        with open(log, "a") as f:
            f.write(s + "\n")

    def do_GET(self):
        p = os.path.join(root, self.path.lstrip("/"))
        if not os.path.isfile(p):
            self.note("GET %s" % self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        data = open(p, "rb").read()
        self.note("START %s" % self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        sent = 0
        try:
            for i in range(0, len(data), 65536):
                self.wfile.write(data[i:i + 65536])
                sent += len(data[i:i + 65536])
        finally:
            self.note("SENT %s %d %s" % (self.path, sent,
                      hashlib.sha256(data[:sent]).hexdigest()))


http.server.HTTPServer((addr, 8080), Handler).serve_forever()
