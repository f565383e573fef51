"""ProcessSnapshot: a process as every edge sees it, frozen at one instant.

The only view of a process that crosses the door into the core (``ISupervisorControl``):
XML-RPC, the console, the cluster agent and plugins read these, never a live process.
"""

from __future__ import annotations

from attrs import frozen

from supervise.states import ProcessState


@frozen
class ProcessSnapshot:
    """A process as ``getProcessInfo`` and the console see it.

    Times are epoch seconds, 0 if never. The fields after ``spawns`` are supervise's own
    (``supervise.getAllProcessInfo``, the console rows).
    """

    name: str
    group: str
    state: ProcessState
    pid: int
    start: float
    stop: float
    spawnerr: str
    exitstatus: int
    stdout_logfile: str
    stderr_logfile: str
    spawns: int = 0
    #: ``group:name``, or the bare name of a one-process homogeneous group.
    namespec: str = ""
    #: Failed health checks in a row (0 when healthy or unchecked).
    health_failures: int = 0
    #: The last sd_notify ``STATUS=`` the process sent.
    notify_status: str = ""
    #: The process's own cgroup, while it has one.
    cgroup: str = ""
    #: True when the process was taken over (watch mode, a survivor), not spawned.
    adopted: bool = False
    #: Output bytes lost while the log could not be written, both channels.
    log_dropped: int = 0
    #: The retry count of the current start (BACKOFF's count).
    tries: int = 0
    #: True while the process is disabled (``supervisectl disable``).
    disabled: bool = False
    #: A scheduled program's next start, epoch seconds (0 without a schedule).
    next_run: float = 0.0
    #: The group's number of processes now, and as its configuration says (they differ
    #: after a live scale).
    numprocs: int = 0
    numprocs_declared: int = 0
    #: The last exit in words: ``exit status 3``, ``terminated by SIGKILL`` ("" if none).
    exit_text: str = ""


@frozen
class ResourceUsage:
    """One program's whole process tree at one sample: its CPU and resident memory.

    Made by the daemon's sampler (``[supervisord] usage_interval``); read by
    ``supervise.getAllProcessInfo``, the console, ``supervisectl top`` and plugins.
    """

    #: When the sample was taken, epoch seconds.
    when: float
    #: CPU used over the last interval, percent of one CPU (200 = two CPUs busy).
    cpu_percent: float
    #: CPU time (user + system) the tree used since the process started, seconds.
    cpu_seconds: float
    #: Resident memory of the whole tree, bytes.
    rss: int
    #: Processes in the tree.
    processes: int
    #: ``cgroup`` (the program's cgroup's accounting) or ``proc`` (summed over /proc).
    source: str = "proc"
