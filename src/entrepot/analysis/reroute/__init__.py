"""Where did the embargoed trade go? Rank third countries by evidence of rerouting A -> C -> B.

Rerouted goods carry the embargoed basket's product mix: what C buys extra from A, and sells extra
to B, is the product mix of A's lost sales to B. Ordinary growth of a country pair carries the
pair's own mix instead. So each leg is a product-level difference-in-differences with the drop as
treatment intensity. For a candidate C and each product p (means per period, after vs before):

    after_cp - x_cp = tau_c * x_cp + beta_c * d_p + e_cp,    x_cp = before_cp * growth_cp

- leg 1 is A -> C, with growth_cp the world's growth in product p (everyone but A, to everyone
  but B: A's own sales elsewhere carry the rerouted goods when B was a big market of A's);
- leg 2 is C -> B, with growth_cp the growth of C's exports of p to everyone but B;
- d_p is A -> B's drop in product p: its counterfactual (before times the world's growth) minus
  what was still shipped;
- tau_c absorbs the pair's own growth in its own mix; beta_c is the share of the drop that shows up
  on the leg.

Each leg is fitted twice by weighted least squares. The test weighs products by 1 / (x + d)^2:
trade noise is multiplicative, so each product counts by its relative change, as in a log-linear
model, and a product C never bought from A counts fully. The value weighs them by
1 / ((x + d)(x + mean d)): for products C never bought (x = 0) that is 1 / d, the Poisson (PPML)
weight, so the share is a ratio of sums rather than a mean of ratios, which products whose drop is
under-measured (a flow absent in one pre-event year) inflate; for C's big existing flows it is
1 / x^2 again, since their noise grows with them. In both, products weigh as if worth at least 1%
of the leg's mean product (a few dollars cannot set tau). The test's fit then takes two Huber
reweighting steps, which discount products whose flow jumps on its own (small flows come and go
from year to year); the value's does not, since trimming products breaks the matching of sums.
Standard errors are heteroskedasticity-robust (sandwich, over products), so the weights need not
be right for the test to hold.

Each leg's z = beta / se of the test fit is judged against the cross-section of candidates (their
median and robust spread, at least the standard normal), since most countries reroute nothing. A
country is flagged when both legs show excess (p = max of the two legs' p-values, an
intersection-union test) and it passes Holm's procedure over all candidates, which keeps the chance
of flagging any innocent country below `alpha`, and carries at least `min_share` of the drop (0.1%
by default: a materiality floor, not an error control). The rerouted value through C is the value
fit's beta times the drop, from both legs weighted by their precision (leg 2 at A's FOB prices: net
of the unit-value markup between the legs and, on B's CIF records, of B's CIF/FOB factor with C); its
confidence interval comes from a bootstrap over products.
A placebo runs the same test between the two halves of the pre-event window (a pre-trend check).

In the value's fit tau is the pair's own trend outside the basket (shrunk towards the world's growth
where the pair trades little there), then beta given it (`legs.trend`): where C's mix is A's, a joint
fit splits a route between tau and beta.

Goods declared on a leg under a neighbouring HS6 code are matched within their HS4 heading: each
code A -> B did not trade, in a heading that holds basket codes, joins the heading's basket code with
the largest drop before the fits (`routes.headings`); so are the old and new codes of an HS revision
inside the window (`routes.revisions`).

Decoys (trade that moves without rerouting) are held back by their own evidence (`routes`): the
same test on the products outside the basket and the share of C's excess inside it (a general boom),
the test in tonnes (a price shock), C's imports of the basket from everyone else (its own demand);
each is a column, and `reason` says why a candidate was or was not flagged.

Relabelling (goods A declares to C that land in B) is tested on both sides' declared reports: the
same fit on the flow A declares to C but C does not record, against A's declared drop to B; its
value combines that exporter side with what B records from A beyond A's declarations, when they agree
(`relabelling`; docs/methods.md).

The package, in the order a scan runs: `data` (the flows read, immutable arrays), `legs` (the
product-level fits), `routes` (the test and the values), `relabelling`, `timing` (the event study)
and `result` (`RerouteResult`); the statistics shared with `effect` are in `analysis.stats`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from threadpoolctl import threadpool_limits

from entrepot import options
from entrepot.analysis.reroute.data import Data, read
from entrepot.analysis.reroute.legs import MIN_PRODUCTS
from entrepot.analysis.reroute.relabelling import Relabelling, find_relabelling
from entrepot.analysis.reroute.result import RerouteResult
from entrepot.analysis.reroute.routes import find_routes
from entrepot.analysis.reroute.timing import event_study
from entrepot.basket import Basket, load_basket
from entrepot.errors import InputError
from entrepot.groups import Group
from entrepot.groups import resolve as resolve_group
from entrepot.options import Source
from entrepot.store import Store
from entrepot.store import query as q

if TYPE_CHECKING:
    from entrepot.analysis.first_leg import FirstLegResult

MIN_SHARE = 0.001  # by default an intermediary must carry at least 0.1% of the drop to be flagged

__all__ = ["MIN_SHARE", "Relabelling", "RerouteResult", "reroute", "scan"]


@q.reads_store
def scan(store: Store, exporter: str, importer: str, event: str | dt.date, candidates: list[str] | None = None,
         alpha: float = 0.05, both: bool = False, seed: int = 0, source: Source = "auto",
         min_share: float | None = None, *, basket: Basket | str | Path | None = None, currency: str = "USD",
         groups: dict[str, Group] | None = None, concordance: str | Path | None = None,
         product: str | None = None) -> RerouteResult | FirstLegResult:
    """Rank every candidate intermediary of A -> B trade after `event` (`both`: and of B -> A).

    Parameters
    ----------
    store : Store or path
        The store to read.
    exporter, importer : str
        ISO 3166 alpha-3 codes of A and B.
    event : str or date
        The event's date.
    candidates : list of str, optional
        The countries to test; every country trading with A or B when omitted.
    alpha : float
        Family-wise error rate of the flags (Holm's procedure over the candidates).
    both : bool
        Also scan B -> A (`reverse`).
    seed : int
        Seed of the bootstrap over products.
    source : {"auto", "baci", "reported"}
        BACI's reconciled annual flows or the declared reports; "auto" by the one rule (`options.data`):
        the declarations (monthly where both sides declare months around the event) when both sides of
        the pair declare it by product, else BACI.
    min_share : float, optional
        The smallest share of the stopped flow a flagged route or relabelling must carry (default
        MIN_SHARE, 0.1%: a materiality floor, not an error control).
    basket : Basket or path, optional
        Products (CN8/HS codes) to rank on against the rest of trade. Where the store has the second
        leg (flows from the candidates to B), both legs are tested on the basket's products (the
        drop is the basket's; the products outside it set each pair's own growth and hold the
        decoy tests); where it does not, candidates are ranked on the first leg
        (`entrepot.analysis.first_leg`), and the result says the second leg is unobserved. An
        exporter may be a group (EU27, or one of `groups`): its members by date, their trade among
        themselves left out; without the second leg it is ranked on the first, and needs a basket.
    currency : {"USD", "EUR"}
        The first-leg result's currency (exact where the source reported in it); the two-leg test reads USD.
    groups : dict, optional
        Groups of countries a case defines (`Case.groups`), usable as exporter and candidates.
    concordance : path, optional
        The UNSD HS correlation table (or its folder) for a window across an HS revision.
    product : str, optional
        An HS2, HS4 or HS6 code (dots allowed): the scan reads only it and its sub-codes (the drop, both
        legs, the decoy tests and relabelling; the embargoed basket is then what A -> B lost under it).
        With a basket, the basket's codes under it; on the first leg without one, a basket of that code.
    """
    code = options.product(product)
    chosen = basket if basket is None or isinstance(basket, Basket) else load_basket(basket)
    chosen = chosen if chosen is None or code is None else chosen.within(code)
    a = options.side(exporter, "exporter", groups)
    if chosen is not None or resolve_group(a, groups) is not None:
        from entrepot.analysis.first_leg import first_leg, has_second_leg

        members = _members(candidates, groups)
        if not has_second_leg(store, str(importer).strip().upper(), members, a, groups):
            if chosen is None and code is None:
                raise InputError(f"the store has no flows from the candidates to {importer}: a group as exporter ({a}) is then "
                                 "ranked on the first leg, against the rest of trade, which needs a basket of products",
                                 parameter="basket")
            return first_leg(store, exporter, importer, event, list(candidates or []), chosen or Basket((code,), f"HS {code}"),
                             currency=currency, defined=groups, concordance_path=concordance, alpha=alpha,
                             min_share=MIN_SHARE if min_share is None else min_share, seed=seed)
        candidates = members
    b = options.country(importer, "importer")
    when = options.event(event)
    cands = options.country_list(candidates, "candidates") or None
    options.choice(source, options.SOURCES, "source")
    min_share = options.share(MIN_SHARE if min_share is None else min_share, "min_share")
    result = _scan(store, a, b, when, cands, source, alpha, seed, min_share, chosen, groups, code)
    if both:
        if resolve_group(a, groups) is not None:
            raise InputError(f"the reverse direction needs {a} as the importer, which must be one country", parameter="both")
        result = dataclasses.replace(result, reverse=_scan(store, b, a, when, cands, source, alpha, seed, min_share, chosen, product=code))
    if chosen is not None and currency.upper() != "USD":
        result = dataclasses.replace(result, notes=(*result.notes, f"amounts in USD, not {currency.upper()}: the two-leg test "
                                                                 "reads every flow in USD"))
    return result


def _members(candidates: list[str] | None, groups: dict[str, Group] | None) -> list[str]:
    """The candidates with each group standing for its members (every country ever one)."""
    out: list[str] = []
    for code in candidates or []:
        group = resolve_group(code, groups)
        out += list(group.all_countries()) if group else [str(code).strip().upper()]
    return list(dict.fromkeys(out))


reroute = scan  # the public name (`entrepot.reroute`), after the command


FEW_REPORTERS = 5  # declaring countries below which the candidates' own trade is seen through A's and B's reports only


def _few_reporters(store: Store, data: Data) -> list[str]:
    """A note when the scan reads declarations that few countries made: each candidate's trade with the rest of
    the world (its own growth, the decoy tests) is then what A and B record of it, and BACI would see everyone's."""
    if data.relation.source == "baci":
        return []
    n = store.con.execute("SELECT count(DISTINCT reporter) FROM flows WHERE source = ? AND product_level > 0",
                          [data.relation.source]).fetchone()[0]
    if n >= FEW_REPORTERS:
        return []
    baci = " (--source baci reads BACI's flows of every country, which this store holds)" if q.has_source(store, "baci") else ""
    return [f"only {n} countries declare to {data.relation.source} in this store: each candidate's own trade with the rest of"
            f" the world, which the decoy tests and the world's growth use, is what those {n} record of it{baci}"]


