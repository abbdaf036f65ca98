"""What one scan reads: the trade relation (one consistent source) and its flows in three phases.

`read` aggregates in DuckDB, through `entrepot.store.query`, the flows a scan needs: A's exports,
everyone's exports to B, everyone's exports to the rest of the world, each candidate's imports from
everyone but A (its own demand), values and, where the source has them, tonnes, by product and phase (0:
early pre-event, 1: late pre-event, 2: post-event), as means per period. The rest of the world is
summed in one pass by exporter and by importer (grouping sets); the rows come back as Arrow and reach
numpy as integer codes, never as Python strings. With a basket every product is still read (the rest
of trade is the control); `in_basket` marks the basket's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from entrepot.analysis import stats
from entrepot.analysis.window import Window, make_window
from entrepot.basket import Basket
from entrepot.errors import InputError
from entrepot.groups import Group, resolve
from entrepot.schema import TONNES_SQL
from entrepot.store import Store
from entrepot.store import query as q

KINDS = ["a", "b", "r", "o", "xm", "im", "rm", "bm", "em"]  # `read`'s rows: the scan's flows, then the mirror's (`Relation`)


@dataclass(frozen=True)
class Relation:
    """One consistent trade relation: SQL giving (e exporter, m importer, p, t, v USD, q tonnes).

    `mirror` (reported sources only) gives (k, c, p, t, v): A's declared exports to B (k = 'x'),
    every importer c's declared imports from A (k = 'i') and the periods in which c reports imports
    at all (k = 'r', no product).
    """

    sql: str
    params: dict
    label: str  # "baci" or "reported (comtrade, monthly)"
    freq: str
    source: str
    mirror: str | None


def relation(store: Store, a: str, b: str, source: str, groups: Mapping[str, Group] | None = None, freq: str = "auto",
             product: str | None = None) -> Relation:
    """The trade relation of a scan of A -> B, under the HS code `product` when given.

    BACI ("baci"): its reconciled annual HS6 flows. Reported ("reported"): one declaring source (the
    first in priority that has A's product-level exports: `query.choose` at level "products" and
    frequency `freq`); flows into B as B reports its imports (CIF) when it does, since B reports on
    every origin; everything else as exporters report. A group as A (EU27, or one of `groups`) is its
    members in the periods they were members, on either side of a flow: their trade among
    themselves drops out (e = m), a member outside its membership is a country like any other.
    """
    group = resolve(a, groups)

    def named(col: str) -> str:  # a row's country, A's code for a member of A's group
        return f"CASE WHEN {group.condition(col)} THEN $a ELSE {col} END" if group else col

    def is_a(col: str) -> str:
        return group.condition(col) if group else f"{col} = $a"

    under = f" under HS {product}" if product else ""
    chosen = {} if product is None else {"product": product}
    if source == "baci":
        if not q.has_source(store, "baci"):
            raise InputError("no BACI data in the store (source 'reported' reads the declared reports)", parameter="source")
        sql = f"""SELECT {named('reporter')} AS e, {named('partner')} AS m, product AS p, year AS t, value_usd AS v, {TONNES_SQL} AS q
                  FROM flows WHERE source = 'baci' AND flow = 'export' AND product_level = 6 AND partner_is_country
                  AND value_usd IS NOT NULL"""
        sql += f" AND {q.product_condition()}" if product else ""
        return Relation(sql, {"a": a, "b": b} | chosen, "baci", "A", "baci", None)
    pick = q.choose(store, a, "export", freq, "products", source="reported", product=product, groups=groups)
    if pick is None:
        raise InputError(f"no product-level exports of {a} in the store{under}")
    src, freq, level = pick.source, pick.rows_freq, pick.level
    params = {"a": a, "b": b, "src": src, "freq": freq, "level": level} | chosen
    common = "source = $src AND freq = $freq AND product_level = $level AND partner_is_country AND value_usd IS NOT NULL"
    common += f" AND {q.product_condition()}" if product else ""
    b_imports = store.con.execute(*q.bind(
        f"SELECT count(*) > 0 FROM (SELECT 1 FROM flows WHERE reporter = $b AND flow = 'import' AND {common} LIMIT 1)", params)).fetchone()[0]
    cols = f"product AS p, {q.time_index(freq)} AS t, value_usd AS v, {TONNES_SQL} AS q"
    sql = f"SELECT {named('reporter')} AS e, {named('partner')} AS m, {cols} FROM flows WHERE flow = 'export' AND {common}"
    if b_imports:
        sql += (f" AND partner <> $b UNION ALL SELECT {named('partner')} AS e, reporter AS m, {cols} FROM flows"
                f" WHERE flow = 'import' AND reporter = $b AND {common}")
    mirror = f"""SELECT 'x' AS k, partner AS c, {cols} FROM flows WHERE flow = 'export' AND {is_a('reporter')} AND partner = $b AND {common}
                  UNION ALL SELECT 'i', {named('reporter')}, {cols} FROM flows WHERE flow = 'import' AND {is_a('partner')} AND {common}
                  UNION ALL SELECT DISTINCT 'r', {named('reporter')}, NULL, {q.time_index(freq)}, 0, NULL FROM flows
                  WHERE flow = 'import' AND {common}"""
    if b_imports:  # both sides' declarations of C -> B, for the CIF/FOB factor of B's imports from C: B's records only
        # in the periods C declared any exports to B (a year C did not report would otherwise inflate the factor)
        declaring = (f"SELECT DISTINCT reporter AS declarer, {q.time_index(freq)} AS declared FROM flows"
                     f" WHERE flow = 'export' AND partner = $b AND {common}")
        mirror += f"""
                  UNION ALL SELECT 'b', partner, {cols} FROM flows SEMI JOIN ({declaring}) ON partner = declarer AND {q.time_index(freq)} = declared
                  WHERE flow = 'import' AND reporter = $b AND {common}
                  UNION ALL SELECT 'e', reporter, {cols} FROM flows WHERE flow = 'export' AND partner = $b AND {common}"""
    return Relation(sql, params, f"reported ({src}, {'monthly' if freq == 'M' else 'annual'})", freq, src, mirror)


@dataclass(frozen=True)
class Declared:
    """Both sides' declarations of A's exports, by phase and product, for the relabelling test.

    In a reported scan, `Data.ac` is A's declared exports to each candidate (exporters' reports)."""

    to_b: np.ndarray  # (3, P) A's declared exports to B (FOB)
    b_records: np.ndarray | None  # (3, P) B's declared imports from A (CIF); None when B reports no imports
    recorded: np.ndarray  # (3, C, P) each candidate's declared imports from A (CIF)
    reporting: np.ndarray  # (C,) the candidate reports imports in every phase


@dataclass(frozen=True)
class Data:
    """One scan's flows: means per period in phases (0: early pre, 1: late pre, 2: post)."""

    a: str
    b: str
    window: Window
    source: str  # the relation's label
    products: list[str]
    countries: list[str]
    ab: np.ndarray  # (3, P) A -> B
    ab_t: np.ndarray  # tonnes of the same (0 where the source has no quantity)
    ac: np.ndarray  # (3, C, P) A -> C
    ac_t: np.ndarray  # tonnes of the same
    cb: np.ndarray  # (3, C, P) C -> B
    cb_t: np.ndarray
    c_rest: np.ndarray  # (3, C, P) C -> everyone but B
    c_imports: np.ndarray  # (3, C, P) everyone but A -> C (C's own demand)
    world: np.ndarray  # (3, P) everyone but A -> everyone but B
    n: np.ndarray  # (3,) periods in each phase
    relation: Relation  # for the event study
    declared: Declared | None = None  # both sides' declarations of A's exports (reported sources only)
    in_basket: np.ndarray | None = None  # (P,) the products of a basket the scan is restricted to; None: no basket
    cb_cif: np.ndarray | None = None  # (C,) CIF/FOB factor of `cb` when it is B's CIF imports (1 where C declares nothing to B)

    def mean(self, arr: np.ndarray, phases: list[int]) -> np.ndarray:
        """Mean per period over `phases` (axis 0 of `arr`)."""
        n = self.n[phases].reshape((-1,) + (1,) * (arr.ndim - 1))
        return (arr[phases] * n).sum(0) / n.sum()

    def merge(self, key: list[str]) -> Data:
        """The same flows with the products of one `key` (one per product) summed into one, named by the key."""
        names = sorted(set(key))
        if len(names) == len(self.products):
            return self
        index = {k: g for g, k in enumerate(names)}
        group = np.array([index[k] for k in key])
        order = np.argsort(group, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(group[order]) > 0])

        def total(arr: np.ndarray | None) -> np.ndarray | None:
            return None if arr is None else np.add.reduceat(arr[..., order], starts, axis=-1)

        arrays = {f: total(getattr(self, f)) for f in ("ab", "ab_t", "ac", "ac_t", "cb", "cb_t", "c_rest", "c_imports", "world")}
        dec = self.declared
        if dec is not None:
            dec = dataclasses.replace(dec, to_b=total(dec.to_b), b_records=total(dec.b_records), recorded=total(dec.recorded))
        listed = None if self.in_basket is None else total(self.in_basket.astype(float)) > 0  # a listed code lists its group
        return dataclasses.replace(self, products=names, declared=dec, in_basket=listed, **arrays)


