"""The checked-in generated code is what generate.py makes from the repository's protos now."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKED_IN = HERE.parent / "herald_client" / "_proto"


def _tree(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", HERE.parent / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = generate
    spec.loader.exec_module(generate)

    generate.generate(tmp_path / "_proto")

    fresh, checked_in = _tree(tmp_path / "_proto"), _tree(CHECKED_IN)
    assert sorted(fresh) == sorted(checked_in), "files differ: run `python generate.py` in clients/python"
    stale = [name for name in fresh if fresh[name] != checked_in[name]]
    assert not stale, f"stale generated files {stale}: run `python generate.py` in clients/python"
