"""Layer 1: every configuration error and warning names its file and line; sections
supervisord accepts (a program and a group of one name, a section given twice, one of an
unknown kind) load as in supervisord, with a warning naming both places."""

import textwrap

import pytest

from supervise.config import ConfigError, load


def write(path, text):
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


def test_a_missing_supervisord_section_names_the_file(tmp_path):
    conf = write(tmp_path / "s.conf", "[program:web]\ncommand = sleep 1\n")
    with pytest.raises(ConfigError) as caught:
        load(conf, environ={})
    assert str(caught.value) == f".ini file does not include supervisord section at {conf}"


def test_a_syntax_error_names_its_line(tmp_path):
    conf = write(tmp_path / "s.conf", "[supervisord]\n[program:web]\nthis is not an option\n")
    with pytest.raises(ConfigError) as caught:
        load(conf, environ={})
    assert str(caught.value).endswith(f" at {conf}:3")


@pytest.mark.parametrize(
    ("program_priority", "winner"), [("", "group"), ("priority = 5", "program")]
)
def test_a_program_beside_a_group_of_its_name_is_accepted_like_supervisord(
    tmp_path, program_priority, winner
):
    """supervisord keeps the group sorted first by (priority, name): at equal priority
    [group:web], which is read first; with a lower priority, [program:web]."""
    conf = write(
        tmp_path / "s.conf",
        f"""
        [supervisord]
        [group:web]
        programs = other
        [program:other]
        command = sleep 100
        [program:web]
        command = sleep 101
        {program_priority}
        """,
    )
    model = load(conf, environ={})
    (web,) = [g for g in model.groups if g.name == "web"]
    assert [p.command for p in web.processes] == (
        ["sleep 100"] if winner == "group" else ["sleep 101"]
    )
    (warning,) = [w for w in model.warnings if "also defines a group named 'web'" in w]
    group_at, program_at = f"{conf}:2", f"{conf}:6"
    if winner == "group":
        assert warning.startswith(f"[program:web] is ignored: [group:web] ({group_at})")
        assert warning.endswith(f" at {program_at}")
    else:
        assert warning.startswith(f"[group:web] is ignored: [program:web] ({program_at})")
        assert warning.endswith(f" at {group_at}")


def test_an_unknown_section_kind_is_a_warning_with_a_suggestion(tmp_path):
    conf = write(tmp_path / "s.conf", "[supervisord]\n\n[progam:web]\ncommand = sleep 1\n")
    model = load(conf, environ={})
    assert model.groups == ()
    assert model.warnings == (
        f"ignoring section [progam:web] of an unknown kind (did you mean [program:web]?) "
        f"at {conf}:3",
    )


def test_a_section_given_twice_is_merged_with_a_warning_naming_both_places(tmp_path):
    """Also across an included file: the options merge, the later value wins."""
    write(tmp_path / "more.conf", "[program:web]\nstartsecs = 5\n")
    conf = write(
        tmp_path / "s.conf",
        """
        [supervisord]
        [include]
        files = more.conf
        [program:web]
        command = sleep 1
        startsecs = 2
        autostart = false
        """,
    )
    model = load(conf, environ={})
    (process,) = model.groups[0].processes
    assert (process.command, process.startsecs, process.autostart) == ("sleep 1", 5, False)
    included = str(tmp_path / "more.conf")
    assert (
        f"section [program:web] is given twice, at {conf}:4 and at {included}:1: its options "
        "are merged, the later value of each wins"
    ) in model.warnings


def test_warnings_name_file_line_section_and_option(tmp_path):
    conf = write(
        tmp_path / "s.conf",
        """
        [supervisord]
        [program:web]
        command = sleep 1
        comand_typo = x
        stdout_logfile_maxbytes = 0
        """,
    )
    warnings = load(conf, environ={}).warnings
    assert (
        f"ignoring unknown option 'comand_typo' at {conf}:4, [program:web] comand_typo" in warnings
    )
    assert any(
        w.startswith("For [program:web], AUTO logging used for stdout_logfile without rollover")
        and w.endswith(f" at {conf}:5, [program:web] stdout_logfile_maxbytes")
        for w in warnings
    )


def test_every_section_error_is_found_in_one_pass(tmp_path):
    """The first error is raised as before; the others ride along for ``--check``."""
    conf = write(
        tmp_path / "s.conf",
        """
        [supervisord]
        [program:a]
        command = sleep 1
        startsecs = soon
        [progam:typo]
        [program:b]
        numprocs = 0
        command = sleep 1
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load(conf, environ={})
    first = caught.value
    assert (first.line, first.option) == (4, "startsecs")
    assert [(e.line, e.option) for e in first.more] == [(7, "numprocs")]
    assert first.warnings == [
        f"ignoring section [progam:typo] of an unknown kind (did you mean [program:typo]?) "
        f"at {conf}:5"
    ]
