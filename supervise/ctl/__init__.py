"""supervisectl: our own command-line client, speaking supervisord's XML-RPC API."""