# The fits' matrix products are many and mid-sized: OpenBLAS's threads gain little wall time on them and spin
# between calls, which costs CPU (a fifth of the scan's on two cores), so the scan runs them on one thread.
@threadpool_limits.wrap(limits=1, user_api="blas")
def _scan(store: Store, a: str, b: str, when: dt.date, candidates: list[str] | None, source: str,
          alpha: float, seed: int, min_share: float, basket: Basket | None = None,
          groups: dict[str, Group] | None = None, product: str | None = None) -> RerouteResult:
    """The route scan on the data the one rule chooses (`options.data`, product-level rows; under `product`),
    then the relabelling test on the declared reports (the scan's own when it read them); with a `basket`,
    both on the basket's drop; A may be a group."""
    chosen = options.data(store, a, b, "auto", source, event=when, product=product, products=True, groups=groups)
    data = read(store, a, b, when, candidates, chosen.source, basket, groups, chosen.freq, product)
    if product is not None and len(data.products) < MIN_PRODUCTS:
        raise InputError(f"HS {product} holds {len(data.products)} product(s) in the store ({', '.join(data.products)}); the scan"
                         f" fits each leg across products and needs at least {MIN_PRODUCTS}: give a coarser code", parameter="product")
    routes = find_routes(data, alpha, seed, min_share)
    table, notes, sources = routes.table, list(routes.notes), {data.relation.source}
    notes += _few_reporters(store, data)
    timing = event_study(store, data, list(table.country[table.significant]), seed)
    relabelling = None
    declared = data
    if data.declared is None:
        try:
            freq = options.data(store, a, b, "auto", "reported", event=when, product=product, products=True, groups=groups).freq
            declared = read(store, a, b, when, None, "reported", basket, groups, freq, product)
        except InputError as exc:
            notes.append(f"relabelling not tested: it needs both sides' declared reports ({exc})")
            declared = None
    if declared is not None:
        sources.add(declared.relation.source)
        relabelling = find_relabelling(declared, alpha, seed, data.countries, min_share)
        table = table.merge(relabelling.table, on="country", how="left")
        table["relabelling"] = table.relabelling.astype("boolean").fillna(False).astype(bool)
        notes += relabelling.notes(a, b)
    if basket is not None and data.in_basket is not None:
        level = len(data.products[0])
        whole = f"; {len(basket.partial(level))} of its headings count whole at {level} digits" if basket.partial(level) else ""
        notes.append(f"basket {basket.name}: both legs tested on its {int(data.in_basket.sum())} of the {len(data.products)} "
                     f"products {a} and {b} trade (the drop is the basket's; the rest of trade sets each pair's own growth){whole}")
    return RerouteResult(a, b, data.window, data.source, routes.direct_drop_usd, routes.pre_direct_usd, routes.rerouted_value_usd,
                         table, alpha, min_share, None, relabelling, timing, tuple(notes), q.provenance(store, sources),
                         None if basket is None else basket.name, product, chosen)
