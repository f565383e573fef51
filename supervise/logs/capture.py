"""Capture mode: bytes between supervisord's tokens become PROCESS_COMMUNICATION events.

SUPERVISOR.md §5.4: text before ``<!--XSUPERVISOR:BEGIN-->`` is logged as usual; text up
to ``<!--XSUPERVISOR:END-->`` is held in a bounded buffer (not logged) and emitted as one
event; a token split across reads is held back until it is resolved.
"""

from __future__ import annotations

from attrs import define, field

BEGIN_TOKEN = b"<!--XSUPERVISOR:BEGIN-->"
END_TOKEN = b"<!--XSUPERVISOR:END-->"

#: What a chunk of output turns into: ("log", bytes) to log, ("captured", bytes) held for
#: the next message (supervisord still emits PROCESS_LOG events for it), or ("event",
#: the whole captured message).
Action = tuple[str, bytes]


def prefix_at_end(data: bytes, token: bytes) -> int:
    """Length of the longest proper prefix of ``token`` that ``data`` ends with."""
    for size in range(min(len(token) - 1, len(data)), 0, -1):
        if data.endswith(token[:size]):
            return size
    return 0


@define(eq=False)
class CaptureFilter:
    """Splits one channel's output into logged bytes and captured messages.

    :ivar maxbytes: bound of the capture buffer; a write that would exceed it drops as
        many bytes from the front as it adds (supervisord's quirk, kept).
    """

    maxbytes: int
    capturing: bool = False
    _pending: bytes = b""
    _captured: bytearray = field(factory=bytearray)

    def feed(self, data: bytes) -> list[Action]:
        """Take a chunk of output; return what to log and which events to emit."""
        actions: list[Action] = []
        buffer = self._pending + data
        self._pending = b""
        while buffer:
            token = END_TOKEN if self.capturing else BEGIN_TOKEN
            index = buffer.find(token)
            if index < 0:
                keep = prefix_at_end(buffer, token)
                if keep:
                    buffer, self._pending = buffer[:-keep], buffer[-keep:]
                self._take(buffer, actions)
                break
            self._take(buffer[:index], actions)
            buffer = buffer[index + len(token) :]
            if self.capturing:
                actions.append(("event", bytes(self._captured)))
                self._captured.clear()
            self.capturing = not self.capturing
        return actions

    def flush(self) -> list[Action]:
        """At exit: release a held-back partial token as ordinary output."""
        pending, self._pending = self._pending, b""
        actions: list[Action] = []
        self._take(pending, actions)
        return actions

    def _take(self, data: bytes, actions: list[Action]) -> None:
        if not data:
            return
        if not self.capturing:
            actions.append(("log", data))
            return
        if len(self._captured) + len(data) > self.maxbytes:
            del self._captured[: len(data)]
        self._captured += data
        actions.append(("captured", data))
