"""HS revisions through UNSD's real correspondence tables: each kind of link, value conserved,
families exact, and where the table comes from (a path, the cache; the download: tests/fetch)."""

import numpy as np
import pandas as pd
import pytest

from entrepot import concordance
from entrepot.errors import InputError
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def hs22_17():
    return concordance.load_table("HS22", "HS17", shared_file("concordance"))


def test_each_kind_of_link(hs22_17) -> None:
    frame = pd.DataFrame({"product": ["010121", "851713", "851714", "030721", "123456"], "value": [1.0, 10.0, 20.0, 30.0, 5.0]})
    out = hs22_17.to_older(frame, weights=pd.Series({"030791": 3.0, "030721": 1.0}))
    by = out.groupby(["product", "rule", "concorded"])["value"].sum()
    assert by[("010121", "1:1", False)] == 1.0  # unchanged code
    assert by[("851712", "n:1", True)] == 30.0  # smartphones: two HS 2022 codes back into one HS 2017 code
    assert by[("030721", "weights", True)] == pytest.approx(30.0 * 1 / 4)  # 1:n split by base-period weights
    assert by[("030791", "weights", True)] == pytest.approx(30.0 * 3 / 4)
    assert by[("123456", "unmatched", False)] == 5.0  # not in the table: kept, and said so
    equal = hs22_17.to_older(frame[frame["product"] == "030721"])
    assert set(equal["rule"]) == {"equal"} and np.allclose(equal["value"], 30.0 / len(equal))


def test_value_is_conserved_on_every_code(hs22_17) -> None:
    codes = hs22_17.links["new"].unique()
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"product": codes, "value": rng.uniform(1, 100, len(codes)), "flow": "export"})
    weights = pd.Series(rng.uniform(0, 10, hs22_17.links["old"].nunique()), index=hs22_17.links["old"].unique())
    for kwargs in ({}, {"weights": weights}, {"method": "conversion"}):
        out = hs22_17.to_older(frame, **kwargs)
        assert out["value"].sum() == pytest.approx(frame["value"].sum())
        assert set(out["flow"]) == {"export"}  # key columns ride along


def test_families_are_closed_under_the_links(hs22_17) -> None:
    fam = hs22_17.families().set_index(["rev", "code"])["family"]
    assert set(fam[fam == "HS17:570320"].index) == {("HS17", "570320"), ("HS22", "570321"), ("HS22", "570329")}
    links = hs22_17.links
    assert (links["new"].map(fam.xs("HS22")).to_numpy() == links["old"].map(fam.xs("HS17")).to_numpy()).all()


def test_where_the_table_comes_from(tmp_path, monkeypatch) -> None:
    """A path, else the cache; the download from UNSD is tested against a local server (tests/fetch)."""
    monkeypatch.setenv("ENTREPOT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match="not in the cache"):
        concordance.locate("HS22", "HS17", download=False)
    real = shared_file("concordance")
    assert concordance.locate("HS22", "HS17", real) == real / "HS2022toHS2017ConversionAndCorrelationTables.xlsx"


@pytest.mark.parametrize("args, expected", [
    (("HS17", "HS22"), "HS17 is not newer than HS22"),
    (("HS23", "HS17"), "unknown HS revision 'HS23'"),
])
def test_bad_revisions(args, expected) -> None:
    with pytest.raises(InputError, match=expected):
        concordance.locate(*args, source=".")


def test_a_wrong_file(tmp_path) -> None:
    with pytest.raises(InputError, match="no UNSD correspondence table"):
        concordance.locate("HS22", "HS17", tmp_path)
