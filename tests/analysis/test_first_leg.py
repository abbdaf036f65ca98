"""Rerouting from the exporter's declarations alone, on hostile worlds: a general boom that is not
rerouting, a basket boom in products never sold to the embargoed country, an energy price shock in
the totals, products whose code changes with HS 2022, and seeds the checks were not tuned on."""

import numpy as np
import pandas as pd
import pytest

from entrepot import currency, schema
from entrepot.analysis.first_leg import first_leg, has_second_leg
from entrepot.basket import parse_basket
from entrepot.errors import InputError
from entrepot.io._frame import insert, periods
from entrepot.store.warehouse import write_flows
from tests.conftest import shared_file

MONTHS = [(y, m) for y in (2020, 2021, 2022) for m in range(1, 13) if (y, m) <= (2022, 11)]
EXPORTERS = {"DEU": 0.6, "FRA": 0.4}  # two member states of the EU: the exporter is their sum
POST = (2022, 3)
REROUTED = 0.10  # KAZ receives this share of each product's drop to RUS


def world(store, seed: int, currency_eur: bool = True):
    """A monthly store of the EU's exports to RUS and four candidates, with the basket's codes."""
    rng = np.random.default_rng(seed)
    table = shared_file("concordance/HS2022toHS2017ConversionAndCorrelationTables.xlsx")
    from entrepot.concordance import load_table

    links = load_table("HS22", "HS17", table).links
    stable = sorted(set(links.loc[(links.new == links.old) & (links.relationship == "1:1"), "new"]))
    hs6 = rng.choice([c for c in stable if c[:2] not in ("27", "98", "99")], 40, replace=False)
    basket = [c + "10" for c in hs6]
    sold_to_rus = set(basket[:30])  # the last 10 the EU never sold to Russia
    # each partner's own product mix: a candidate's purchases are not a scaled copy of Russia's
    base = {c: dict(zip([*basket, "87012010", "87012190"], rng.lognormal(13 if c == "RUS" else 10.7, 1.2, len(basket) + 2), strict=True))
            for c in ("RUS", "KAZ", "GEO", "ARM", "UZB")}
    rows = []

    def add(partner, product, y, m, value, noise=0.08):
        """One row per member state; returns what each declared (a total is the sum of its parts)."""
        out = {}
        for reporter, part in EXPORTERS.items():
            out[reporter] = value[reporter] if isinstance(value, dict) else value * part * rng.lognormal(0, noise)
            rows.append((y, m, reporter, partner, product, out[reporter]))
        return out

    for y, m in MONTHS:
        after = (y, m) >= POST
        # tractors: CN 8701 20 10 until 2021, CN 8701 21 90 from 2022 (HS 2022 split 870120): one product across the change
        tractor = "87012010" if y < 2022 else "87012190"
        for c, share in (("RUS", 1.0), ("KAZ", 0.1), ("GEO", 0.1), ("ARM", 0.1), ("UZB", 0.1)):
            parts = []
            for p in [*basket, tractor]:
                v = base[c][p] * (1.0 if p in sold_to_rus or p == tractor or c != "RUS" else 0.0)
                if after:
                    drop = base["RUS"][p] * 0.8 * (p in sold_to_rus or p == tractor)
                    v = {"RUS": v * 0.2, "KAZ": v * 1.2 + REROUTED * drop, "GEO": v * 1.8,
                         "ARM": v * (1.2 if p in sold_to_rus or p == tractor else 6.0), "UZB": v}[c]
                if v > 0:
                    parts.append(add(c, p, y, m, v))
            control = 4e8 * share * {"RUS": 0.7, "KAZ": 1.2, "GEO": 1.8, "ARM": 1.2, "UZB": 1.0}[c] ** after
            rest = {r: control * part * rng.lognormal(0, 0.08) for r, part in EXPORTERS.items()}  # the trade outside the basket
            parts.append(add(c, "27", y, m, 2e8 * share * (2.5 if after else 1.0)))  # a price shock in chapter 27, not in the control
            add(c, "TOTAL", y, m, {r: rest[r] + sum(part[r] for part in parts) for r in EXPORTERS})
    frame = pd.DataFrame(rows, columns=["year", "month", "reporter", "partner", "product", "v"])
    cols = periods(frame.year, frame.month)
    insert(store.con, {**cols, "reporter": frame.reporter, "partner": frame.partner, "flow": "export",
                       "hs_rev": np.where(frame["product"] == "TOTAL", None, np.where(frame.year >= 2022, "HS22", "HS17")),
                       "product": frame["product"], "value_usd": frame.v * 1.1, "value_native": frame.v if currency_eur else None,
                       "currency": "EUR" if currency_eur else "USD"}, "csv", f"w{seed}")
    return parse_basket("\n".join(basket + ["87012190"]))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_flags_the_rerouter_and_not_the_booms(store, seed) -> None:
    basket = world(store, seed)
    res = first_leg(store, "EU27", "RUS", "2022-02-24", ["KAZ", "GEO", "ARM", "UZB"], basket, currency="EUR",
                    concordance_path=shared_file("concordance"))
    c = res.candidates.set_index("country")
    assert list(c.index[c.flagged]) == ["KAZ"]
    assert c.loc["KAZ", "share_of_drop"] == pytest.approx(REROUTED, abs=0.03)
    assert c.loc["KAZ", "ci_low"] < REROUTED < c.loc["KAZ", "ci_high"]
    assert c.loc["GEO", "basket_change"] > 0.5 and c.loc["GEO", "excess_growth"] == pytest.approx(0, abs=0.1)  # a boom, not a route
    # a basket boom in products Russia never bought: growth beyond the control, but no share of the drop
    # (the joint fit of tau even pulls it below zero: a bias towards not flagging, never towards a false flag)
    assert c.loc["ARM", "excess_growth"] > 0.5 and c.loc["ARM", "share_of_drop"] < 0.02
    assert c.loc["KAZ", "control_change"] == pytest.approx(0.2, abs=0.05)  # energy's price shock kept out of the control
    assert res.direct["basket_change"] == pytest.approx(-0.8, abs=0.03)  # the planted fall of 80%
    assert res.concorded["products"] == 1 and 0 < res.concorded["share"] < 0.2  # the tractors, one series across HS 2022
    assert "second leg unobserved" in res.notes[0] and "second leg unobserved" in res.summary()
    assert res.to_dict()["second_leg"] == "unobserved" and all(r["second_leg"] == "unobserved" for r in res.to_dict()["candidates"])
    assert not has_second_leg(store, "RUS", ["KAZ", "GEO"])


