"""Layer 1: ``schedule``/``schedule_timezone`` and a program's expansion for a live scale."""

import textwrap

import pytest

from supervise.config import ConfigError, load
from supervise.config.values import AutoRestart


def model_of(tmp_path, body):
    path = tmp_path / "s.conf"
    path.write_text("[supervisord]\n" + textwrap.dedent(body))
    return load(str(path), environ={})


def test_a_scheduled_program_is_started_by_its_ticks_only(tmp_path):
    """schedule: not autostarted, never autorestarted, startsecs 0 unless given."""
    model = model_of(
        tmp_path,
        """
        [program:job]
        command = /bin/true
        schedule =  */5   * * * *
        schedule_timezone = Europe/Berlin
        autorestart = true
        """,
    )
    (process,) = model.groups[0].processes
    assert process.extras.schedule == "*/5 * * * *"
    assert process.extras.schedule_timezone == "Europe/Berlin"
    assert (process.autostart, process.autorestart, process.startsecs) == (
        False,
        AutoRestart.NEVER,
        0,
    )


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ("schedule = * * * *", "five fields"),
        ("schedule = 61 * * * *", "not a valid cron expression"),
        ("schedule = @daily", "five fields"),
        ("schedule = * * * * *\nschedule_timezone = Mars/Olympus", "IANA time zone"),
        ("schedule_timezone = UTC", "schedule_timezone needs schedule"),
    ],
)
def test_bad_schedules_are_errors_naming_the_option(tmp_path, lines, words):
    """A bad cron expression or zone is a config error at its line."""
    with pytest.raises(ConfigError) as raised:
        model_of(tmp_path, f"[program:job]\ncommand = /bin/true\n{lines}\n")
    assert words in str(raised.value)
    assert "[program:job] schedule" in str(raised.value)


def test_a_listener_cannot_be_scheduled(tmp_path):
    with pytest.raises(ConfigError, match="schedule is for"):
        model_of(
            tmp_path,
            "[eventlistener:l]\ncommand = /bin/cat\nevents = TICK_5\nschedule = * * * * *\n",
        )


def test_expand_gives_a_program_for_another_numprocs(tmp_path):
    """A program's group can expand its processes again, numbered from numprocs_start."""
    model = model_of(
        tmp_path,
        """
        [program:w]
        command = /bin/sleep %(process_num)d
        process_name = w_%(process_num)d
        numprocs = 2
        numprocs_start = 10
        """,
    )
    (group,) = model.groups
    assert group.expand is not None
    processes = group.expand(4)
    assert [(p.name, p.command, p.process_num) for p in processes] == [
        (f"w_{n}", f"/bin/sleep {n}", n) for n in range(10, 14)
    ]
    assert group.expand(0) == ()
    assert model_of(tmp_path, "[program:w]\ncommand = /bin/true\n").groups[0].expand(1)
    with pytest.raises(ValueError, match="process_num"):
        model_of(tmp_path, "[program:w]\ncommand = /bin/true\n").groups[0].expand(2)
