"""HTTP building blocks shared by the XML-RPC server, the console and the cluster console:
the servers and their basic auth (``servers``), the cross-site guard for POSTs
(``csrf``), JSON POST endpoints (``json_post``), Server-Sent Event fan-out (``sse``) and
the console's page and static files (``console_page``).

Nothing here knows the core: these are the pieces the edges (``rpc``, ``web``,
``cluster``) share, so that no edge imports another.
"""
