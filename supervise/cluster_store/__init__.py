"""The cluster's Redis store as every party speaks it: the connection (``link``, the only
txredisapi user), key names and revisions (``schema``), what a revision may hold and
where it is placed (``definitions``), and the reads and commands shared by the cluster
agent, the cluster console and ``supervisectl cluster`` (``admin``).

Below the edges: ``supervise.cluster`` (a node's agent, the console) and
``supervise.ctl`` both build on it without importing each other.
"""
