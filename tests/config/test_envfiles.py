"""Layer 1: ``environment_file`` — dotenv files read at each start, and their errors."""

import textwrap

import pytest

from supervise.config import ConfigError, load
from supervise.config.envfiles import EnvironmentFileError, layered, read_file
from supervise.errors import SpawnError
from supervise.process.spec import SpawnContext, build_spawn_spec


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_dotenv_syntax(tmp_path):
    """export, both quote kinds (escapes in double ones only), comments, blank lines."""
    path = write(
        tmp_path / "app.env",
        """\
        # the app's settings

        PLAIN=value with spaces # a comment
        export EXPORTED=1
        SINGLE='no $escape \\n here'
        DOUBLE="tab\\there \\"quoted\\""
        EMPTY=
        URL=postgres://u:p@db/x?a=b
        """,
    )
    assert read_file(path) == {
        "PLAIN": "value with spaces",
        "EXPORTED": "1",
        "SINGLE": "no $escape \\n here",
        "DOUBLE": 'tab\there "quoted"',
        "EMPTY": "",
        "URL": "postgres://u:p@db/x?a=b",
    }


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("A=1\n\nB='unclosed\n", 3),
        ("A=1\n# note\nJUSTAKEY\n", 3),
        ('A=1\nB="x" trailing junk\n', 2),
    ],
)
def test_a_malformed_line_is_named(tmp_path, text, line):
    """The error names the file and the line of the malformed entry."""
    path = tmp_path / "bad.env"
    path.write_text(text)
    with pytest.raises(EnvironmentFileError, match=rf"environment file {path}:{line}: "):
        read_file(str(path))


def test_order_daemon_then_files_then_program(tmp_path):
    """[supervisord] environment < files in order < the program's environment =."""
    first = write(tmp_path / "one.env", "A=file1\nB=file1\nC=file1\nD=file1\n")
    second = write(tmp_path / "two.env", "B=file2\n")
    conf = write(
        tmp_path / "s.conf",
        f"""
        [supervisord]
        environment = D=daemon,E=daemon
        [program:app]
        command = /bin/true
        environment_file = {first} {second} -{tmp_path}/absent.env
        environment = C=program
        """,
    )
    (process,) = load(conf, environ={}).groups[0].processes
    env = layered(process.environment, process.extras.environment_files)
    assert env == {"A": "file1", "B": "file2", "C": "program", "D": "file1", "E": "daemon"}


def test_read_at_each_start_and_failures_are_spawn_errors(tmp_path):
    """Each spawn reads the files anew; a missing one fails that spawn, naming it."""
    envfile = tmp_path / "app.env"
    envfile.write_text("GREETING=hello\n")
    conf = write(
        tmp_path / "s.conf",
        f"""
        [supervisord]
        [program:app]
        command = /bin/true
        environment_file = {envfile}
        """,
    )
    (process,) = load(conf, environ={}).groups[0].processes
    context = SpawnContext(environ={"PATH": "/bin:/usr/bin"}, server_url=None,
                           childlogdir=str(tmp_path), identifier="t")  # fmt: skip
    assert build_spawn_spec(process, context, None).env["GREETING"] == "hello"
    envfile.write_text("GREETING=bonjour\n")
    assert build_spawn_spec(process, context, None).env["GREETING"] == "bonjour"
    envfile.unlink()
    with pytest.raises(SpawnError, match=rf"environment file {envfile}: No such file"):
        build_spawn_spec(process, context, None)


def test_path_from_an_env_file_finds_the_command(tmp_path):
    """PATH set in a file is where the command is looked up, as with environment =."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "mytool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    envfile = write(tmp_path / "app.env", f"PATH={bindir}\n")
    conf = write(
        tmp_path / "s.conf",
        f"[supervisord]\n[program:app]\ncommand = mytool\nenvironment_file = {envfile}\n",
    )
    (process,) = load(conf, environ={}).groups[0].processes
    context = SpawnContext(environ={"PATH": "/bin"}, server_url=None,
                           childlogdir=str(tmp_path), identifier="t")  # fmt: skip
    assert build_spawn_spec(process, context, None).filename == str(tool)


def test_unused_option_leaves_the_model_alone(tmp_path):
    """A config without environment_file builds the very same process as before."""
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:app]\ncommand = /bin/true\n")
    (process,) = load(conf, environ={}).groups[0].processes
    assert process.extras.environment_files is None and process.extras.rlimits == ()


def test_bad_path_list_is_a_config_error(tmp_path):
    conf = write(
        tmp_path / "s.conf",
        "[supervisord]\n[program:app]\ncommand = /bin/true\nenvironment_file = 'open\n",
    )
    with pytest.raises(ConfigError, match=r"s.conf:4, \[program:app\] environment_file"):
        load(conf, environ={})
