"""Country codes: ISO 3166 alpha-3 for countries, codes of our own for areas that are not countries.

Conversion from names goes through country-converter (coco); ISO's codes (alpha-3, alpha-2, numeric)
come from pycountry, which loads without pandas. What neither library knows is the trade-statistics
world's own codes: the numeric codes Comtrade and BACI use for a country together with its
territories (842 USA, 251 France, ...), Comtrade's "Other Asia, nes" (490, which is Taiwan), and
the partner areas that are not countries (World, areas n.e.s., bunkers, free zones, EU aggregates).
Those few are listed here by hand, because no library carries them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from entrepot.errors import InputError

# Areas that are not countries: code -> name. Flows with these partners keep the flag
# `partner_is_country = false` and are never summed into a country. Eurostat's own partner codes in
# ISO's user-assigned range (Q*, X*) are kept as Eurostat writes them; World Bank regions (WITS) keep
# the World Bank's codes.
AREAS: dict[str, str] = {
    "WLD": "World",
    "XNS": "Areas not elsewhere specified",
    "XSC": "Special categories",
    "XBK": "Bunkers",
    "XFZ": "Free zones",
    "EU": "European Union (changing composition)",
    "EU27": "European Union (27, from 2020)",
    "EU28": "European Union (28, 2013-2020)",
    "EA": "Euro area (changing composition)",
    "EA20": "Euro area (20 countries, from 2023)",
    "EA19": "Euro area (19 countries, 2015-2022)",
    "EXTRA_EU27": "Extra-EU27 (partners outside the EU)",
    "INTRA_EU27": "Intra-EU27 (partners inside the EU)",
    "BLX": "Belgium-Luxembourg (reported together before 1999)",
    "SACU": "Southern African Customs Union (reported together before 2000)",
    "EFTA_NES": "Europe EFTA, not elsewhere specified",
    "XI": "United Kingdom (Northern Ireland), in EU statistics from 2021",
    "XU": "United Kingdom (excluding Northern Ireland), in EU statistics from 2021",
    "XC": "Ceuta",
    "XL": "Melilla",
    "QP": "High seas",
    "QR": "Stores and provisions (intra-EU trade)",
    "QS": "Stores and provisions (extra-EU trade)",
    "QV": "Countries and territories not specified (intra-EU trade)",
    "QW": "Countries and territories not specified (extra-EU trade)",
    "QY": "Not specified for commercial or military reasons (intra-EU trade)",
    "QZ": "Not specified for commercial or military reasons (extra-EU trade)",
    "EAS": "East Asia & Pacific",
    "ECS": "Europe & Central Asia",
    "LCN": "Latin America & Caribbean",
    "MEA": "Middle East & North Africa",
    "NAC": "North America",
    "SAS": "South Asia",
    "SSF": "Sub-Saharan Africa",
}

# Comtrade/BACI numeric codes that are not ISO 3166-1 numeric (M49) country codes.
# Sources: UN Comtrade reference table "partnerAreas" and the BACI country_codes file.
TRADE_NUMERIC: dict[int, str] = {
    0: "WLD",
    97: "EU",  # European Union as Comtrade reports it: EU-28 until 2019, EU-27 from 2020
    490: "TWN",  # "Other Asia, nes" in Comtrade is Taiwan
    251: "FRA",  # France and Monaco
    381: "ITA",  # Italy, San Marino and the Holy See
    579: "NOR",  # Norway, Svalbard and Jan Mayen
    699: "IND",
    757: "CHE",  # Switzerland and Liechtenstein
    842: "USA",  # USA, Puerto Rico and US Virgin Islands
    837: "XBK",
    838: "XFZ",
    839: "XSC",
    899: "XNS",
    # Entities that no longer exist keep their ISO 3166-3 code (never merged into a successor).
    58: "BLX",  # Belgium-Luxembourg, before 1999
    200: "CSK",  # Czechoslovakia
    278: "DDR",  # German Democratic Republic
    280: "DEU",  # Federal Republic of Germany before 1991: ISO's DE throughout
    530: "ANT",  # Netherlands Antilles
    532: "ANT",  # Netherlands Antilles and Aruba, as Comtrade numbers it before 1988
    736: "SDN",  # Sudan before South Sudan's independence (2011): ISO's SD of the time
    810: "SUN",  # USSR
    890: "YUG",  # Socialist Federal Republic of Yugoslavia
    891: "SCG",  # Serbia and Montenegro
    720: "YMD",  # Democratic Yemen
    886: "YEM",  # Arab Republic of Yemen: ISO's YE throughout
    80: "ATB",  # British Antarctic Territory
    711: "SACU",  # Southern African Customs Union, before 2000
    697: "EFTA_NES",  # Europe EFTA, n.e.s.
    849: "PUS",  # US Miscellaneous Pacific Islands (ISO 3166-3)
}

# Retired ISO 3166 alpha-3 codes of the same territory under a new code (renames, not splits or
# mergers): gravity datasets still carry them (AGTPA's Romania is ROM).
RETIRED_ISO3: dict[str, str] = {
    "ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "BUR": "MMR", "DHY": "BEN", "HVO": "BFA", "BYS": "BLR",
    "NHB": "VUT", "AFI": "DJI", "RHO": "ZWE",
}

# Names used by trade sources (Comtrade, Comext in English, French and German, WITS) for areas,
# historical entities and for countries that neither ISO's names nor coco's patterns give exactly.
# Keys are `_key(name)`: lower case, accents and punctuation dropped, spaces collapsed.
SOURCE_NAMES: dict[str, str] = {
    "world": "WLD", "all partners": "WLD", "monde": "WLD", "welt": "WLD",
    "areas nes": "XNS", "areas not elsewhere specified": "XNS", "unspecified": "XNS",
    "other asia nes": "TWN", "bunkers": "XBK", "free zones": "XFZ", "special categories": "XSC",
    "eu27 2020": "EU27", "eu28": "EU28", "extra eu27 2020": "EXTRA_EU27", "intra eu27 2020": "INTRA_EU27",
    "european union 27 countries from 2020": "EU27", "european union 27": "EU27",
    "european union 27 countries": "EU27", "union europeenne 27 pays": "EU27",
    "union europeenne 27 pays a partir de 2020": "EU27", "europaische union 27 lander": "EU27",
    "europaische union 27 lander ab 2020": "EU27", "eu 28": "EU28", "eu 27": "EU27",
    "european union": "EU", "union europeenne": "EU", "europaische union": "EU",
    "euro area": "EA", "zone euro": "EA", "euroraum": "EA", "euro-zone": "EA",
    "euro area 20 countries": "EA20", "zone euro 20 pays": "EA20", "euroraum 20 lander": "EA20",
    "euro area 19 countries": "EA19", "zone euro 19 pays": "EA19", "euroraum 19 lander": "EA19",
    "extra eu27 from 2020": "EXTRA_EU27", "extra ue27 a partir de 2020": "EXTRA_EU27",
    "extra eu27 ab 2020": "EXTRA_EU27",
    "intra eu27 from 2020": "INTRA_EU27", "intra ue27 a partir de 2020": "INTRA_EU27",
    "intra eu27 ab 2020": "INTRA_EU27",
    "ceuta": "XC", "melilla": "XL", "high seas": "QP", "haute mer": "QP", "hohe see": "QP",
    "stores and provisions within the framework of intra eu trade": "QR",
    "avitaillement et soutage dans le cadre des echanges intra ue": "QR",
    "stores and provisions within the framework of extra eu trade": "QS",
    "avitaillement et soutage dans le cadre des echanges avec les pays tiers": "QS",
    "countries and territories not specified within the framework of intra eu trade": "QV",
    "pays et territoires non determines dans le cadre des echanges intra ue": "QV",
    "countries and territories not specified within the framework of extra eu trade": "QW",
    "pays et territoires non determines dans le cadre des echanges avec les pays tiers": "QW",
    "countries and territories not specified for commercial or military reasons in the framework of intra eu trade": "QY",
    "pays et territoires non precises pour des raisons commerciales ou militaires dans le cadre des echanges intra ue": "QY",
    "countries and territories not specified for commercial or military reasons in the framework of extra eu trade": "QZ",
    "pays et territoires non precises pour des raisons commerciales ou militaires dans le cadre des echanges avec les pays tiers": "QZ",
    "east asia pacific": "EAS", "europe central asia": "ECS", "latin america caribbean": "LCN",
    "middle east north africa": "MEA", "north america": "NAC", "south asia": "SAS", "sub saharan africa": "SSF",
    # historical entities (ISO 3166-3), in the spellings trade sources use
    "netherlands antilles": "ANT", "antilles neerlandaises": "ANT", "niederlandische antillen": "ANT",
    "serbia and montenegro": "SCG", "serbie et montenegro": "SCG", "serbien und montenegro": "SCG",
    "ussr": "SUN", "fmr ussr": "SUN", "soviet union": "SUN", "union sovietique": "SUN", "sowjetunion": "SUN",
    "yugoslavia": "YUG", "fmr yugoslavia": "YUG", "czechoslovakia": "CSK", "fmr czechoslovakia": "CSK",
    "german democratic republic": "DDR", "fmr dem rep of germany": "DDR", "belgium luxembourg": "BLX",
    "br antr terr": "ATB", "british antarctic territory": "ATB",
    # WITS abbreviations and spellings
    "fr so ant tr": "ATF", "occ pal terr": "PSE", "anguila": "AIA", "falkland island": "FLK",
    "wallis and futura isl": "WLF", "turks and caicos isl": "TCA", "british indian ocean ter": "IOT",
    "heard island and mcdonald isla": "HMD", "south georgia and the south sa": "SGS",
    "united states minor outlying i": "UMI", "ethiopia excludes eritrea": "ETH",
    "serbia fr serbia montenegro": "SRB",  # WITS's name for SRB (Montenegro is listed beside it)
    "bonaire": "BES", "saint maarten dutch part": "SXM",
    # Eurostat's French names that ISO's French names do not match exactly
    "iles heard et mcdonald": "HMD", "ile christmas": "CXR", "iles cocos": "CCK", "ile norfolk": "NFK",
    "iles georgie du sud et sandwich du sud": "SGS", "ile bouvet": "BVT",
    "territoire britannique de l ocean indien": "IOT", "micronesie etats federes de": "FSM", "palaos": "PLW",
    "iles salomon": "SLB", "sainte helene ascension et tristan da cunha": "SHN", "iles turks et caicos": "TCA",
    "iles mariannes du nord": "MNP", "iles mineures eloignees des etats unis": "UMI", "timor oriental": "TLS",
    "terres australes francaises": "ATF", "iles falkland": "FLK", "iles cook": "COK",
    "iles vierges des etats unis": "VIR", "saint siege": "VAT", "eswatini": "SWZ", "sint maarten": "SXM",
    "territoire palestinien occupe": "PSE", "cap vert": "CPV", "iles vierges britanniques": "VGB",
    "iles feroe": "FRO", "iles marshall": "MHL", "iles caimans": "CYM", "bielorussie": "BLR",
    "tanzanie republique unie de": "TZA", "congo republique democratique du": "COD",
    "venezuela republique bolivarienne du": "VEN", "bolivie etat plurinational de": "BOL",
    "coree republique populaire democratique de": "PRK", "coree republique de": "KOR",
    "moldavie republique de": "MDA", "iran republique islamique d": "IRN", "russie federation de": "RUS",
    "republique democratique populaire lao": "LAO", "republique arabe syrienne": "SYR", "taiwan": "TWN",
    "macedoine du nord": "MKD", "turquie": "TUR", "etats unis": "USA", "royaume uni": "GBR",
    "soudan": "SDN", "soudan du sud": "SSD", "comores": "COM", "suisse": "CHE",
    "bonaire saint eustache et saba": "BES", "wallis et futuna": "WLF", "tchequie": "CZE",
    "viet nam": "VNM", "yemen": "YEM", "kosovo": "XKX", "tokelaou": "TKL",
    # Eurostat's German names that ISO's German names do not match exactly
    "russland": "RUS", "weissrussland": "BLR", "syrien": "SYR", "iran": "IRN", "laos": "LAO", "moldau": "MDA",
    "vereinigte staaten von amerika": "USA", "korea sud": "KOR", "korea nord": "PRK", "sudkorea": "KOR", "nordkorea": "PRK",
}


@lru_cache(maxsize=1)
def _coco():
    import logging

    import country_converter as coco

    # coco logs every miss as a warning; entrepot reports misses itself, with file and line.
    logging.getLogger("country_converter.country_converter").setLevel(logging.ERROR)

    return coco.CountryConverter()


@lru_cache(maxsize=1)
def historic_codes() -> frozenset[str]:
    """ISO 3166-3 codes of entities that split or merged (ANT, SCG, SUN, YUG, CSK, DDR...), from pycountry."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.historic_countries if c.alpha_3 not in RETIRED_ISO3) - iso3_current()


