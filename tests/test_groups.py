"""Groups: the EU by the treaties' dates, checked against a member list made by someone else, and
groups from a case file; the SQL condition agrees with the Python rule on every period."""

import csv

import duckdb
import pytest

from entrepot import countries, groups
from entrepot.errors import InputError
from tests.conftest import shared_file


def test_eu_of_2022_is_the_case_authors_list() -> None:
    path = shared_file("real/cases/eu-russia-2022/eu_countries.csv")
    with path.open(encoding="utf-8") as fh:
        names = [row["eu_country"] for row in csv.DictReader(fh)]
    theirs = set(countries.from_name(names).values())
    assert len(theirs) == 27 and None not in theirs
    assert set(groups.expand("EU27", "2022-03")) == theirs


@pytest.mark.parametrize("period, gbr, hrv", [
    ("2020-01", True, True), ("2020-02", False, True), ("2013-06", True, False), ("2013-07", True, True),
    ("2020", False, True), ("2019", True, True), ("2013", True, True), ("2012", True, False), ("1972", False, False),
])
def test_membership_changes_on_the_treaty_dates(period: str, gbr: bool, hrv: bool) -> None:
    members = groups.eu().countries_in(period)
    assert ("GBR" in members, "HRV" in members) == (gbr, hrv)


def test_sql_condition_agrees_with_the_rule_for_every_period() -> None:
    con = duckdb.connect()
    months = [f"{y}-{m:02d}" for y in range(1956, 2026) for m in range(1, 13)]
    years = [str(y) for y in range(1956, 2026)]
    rows = [(p, "M", int(p[:4]), c) for p in months for c in groups.eu().all_countries()]
    rows += [(p, "A", int(p), c) for p in years for c in groups.eu().all_countries()]
    con.execute("CREATE TABLE flows (period VARCHAR, freq VARCHAR, year INT, reporter VARCHAR)")
    con.executemany("INSERT INTO flows VALUES (?, ?, ?, ?)", rows)
    got = set(con.execute(f"SELECT period, reporter FROM flows WHERE {groups.condition('EU', 'reporter')}").fetchall())
    want = {(p, c) for p in months + years for c in groups.eu().countries_in(p)}
    assert got == want


def test_case_file_groups_with_dated_members() -> None:
    defined = groups.parse_groups({"CAC": {"name": "Central Asia and the Caucasus", "members": ["arm", "GEO", "KAZ"]},
                                   "LATE": ["ARM", {"code": "GEO", "from": "2022-03-01"}]})
    assert groups.expand("CAC", "2021-01", defined) == ("ARM", "GEO", "KAZ")
    assert groups.expand("LATE", "2022-02", defined) == ("ARM",)
    assert groups.expand("LATE", "2022-03", defined) == ("ARM", "GEO")
    assert groups.expand("TUR", "2022-03", defined) == ("TUR",)  # a country stands for itself
    assert groups.unknown(["CAC", "TUR", "XYZ"], defined) == ["XYZ"]
    with pytest.raises(InputError, match="unknown country or group 'XYZ'"):
        groups.condition("XYZ", "partner", defined)


@pytest.mark.parametrize("table, expected", [
    ({"TUR": ["ARM"]}, r"groups.TUR: a group's id must not be a country"),
    ({"CAC": {"members": []}}, r"groups.CAC: expected members"),
    ({"CAC": ["ARM", "ATLANTIS"]}, r"groups.CAC.members\[1\]: unknown country code 'ATLANTIS'"),
    ({"CAC": [{"code": "ARM", "from": "March 2022"}]}, r"groups.CAC.members\[0\].from: not a date"),
])
def test_bad_groups_name_the_entry(table, expected) -> None:
    with pytest.raises(InputError, match=expected):
        groups.parse_groups(table)
