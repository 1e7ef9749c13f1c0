"""In-container pid 1: reads one command from stdin, runs it, frames its output and exit code on stdout."""

# Runs inside the sandbox as `python3 -I -S -c <this source>`; standard library only, any Python >= 3.8.
# Protocol, host -> supervisor (stdin): 4-byte big-endian length, then JSON {"cmd": str, "cap": int}.
# Supervisor -> host (stdout), frames: 1 tag byte, 4-byte big-endian length, payload.
#   b"O" stdout bytes, b"E" stderr bytes, b"X" JSON {"code": int, "truncated": bool} (the trailer, last).
# Only this process writes to the container's stdout: the child gets fresh pipes and never holds our
# fds, and we are not dumpable, so /proc/1/fd/1 is closed to the child (same uid, no capabilities).
# Frames carry lengths, so nothing the child prints can be read as a trailer.
import ctypes
import errno
import json
import os
import select
import signal
import struct
import sys

PR_SET_DUMPABLE = 4
CHUNK = 65536


def _read_exact(fd, n):
    data = b""
    while len(data) < n:
        part = os.read(fd, n - len(data))
        if not part:
            os._exit(0)  # host went away before sending a command: nothing to do
        data += part
    return data


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except InterruptedError:
            pass


def _frame(tag, payload):
    _write_all(1, tag + struct.pack(">I", len(payload)) + payload)


def _spawn(cmd, out_w, err_w):
    pid = os.fork()
    if pid:
        return pid
    try:  # child: own session, our pipes only, killable first under memory pressure
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, 65536)
        os.execv("/bin/sh", ["/bin/sh", "-c", cmd])
    finally:
        os._exit(127)


def main():
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)  # pid 1: default-handled signals from inside are dropped
    length = struct.unpack(">I", _read_exact(0, 4))[0]
    request = json.loads(_read_exact(0, length).decode())
    cap = int(request.get("cap", 4_000_000))

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    child = _spawn(request["cmd"], out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    tags = {out_r: b"O", err_r: b"E"}
    open_fds = [out_r, err_r]
    sent, truncated, status = 0, False, None

    def pump(fd):
        nonlocal sent, truncated
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return True
        if not data:
            return False
        if truncated:
            return True
        room = cap - sent
        if len(data) > room:
            data, truncated = data[:room], True
            kill_all()
        if data:
            sent += len(data)
            _frame(tags[fd], data)
        return True

    while status is None:
        try:
            ready = select.select(open_fds + [wake_r, 0], [], [])[0]
        except InterruptedError:
            continue
        for fd in ready:
            if fd == wake_r:
                os.read(wake_r, 512)
            elif fd == 0:
                if not os.read(0, 512):  # the host went away (stdin closes with its attach): stop
                    kill_all()
                    os._exit(137)
            elif not pump(fd):
                open_fds.remove(fd)
        status = reap(child)
    kill_all()  # the run is over: orphans (daemonised sleepers) go now, before the trailer
    for fd in open_fds:  # drain what was written before the exit, without waiting for writers
        os.set_blocking(fd, False)
        while pump(fd):
            try:
                if not select.select([fd], [], [], 0)[0]:
                    break
            except InterruptedError:
                continue
    code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else _legacy_code(status)
    code = 128 - code if code < 0 else code
    _frame(b"X", json.dumps({"code": code, "truncated": truncated}).encode())
    os._exit(code & 0xFF)


def kill_all():
    try:
        os.kill(-1, signal.SIGKILL)  # every other process of our uid in this pid namespace
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def reap(child):
    status = None
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == child:
            status = st


def _legacy_code(status):
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
