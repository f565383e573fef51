"""``supervisectl``: one command, or an interactive shell when none is given."""

from __future__ import annotations

import argparse
import cmd
import os
import shlex
import socket
import sys
import xmlrpc.client
from collections.abc import Sequence

from supervise.config import ConfigError, load, load_ctl
from supervise.config.model import CtlConfig
from supervise.ctl.client import Connection
from supervise.ctl.commands import COMMANDS, Controller
from supervise.ctl.help import command_help, overview
from supervise.ctl.session import Session, UsageError

#: Options that may come anywhere on the command line (``cluster status --json`` as well
#: as ``--json cluster status``), with whether each takes a value. Short options and the
#: connection options keep supervisorctl's place, before the command.
ANYWHERE = {"--json": False, "--node": True, "--redis": True, "--colour": True}


def hoist_options(argv: Sequence[str]) -> list[str]:
    """Move the ANYWHERE options found after the command to the front (``--`` stops it)."""
    words = list(argv)
    front: list[str] = []
    rest: list[str] = []
    index, seen_command = 0, False
    while index < len(words):
        word = words[index]
        if word == "--":
            rest.extend(words[index:])
            break
        name = word.split("=", 1)[0]
        if seen_command and name in ANYWHERE:
            takes_value = ANYWHERE[name] and "=" not in word
            front.extend(words[index : index + 1 + takes_value])
            index += 1 + takes_value
            continue
        if not word.startswith("-"):
            seen_command = True
        rest.append(word)
        index += 1
    return front + rest


def ctl_config(path: str | None) -> CtlConfig:
    """The ``[supervisorctl]`` section of ``path`` (or of the default search), else defaults."""
    from supervise.config import find_config

    try:
        return load_ctl(path or find_config(), environ=dict(os.environ))
    except ConfigError:
        if path:
            raise
        return CtlConfig()


def run(controller: Controller, words: list[str]) -> int:
    """Run one command and turn connection problems into messages and exit codes."""
    name, args = words[0], words[1:]
    session = controller.session
    if name == "help":
        return show_help(controller, args)
    handler = controller.handler(name)
    if handler is None:
        session.fail(f"unknown command {name!r}", text=f"*** Unknown syntax: {' '.join(words)}")
        return 1
    try:
        return int(handler(args))
    except UsageError as problem:
        session.fail(str(problem), text=f"Error: {problem}")
        return 2
    except xmlrpc.client.ProtocolError as problem:
        if problem.errcode == 401:
            session.fail(
                "Server requires authentication", 401, text="Server requires authentication"
            )
            return 1
        session.fail(f"{problem.errcode} {problem.errmsg}", problem.errcode)
        return 1
    except (ConnectionRefusedError, FileNotFoundError, socket.gaierror) as problem:
        session.fail(f"{session.connection.url} refused connection ({problem.strerror})")
        return 4  # supervisorctl's INSUFFICIENT_PRIVILEGES/unreachable code
    except xmlrpc.client.Fault as fault:
        session.fail(fault.faultString, fault.faultCode)
        return 1


def show_help(controller: Controller, args: list[str]) -> int:
    """``help`` (every command) or ``help COMMAND`` (usage, description, example)."""
    session = controller.session
    if not args:
        session.emit(overview())
        return 0
    found = command_help(args[0])
    if found is None:
        session.fail(f"no help on {args[0]!r}", text=f"*** No help on {args[0]}")
        return 1
    if session.as_json:
        session.emit_json(
            {"command": found.name, "usage": found.usage, "description": found.what,
             "example": found.example}
        )  # fmt: skip
    else:
        session.emit(found.render())
    return 0


class Shell(cmd.Cmd):
    """The interactive shell: every command, ``help``, ``quit``."""

    def __init__(self, controller: Controller, prompt: str) -> None:
        super().__init__()
        self.controller = controller
        self.prompt = f"{prompt}> "

    def onecmd(self, line: str) -> bool:
        try:
            words = shlex.split(line)
        except ValueError as problem:
            self.controller.session.emit(f"Error: {problem}")
            return False
        if not words:
            return False
        if words[0] in ("quit", "exit", "EOF"):
            return True
        run(self.controller, words)
        return False

    def completenames(self, text: str, *ignored: object) -> list[str]:
        return [c for c in [*COMMANDS, "help", "quit"] if c.startswith(text)]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``supervisectl`` console script."""
    parser = argparse.ArgumentParser(prog="supervisectl", description="Control a supervise daemon.")
    parser.add_argument("-c", "--configuration", help="config file with a [supervisorctl] section")
    parser.add_argument("-s", "--serverurl", help="unix:///path or http://host:port")
    parser.add_argument("-u", "--username")
    parser.add_argument("-p", "--password")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--colour", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--node", help="send the command to this cluster node through Redis")
    parser.add_argument("--redis", help="the cluster's Redis URL (default: [cluster] redis)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(hoist_options(sys.argv[1:] if argv is None else argv))
    if options.command[:1] == ["cluster"] or options.node:
        return cluster_command(options)
    try:
        config = ctl_config(options.configuration)
    except ConfigError as problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    try:
        connection = Connection(
            options.serverurl or config.serverurl,
            options.username or config.username,
            options.password or config.password,
        )
    except ValueError as problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    colour = options.colour == "always" or (options.colour == "auto" and sys.stdout.isatty())
    controller = Controller.over(Session(connection, as_json=options.json, colour=colour))
    if options.command:
        return run(controller, list(options.command))
    run(controller, ["status"])
    try:
        Shell(controller, config.prompt).cmdloop()
    except KeyboardInterrupt:
        print()
    return 0


def cluster_command(options: argparse.Namespace) -> int:
    """``cluster …`` and ``--node N …``: through Redis, not the local daemon."""
    from supervise.config import find_config
    from supervise.ctl import cluster

    config = None
    try:
        config = load(options.configuration or find_config(), environ=dict(os.environ)).cluster
    except ConfigError as problem:
        if not options.redis:
            print(f"Error: {problem}", file=sys.stderr)
            return 2
    return cluster.run(config, options.redis, list(options.command), options.node, options.json)


if __name__ == "__main__":
    raise SystemExit(main())
