"""The daemon as a MultiService of small services, wired in ``supervise/service.py``.

Start order (stop is the reverse, one service after the other): ``[socket:x]`` sockets,
umask and privileges, the main log, limits, HTTP servers, the pidfile, the core
(supervisor and control), plugins, the programs, cluster mode, signals, READY.
"""
