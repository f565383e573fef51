"""Draw the core's state machines as Mermaid diagrams (docs/architecture.md).

``python -m supervise.diagrams`` prints them; a test keeps the document equal to the
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


def main() -> None:
    """Print every machine."""
    for name, machine in MACHINES.items():
        print(f"{name}:\n\n```mermaid\n{mermaid(machine)}```\n")


if __name__ == "__main__":
    main()
