"""What a reader sees in the CLI's tables: human headings with units (reporting.present decides them, the
CLI formats), rounding that fits the unit, no True/False or 1e-05, and tables that fit 100 columns;
the exports keep the machine names."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from entrepot.cli import app
from entrepot.reporting import present

CASE = Path(__file__).resolve().parents[1] / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"
EVENT = "2024-05-02"


@pytest.fixture(scope="module")
def run(synth_world):
    path, _ = synth_world("routes")
    runner = CliRunner()

    def invoke(*args: str | Path) -> str:
        out = runner.invoke(app, [str(a) for a in args], env={"ENTREPOT_STORE": str(path), "COLUMNS": "100"})
        assert out.exit_code == 0, out.output
        return out.stdout

    return invoke, path


COMMANDS = {
    "effect": ["effect", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT],
    "mirror": ["mirror", "--a", "TUR", "--b", "ISR", "--event", EVENT, "--products"],
    "reroute": ["reroute", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT],
    "cost": ["cost", "--exporter", "TUR", "--importer", "ISR", "--via", "GRC,AZE"],
    "claims": ["case", "check", CASE, "--claims"],
    "estimate": ["estimate", "--formula", "trade ~ ln_DIST + CNTG + LANG | exp_year + imp_year"],
    "scenario": ["scenario", "--data", "{gravity}", "--lift-embargo", "TUR,ISR"],
    "flows": ["flows", "--exporter", "TUR", "--importer", "ISR"],
    "screen": ["screen", "--top", "2"],
}
RAW = re.compile(r"\b[a-z]+_(usd|pct|p|value|km|t|low|high|error)\b")


def _tables(text: str) -> list[str]:
    """The table lines of a command's output (those between a heading rule and a blank table line)."""
    lines, out, inside = text.splitlines(), [], False
    for k, line in enumerate(lines):
        if set(line.strip()) == {"─"}:
            inside = True
            out.extend(lines[max(k - 3, 0):k])  # the headings, which may wrap over lines
            continue
        if inside and not line.strip():
            inside = False
        if inside:
            out.append(line)
    return out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_tables_read_as_a_reader_reads_them(run, name) -> None:
    invoke, path = run
    text = invoke(*(a.format(gravity=path.parent / "gravity.csv") if isinstance(a, str) else a for a in COMMANDS[name]))
    table = _tables(text)
    assert table, text
    for line in table:
        assert len(line) <= 100, (name, line)
        assert not RAW.search(line), (name, line)  # a machine name such as importer_fob_usd
        assert not re.search(r"\b(True|False)\b|\de-\d|\bnan\b", line), (name, line)
        assert "…" not in line, (name, line)  # nothing cut to fit


def test_exports_keep_the_machine_names(run, tmp_path) -> None:
    invoke, _ = run
    invoke(*COMMANDS["mirror"], "--csv", tmp_path / "m.csv")
    frame = pd.read_csv(tmp_path / "m.csv")
    assert {"exporter_usd", "importer_fob_usd", "gap", "flag"} <= set(frame.columns)
    invoke(*COMMANDS["estimate"], "--csv", tmp_path / "e.csv")  # a coefficient's bounds are not dollars: not rounded to integers
    coefs = pd.read_csv(tmp_path / "e.csv").set_index("term")
    assert list(coefs.columns) == ["estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert coefs.loc["ln_DIST", "ci_low"] < coefs.loc["ln_DIST", "estimate"] < coefs.loc["ln_DIST", "ci_high"] < 0


def test_present_rounds_as_the_unit_warrants() -> None:
    frame = pd.DataFrame({"country": ["GRC"], "rerouted_value_usd": [1.23456e9], "p_value": [2e-7], "gap": [0.1578],
                          "flag": [True], "markup_pct": [4.2281]})
    shown = present(frame)
    assert list(shown.columns) == ["country", "rerouted, USD m", "p-value", "gap, %", "flagged", "markup, %"]
    assert shown.iloc[0].tolist() == ["Greece (GRC)", "1,234.6", "<0.001", "+15.8", "yes", "4.23"]
    coefs = present(pd.DataFrame({"term": ["ln_DIST"], "estimate": [-1.19512], "ci_low": [-1.2311], "ci_high": [-1.158]}),
                    coefficients=True)
    assert coefs.iloc[0].tolist() == ["ln_DIST", "-1.195", "-1.231", "-1.158"]
    assert list(coefs.columns) == ["term", "coefficient", "95% CI low", "95% CI high"]


def test_first_leg_table_fits_too(tmp_path) -> None:
    """The one-side ranking (Comext-like: the EU's declarations only) has its own table; it fits 100 columns."""
    from entrepot.store import Store
    from tests.analysis.test_first_leg import world
    from tests.conftest import shared_file

    with Store(tmp_path / "s.duckdb") as st:
        basket = world(st, 21)
    codes = tmp_path / "basket.csv"
    codes.write_text("code\n" + "\n".join(basket.codes) + "\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["reroute", "--exporter", "EU27", "--importer", "RUS", "--event", "2022-02-24", "--candidates",
                                   "KAZ,GEO,ARM,UZB", "--concordance", str(shared_file("concordance")), "--basket", str(codes),
                                   "--store", str(tmp_path / "s.duckdb")], env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.output
    table = _tables(out.stdout)
    assert table and all(len(line) <= 100 and "…" not in line for line in table), table
    assert any("95% CI of the" in line for line in table) and not any(RAW.search(line) for line in table)


def test_reroute_verdict_is_a_word_explained_under_the_table(run) -> None:
    """At 100 columns each candidate is one line: its verdict a code word (the scan's `reason`), and every code
    the table uses is explained once under it."""
    from entrepot.analysis.reroute.result import VERDICTS

    invoke, _ = run
    lines = invoke(*COMMANDS["reroute"]).splitlines()
    rule = next(k for k, line in enumerate(lines) if set(line.strip()) == {"─"})
    heading, rows = lines[rule - 1], lines[rule + 1:]
    rows = rows[:next(k for k, line in enumerate(rows) if not line.strip())]
    assert rows and all(re.match(r"^ [A-Z]{3} ", line) for line in rows), rows  # no cell wrapped onto a line of its own
    verdicts = {line.split()[0]: line[heading.index("verdict"):].strip() for line in rows}
    used = {code for cell in verdicts.values() for code in cell.split(", ")}
    assert used <= set(VERDICTS) and "route" in used and "none" in used
    assert verdicts["PSE"] == "leg 1, relabel" and verdicts["GRC"] == "route"  # relabelled through PSE; routed through GRC
    legend = [line for line in lines if line.startswith("verdict: ")]
    assert legend == [f"verdict: {code} = {means}" for code, means in VERDICTS.items() if code in used]
