"""The folder's changes through watchfiles' public watch(): watching once start() returns, polling when asked."""

import asyncio
import threading

import pytest

from tui_agent.watch.notify import FolderNotifier, polling_wanted

pytestmark = pytest.mark.unit


async def first_batch(notifier: FolderNotifier) -> set:
    async for batch in notifier.batches():
        return batch
    return set()


@pytest.mark.parametrize("polling", ["", "1"])
async def test_a_file_written_right_after_start_is_in_the_first_batch(tmp_path, monkeypatch, polling):
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", polling)
    halt = threading.Event()
    notifier = FolderNotifier(tmp_path, halt, debounce_ms=500, step_ms=10)
    await notifier.start()
    (tmp_path / "a.py").write_text("x = 1\n")
    try:
        batch = await asyncio.wait_for(first_batch(notifier), 10)
    finally:
        halt.set()
        await notifier.close()
    assert str(tmp_path / "a.py") in {path for _, path in batch}
    assert notifier.kind == ("polling" if polling else "native")


async def test_halting_ends_the_batches(tmp_path):
    halt = threading.Event()
    notifier = FolderNotifier(tmp_path, halt, debounce_ms=500, step_ms=10)
    await notifier.start()
    reading = asyncio.ensure_future(first_batch(notifier))
    halt.set()
    assert await asyncio.wait_for(reading, 10) == set()
    await notifier.close()


@pytest.mark.parametrize("value, polling", [("1", True), ("true", True), ("false", False), ("disabled", False)])
def test_polling_follows_watchfiles_documented_variable(monkeypatch, value, polling):
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", value)
    assert polling_wanted() is polling
