"""The processes' log files: read, tail, follow and clear them, as supervisord's
``readProcessStdoutLog``, ``tailProcessStdoutLog`` and ``clearProcessLogs`` do."""

from __future__ import annotations

from collections.abc import Callable

from attrs import define

from supervise.control.lookup import ProcessLookup
from supervise.errors import BadName, Failed, NoFile
from supervise.logs.channel import OutputChannel
from supervise.logs.reading import last_bytes, read_log_file, tail_log_file
from supervise.process.program import Program
from supervise.results import ProcessResult

__all__ = ["CHANNELS", "ProcessLogs"]

CHANNELS = ("stdout", "stderr")


@define(eq=False)
class ProcessLogs:
    """Each process's stdout and stderr logs, found by namespec."""

    processes: ProcessLookup

    def _channel(self, namespec: str, channel: str) -> tuple[Program, OutputChannel]:
        program = self.processes.program(namespec)
        if channel not in CHANNELS:
            raise BadName(f"{namespec} has no channel {channel!r}")
        return program, program.stdout if channel == "stdout" else program.stderr

    def _logged(self, namespec: str, channel: str) -> OutputChannel:
        program, output = self._channel(namespec, channel)
        if program.external:
            raise NoFile(f"{namespec} was not started by supervise: it has no log")
        return output

    def read_log(self, namespec: str, channel: str, offset: int, length: int) -> bytes:
        """A slice of a process's log, as readProcessStdoutLog reads it."""
        return read_log_file(self._logged(namespec, channel).path, offset, length)

    def tail_log(
        self, namespec: str, channel: str, offset: int, length: int
    ) -> tuple[bytes, int, bool]:
        """The end of a process's log, as tailProcessStdoutLog answers."""
        return tail_log_file(self._logged(namespec, channel).path, offset, length)

    def follow_log(
        self,
        namespec: str,
        channel: str,
        follower: Callable[[bytes], None],
        backlog: int = 1024,
    ) -> Callable[[], None]:
        """The last ``backlog`` bytes now, then every new byte; returns the unfollow."""
        _, output = self._channel(namespec, channel)
        if output.path is None:
            raise NoFile(f"{namespec} has no {channel} log file")
        follower(last_bytes(output.path, backlog))
        output.followers.append(follower)

        def unfollow() -> None:
            if follower in output.followers:
                output.followers.remove(follower)

        return unfollow

    def clear_log(self, namespec: str) -> None:
        """Empty both log files of one process (Failed on an OS error)."""
        program = self.processes.program(namespec)
        try:
            program.stdout.clear()
            program.stderr.clear()
        except OSError:
            raise Failed(namespec) from None

    def clear_all_logs(self) -> list[ProcessResult]:
        """Empty the logs of every process; one result each."""
        results = []
        for program in self.processes.all_programs():
            try:
                self.clear_log(program.namespec)
            except Failed as error:
                results.append(ProcessResult(program.name, program.group, error))
            else:
                results.append(ProcessResult(program.name, program.group))
        return results
