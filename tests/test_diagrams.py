"""docs/architecture.md draws the machines as they are."""

from __future__ import annotations

from pathlib import Path

from supervise.diagrams import MACHINES, mermaid


def test_architecture_page_shows_the_current_machines():
    """Each machine's generated Mermaid diagram appears verbatim in docs/architecture.md."""
    page = (Path(__file__).parent.parent / "docs" / "architecture.md").read_text()
    for name, machine in MACHINES.items():
        assert f"```mermaid\n{mermaid(machine)}```" in page, (
            f"the {name} machine changed: run python -m supervise.diagrams --write docs/architecture.md"
        )
