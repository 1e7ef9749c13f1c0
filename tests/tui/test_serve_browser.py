"""`tui-agent serve` in a real browser (Debian's headless chromium, driven by selenium through the system
chromedriver): the page under the token shows the run's four panels; `p` pressed in the browser pauses the run,
and the run's own terminal shows PAUSED too; a wrong token or a foreign Origin is refused; no second run starts."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from tmux import REPO, Tmux, app_command

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and shutil.which("tmux") and shutil.which("bwrap")),
                                reason="needs chromium, chromedriver (apt: chromium chromium-driver), tmux, bwrap")

# Before the page's scripts: keep what the app sends over the websocket, as text (the terminal draws on a canvas)
CAPTURE = """
window.__screen = [];
const Native = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const socket = new Native(url, protocols);
  socket.addEventListener("message", (e) => {
    if (typeof e.data !== "string") window.__screen.push(new TextDecoder().decode(e.data));
  });
  return socket;
};
window.WebSocket.prototype = Native.prototype;
"""
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


def seen(driver) -> str:
    return ANSI.sub("", "".join(driver.execute_script("return window.__screen")))


def wait(test, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := test():
            return result
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE})
    return driver


async def websocket_status(url: str, origin: str) -> int:
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers={"Origin": origin}) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def http_status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_browser_attaches_to_the_run_and_pauses_it(tmp_path):
    project, sessions, code = tmp_path / "proj", tmp_path / "sessions", tmp_path / "code"
    shutil.copytree(REPO / "examples" / "calculator", project, ignore=shutil.ignore_patterns("*.toml", "model.json"))
    run = app_command("run", str(project), "--check", "python3 -m unittest -v", "--model",
                      f"scripted:{REPO / 'examples' / 'calculator' / 'model.json'}", "--sessions", str(sessions),
                      "--sandbox", "bwrap", "--mode", "ask")
    terminal = Tmux(f"{run}; echo $? > {code}; sleep 60")
    server = driver = None
    try:
        terminal.wait_for("WAITING FOR APPROVAL")  # the run waits for the person (its first edit)
        server = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", "serve", "--sessions", str(sessions)],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert server.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+/\S+", server.stdout.readline()).group(0)
        base, token = url.rsplit("/", 1)
        ws = f"ws{base.removeprefix('http')}/ws/{token}"
        assert http_status(f"{base}/{'x' * len(token)}") == 403, "a wrong token gets no page"
        assert asyncio.run(websocket_status(ws, "http://evil.example")) == 403, "a foreign Origin is refused"
        assert asyncio.run(websocket_status(f"{base}/ws/wrong", base)) == 403, "a wrong token gets no websocket"

        driver = browser()
        driver.get(url)
        for panel in ("1 Plan", "2 Output", "3 Fixes", "4 Permissions", "WAITING FOR APPROVAL"):
            wait(lambda panel=panel: panel in seen(driver), f"{panel!r} in the browser")
        from selenium.webdriver.common.by import By

        driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("p")  # pause, from the browser
        wait(lambda: "Resume" in seen(driver)[-4000:], "the browser's key offers Resume (the pause was sent)")
        terminal.keys("a")  # the approval, in the run's own terminal: the loop goes on to the pause
        terminal.wait_until(lambda s: "PAUSED" in s.splitlines()[0], what="PAUSED in the terminal")
        wait(lambda: "PAUSED" in seen(driver), "PAUSED in the browser")
        assert len(list(sessions.iterdir())) == 1, "the browser attached: no second run, no second session"
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            server.terminate()
            server.wait(30)
        terminal.quit_then_kill(code)
