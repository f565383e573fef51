"""Runs ``supervise`` (its command line follows) and, on SIGWINCH, writes the modules it
has loaded to $MODULE_REPORT: one line each, ``name importer`` (the module whose code
first asked for it, ``-`` if unknown). Modules imported lazily and never used are left
out: they cost nothing until used."""

import os
import signal
import sys
from typing import Any

importers: dict[str, str] = {}


class ImporterRecorder:
    """Records which module's code first imported each module; finds nothing itself."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name not in importers:
            frame = sys._getframe(1)
            while frame is not None and (
                frame.f_code.co_filename.startswith("<frozen importlib")
                or frame.f_globals.get("__name__", "").startswith("importlib")
            ):
                frame = frame.f_back
            importers[name] = frame.f_globals.get("__name__", "-") if frame else "-"


def report(signum: int, frame: Any) -> None:
    path = os.environ["MODULE_REPORT"]
    loaded = [
        name
        for name, module in list(sys.modules.items())
        if module is not None and type(module).__name__ != "LazyModule"
    ]
    with open(path + ".part", "w") as out:
        out.writelines(f"{name} {importers.get(name, '-')}\n" for name in sorted(loaded))
    os.rename(path + ".part", path)


sys.meta_path.insert(0, ImporterRecorder())
signal.signal(signal.SIGWINCH, report)

from supervise.cli import main  # noqa: E402 - after the recorder, to see every import

sys.exit(main())
