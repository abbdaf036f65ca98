"""Case files (case.py): reading and checking one, and its claims held against the store."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from entrepot.case import check_claims, load_case, parse_case
from entrepot.errors import InputError
from tests.conftest import insert

SHIPPED = resources.files("entrepot.data").joinpath("cases/turkey-israel.toml")
HEAD = {"case": {"id": "t", "countries": ["TUR", "ISR"]}, "events": [{"date": "2024-05-02", "kind": "embargo", "from": "TUR", "to": "ISR"}]}


def test_the_shipped_case_reads(cli) -> None:
    with resources.as_file(SHIPPED) as path:
        case = load_case(path)
        out = cli("case", "check", path)
    assert case.countries == ("TUR", "ISR") and case.main_event.kind == "embargo" and case.claims
    assert out.exit_code == 0 and ": ok — " in out.output


@pytest.mark.parametrize(("change", "message"), [
    ({"case": {"countries": ["TUR"]}}, "case.countries: expected two country codes"),
    ({"events": [{"date": "2024-13-01", "kind": "embargo", "from": "TUR", "to": "ISR"}]}, r"events\[0\].date: not a date"),
    ({"events": [{"date": "2024-05-02", "kind": "war", "from": "TUR", "to": "ISR"}]}, r"events\[0\].kind: 'war' is not one of"),
    ({"claims": [{"reporter": "TUR", "partner": "ISR", "flow": "export", "period": "2025-13", "value_usd": 1}]},
     r"claims\[0\].period: '2025-13' is not"),
])
def test_a_bad_entry_is_named(change, message) -> None:
    with pytest.raises(InputError, match=message):
        parse_case(HEAD | change)


def test_claims_hold_differ_or_have_no_data(store) -> None:
    """The store's figure is the reporter's own report (BACI is not), a year from annual rows or from
    twelve months, a range of months summed."""
    insert(store, [{"period": f"2024-{m:02d}", "value_usd": 10.0} for m in range(1, 13)], reporter="TUR", partner="ISR", flow="export")
    insert(store, [{"period": "2023", "value_usd": 500.0, "source": "baci"}], reporter="TUR", partner="ISR", flow="export")
    claims = [{"text": "a", "reporter": "TUR", "partner": "ISR", "flow": "export", "period": ["2024", "2024-01/2024-03", "2023"],
               "value_usd": [115, 50, 500]}]
    res = check_claims(store, parse_case(HEAD | {"claims": claims}))
    frame = res.to_frame().set_index("period")
    assert list(res.to_frame().columns) == list(res.COLUMNS)
    assert frame.loc["2024", "verdict"] == "holds" and frame.loc["2024", "data_usd"] == 120.0  # within 10%
    assert frame.loc["2024-01/2024-03", "verdict"] == "differs by -40%" and frame.loc["2024-01/2024-03", "data_usd"] == 30.0
    assert frame.loc["2023", "verdict"] == "no data"  # only BACI has 2023: not the reporter's claim to check
    assert res.provenance.sources == ("comtrade",) and "3 claimed figure(s)" in res.summary()


def test_claims_from_the_command_line(cli, store, tmp_path) -> None:
    insert(store, [{"year": 2025, "value_usd": 95.0}], reporter="TUR", partner="ISR", flow="export")
    store.close()
    case = tmp_path / "case.toml"
    case.write_text('[case]\nid = "t"\ncountries = ["TUR", "ISR"]\n[[events]]\ndate = "2024-05-02"\nkind = "embargo"\n'
                    'from = "TUR"\nto = "ISR"\n[[claims]]\nreporter = "TUR"\npartner = "ISR"\nflow = "export"\n'
                    'period = "2025"\nvalue_usd = 100\n')
    out = cli("case", "check", case, "--claims", "--json")
    assert out.exit_code == 0, out.output
    row, = json.loads(out.stdout)["claims"]
    assert (row["data_usd"], row["verdict"]) == (95.0, "holds")
    assert "1 holds" in cli("case", "check", case, "--claims").stdout
