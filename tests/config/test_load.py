"""Layer 1: whole configuration files read as supervisord reads them."""

import os
import textwrap

import pytest

from supervise.config import ConfigError, find_config, load
from supervise.config.diff import diff
from supervise.config.model import GroupKind
from supervise.config.values import AutoRestart, LogTarget


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_defaults_match_supervisord(tmp_path):
    """A bare program gets supervisord's defaults."""
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:web]\ncommand=/bin/cat\n")
    model = load(conf, environ={})
    (group,) = model.groups
    (process,) = group.processes
    assert (group.name, group.priority, group.kind) == ("web", 999, GroupKind.PROGRAM)
    assert (process.autostart, process.startsecs, process.startretries) == (True, 1, 3)
    assert (process.autorestart, process.exitcodes, process.stopwaitsecs) == (
        AutoRestart.UNEXPECTED,
        (0,),
        10,
    )
    assert process.stdout.logfile is LogTarget.AUTO and process.stdout.maxbytes == 50 * 1024 * 1024
    assert model.supervisord.identifier == "supervisor"
    assert model.supervisord.pidfile == os.path.abspath("supervisord.pid")


def test_numprocs_and_expansions(tmp_path):
    """numprocs expands process_name, command and environment per process_num."""
    conf = write(
        tmp_path / "s.conf",
        """
        [supervisord]
        environment = BASE=b
        [program:multi]
        command = /bin/echo %(process_num)d %(here)s %(ENV_BASE)s %(group_name)s
        process_name = %(program_name)s_%(process_num)02d
        numprocs = 2
        numprocs_start = 4
        environment = N="%(process_num)d"
        """,
    )
    (group,) = load(conf, environ={}).groups
    names = [p.name for p in group.processes]
    assert names == ["multi_04", "multi_05"]
    assert group.processes[1].command == f"/bin/echo 5 {tmp_path} b multi"
    assert dict(group.processes[0].environment) == {"BASE": "b", "N": "4"}
    assert group.processes[0].namespec == "multi:multi_04"


def test_numprocs_requires_process_num(tmp_path):
    """numprocs > 1 without %(process_num) in process_name is an error naming the option."""
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:m]\ncommand=/bin/cat\nnumprocs=2\n")
    with pytest.raises(ConfigError) as error:
        load(conf, environ={})
    assert "%(process_num) must be present within process_name when numprocs > 1" in str(
        error.value
    )
    assert error.value.section == "program:m"


def test_error_names_file_line_section_option(tmp_path):
    """A bad value is reported with its file, line, section and option."""
    conf = write(
        tmp_path / "bad.conf", "[supervisord]\n\n[program:a]\ncommand=/bin/cat\nautostart=maybe\n"
    )
    with pytest.raises(ConfigError) as error:
        load(conf, environ={})
    assert str(error.value) == (
        f"not a valid boolean value: 'maybe' in section 'program:a' (file: '{conf}') "
        f"at {conf}:5, [program:a] autostart"
    )


def test_include_globs_relative_with_here(tmp_path):
    """[include] globs are relative to the including file; %(here)s is per file."""
    sub = tmp_path / "conf.d"
    sub.mkdir()
    write(sub / "b.conf", "[program:b]\ncommand=/bin/cat\ndirectory=%(here)s\n")
    write(sub / "a.conf", "[program:a]\ncommand=/bin/cat\nstartsecs=ten\n")
    conf = write(
        tmp_path / "main.conf", "[supervisord]\n[include]\nfiles = conf.d/*.conf nomatch/*.conf\n"
    )
    with pytest.raises(ConfigError) as error:
        load(conf, environ={})
    assert f"at {sub / 'a.conf'}:3, [program:a] startsecs" in str(error.value)
    assert f"(included from {conf}:3)" in str(error.value)
    (sub / "a.conf").unlink()
    model = load(conf, environ={})
    assert model.group("b").processes[0].directory == str(sub)
    assert any("No file matches via include" in w for w in model.warnings)


def test_inline_comment_cuts_command(tmp_path):
    """As in supervisord, ' ;' starts a comment even inside quotes."""
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:a]\ncommand=bash -c 'a ; b'\n")
    assert load(conf, environ={}).groups[0].processes[0].command == "bash -c 'a"


def test_group_section_and_unknown_member(tmp_path):
    """[group:x] gathers programs; naming an unknown program is an error."""
    conf = write(
        tmp_path / "s.conf",
        "[supervisord]\n[program:a]\ncommand=/bin/cat\n[program:b]\ncommand=/bin/cat\n[group:g]\nprograms=a,b\npriority=5\n",
    )
    model = load(conf, environ={})
    assert [g.name for g in model.groups] == ["g"]
    assert [p.namespec for p in model.groups[0].processes] == ["g:a", "g:b"]
    bad = write(tmp_path / "t.conf", "[supervisord]\n[group:g]\nprograms=zz\n")
    with pytest.raises(ConfigError, match=r"\[group:g\] names unknown program or fcgi-program zz"):
        load(bad, environ={})


