"""The synthetic population: market entities with a hidden per-firm risk, built column-wise.

Everything is vectorized per chunk with numpy; one chunk's arrays depend only on
(seed, chunk index), so the same seed always gives the same entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from rongxin.entities import reference, uscc

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Str = npt.NDArray[np.str_]

# Entity mix (S5): enterprises, individual businesses, farmer cooperatives, rural collectives.
TYPE_PREFIX = np.array(["91", "92", "93", "N2"])
TYPE_WEIGHTS = np.array([0.62, 0.32, 0.04, 0.02])

# Rough share of registered market entities by province (GB/T 2260 prefix).
PROVINCE_WEIGHTS: dict[str, float] = {
    "44": 12, "32": 10, "33": 9, "37": 8, "13": 4.5, "41": 5, "35": 5, "51": 5, "31": 4,
    "11": 3.5, "42": 4, "43": 3.5, "34": 3.5, "36": 2.5, "61": 2.5, "50": 2.5, "12": 1.5,
    "21": 2.5, "53": 2, "45": 2.5, "14": 2, "52": 2, "22": 1.5, "23": 1.5, "15": 1.5,
    "62": 1, "65": 1, "46": 1, "64": 0.5, "63": 0.3, "54": 0.3,
}  # fmt: skip

# Industry divisions by entity type, with weights.
ENTERPRISE_DIVISIONS: dict[str, float] = {
    "51": 16, "52": 9, "72": 10, "65": 5, "64": 2, "39": 2, "33": 2, "34": 2, "35": 1.5,
    "38": 1.5, "29": 1.5, "18": 1.2, "13": 1, "14": 1, "17": 1, "26": 1, "30": 1, "21": 0.8,
    "47": 2, "48": 1.5, "50": 2, "54": 2.5, "58": 1, "59": 0.8, "61": 0.8, "62": 3,
    "70": 2, "71": 1.5, "73": 1, "74": 3, "75": 3, "77": 0.8, "78": 0.8, "80": 1.5,
    "81": 0.8, "82": 1.2, "83": 1, "84": 0.5, "86": 0.3, "87": 0.5, "88": 0.5, "89": 0.4,
    "44": 0.4, "10": 0.3, "01": 1, "03": 0.8, "05": 0.5,
}  # fmt: skip
INDIVIDUAL_DIVISIONS: dict[str, float] = {
    "52": 40,
    "62": 22,
    "80": 12,
    "81": 8,
    "51": 6,
    "54": 5,
    "01": 4,
    "82": 3,
}
COOP_DIVISIONS: dict[str, float] = {"01": 55, "03": 25, "02": 8, "04": 6, "05": 6}
COLLECTIVE_DIVISIONS: dict[str, float] = {"72": 60, "01": 30, "70": 10}


@cache
def vocab() -> dict[str, Any]:
    text = (resources.files("rongxin") / "data" / "synth" / "vocab.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def _regions() -> tuple[Str, Str, F64]:
    counties = [r for r in reference.county_regions() if r.code[:2] in PROVINCE_WEIGHTS]
    per_province: dict[str, int] = {}
    for r in counties:
        per_province[r.code[:2]] = per_province.get(r.code[:2], 0) + 1
    codes = np.array([r.code for r in counties])
    names = np.array([r.full_name for r in counties])
    w = np.array([PROVINCE_WEIGHTS[r.code[:2]] / per_province[r.code[:2]] for r in counties])
    return codes, names, w / w.sum()


def _weighted(table: dict[str, float]) -> tuple[Str, F64]:
    keys = np.array(list(table))
    w = np.array(list(table.values()), dtype=np.float64)
    return keys, w / w.sum()


@dataclass(slots=True)
class Population:
    """One chunk of entities; ``offset`` is the global index of the first."""

    offset: int
    as_of: date
    uscc: Str
    name: Str
    type_prefix: Str
    region_code: Str
    region_name: Str
    county_name: Str
    industry: Str
    section: Str
    establish_date: npt.NDArray[np.datetime64]
    legal_rep_name: Str
    legal_rep_id: Str
    employees: I64
    revenue: F64  # 万元, last full year
    assets: F64  # 万元
    liabilities: F64  # 万元
    capital: F64  # 万元
    risk: F64  # hidden latent risk, standard normal (higher = riskier)
    pd: F64  # 12-month probability of default implied by the risk

    @property
    def n(self) -> int:
        return len(self.uscc)

    @property
    def is_enterprise(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.type_prefix == "91", dtype=np.bool_)


def person_names(rng: np.random.Generator, n: int) -> Str:
    v = vocab()
    sw = np.array(v["surname_weights"], dtype=np.float64)
    surnames = rng.choice(np.array(v["surnames"]), size=n, p=sw / sw.sum())
    given = np.array(list(v["given_chars"]))
    g1 = rng.choice(given, size=n)
    g2 = np.where(rng.random(n) < 0.7, rng.choice(given, size=n), "")
    return np.char.add(np.char.add(surnames, g1), g2)


def id_numbers(rng: np.random.Generator, area: Str, establish: npt.NDArray[np.datetime64]) -> Str:
    """Resident ID numbers (GB 11643) with valid check digits; birth 22–60 years before founding."""
    n = len(area)
    age_days = rng.integers(22 * 365, 60 * 365, size=n)
    birth = (establish - age_days.astype("timedelta64[D]")).astype("datetime64[D]")
    birth_s = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    seq = np.char.mod("%03d", rng.integers(1, 999, size=n))
    body = np.char.add(np.char.add(area, birth_s), seq)
    digits = np.array([list(b) for b in body], dtype=np.int64) if n else np.zeros((0, 17), np.int64)
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
    check = np.array(list("10X98765432"))[(digits @ weights) % 11]
    result: Str = np.char.add(body, check)
    return result


def _usccs(prefix: Str, region: Str, global_index: I64) -> Str:
    """Unique valid USCCs: the organization-code body is a bijection of the global index."""
    n = len(prefix)
    space = 31**8
    scrambled = (global_index.astype(np.int64) * 2_654_435_761 + 97_531) % space
    body_vals = np.zeros((n, 8), dtype=np.int64)
    rest = scrambled.copy()
    for pos in range(7, -1, -1):
        body_vals[:, pos] = rest % 31
        rest //= 31
    alphabet = np.array(list(uscc.ALPHABET))
    to_org = np.array([uscc.ORG_VALUE[c] for c in uscc.ALPHABET], dtype=np.int64)
    org_check = uscc.organization_check_values(to_org[body_vals])
    org_check_vals = np.vectorize(uscc.VALUE.__getitem__, otypes=[np.int64])(org_check)
    head = np.array([[uscc.VALUE[c] for c in p + r] for p, r in zip(prefix, region, strict=True)])
    head = head.reshape(n, 8).astype(np.int64)
    values17 = np.concatenate([head, body_vals, org_check_vals[:, None]], axis=1)
    check = uscc.check_characters(values17)
    body_str = np.array(["".join(row) for row in alphabet[body_vals]]) if n else np.array([], str)
    out: Str = np.char.add(
        np.char.add(np.char.add(np.char.add(prefix, region), body_str), org_check), check
    )
    return out


@cache
def _city_short(region_code: str) -> str:
    regions = reference.regions()
    city = regions.get(region_code[:4] + "00") or regions[region_code[:2] + "0000"]
    name = city.name
    for suffix in ("特别行政区", "自治州", "地区", "盟", "市", "省"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _entity_names(
    rng: np.random.Generator, prefix: Str, region_code: Str, section: Str, rep: Str
) -> Str:
    v = vocab()
    n = len(prefix)
    trade = np.array(list(v["trade_chars"]))
    brand = np.char.add(rng.choice(trade, size=n), rng.choice(trade, size=n))
    city = np.array([_city_short(r) for r in region_code])
    words = {s: np.array(w) for s, w in v["industry_words"].items()}
    word = np.array(
        [words[s][k % len(words[s])] for s, k in zip(section, rng.integers(0, 99, n), strict=True)]
    )
    forms = rng.choice(np.array(v["company_forms"]), size=n)
    shop = rng.choice(np.array(v["individual_suffixes"]), size=n)
    county = np.array([reference.regions()[r].name for r in region_code])
    company = np.char.add(np.char.add(np.char.add(city, brand), word), forms)
    individual = np.where(
        rng.random(n) < 0.5,
        np.char.add(np.char.add(county, rep), shop),
        np.char.add(np.char.add(county, brand), shop),
    )
    coop = np.char.add(np.char.add(np.char.add(county, brand), word), "专业合作社")
    collective = np.char.add(np.char.add(county, brand), "村股份经济合作社")
    result: Str = np.select(
        [prefix == "91", prefix == "92", prefix == "93"], [company, individual, coop], collective
    )
    return result


def make_population(seed: int, chunk: int, offset: int, n: int, as_of: date) -> Population:
    rng = np.random.default_rng([seed, chunk, 0])
    prefix = rng.choice(TYPE_PREFIX, size=n, p=TYPE_WEIGHTS)
    codes, names, weights = _regions()
    pick = rng.choice(len(codes), size=n, p=weights)
    region_code, region_name = codes[pick], names[pick]

    industry = np.empty(n, dtype="<U2")
    for pfx, table in (
        ("91", ENTERPRISE_DIVISIONS), ("92", INDIVIDUAL_DIVISIONS),
        ("93", COOP_DIVISIONS), ("N2", COLLECTIVE_DIVISIONS),
    ):  # fmt: skip
        mask = prefix == pfx
        keys, w = _weighted(table)
        industry[mask] = rng.choice(keys, size=int(mask.sum()), p=w)
    inds = reference.industries()
    section = np.array([inds[d].section for d in industry]) if n else np.array([], "<U1")

    as_of64 = np.datetime64(as_of, "D")
    age_years = np.minimum(rng.gamma(1.6, 4.0, size=n), 40.0) + 0.05
    establish = as_of64 - (age_years * 365.25).astype("timedelta64[D]")

    base_emp = np.where(prefix == "91", 8.0, np.where(prefix == "92", 2.0, 6.0))
    employees = np.maximum(1, np.round(rng.lognormal(np.log(base_emp), 1.0))).astype(np.int64)
    productivity = rng.lognormal(np.log(25.0), 0.7, size=n)  # 万元 revenue per employee
    revenue = np.round(employees * productivity, 2)
    assets = np.round(revenue * rng.lognormal(np.log(0.9), 0.5, size=n), 2)
    lev = np.clip(rng.beta(2.5, 3.0, size=n), 0.02, 0.98)
    liabilities = np.round(assets * lev, 2)
    capital_steps = np.array([10, 50, 100, 200, 500, 1000, 3000], dtype=np.float64)
    capital_p = [0.2, 0.25, 0.25, 0.12, 0.1, 0.06, 0.02]
    capital = np.where(prefix == "92", 0.0, rng.choice(capital_steps, size=n, p=capital_p))

    # Hidden risk: a latent factor, worse for young, highly leveraged, tiny firms.
    risk = (
        rng.standard_normal(n) * 0.85
        + 0.9 * (lev - 0.45)
        - 0.18 * np.log1p(age_years)
        - 0.08 * np.log(employees)
        + 0.25
    )
    pd = 1.0 / (1.0 + np.exp(-(-3.1 + 1.25 * risk)))

    rep = person_names(rng, n)
    rep_id = id_numbers(rng, region_code, establish)
    global_index = np.arange(offset, offset + n, dtype=np.int64)
    return Population(
        offset=offset,
        as_of=as_of,
        uscc=_usccs(prefix, region_code, global_index),
        name=_entity_names(rng, prefix, region_code, section, rep),
        type_prefix=prefix,
        region_code=region_code,
        region_name=region_name,
        county_name=np.array([reference.regions()[c].name for c in region_code]),
        industry=industry,
        section=section,
        establish_date=establish,
        legal_rep_name=rep,
        legal_rep_id=rep_id,
        employees=employees,
        revenue=revenue,
        assets=assets,
        liabilities=liabilities,
        capital=capital,
        risk=risk,
        pd=pd,
    )
