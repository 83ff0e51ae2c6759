"""The helpdesk's frontend: serves the single-page app (static files; every other path is the app's page).

Run: python -m targets.helpdesk.frontend   (port from HELPDESK_PORT, the API's URL from HELPDESK_API_URL)
Standard library only; the app's build switches (API URL, faults) are written into app.js when it is served.
"""
from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import config

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def build_files(api_url: str, faults: list[str]) -> dict[str, tuple[bytes, str]]:
    build = {"apiUrl": api_url, "tokenInUrl": "token_in_url" in faults,
             "submitOnButtonClick": "login_form_broken" in faults}
    files: dict[str, tuple[bytes, str]] = {}
    for p in STATIC.iterdir():
        if p.suffix in TYPES:
            text = p.read_text()
            if p.name == "app.js":
                start, end = text.index("/*BUILD*/"), text.index("/*END*/") + len("/*END*/")
                text = text[:start] + json.dumps(build) + text[end:]
            files[f"/assets/{p.name}"] = (text.encode(), TYPES[p.suffix])
    files["index"] = ((STATIC / "index.html").read_bytes(), "text/html; charset=utf-8")
    return files


def make_handler(files: dict[str, tuple[bytes, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "helpdesk-frontend"
        sys_version = ""

        def _answer(self, with_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            if path in files:
                body, ctype = files[path]
                status = 200
            elif path.startswith("/assets/") or path == "/favicon.ico":
                body, ctype, status = b"Not Found", "text/plain; charset=utf-8", 404
            else:  # the app routes on the client: every page is index.html
                body, ctype = files["index"]
                status = 200
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


def main() -> None:
    try:
        faults = config.parse_faults(os.environ.get("HELPDESK_FAULTS"))
    except config.ConfigError as e:
        print(f"helpdesk frontend: refusing to start: {e}", file=sys.stderr)
        sys.exit(2)
    api_url = os.environ.get("HELPDESK_API_URL") or "http://127.0.0.1:8000"
    port = int(os.environ.get("HELPDESK_PORT") or "5173")
    server = ThreadingHTTPServer((os.environ.get("HELPDESK_HOST") or "127.0.0.1", port),
                                 make_handler(build_files(api_url, faults)))
    server.daemon_threads = True
    print(f"helpdesk frontend on http://{server.server_address[0]}:{port} (API {api_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