def test_missing_supervisord_section(tmp_path):
    """A file without [supervisord] is refused with supervisord's message."""
    conf = write(tmp_path / "s.conf", "[program:a]\ncommand=/bin/cat\n")
    with pytest.raises(ConfigError, match=".ini file does not include supervisord section"):
        load(conf, environ={})


def test_unknown_expansion_lists_available_names(tmp_path):
    """An unknown %(name)s says which names are available."""
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:a]\ncommand=ls %(foo)s\n")
    with pytest.raises(ConfigError, match=r"contains names \('foo'\) which cannot be expanded"):
        load(conf, environ={})


def test_eventlistener_validation(tmp_path):
    """Listeners need events, known event names and no redirect_stderr."""
    base = "[supervisord]\n[eventlistener:e]\ncommand=/bin/cat\n"
    cases = {
        "": 'requires an "events" line',
        "events=FOO\n": "Unknown event type FOO in [eventlistener:e] events",
        "events=PROCESS_STATE\nbuffer_size=0\n": "invalid buffer_size (0)",
        "events=TICK_5\nredirect_stderr=true\n": "redirect_stderr=true but this is not allowed",
    }
    for extra, message in cases.items():
        conf = write(tmp_path / "e.conf", base + extra)
        with pytest.raises(ConfigError) as error:
            load(conf, environ={})
        assert message in str(error.value)
    conf = write(tmp_path / "e.conf", base + "events=process_state,TICK_60\n")
    pool = load(conf, environ={}).groups[0]
    assert (pool.kind, pool.priority, pool.events) == (
        GroupKind.EVENTLISTENER,
        -1,
        ("PROCESS_STATE", "TICK_60"),
    )


def test_servers_and_credentials(tmp_path):
    """HTTP servers parse; a username without password is refused."""
    conf = write(
        tmp_path / "s.conf",
        "[supervisord]\n[unix_http_server]\nfile=%(here)s/s.sock\nchmod=0770\n[inet_http_server]\nport=127.0.0.1:9001\nusername=u\npassword={SHA}ab\n",
    )
    unix, inet = sorted(load(conf, environ={}).servers, key=lambda s: s.kind, reverse=True)
    assert (unix.file, unix.chmod, unix.url) == (
        str(tmp_path / "s.sock"),
        0o770,
        f"unix://{tmp_path}/s.sock",
    )
    assert (inet.host, inet.port, inet.username) == ("127.0.0.1", 9001, "u")
    bad = write(tmp_path / "t.conf", "[supervisord]\n[inet_http_server]\nport=9001\nusername=u\n")
    with pytest.raises(ConfigError, match="incomplete authentication"):
        load(bad, environ={})


def test_stopasgroup_requires_killasgroup(tmp_path):
    """stopasgroup=true with killasgroup=false is refused."""
    conf = write(
        tmp_path / "s.conf",
        "[supervisord]\n[program:a]\ncommand=x\nstopasgroup=true\nkillasgroup=false\n",
    )
    with pytest.raises(ConfigError, match="Cannot set stopasgroup=true and killasgroup=false"):
        load(conf, environ={})


def test_unknown_options_are_warned_not_fatal(tmp_path):
    """An unknown option is ignored, as in supervisord, with a warning naming it."""
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:a]\ncommand=x\ncomand_typo=1\n")
    model = load(conf, environ={})
    assert any("comand_typo" in w for w in model.warnings)


def test_command_line_overrides_win(tmp_path):
    """[supervisord] options given on the command line override the file."""
    conf = write(tmp_path / "s.conf", "[supervisord]\nidentifier=file\n")
    assert load(conf, environ={}, overrides={"identifier": "cli"}).supervisord.identifier == "cli"


def test_diff_added_changed_removed(tmp_path):
    """Rereading reports added, changed and removed groups by name."""
    old = load(
        write(
            tmp_path / "a.conf", "[supervisord]\n[program:a]\ncommand=x\n[program:b]\ncommand=y\n"
        ),
        environ={},
    )
    new = load(
        write(
            tmp_path / "b.conf", "[supervisord]\n[program:b]\ncommand=z\n[program:c]\ncommand=x\n"
        ),
        environ={},
    )
    result = diff({g.name: g for g in old.groups}, new)
    assert result.names() == (["c"], ["b"], ["a"])


