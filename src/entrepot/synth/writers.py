"""Write a world in the real formats: BACI CSV (one file per year), Comtrade+ CSV, truth.json, gravity.csv."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from entrepot import countries

COMTRADE_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,flowCode,flowDesc,"
    "partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,classificationCode,"
    "classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,"
    "mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,"
    "isAltQtyEstimated,netWgt,isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,"
    "legacyEstimationFlag,isReported,isAggregate"
).split(",")


def numeric_codes() -> dict[str, int]:
    """ISO3 -> the numeric code Comtrade and BACI use (their own where it differs from M49)."""
    table: dict[str, int] = {}
    for code, iso in sorted(countries.numeric_table().items()):
        table.setdefault(iso, code)
    table.update({iso: code for code, iso in countries.TRADE_NUMERIC.items()})
    return table


def write_world(world, out_dir, comtrade: bool = True) -> dict[str, Path]:
    """Write the world's files; `comtrade=False` skips the (large) monthly Comtrade file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    codes = [c.iso3 for c in world.countries]
    num = numeric_codes()
    code_of = pd.Series([num[c] for c in codes])
    names = pd.Series([c.name for c in world.countries])
    product = pd.Series(world.products["code"])
    paths: dict[str, Path] = {}
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")

    baci = world.baci
    change = (world.truth.get("decoys") or {}).get("hs_change")  # a revision change: HS2022 files and H6 rows after it
    for year, part in baci.groupby("year"):
        frame = pd.DataFrame({
            "t": year, "i": code_of[part["i"]].to_numpy(), "j": code_of[part["j"]].to_numpy(),
            "k": product[part["p"]].to_numpy(), "v": (part["value"] / 1000).round(3).to_numpy(),
            "q": part["tonnes"].round(3).to_numpy(),
        })
        rev = "HS22" if change and year >= change["baci_from"] else "HS17"
        path = out / f"BACI_{rev}_Y{year}_V202401.csv"
        con.register("f", frame)
        con.execute(f"COPY (SELECT * FROM f ORDER BY i, j, k) TO '{path}' (HEADER, NULLSTR 'NA')")
        con.unregister("f")
        paths[f"baci_{year}"] = path

    frames = []
    for flow, desc, view in [] if not comtrade else (("X", "Export", world.exporter_reports), ("M", "Import", world.importer_reports)):
        period = world.months[view["t"].to_numpy()]
        frames.append(pd.DataFrame({
            "typeCode": "C", "freqCode": "M", "refPeriodId": period.strftime("%Y%m01").astype(int), "refYear": period.year,
            "refMonth": period.month, "period": period.strftime("%Y%m"),
            "reporterCode": code_of[view["reporter"]].to_numpy(), "reporterISO": [codes[k] for k in view["reporter"]],
            "reporterDesc": names[view["reporter"]].to_numpy(), "flowCode": flow, "flowDesc": desc,
            "partnerCode": code_of[view["partner"]].to_numpy(), "partnerISO": [codes[k] for k in view["partner"]],
            "partnerDesc": names[view["partner"]].to_numpy(), "partner2Code": 0, "partner2ISO": "W00", "partner2Desc": "World",
            "classificationCode": np.where(period >= pd.Period(change["comtrade_from"], "M"), "H6", "H5") if change else "H5",
            "classificationSearchCode": "HS", "isOriginalClassification": True,
            "cmdCode": product[view["p"]].to_numpy(), "cmdDesc": "", "aggrLevel": 6, "isLeaf": True,
            "customsCode": "C00", "customsDesc": "TOTAL CPC", "mosCode": 0, "motCode": 0, "motDesc": "TOTAL MOT",
            "qtyUnitCode": 8, "qtyUnitAbbr": "kg", "qty": view["kg"].round(1).to_numpy(), "isQtyEstimated": False,
            "altQtyUnitCode": -1, "altQtyUnitAbbr": "N/A", "altQty": np.nan, "isAltQtyEstimated": False,
            "netWgt": view["kg"].round(1).to_numpy(), "isNetWgtEstimated": False, "grossWgt": np.nan, "isGrossWgtEstimated": False,
            "cifvalue": view["value"].round(2).to_numpy() if flow == "M" else np.nan,
            "fobvalue": view["value"].round(2).to_numpy() if flow == "X" else np.nan,
            "primaryValue": view["value"].round(2).to_numpy(), "legacyEstimationFlag": 0, "isReported": True, "isAggregate": False,
        }))
    if frames:  # one file per HS revision, as a download by classification would be
        table = pd.concat(frames, ignore_index=True)[COMTRADE_HEADER]
        for k, (code, part) in enumerate(table.groupby("classificationCode", sort=True)):
            span = f"{part['period'].min()}-{part['period'].max()}"
            path = out / f"comtrade_M_{code}_{span}.csv"
            con.register("c", part)
            con.execute(f"COPY (SELECT * FROM c) TO '{path}' (HEADER)")
            con.unregister("c")
            paths["comtrade" if k == 0 else f"comtrade_{code}"] = path

    gravity_path = out / "gravity.csv"
    world.gravity.to_csv(gravity_path, index=False)
    paths["gravity"] = gravity_path
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(world.truth, indent=1))
    paths["truth"] = truth_path
    return paths


def ingest_world(store, world, out_dir, comtrade: bool = True) -> dict[str, Path]:
    """Write the world's files and ingest the trade files (BACI, Comtrade) through `entrepot ingest`."""
    from entrepot.store.ingest import ingest_file

    paths = write_world(world, out_dir, comtrade)
    for name, path in paths.items():
        if name.startswith(("baci", "comtrade")):
            ingest_file(store, path)
    return paths
