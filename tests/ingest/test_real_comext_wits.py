"""The real Comext data-browser exports and the WITS export in ../shared/real, row by row."""

import csv

import pytest

from entrepot.io.comext import load_rates
from entrepot.store.ingest import ingest_file
from tests.conftest import shared_file

# Every reporter name of the English exports, with the code a trade economist gives it.
REPORTERS = {
    "Croatia": "HRV", "Luxembourg": "LUX", "Cyprus": "CYP", "Portugal": "PRT", "Ireland (Eire)": "IRL",
    "Romania": "ROU", "Sweden": "SWE", "Denmark": "DNK", "Latvia": "LVA", "Greece": "GRC", "Slovenia": "SVN",
    "Finland": "FIN", "Austria": "AUT", "Estonia": "EST", "Lithuania": "LTU", "Bulgaria": "BGR", "Slovakia": "SVK",
    "Spain (incl. Canary Islands 'XB' from 1997)": "ESP", "Belgium (incl. Luxembourg 'LU' -> 1998)": "BEL",
    "Netherlands": "NLD", "Poland": "POL", "Hungary": "HUN", "Czechia": "CZE", "Malta": "MLT",
    "Italy (incl. San Marino 'SM' -> 1993)": "ITA", "Germany (incl. German Democratic Republic 'DD' from 1991)": "DEU",
}
AREA_PREFIXES = {"Euro area (": "EA", "Euro area - 20": "EA20", "European Union (": "EU", "European Union - 27": "EU27"}


def reporter_code(name: str) -> str:
    if name.startswith("France (incl."):
        return "FRA"
    return REPORTERS.get(name) or next(code for prefix, code in AREA_PREFIXES.items() if name.startswith(prefix))


def stored(store):
    frame = store.query("SELECT reporter, partner, flow, period, product, value_usd, reporter_is_country FROM flows")
    return {tuple(r[:5]): (r[5], r[6]) for r in frame.itertuples(index=False)}, len(frame)