def test_find_config_message(tmp_path):
    """With no config anywhere, the error lists the searched paths."""
    with pytest.raises(ConfigError, match="No config file found at default paths"):
        find_config([str(tmp_path / "none.conf")])


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@given(
    NAMES,
    st.integers(0, 50),
    st.integers(1, 4),
    st.from_regex(r"[A-Za-z0-9_./-]{0,12}", fullmatch=True),
)
def test_expansions_in_any_program(name, start, count, value):
    """%(program_name)s, %(process_num)02d, %(ENV_X)s and %% expand per process, for any names."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "s.conf")
        with open(conf, "w") as handle:
            handle.write(
                f"[supervisord]\n[program:{name}]\n"
                "command = /bin/echo %(program_name)s-%(process_num)02d-%(ENV_VALUE)s-100%%\n"
                "process_name = %(program_name)s_%(process_num)d\n"
                f"numprocs = {count}\nnumprocs_start = {start}\n"
            )
        (group,) = load(conf, environ={"VALUE": value}).groups
    by_name = {p.name: p.command for p in group.processes}
    assert by_name == {
        f"{name}_{n}": f"/bin/echo {name}-{n:02d}-{value}-100%" for n in range(start, start + count)
    }
    assert [p.name for p in group.processes] == sorted(by_name)  # supervisord sorts names as text


def test_inet_beyond_loopback_needs_credentials(tmp_path):
    """An inet server on every interface without credentials is refused unless allowed explicitly."""
    open_conf = write(tmp_path / "a.conf", "[supervisord]\n[inet_http_server]\nport=*:9001\n")
    with pytest.raises(
        ConfigError, match="refusing to serve on '\\*:9001' without a username and password"
    ):
        load(open_conf, environ={})
    allowed = write(
        tmp_path / "b.conf",
        "[supervisord]\n[inet_http_server]\nport=9001\nallow_unauthenticated=true\n",
    )
    assert load(allowed, environ={}).servers[0].host == ""
    local = write(tmp_path / "c.conf", "[supervisord]\n[inet_http_server]\nport=localhost:9001\n")
    assert load(local, environ={}).servers[0].host == "localhost"


def test_supervise_extras_parse_and_validate(tmp_path):
    """ready, depends_on and backoff options parse; bad values name the option."""
    conf = write(
        tmp_path / "s.conf",
        "[supervisord]\n[program:db]\ncommand=x\nready=tcp:127.0.0.1:5432\n"
        "[program:web]\ncommand=x\ndepends_on=db\nbackoff_max=30\nstartretries=-1\nready=notify\n",
    )
    model = load(conf, environ={})
    web = model.group("web").processes[0]
    assert (web.extras.depends_on, web.extras.backoff_initial, web.extras.backoff_max) == (
        ("db",),
        1.0,
        30.0,
    )
    assert model.group("db").processes[0].extras.ready == "tcp:127.0.0.1:5432"
    bad = write(tmp_path / "b.conf", "[supervisord]\n[program:a]\ncommand=x\nready=smoke-signals\n")
    with pytest.raises(
        ConfigError, match=r"'smoke-signals' is not one of .* at .*b.conf:4, \[program:a\] ready"
    ):
        load(bad, environ={})


def test_depends_on_unknown_and_cycle_are_refused(tmp_path):
    """depends_on naming nothing, or forming a cycle, is a config error that names it."""
    unknown = write(
        tmp_path / "u.conf", "[supervisord]\n[program:a]\ncommand=x\ndepends_on=ghost\n"
    )
    with pytest.raises(ConfigError, match="depends_on names unknown program or group 'ghost'"):
        load(unknown, environ={})
    cycle = write(
        tmp_path / "c.conf",
        "[supervisord]\n[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\ndepends_on=c\n"
        "[program:c]\ncommand=x\ndepends_on=a\n",
    )
    with pytest.raises(ConfigError, match="depends_on forms a cycle: a -> b -> c -> a"):
        load(cycle, environ={})


def test_limits_need_cgroup_and_parse(tmp_path):
    """memory_max, cpu_max and pids_max need cgroup = true and take cgroup-v2 values."""
    conf = write(
        tmp_path / "s.conf",
        "[supervisord]\n[program:a]\ncommand=x\ncgroup=true\nmemory_max=1GB\ncpu_max=50%%\npids_max=max\n",
    )
    extras = load(conf, environ={}).groups[0].processes[0].extras
    assert (extras.memory_max, extras.cpu_max, extras.pids_max) == (
        str(1024**3),
        "50000 100000",
        "max",
    )
    bad = write(tmp_path / "b.conf", "[supervisord]\n[program:a]\ncommand=x\nmemory_max=1GB\n")
    with pytest.raises(ConfigError, match="memory_max needs cgroup = true"):
        load(bad, environ={})
