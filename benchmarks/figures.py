"""What every benchmark script shares: percentiles, and writing a figures page in docs/."""

from __future__ import annotations

from pathlib import Path


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` (0.5 for the median) of the sorted values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def write_figures(path: Path, title: str, intro: str, lines: list[str], footer: str = "") -> None:
    """A page of figures: a title, how they were measured, one bullet per figure."""
    path.write_text(f"# {title}\n\n{intro}\n\n" + "".join(f"- {line}\n" for line in lines) + footer)
