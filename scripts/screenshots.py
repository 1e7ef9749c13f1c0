"""Take SVG screenshots of the TUI's main states from a real run (scripted model, real sandbox) into screenshots/.

    python scripts/screenshots.py [--png]     # --png also writes PNGs beside them (needs cairosvg)
    python scripts/screenshots.py --png-of screenshots/hunk-review.svg   # only a PNG of an SVG there is
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tui_agent import config  # noqa: E402
from tui_agent.cli.examples import example_flags  # noqa: E402
from tui_agent.tui.app import AgentApp  # noqa: E402

OUT = REPO / "screenshots"
SIZE = (160, 48)
RUN = re.compile(r'(<text class="[^"]+") x="([\d.]+)" (y="[\d.]+") textLength="([\d.]+)"( clip-path="[^"]+")?>'
                 r"([^<]*)</text>")


def per_cell(svg: str) -> str:
    """The SVG with each run of text split into one <text> per character, at its own cell. Rich sizes a run with
    textLength, which cairosvg ignores: a long run (a border, a button's edge) drawn in a font a little narrower
    than the cell then stops short of the corner that ends it, and the box looks misaligned in the PNG only."""
    from rich.cells import cell_len

    def split(match: re.Match) -> str:
        head, x, y, length, clip, body = match.groups()
        text = html.unescape(body)
        cells = cell_len(text)
        if len(text) < 2 or not cells:
            return match.group(0)
        width, at, out = float(length) / cells, float(x), []
        for char in text:
            if not char.isspace():
                out.append(f'{head} x="{at:.1f}" {y} textLength="{width * cell_len(char):.1f}"{clip or ""}>'
                           f"{html.escape(char)}</text>")
            at += width * cell_len(char)
        return "".join(out)

    # and the machine's monospace font: where Fira Code is not installed, fontconfig answers a proportional one
    return RUN.sub(split, svg).replace("font-family: Fira Code, monospace;", "font-family: monospace;")


def png(svg: Path) -> Path:
    """The PNG beside `svg`, each character at its cell (see per_cell)."""
    import cairosvg

    out = svg.with_suffix(".png")
    cairosvg.svg2png(bytestring=per_cell(svg.read_text()).encode(), write_to=str(out))
    return out


async def until(pilot, predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            s = pilot.app.state
            raise TimeoutError(f"the run did not reach the expected state: {s.phase} {s.iteration} {s.activity!r}")
        await pilot.pause(0.002)


def calculator_app(work: Path, folder: str, **flags):
    """The app on a fresh copy of the calculator example; save(name) writes screenshots/NAME.svg into `taken`."""
    source = REPO / "examples" / "calculator"
    project = work / folder
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    # the screenshots show the person's approvals: mode ask
    flags = {"mode": "ask", **flags}
    app = AgentApp(config.load(project, **example_flags(source), session_root=work / "sessions", **flags))
    taken: list[Path] = []

    def save(name: str) -> None:
        path = OUT / f"{name}.svg"
        app.save_screenshot(str(path))
        taken.append(path)

    return app, save, taken


async def shoot(work: Path, pngs: bool) -> list[Path]:
    app, save, taken = calculator_app(work, "calculator", step=True)

    async with app.run_test(size=SIZE) as pilot:
        state = lambda: app.state  # noqa: E731
        await until(pilot, lambda: state().phase == "paused")
        await pilot.press("s")
        await until(pilot, lambda: bool(state().pending))
        await pilot.pause(0.1)
        save("waiting-for-permission")
        await pilot.press("y")
        await until(pilot, lambda: state().phase == "paused" and state().iterations_done == 1)
        await pilot.pause(0.1)
        save("paused")
        await pilot.press("p")
        await until(pilot, lambda: state().iteration == 2 and state().activity)
        if state().phase in ("running", "checking"):
            save("running")
        else:  # the run went past the moment (a busy machine): keep the running.svg there is
            print("running.svg kept: the run was already past that moment", file=sys.stderr)
        await until(pilot, lambda: bool(state().pending))
        await pilot.press("y")
        await until(pilot, lambda: state().phase == "ready to deploy")
        await pilot.pause(0.1)
        save("ready-to-deploy")
        app.theme = "textual-light"
        await pilot.pause(0.1)
        save("ready-to-deploy-light")
        app.theme = "textual-dark"
        app.clear_notifications()
        await pilot.press("h", "down", "down", "r")  # the per-hunk review, the second hunk rejected
        await pilot.pause(0.2)
        save("hunk-review")
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.pause(0.2)
        save("deploy-confirmation")
        await pilot.press("y")
        await until(pilot, lambda: state().deployed is not None)
        await pilot.pause(0.1)
        save("deployed")
        await pilot.press("ctrl+q")
    taken += await shoot_debugging(work)
    if pngs:
        for path in taken:
            png(path)
    return taken


async def shoot_debugging(work: Path) -> list[Path]:
    """breakpoint.svg: paused before an edit_file (--break-on tool:edit_file); inspector.svg: iteration 2's request."""
    app, save, taken = calculator_app(work, "calculator-debug", breakpoints=("tool:edit_file",))

    async with app.run_test(size=SIZE) as pilot:
        state = lambda: app.state  # noqa: E731
        for _ in range(2):
            await until(pilot, lambda: state().at_breakpoint)
            await pilot.pause(0.1)
            if not taken:
                save("breakpoint")
            call_id = next(iter(state().pending))
            await pilot.press("y", "p")
            await until(pilot, lambda call_id=call_id: call_id not in state().pending)
        await until(pilot, lambda: state().phase == "ready to deploy")
        app.clear_notifications()
        await pilot.press("i", "down")
        await pilot.pause(0.2)
        save("inspector")
        await pilot.press("escape", "ctrl+q")
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", action="store_true", help="also write PNG files")
    parser.add_argument("--png-of", nargs="+", type=Path, metavar="SVG", help="only write PNGs of these SVG files")
    args = parser.parse_args()
    if args.png_of:
        for svg in args.png_of:
            print(png(svg))
        return
    OUT.mkdir(exist_ok=True)
    for attempt in range(3):  # "running" is a moment between two waits: retry if the run went past it
        with tempfile.TemporaryDirectory(prefix="tui-shots-") as work:
            try:
                taken = asyncio.run(shoot(Path(work), args.png))
            except TimeoutError as exc:
                print(f"attempt {attempt + 1}: {exc}", file=sys.stderr)
                continue
        for path in taken:
            print(path.relative_to(REPO))
        return
    sys.exit("could not take the screenshots")


if __name__ == "__main__":
    main()
