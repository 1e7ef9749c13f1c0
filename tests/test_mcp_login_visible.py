"""`tui-agent mcp login` against a hostile HTTP server: what the server says (its error text, quoted by the SDK's
log and by our one-line error) reaches the terminal with every control and bidi character spelled out."""

from __future__ import annotations

import http.server
import json
import threading

from loop_fixtures import cli

HIDDEN = "\x1b]0;pwned\x07 and \x1b]52;c;ZXZpbA==\x1b\\ hidden\u202e"


class Hostile(http.server.BaseHTTPRequestHandler):
    def answer(self) -> None:
        body = ('{"error": "invalid_request", "error_description": "' + HIDDEN + '"}').encode()  # raw, as sent
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args) -> None:
        pass


def test_what_a_hostile_server_says_is_shown_escaped(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        project = tmp_path / "project"
        project.mkdir()
        url = f"http://127.0.0.1:{server.server_port}/mcp"
        (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"remote": {"url": url}}}))
        done = cli("mcp", "login", "remote", "--path", str(project), "--trust-project", timeout=120)
    finally:
        server.shutdown()
    shown = done.stdout + done.stderr
    assert done.returncode == 1 and "tui-agent: error: remote:" in done.stderr, shown
    assert "\\x1b]0;pwned\\x07" in done.stderr and "\\u202e" in done.stderr, "the hidden part is shown, escaped"
    assert not any(ch in shown for ch in "\x1b\x07\u202e"), "a control character reached the terminal"
