"""Layer 1: the container example's config loads, and says what docs/container.md says."""

from __future__ import annotations

from pathlib import Path

from supervise import config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "container"


def test_the_container_example_config_loads():
    """The example runs in the foreground, forwards output, and its web is critical."""
    model = config.load(str(EXAMPLE / "supervisord.conf"))
    assert model.supervisord.nodaemon
    assert (model.supervisord.forward_output, model.supervisord.forward_output_format) == (
        True,
        "plain",
    )
    programs = {p.name: p for g in model.groups for p in g.processes}
    assert programs["web"].extras.critical and not programs["ticker"].extras.critical
    assert model.warnings == ()
    dockerfile = (EXAMPLE / "Dockerfile").read_text()
    assert "supervisectl" in dockerfile and "HEALTHCHECK" in dockerfile


def test_a_bad_forward_output_format_is_an_error_naming_it(tmp_path):
    """forward_output_format takes plain, timestamped or json; anything else says so."""
    import pytest

    from supervise.config.errors import ConfigError

    conf = tmp_path / "supervisord.conf"
    conf.write_text(f"[supervisord]\nlogfile = {tmp_path}/m.log\nforward_output_format = xml\n")
    with pytest.raises(
        ConfigError, match="'xml' is not one of plain, timestamped, json.*forward_output_format"
    ):
        config.load(str(conf))


def test_critical_and_exit_when_done_default_off(tmp_path):
    """A config without the new options has them off."""
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        f"[supervisord]\nlogfile = {tmp_path}/m.log\n[program:a]\ncommand = /bin/true\n"
    )
    model = config.load(str(conf))
    assert not model.supervisord.exit_when_done and not model.supervisord.forward_output
    assert not model.groups[0].processes[0].extras.critical
