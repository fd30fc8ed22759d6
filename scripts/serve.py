#!/usr/bin/env python3
"""Serves a built site (default dist/) on 127.0.0.1, sending the HTTP headers of its
`_headers` file (the `/*` block: the Content-Security-Policy among them) with every
file, so the Web Workers run under the policy too. Usage: serve.py [DIR] [PORT]."""
import functools
import http.server
import sys
from pathlib import Path


def read_headers(site: Path) -> list[tuple[str, str]]:
    """The `name: value` lines of the `/*` block of site/_headers."""
    headers, inside = [], False
    path = site / "_headers"
    if not path.exists():
        sys.exit(f"{path}: missing (build the site with scripts/build-web.sh)")
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            inside = line.strip() == "/*"
            continue
        if inside:
            name, _, value = line.strip().partition(":")
            headers.append((name.strip(), value.strip()))
    if not any(n.lower() == "content-security-policy" for n, _ in headers):
        sys.exit(f"{path}: no Content-Security-Policy for /*")
    return headers


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
    }

    def __init__(self, *args, site_headers=(), **kwargs):
        self.site_headers = site_headers
        super().__init__(*args, **kwargs)

    def end_headers(self):
        for name, value in self.site_headers:
            self.send_header(name, value)
        super().end_headers()


def main():
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "dist").resolve()
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
    handler = functools.partial(Handler, directory=str(site), site_headers=read_headers(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