def test_currency_and_inputs(store) -> None:
    basket = world(store, 5, currency_eur=False)
    kwargs = {"concordance_path": shared_file("concordance")}
    usd = first_leg(store, "EU", "RUS", "2022-02-24", ["KAZ", "GEO"], basket, **kwargs)
    eur = first_leg(store, "EU", "RUS", "2022-02-24", ["KAZ", "GEO"], basket, currency="eur", **kwargs)  # a USD store in EUR
    rates = currency.rates_by_period().set_index("rate_period").usd_per_eur
    post = [f"2022-{m:02d}" for m in range(3, 12)]
    assert eur.currency == "EUR" and eur.direct["basket_post"] == pytest.approx(
        usd.direct["basket_post"] / rates[post].mean(), rel=0.02)  # converted month by month
    with pytest.raises(InputError, match="--currency must be USD or EUR, not 'GBP'"):
        first_leg(store, "EU27", "RUS", "2022-02-24", ["KAZ"], basket, currency="GBP", **kwargs)
    with pytest.raises(InputError, match="unknown candidate code 'XXX'"):
        first_leg(store, "EU27", "RUS", "2022-02-24", ["XXX"], basket, **kwargs)
    with pytest.raises(InputError, match="none of the basket's 1 codes"):
        first_leg(store, "EU27", "RUS", "2022-02-24", ["KAZ"], parse_basket("01010101\n"), **kwargs)
    # the same declarations in a second source (Comext beside Comtrade, say) are read once, not added
    write_flows(store.con, "SELECT * REPLACE ('comext' AS source, 'again' AS batch_id) FROM flows")
    again = first_leg(store, "EU", "RUS", "2022-02-24", ["KAZ", "GEO"], basket, **kwargs)
    assert again.direct["basket_post"] == pytest.approx(usd.direct["basket_post"])
    assert list(again.provenance.sources) == ["comext"]
    schema_cols = set(schema.FLOW_COLUMNS)
    assert {"value_native", "currency"} <= schema_cols


def test_the_command(store_path, cli, tmp_path) -> None:
    from entrepot.store import Store

    with Store(store_path) as st:
        basket = world(st, 21)
    codes = tmp_path / "basket.csv"
    codes.write_text("code\n" + "\n".join(basket.codes) + "\n", encoding="utf-8")
    args = ["reroute", "--exporter", "EU27", "--importer", "RUS", "--event", "2022-02-24", "--candidates", "KAZ,GEO,ARM,UZB",
            "--concordance", shared_file("concordance")]
    res = cli(*args, "--basket", codes, "--currency", "EUR")
    assert res.exit_code == 0, res.output
    assert "KAZ" in res.output and "unobserved" in res.output and "note: second leg unobserved" in res.output
    as_json = cli(*args, "--basket", codes, "--json")
    assert as_json.exit_code == 0 and '"second_leg": "unobserved"' in as_json.output
    missing = cli(*args)
    assert missing.exit_code == 2 and "only the first leg can be ranked" in missing.output and "--basket FILE" in missing.output
