"""Baskets from code lists: the real EU export-restrictions list, other shapes, and bad files."""

import duckdb
import pytest

from entrepot.basket import load_basket, parse_basket
from entrepot.errors import InputError
from tests.conftest import shared_file


def test_the_eu_export_restrictions_list() -> None:
    path = shared_file("real/cases/eu-russia-2022/export_sanctions_codes.csv")
    basket = load_basket(path)
    with path.open(encoding="utf-8") as fh:
        lines = [line for line in fh.read().splitlines()[1:] if line]
    assert len(basket) == len(lines) == 2223  # every line a code, none twice
    assert basket.codes[0] == "01012100" and all(len(c) == 8 for c in basket.codes)
    assert "210690" in basket.at_level(6) and "2106" in basket.at_level(4)


@pytest.mark.parametrize("text", [
    "8471.30.00\n2106\n",  # plain text, dots
    'product,description\n"8471 30 00",computers\n2106,food preparations\n',  # a named column, spaces
])
def test_shapes(text) -> None:
    assert parse_basket(text).codes == ("84713000", "2106")


def test_matching_rows_at_each_level() -> None:
    basket = parse_basket("code\n21069092\n2203\n")
    con = duckdb.connect()
    con.execute("CREATE TABLE f AS SELECT * FROM (VALUES ('21069092'), ('21069098'), ('22030001'), ('210690'), ('220300'), "
                "('2106'), ('2203'), ('2204')) t(product)")

    def rows(level):
        return sorted(r[0] for r in con.execute(f"SELECT product FROM f WHERE length(product) = {level} AND {basket.condition(level)}").fetchall())
    assert rows(8) == ["21069092", "22030001"]
    assert rows(6) == ["210690", "220300"]
    assert rows(4) == ["2106", "2203"]
    assert basket.partial(6) == ("210690",) and basket.partial(4) == ("2106",)  # counted whole, only a line listed


@pytest.mark.parametrize("text, expected", [
    ("code\n01012100\n1012100\n", r"b.csv:3: code '1012100' has 7 digits: a code that lost its leading zero\? write '01012100'"),
    ("code\n01012100\nhorses\n", r"b.csv:3: not a product code: 'horses'"),
    ("code\n0101210012\n", r"b.csv:2: code '0101210012' has 10 digits"),
    ("code\n\n", r"b.csv: no product codes"),
])
def test_bad_files_name_the_line(tmp_path, text, expected) -> None:
    path = tmp_path / "b.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=expected):
        load_basket(path)
    with pytest.raises(InputError, match="no such basket file"):
        load_basket(tmp_path / "missing.csv")
