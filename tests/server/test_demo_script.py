"""tools/demo: it never calls another program's port its demo."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Squatter(BaseHTTPRequestHandler):
    """Another web server already on the port: it answers everything with 200."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


def _checkout(root: Path) -> Path:
    """tools/demo in a checkout whose .venv runs this interpreter's vrculture (already
    installed: installing is not what this checks, so bootstrap has nothing to do)."""
    (root / "tools").mkdir(parents=True)
    shutil.copy2(ROOT / "tools" / "demo", root / "tools" / "demo")
    bootstrap = root / "tools" / "bootstrap"
    bootstrap.write_text("#!/bin/sh\nexit 0\n")
    bootstrap.chmod(0o755)
    (root / ".venv" / "bin").mkdir(parents=True)
    command = root / ".venv" / "bin" / "vrculture"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vrculture "$@"\n')
    command.chmod(0o755)
    (root / "assets").mkdir()
    (root / "assets" / "demo").symlink_to(ROOT / "assets" / "demo")
    return root


def test_demo_stops_with_the_servers_message_when_its_port_is_taken(tmp_path):
    checkout = _checkout(tmp_path / "checkout")
    squatter = ThreadingHTTPServer(("127.0.0.1", 0), _Squatter)
    port = squatter.server_address[1]
    thread = threading.Thread(target=squatter.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run([str(checkout / "tools" / "demo")], capture_output=True, text=True,
                              timeout=600, env={"PATH": "/usr/bin:/bin", "PORT": str(port)})
    finally:
        squatter.shutdown()
        squatter.server_close()
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "the demo exhibition is at" not in done.stderr
    assert _Squatter.seen == []  # neither the health check nor the simulator went there
