"""Which file holds which months of which member: two files holding the same (product, member, month) are a
conflict, refused instead of letting the last one loaded win (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sinkload.errors import SinkloadError, shown
from sinkload.normalize import YearMonth


@dataclass(frozen=True)
class Claim:
    """The months (year, month) a file holds for one member of a product."""

    path: Path
    product: str
    member: str
    months: tuple[YearMonth, ...]


def conflicts(claims: Iterable[Claim]) -> dict[tuple[str, str], SinkloadError]:
    """Per (product, member) with two files holding a same month, the one-line error naming the first such pair."""
    by_member: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        by_member[(claim.product, claim.member)].append(claim)
    found = {}
    for key, group in by_member.items():
        pair = _first_overlap(sorted(group, key=lambda c: str(c.path)))
        if pair:
            found[key] = _error(*pair)
    return found


def _first_overlap(group: list[Claim]) -> tuple[Claim, Claim, set[YearMonth]] | None:
    for i, first in enumerate(group):
        for second in group[i + 1:]:
            common = set(first.months) & set(second.months)
            if common:
                return first, second, common
    return None


def _error(first: Claim, second: Claim, common: set[YearMonth]) -> SinkloadError:
    year, month = min(common)
    return SinkloadError(
        f"{shown(first.path)} and {shown(second.path)} both hold {first.product}/{first.member} for {len(common)} "
        f"month(s) from {year}-{month:02d}: member refused, nothing loaded for it (keep one file per member and month)")
