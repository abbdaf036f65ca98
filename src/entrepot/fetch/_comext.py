"""Eurostat Comext: EU member states' declarations by month, from the dissemination API, into the Comext adapter.

Dataset DS-045409 ("EU trade since 1988 by HS2-4-6 and CN8") through the SDMX 2.1 API:
`GET {base}/data/DS-045409/{freq}.{reporters}.{partners}.{products}.{flows}.{indicators}?startPeriod=
2024-01&endPeriod=2024-06&format=SDMX-CSV`, values joined with `+`, an empty position meaning all.
Reporters and partners are ISO 3166 alpha-2 (Greece `GR`), `WORLD`, `EU27_2020`...; flows `1` import,
`2` export; indicators `VALUE_IN_EUROS`, `QUANTITY_IN_100KG`. The answer is long CSV:
`DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE[,OBS_FLAG]`.
Eurostat prices a request by the cells it could return (the product of the positions each filter
matches): above an internal threshold it answers asynchronously, above 5,000,000 it refuses (HTTP 413,
`EXTRACTION_TOO_BIG`). Requests are planned under `max_cells`. An unfiltered product position matches
all 40,321 codes (TOTAL, HS2, HS4, HS6 and CN8 together), so only the asked level is kept: CN8 lines
beside their HS6 heading would otherwise be counted twice.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from entrepot.errors import InputError
from entrepot.fetch import _query
from entrepot.fetch._http import FetchError, Http, cache_dir, error_message, query_key, step_bar, write_atomic
from entrepot.fetch._result import FetchResult

URL_ENV = "ENTREPOT_COMEXT_URL"
BASE_URL = "https://ec.europa.eu/eurostat/api/comext/dissemination/sdmx/2.1"
DATASET = "DS-045409"
PRODUCT_POSITIONS = 40_321  # DS-045409's product codes, every level
MAX_CELLS = 1_000_000
INDICATORS = ("VALUE_IN_EUROS", "QUANTITY_IN_100KG")
FLOWS = {"M": "1", "IMPORT": "1", "X": "2", "EXPORT": "2"}
EU27 = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
        "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
AREAS = {"WLD": "WORLD", "WORLD": "WORLD", "EU27": "EU27_2020", "EXTRA_EU27": "EXTRA_EU27_2020", "INTRA_EU27": "INTRA_EU27_2020"}
COLUMNS = ("freq", "reporter", "partner", "product", "flow", "indicators", "TIME_PERIOD", "OBS_VALUE")
RELEASE_HEADER = ["REPORTER", "PARTNER", "PRODUCT", "FLOW", "PERIOD", "VALUE_IN_EUR", "QUANTITY_IN_100KG"]


def geo_code(code: str) -> str:
    """Eurostat's code for an ISO3 (or ISO2) country or an area: ISR -> IL, GRC -> GR, WLD -> WORLD."""
    up = code.strip().upper()
    if up in AREAS:
        return AREAS[up]
    if len(up) == 2 and up.isalpha():
        return "GR" if up == "EL" else up
    from entrepot import countries

    iso2 = countries._coco().convert([up], to="ISO2", not_found=None) if countries.is_known(up) else None
    iso2 = iso2[0] if isinstance(iso2, list) else iso2
    if not isinstance(iso2, str) or len(iso2) != 2:
        raise InputError(f"unknown country code {code!r} for Comext (give ISO3 such as DEU, ISR, or WLD)")
    return iso2


def comext(
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    period: str | list[str] = "",
    *,
    freq: str = "M",
    hs: str | int = "TOTAL",
    flow: str | list[str] = "M,X",
    max_cells: int = MAX_CELLS,
    store: Any = None,
    ingest: bool = True,
    cache: str | Path | None = None,
    refresh: bool = False,
    base_url: str | None = None,
    min_interval: float = 1.0,
    backoff: float = 1.0,
    progress: bool = False,
    dry_run: bool = False,
) -> FetchResult:
    """Fetch EU member states' declarations (`reporter=None`: all 27) with `partner`s, by month or year.

    Values are in EUR and quantities in 100 kg, as Eurostat publishes them; the Comext adapter turns
    them into USD and kg at ingest. Answers are cached like Comtrade's; the kept rows go in as one
    release file per year and reporter. `dry_run=True` only plans (notes: requests needed, how many cached).
    """
    freq = freq.upper()
    wanted = _query.periods(period, freq)
    level, hs_codes = _query.hs_level(hs)
    products = "+".join(hs_codes) if hs_codes else ("TOTAL" if level == 0 else "")
    positions = len(hs_codes) or (1 if level == 0 else PRODUCT_POSITIONS)
    reporters = [geo_code(c) for c in _query.codes(reporter)] or list(EU27)
    partners = [geo_code(c) for c in _query.codes(partner)]
    if not partners:
        raise InputError("give at least one partner (--partner ISR,TUR; WLD for the world)")
    flows = sorted({FLOWS.get(f.upper(), "?") for f in _query.codes(flow)})
    if "?" in flows or not flows:
        raise InputError("--flow takes M and X (import, export)")
    api = f"{(base_url or os.environ.get(URL_ENV) or BASE_URL).rstrip('/')}/data/{DATASET}"
    query = {"reporter": reporters, "partner": partners, "period": [wanted[0], wanted[-1]], "freq": freq,
             "product": products or f"HS{level}", "flows": flows, "dataset": DATASET}
    result = FetchResult("comext", query)
    plan = plan_requests(reporters, partners, wanted, positions * len(flows) * len(INDICATORS), max_cells)
    folder = cache_dir(cache) / "comext"
    calls = []
    for reps, pars, chunk in plan:
        key = f"{freq}.{'+'.join(reps)}.{'+'.join(pars)}.{products}.{'+'.join(flows)}.{'+'.join(INDICATORS)}"
        params = {"startPeriod": chunk[0], "endPeriod": chunk[-1], "format": "SDMX-CSV"}
        calls.append((key, params, folder / f"{query_key(DATASET, key, params)}.csv"))
    cached = sum(path.exists() and not refresh for _, _, path in calls)
    result.notes.append(f"{len(calls)} request(s) planned, {cached} of them cached")
    if dry_run:
        return result
    name = query_key(DATASET, query)
    releases = _query.Spill(folder / "releases", f"comext-{name}")
    with Http(min_interval=min_interval, backoff=backoff) as http, step_bar(progress, "Comext requests", len(plan)) as step:
        for key, params, path in calls:
            if path.exists() and not refresh:
                body = path.read_bytes()
                result.cached += 1
            else:
                response = http.get(f"{api}/{key}", params=params)
                body = _check(response, f"{api}/{key}")
                if body is not None:
                    write_atomic(path, body)
                    result.downloaded += 1
            if body is not None:
                result.files.append(path)
                releases.add(_rows(_collect(body, path, level, hs_codes)))
            step(1, 0)
        result.requests = http.requests
    if not releases.count:
        raise FetchError(f"Comext has no records for reporters {'+'.join(reporters)}, partners {'+'.join(partners)}, "
                         f"{wanted[0]}..{wanted[-1]} ({freq}), products {products or f'HS{level}'}")
    result.records = releases.count
    result.releases = releases.write(_render, lambda part: _release_name(name, part))
    if ingest:
        result.ingested = _query.ingest(store, result.releases, "comext")
    return result


