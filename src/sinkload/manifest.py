"""What a data set on disk holds, as the loaders need to know it (written by `sinkload sample`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FluxInput:
    """Files of one product (and optionally one member; None = infer from the file names)."""

    product: str
    paths: tuple[Path, ...]
    member: str | None = None


@dataclass(frozen=True)
class SampleManifest:
    root: Path
    flux: tuple[FluxInput, ...] = ()
    landcover: Path | None = None
    landcover_code_field: str = "veg_code"
    extra_files: tuple[Path, ...] = field(default=())

    @property
    def n_files(self) -> int:
        flux_files = sum(len(item.paths) for item in self.flux)
        return flux_files + (1 if self.landcover else 0) + len(self.extra_files)
