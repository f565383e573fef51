"""The HTTP server, ``[rpcinterface:x]`` and ``[supervisorctl]`` sections."""

from __future__ import annotations

import os
from collections.abc import Mapping

from supervise.config import values
from supervise.config.ini import RawConfig
from supervise.config.model import CtlConfig, RpcInterfaceConfig, ServerConfig
from supervise.config.section import SectionReader

INET_SERVER_OPTIONS = frozenset(
    {"port", "username", "password", "allow_unauthenticated", "certfile", "keyfile"}
)
UNIX_SERVER_OPTIONS = frozenset({"file", "chmod", "chown", "username", "password"})
LOOPBACK_HOSTS = frozenset({"localhost", "::1", "ip6-localhost"})
CTL_OPTIONS = frozenset({"serverurl", "username", "password", "prompt", "history_file"})


def build_servers(raw: RawConfig, env_names: Mapping[str, object]) -> list[ServerConfig]:
    """Build every ``[unix_http_server*]`` and ``[inet_http_server*]`` section."""
    servers = []
    names = {"here": raw.here, **env_names}
    for name in raw.sections:
        if name.startswith("inet_http_server"):
            section = SectionReader(raw, name, names)
            section.warn_unknown(INET_SERVER_OPTIONS)
            port_text = section.text("port", None)
            if port_text is None:
                raise section.error(f"section [{name}] has no port value", "port")
            host, port = section.convert("port", port_text, values.inet_address)
            username, password = _credentials(section)
            allow = section.parse("allow_unauthenticated", "false", values.boolean)
            if username is None and not allow and not _is_loopback(host):
                raise section.error(
                    f"refusing to serve on {port_text!r} without a username and password: anyone "
                    "who can reach this port could start, stop and signal programs. Set username "
                    "and password, bind to 127.0.0.1, or set allow_unauthenticated = true to "
                    "accept the risk",
                    "port",
                )
            certfile, keyfile = _tls_files(section)
            servers.append(
                ServerConfig(
                    "inet",
                    name,
                    host=host,
                    port=port,
                    username=username,
                    password=password,
                    certfile=certfile,
                    keyfile=keyfile,
                )
            )
        elif name.startswith("unix_http_server"):
            section = SectionReader(raw, name, names)
            section.warn_unknown(UNIX_SERVER_OPTIONS)
            file = section.text("file", None)
            if file is None:
                raise section.error(f"section [{name}] has no file value", "file")
            file = os.path.abspath(os.path.expanduser(file.strip()))
            chmod_text = section.text("chmod", "0700") or "0700"
            try:
                chmod = values.octal(chmod_text)
            except ValueError:
                raise section.error(f"Invalid chmod value {chmod_text}", "chmod") from None
            chown_text = section.text("chown", None)
            chown = None
            if chown_text is not None:
                chown = section.convert(
                    "chown", chown_text, lambda t: values.user_and_group(t, "sockchown value")
                )
            username, password = _credentials(section)
            servers.append(
                ServerConfig(
                    "unix",
                    name,
                    file=file,
                    chmod=chmod,
                    chown=chown,
                    username=username,
                    password=password,
                )
            )
    return servers


def _tls_files(section: SectionReader) -> tuple[str | None, str | None]:
    """``certfile`` and ``keyfile``: both or neither, readable PEM files."""
    certfile = section.text("certfile", None)
    keyfile = section.text("keyfile", None)
    if (certfile is None) != (keyfile is None):
        missing = "keyfile" if keyfile is None else "certfile"
        raise section.error(f"TLS needs both certfile and keyfile; {missing} is missing", missing)
    for option, path in (("certfile", certfile), ("keyfile", keyfile)):
        if path is not None:
            try:
                with open(path, "rb") as handle:
                    if b"-----BEGIN" not in handle.read():
                        raise section.error(f"{path} is not a PEM file", option)
            except OSError as problem:
                raise section.error(f"cannot read {path}: {problem.strerror}", option) from None
    return certfile, keyfile


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _credentials(section: SectionReader) -> tuple[str | None, str | None]:
    username = section.text("username", None)
    password = section.text("password", None)
    if (username is None) != (password is None):
        raise section.error(
            f"Section [{section.name}] contains incomplete authentication: If a username or a "
            "password is specified, both the username and password must be specified"
        )
    return username, password


def build_rpcinterfaces(raw: RawConfig) -> list[RpcInterfaceConfig]:
    """Build ``[rpcinterface:x]`` sections (the factory is resolved by the service)."""
    result = []
    for name in raw.sections:
        if not name.startswith("rpcinterface:"):
            continue
        options = dict(raw.sections[name])
        factory = options.pop("supervisor.rpcinterface_factory", None)
        if not factory:
            raise raw.error(
                f"section [{name}] does not specify a supervisor.rpcinterface_factory", name
            )
        result.append(RpcInterfaceConfig(name.split(":", 1)[1], factory.strip(), options))
    return result


def build_ctl(raw: RawConfig, env_names: Mapping[str, object]) -> CtlConfig:
    """Build ``[supervisorctl]``."""
    section = SectionReader(raw, "supervisorctl", {"here": raw.here, **env_names})
    section.warn_unknown(CTL_OPTIONS)
    serverurl = section.text("serverurl", "http://localhost:9001") or "http://localhost:9001"
    if serverurl.startswith("unix://"):
        serverurl = "unix://" + os.path.abspath(serverurl[len("unix://") :])
    return CtlConfig(
        serverurl=serverurl,
        username=section.text("username", None),
        password=section.text("password", None),
        prompt=section.text("prompt", "supervisor") or "supervisor",
        history_file=section.text("history_file", None),
    )
