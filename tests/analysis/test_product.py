"""Product drill-down (`product=`, `--product`): effect, mirror, flows and reroute on one HS code and its
sub-codes, read through the query layer, with the HS names beside the codes and the products in the basis."""

from __future__ import annotations

import json

import numpy as np
import pytest

from entrepot.analysis.effect import effect
from entrepot.analysis.flows import flows
from entrepot.analysis.mirror import mirror
from entrepot.analysis.reroute import scan
from entrepot.basket import Basket
from entrepot.errors import InputError
from entrepot.store import Store
from tests.conftest import insert

STEEL = [f"72{h:02d}10" for h in range(1, 11)]  # 720110 ... 721010: chapter 72, iron and steel
MACHINES = [f"84{h:02d}20" for h in range(11, 21)]  # chapter 84


def steel_embargo(store: Store) -> None:
    """TUR's HS6 exports to three controls and to ISR, 2018-2025, 5% noise; ISR stops buying TUR's steel
    (chapter 72) by 90% from 2025, half of it in 2024, and keeps buying its machines; ISR reports CIF."""
    rng = np.random.default_rng(3)
    rows = []
    for year in range(2018, 2026):
        for k, product in enumerate(STEEL + MACHINES):
            base = 1e6 * (k + 1) * 1.05 ** (year - 2018)
            for partner, scale in (("DEU", 1.0), ("FRA", 0.8), ("USA", 1.5)):
                rows.append({"year": year, "reporter": "TUR", "partner": partner, "flow": "export", "product": product,
                             "value_usd": base * scale * np.exp(rng.normal(0, 0.05))})
            kept = 1.0 if year < 2024 or product in MACHINES else 0.5 if year == 2024 else 0.1
            value = base * 0.5 * np.exp(rng.normal(0, 0.05)) * kept
            rows.append({"year": year, "reporter": "TUR", "partner": "ISR", "flow": "export", "product": product, "value_usd": value})
            rows.append({"year": year, "reporter": "ISR", "partner": "TUR", "flow": "import", "product": product, "value_usd": value * 1.06})
    insert(store, rows)


def test_effect_on_a_chapter_by_its_headings(store) -> None:
    steel_embargo(store)
    steel = effect(store, "TUR", "ISR", "2024-05-02", product="72", n_boot=99)
    assert steel.side("exporter").change_pct == pytest.approx(-0.9, abs=0.03)
    assert steel.side("importer").change_pct == pytest.approx(-0.9, abs=0.03)
    groups = steel.side("exporter").groups
    assert sorted(groups.grp) == sorted(c[:4] for c in STEEL)  # one level finer than the chapter: its headings
    assert groups.set_index("grp").description["7208"].startswith("Iron or non-alloy steel; flat-rolled")
    assert steel.basis()["products"] == "HS 72 (Iron and steel) and its sub-codes"
    assert steel.to_dict()["product"] == "72"
    machines = effect(store, "TUR", "ISR", "2024-05-02", product="84", n_boot=99)
    assert machines.side("exporter").change_pct == pytest.approx(0.0, abs=0.05)
    everything = effect(store, "TUR", "ISR", "2024-05-02", n_boot=99)
    assert everything.basis()["products"] == "all products"
    assert set(everything.side("exporter").groups.grp) == {"72", "84"}
    assert dict(zip(everything.side("exporter").groups.grp, everything.side("exporter").groups.description, strict=True))["72"] == "Iron and steel"
    one = effect(store, "TUR", "ISR", "2024-05-02", product="7208.10", n_boot=99)  # dotted, as tariffs write it
    assert list(one.side("exporter").groups.grp) == ["720810"] and one.product == "720810"
    with pytest.raises(InputError, match="^no control group: TUR reports no exports to other destinations under HS 27$"):
        effect(store, "TUR", "ISR", "2024-05-02", product="27", n_boot=99)


def test_mirror_and_flows_on_a_product(store) -> None:
    steel_embargo(store)
    res = mirror(store, "TUR", "ISR", event="2024-05-02", product="7208")
    assert set(res.products.grp) == {"720810"} and res.products.description.iloc[0].startswith("Iron or non-alloy steel")
    everything = mirror(store, "TUR", "ISR", event="2024-05-02")
    row = lambda r: r.totals[(r.totals.direction == "TUR->ISR") & (r.totals.period == "2020")].exporter_usd.iloc[0]  # noqa: E731
    whole = flows(store, "TUR", "ISR", "720810").table.set_index("period")
    assert row(res) == pytest.approx(whole.a_to_b_exporter["2020"]) and row(res) < row(everything) / 10
    assert res.basis()["products"].startswith("HS 7208 (") and res.freq == "A"  # annual: the store has years only
    assert flows(store, "TUR", "ISR", "72.08.10").product == "720810"


