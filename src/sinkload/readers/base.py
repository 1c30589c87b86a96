"""What every reader returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sinkload.errors import SinkloadError, file_error, unexpected_error
from sinkload.normalize import (
    AmbiguousUnits,
    AxisOrder,
    FluxUnit,
    NormalisationError,
    YearMonth,
    normalise_month,
    parse_units,
)


@dataclass
class FluxSource:
    path: Path
    variable: str
    units_found: str | None
    unit: FluxUnit
    units_assumed: bool
    calendar: str
    months: list[YearMonth]
    order: AxisOrder
    read_raw: Callable[[int], np.ndarray]
    close: Callable[[], None]
    fill_values: tuple[float, ...] = field(default=())

    def normalised(self, k: int, sign: int) -> np.ndarray:
        """Month k in g C m-2 per month, positive = sink, north-up, lon sorted."""
        year, month = self.months[k]
        try:
            raw = self.read_raw(k)
        except SinkloadError:
            raise
        except Exception as exc:  # the library's error on a corrupt chunk (NetCDF: HDF error), say
            raise unexpected_error(self.path, f"{year}-{month:02d}: cannot read the values", exc) from exc
        try:
            return normalise_month(raw, self.order, self.unit.factor(year, month, self.calendar), sign,
                                   self.fill_values)
        except NormalisationError as exc:
            raise file_error(self.path, f"{year}-{month:02d}: {exc}") from None

    def __enter__(self) -> FluxSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_units(path: Path, found: str | None, default: str | None,
                  override: str | None = None) -> tuple[FluxUnit, bool]:
    """The catalog's `units` when it gives them (they replace the file's), else the file's units, else the
    catalog default when the file has none; flagged as assumed unless they are the file's."""
    text = (found or "").strip()
    try:
        if override:
            return parse_units(override), True
        if text:
            return parse_units(text), False
        if default:
            return parse_units(default), True
    except AmbiguousUnits as exc:
        hint = "; give the product's units in the catalog (`units:`, used instead of the file's)" if text and not override else ""
        raise file_error(path, f"{exc}{hint}") from None
    except NormalisationError as exc:
        raise file_error(path, str(exc)) from None
    raise file_error(path, "no units attribute and the catalog gives no default for this product")


def wrap(path: Path, action: Callable):
    """Run `action`, turning a NormalisationError into the file's one-line error."""
    try:
        return action()
    except NormalisationError as exc:
        raise file_error(path, str(exc)) from None
