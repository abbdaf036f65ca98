"""When the routes started: an event study of the flagged routes, period by period.

Each period's excess on both legs, in the product mix of the post-event drop (a fixed intensity, so
the periods before the event are placebos), against the pre-event means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from entrepot.analysis.reroute.data import Data
from entrepot.analysis.reroute.legs import drop_by_product, excess, growth_leg, product_draws, ratio
from entrepot.analysis.window import period_label
from entrepot.store import Store
from entrepot.store import query as q

COLUMNS = {
    "country": "the flagged intermediary", "period": "'2024' or '2024-05'", "phase": "pre, transition or post",
    "leg1_usd": "excess of A -> C in the period, USD", "leg1_ci_low": "95% bootstrap bound", "leg1_ci_high": "95% bootstrap bound",
    "leg2_usd": "excess of C -> B in the period, USD", "leg2_ci_low": "95% bootstrap bound", "leg2_ci_high": "95% bootstrap bound",
}


def event_study(store: Store, data: Data, flagged: list[str], seed: int) -> pd.DataFrame | None:
    """Event study of the flagged routes: each period's excess on both legs, in the product mix of the
    post-event drop (a fixed intensity, so the periods before the event are placebos), against the
    pre-event means; in USD per period with a bootstrap 95% CI, the value fit trimmed (`legs.fit_leg`). The
    transition period is included."""
    if not flagged:
        return None
    window, trade, params = data.window, data.relation.sql, data.relation.params
    periods = list(window.pre_t) + ([window.timing.transition] if window.timing.transition is not None else []) + list(window.post_t)
    sql = f"""
    WITH w AS NOT MATERIALIZED (SELECT e, m, p, t, v FROM ({trade}) WHERE list_contains($periods, t) AND e <> m
                                AND list_contains($products, p))
    SELECT 'a' AS k, m AS c, p, t, sum(v) AS v FROM w WHERE e = $a AND list_contains($flagged, m) GROUP BY ALL
    UNION ALL SELECT 'b', e, p, t, sum(v) FROM w WHERE m = $b AND list_contains($flagged, e) GROUP BY ALL
    UNION ALL SELECT 'r', e, p, t, sum(v) FROM w WHERE m <> $b AND list_contains($flagged, e) GROUP BY ALL
    UNION ALL SELECT 'w', NULL, p, t, sum(v) FROM w WHERE m <> $b AND e <> $a GROUP BY ALL
    """
    rows = q.arrow(store, sql, params | {"periods": periods, "products": data.products, "flagged": flagged})
    P, C, T = len(data.products), len(flagged), len(periods)
    kind = pc.index_in(rows["k"], value_set=pa.array(list("abrw"))).to_numpy(zero_copy_only=False)
    c = pc.index_in(rows["c"], value_set=pa.array(flagged, pa.string())).fill_null(0).to_numpy()
    t = pc.index_in(rows["t"], value_set=pa.array(periods, rows["t"].type)).to_numpy()
    flat = ((kind * T + t) * C + c) * P + pc.index_in(rows["p"], value_set=pa.array(data.products, pa.string())).to_numpy()
    cubes = dict(zip("abrw", np.bincount(flat, rows["v"].to_numpy().astype(float), 4 * T * C * P).reshape(4, T, C, P), strict=True))
    rows_c = [data.countries.index(c) for c in flagged]
    mean = lambda arr: data.mean(arr, [0, 1])  # noqa: E731
    world = ratio(cubes["w"][:, 0], mean(data.world))[:, None, :]  # (T, 1, P)
    drop = drop_by_product(data, data.ab)
    draws = product_draws(P, seed)
    # Every period at once: the fits are row by row (one row a candidate in a period), so periods stack as rows.
    stack = lambda arr: np.broadcast_to(arr, (T, C, P)).reshape(T * C, P)  # noqa: E731
    leg1 = growth_leg(stack(mean(data.ac)[rows_c]), stack(cubes["a"]), stack(world), drop, draws, trim_value=True)
    leg2 = growth_leg(stack(mean(data.cb)[rows_c]), stack(cubes["b"]), stack(ratio(cubes["r"], mean(data.c_rest)[rows_c], world)),
                      drop, draws, trim_value=True)
    phase = ["transition" if t == window.timing.transition else "pre" if t < window.timing.first_post else "post" for t in periods]
    out = pd.DataFrame({"country": flagged * T, "period": np.repeat([period_label(t, window.freq) for t in periods], C),
                        "phase": np.repeat(phase, C), **excess("leg1", leg1, float(drop.sum())), **excess("leg2", leg2, float(drop.sum()))})
    return out.rename(columns={"leg1_excess_usd": "leg1_usd", "leg2_excess_usd": "leg2_usd"})