def test_a_basket_within_a_product_keeps_the_codes_under_it() -> None:
    basket = Basket(("72", "84713000", "720810"), "sanctions")
    assert basket.within("7208").codes == ("7208", "720810") and basket.within("7208").name == "sanctions, under HS 7208"
    assert basket.within("8471").codes == ("84713000",)
    with pytest.raises(InputError, match="^product: no code of basket sanctions lies under 27$"):
        basket.within("27")


def test_reroute_on_a_chapter_reads_only_its_products(synth_world) -> None:
    path, truth = synth_world("routes")
    with Store(path, read_only=True) as st:
        chapters = st.con.execute("""SELECT left(product, 2) AS c, count(DISTINCT product) AS n FROM flows
                                     WHERE reporter = 'TUR' AND partner = 'ISR' AND flow = 'export' AND source = 'comtrade'
                                     GROUP BY 1 ORDER BY n DESC, c""").fetchall()
        chapter, single = chapters[0][0], next(c for c, n in chapters if n == 1)
        res = scan(st, "TUR", "ISR", "2024-05-02", product=chapter)
        with pytest.raises(InputError, match=rf"^product: HS {single} holds [12] product\(s\) in the store"):
            scan(st, "TUR", "ISR", "2024-05-02", product=single)
    top = {p for products in res.candidates.top_products for p in products}
    assert top and all(p.startswith(chapter) for p in top)
    assert set(res.flagged.country) <= {x["country"] for x in truth["directions"][0]["intermediaries"]}
    assert res.basis()["products"].startswith(f"HS {chapter} (") and res.to_dict()["product"] == chapter


@pytest.mark.parametrize("command", [["effect", "--event", "2024-05-02"], ["mirror"], ["reroute", "--event", "2024-05-02"]])
def test_cli_product_is_checked_and_named(store, cli, command) -> None:
    steel_embargo(store)
    store.close()
    out = cli(command[0], "--exporter", "TUR", "--importer", "ISR", *command[1:], "--product", "72x")
    assert out.exit_code == 2 and out.output.strip().splitlines()[-1] == "error: --product: must be an HS2, HS4 or HS6 code, not '72x'"


def test_cli_mirror_products_table_names_the_headings(store, cli) -> None:
    steel_embargo(store)
    store.close()
    out = cli("mirror", "--a", "TUR", "--b", "ISR", "--event", "2024-05-02", "--product", "72", "--products")
    assert out.exit_code == 0, out.output
    assert "Iron or non-alloy steel" in out.output and "products: HS 72 (Iron and steel) and its sub-codes" in out.output
    payload = json.loads(cli("effect", "--exporter", "TUR", "--importer", "ISR", "--event", "2024-05-02", "--product", "7208",
                             "--json").stdout)
    assert payload["product"] == "7208" and payload["basis"]["products"].startswith("HS 7208 (")
    assert payload["sides"][0]["groups"][0]["description"]


def test_effect_bootstrap_leaves_out_draws_that_cannot_be_fitted(store) -> None:
    """Two headings, one of which TUR did not sell ISR in 2019: a bootstrap draw of that heading twice has no
    log share in 2019. Such draws are left out explicitly (no divide-by-zero RuntimeWarning, which pyproject
    makes an error), and the interval over the rest still brackets the estimate."""
    rng = np.random.default_rng(5)
    rows = []
    for year in range(2018, 2026):
        for k, product in enumerate(("720110", "720210")):
            base = 1e6 * (k + 1) * 1.05 ** (year - 2018)
            for partner in ("DEU", "FRA", "USA"):
                rows.append({"year": year, "reporter": "TUR", "partner": partner, "flow": "export", "product": product,
                             "value_usd": base * np.exp(rng.normal(0, 0.05))})
            sold = 0.0 if (product == "720210" and year == 2019) else base * 0.5 * (0.2 if year >= 2025 else 1.0)
            if sold:
                rows.append({"year": year, "reporter": "TUR", "partner": "ISR", "flow": "export", "product": product, "value_usd": sold})
    insert(store, rows)
    res = effect(store, "TUR", "ISR", "2025-01-01", product="72", source="reported", n_boot=199)
    side = res.side("exporter")
    assert 0 < side.draws < 199 and res.to_dict()["sides"][0]["draws"] == side.draws
    assert f"TUR's intervals are over {side.draws} of 199 bootstrap draws" in " ".join(res.notes)
    assert np.isfinite([side.change_usd_ci_low, side.change_usd_ci_high]).all()
    assert side.change_usd_ci_low <= side.change_usd <= side.change_usd_ci_high < 0
