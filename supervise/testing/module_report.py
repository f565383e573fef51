"""``python .../supervise/testing/module_report.py [supervise options]``: runs ``supervise``
and, on SIGWINCH, writes the modules it has loaded to $MODULE_REPORT, one line each:
``name importer`` (the module whose code first asked for it, ``-`` if unknown). Modules
imported lazily and never used are left out: they cost nothing until used. Run it by its
path, not with ``-m``: importing ``supervise.testing`` would load modules the daemon does not.

With tracemalloc on (``PYTHONTRACEMALLOC=1``), it also writes ``$MODULE_REPORT.memory``:
the bytes Python allocated, by the package whose code allocated them, largest first.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from types import FrameType
from typing import Any

importers: dict[str, str] = {}


class ImporterRecorder:
    """Records which module's code first imported each module; finds nothing itself."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name not in importers:
            frame: FrameType | None = sys._getframe(1)
            while frame is not None and (
                frame.f_code.co_filename.startswith("<frozen importlib")
                or frame.f_globals.get("__name__", "").startswith("importlib")
            ):
                frame = frame.f_back
            importers[name] = frame.f_globals.get("__name__", "-") if frame else "-"


def report(signum: int, frame: Any) -> None:
    """Write the report (the SIGWINCH handler)."""
    path = os.environ["MODULE_REPORT"]
    loaded = [
        name
        for name, module in list(sys.modules.items())
        if module is not None and type(module).__name__ != "LazyModule"
    ]
    with open(path + ".part", "w") as out:
        out.writelines(f"{name} {importers.get(name, '-')}\n" for name in sorted(loaded))
    if os.environ.get("PYTHONTRACEMALLOC"):  # (tracemalloc imported only then)
        with open(path + ".memory", "w") as out:
            out.writelines(f"{owner} {size}\n" for owner, size in memory_by_package())
    os.rename(path + ".part", path)


def memory_by_package() -> list[tuple[str, int]]:
    """Bytes allocated and still held, by package (``<frozen …>``: the import system's
    loading of code), largest first."""
    import tracemalloc

    sizes: Counter[str] = Counter()
    for stat in tracemalloc.take_snapshot().statistics("filename"):
        sizes[package_of(stat.traceback[0].filename)] += stat.size
    return sizes.most_common()


def package_of(filename: str) -> str:
    """The package a source file belongs to: site-packages' top folder, the standard
    library's module, ``supervise``, or the file name itself."""
    for marker in ("site-packages/", "/supervise/"):
        if marker in filename:
            rest = filename.split(marker, 1)[1]
            return "supervise" if marker == "/supervise/" else rest.split("/")[0]
    if filename.startswith("<frozen "):  # the import system: mostly the code it loaded
        return "frozen:" + filename[len("<frozen ") : -1]
    if "/lib/python3" in filename:
        return "stdlib " + filename.split("/lib/python3", 1)[1].split("/")[1]
    return filename


if __name__ == "__main__":
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # this folder's modules are not top-level ones
    sys.meta_path.insert(0, ImporterRecorder())
    signal.signal(signal.SIGWINCH, report)
    from supervise.cli import main

    sys.exit(main())
