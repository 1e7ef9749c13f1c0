"""A bounded buffer of command output: the head and the tail are kept, the middle is counted."""

from __future__ import annotations


class OutputBuffer:
    def __init__(self, head_chars: int = 8_000, tail_chars: int = 24_000) -> None:
        self.head_chars, self.tail_chars = head_chars, tail_chars
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self.dropped = 0  # characters between head and tail that were not kept
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        if self._head_len < self.head_chars:
            take = text[: self.head_chars - self._head_len]
            self._head.append(take)
            self._head_len += len(take)
            text = text[len(take):]
        if text:
            tail = self._tail + text
            if len(tail) > self.tail_chars:
                self.dropped += len(tail) - self.tail_chars
                tail = tail[-self.tail_chars:]
            self._tail = tail

    def text(self) -> str:
        head = "".join(self._head)
        if self.dropped:
            return f"{head}\n[... {self.dropped} characters omitted ...]\n{self._tail}"
        return head + self._tail