@lru_cache(maxsize=1)
def iso3_current() -> frozenset[str]:
    """Every current ISO 3166-1 alpha-3 code, from pycountry (plus Kosovo's XKX, used by Comtrade and Eurostat)."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries) | {"XKX"}


@lru_cache(maxsize=1)
def iso3_codes() -> frozenset[str]:
    """Every code of a country: current ISO3 and the ISO 3166-3 codes of historical entities."""
    return iso3_current() | historic_codes()


def is_country(code: str) -> bool:
    return code in iso3_codes()


def is_known(code: str) -> bool:
    """A code entrepot can store: a country's ISO3 or an area of `AREAS`."""
    return code in AREAS or code in iso3_codes()


@lru_cache(maxsize=1)
def _m49() -> dict[int, str]:
    """ISO 3166-1 numeric code (UN M49 for countries) -> ISO3, from pycountry, with the trade sources' own codes
    on top. pycountry rather than coco: the same table, without loading pandas (a BACI ingest needs no names)."""
    import pycountry

    return {int(c.numeric): c.alpha_3 for c in pycountry.countries} | TRADE_NUMERIC


def from_numeric(codes: Iterable[int]) -> dict[int, str | None]:
    """Map Comtrade/BACI/M49 numeric codes to ISO3 or area codes; None where unknown."""
    table = _m49()
    return {int(c): table.get(int(c)) for c in set(codes)}


