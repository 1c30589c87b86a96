"""The synthetic field model of the sample data set (pure numpy; see docs/sample-data.md).

A monthly sink density S (g C m-2 per month, positive = uptake) at any lon/lat point and month:

    S = scale * [ (mean_c + bias) / 12 * (1 + 0.15 z_year + 0.1 n(x)) + a * amp_c * g(lat) * cos(2 pi (m - 7 - phase) / 12) ]

- c: the point's vegetation class, from the synthetic 0.25° land-cover lattice (rule-based: forests in the
  north-east and the south, croplands on the plains and in the Sichuan basin, steppe in Inner Mongolia,
  meadow and alpine vegetation on the plateau, desert in the north-west);
- mean_c, amp_c: annual-mean sink and seasonal amplitude per class (forest > cropland > shrub > grassland;
  desert and alpine near zero);
- g(lat): the seasonal amplitude grows northwards, so in the south uptake lasts most of the year while the
  north takes up carbon in summer and releases it in winter; the cosine peaks in July;
- z_year: a standard-normal anomaly per year (interannual variability), n(x) smooth spatial noise;
- scale, bias, a, phase: per product (the bottom-up models and the inversions see different magnitudes).
Inversion members add their own bias, amplitude, phase and noise; the inversions see a weak source over
parts of the plateau. Nothing here is fitted to any published number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LATTICE_STEP = 0.25
LATTICE_WEST, LATTICE_EAST, LATTICE_SOUTH, LATTICE_NORTH = 73.0, 136.0, 17.0, 54.0

# code: (annual-mean sink g C m-2 yr-1, seasonal amplitude g C m-2 month-1) of the vegetation groups
CLASS_PARAMETERS = {
    0: (20.0, 15.0),     # land outside China (inside the lattice box)
    1: (170.0, 55.0), 2: (160.0, 50.0), 3: (150.0, 30.0),  # needleleaf, mixed, broadleaf forest
    4: (70.0, 25.0),     # scrub
    5: (2.0, 2.0),       # desert
    6: (25.0, 22.0), 7: (40.0, 20.0), 8: (35.0, 25.0),  # steppe, grass-tussock, meadow
    9: (30.0, 20.0),     # swamp
    10: (8.0, 12.0),     # alpine vegetation
    11: (110.0, 70.0),   # cultivated vegetation
}
MIP_MODELS = ("Ames", "Baker", "CAMS", "CMS-Flux", "COLA", "CSU", "CT", "JHU", "LoFI", "NIES", "OU",
              "TM5-4DVAR", "UT", "WOMBAT")


def _smooth_noise(lon: np.ndarray, lat: np.ndarray, seed: int) -> np.ndarray:
    """Deterministic smooth noise in about -1..1 (a few random long waves)."""
    rng = np.random.default_rng(seed)
    total = np.zeros(np.broadcast(lon, lat).shape)
    for _ in range(6):
        kx, ky = rng.uniform(0.05, 0.3, size=2)
        phase = rng.uniform(0, 2 * np.pi)
        total += np.sin(kx * lon + ky * lat + phase)
    return total / 6 * 2


def vegetation_codes(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Rule-based vegetation group codes (1..11) for points in China's region."""
    wobble = 1.5 * _smooth_noise(lon, lat, seed=7)
    x, y = lon + wobble, lat + 0.6 * wobble
    code = np.full(np.broadcast(lon, lat).shape, 6, dtype=np.int16)            # steppe by default
    south = y < 30.5 + 0.05 * (x - 110)
    code[south] = 3                                                             # broadleaf forest
    code[south & (x < 108) & (x > 102) & (y < 27)] = 4                          # karst scrub
    code[south & (x > 111) & (y < 25) & (_smooth_noise(lon, lat, 3) > 0.4)] = 7  # grass-tussock patches
    code[(y >= 30.5) & (y < 36) & (x > 110)] = 11                               # Huang-Huai plains
    code[(y >= 34) & (y < 41) & (x > 113) & (x < 120)] = 11                     # North China plain
    code[(x > 103) & (x < 108) & (y > 28.5) & (y < 32)] = 11                    # Sichuan basin
    code[(y >= 36) & (y < 42) & (x >= 103) & (x < 113)] = 4                     # Loess scrub
    code[(y >= 41) & (x > 120)] = 1                                             # north-east needleleaf
    code[(y >= 43) & (y < 47) & (x > 123) & (x < 128)] = 11                     # north-east plain
    code[(y >= 40) & (y < 43) & (x > 118) & (x < 125)] = 2                      # mixed forest
    code[(y > 46) & (x > 130)] = 9                                              # Sanjiang swamps
    code[(x < 103) & (y < 37.5) & (y > 27)] = 8                                 # plateau meadow
    code[(x < 92) & (y < 37.5) & (y > 30)] = 10                                 # high plateau alpine
    code[((x < 106) & (y >= 37.5)) | ((x < 96) & (y >= 36))] = 5                # north-west desert
    code[(x < 90) & (y > 42.5)] = 6                                             # Dzungaria steppe
    code[(y > 42) & (x >= 106) & (x < 120) & (_smooth_noise(lon, lat, 5) > 0.3)] = 5  # Gobi
    return code


