"""Per-chunk generation context and the column-wise helpers every item generator uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from rongxin.synth.population import Population

Columns = dict[str, npt.NDArray[np.generic]]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Dates = npt.NDArray[np.datetime64]


def month_list(as_of: date, months: int) -> list[str]:
    """The ``months`` full months ending with the month of ``as_of`` (oldest first)."""
    end = np.datetime64(as_of, "M")
    return [str(end - k) for k in range(months - 1, -1, -1)]


@dataclass(slots=True)
class ChunkContext:
    pop: Population
    rng: np.random.Generator
    chunk: int
    months: list[str]

    @property
    def as_of64(self) -> np.datetime64:
        return np.datetime64(self.pop.as_of, "D")

    # ---- who has rows ----------------------------------------------------------------------

    def events(self, rate: F64 | float, mask: npt.NDArray[np.bool_] | None = None) -> I64:
        """Owner index per event: a Poisson number of events per entity with the given rate."""
        lam = np.broadcast_to(np.asarray(rate, dtype=np.float64), (self.pop.n,))
        counts = self.rng.poisson(np.minimum(lam, 50.0))
        if mask is not None:
            counts = np.where(mask, counts, 0)
        return np.repeat(np.arange(self.pop.n), counts)

    def flags(self, prob: F64 | float, mask: npt.NDArray[np.bool_] | None = None) -> I64:
        """Owner index of entities that have the attribute (at most one row each)."""
        hit = self.rng.random(self.pop.n) < np.minimum(np.asarray(prob, dtype=np.float64), 1.0)
        if mask is not None:
            hit &= mask
        return np.flatnonzero(hit)

    def monthly(self, owners: I64) -> tuple[I64, npt.NDArray[np.str_]]:
        """One row per owner and month since it was established (within the window)."""
        months = np.array(self.months, dtype="datetime64[M]")
        est = self.pop.establish_date[owners].astype("datetime64[M]")
        alive = months[None, :] >= est[:, None]
        rows, cols = np.nonzero(alive)
        return owners[rows], months[cols].astype(str)

    # ---- values ----------------------------------------------------------------------------

    def dates(self, owners: I64, years_back: float, *, after: Dates | None = None) -> Dates:
        """Dates uniformly within the last ``years_back`` years, never before founding."""
        start = self.pop.establish_date[owners] if after is None else after
        window_start = self.as_of64 - np.timedelta64(int(years_back * 365.25), "D")
        lo = np.maximum(start, window_start).astype("datetime64[D]")
        span = np.maximum((self.as_of64 - lo).astype(np.int64), 0)
        offset = (self.rng.random(len(owners)) * (span + 1)).astype(np.int64)
        result: Dates = lo + offset.astype("timedelta64[D]")
        return result

    def ids(self, prefix: str, count: int) -> npt.NDArray[np.str_]:
        """Identifiers unique across the whole package (chunk number + running number)."""
        base = np.char.mod("%07d", np.arange(count))
        result: npt.NDArray[np.str_] = np.char.add(f"{prefix}{self.chunk:04d}", base)
        return result

    def choice(
        self, values: list[str], size: int, p: list[float] | None = None
    ) -> npt.NDArray[np.str_]:
        pa = None if p is None else np.asarray(p, dtype=np.float64) / np.sum(p)
        result: npt.NDArray[np.str_] = self.rng.choice(np.array(values), size=size, p=pa)
        return result

    def amount(self, median: F64 | float, sigma: float, size: int) -> F64:
        """Lognormal amounts rounded to 2 decimals (元 or 万元 as the caller decides)."""
        med = np.broadcast_to(np.asarray(median, dtype=np.float64), (size,))
        result: F64 = np.round(self.rng.lognormal(np.log(np.maximum(med, 1e-6)), sigma), 2)
        return result

    def risky(self, base: float, slope: float, owners: I64 | None = None) -> F64:
        """A rate that rises with the hidden risk: base * exp(slope * risk)."""
        risk = self.pop.risk if owners is None else self.pop.risk[owners]
        result: F64 = base * np.exp(slope * risk)
        return result


def authority_names(ctx: ChunkContext, owners: I64, suffix: str) -> npt.NDArray[np.str_]:
    """An authority in the entity's own county, e.g. 鼓楼区市场监督管理局."""
    result: npt.NDArray[np.str_] = np.char.add(ctx.pop.county_name[owners], suffix)
    return result
