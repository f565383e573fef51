"""supervisord's XML-RPC API over twisted.web: namespaces, dispatch, transports."""
