"""HTTP resources beside XML-RPC: log streams (and, later, the console)."""
