"""The product catalog (warehouse/catalog.yaml): how each product's files are read and normalised."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from sinkload.errors import SinkloadError, file_error
from sinkload.readers import FAMILIES

TIME_RULES = ("start_date", "cf", "band_year")
KINDS = ("top-down", "bottom-up")
# Share of the analysis region's cells every month of a file must have valid (readers/ingest: min_valid_share).
DEFAULT_MIN_VALID_SHARE = 0.01


@dataclass(frozen=True)
class Product:
    name: str
    family: str
    kind: str
    sign: int
    time_rule: str
    members: tuple[str, ...]
    variable: str | None = None
    units_default: str | None = None
    units: str | None = None  # replaces every file's own units (wrong or ambiguous ones)
    release: str | None = None
    experiment: str | None = None
    is_ensemble: bool = False
    description: str | None = None
    comparison_family: str | None = None
    first_month: tuple[int, int] | None = None
    n_months: int | None = None
    resolution: tuple[float, float] | None = None
    file_pattern: re.Pattern | None = None
    skip_pattern: re.Pattern | None = None
    min_valid_share: float = DEFAULT_MIN_VALID_SHARE

    def skips(self, file_name: str) -> bool:
        return bool(self.skip_pattern and self.skip_pattern.search(file_name))

    def member_for(self, path: Path, explicit: str | None = None) -> str:
        """The catalog spelling of the member a file belongs to."""
        if explicit:
            return self._known_member(explicit, path)
        match = self.file_pattern.match(path.name) if self.file_pattern else None
        if self.file_pattern and not match:
            raise file_error(path, f"file name does not match product {self.name}'s pattern {self.file_pattern.pattern!r}")
        if match and "model" in match.groupdict():
            return self._known_member(match["model"], path)
        if len(self.members) == 1:
            return self.members[0]
        raise file_error(path, f"cannot tell the member of product {self.name} from the file name; use --member")

    def _known_member(self, name: str, path: Path) -> str:
        key = _member_key(name)
        for member in self.members:
            if _member_key(member) == key:
                return member
        raise file_error(path, f"member {name!r} is not in product {self.name} ({', '.join(self.members)})")

    def year_of(self, path: Path) -> int:
        match = self.file_pattern.match(path.name) if self.file_pattern else None
        if not match or "year" not in match.groupdict():
            raise file_error(path, f"cannot read the year from the file name (product {self.name} pattern)")
        return int(match["year"])


def _member_key(name: str) -> str:
    return re.sub(r"[-_\s]", "", name).lower()


@dataclass(frozen=True)
class Catalog:
    path: Path
    products: dict[str, Product]

    def product(self, name: str) -> Product:
        if name not in self.products:
            raise SinkloadError(f"{self.path}: no product {name!r} (known: {', '.join(sorted(self.products))})")
        return self.products[name]


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog file."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, "catalog file not found") from None
    except yaml.YAMLError as exc:
        raise file_error(path, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict) or not isinstance(document.get("products"), dict):
        raise file_error(path, "a catalog needs a `products:` mapping")
    return Catalog(Path(path), {name: _product(path, name, entry) for name, entry in document["products"].items()})


def _product(path: Path, name: str, entry: object) -> Product:
    def fail(problem: str) -> SinkloadError:
        return file_error(path, f"product {name!r}: {problem}")

    if not isinstance(entry, dict):
        raise fail("entry must be a mapping")
    time = entry.get("time") or {}
    checks = [
        (entry.get("family") in FAMILIES, f"family must be one of {', '.join(FAMILIES)}"),
        (entry.get("kind") in KINDS, f"kind must be one of {', '.join(KINDS)}"),
        (entry.get("sign") in (1, -1), "sign must be 1 (file positive = sink) or -1 (file positive = source)"),
        (time.get("rule") in TIME_RULES, f"time.rule must be one of {', '.join(TIME_RULES)}"),
        (isinstance(entry.get("members"), list) and entry["members"], "members must be a non-empty list"),
        (entry.get("family") != "netcdf" or entry.get("variable"), "a netcdf product needs `variable`"),
        (_share(entry.get("min_valid_share", DEFAULT_MIN_VALID_SHARE)),
         "min_valid_share must be a number in 0..1"),
    ]
    for ok, problem in checks:
        if not ok:
            raise fail(problem)
    try:
        return Product(
            name=name, family=entry["family"], kind=entry["kind"], sign=int(entry["sign"]),
            time_rule=time["rule"], members=tuple(str(m) for m in entry["members"]),
            variable=entry.get("variable"), units_default=entry.get("units_default"), units=entry.get("units"),
            release=entry.get("release"), experiment=entry.get("experiment"),
            is_ensemble=bool(entry.get("is_ensemble", False)), description=entry.get("description"),
            comparison_family=entry.get("comparison_family"),
            first_month=_year_month(time.get("first_month")), n_months=time.get("n_months"),
            resolution=tuple(float(v) for v in entry["resolution"]) if entry.get("resolution") else None,
            file_pattern=re.compile(entry["file_pattern"]) if entry.get("file_pattern") else None,
            skip_pattern=re.compile(entry["skip_pattern"]) if entry.get("skip_pattern") else None,
            min_valid_share=float(entry.get("min_valid_share", DEFAULT_MIN_VALID_SHARE)),
        )
    except (ValueError, TypeError, re.error) as exc:
        raise fail(str(exc)) from None


def _year_month(text: object) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", str(text))
    if not match:
        raise ValueError(f"first_month {text!r} is not YYYY-MM")
    return int(match[1]), int(match[2])


def _share(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
