"""Draw the core's state machines as Mermaid diagrams (docs/architecture.md).

``python -m supervise.diagrams`` prints them, ``--write docs/architecture.md`` puts
them between the page's ``<!-- machines -->`` marks; a test keeps the page equal to the
machines. Each arrow is a transition that changes state, labelled by its input; a state
that carries data names its factory (what it owns).
"""

from __future__ import annotations

from typing import Any

from supervise.process.listener import ListenerMachine
from supervise.process.machine import ProcessMachine
from supervise.supervisor_machine import SupervisorMachine

MACHINES: dict[str, Any] = {
    "process": ProcessMachine,
    "supervisor": SupervisorMachine,
    "listener": ListenerMachine,
}


def mermaid(machine: Any) -> str:
    """One machine as a Mermaid ``stateDiagram-v2``."""
    automaton = machine.__automat_automaton__
    arrows: dict[tuple[str, str], list[str]] = {}
    data: dict[str, str] = {}
    for old, symbol, new, _ in automaton.allTransitions():
        for state in (old, new):
            factory = getattr(state, "factory", None)
            if factory is not None:
                data[state.name] = factory.__name__
        if old is not new:
            arrows.setdefault((old.name, new.name), []).append(symbol)
    lines = ["stateDiagram-v2", f"    [*] --> {automaton.initialState.name}"]
    for (old, new), symbols in sorted(arrows.items()):
        lines.append(f"    {old} --> {new} : {', '.join(sorted(set(symbols)))}")
    for state, factory in sorted(data.items()):
        lines.append(f"    note right of {state} : data from {factory}()")
    return "\n".join(lines) + "\n"


TITLES = {
    "process": "A process (supervisord's states):",
    "supervisor": "The supervisor:",
    "listener": "An event listener's protocol:",
}


def section() -> str:
    """Every machine, titled, as Markdown."""
    return "".join(
        f"{TITLES[name]}\n\n```mermaid\n{mermaid(machine)}```\n\n"
        for name, machine in MACHINES.items()
    )


def main(argv: list[str]) -> None:
    """Print every machine, or write them into a page (``--write PATH``)."""
    if len(argv) == 2 and argv[0] == "--write":
        with open(argv[1]) as handle:
            page = handle.read()
        start, end = "<!-- machines -->\n", "<!-- /machines -->"
        before, _, rest = page.partition(start)
        _, _, after = rest.partition(end)
        with open(argv[1], "w") as handle:
            handle.write(before + start + section() + end + after)
        return
    print(section(), end="")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
