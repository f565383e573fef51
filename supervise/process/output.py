"""A program's output: its two log channels, capture mode and output events.

Bytes from the child go straight to the channel's file; ``PROCESS_LOG_*`` events only
when the channel enables them, ``PROCESS_COMMUNICATION_*`` for captured blocks
(SUPERVISOR.md §5). Output never passes through ``twisted.logger`` (DESIGN.md §6) but
for the debug copy a ``loglevel = debug`` daemon writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from attrs import define, field
from twisted.logger import Logger

from supervise.config.model import GroupKind, ProcessConfig
from supervise.config.values import LogTarget
from supervise.events.types import (
    ProcessCommunicationStderr,
    ProcessCommunicationStdout,
    ProcessLogStderr,
    ProcessLogStdout,
)
from supervise.interfaces import IEventBus
from supervise.logs.capture import CaptureFilter
from supervise.logs.channel import OutputChannel
from supervise.process.spec import SpawnContext

if TYPE_CHECKING:
    from supervise.logs.forward import OutputForwarder

log = Logger(namespace="supervise.process.program")


@define(eq=False)
class ProgramOutput:
    """The stdout and stderr channels of one program and what its output becomes.

    :ivar pid: the pid output events name (the program's current one).
    """

    config: ProcessConfig
    bus: IEventBus
    stdout: OutputChannel
    stderr: OutputChannel
    log_output: bool = False
    captures: dict[str, CaptureFilter] = field(factory=dict)
    pid: Callable[[], int] = lambda: 0
    forward: OutputForwarder | None = None

    @classmethod
    def create(cls, config: ProcessConfig, bus: IEventBus, context: SpawnContext) -> ProgramOutput:
        """The channels of ``config`` (an AUTO log file is made now, as supervisord does)."""
        channels = {
            name: OutputChannel.create(
                config.name, name, channel, context.childlogdir, context.identifier,
                context.strip_ansi,
            )
            for name, channel in (("stdout", config.stdout), ("stderr", config.stderr))
        }  # fmt: skip
        output = cls(config, bus, channels["stdout"], channels["stderr"], context.log_output)
        output.forward = context.forward
        for name, channel in (("stdout", config.stdout), ("stderr", config.stderr)):
            if channel.capture_maxbytes > 0:
                output.captures[name] = CaptureFilter(channel.capture_maxbytes)
        return output

    @property
    def _is_listener(self) -> bool:
        """An event listener's stdout is its protocol (READY, RESULT): never forwarded."""
        return self.config.kind is GroupKind.EVENTLISTENER

    def channel(self, stream: str) -> OutputChannel:
        """The channel of ``stream``."""
        return self.stdout if stream == "stdout" else self.stderr

    def write(self, stream: str, data: bytes) -> None:
        """Log bytes the child wrote; capture mode and events as the channel asks."""
        capture = self.captures.get(stream)
        if capture is None:
            self._log(stream, data)
            return
        for kind, chunk in capture.feed(data):
            if kind == "log":
                self._log(stream, chunk)
            elif kind == "captured":
                self._log_event(stream, chunk)
            else:
                self._communicate(stream, chunk)

    def _log(self, stream: str, data: bytes) -> None:
        logged = self.channel(stream).write(data)
        if self.forward is not None and (stream == "stderr" or not self._is_listener):
            self.forward.feed(self.config, stream, self.pid(), logged)
        if self.log_output:
            log.debug(
                "{name!r} {channel} output:\n{data}",
                name=self.config.name,
                channel=stream,
                data=logged.decode("utf-8", "replace"),
                program=self.config.namespec,
            )
        self._log_event(stream, logged)

    def _log_event(self, stream: str, data: bytes) -> None:
        if self.channel(stream).config.events_enabled:
            kind = ProcessLogStdout if stream == "stdout" else ProcessLogStderr
            self.bus.publish(kind(self.config.group, self.config.name, self.pid(), data))

    def _communicate(self, stream: str, data: bytes) -> None:
        kind = ProcessCommunicationStdout if stream == "stdout" else ProcessCommunicationStderr
        self.bus.publish(kind(self.config.group, self.config.name, self.pid(), data))
        log.debug(
            "{name!r} {channel} emitted a comm event",
            name=self.config.name,
            channel=stream,
            program=self.config.namespec,
        )

    def open(self) -> None:
        """Open both channels' files (OSError if one cannot be)."""
        self.stdout.open()
        self.stderr.open()

    def flush_and_close(self) -> None:
        """The run ended: log what capture mode still holds, then close the files."""
        for stream, capture in self.captures.items():
            for _, chunk in capture.flush():
                self._log(stream, chunk)
        if self.forward is not None:
            self.forward.flush(self.config)
        self.stdout.close()
        self.stderr.close()

    def reopen(self) -> None:
        """Reopen both files (SIGUSR2, logrotate)."""
        self.stdout.reopen()
        self.stderr.reopen()

    def reuse(self, stdout: str | None, stderr: str | None) -> None:
        """Write on to a previous daemon's log files (a re-exec, a restart after a crash);
        the fresh AUTO file made for this daemon is removed."""
        for name, path in (("stdout", stdout), ("stderr", stderr)):
            current = self.channel(name)
            if not path or not isinstance(path, str) or _same_file(current.path, path):
                continue
            if current.path and current.config.logfile is LogTarget.AUTO:
                try:
                    os.remove(current.path)
                except OSError:
                    pass
            setattr(self, name, OutputChannel.at_path(current, path))

    @property
    def dropped(self) -> int:
        """Bytes lost while a log could not be written, both channels."""
        return self.stdout.dropped_total + self.stderr.dropped_total


def _same_file(a: str | None, b: str) -> bool:
    return a is not None and os.path.realpath(a) == os.path.realpath(b)
