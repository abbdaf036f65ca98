"""The shipped EU-Russia case file: events, groups, the basket by reference, and bad entries."""

import shutil
from importlib import resources

import pytest

from entrepot.case import load_case, parse_case
from entrepot.errors import InputError
from tests.conftest import shared_file

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
    doc = {"case": {"countries": ["EU27", "RUS"]}, "events": [{"date": "2022-02-24", "kind": "war", "from": "RUS", "to": "UKR"}]}
    with pytest.raises(InputError, match=expected):
        parse_case(doc | change)
