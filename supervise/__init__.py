"""supervise: a process supervisor on Twisted, a drop-in replacement for supervisord."""

__version__ = "0.1.0"

#: The supervisord version we answer with, so clients that check it keep working.
SUPERVISOR_COMPAT_VERSION = "4.3.0"

#: supervisord's XML-RPC API version (``getAPIVersion``).
API_VERSION = "3.0"
