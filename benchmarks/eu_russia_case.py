"""The EU-Russia case from Eurostat's own files: every figure of docs/cases/eu-russia-2022.md.

Ingests the 22 Comext workbooks and the totals workbook of ../shared/real/cases/eu-russia-2022/
into a fresh store (timed), then runs what the case asks with the shipped case file: the basket's
fall to Russia, its growth to each neighbour against the rest of trade, and the candidates ranked
on the first leg (the second is unobserved: the store has the EU's declarations only), and both
sides' reports (`mirror`, in EUR, the EU as one side) with Russia's exports to the EU as the EU
records them. Writes the figures into the page's generated sections; the page's prose holds no
figure of its own.

    python benchmarks/eu_russia_case.py [--shared ../shared] [--store existing.duckdb]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import machine, write_section  # noqa: E402

from entrepot import groups  # noqa: E402
from entrepot.analysis.first_leg import first_leg, has_second_leg  # noqa: E402
from entrepot.analysis.flows import flows  # noqa: E402
from entrepot.analysis.mirror import mirror  # noqa: E402
from entrepot.case import load_case  # noqa: E402
from entrepot.errors import InputError  # noqa: E402
from entrepot.store import Store  # noqa: E402
from entrepot.store.ingest import ingest_paths  # noqa: E402

PAGE = "cases/eu-russia-2022.md"
ROOT = Path(__file__).resolve().parents[1]
# Figures quoted from the literature (not computed here): where entrepot's figures are set beside them.
EBRD_CCA3_SHARE = "around 5 per cent (EBRD press release on the working paper, 24 February 2023)"
JAVORCIK_SHARE = "5 to 10% (Javorcik, Project Syndicate, 2023)"


def eur_m(x: float) -> str:
    return f"{x / 1e6:,.1f}"


def pct(x: float) -> str:
    return "n/a" if x != x else f"{x:+.1%}"


def ingest_all(store: Store, folder: Path) -> str:
    given = [folder / "eurostat_xlsx", folder / "eu_total_trade_4630244_spreadsheet.xlsx"]  # a folder and a file, as a user gives them
    wall, cpu = time.perf_counter(), time.process_time()
    results = ingest_paths(store, given)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    series = store.query("SELECT count(DISTINCT product || flow) n FROM flows").n.item()
    rows = sum(r.rows for r in results)
    shown = os.path.relpath(folder, ROOT)
    return (f"Ingest: {len(results)} workbooks, {rows:,} rows ({series:,} product-and-flow series with data), in {wall:.1f} s "
            f"wall clock, {cpu:.1f} s of CPU, on {machine()} (the machine shared with other jobs: the CPU time is the "
            f"steadier figure). Command: `entrepot ingest {shown}/eurostat_xlsx/ {shown}/eu_total_trade_4630244_spreadsheet.xlsx`.")


def same_months(store: Store, exporter: str, partners: list[str], basket) -> pd.DataFrame:
    """Exports in EUR, March-November 2021 against March-November 2022: the basket, the rest, all goods."""
    cond = groups.condition(exporter, "reporter")
    q = f"""
    SELECT partner, year,
           sum(value_native) FILTER (WHERE product_level = 8 AND {basket.condition(8)}) AS basket,
           sum(value_native) FILTER (WHERE product = 'TOTAL') AS total,
           sum(value_native) FILTER (WHERE product = '27' AND product_level = 2) AS energy
    FROM flows WHERE flow = 'export' AND {cond} AND list_contains($p, partner) AND year IN (2021, 2022) AND month BETWEEN 3 AND 11
    GROUP BY ALL"""
    t = store.con.execute(q, {"p": partners}).df().set_index(["partner", "year"]).sort_index()
    t["rest"] = t.total - t.energy - t.basket
    wide = t.unstack("year")
    out = pd.DataFrame({"partner": wide.index})
    for col in ("basket", "rest", "total"):
        out[f"{col} 2021"] = wide[(col, 2021)].to_numpy()
        out[f"{col} 2022"] = wide[(col, 2022)].to_numpy()
        out[f"{col} change"] = (wide[(col, 2022)] / wide[(col, 2021)] - 1).to_numpy()
    return out


def both_sides(store: Store, exporter: str, importer: str, event, defined) -> str:
    """`mirror` in EUR with the EU as one side, and Russia's exports to the EU as the EU records them
    (March to November, 2021 against 2022)."""
    try:
        res = mirror(store, exporter, importer, event, freq="M", currency="EUR", groups=defined)
        said = f"`mirror` ({exporter} <-> {importer}, EUR, monthly): {res.summary()}."
    except InputError as exc:
        said = f"`entrepot mirror --a {exporter} --b {importer} --currency EUR --freq M` on this store: {exc}."
    fl = flows(store, importer, exporter, freq="M", currency="EUR", groups=defined).table.set_index("period")
    months = lambda y: [f"{y}-{m:02d}" for m in range(3, 12)]  # noqa: E731
    seen = {s: [fl[s].reindex(months(y)).sum(min_count=1) for y in (2021, 2022)] for s in ("a_to_b_importer", "a_to_b_exporter")}
    before, after = seen["a_to_b_importer"]
    theirs = "no figure of its own" if pd.isna(seen["a_to_b_exporter"][0]) else f"{eur_m(seen['a_to_b_exporter'][0])}"
    return "\n".join([
        said, "",
        f"Russia's exports to the EU as the EU's members record their imports from it (all goods, EUR m, March to November): "
        f"{eur_m(before)} in 2021, {eur_m(after)} in 2022 ({pct(after / before - 1)}); Russia's own report of them: {theirs}.",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("ENTREPOT_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--store", type=Path, help="an existing store holding the case's files (skips the ingest)")
    args = ap.parse_args()
    folder = args.shared / "real/cases/eu-russia-2022"
    case = load_case(resources.files("entrepot.data").joinpath("cases/eu-russia-2022.toml"))
    basket = case.basket(folder / "export_sanctions_codes.csv")
    exporter, importer = case.countries
    cands = list(case.expand(case.intermediaries))

    path = args.store or Path(tempfile.mkdtemp(prefix="entrepot-eu-russia-")) / "store.duckdb"
    with Store(path) as st:
        ingest = ingest_all(st, folder) if args.store is None else f"(store {path} reused: not timed)"
        assert not has_second_leg(st, importer, cands)
        t = time.perf_counter()
        res = first_leg(st, exporter, importer, case.main_event.date, cands, basket, currency="EUR", defined=case.groups,
                        concordance_path=args.shared / "concordance")
        took = time.perf_counter() - t
        months = same_months(st, exporter, [importer, *cands], basket)
        sides = both_sides(st, exporter, importer, case.main_event.date, case.groups)

    d = res.direct
    w = res.window
    direct = "\n".join([
        f"The basket: {len(basket):,} CN8 codes ({basket.name}); exporter {exporter} (its member states by date), "
        f"window {w.pre[0]}..{w.pre[-1]} against {w.span} (February 2022, the month of the invasion, left out), EUR per month.",
        "",
        "| EU exports to Russia, EUR m per month | before | after | change |",
        "|---|---:|---:|---:|",
        f"| the basket | {eur_m(d['basket_pre'])} | {eur_m(d['basket_post'])} | {pct(d['basket_change'])} |",
        f"| the rest of trade (total minus chapter 27 minus the basket) | {eur_m(d['control_pre'])} | {eur_m(d['control_post'])} "
        f"| {pct(d['control_change'])} |",
        "",
        f"The basket's drop: EUR {eur_m(d['drop'])} m per month, summed over products (a product counts only where it fell); "
        f"{d['products_stopped']:,} basket products fell by at least half.",
    ])
    rus = months[months.partner == importer].iloc[0]
    same = "\n".join([
        "The same months a year apart (March to November, 2021 against 2022), EUR m in all:",
        "",
        "| partner | basket 2021 | basket 2022 | change | rest 2021 | rest 2022 | change | all goods, change |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {r.partner} | {eur_m(r['basket 2021'])} | {eur_m(r['basket 2022'])} | {pct(r['basket change'])} | "
          f"{eur_m(r['rest 2021'])} | {eur_m(r['rest 2022'])} | {pct(r['rest change'])} | {pct(r['total change'])} |"
          for _, r in months.iterrows()],
        "",
        f"All EU goods to Russia: {pct(rus['total change'])} (March to November); the basket: {pct(rus['basket change'])}.",
    ])
    c = res.candidates
    ranked = "\n".join([
        "| rank | country | basket change | rest change | share of the drop | 95% CI | p | placebo p | flagged | "
        "products stopped to RUS, up to C | their excess, EUR m/month |",
        "|---:|---|---:|---:|---:|---|---:|---:|---|---:|---:|",
        *[f"| {r.rank} | {r.country} | {pct(r.basket_change)} | {pct(r.control_change)} | {r.share_of_drop:.1%} | "
          f"[{r.ci_low:.1%}, {r.ci_high:.1%}] | {r.p_value:.2g} | {r.placebo_p:.2g} | {'yes' if r.flagged else 'no'} | "
          f"{r.products_stopped_started} | {eur_m(r.value_stopped_started)} |" for r in c.itertuples()],
        "",
        *[f"- {n}" for n in res.notes],
        f"- first-leg scan: {took:.1f} s",
    ])
    cca3 = case.groups["CCA3"].all_countries()
    sub = c[c.country.isin(cca3)]
    summed = "\n".join([
        f"CCA3 ({', '.join(cca3)}) together: {sub.share_of_drop.sum():.1%} of the basket's drop to Russia shows up as extra EU "
        f"sales to them (value fits summed; {', '.join(f'{r.country} {r.share_of_drop:.1%}' for r in sub.itertuples())}); "
        f"the EBRD reported {EBRD_CCA3_SHARE}; Javorcik wrote {JAVORCIK_SHARE} of the drop in direct exports.",
        f"All six candidates: {c.share_of_drop.sum():.1%}; the flagged ones: {c.share_of_drop[c.flagged].sum():.1%}.",
    ])
    top = []
    for r in c[c.flagged].itertuples():
        p = res.products[res.products.country == r.country].head(5)
        top += [f"**{r.country}**", "", "| product | description | to RUS before | after | to C before | after | excess |",
                "|---|---|---:|---:|---:|---:|---:|",
                *[f"| {q['product']} | {q.description[:60]} | {eur_m(q.before_to_importer)} | {eur_m(q.after_to_importer)} | "
                  f"{eur_m(q.before)} | {eur_m(q.after)} | {eur_m(q.excess)} |" for _, q in p.iterrows()], ""]
    conc = res.concorded
    concorded = (f"{conc['products']} of the basket's products span the HS 2022 revision and are compared as HS 2017 HS6 "
                 f"({conc['share']:.1%} of the basket's value in the window), through `{Path(conc['table']).name}`.")
    write_section(PAGE, "ingest", ingest, title="The EU's sanctions on Russia, 2022")
    write_section(PAGE, "direct", direct)
    write_section(PAGE, "same-months", same)
    write_section(PAGE, "candidates", ranked)
    write_section(PAGE, "cca3", summed)
    write_section(PAGE, "products", "\n".join(top) + "\nEUR m per month; a product key `HS17:xxxxxx` is concorded.")
    write_section(PAGE, "concordance", concorded)
    write_section(PAGE, "mirror", sides)
    print(res.summary())


if __name__ == "__main__":
    main()