def numeric_table() -> dict[int, str]:
    """Every numeric code entrepot knows, for joining in SQL."""
    return dict(_m49())


def from_iso3(codes: Iterable[str]) -> dict[str, str | None]:
    """Check alpha-3 codes (any case; retired ones renamed); None where unknown."""
    return {code: _as_code(code) for code in set(codes)}


def _as_code(text: str) -> str | None:
    """`text` when it is itself a code entrepot stores (or a renamed one, or an ISO/Eurostat alpha-2)."""
    up = text.strip().upper()
    up = RETIRED_ISO3.get(up, up)
    if is_known(up):
        return up
    if len(up) == 2 and up.isalpha():
        return _alpha2().get(up)
    return None


@lru_cache(maxsize=1)
def _alpha2() -> dict[str, str]:
    """ISO alpha-2 -> alpha-3, with Eurostat's own EL (Greece), UK (United Kingdom) and XK (Kosovo)."""
    import pycountry

    table = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    return table | {"EL": "GRC", "UK": "GBR", "XK": "XKX"} | {k: k for k in AREAS if len(k) == 2}


def _key(name: str) -> str:
    """A name compared without case, accents, punctuation or extra spaces: 'Côte d’Ivoire' -> 'cote d ivoire'."""
    import unicodedata

    text = "".join(ch for ch in unicodedata.normalize("NFKD", name.replace("ß", "ss")) if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


LANGUAGES = {"en": "English", "fr": "French", "de": "German"}


@lru_cache(maxsize=1)
def _names_by_language() -> dict[str, dict[str, frozenset[str]]]:
    """ISO 3166 names (short, official and common; current and historical) in English, French and
    German (pycountry's translations, each entry through its own catalogue), keyed by `_key`:
    language -> name -> the codes it names in that language."""
    import gettext

    import pycountry

    catalogues = {lang: {d: gettext.translation(d, pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                         for d in ("iso3166-1", "iso3166-3")} for lang in LANGUAGES if lang != "en"}
    entries = [(c.alpha_3, "iso3166-1", c) for c in pycountry.countries] + [
        (RETIRED_ISO3.get(c.alpha_3, c.alpha_3), "iso3166-3", c) for c in pycountry.historic_countries]
    found: dict[str, dict[str, set[str]]] = {lang: {} for lang in LANGUAGES}
    for code, domain, entry in entries:
        for attr in ("name", "official_name", "common_name"):
            if text := getattr(entry, attr, None):
                found["en"].setdefault(_key(text), set()).add(code)
                for lang, by_domain in catalogues.items():
                    found[lang].setdefault(_key(by_domain[domain].gettext(text)), set()).add(code)
    return {lang: {k: frozenset(v) for k, v in names.items()} for lang, names in found.items()}


@lru_cache(maxsize=1)
def _iso_names() -> dict[str, str]:
    """ISO 3166 names in any of the three languages -> code; a name two codes share is left out."""
    found: dict[str, set[str]] = {}
    for names in _names_by_language().values():
        for key, codes in names.items():
            found.setdefault(key, set()).update(codes)
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}


# A trailing qualifier Eurostat writes after a name: "(incl. ...)", "(excl. ...)", "(from 2007)",
# "(depuis 2007)", "(ab 2007)", "(einschl. ...)", "(AT-01/1995, ...)" (a changing composition) or "(AT, BE,
# ...)" (members).
_QUALIFIER = re.compile(r"^(incl|excl|inkl|einschl|ausschl|ohne|including|excluding|from|since|depuis|seit|ab|bis|until|jusqu|ou)\b"
                        r"|^[A-Z]{2}(-\d\d/\d{4}(->\d\d/\d{4})?)?(, [A-Z]{2}(-\d\d/\d{4}(->\d\d/\d{4})?)?)*$"
                        r"|^\d{4}", re.I)


def _split_parenthesis(name: str) -> tuple[str, str] | None:
    """('base', 'inside') for a name ending in a balanced parenthesis group, else None."""
    text = name.strip()
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[:i].strip(" -,"), text[i + 1 : -1].strip()
    return None


def _resolve_plain(name: str) -> str | None:
    """A name without qualifiers, by exact rules only: the trade sources' names, a code, ISO's names."""
    key = _key(name)
    if key in SOURCE_NAMES:
        return SOURCE_NAMES[key]
    if (code := _as_code(name)) is not None:
        return code
    if key in _iso_names():
        return _iso_names()[key]
    return None


def _resolve(name: str) -> str | None:
    """One name by the stated rules (docs/formats.md, "Country names"); None when none applies.

    1. the name as written, by `_resolve_plain`;
    2. a trailing parenthesis: a qualifier (incl./excl./from..., or a member list) is dropped and the
       base name resolved; any other parenthesis is an alias ("Russian Federation (Russia)"): base and
       alias are resolved and must not disagree;
    3. country-converter's patterns, only when exactly one of them matches.
    """
    if (code := _resolve_plain(name)) is not None:
        return code
    if parts := _split_parenthesis(name):
        base, inside = parts
        if _QUALIFIER.search(inside):
            return _resolve(base) if base else None
        codes = {c for c in (_resolve(base), _resolve(inside)) if c is not None}
        return codes.pop() if len(codes) == 1 else None
    if len(name.strip()) <= 3 or any(ch.isdigit() for ch in name):
        return None
    found = _coco().convert([name], to="ISO3", not_found=None, enforce_list=True)[0]
    return found[0] if len(found) == 1 and found[0] in iso3_current() else None


def from_name(names: Iterable[str], extra: dict[str, str] | None = None,
              notes: list[str] | None = None) -> dict[str, str | None]:
    """Map the country or area names of one file column to codes by `_resolve`'s rules, then
    `_in_file_language`'s; `extra` (name -> code, from `--countries FILE`) comes first. None where no
    rule applies: callers list every such name. What the file's language settled is added to `notes`."""
    extra = {_key(k): v for k, v in (extra or {}).items()}
    out = {n: extra.get(_key(n)) or _resolve(n) for n in set(names)}
    return _in_file_language(out, {n for n in out if _key(n) not in extra}, notes if notes is not None else [])


def _exact_languages(name: str) -> frozenset[str]:
    """The languages in which `name` (without a qualifier; with an alias, either part) is a name as
    written: every language for the trade sources' own names and for codes, none for a pattern match."""
    if _key(name) in SOURCE_NAMES or _as_code(name) is not None:
        return frozenset(LANGUAGES)
    langs = frozenset(lang for lang, names in _names_by_language().items() if _key(name) in names)
    if not langs and (parts := _split_parenthesis(name)) and parts[0]:
        base, inside = parts
        return _exact_languages(base) if _QUALIFIER.search(inside) else _exact_languages(base) | _exact_languages(inside)
    return langs


def _in_file_language(codes: dict[str, str | None], by_rule: set[str], notes: list[str]) -> dict[str, str | None]:
    """A file is written in one language, and names each country once. So an exact name in the file's
    language (the one most of its names are written in) keeps its code against any other reading: a
    name that is no name in that language, whose reading in another language (or by pattern) gives a
    country the file already names in its own language, cannot be that country. It is read as the one
    country whose name begins with it ('Guinea' in a French file naming GIN 'Guinée': Guinea-Bissau)
    that the file names no other way, with a note. With no such country, or several, it keeps its
    reading, and two names of one country in one flow stay an error (`Raw.one_name_per_code`)."""
    langs = {n: _exact_languages(n) for n in by_rule if codes[n] is not None}
    tally = Counter(lang for found in langs.values() if found != frozenset(LANGUAGES) for lang in found)
    ranked = tally.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return codes
    language = ranked[0][0]
    own = {codes[n]: n for n in codes if codes[n] is not None and (n not in langs or language in langs[n])}
    for n in sorted(langs):
        if language in langs[n] or codes[n] not in own:
            continue
        prefix = _key(n) + " "
        begins = {c for names in _names_by_language().values() for key, found in names.items()
                  if key.startswith(prefix) for c in found} - set(own) - set(codes.values())
        if len(begins) == 1:
            taken, codes[n] = codes[n], begins.pop()
            notes.append(f"{n!r} read as {codes[n]} ({name(codes[n])}): this {LANGUAGES[language]} file names "
                         f"{taken} {own[taken]!r}, and {codes[n]} is the one country whose name begins with {n!r}")
    return codes


def read_mapping(path: str | Path) -> dict[str, str]:
    """A user's `name,code` CSV (header optional) for names no rule resolves; codes are checked."""
    import csv

    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the country mapping: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        text = path.read_bytes().decode("latin-1")
    out: dict[str, str] = {}
    for n, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not any(f.strip() for f in row) or (n == 1 and [f.strip().lower() for f in row] == ["name", "code"]):
            continue
        if len(row) != 2:
            raise InputError(f"expected name,code, found {len(row)} fields", path=path, line=n)
        code = _as_code(row[1])
        if code is None:
            raise InputError(f"unknown code {row[1].strip()!r} (an ISO3 code or one of entrepot's area codes)", path=path, line=n)
        out[row[0].strip()] = code
    return out


def name(code: str) -> str:
    """A short English name for a code, for tables and charts."""
    if code in AREAS:
        return AREAS[code]
    if code in historic_codes():
        import pycountry

        return pycountry.historic_countries.get(alpha_3=code).name
    found = _coco().convert(code, src="ISO3", to="name_short", not_found=None)
    return found if isinstance(found, str) else code
