"""The query layer: which rows an analysis reads, as panels, with parameters bound and text quoted.

Every analysis reads the store through this module, so the rule of docs/methods.md ("Which rows
are read") exists once. A store can hold the same flow several times: annual and monthly, TOTAL and
by product, from several sources. Each (reporter, flow) is read from one `Choice` of rows, the same
for every partner and period, so a pair and its controls are measured alike and nothing is counted
twice:

- **source**: declared reports first, in `SOURCE_PRIORITY` order; BACI's reconciled values last (BACI
  is not one side's report: it is read only when nothing else is there);
- **frequency**: annual figures from a source's annual rows, else its monthly rows summed into
  complete years (all 12 months); monthly figures from monthly rows; ``"auto"`` is monthly when
  the source has months;
- **product level**, one only (a TOTAL row and its products are never added together), by what the
  analysis needs: ``"total"`` the coarsest level (TOTAL, then HS2, HS4, HS6), ``"groups"`` the coarsest
  at HS2 or finer (TOTAL only when the source has nothing finer), ``"products"`` the finest;
- partners that are not countries and rows without a value are left out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import pandas as pd
import pyarrow as pa

from entrepot import currency as money
from entrepot import groups as country_groups
from entrepot.basket import Basket
from entrepot.errors import InputError
from entrepot.groups import Group
from entrepot.results import Provenance
from entrepot.schema import TONNES_SQL
from entrepot.store.warehouse import Store

# WITS "Trade Stats" are UN Comtrade's declarations as the World Bank redistributes them (in thousand USD):
# declarations, read after Comtrade's own figures and Eurostat's for a reporter that has those, before a
# CSV or Stata file of unknown provenance; BACI (not one side's report) last.
SOURCE_PRIORITY = ("comtrade", "comext", "wits", "csv", "stata", "baci")
Level = Literal["total", "groups", "products"]
Flow = Literal["export", "import"]

P = ParamSpec("P")
R = TypeVar("R")


def reads_store(fn: Callable[P, R]) -> Callable[P, R]:
    """Let an analysis take its store as a `Store` or as the path of a store file (opened read-only
    for the call)."""

    @functools.wraps(fn)
    def wrapper(store, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(store, Store):
            return fn(store, *args, **kwargs)
        if not isinstance(store, (str, Path)):
            raise InputError(f"expected a Store or the path of a store file, not {type(store).__name__}", parameter="store")
        with Store(store, read_only=True) as st:
            return fn(st, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def quote(text: str) -> str:
    """A SQL string literal: `text` in single quotes, its quotes doubled."""
    return "'" + str(text).replace("'", "''") + "'"


def bind(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(sql, the parameters it uses): DuckDB refuses named parameters a statement does not use."""
    return sql, {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", sql)}  # $c_r is not in $c_rows_freq


def arrow(store: Store, sql: str, params: dict[str, Any]) -> pa.Table:
    """The rows of `sql` (its parameters bound, `bind`) as an Arrow table: text stays in Arrow's buffers rather than
    one Python string per row, for the analyses that read millions of rows. On a cursor of its own, so a result
    left open on the store's connection does not stand in its way."""
    cur = store.con.cursor()
    try:
        text, used = bind(sql, params)
        return cur.sql(text, params=used).to_arrow_table()
    finally:
        cur.close()


def priority(column: str = "source") -> str:
    """SQL ranking sources by `SOURCE_PRIORITY` (unknown sources after them)."""
    return f"CASE {column} " + " ".join(f"WHEN {quote(s)} THEN {i}" for i, s in enumerate(SOURCE_PRIORITY)) + " ELSE 99 END"


def time_index(freq: str) -> str:
    """SQL for a period's integer index: the year, or year*12 + month-1 (`analysis.window`'s periods)."""
    return "year" if freq == "A" else "year * 12 + month - 1"


@dataclass(frozen=True)
class Choice:
    """The rows one (reporter, flow) is read from: one source, one product level, one row frequency.

    `freq` is the frequency asked for, `rows_freq` that of the rows read: annual figures from
    monthly rows (`summed`) keep complete years only.
    """

    reporter: str
    flow: str
    source: str
    level: int
    freq: str
    rows_freq: str
    reporter_sql: str = ""  # a group's members by period (entrepot.groups) instead of `reporter = ...`
    basket_sql: str = ""  # only a basket's products (entrepot.basket)
    partners: tuple[str, ...] = ()  # the choice was made on these partners' rows (a pair's series): only theirs are read

    @property
    def summed(self) -> bool:
        """Annual figures from monthly rows."""
        return self.freq != self.rows_freq

    def where(self, prefix: str = "c") -> tuple[list[str], dict[str, Any]]:
        """SQL conditions selecting these rows (reporter and flow included), with their parameters
        named `{prefix}_...`, so two choices can sit in one statement."""
        p = {f"{prefix}_r": self.reporter, f"{prefix}_flow": self.flow, f"{prefix}_rows_freq": self.rows_freq,
             f"{prefix}_source": self.source, f"{prefix}_level": self.level, f"{prefix}_partners": list(self.partners)}
        who = self.reporter_sql or f"reporter = ${prefix}_r"
        cond = [who, f"flow = ${prefix}_flow", f"freq = ${prefix}_rows_freq", f"source = ${prefix}_source",
                f"product_level = ${prefix}_level", "partner_is_country", "value_usd IS NOT NULL"] + [self.basket_sql] * bool(self.basket_sql)
        if self.partners:
            cond.append(f"list_contains(${prefix}_partners, partner)")
        if self.summed:
            cond.append(f"""year IN (SELECT year FROM flows WHERE {who} AND flow = ${prefix}_flow
                            AND source = ${prefix}_source AND freq = 'M' GROUP BY year HAVING count(DISTINCT month) = 12)""")
        return cond, p


SOURCE_CONDITIONS = {"auto": [], "reported": ["source <> 'baci'"], "baci": ["source = 'baci'"]}  # options.Source


def product_condition(column: str = "product", parameter: str = "product") -> str:
    """SQL: a row's code is the HS code bound as `$parameter` or one of its sub-codes (`options.product`'s
    digits): the one product selection every analysis uses."""
    return f"starts_with({column}, ${parameter})"


LEVEL_ORDER = {"total": "product_level", "groups": "(product_level = 0), product_level", "products": "product_level DESC"}


def reporter_condition(reporter: str, groups: Mapping[str, Group] | None = None) -> str:
    """'' for a country (the statement binds it), else the SQL of a group's members by period."""
    return country_groups.condition(reporter, "reporter", groups) if country_groups.resolve(reporter, groups) else ""


def choose(store: Store, reporter: str, flow: str, freq: str, level: Level, *, partners: list[str] | None = None,
           product: str | None = None, source: str = "auto", groups: Mapping[str, Group] | None = None,
           basket: Basket | None = None) -> Choice | None:
    """The rows to read for `reporter`'s flows of kind `flow` (the rule in the module docstring).

    `partners` restricts the choice to rows with those partners (a pair's own series); `product` to
    an HS code and its sub-codes (`product_condition`); `source` "reported" leaves BACI out (a
    country's own declarations only), "baci" reads BACI alone, "auto" the priority order.
    `reporter` may be a group (EU27, or one of `groups`): its members' rows, by period. With a
    `basket` the finest level at HS6 or below is read, and only the basket's products. None when
    nothing matches.
    """
    freqs = {"A": ["A", "M"], "M": ["M"], "auto": ["A", "M"]}[freq]
    who = reporter_condition(reporter, groups)
    cond = [who or "reporter = $r", "flow = $flow", "list_contains($freqs, freq)", "partner_is_country", "value_usd IS NOT NULL"]
    if basket is not None:
        level = "products"
        cond.append(f"product_level >= {min(6, min(len(c) for c in basket.codes))}")
    params: dict[str, Any] = {"r": reporter, "flow": flow, "freqs": freqs}
    if partners is not None:
        cond.append("list_contains($partners, partner)")
        params["partners"] = partners
    if product is not None:
        cond.append(f"product_level >= $plevel AND {product_condition()}")
        params |= {"product": product, "plevel": len(product)}
    if level == "products":
        cond.append("product_level > 0")
    cond += SOURCE_CONDITIONS[source]
    rows_order = "(freq = 'M') DESC" if freq == "auto" else "freq"  # 'A' before 'M': annual rows before months summed
    rows = store.con.execute(*bind(
        f"""SELECT source, product_level, freq FROM flows WHERE {' AND '.join(cond)}
            GROUP BY source, product_level, freq
            ORDER BY {priority()}, source, {rows_order}, {LEVEL_ORDER[level]} LIMIT 1""", params)).fetchall()
    if not rows:
        return None
    row = rows[0]
    rows_freq = row[2]
    return Choice(reporter, flow, row[0], int(row[1]), rows_freq if freq == "auto" else freq, rows_freq, who,
                  "" if basket is None else basket.condition(int(row[1])), tuple(partners or ()))


def frequencies(store: Store, reporter: str, flow: str, partner: str, groups: Mapping[str, Group] | None = None, *,
                source: str = "auto", product: str | None = None, products: bool = False, around: int | None = None) -> set[str]:
    """The frequencies in which `reporter` (a country or a group) reports this flow with `partner` (either may be a group): in
    `source`'s rows (as for `choose`), under `product`, at a product level only with `products`.
    Months count as months only where they cover `around` (a month's index, `time_index`: months before it
    and after it), else as years (their complete years)."""
    who = reporter_condition(reporter, groups) or "reporter = $r"
    cond = [who, "flow = $flow", f"{partner_label([partner], groups)} = $partner", "value_usd IS NOT NULL", *SOURCE_CONDITIONS[source]]
    params: dict[str, Any] = {"r": reporter, "flow": flow, "partner": partner, "product": product}
    if product is not None:
        cond.append(product_condition())
    if products:
        cond.append("product_level > 0")
    rows = store.con.execute(*bind(f"""SELECT freq, min({time_index('M')}), max({time_index('M')}) FROM flows
                                       WHERE {' AND '.join(cond)} GROUP BY freq""", params)).fetchall()
    return {"M" if f == "M" and (around is None or first < around < last) else "A" for f, first, last in rows}


def partner_label(codes: list[str] | None, groups: Mapping[str, Group] | None = None) -> str:
    """SQL naming a row's partner: the code of the group among `codes` it belongs to in the row's period
    (membership by date, `entrepot.groups`), else the partner itself; `partner` when no code is a group."""
    found = [(c, country_groups.resolve(c, groups)) for c in codes or []]
    cases = [f"WHEN {g.condition('partner')} THEN {quote(c)}" for c, g in found if g is not None]
    return f"CASE {' '.join(cases)} ELSE partner END" if cases else "partner"


@dataclass(frozen=True)
class Panel:
    """One reporter's flows by partner, period and product group, read from one `Choice`.

    `frame`: partner, t (period index), grp, value, tonnes, value_q (value of the rows that carry
    tonnes). `choice` is None (and the frame empty) when the reporter has no such flows.
    """

    frame: pd.DataFrame
    choice: Choice | None

    @property
    def sources(self) -> tuple[str, ...]:
        """The source read, if any."""
        return () if self.choice is None else (self.choice.source,)

    @property
    def read(self) -> tuple[Choice, ...]:
        """The choice of rows read, if any, for `provenance`."""
        return () if self.choice is None else (self.choice,)


PANEL_COLUMNS = ["partner", "t", "grp", "value", "tonnes", "value_q"]


def panel(store: Store, reporter: str, flow: str, freq: str, digits: int | None, partners: list[str] | None = None,
          exclude: list[str] | None = None, *, groups: Mapping[str, Group] | None = None, basket: Basket | None = None,
          currency: str = "USD", named: tuple[str, ...] = (), product: str | None = None, source: str = "auto") -> Panel:
    """`reporter`'s flows of kind `flow`, summed in DuckDB into `digits`-long product groups.

    The choice of rows is made over all partners (level ``"groups"``), so the partners a panel
    keeps (`partners`, less `exclude`) are measured alike. A code in `partners` may be a group
    (EU27, or one of `groups`): its members' rows, in the periods they were members, are summed
    under the group's code (a member outside its membership stays itself); so are the members of
    the groups in `exclude` and `named` (a group among all partners). `digits` 2 sums products
    into HS2 chapters, 0 into one TOTAL group, None keeps the codes as read. `groups`, `basket`, `product`
    and `source` as for `choose`; `currency` "EUR" sums EUR (exact where the source reported in it, `entrepot.currency`).
    """
    picked = choose(store, reporter, flow, freq, "groups", groups=groups, basket=basket, product=product, source=source)
    if picked is None:
        return Panel(pd.DataFrame(columns=PANEL_COLUMNS), None)
    if digits is None or picked.level == 0:
        grp = "product"
    elif digits == 0:
        grp = "'TOTAL'"
    else:
        grp = f"left(product, {min(digits, picked.level)})"
    where, params = picked.where()
    who = partner_label([*(partners or []), *(exclude or []), *named], groups)
    if partners is not None:
        where.append(f"list_contains($partners, {who})")
        params["partners"] = partners
    if exclude:
        where.append(f"NOT list_contains($exclude, {who})")
        params["exclude"] = exclude
    if product is not None:
        where.append(product_condition())
        params["product"] = product
    value, join = money.amount(store.con, currency)
    frame = store.con.execute(*bind(
        f"""SELECT {who} AS partner, {time_index(freq)} AS t, {grp} AS grp, sum({value}) AS value,
                   sum({TONNES_SQL}) AS tonnes, sum(CASE WHEN {TONNES_SQL} > 0 THEN {value} END) AS value_q
            FROM flows {join} WHERE {' AND '.join(where)} GROUP BY ALL ORDER BY partner, t, grp""",
        params,
    )).df()
    return Panel(frame, picked)


def series(store: Store, choice: Choice, partner: str, product: str | None) -> pd.DataFrame:
    """A pair's series from one choice: period (label), value, summed over the products at the
    chosen level (under `product` when given)."""
    where, params = choice.where()
    where.append("partner = $partner")
    params["partner"] = partner
    if product is not None:
        where.append(product_condition())
        params["product"] = product
    label = "CAST(year AS VARCHAR)" if choice.freq == "A" else "period"
    return store.con.execute(*bind(
        f"SELECT {label} AS period, sum(value_usd) AS value FROM flows WHERE {' AND '.join(where)} GROUP BY ALL ORDER BY 1",
        params)).df()


def has_source(store: Store, source: str) -> bool:
    """Whether the store holds any row of `source`."""
    return bool(store.con.execute("SELECT count(*) > 0 FROM (SELECT 1 FROM flows WHERE source = ? LIMIT 1)", [source]).fetchall()[0][0])


def provenance(store: Store, read: Iterable[str | Choice]) -> Provenance:
    """The sources an analysis read and the batches (each one file) whose rows it read, found in `flows`
    in one query: for a `Choice`, the batches holding rows it selects (its reporter, flow, source,
    frequency, product level, basket, and its partners when it was made on a pair's rows; every period);
    for a source's name (a reader that reads a whole source), every batch with rows of it. A batch whose
    rows have all been superseded is not cited: none of its rows can have been read."""
    items = list(dict.fromkeys(read))
    names = sorted({i if isinstance(i, str) else i.source for i in items})
    conds, params = [], {}
    whole = [i for i in items if isinstance(i, str)]
    if whole:
        conds.append("list_contains($sources, source)")
        params["sources"] = whole
    for k, choice in enumerate(i for i in items if isinstance(i, Choice)):
        where, p = choice.where(f"p{k}")
        conds.append("(" + " AND ".join(where) + ")")
        params |= p
    if not conds:
        return Provenance.empty()
    batches = store.con.execute(*bind(
        f"""SELECT batch_id, format AS source, path, rows, ingested_at FROM batches
            WHERE batch_id IN (SELECT DISTINCT batch_id FROM flows WHERE {' OR '.join(conds)})
            ORDER BY ingested_at, batch_id""", params)).df()
    return Provenance(tuple(names), batches)