@dataclass(frozen=True)
class Lattice:
    """The 0.25° land-cover lattice (north-up rows); code 0 outside China."""

    codes: np.ndarray

    @staticmethod
    def centres() -> tuple[np.ndarray, np.ndarray]:
        lons = np.arange(LATTICE_WEST + LATTICE_STEP / 2, LATTICE_EAST, LATTICE_STEP)
        lats = np.arange(LATTICE_NORTH - LATTICE_STEP / 2, LATTICE_SOUTH, -LATTICE_STEP)
        return lons, lats

    def code_at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Code of the lattice cell holding each point; -1 outside the lattice box."""
        col = np.floor((lon - LATTICE_WEST) / LATTICE_STEP).astype(int)
        row = np.floor((LATTICE_NORTH - lat) / LATTICE_STEP).astype(int)
        inside = (col >= 0) & (col < self.codes.shape[1]) & (row >= 0) & (row < self.codes.shape[0])
        out = np.full(np.broadcast(lon, lat).shape, -1, dtype=np.int16)
        out[inside] = self.codes[row[inside], col[inside]]
        return out


@dataclass(frozen=True)
class Flavour:
    """How one product (or inversion member) sees the synthetic truth."""

    scale: float = 1.0
    bias_g_m2_yr: float = 0.0
    amplitude: float = 1.0
    phase_months: float = 0.0
    noise_g_m2_month: float = 0.0
    plateau_source_g_m2_yr: float = 0.0
    seed: int = 0


def year_anomalies(years: list[int], seed: int = 11) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    return {year: float(rng.standard_normal()) for year in years}


def _class_tables() -> tuple[np.ndarray, np.ndarray]:
    means, amps = np.full(13, np.nan), np.full(13, np.nan)  # index 12: outside the lattice box
    for code, (mean, amp) in CLASS_PARAMETERS.items():
        means[code], amps[code] = mean, amp
    return means, amps


def monthly_sink(lattice: Lattice, lon: np.ndarray, lat: np.ndarray, year: int, month: int,
                 flavour: Flavour, anomaly: float) -> np.ndarray:
    """g C m-2 in (year, month), positive = uptake, at the points (lon, lat); NaN outside the lattice box."""
    codes = lattice.code_at(lon, lat)
    table_mean, table_amp = _class_tables()
    index = np.where(codes >= 0, codes, 12)
    means, amps = table_mean[index], table_amp[index]
    seasonal_reach = np.clip((lat - 18.0) / 20.0, 0.15, 1.2)
    noise = _smooth_noise(lon, lat, seed=100 + flavour.seed)
    cycle = np.cos(2 * np.pi * (month - 7 - flavour.phase_months) / 12)
    mean_part = (means + flavour.bias_g_m2_yr) / 12 * (1 + 0.15 * anomaly + 0.1 * noise)
    sink = mean_part + flavour.amplitude * amps * seasonal_reach * cycle
    if flavour.plateau_source_g_m2_yr:
        plateau = (lon < 101) & (lat > 29) & (lat < 37) & (codes > 0)
        sink = sink - np.where(plateau, flavour.plateau_source_g_m2_yr / 12, 0.0)
    if flavour.noise_g_m2_month:
        rng = np.random.default_rng(flavour.seed * 1000 + year * 12 + month)
        sink = sink + rng.normal(0.0, flavour.noise_g_m2_month, size=sink.shape) * (codes > 0)
    return flavour.scale * sink


def member_flavours(seed: int = 3) -> dict[str, Flavour]:
    """The 14 inversions: each its own bias, amplitude, phase and noise around the inversion truth."""
    rng = np.random.default_rng(seed)
    return {model: Flavour(scale=1.25, bias_g_m2_yr=float(rng.normal(0, 8)), amplitude=float(rng.uniform(0.85, 1.2)),
                           phase_months=float(rng.normal(0, 0.4)), noise_g_m2_month=float(rng.uniform(1, 4)),
                           plateau_source_g_m2_yr=30.0, seed=20 + k)
            for k, model in enumerate(MIP_MODELS)}


VEGAS = Flavour(scale=0.55, amplitude=1.3, phase_months=0.3, seed=2)
BEPS = Flavour(scale=0.8, amplitude=0.9, seed=1)
