"""Country names resolve only by stated rules; what no rule resolves is listed, never guessed."""

import pytest

from entrepot import countries
from entrepot.errors import InputError
from entrepot.store.ingest import ingest_file
from tests.ingest.conftest import snapshot

HEADER = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"


@pytest.mark.parametrize("name, code", [
    ("European Union (AT-01/1995, BE-01/1958, GB-01/1973->01/2020, SK-05/2004)", "EU"),  # not GBR
    ("Suisse (incl. Liechtenstein 'LI' -> 1994)", "CHE"),  # not LIE
    ("Sudan (incl. South Sudan 'SS' -> 2012)", "SDN"),  # not SSD
    ("Comores (incl. Mayotte 'YT' -> 1976)", "COM"),  # not MYT
    ("Samoa américaines", "ASM"),  # not WSM
    ("Amerikanisch-Samoa", "ASM"),
    ("Netherlands Antilles", "ANT"),  # not ABW: kept as the ISO 3166-3 entity
    ("Serbia and Montenegro", "SCG"), ("USSR", "SUN"), ("Yugoslavia", "YUG"),
    ("Schweiz (inkl. Liechtenstein)", "CHE"), ("Belgien (einschl. Luxemburg)", "BEL"),
    ("Montenegro (seit 2007)", "MNE"), ("Vereinigte Staaten", "USA"), ("Türkei", "TUR"),
    ("Russian Federation (Russia)", "RUS"), ("Euro area - 20 countries (AT, BE, CY)", "EA20"),
    ("EU27_2020", "EU27"), ("EL", "GRC"), ("ROM", "ROU"), ("Zaire", "COD"),
])
def test_names_resolve_by_rules(name: str, code: str) -> None:
    assert countries.from_name([name])[name] == code


@pytest.mark.parametrize("name", ["Atlantis", "Niger (Nigeria)", "South", "Territoire (incl. X)"])
def test_no_rule_no_code(name: str) -> None:
    assert countries.from_name([name])[name] is None


def test_historical_entities_are_countries_of_their_own() -> None:
    assert countries.is_country("ANT") and countries.is_country("SUN") and countries.from_numeric([891])[891] == "SCG"
    assert countries.name("SCG") == "Serbia and Montenegro"
    assert not countries.is_country("EU") and not countries.is_country("QP")


def test_every_unresolved_name_is_listed_at_once_and_a_mapping_supplies_them(store, write) -> None:
    body = ("Atlantis,Greece,Total,EXPORT,Total,Aug. 2024,1\nGreece,Lemuria,Total,EXPORT,Total,Aug. 2024,2\n"
            "Atlantis,Italy,Total,EXPORT,Total,Aug. 2024,3\n")
    path = write("c.csv", HEADER + body)
    with pytest.raises(InputError, match=r"c.csv:2: column REPORTER: unknown country code 'Atlantis' \(line 2\), "
                       r"'Lemuria' \(line 3\); give their codes with --countries FILE"):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)
    mapping = write("names.csv", "name,code\nAtlantis,ISL\nlemuria,mdg\n")
    ingest_file(store, path, options={"country_names": mapping})
    assert store.query("SELECT reporter || '>' || partner AS p FROM flows ORDER BY value_usd").p.tolist() == [
        "ISL>GRC", "GRC>MDG", "ISL>ITA"]


def test_a_bad_mapping_file_names_its_line(write) -> None:
    with pytest.raises(InputError, match=r"names.csv:3: unknown code 'XYZ'"):
        countries.read_mapping(write("names.csv", "name,code\nAtlantis,ISL\nLemuria,XYZ\n"))


def test_two_names_for_one_flow_are_an_error(store, write) -> None:
    body = "Greece,Turkey,Total,EXPORT,Total,Aug. 2024,1\nGreece,Türkiye,Total,EXPORT,Total,Aug. 2024,2\n"
    with pytest.raises(InputError, match=r"'Turkey' \(line 2\) and 'Türkiye' \(line 3\) would be the same country"):
        ingest_file(store, write("c.csv", HEADER + body))
    # the same country under two spellings in different periods is fine
    body = "Greece,Turkey,Total,EXPORT,Total,Aug. 2021,1\nGreece,Türkiye,Total,EXPORT,Total,Aug. 2024,2\n"
    assert ingest_file(store, write("d.csv", HEADER + body)).rows == 2


def browser(partners: list[str], flow: str = "EXPORT") -> str:
    return HEADER + "".join(f'Greece,"{p}",Total,{flow},Total,2016,{k + 1}\n' for k, p in enumerate(partners))


# Each partner list is a browser export in one language; the codes are what a trade economist reads.
@pytest.mark.parametrize("partners, codes", [
    (["Guinea", "Guinea-Bissau", "Equatorial Guinea", "Papua New Guinea", "Niger"], ["GIN", "GNB", "GNQ", "PNG", "NER"]),
    (["Guinea", "Guinea-Bissau", "Äquatorialguinea", "Papua-Neuguinea", "Niger"], ["GIN", "GNB", "GNQ", "PNG", "NER"]),
    (["Guinée", "Guinée-Bissau", "Guinée équatoriale", "Papouasie-Nouvelle-Guinée", "Niger"], ["GIN", "GNB", "GNQ", "PNG", "NER"]),
    # French, with one label left in English: 'Guinea' cannot be GIN, which the file calls 'Guinée'
    (["Guinée", "Guinea", "Guinée équatoriale", "Papouasie-Nouvelle-Guinée", "Allemagne"], ["GIN", "GNB", "GNQ", "PNG", "DEU"]),
])
def test_each_name_is_read_in_the_file_language_first(store, write, partners: list[str], codes: list[str]) -> None:
    ingest_file(store, write("c.csv", browser(partners)))
    assert store.query("SELECT partner FROM flows ORDER BY value_usd").partner.tolist() == codes


def test_a_name_the_file_language_cannot_settle_is_still_an_error(store, write) -> None:
    # 'Guinea' beside 'Guinée' and 'Guinée-Bissau': no Guinea is left for it, so both GIN names are listed
    path = write("c.csv", browser(["Guinée", "Guinea", "Guinée-Bissau", "Allemagne", "Autriche"]))
    with pytest.raises(InputError, match=r"c.csv:2: column PARTNER: 'Guinée' \(line 2\) and 'Guinea' \(line 3\) would be "
                       r"the same country in the same flow"):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)
    # two unresolved names are listed at once, whatever the language settled
    with pytest.raises(InputError, match=r"unknown country code 'Atlantide' \(line 3\), 'Lémurie' \(line 4\)"):
        ingest_file(store, write("d.csv", browser(["Guinée", "Atlantide", "Lémurie", "Guinea"])))


def test_numeric_and_alpha3_tables_are_coco_s() -> None:
    """The codes come from pycountry (no pandas to load); coco, the name resolver, has the same tables
    (it lacks only Taiwan's ISO numeric 158; trade sources write 490, `TRADE_NUMERIC`)."""
    coco = countries._coco().data
    m49 = {int(u): iso for u, iso in zip(coco["UNcode"], coco["ISO3"], strict=True) if str(u).strip().isdigit()}
    assert countries.numeric_table() == m49 | {158: "TWN"} | countries.TRADE_NUMERIC
    assert countries.iso3_current() == set(coco["ISO3"].dropna()) | {"XKX"}