@pytest.mark.parametrize("name, partner", [
    ("marylev_armenia_export_labels_Relational_View_2024-11-16T06_38_12.719Z.csv", "ARM"),
    ("marylev_russia_export_labels_Relational_View_2024-11-16T07_39_22.386Z.csv", "RUS"),
    ("marylev_kazakhstan_export_codelabels_Relational_View_2024-11-17T07_25_35.876Z.csv", "KAZ"),
])
def test_comext_browser_exports_in_english_labels_and_code_labels(store, name: str, partner: str) -> None:
    path = shared_file(f"real/comext/{name}")
    with path.open(encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    ingest_file(store, path)
    got, n = stored(store)
    assert n == len(source)
    rate = load_rates()["2024-08"]
    for r in source:
        code = reporter_code(r["REPORTER"])
        value, is_country = got[(code, partner, "export", "2024-08", "TOTAL")]
        assert value == pytest.approx(float(r["VALUE_IN_EUR"]) * rate)
        assert is_country == (code not in ("EA", "EA20", "EU", "EU27"))


FRENCH = "real/comext/marylev_eu27_year_french_Relational_View_2024-11-25T10_45_38.711Z.csv"
FRENCH_EXPECTED = {
    "Suisse (incl. Liechtenstein 'LI' -> 1994)": "CHE", "Soudan (incl. Soudan du Sud 'SS' -> 2012)": "SDN",
    "Soudan du Sud": "SSD", "Comores (incl. Mayotte 'YT' -> 1976)": "COM", "Samoa américaines": "ASM", "Samoa": "WSM",
    "Liechtenstein": "LIE", "Russie, Fédération de": "RUS", "Royaume-Uni": "GBR",
    "Etats-Unis (incl. Ile Navassa (partie de 'UM') de 1995 -> 2000)": "USA",
    "Territoire palestinien occupé (Cisjordanie (incl. Jérusalem-Est) et bande de Gaza)": "PSE",
    "Israël (incl. Cisjordanie/Bande de Gaza 'XP' -> 1994)": "ISR", "Taïwan": "TWN", "Kosovo": "XKX",
    "Ceuta (incl. Melilla 'XL' -> 1998)": "XC", "Melilla": "XL", "Haute mer": "QP", "Serbie": "SRB",
    "Monténégro (depuis 2007)": "MNE", "Corée, République populaire démocratique de (Corée du Nord)": "PRK",
    "Corée, République de (Corée du Sud)": "KOR", "Congo": "COG", "Congo, République démocratique du": "COD",
    "Guinée": "GIN", "Guinée équatoriale": "GNQ", "Guinea": "GNB", "Papouasie-Nouvelle-Guinée": "PNG", "Niger": "NER",
    "Nigeria": "NGA", "Dominique": "DMA",
    "République dominicaine": "DOM", "Iles Vierges britanniques (incl. Montserrat 'MS' -> 1994)": "VGB",
    "Iles Vierges des Etats-Unis": "VIR", "Montserrat": "MSR", "Sint-Maarten (partie néerlandaise)": "SXM",
    "Saint-Barthélemy": "BLM", "Bonaire, Saint-Eustache et Saba": "BES", "Curaçao": "CUW", "Macao": "MAC",
    "Extra-UE27 (à partir de 2020)": "EXTRA_EU27", "Intra-UE27 (à partir de 2020)": "INTRA_EU27",
    "Avitaillement et soutage dans le cadre des échanges intra-UE": "QR",
    "Avitaillement et soutage dans le cadre des échanges avec les pays tiers": "QS",
    "Norvège (incl. Svalbard et Jan Mayen 'SJ' -> 1994 et à nouveau depuis 1997)": "NOR",
    "Allemagne (incl. République démocratique allemande 'DD' depuis 1991)": "DEU", "Tchéquie": "CZE",
}


def test_comext_french_export_row_by_row_as_given(store) -> None:
    # 'Guinée' (901.4M EUR) is GIN by its French name; 'Guinea' (125.7M EUR) is no French name, and the
    # file names GIN otherwise: it is the one Guinea the file does not name (Guinea-Bissau), with a note.
    path = shared_file(FRENCH)
    with path.open(encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    res = ingest_file(store, path)
    assert res.notes == ("'Guinea' read as GNB (Guinea-Bissau): this French file names GIN 'Guinée', and GNB is "
                         "the one country whose name begins with 'Guinea'",)
    frame = store.query("SELECT partner, value_usd, reporter, period, flow, partner_is_country FROM flows")
    assert len(frame) == len(source) == 248 and frame.partner.is_unique  # no two partners merged
    assert set(frame.reporter) == {"EU27"} and set(frame.period) == {"2016"} and set(frame.flow) == {"export"}
    rates = load_rates()
    rate = rates[rates.index.str.startswith("2016")].mean()
    by_partner = frame.set_index("partner")
    for r in source:
        if r["PARTNER"] in FRENCH_EXPECTED:
            assert by_partner.loc[FRENCH_EXPECTED[r["PARTNER"]], "value_usd"] == pytest.approx(float(r["VALUE_IN_EUR"]) * rate)
    assert by_partner.loc["GNB", "value_usd"] == pytest.approx(125725547 * rate)
    areas = set(frame[~frame.partner_is_country].partner)
    assert areas == {"EXTRA_EU27", "INTRA_EU27", "QP", "QR", "QS", "QV", "QW", "QY", "QZ", "XC", "XL"}


WITS = "real/wits/odibo1_WITS-Partner.csv"


def test_wits_partner_export_in_thousand_usd(store) -> None:
    path = shared_file(WITS)
    with path.open(encoding="latin-1", newline="") as fh:
        source = list(csv.DictReader(fh))
    res = ingest_file(store, path)
    assert res.format == "wits" and res.rows == len(source) == 248
    frame = store.query("SELECT partner, value_usd, reporter, period, flow, product, partner_is_country FROM flows")
    assert frame.partner.is_unique and set(frame.reporter) == {"WLD"} and set(frame.period) == {"2018"}
    assert set(frame["product"]) == {"TOTAL"} and set(frame.flow) == {"export"}
    by_partner = frame.set_index("partner")
    expected = {"Aruba": "ABW", "Netherlands Antilles": "ANT", "Occ.Pal.Terr": "PSE", "Unspecified": "XNS",
                "Other Asia, nes": "TWN", "Br. Antr. Terr": "ATB", "Fr. So. Ant. Tr": "ATF", "Anguila": "AIA",
                "Serbia, FR(Serbia/Montenegro)": "SRB", "Montenegro": "MNE", "Ethiopia(excludes Eritrea)": "ETH",
                "Sub-Saharan Africa": "SSF", "East Asia & Pacific": "EAS", "Congo, Rep.": "COG", "Congo, Dem. Rep.": "COD",
                "Korea, Dem. Rep.": "PRK", "Korea, Rep.": "KOR", "Swaziland": "SWZ", "Turkey": "TUR", "Bonaire": "BES"}
    for r in source:
        name = r["Partner Name"]
        if name in expected:
            value = r["Export (US$ Thousand)"]
            got = by_partner.loc[expected[name], "value_usd"]
            assert (got != got) if not value else got == pytest.approx(float(value) * 1000)
    assert by_partner.loc["ANT", "partner_is_country"]  # a historical country, kept as itself (ISO 3166-3)
    assert not by_partner.loc["SSF", "partner_is_country"]


def test_wits_serbia_label_before_and_after_2006(store, write) -> None:
    header = "Reporter Name,Partner Name,Year,Trade Flow,Export (US$ Thousand)\n"
    body = "Germany,\"Serbia, FR(Serbia/Montenegro)\",2004,Export,1\nGermany,\"Serbia, FR(Serbia/Montenegro)\",2008,Export,2\n"
    ingest_file(store, write("wits.csv", header + body))
    assert store.query("SELECT partner FROM flows ORDER BY year").partner.tolist() == ["SCG", "SRB"]
