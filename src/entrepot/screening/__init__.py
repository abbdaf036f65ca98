"""Screen the whole trade matrix for embargoes and their detours: `screen(store)`.

Every ordered pair of countries (optionally by HS section) is tested for a structural collapse of
its trade against its own counterfactual (`queries.breaks_sql`, `detect`), in volume (tonnes at the
pair's unit values, where the source has quantities) as well as in value: a fall in value whose
volume held is a price change, shown as such and not a lead. The largest collapses
are then scanned for the third countries that picked the trade up (`routes`, which runs
`entrepot.analysis.reroute.scan`). The heavy reductions run on DuckDB or Spark (`engines`) from
one SQL text; the per-collapse fits are grouped pandas UDFs on Spark. Collapses that a case file
describes are marked as known; the rest are leads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from entrepot import __version__
from entrepot.errors import InputError
from entrepot.results import Provenance
from entrepot.screening import detect, queries, routes
from entrepot.screening.engines import ENGINES, Engine, open_engine
from entrepot.screening.result import ScreenResult
from entrepot.store import Store
from entrepot.store.query import SOURCE_PRIORITY

__all__ = ["ENGINES", "ScreenResult", "screen"]

SIDES = {"auto": None, "exporter": "export", "importer": "import"}  # --side -> the flow whose declarations are read


def screen(store: Store | str | Path, *, by_section: bool = False, alpha: float = 0.05, min_drop: float = 0.3,
           min_usd: float = 1e6, top: int = 20, engine: str = "duckdb", master: str | None = None,
           cases: list[str | Path] | None = None, seed: int = 0, side: str = "auto",
           progress: Callable[[str], None] | None = None) -> ScreenResult:
    """Find the collapses of trade between every ordered pair of countries, and the detours of the largest.

    Parameters
    ----------
    store : Store or path
        A store (or its .duckdb file), or Parquet: `entrepot export DIR`'s directory, a .parquet file or a
        Parquet dataset directory.
    by_section : bool
        Test each pair in each HS section apart.
    alpha : float
        The false-discovery rate of the collapses (Benjamini-Hochberg), and the route scan's level.
    min_drop : float
        The smallest drop against the counterfactual that counts, after the break and at the window's end.
    min_usd : float
        Pairs trading less than this per period before a break are not tested.
    top : int
        The largest collapses scanned for their intermediaries (`entrepot.reroute`).
    engine : str
        ``"duckdb"`` or ``"spark"``; `master` is Spark's (local[N], spark://..., yarn).
    master : str, optional
        The Spark master, local[*] by default.
    cases : list of paths, optional
        Case files whose events count as known, besides entrepot's own.
    seed : int
        The route scans' bootstrap seed.
    side : {"auto", "exporter", "importer"}
        Whose declarations to read when the input has no BACI (or to read them instead of BACI): the
        exporters' declared exports, or the importers' declared imports. "auto": BACI when there,
        else the exporters' reports when the source has them, else the importers'. The relation read
        is named in the result (`settings["relation"]`, the table's `data` column).
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    ScreenResult
    """
    if not 0 < alpha < 1:
        raise InputError(f"must be between 0 and 1, not {alpha}", parameter="alpha")
    if not 0 < min_drop <= 1:
        raise InputError(f"must be a share in (0, 1], not {min_drop}", parameter="min_drop")
    if side not in SIDES:
        raise InputError(f"must be one of auto, exporter, importer, not {side!r}", parameter="side")
    for name, value in (("top", top), ("min_usd", min_usd)):
        if value < 0:
            raise InputError(f"cannot be negative, not {value}", parameter=name)
    if isinstance(store, (str, Path)) and Path(store).suffix == ".duckdb":  # a store file, as every analysis takes it
        with Store(store, read_only=True) as st:
            return screen(st, by_section=by_section, alpha=alpha, min_drop=min_drop, min_usd=min_usd, top=top, engine=engine,
                          master=master, cases=cases, seed=seed, side=side, progress=progress)
    say = progress or (lambda _: None)
    events = detect.known_events(detect.case_files() + [Path(c) for c in cases or []])
    eng = open_engine(engine, store, master)
    try:
        rel = _relation(eng, side)
        say(f"all-pairs panel and breaks ({eng.name}, {rel.label})")
        pairs = detect.decide(eng.frame(queries.breaks_sql(rel, by_section, min_usd)), rel.freq, alpha, min_drop)
        found = pairs[pairs.collapse | pairs.prices].sort_values(["drop_usd", *detect.KEY], ascending=[False, True, True, True],
                                                                 ignore_index=True)
        found.insert(0, "cid", range(len(found)))
        found["case"] = detect.mark_known(found, rel.freq, events)
        shortlist = found[found.collapse].head(top)  # a price change stopped no goods: nothing went elsewhere
        say(f"route scans of {len(shortlist)} of {int(found.collapse.sum())} collapses")
        scanned = _routes(eng, rel, by_section, shortlist, alpha, seed)
        provenance = Provenance((rel.source,), eng.batches(queries.batches_sql(rel)))
        settings = {
            "engine": eng.name, "master": eng.master, "input": eng.input, "relation": rel.label, "freq": rel.freq,
            "product_level": rel.level, "side": side, "by_section": by_section, "alpha": alpha, "min_drop": min_drop, "min_usd": min_usd,
            "top": top, "seed": seed, "pairs_tested": len(pairs), "collapses": int(found.collapse.sum()),
            "prices": int(found.prices.sum()), "scanned": len(shortlist),
            "case_files": sorted({str(c.path) for c, *_ in events}),
            "entrepot": __version__, "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    finally:
        eng.close()
    return ScreenResult(pairs=pairs, collapses=found, routes=scanned, settings=settings, provenance=provenance)


def _relation(eng: Engine, side: str) -> queries.Relation:
    """BACI if the input has it (side "auto"); else the declaring source first in SOURCE_PRIORITY, the side asked
    (auto: the exporters' reports when the source has them, else the importers'), at the frequency most reporters use."""
    have = eng.frame(queries.CHOOSE_SQL)
    if side == "auto" and (have.source == "baci").any():
        row = have[have.source == "baci"].sort_values("n").iloc[-1]
        return queries.Relation("baci", str(row.freq), int(row.level))
    declared = have[have.source != "baci"]
    if side != "auto":
        declared = declared[declared.flow == SIDES[side]]
    if declared.empty:
        what = "product-level trade between countries" if side == "auto" else f"product-level {side}s' declarations between countries"
        raise InputError(f"no {what} in the input", parameter=None if side == "auto" else "side")
    rank = {s: k for k, s in enumerate(SOURCE_PRIORITY)}
    declared = declared.assign(_r=declared.source.map(rank).fillna(len(rank)), _x=(declared.flow == "export").astype(int))
    best = declared[declared._r == declared._r.min()]
    best = best[best._x == best._x.max()].sort_values(["reporters", "freq"]).iloc[-1]
    return queries.Relation(str(best.source), str(best.freq), int(best.level), str(best.flow))


def _routes(eng: Engine, rel: queries.Relation, by_section: bool, shortlist: pd.DataFrame, alpha: float, seed: int) -> pd.DataFrame:
    """The route scan of each shortlisted collapse, through the engine's grouped executor."""
    if shortlist.empty:
        return pd.DataFrame(columns=routes.COLUMNS)
    span = pd.DataFrame({
        "cid": shortlist.cid.astype("int64"), "a": shortlist.exporter, "b": shortlist.importer, "g": shortlist.section,
        "t0": (shortlist.tau - shortlist.gap - queries.SCAN_PRE[rel.freq]).astype("int64"),
        "t1": (shortlist.tau + queries.WINDOW[rel.freq] - 1).astype("int64"),
    })
    eng.register("screen_collapses", span)
    meta = {int(r.cid): (r.exporter, r.importer, routes.event_date(int(r.tau), int(r.gap), rel.freq).isoformat()) for r in shortlist.itertuples()}
    out = eng.grouped(queries.legs_sql(rel, by_section), "cid", routes.fitter(meta, rel, alpha, seed), routes.SCHEMA, len(span))
    return out.sort_values(["cid", "rank"], ignore_index=True, na_position="first")
