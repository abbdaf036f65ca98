"""The decoy zoo: trade that moves after an embargo without being rerouted (docs/synth.md).

Each class is a field of `Scenario.decoys`; `Zoo` applies them to a world as it is generated, from
its own random stream (the world without decoys is the same world), and records what it did in
`truth["decoys"]`. Decoy countries are drawn among the countries that are not the case's (pair,
routes, relabelling country, further embargoes) and report to Comtrade like the routes do.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from entrepot import concordance, hs

HUB_SCALE = 6.0  # a hub's gravity term, times this: large flows both ways before the event
CLASSES = ("outside_boom", "demand_boom", "diversion", "deflection", "price_shock")  # the classes that pick countries


def _after(date: dt.date | None, months: pd.PeriodIndex) -> np.ndarray:
    from entrepot.synth.world import month_fraction_after

    return np.zeros(len(months)) if date is None else month_fraction_after(date, months)


class Zoo:
    """The decoys of one world: who they are, and the changes they make to flows and reports."""

    def __init__(self, scn, codes: list[str], product_codes: list[str], months: pd.PeriodIndex) -> None:
        self.d = scn.decoys
        self.months = months
        self.rng = np.random.default_rng([scn.seed, 19])
        self.codes = codes
        self.product_codes = product_codes  # the world's list (a revision change replaces a few in place)
        self.pos = {c: k for k, c in enumerate(codes)}
        self.event = scn.embargo_date
        self.post = _after(scn.embargo_date, months)
        focus = set(scn.focus)
        pool = [c for c in codes if c not in focus]
        picked = self.rng.permutation(pool).tolist()
        self.who: dict[str, list[str]] = {}
        for name in CLASSES[:-1]:
            want = getattr(self.d, name)
            self.who[name], picked = picked[:want], picked[want:]
        self.who["price_shock"], self._rest = [], picked  # chosen in move_flows, among those trading both legs
        self.who["route_boom"] = [r.via for r in scn.routes][: self.d.route_boom]  # routes, not decoys: no country of their own
        self.hubs = scn.hubs()
        self.truth: dict[str, Any] = {"classes": self.d.active, "strengths": self.d.strengths}
        if self.d.second_event and not (months[0] < pd.Period(self.d.second_event, "M") <= months[-1]):
            from entrepot.errors import InputError

            raise InputError(f"the second event {self.d.second_event} must fall inside {months[0]}..{months[-1]}")
        self.extra_codes: list[str] = []
        self.extra_of: list[int] = []  # the world product each extra code copies its unit value from
        self.sibling: dict[int, int] = {}
        self.split: dict[int, list[tuple[int, float]]] = {}  # product -> [(new product, share)] after the change
        self.change_t: int | None = None
        if self.d.hs_relabel > 0:
            self._pick_siblings(product_codes)
        if self.d.hs_change:
            self._pick_revisions(product_codes, scn.concordance)

    @property
    def countries(self) -> list[str]:
        """Every decoy country (they report to Comtrade)."""
        return [c for name in CLASSES for c in self.who[name]] + self.hubs

    # --- the physical world ----------------------------------------------------------------------

    def hub_cells(self, exists: np.ndarray, expected: np.ndarray, threshold: float) -> None:
        """Hubs trade most products with everyone, at HUB_SCALE times their gravity term."""
        n, _, P = exists.shape
        for c in self.hubs:
            h = self.pos[c]
            for cells, ex in ((exists[h], expected[h]), (exists[:, h], expected[:, h])):
                cells |= self.rng.random((n, P)) < 0.7
                ex *= HUB_SCALE
                ex[ex == 0] = threshold * 0.1  # a cell the gravity draw left empty still trades a little
            exists[h, h] = False
            expected[h, h] = 0.0
        self.truth["hubs"] = [{"country": c, "scale": HUB_SCALE} for c in self.hubs]

    def move_flows(self, flows, markup, i, j, p, A, B) -> None:
        """Demand booms, hubs growing, routes' general booms and price shocks: existing flows change after the event."""
        post = self.post[:, None]
        basket = np.isin(p, self._focus(flows, i, j, p, A, B))
        booms = []
        for c in self.who["demand_boom"]:
            sel = (j == self.pos[c]) & basket
            g = float(self.rng.uniform(*self.d.demand_growth))
            booms.append(self._grow(flows, sel, post, g) | {"country": c, "growth": g, "products": "the basket, from every origin"})
        self.truth["demand_boom"] = booms
        for hub in self.truth.get("hubs", []):
            h = self.pos[hub["country"]]
            g = float(self.rng.uniform(*self.d.hub_growth))
            hub |= self._grow(flows, (i == h) | (j == h), post, g) | {"growth": g}
            if self.d.hub_basket_growth:  # its entrepôt trade in the basket's goods, from and to everyone
                extra = self._grow(flows, ((i == h) | (j == h)) & basket, post, self.d.hub_basket_growth / (1 + g))
                hub |= {"basket_growth": self.d.hub_basket_growth, "added_value_usd": hub["added_value_usd"] + extra["added_value_usd"]}
        general = []
        for c in self.who["route_boom"]:  # a general boom of a route's trade with A and B, every product (the basket's too)
            k = self.pos[c]
            g = float(self.rng.uniform(*self.d.route_boom_growth))
            general.append(self._grow(flows, ((i == A) & (j == k)) | ((i == k) & (j == B)), post, g) | {"country": c, "growth": g})
        self.truth["route_boom"] = general
        shocks = []
        both = [c for c in self._rest if ((i == A) & (j == self.pos[c])).any() and ((i == self.pos[c]) & (j == B)).any()]
        self.who["price_shock"] = both[: self.d.price_shock]
        for c in self.who["price_shock"]:
            k = self.pos[c]
            sel = (((i == A) & (j == k)) | ((i == k) & (j == B))) & basket  # the basket's prices: the hostile case
            s = float(self.rng.uniform(*self.d.price_rise))
            shocks.append(self._grow(flows, sel, post, s) | {"country": c, "price_rise": s, "quantity_change": 0.0})
            markup[:, sel] = (1 + markup[:, sel]) * (1 + s * post) - 1
        self.truth["price_shock"] = shocks

    def _focus(self, flows, i, j, p, A, B) -> np.ndarray:
        """The basket's products that demand booms, hubs' basket growth and price shocks hit: the largest
        A -> B flows carrying `basket_focus` of the pair's trade (all of them at 1)."""
        pair = (i == A) & (j == B)
        by = pd.Series(flows[:, pair].sum(axis=0), index=p[pair]).groupby(level=0).sum().sort_values(ascending=False)
        if self.d.basket_focus >= 1:
            return by.index.to_numpy()
        share = by.cumsum() / by.sum()
        chosen = by.index[(share.shift(fill_value=0.0) < self.d.basket_focus).to_numpy()].to_numpy()
        self.truth["basket_focus"] = {"share": self.d.basket_focus, "products": sorted(self.product_codes[k] for k in chosen)}
        return chosen

    def _grow(self, flows, sel, post, g) -> dict[str, float]:
        before = flows[:, sel].sum()
        flows[:, sel] *= 1 + g * post
        return {"added_value_usd": float(flows[:, sel].sum() - before)}

    def new_flows(self, flows, i, j, p, A, B, usd_per_kg) -> pd.DataFrame | None:
        """Both-legs booms: new flows A -> C and C -> B in up to 6 products A does not sell B and, by default, 2 of
        the basket's; with `boom_in_basket`, that share of them spread over the basket in the pair's mix (a general
        boom lifts what B bought too)."""
        T, P = len(self.months), len(usd_per_kg)
        pair = (i == A) & (j == B)
        in_basket = np.isin(np.arange(P), p[pair])
        outside = np.nonzero(~in_basket)[0]
        if len(outside) < 3:  # the pair trades (nearly) everything: its third smallest products instead
            by_value = pd.Series(flows[:, pair].sum(axis=0), index=p[pair]).groupby(level=0).sum().sort_values()
            outside = by_value.index[: max(3, P // 3)].to_numpy()
        first = pd.Period(self.event, "M")
        before = (self.months < first) & (self.months >= first - 12)
        yearly = flows[before][:, pair].sum()
        mix = pd.Series(flows[before][:, pair].sum(axis=0), index=p[pair]).groupby(level=0).sum()
        inside = mix.index[(mix > 0) & ~np.isin(mix.index, outside)].to_numpy()
        rows, truth = [], []
        for c in self.who["outside_boom"]:
            k = self.pos[c]
            out = self.rng.choice(outside, min(len(outside), 6), replace=False)
            if self.d.boom_in_basket is None:  # two of the basket's products among eight, random weights (about a quarter)
                traded = np.nonzero(in_basket)[0]
                prods = np.concatenate([out, self.rng.choice(traded, min(len(traded), 2), replace=False)]) if len(traded) else out
                split = self.rng.dirichlet(np.ones(len(prods)))
                share = float(split[len(out):].sum())
            else:
                share = self.d.boom_in_basket if len(inside) else 0.0
                prods = np.concatenate([out, inside])
                split = np.concatenate([self.rng.dirichlet(np.ones(len(out))) * (1 - share), mix[inside].to_numpy() / mix[inside].sum() * share])
            value = self.d.boom_size * yearly / 12 * self.post[:, None] * split[None, :]
            t = np.repeat(np.arange(T), len(prods))
            q = np.tile(prods, T)
            for a, b in ((A, k), (k, B)):
                rows.append(pd.DataFrame({"t": t, "i": a, "j_decl": b, "j": b, "p": q, "value": value.ravel(), "markup": 0.0}))
            truth.append({"country": c, "added_value_usd_each_leg": float(value.sum()),
                          "products": sorted(self.product_codes[x] for x in prods),
                          "in_basket": sorted(self.product_codes[x] for x in prods[len(out):]),
                          "basket_value_share": share})
        self.truth["outside_boom"] = truth
        return pd.concat(rows, ignore_index=True) if rows else None

    def diversion_rows(self, stopped: np.ndarray, prods: np.ndarray, A: int, B: int) -> pd.DataFrame | None:
        """Trade diversion: suppliers that make the goods sell B `diversion_size` of what the embargo stopped,
        product by product and month by month (leg 2 only). Deflection and diversion: A also sells the
        country as much of the same goods, which it keeps (both legs, no good passing through)."""
        T, K = stopped.shape
        v = (stopped * self.d.diversion_size).ravel()
        t, q = np.repeat(np.arange(T), K), np.tile(prods, T)
        rows = []
        for name in ("diversion", "deflection"):
            truth = []
            for c in self.who[name]:
                legs = [(self.pos[c], B)] + ([(A, self.pos[c])] if name == "deflection" else [])
                rows += [pd.DataFrame({"t": t, "i": a, "j_decl": b, "j": b, "p": q, "value": v, "markup": 0.0}) for a, b in legs]
                truth.append({"country": c, "share_of_stopped": self.d.diversion_size, "added_value_usd_each_leg": float(v.sum())})
            self.truth[name] = truth
        return pd.concat(rows, ignore_index=True) if rows else None

    def lifted(self, months: pd.PeriodIndex) -> np.ndarray:
        """Share of the embargo lifted in each month (the second event)."""
        if self.d.second_event is None:
            return np.zeros(len(months))
        self.truth["second_event"] = {"date": self.d.second_event.isoformat(), "lifted_share": self.d.second_event_share}
        return _after(self.d.second_event, months) * self.d.second_event_share

    def onset(self, months: pd.PeriodIndex, date: dt.date) -> np.ndarray:
        """Routes' build-up: 1 throughout without gradual onset, else a linear ramp over onset_months."""
        if self.d.onset_months <= 0:
            return np.ones(len(months))
        self.truth["onset_months"] = self.d.onset_months
        since = (months - pd.Period(date, "M")).map(lambda x: x.n).to_numpy()
        return np.clip((since + 1) / self.d.onset_months, 0.0, 1.0)

    # --- HS codes: relabelled second legs and a revision change ---------------------------------

    def _extra(self, code: str, like: int, n_products: int) -> int:
        self.extra_codes.append(code)
        self.extra_of.append(like)
        return n_products + len(self.extra_codes) - 1

    def _pick_siblings(self, product_codes: list[str]) -> None:
        taken = set(product_codes)
        by_heading: dict[str, list[str]] = {}
        for code in hs.subheadings():
            by_heading.setdefault(code[:4], []).append(code)
        for k, code in enumerate(product_codes):
            others = [c for c in by_heading.get(code[:4], []) if c not in taken]
            if others:
                sib = str(self.rng.choice(others))
                taken.add(sib)
                self.sibling[k] = self._extra(sib, k, len(product_codes))
        self.truth["hs_relabel"] = {"share": self.d.hs_relabel,
                                    "codes": {product_codes[k]: self.extra_codes[v - len(product_codes)] for k, v in self.sibling.items()}}

    def relabel_hs(self, leg2: pd.DataFrame, via: str) -> pd.DataFrame:
        """Declare a share of a route's second leg under a neighbouring HS6 of the same HS4."""
        if self.d.hs_relabel <= 0 or leg2.empty:
            return leg2
        moved = leg2[leg2["p"].isin(list(self.sibling))].copy()
        moved["value"] *= self.d.hs_relabel
        moved["p"] = moved["p"].map(self.sibling)
        kept = leg2.copy()
        kept.loc[kept["p"].isin(list(self.sibling)), "value"] *= 1 - self.d.hs_relabel
        return pd.concat([kept, moved], ignore_index=True)

    def _pick_revisions(self, product_codes: list[str], concordance: str | None) -> None:
        """Replace some products by HS2017 codes that HS2022 split or merged; after the change they are recoded."""
        splits, merges, source = _revisions(concordance)
        n = len(product_codes)
        slots = [int(k) for k in self.rng.permutation(n)]
        taken = set(product_codes) | set(self.extra_codes)  # the relabelling siblings too: no code twice
        changes = []
        want = max(2, n // 6)
        pick_s = [s for s in self.rng.permutation(len(splits))][: (want + 1) // 2]
        for s in pick_s:
            parent, children = splits[s]
            if parent in taken or any(c in taken for c in children) or not slots:
                continue
            k = slots.pop()
            product_codes[k] = parent
            taken |= {parent, *children}
            shares = self.rng.dirichlet(np.ones(len(children)))
            self.split[k] = [(self._extra(c, k, n), float(w)) for c, w in zip(children, shares, strict=True)]
            changes.append({"kind": "split", "hs17": [parent], "hs22": list(children), "shares": [float(w) for w in shares]})
        for m in [m for m in self.rng.permutation(len(merges))][: want // 2]:
            parents, child = merges[m]
            if child in taken or any(c in taken for c in parents) or len(slots) < len(parents):
                continue
            new = self._extra(child, -1, n)
            ks = [slots.pop() for _ in parents]
            for k, parent in zip(ks, parents, strict=True):
                product_codes[k] = parent
                self.split[k] = [(new, 1.0)]
            self.extra_of[new - n] = ks[0]
            taken |= {child, *parents}
            changes.append({"kind": "merge", "hs17": list(parents), "hs22": [child]})
        when = pd.Period(self.d.hs_change, "M")
        self.change_t = int((when - self.months[0]).n)
        self.truth["hs_change"] = {"comtrade_from": str(when), "baci_from": when.year if when.month == 1 else when.year + 1,
                                   "source": source, "changes": changes}

    def recode(self, view: pd.DataFrame, after: np.ndarray) -> pd.DataFrame:
        """Rows marked `after` of a changed product go under its HS2022 code(s), value and weight split."""
        if not self.split:
            return view
        hit = after & view["p"].isin(list(self.split)).to_numpy()
        if not hit.any():
            return view
        parts = [view[~hit]]
        changed = view[hit]
        width = max(len(v) for v in self.split.values())
        for slot in range(width):
            target = {k: v[slot] for k, v in self.split.items() if len(v) > slot}
            part = changed[changed["p"].isin(list(target))].copy()
            share = part["p"].map(lambda k, t=target: t[k][1]).to_numpy()
            for col in ("value", "kg", "tonnes"):
                if col in part:
                    part[col] = part[col] * share
            part["p"] = part["p"].map(lambda k, t=target: t[k][0])
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        key = [c for c in out.columns if c not in ("value", "kg", "tonnes")]
        return out.groupby(key, as_index=False, dropna=False).sum(min_count=1)

    def siblings_table(self, product_codes, usd_per_kg, weight):
        """The product table with the extra codes (siblings, HS2022 children) appended."""
        if not self.extra_codes:
            return product_codes, usd_per_kg, weight
        like = np.array(self.extra_of)
        return (list(product_codes) + self.extra_codes, np.concatenate([usd_per_kg, usd_per_kg[like]]),
                np.concatenate([weight, np.zeros(len(like))]))

    # --- the reporting layer -----------------------------------------------------------------------

    def pick_gaps(self, reporters: list[int], exclude: set[int]) -> list[dict[str, Any]]:
        """Missing reports: whole reporter-years (even gaps) and runs of 2-6 months (odd ones)."""
        pool = [r for r in reporters if r not in exclude]
        gaps = []
        T = len(self.months)
        years = sorted(set(self.months.year))
        for g in range(min(self.d.gaps, len(pool) * 2)):
            who = int(self.rng.choice(pool))
            if g % 2 == 0:
                year = int(self.rng.choice(years))
                ts = [t for t in range(T) if self.months[t].year == year]
                gaps.append({"country": self.codes[who], "reporter": who, "year": year, "months": ts})
            else:
                run = int(self.rng.integers(2, 7))
                t0 = int(self.rng.integers(0, T - run))
                gaps.append({"country": self.codes[who], "reporter": who, "year": None, "months": list(range(t0, t0 + run))})
        self.truth["gaps"] = [{"country": x["country"], "year": x["year"],
                               "months": [str(self.months[t]) for t in x["months"]]} for x in gaps]
        return gaps


def _concordance_dir(explicit: str | None) -> Path | None:
    """The directory of UNSD's workbooks: the scenario's, $ENTREPOT_CONCORDANCE, $ENTREPOT_SHARED/concordance."""
    for cand in (explicit, os.environ.get("ENTREPOT_CONCORDANCE"),
                 os.environ.get("ENTREPOT_SHARED") and str(Path(os.environ["ENTREPOT_SHARED"]) / "concordance")):
        if cand and (Path(cand) / concordance.table_name("HS22", "HS17")).exists():
            return Path(cand)
    return None


def _revisions(explicit: str | None) -> tuple[list, list, str]:
    """(splits [(hs17, (hs22, ...))], merges [((hs17, ...), hs22)], source) from UNSD's table or the fallback."""
    return _revisions_in(_concordance_dir(explicit))  # found anew each time: the environment may have changed


@lru_cache(maxsize=4)
def _revisions_in(where: Path | None) -> tuple[list, list, str]:
    if where is None:
        return FALLBACK_REVISIONS[0], FALLBACK_REVISIONS[1], "fallback (UNSD table not found): synth/decoys.py FALLBACK_REVISIONS"
    links = concordance.load_table("HS22", "HS17", where, download=False).links
    splits = [(k, tuple(sorted(g.new))) for k, g in links[links.relationship == "n:1"].groupby("old") if g.new.nunique() > 1]
    merges = [(tuple(sorted(g.old)), k) for k, g in links[links.relationship == "1:n"].groupby("new") if g.old.nunique() > 1]
    return splits, merges, f"UNSD {where.name}/{concordance.table_name('HS22', 'HS17')} (Correlations)"


# Real HS2017 -> HS2022 changes (a sample of UNSD's HS2022toHS2017 correlation table: relationship
# n:1 is an HS2017 code split, 1:n codes merged), used when the table is not found.
FALLBACK_REVISIONS = (
    [("293971", ("293945", "293972")), ("870490", ("870460", "870490")), ("210690", ("210690", "240491")),
     ("441294", ("441251", "441252", "441259")), ("293339", ("293334", "293335", "293336", "293337", "293339")),
     ("851410", ("851411", "851419")), ("842890", ("842870", "842890")), ("846390", ("846390", "848510"))],
    [(("620213", "620293"), "620240"), (("620113", "620193"), "620140"), (("580211", "580219"), "580210"),
     (("251830", "381600"), "381600")],
)
