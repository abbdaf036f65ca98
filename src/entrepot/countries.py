"""Country codes: ISO 3166 alpha-3 for countries, codes of our own for areas that are not countries.

Conversion from names and UN M49 numbers goes through country-converter (coco). What coco does not
know is the trade-statistics world's own codes: the numeric codes Comtrade and BACI use for a
country together with its territories (842 USA, 251 France, ...), Comtrade's "Other Asia, nes"
(490, which is Taiwan), and the partner areas that are not countries (World, areas n.e.s., bunkers,
free zones, EU aggregates). Those few are listed here by hand, because no library carries them.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

# Areas that are not countries: code -> name. Flows with these partners keep the flag
# `partner_is_country = false` and are never summed into a country.
AREAS: dict[str, str] = {
    "WLD": "World",
    "XNS": "Areas not elsewhere specified",
    "XSC": "Special categories",
    "XBK": "Bunkers",
    "XFZ": "Free zones",
    "EU27": "European Union (27, from 2020)",
    "EU28": "European Union (28, 2013-2020)",
    "EXTRA_EU27": "Extra-EU27 (partners outside the EU)",
    "INTRA_EU27": "Intra-EU27 (partners inside the EU)",
}

# Comtrade/BACI numeric codes that are not M49 country codes (or that coco does not map).
# Sources: UN Comtrade reference table "partnerAreas" and the BACI country_codes file.
TRADE_NUMERIC: dict[int, str] = {
    0: "WLD",
    97: "EU27",
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
}

# Retired ISO 3166 alpha-3 codes that gravity datasets still carry (AGTPA's Romania is ROM).
RETIRED_ISO3: dict[str, str] = {"ROM": "ROU", "ZAR": "COD", "TMP": "TLS"}

# Names used by trade sources for areas (Comtrade, Comext), lower case -> code.
AREA_NAMES: dict[str, str] = {
    "world": "WLD",
    "all partners": "WLD",
    "areas, nes": "XNS",
    "areas nes": "XNS",
    "areas not elsewhere specified": "XNS",
    "other asia, nes": "TWN",
    "other asia, n.e.s.": "TWN",
    "bunkers": "XBK",
    "free zones": "XFZ",
    "special categories": "XSC",
    "european union - 27 countries (from 2020)": "EU27",
    "european union (27)": "EU27",
    "extra-eu27 (from 2020)": "EXTRA_EU27",
    "intra-eu27 (from 2020)": "INTRA_EU27",
    "eu27_2020": "EU27",
    "eu28": "EU28",
    "extra_eu27_2020": "EXTRA_EU27",
    "intra_eu27_2020": "INTRA_EU27",
}


@lru_cache(maxsize=1)
def _coco():
    import logging

    import country_converter as coco

    # coco logs every miss as a warning; entrepot reports misses itself, with file and line.
    logging.getLogger("country_converter.country_converter").setLevel(logging.ERROR)

    return coco.CountryConverter()


@lru_cache(maxsize=1)
def iso3_codes() -> frozenset[str]:
    """Every ISO3 code coco knows (plus Kosovo's XKX, used by Comtrade and Eurostat)."""
    return frozenset(_coco().data["ISO3"].dropna()) | {"XKX"}


def is_country(code: str) -> bool:
    return code in iso3_codes()


def is_known(code: str) -> bool:
    """A code entrepot can store: a country's ISO3 or an area of `AREAS`."""
    return code in AREAS or code in iso3_codes()


@lru_cache(maxsize=1)
def _m49() -> dict[int, str]:
    """coco's UN M49 numeric code -> ISO3 table, with the trade sources' own codes on top."""
    data = _coco().data[["UNcode", "ISO3"]].dropna()
    table = {int(u): iso for u, iso in zip(data["UNcode"], data["ISO3"], strict=True) if str(u).strip().isdigit()}
    return table | TRADE_NUMERIC


def from_numeric(codes: Iterable[int]) -> dict[int, str | None]:
    """Map Comtrade/BACI/M49 numeric codes to ISO3 or area codes; None where unknown."""
    table = _m49()
    return {int(c): table.get(int(c)) for c in set(codes)}


def numeric_table() -> dict[int, str]:
    """Every numeric code entrepot knows, for joining in SQL."""
    return dict(_m49())


def from_iso3(codes: Iterable[str]) -> dict[str, str | None]:
    """Check alpha-3 codes (any case; retired ones renamed); None where unknown."""
    out: dict[str, str | None] = {}
    for code in set(codes):
        up = code.strip().upper()
        up = RETIRED_ISO3.get(up, up)
        out[code] = up if is_known(up) else None
    return out


def from_name(names: Iterable[str]) -> dict[str, str | None]:
    """Map country or area names (any language coco's regexes know) to ISO3 or area codes."""
    names = sorted(set(names))
    out: dict[str, str | None] = {}
    rest = []
    for n in names:
        key = n.strip().lower()
        if key in AREA_NAMES:
            out[n] = AREA_NAMES[key]
        elif n.strip().upper() in AREAS or n.strip().upper() in iso3_codes():
            out[n] = n.strip().upper()
        elif n.strip().upper() in RETIRED_ISO3:
            out[n] = RETIRED_ISO3[n.strip().upper()]
        else:
            rest.append(n)
    if rest:
        found = _coco().convert(rest, to="ISO3", not_found=None)
        if len(rest) == 1:
            found = [found]
        for n, iso in zip(rest, found, strict=True):
            out[n] = iso if isinstance(iso, str) and iso in iso3_codes() else None
    return out


def name(code: str) -> str:
    """A short English name for a code, for tables and charts."""
    if code in AREAS:
        return AREAS[code]
    found = _coco().convert(code, src="ISO3", to="name_short", not_found=None)
    return found if isinstance(found, str) else code