def plan_requests(reporters: list[str], partners: list[str], periods: list[str], cells_per: int, budget: int):
    """(reporters, partners, periods) per request, each under `budget` cells where it can be, in as few
    requests as possible: all together, one reporter a request, or one reporter and partner a request."""
    options = []
    for rep_groups, par_groups in (([reporters], [partners]), ([[r] for r in reporters], [partners]),
                                   ([[r] for r in reporters], [[p] for p in partners])):
        per_period = len(rep_groups[0]) * len(par_groups[0]) * cells_per
        step = max(1, budget // per_period)
        chunks = [periods[i:i + step] for i in range(0, len(periods), step)]
        fits = per_period <= budget
        options.append((not fits, len(rep_groups) * len(par_groups) * len(chunks), rep_groups, par_groups, chunks))
    _, _, rep_groups, par_groups, chunks = min(options, key=lambda o: o[:2])
    return [(r, p, c) for r in rep_groups for p in par_groups for c in chunks]


def _check(response, url: str) -> bytes | None:
    """The CSV body of an answer; None for Eurostat's 'no data'; a FetchError for anything else."""
    status = response.status_code
    if status == 404 and "no" in error_message(response).lower() and "found" in error_message(response).lower():
        return None
    if status != 200:
        raise FetchError(f"Comext: HTTP {status} from {url}: {error_message(response)}")
    head = response.content[:500].decode("utf-8-sig", "replace").split("\n", 1)[0]
    if "TIME_PERIOD" not in head or "OBS_VALUE" not in head:
        if "async" in response.text[:2000].lower() or "SUBMITTED" in response.text[:2000]:
            raise FetchError(f"Comext: Eurostat queued {url} as an asynchronous extraction (too big to answer at once); "
                             "ask for fewer reporters, partners or products, or lower --max-cells")
        raise FetchError(f"Comext: malformed answer from {url} (not SDMX-CSV): {error_message(response)[:120]}")
    return response.content


def _collect(body: bytes, path: Path, level: int | None, hs_codes: list[str]) -> dict[tuple[str, ...], dict[str, str]]:
    """Pivot the long SDMX-CSV into one row per observation, keeping only the asked product level."""
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    fields = {f.strip(): f for f in (reader.fieldnames or [])}
    missing = [c for c in COLUMNS if c not in fields]
    if missing:
        raise FetchError(f"{path}: malformed Comext answer: missing column(s) {', '.join(missing)}")
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for n, rec in enumerate(reader, start=2):
        get = {c: (rec[fields[c]] or "").strip() for c in COLUMNS}
        product = get["product"]
        keep = product in hs_codes if hs_codes else (product == "TOTAL" if level == 0 else len(product) == level and product.isdigit())
        column = {"VALUE_IN_EUROS": "VALUE_IN_EUR", "QUANTITY_IN_100KG": "QUANTITY_IN_100KG"}.get(get["indicators"])
        if not keep or column is None:
            continue
        ident = (get["reporter"], get["partner"], product, get["flow"], get["TIME_PERIOD"])
        row = rows.setdefault(ident, dict(zip(RELEASE_HEADER[:5], ident, strict=True)))
        if row.get(column) not in (None, get["OBS_VALUE"]):
            raise FetchError(f"{path}:{n}: two values for {column} of {ident}")
        row[column] = get["OBS_VALUE"]
    return rows


def _rows(rows: dict[tuple[str, ...], dict[str, str]]):
    """(release, identity, CSV line) of each observation: a release per year and reporter."""
    for ident, row in rows.items():
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow([row.get(k, "") for k in RELEASE_HEADER])
        yield f"{ident[4][:4]}-{ident[0]}", "|".join(ident), out.getvalue()


def _render(part: str, lines: list[str]) -> str:
    return ",".join(RELEASE_HEADER) + "\n" + "".join(line + "\n" for line in lines)


def _release_name(name: str, part: str) -> str:
    from entrepot.io.comext import hs_revision_for

    return f"comext-{name}-{hs_revision_for(int(part[:4]))}-{part}.csv"
