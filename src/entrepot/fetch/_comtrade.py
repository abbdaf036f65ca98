"""UN Comtrade+ (comtradeapi.un.org): a query split into requests under the API's limits, cached, ingested.

Layout of the API (as the UN's `comtradeapicall` and rOpenSci's `comtradr` call it):
`GET {base}/data/v1/get/C/{A|M}/{HS|H0..H6}` with the key in the `Ocp-Apim-Subscription-Key` header, or
without a key `GET {base}/public/v1/preview/C/{A|M}/{HS}` (at most 500 records a request). Query
parameters `reporterCode`, `partnerCode`, `partner2Code`, `period` (YYYY or YYYYMM, comma lists of up
to 12), `cmdCode` (TOTAL, AG2/AG4/AG6 or codes), `flowCode`, `customsCode`, `motCode`, `maxRecords`,
`breakdownMode`, `includeDesc`. A free key allows 500 calls a day and 100,000 records a call. There is
no paging: an answer holding exactly `maxRecords` records was cut, so the request is split and asked again.
Errors come from Azure API Management as `{"statusCode": 401, "message": "..."}` (401 bad or missing
key, 403 quota spent, 429 too fast with Retry-After).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from entrepot import countries
from entrepot.errors import InputError
from entrepot.fetch import _query
from entrepot.fetch._http import FetchError, Http, cache_dir, error_message, query_key, step_bar, write_atomic
from entrepot.fetch._result import FetchResult

KEY_ENV = "COMTRADE_API_KEY"
URL_ENV = "ENTREPOT_COMTRADE_URL"
BASE_URL = "https://comtradeapi.un.org"
KEYED_RECORDS = 100_000  # the free key's records per call (premium keys: up to 250,000, --max-records)
PREVIEW_RECORDS = 500
MAX_PERIODS = 12  # periods per request the API accepts
FLOW_LETTERS = {"import": "M", "export": "X", "re-import": "RM", "re-export": "RX"}
# Upper bounds on records per reporter, partner, flow and period, to plan requests under maxRecords.
PRODUCTS_AT_LEVEL = {0: 1, 2: 99, 4: 1_300, 6: 6_000}
ALL_PARTNERS = 300


@dataclass(frozen=True)
class Request:
    """One call: its reporters, partners (empty: all), flows and periods (YYYY or YYYYMM)."""

    reporters: tuple[int, ...]
    partners: tuple[int, ...]
    flows: tuple[str, ...]
    periods: tuple[str, ...]

    def split(self) -> list[Request]:
        """Two halves along the first dimension that has more than one value; [] when none has."""
        for name in ("periods", "reporters", "partners", "flows"):
            values = getattr(self, name)
            if len(values) > 1:
                half = len(values) // 2
                return [replace(self, **{name: values[:half]}), replace(self, **{name: values[half:]})]
        return []


def comtrade_code(iso3: str) -> int:
    """Comtrade's numeric code for an ISO3 country or area code (its own codes first: FRA 251, USA 842)."""
    code = iso3.strip().upper()
    if code in ("WLD", "WORLD"):
        return 0
    trade = {iso: n for n, iso in countries.TRADE_NUMERIC.items()}
    if code in trade:
        return trade[code]
    matches = [n for n, iso in countries.numeric_table().items() if iso == code]
    if not matches:
        raise InputError(f"unknown country code {iso3!r} (give ISO 3166 alpha-3 codes such as ISR, TUR, WLD)")
    return min(matches)


