"""Raw wait statuses in supervisord's words."""

from __future__ import annotations

import os

from supervise.config.values import signal_name

TOO_QUICK = "Exited too quickly (process log may have details)"


def decode_wait_status(status: int) -> tuple[int, str]:
    """Return supervisord's ``(exitstatus, text)``: -1 for a death by signal.

    A negative ``status`` means the exit status could not be read (an adopted process
    that is not our child).
    """
    if status < 0:
        return -1, "exit status unknown"
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return code, f"exit status {code}"
    if os.WIFSIGNALED(status):
        text = f"terminated by {signal_name(os.WTERMSIG(status))}"
        if os.WCOREDUMP(status):
            text += " (core dumped)"
        return -1, text
    return -1, f"unknown termination cause 0x{status:04x}"
