"""Read the dbt yml and write the generated bundle as YAML files (the thin I/O around bundle.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from sinkload.errors import SinkloadError
from sinkload.superset.bundle import build_bundle


def load_marts_yml(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SinkloadError(f"{path}: cannot read the dbt yml: {str(exc).splitlines()[0]}") from None


def render(content: dict) -> str:
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=120)


def write_bundle(marts_yml: Path, out_dir: Path) -> int:
    """Replace `out_dir` with the bundle generated from `marts_yml`; returns the number of files."""
    files = build_bundle(load_marts_yml(marts_yml))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(content), encoding="utf-8")
    return len(files)
