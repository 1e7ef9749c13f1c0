"""Frames on an attach stream: docker's stdout/stderr multiplexing, then our tag + length + payload framing."""

from __future__ import annotations

import struct


class Frames:
    """Parses docker's multiplexed attach stream, then the frames (tag, length, payload) inside its stdout."""

    def __init__(self) -> None:
        self.raw = bytearray()  # docker: 8-byte header (stream, 0, 0, 0, size) + payload
        self.out = bytearray()  # supervisor: tag + 4-byte size + payload
        self.supervisor_stderr = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.raw += data
        while len(self.raw) >= 8:
            kind, size = self.raw[0], struct.unpack(">I", self.raw[4:8])[0]
            if len(self.raw) < 8 + size:
                break
            payload = bytes(self.raw[8:8 + size])
            del self.raw[:8 + size]
            if kind == 1:
                self.out += payload
            elif len(self.supervisor_stderr) < 4096:
                self.supervisor_stderr += payload
        frames = []
        while len(self.out) >= 5:
            size = struct.unpack(">I", self.out[1:5])[0]
            if len(self.out) < 5 + size:
                break
            frames.append((bytes(self.out[:1]), bytes(self.out[5:5 + size])))
            del self.out[:5 + size]
        return frames