def read(store: Store, a: str, b: str, when: dt.date, candidates: list[str] | None, source: str,
         basket: Basket | None = None, groups: Mapping[str, Group] | None = None, freq: str = "auto",
         product: str | None = None) -> Data:
    """Aggregate the flows one scan needs in DuckDB: A's exports, exports to B, everyone's to the rest
    (`relation`'s source, frequency and product); `basket` marks its products (`Basket.contains` at the
    relation's product level); A may be a group."""
    rel = relation(store, a, b, source, groups, freq, product)
    trade, params = rel.sql, dict(rel.params)
    periods = [r[0] for r in store.con.execute(*q.bind(f"SELECT DISTINCT t FROM ({trade}) WHERE e = $a", params)).fetchall()]
    if not periods:
        raise InputError(f"no product-level exports of {a} in the store" + (f" under HS {product}" if product else ""))
    window = make_window(periods, rel.freq, when)
    half = len(window.pre_t) // 2
    early, post = list(window.pre_t[:half]), list(window.post_t)
    phase = "CASE WHEN list_contains($post, t) THEN 2 WHEN list_contains($early, t) THEN 0 ELSE 1 END"
    sql = f"""
    WITH w AS NOT MATERIALIZED (
        SELECT e, m, p, {phase} AS phase, v, q FROM ({trade}) WHERE list_contains($periods, t) AND e <> m
    ),
    prods AS (SELECT DISTINCT p FROM w WHERE e = $a OR m = $b),
    x AS NOT MATERIALIZED (SELECT * FROM w WHERE p IN (SELECT p FROM prods))
    SELECT 'a' AS k, m AS c, p, phase, sum(v) AS v, sum(q) AS q FROM x WHERE e = $a GROUP BY ALL
    UNION ALL SELECT 'b', e, p, phase, sum(v), sum(q) FROM x WHERE m = $b GROUP BY ALL
    UNION ALL SELECT CASE WHEN grouping(e) = 0 THEN 'r' ELSE 'o' END, coalesce(e, m), p, phase, sum(v), NULL FROM x
              WHERE m <> $b AND e <> $a GROUP BY GROUPING SETS ((e, p, phase), (m, p, phase))
    """
    if rel.mirror:
        sql += f"""UNION ALL SELECT k || 'm', c, p, {phase}, sum(v), NULL FROM ({rel.mirror})
                   WHERE list_contains($periods, t) AND (p IS NULL OR p IN (SELECT p FROM prods)) GROUP BY ALL"""
    params |= {"post": post, "early": early, "periods": list(window.pre_t) + post}
    rows = q.arrow(store, sql, params)
    kind = pc.index_in(rows["k"], value_set=pa.array(KINDS)).to_numpy(zero_copy_only=False)
    phase = rows["phase"].to_numpy().astype(np.int64)
    listed = pc.is_in(rows["k"], value_set=pa.array(["rm", "bm", "em"]))
    products = sorted(pc.unique(pc.filter(rows["p"], pc.invert(listed))).to_pylist())
    from_a, to_b = (pc.equal(rows["k"], k) for k in ("a", "b"))
    if not pc.any(pc.and_(pc.and_(from_a, pc.equal(rows["c"], b)), pc.less(rows["phase"], 2))).as_py():
        raise InputError(f"no trade from {a} to {b} before the event: nothing to reroute")
    n = np.array([half, len(window.pre_t) - half, len(post)], dtype=float)
    per = np.maximum(n[phase], 1)
    value = rows["v"].to_numpy().astype(float) / per
    tonnes = np.nan_to_num(rows["q"].to_numpy(zero_copy_only=False).astype(float) / per)
    in_basket = None if basket is None else np.array(basket.contains(products))
    if in_basket is not None and not in_basket.any():
        raise InputError(f"none of the basket's {len(basket)} codes is among the products {a} and {b} trade", parameter="basket")
    countries = sorted(set(pc.unique(pc.filter(rows["c"], pc.or_(from_a, to_b))).to_pylist()) - {a, b})
    if candidates is not None:
        missing = [c for c in candidates if c not in countries]
        if missing:
            raise InputError(f"no trade with {a} or {b} in the window: {', '.join(missing)}", parameter="candidates")
        countries = candidates
    C, P = len(countries), len(products)
    pi = pc.index_in(rows["p"], value_set=pa.array(products, pa.string())).fill_null(-1).to_numpy()
    ci = pc.index_in(rows["c"], value_set=pa.array([*countries, b], pa.string())).fill_null(-1).to_numpy()  # B is C

    candidate, flat = (ci >= 0) & (ci < C), (phase * C + ci) * P + pi

    def cube(k: str, weights: np.ndarray = value, phases: int = 3) -> np.ndarray:
        sel = (kind == KINDS.index(k)) & candidate & (phase < phases)
        return np.bincount(flat[sel], weights[sel], phases * C * P).reshape(phases, C, P)

    def vec(k: str, weights: np.ndarray = value, of_b: bool = False) -> np.ndarray:
        sel = (kind == KINDS.index(k)) & (ci == C if of_b else True)
        return np.bincount(phase[sel] * P + pi[sel], weights[sel], 3 * P).reshape(3, P)

    seen = np.zeros((C + 1, 3), dtype=bool)  # a country (or B) reports imports in a phase
    rm = (kind == KINDS.index("rm")) & (ci >= 0)
    seen[ci[rm], phase[rm]] = True
    reporting = seen.all(1)
    pre_mirror = (kind >= KINDS.index("bm")) & (phase < 2)
    declared = None
    if rel.mirror:
        declared = Declared(to_b=vec("xm"), b_records=vec("im", of_b=True) if reporting[C] else None,
                            recorded=cube("im"), reporting=reporting[:C])
    return Data(
        a, b, window, rel.label, products, countries,
        ab=vec("a", of_b=True), ab_t=vec("a", tonnes, of_b=True),
        ac=cube("a"), ac_t=cube("a", tonnes), cb=cube("b"), cb_t=cube("b", tonnes), c_rest=cube("r"), c_imports=cube("o"),
        world=vec("r"), n=n, relation=rel, declared=declared, in_basket=in_basket,
        cb_cif=_cif_fob(cube("bm", phases=2).sum(0), cube("em", phases=2).sum(0)) if pre_mirror.any() else None,
    )


def _cif_fob(recorded: np.ndarray, declared: np.ndarray) -> np.ndarray:
    """B's CIF/FOB factor with each C before the event, from B's records (`recorded`, (C, P)) and C's declarations
    to B: the median over products of their ratio (as for relabelling's kappa); 1 where C and B share no product."""
    both = (recorded > 0) & (declared > 0)
    factor = np.where(both, recorded / np.where(both, declared, 1.0), np.nan)
    return np.nan_to_num(stats.row_median(factor), nan=1.0)
