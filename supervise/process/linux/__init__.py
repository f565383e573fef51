"""The OS side of the process core: the real providers of ``process/interfaces.py``.

Only these modules (and ``spawner``, ``reaper``, ``tree``, ``pidfd``, ``handoff``,
``keeper``) read ``/proc``, cgroupfs, sockets or signals; the core reaches them through
its ``ProcessHost``.
"""
