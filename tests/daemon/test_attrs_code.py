"""The supervise command's kept attrs code: classes defined from it behave exactly as
classes attrs compiles itself (equality, repr, validation, hashing with this process's
salt), a changed class is compiled again, and a bad cache file is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from pathlib import Path
from supervise.daemon import attrs_code
use = sys.argv[1] == "cache"
if use:
    attrs_code.install(Path(sys.argv[2]))
import attrs

@attrs.frozen
class Port:
    number: int = attrs.field(validator=attrs.validators.gt(0))
    name: str = "http"

@attrs.define
class Counter:
    count: int = 0
    EXTRA

try:
    Port(0)
    refused = False
except ValueError:
    refused = True
cache = attrs_code.finish()
print(json.dumps({
    "hash": hash(Port(80)), "equal": Port(80) == Port(80), "repr": repr(Port(8080, "web")),
    "refused": refused, "counter": repr(Counter(3)),
    "compiled": cache.compiled if cache else None,
}))
"""


def run(tmp_path: Path, mode: str, seed: str, extra: str = "") -> dict[str, object]:
    script = SCRIPT.replace("EXTRA", extra or "pass")
    env = dict(os.environ, PYTHONHASHSEED=seed)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-c", script, mode, str(tmp_path / "code.marshal")],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_classes_from_kept_code_behave_as_attrs_own(tmp_path: Path) -> None:
    first = run(tmp_path, "cache", seed="1")  # compiles and keeps (salt of seed 1)
    assert first["compiled"] == 2 and (tmp_path / "code.marshal").exists()
    kept = run(tmp_path, "cache", seed="2")  # everything from the file
    plain = run(tmp_path, "plain", seed="2")  # attrs alone, same seed
    assert kept["compiled"] == 0
    assert {k: v for k, v in kept.items() if k != "compiled"} == {
        k: v for k, v in plain.items() if k != "compiled"
    }
    assert kept["repr"] == "Port(number=8080, name='web')" and kept["refused"] is True


def test_a_changed_class_is_compiled_again_and_a_bad_file_ignored(tmp_path: Path) -> None:
    run(tmp_path, "cache", seed="1")
    changed = run(tmp_path, "cache", seed="1", extra="label: str = 'x'")
    assert changed["compiled"] == 1 and changed["counter"] == "Counter(count=3, label='x')"
    (tmp_path / "code.marshal").write_bytes(b"not a cache")
    again = run(tmp_path, "cache", seed="1")
    assert again["compiled"] == 2 and again["equal"] is True
