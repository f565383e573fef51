"""Public test helpers for supervise and its plugins.

- ``Harness`` (harness.py) with ``FakeSpawner``/``FakeChild`` (children.py) and the fakes
  of the core's OS collaborators (host.py): programs on a fake clock, children that exit
  when the test says, probes, pidfiles, sd_notify and trees the test drives (layer 2).
- ``RunningDaemon`` (daemon.py): the real ``twistd -n supervise`` in a temporary folder,
  ready when it says ``READY=1``, with an XML-RPC proxy (layer 4).
"""

from supervise.testing.children import FakeChild, FakeSpawner
from supervise.testing.daemon import (
    RunningDaemon,
    UnixTransport,
    free_port,
    ini_section,
    raw_xmlrpc,
    self_signed_certificate,
    tool,
    wait_until,
)
from supervise.testing.harness import Harness
from supervise.testing.host import (
    FakeCheck,
    FakeFiles,
    FakeNotifyChannel,
    FakeNotifySockets,
    FakeProcessTable,
    FakeTree,
)

__all__ = [
    "FakeCheck",
    "FakeChild",
    "FakeFiles",
    "FakeNotifyChannel",
    "FakeNotifySockets",
    "FakeProcessTable",
    "FakeSpawner",
    "FakeTree",
    "Harness",
    "RunningDaemon",
    "UnixTransport",
    "free_port",
    "ini_section",
    "raw_xmlrpc",
    "self_signed_certificate",
    "tool",
    "wait_until",
]
