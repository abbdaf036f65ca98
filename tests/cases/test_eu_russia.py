"""The shipped EU-Russia case file: events, groups, the basket by reference, and bad entries."""

import shutil
from importlib import resources

import pytest

from entrepot.case import load_case, parse_case
from entrepot.errors import InputError
from tests.conftest import ARTIFACTS, shared_file

CASE = resources.files("entrepot.data").joinpath("cases/eu-russia-2022.toml")


def test_the_shipped_case() -> None:
    case = load_case(CASE)
    assert case.countries == ("EU27", "RUS") and case.currency == "EUR"
    assert case.main_event.date.isoformat() == "2022-02-24"  # the invasion: the windows turn on it
    assert [e.date.isoformat() for e in case.events if e.kind == "export_restriction"] == ["2022-02-25", "2022-03-15", "2022-04-08"]
    assert case.expand(case.intermediaries) == ("ARM", "GEO", "KAZ", "KGZ", "UZB", "BLR")
    assert case.groups["CCA3"].all_countries() == ("ARM", "KAZ", "KGZ")


def test_the_basket_by_reference(tmp_path, monkeypatch) -> None:
    case = load_case(CASE)
    with pytest.raises(InputError, match="basket file export_sanctions_codes.csv is not here; give its path with --basket"):
        case.basket()
    real = shared_file("real/cases/eu-russia-2022/export_sanctions_codes.csv")
    assert len(case.basket(real)) == 2223  # given on the command line
    monkeypatch.chdir(real.parent)  # or found from the working directory
    assert case.basket().name == "EU export restrictions on Russia (CN8)"
    copy = tmp_path / "case.toml"  # or beside the case file
    shutil.copy(str(CASE), copy)
    (tmp_path / "export_sanctions_codes.csv").write_text("code\n01012100\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)
    assert load_case(copy).basket().codes == ("01012100",)


@pytest.mark.parametrize("change, expected", [
    ({"groups": {"CCA": ["ARM", "ATLANTIS"]}}, r"groups.CCA.members\[1\]: unknown country code 'ATLANTIS'"),
    ({"suspects": {"intermediaries": ["CAC"]}}, r"suspects.intermediaries: unknown country code 'CAC'"),
    ({"basket": {"file": 3}}, r"basket: expected file"),
    ({"case": {"countries": ["EU27", "RUS"], "currency": "GBP"}}, r"case.currency: 'GBP' is not one of USD, EUR"),
])
def test_bad_entries(change, expected) -> None:
    doc = {"case": {"countries": ["EU27", "RUS"]}, "events": [{"date": "2022-02-24", "kind": "invasion", "from": "RUS", "to": "UKR"}]}
    with pytest.raises(InputError, match=expected):
        parse_case(doc | change)


def test_report_on_one_sides_declarations(store_path, tmp_path, browser_page) -> None:
    """The shipped case's report on a synthetic store of the EU's declarations only: the first-leg
    ranking drawn, and every section needing both legs says why it is not there."""
    from entrepot.reporting import write_report
    from entrepot.store import Store
    from tests.analysis.test_first_leg import world

    with Store(store_path) as st:
        basket = world(st, 31)
    copy = tmp_path / "case.toml"
    shutil.copy(str(CASE), copy)
    (tmp_path / "export_sanctions_codes.csv").write_text("code\n" + "\n".join(basket.codes) + "\n", encoding="utf-8")
    case = load_case(copy)
    with Store(store_path, read_only=True) as st:
        out = write_report(case, st, tmp_path / "report.html", concordance=shared_file("concordance"))
    page_html = out.read_text(encoding="utf-8")
    assert "The second leg (candidate to RUS) is unobserved" in page_html and "chart-first-leg" in page_html
    assert page_html.count("needs both legs of the routes") == 4  # timing, products, cost, map
    page, errors = browser_page
    page.goto(out.as_uri())
    page.wait_for_selector("#chart-first-leg .bars path")
    assert page.locator("#chart-first-leg .bars .point").count() == 6  # six candidates: CCA's five and Belarus
    assert page.locator("#chart-flows .scatterlayer .trace").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "eu-russia-report.png"), full_page=False)
    assert errors == []
