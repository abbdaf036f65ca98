"""Write a world in the real formats: BACI CSV per year, Comtrade+ CSV (annual and monthly), truth.json, gravity.csv."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

COMTRADE_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,flowCode,flowDesc,"
    "partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,classificationCode,"
    "classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,"
    "mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,"
    "isAltQtyEstimated,netWgt,isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,"
    "legacyEstimationFlag,isReported,isAggregate"
).split(",")


def write_world(world, out_dir) -> dict[str, Path]:
    """Write every file of `world` into `out_dir`; returns {name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    paths.update(write_baci(world, out))
    scn = world.scenario
    rng = np.random.default_rng(scn.seed + 1)  # reporting noise has its own stream
    if scn.frequency in ("A", "both"):
        rows = world.annual[world.annual["year"] >= scn.detail_from]
        paths["comtrade_annual"] = write_comtrade(world, rows, out / "comtrade_annual.csv", rng)
    if scn.frequency in ("M", "both"):
        rows = world.monthly[world.monthly["year"] >= scn.detail_from]
        paths["comtrade_monthly"] = write_comtrade(world, rows, out / "comtrade_monthly.csv", rng)
    paths["truth"] = out / "truth.json"
    paths["truth"].write_text(json.dumps(world.truth, indent=1))
    paths["gravity"] = out / "gravity.csv"
    write_csv(world.gravity, paths["gravity"])
    return paths


def write_baci(world, out: Path) -> dict[str, Path]:
    """BACI: exporters' declared FOB values in thousands of USD, quantities in tonnes, one file per year."""
    a = world.annual
    m49 = world.countries["m49"].to_numpy()
    hs6 = world.products["hs6"].to_numpy()
    uv = world.products["unit_value"].to_numpy()
    paths = {}
    for year, rows in a.groupby("year"):
        frame = pd.DataFrame(
            {
                "t": year,
                "i": m49[rows["i"]],
                "j": m49[rows["j"]],
                "k": hs6[rows["k"]],
                "v": (rows["declared"] / 1e3).round(3),
                "q": (rows["declared"] / uv[rows["k"]] / 1e3).round(3),
            }
        )
        frame = frame[frame["v"] > 0]
        path = out / f"BACI_HS17_Y{year}_V202401.csv"
        write_csv(frame, path)
        paths[f"baci_{year}"] = path
    return paths


def write_comtrade(world, rows: pd.DataFrame, path: Path, rng: np.random.Generator) -> Path:
    """Comtrade+ CSV: each scenario country's exports (FOB, declared destination) and imports (CIF, origin)."""
    scn = world.scenario
    ctry = world.countries
    iso, m49, names = ctry["iso3"].to_numpy(), ctry["m49"].to_numpy(), ctry["name"].to_numpy()
    reporters = np.flatnonzero(np.isin(iso, scn.countries) & ~np.isin(iso, scn.non_reporters))
    i, j, k = rows["i"].to_numpy(), rows["j"].to_numpy(), rows["k"].to_numpy()
    ex = np.isin(i, reporters)
    im = np.isin(j, reporters)
    cif = world.cif[i[im], j[im]]
    imports = rows["origin"].to_numpy()[im] * (1 + cif) + rows["extra"].to_numpy()[im]
    rep = np.concatenate([i[ex], j[im]])
    par = np.concatenate([j[ex], i[im]])
    flow = np.array(["X"] * int(ex.sum()) + ["M"] * int(im.sum()))
    value = np.concatenate([rows["declared"].to_numpy()[ex], imports])
    value = value * np.exp(rng.normal(0, scn.noise_sd, len(value)))
    kk = np.concatenate([k[ex], k[im]])
    year = np.concatenate([rows["year"].to_numpy()[ex], rows["year"].to_numpy()[im]])
    monthly = "month" in rows
    month = np.concatenate([rows["month"].to_numpy()[ex], rows["month"].to_numpy()[im]]) if monthly else None
    keep = (rng.random(len(value)) >= scn.suppressed_share) & (value >= 1.0)
    uv = world.products["unit_value"].to_numpy()[kk] * np.exp(rng.normal(0, 0.1, len(value)))
    kg = np.round(value / uv)
    value = np.round(value, 0)
    period = (year * 100 + month).astype(str) if monthly else year.astype(str)
    ref_id = (year * 10000 + (month if monthly else 1) * 100 + 1).astype(str)
    frame = pd.DataFrame(
        {
            "typeCode": "C",
            "freqCode": "M" if monthly else "A",
            "refPeriodId": ref_id,
            "refYear": year,
            "refMonth": month if monthly else 52,
            "period": period,
            "reporterCode": m49[rep],
            "reporterISO": iso[rep],
            "reporterDesc": names[rep],
            "flowCode": flow,
            "flowDesc": np.where(flow == "X", "Export", "Import"),
            "partnerCode": m49[par],
            "partnerISO": iso[par],
            "partnerDesc": names[par],
            "partner2Code": 0,
            "partner2ISO": "W00",
            "partner2Desc": "World",
            "classificationCode": "H5",
            "classificationSearchCode": "HS",
            "isOriginalClassification": True,
            "cmdCode": world.products["hs6"].to_numpy()[kk],
            "cmdDesc": "",
            "aggrLevel": 6,
            "isLeaf": True,
            "customsCode": "C00",
            "customsDesc": "TOTAL CPC",
            "mosCode": "0",
            "motCode": 0,
            "motDesc": "TOTAL MOT",
            "qtyUnitCode": 8,
            "qtyUnitAbbr": "kg",
            "qty": kg,
            "isQtyEstimated": False,
            "altQtyUnitCode": 8,
            "altQtyUnitAbbr": "kg",
            "altQty": kg,
            "isAltQtyEstimated": False,
            "netWgt": kg,
            "isNetWgtEstimated": False,
            "grossWgt": "",
            "isGrossWgtEstimated": False,
            "cifvalue": np.where(flow == "M", value, np.nan),
            "fobvalue": np.where(flow == "X", value, np.nan),
            "primaryValue": value,
            "legacyEstimationFlag": 0,
            "isReported": True,
            "isAggregate": False,
        }
    )[keep]
    write_csv(frame[COMTRADE_HEADER], path, quote_text=True)  # text quoted, as the Comtrade+ site's CSV
    return path


def write_csv(frame: pd.DataFrame, path: Path, quote_text: bool = False) -> None:
    """Fast CSV through pyarrow; unquoted (BACI, gravity: numbers and codes) or with text quoted."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if quote_text:
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
        return
    with path.open("wb") as fh:
        fh.write((",".join(frame.columns) + "\n").encode())
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
