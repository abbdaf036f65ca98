import json

import pytest

from entrepot.analysis.flows import bilateral
from entrepot.errors import InputError
from tests.conftest import DATA

COMTRADE = DATA / "comtrade" / "TUR_2023_2024_M_H5.csv"


def add(store, rows: list[tuple]) -> None:
    """Insert canonical rows: (period, reporter, partner, flow, product, value, source)."""
    for period, rep, par, flow, product, value, source in rows:
        year, month = int(period[:4]), (int(period[5:]) if len(period) > 4 else None)
        store.con.execute(
            "INSERT INTO flows VALUES (?, ?, ?, ?, ?, true, ?, true, ?, 'HS17', ?, ?, ?, NULL, NULL, ?, 'test')",
            [period, "M" if month else "A", year, month, rep, par, flow, product,
             0 if product == "TOTAL" else len(product), value, source],
        )


def test_both_sides_side_by_side(store) -> None:
    add(store, [
        ("2025", "TUR", "ISR", "export", "TOTAL", 5e6, "comtrade"),
        ("2025", "ISR", "TUR", "import", "TOTAL", 924e6, "comtrade"),
        ("2025", "ISR", "TUR", "export", "TOTAL", 11e6, "comtrade"),
    ])
    res = bilateral(store, "tur", "ISR")
    row = res.table.iloc[0]
    assert (row.period, row.a_to_b_exporter, row.a_to_b_importer, row.b_to_a_exporter) == ("2025", 5e6, 924e6, 11e6)
    assert res.labels()["a_to_b_importer"] == "ISR imports from TUR, as ISR reports"


def test_never_double_counts_levels_or_sources(store) -> None:
    add(store, [
        ("2024", "TUR", "ISR", "export", "TOTAL", 100.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "7208", 30.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "720810", 20.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "720890", 10.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "TOTAL", 999.0, "baci"),
        ("2023", "TUR", "ISR", "export", "TOTAL", 55.0, "baci"),
        ("2024-05", "TUR", "ISR", "export", "TOTAL", 7.0, "comtrade"),
    ])
    # a country's own report before reconciled BACI; BACI where nobody reported
    assert bilateral(store, "TUR", "ISR").table.a_to_b_exporter.tolist() == [55.0, 100.0]
    assert bilateral(store, "TUR", "ISR", product="7208").table.a_to_b_exporter.tolist() == [30.0]
    assert bilateral(store, "TUR", "ISR", product="72").table.a_to_b_exporter.tolist() == [30.0]
    assert bilateral(store, "TUR", "ISR", by="month").table.a_to_b_exporter.item() == 7.0


def test_flows_cli_json_csv_and_bad_input(cli) -> None:
    assert cli("ingest", COMTRADE).exit_code == 0
    out = json.loads(cli("flows", "--reporter", "TUR", "--partner", "ISR", "--by", "month", "--json").output)
    assert [r["a_to_b_exporter"] for r in out["series"]] == [460_300_000, 1200]
    csv = cli("flows", "--reporter", "TUR", "--partner", "PSE", "--by", "month", "--csv").output
    assert csv.splitlines()[0].startswith('period,"TUR exports to PSE, as TUR reports"')
    bad = cli("flows", "--reporter", "TUX", "--partner", "ISR")
    assert bad.exit_code == 2 and "unknown reporter code 'TUX'" in bad.output


def test_bad_product(store) -> None:
    with pytest.raises(InputError, match="HS2, HS4 or HS6"):
        bilateral(store, "TUR", "ISR", product="7")