def comtrade(
    reporter: str | list[str],
    partner: str | list[str] | None = None,
    period: str | list[str] = "",
    *,
    freq: str = "A",
    hs: str | int = "TOTAL",
    flow: str | list[str] = "M,X",
    classification: str = "HS",
    key: str | None = None,
    max_records: int | None = None,
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
    """Fetch Comtrade+ final data for reporters x partners x flows x periods at an HS level or codes.

    `partner=None` asks for every partner (World included). Without `key` (or `$COMTRADE_API_KEY`) the
    key-less preview endpoint is used: 500 records a request at most, so only small queries fit. Every
    answer is cached under the hash of its request; a rerun reads the cache, and `refresh=True`
    downloads again. The answers go into the store as one release per HS revision (the answers'
    records merged in a stable order), so a re-fetch of revised figures is a new release of the same
    observations. `dry_run=True` only plans: the notes say how many requests the query needs and how
    many are cached; nothing is sent.
    """
    key = key if key is not None else os.environ.get(KEY_ENV) or None
    level, hs_codes = _query.hs_level(hs)
    cmd = ",".join(hs_codes) if hs_codes else ("TOTAL" if level == 0 else f"AG{level}")
    products = len(hs_codes) if hs_codes else PRODUCTS_AT_LEVEL[level]
    freq = freq.upper()
    wanted = _query.periods(period, freq)
    flows = [FLOW_LETTERS.get(f.lower(), f.upper()) for f in _query.codes(flow)]
    unknown = [f for f in flows if f not in FLOW_LETTERS.values()]
    if unknown or not flows:
        raise InputError(f"--flow takes M, X, RM, RX (or import, export, ...), not {', '.join(unknown) or 'nothing'}")
    reporters = tuple(comtrade_code(c) for c in _query.codes(reporter))
    if not reporters:
        raise InputError("give at least one reporter (--reporter ISR,TUR)")
    partners = tuple(comtrade_code(c) for c in _query.codes(partner))
    limit = max_records or (KEYED_RECORDS if key else PREVIEW_RECORDS)
    path = f"/data/v1/get/C/{freq}/{classification}" if key else f"/public/v1/preview/C/{freq}/{classification}"
    api = (base_url or os.environ.get(URL_ENV) or BASE_URL).rstrip("/") + path
    query = {"reporter": _query.codes(reporter), "partner": _query.codes(partner), "period": [wanted[0], wanted[-1]],
             "freq": freq, "cmdCode": cmd, "flows": flows, "classification": classification,
             "endpoint": "data" if key else "preview", "max_records": limit}
    result = FetchResult("comtrade", query)
    if not key:
        result.notes.append(f"no {KEY_ENV}: the key-less preview endpoint returns at most {PREVIEW_RECORDS} records a request")

    plan = plan_requests(reporters, partners, tuple(flows), tuple(p.replace("-", "") for p in wanted), products, limit)
    folder = cache_dir(cache) / "comtrade"
    to_send = sum(not (folder / f"{query_key(path, _params(r, cmd, limit))}.json").exists() or refresh for r in plan)
    result.notes.append(f"{len(plan)} request(s) planned, {len(plan) - to_send} of them cached")
    if key and to_send > 500:
        result.notes.append(f"{to_send} requests to send: a free key allows 500 a day; at the quota (HTTP 403) the fetch "
                            "stops, and a rerun the next day resumes from the cache")
    if dry_run:
        return result
    name = query_key(path, query)
    releases = _query.Spill(folder / "releases", f"comtrade-{name}")
    empty: list[str] = []
    headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
    with Http(headers=headers, min_interval=min_interval, backoff=backoff) as http, step_bar(progress, "Comtrade requests", len(plan)) as step:
        pending = list(plan)
        while pending:
            request = pending.pop(0)
            params = _params(request, cmd, limit)
            answer_path = folder / f"{query_key(path, params)}.json"
            split_mark = answer_path.with_suffix(".split")  # this request was cut before: go straight to its halves
            if split_mark.exists() and not refresh:
                pending[:0] = request.split()
                step(0, 1)
                continue
            if answer_path.exists() and not refresh:
                data = _records(answer_path.read_bytes(), answer_path.as_posix())
                result.cached += 1
            else:
                response = http.get(api, params=params)
                data = _check(response, api, result, len(plan))
                if len(data) >= limit:  # cut at maxRecords: ask again in halves
                    halves = request.split()
                    if not halves:
                        raise FetchError(_too_many(limit, key, request))
                    write_atomic(split_mark, b"")
                    pending[:0] = halves
                    step(0, len(halves) - 1)
                    continue
                if data:  # an empty answer (a month not yet published) is asked again next time
                    write_atomic(answer_path, response.content)
                result.downloaded += 1
            if data:
                result.files.append(answer_path)
            else:
                empty.append(",".join(request.periods))
            releases.add(_rows(data))  # the fields of KEPT; the descriptions stay in the cached answers
            step(1, 0)
        result.requests = http.requests
    if not releases.count:
        raise FetchError(f"Comtrade has no records for {_describe(query)} (every answer was empty)")
    if empty:
        result.notes.append(f"no records for period(s) {'; '.join(empty)} (not yet published, or no trade)")
    result.records = releases.count
    result.releases = releases.write(_render, lambda part: f"comtrade-{name}-{part}.json")
    if ingest:
        result.ingested = _query.ingest(store, result.releases, "comtrade")
    return result


def plan_requests(
    reporters: tuple[int, ...], partners: tuple[int, ...], flows: tuple[str, ...], periods: tuple[str, ...],
    products: int, limit: int,
) -> list[Request]:
    """Requests whose worst-case record count stays under `limit`, as few as that allows.

    The bound is reporters x partners x flows x products x periods. Dimensions are split into single
    values (reporters first) until one period fits, then periods are grouped up to the API's 12.
    """
    groups = {"reporters": [reporters], "partners": [partners], "flows": [flows]}

    def bound(n_rep: int, n_par: int, n_flow: int) -> int:
        return n_rep * (n_par or ALL_PARTNERS) * n_flow * products

    for name in ("reporters", "partners", "flows"):
        if bound(len(groups["reporters"][0]), len(groups["partners"][0]), len(groups["flows"][0])) <= limit:
            break
        values = groups[name][0]
        if len(values) > 1:
            groups[name] = [(v,) for v in values]
    per_period = bound(len(groups["reporters"][0]), len(groups["partners"][0]), len(groups["flows"][0]))
    step = max(1, min(MAX_PERIODS, limit // per_period))
    chunks = [periods[i:i + step] for i in range(0, len(periods), step)]
    return [Request(r, p, f, c) for r in groups["reporters"] for p in groups["partners"] for f in groups["flows"] for c in chunks]


def _params(request: Request, cmd: str, limit: int) -> dict[str, str]:
    params = {
        "reporterCode": ",".join(map(str, request.reporters)),
        "period": ",".join(request.periods),
        "cmdCode": cmd,
        "flowCode": ",".join(request.flows),
        "partner2Code": "0",
        "customsCode": "C00",
        "motCode": "0",
        "maxRecords": str(limit),
        "format": "JSON",
        "breakdownMode": "classic",
        "includeDesc": "true",
    }
    if request.partners:
        params["partnerCode"] = ",".join(map(str, request.partners))
    return params


def _check(response, url: str, result: FetchResult, planned: int) -> list[dict[str, Any]]:
    """The records of a 200 answer; a one-line FetchError for anything else."""
    status = response.status_code
    if status == 200:
        return _records(response.content, url)
    reason = error_message(response)
    if status == 401:
        raise FetchError(f"Comtrade refused the API key (HTTP 401: {reason}); set {KEY_ENV} to a key of the "
                         "'comtrade - v1' product from comtradedeveloper.un.org")
    if status == 403:
        raise FetchError(f"Comtrade: HTTP 403: {reason} ({result.cached + result.downloaded} of {planned}+ answers "
                         "are cached; rerun later to resume)")
    raise FetchError(f"Comtrade: HTTP {status} from {url}: {reason}")


def _records(body: bytes, where: str) -> list[dict[str, Any]]:
    """The `data` list of a Comtrade+ JSON answer, or a FetchError saying why the body is not one."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise FetchError(f"{where}: malformed Comtrade answer (not JSON): {body[:80]!r}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise FetchError(f"{where}: malformed Comtrade answer (no 'data' list)")
    if isinstance(payload.get("error"), str) and payload["error"].strip():
        raise FetchError(f"{where}: Comtrade says: {payload['error'].strip()}")
    return payload["data"]


IDENTITY = ("typeCode", "freqCode", "period", "reporterCode", "partnerCode", "partner2Code", "flowCode",
            "classificationCode", "cmdCode", "customsCode", "motCode")
# What a release keeps of each record: its identity and the figures the Comtrade adapter reads. The
# descriptions (reporterDesc, cmdDesc...) stay in the cached raw answers; without them a release is a
# third of the size for the adapter to read. A release holds one HS revision and one year.
KEPT = (*IDENTITY, "refYear", "refMonth", "primaryValue", "cifvalue", "fobvalue", "netWgt", "qty", "qtyUnitCode",
        "qtyUnitAbbr", "isReported", "isAggregate")


def _rows(records: list[dict[str, Any]]):
    """(release, identity, JSON) of each record: a release per classification (HS revision) and year."""
    for record in records:
        part = f"{record.get('classificationCode') or 'NA'}-{str(record.get('period', ''))[:4]}"
        ident = "|".join(str(record.get(k, "")) for k in IDENTITY)
        kept = {k: record[k] for k in KEPT if k in record}
        yield part, ident, json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _render(part: str, payloads: list[str]) -> str:
    return f'{{"count":{len(payloads)},"data":[' + ",".join(payloads) + "]}"


def _too_many(limit: int, key: str | None, request: Request) -> str:
    where = f"reporter {request.reporters[0]}, period {request.periods[0]}, flow {request.flows[0]}"
    if not key:
        return (f"more than {limit} records for one request ({where}): the key-less preview stops at {limit}; "
                f"set {KEY_ENV} (a free key allows {KEYED_RECORDS:,})")
    return f"more than {limit:,} records for one request ({where}) even split to one period; ask for fewer HS codes or partners"


def _describe(query: dict[str, Any]) -> str:
    return (f"reporter {','.join(query['reporter'])}, partner {','.join(query['partner']) or 'all'}, "
            f"{query['period'][0]}..{query['period'][1]} ({query['freq']}), {query['cmdCode']}, flows {','.join(query['flows'])}")
