"""``supervisor.*`` that talk to processes: a process's stdin, and remote communication
events for event listeners.

Docstrings here are user documentation: ``system.methodHelp`` serves them.
"""

from __future__ import annotations

import xmlrpc.client

from attrs import define

from supervise.events.types import RemoteCommunicationEvent
from supervise.interfaces import ISupervisorControl
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.registry import rpc_method


@define(eq=False)
class CommunicationNamespace:
    """supervisord 4.3.0's sendProcessStdin and sendRemoteCommEvent."""

    control: ISupervisorControl

    @rpc_method("sendProcessStdin", signature=("boolean", "string", "string"), unchecked=("chars",))
    def send_process_stdin(self, name: str, chars: object) -> bool:
        """Send a string of chars to the stdin of the process name.
        If non-7-bit data is sent (unicode), it is encoded to utf-8
        before being sent to the process' stdin.

        @param string name        The process name to send to (or 'group:name')
        @param string chars       The character data to send to the process
        @return boolean result    Always return True unless error
        """
        if isinstance(chars, xmlrpc.client.Binary):
            chars = chars.data
        if not isinstance(chars, str | bytes):
            # supervisord's own check and text: INCORRECT_PARAMETERS: 5
            raise RPCError(faults.INCORRECT_PARAMETERS, str(chars))
        data = chars.encode("utf-8") if isinstance(chars, str) else chars
        self.control.send_stdin(name, data)
        return True

    @rpc_method(
        "sendRemoteCommEvent", signature=("boolean", "string", "string"), unchecked=("type", "data")
    )
    def send_remote_comm_event(self, type: object, data: object) -> bool:
        """Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the "type" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        """
        # Any value is accepted and sent as its text, as supervisord does.
        self.control.bus.publish(RemoteCommunicationEvent(_text(type), _text(data)))
        return True


def _text(value: object) -> str:
    """A value as supervisord's ``%s`` shows it; base64 decoded as its unmarshaller does."""
    if isinstance(value, xmlrpc.client.Binary):
        return value.data.decode("utf-8", "replace")
    return str(value)
