"""Layer 3: the service's wiring choices."""

import time

from twisted.internet.task import Clock

from supervise.service import use_monotonic_clock


def test_reactor_switched_to_monotonic_only_when_nothing_is_scheduled():
    """Deadlines use time.monotonic, unless something was already scheduled on the old clock."""
    fresh = Clock()
    assert use_monotonic_clock(fresh) and fresh.seconds is time.monotonic
    busy = Clock()
    busy.callLater(5, lambda: None)
    assert not use_monotonic_clock(busy) and busy.seconds is not time.monotonic


def test_parts_start_in_the_order_that_makes_stopping_safe(tmp_path):
    """Servers listen before the pidfile and the core (a second daemon stops there); the
    programs start after the servers, so they stop (in reverse) while XML-RPC answers;
    the descriptor keeper is there before the core and told to quit after the programs."""
    from supervise.options import DaemonOptions
    from supervise.service import make_service

    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        f"[supervisord]\nlogfile = {tmp_path}/main.log\npidfile = {tmp_path}/s.pid\n"
        f"[unix_http_server]\nfile = {tmp_path}/s.sock\n"
    )
    top = make_service(DaemonOptions(str(conf), environ={}), Clock())
    names = [type(part).__name__ for part in top]
    assert names == [
        "SocketTable", "PrivilegesService", "MainLogService", "SignalService", "LimitsService",
        "HTTPServers", "PidFileService", "KeeperService", "CoreService", "PluginHost", "SiteService",
        "ExitStatusService", "ProgramsService", "UsageService", "ClusterService", "ReadyService",
    ]  # fmt: skip
    assert list(tmp_path.iterdir()) == [conf]  # building it created nothing
