"""Trust with its own channels (docs/ODD.md §7.11): responsiveness, procedural fairness,
members' conduct and broken promises, each recorded apart.

Trust T_i in the community Party organisation already moves with satisfaction, neighbours and
open conflicts (stage 9, docs/ODD.md §7.6) and with members' visible conduct (stage 11b,
:mod:`sim.core.members`, κ x_i (1 − T_i): the *conduct* channel, recorded here as
``trust_conduct`` and not duplicated). This module adds three channels that do not go through
service satisfaction, so that a lever can move trust without first improving services.

The reported-need ledger (stage 7b, :func:`ledger`). A household's need becomes *reported*
in proportion to its building's need information A_b (what members report, consultation and
coordination make known): reported this week R_i = A_b Σ_k ν_ik ε_ik (this week's arrivals,
stage 4). Reported need waits in a pending stock p_i until it is answered:

    p_i ← min(p_i + R_i, N_i),   N_i = Σ_k n_ik + s_i   (the need there was before service)
    a_i = p_i s_i / N_i                     answered (s_i: served this week, at the household's rate)
    p_i ← p_i − a_i − u_i − ε_i,  ε_i = (p_i − a_i − u_i) / W   left unanswered beyond ~W weeks
                                            (u_i: sent up a level, conduction, docs/ODD.md §7.12)

A need answered raises trust, one left unanswered lowers it more (asymmetry, Slovic 1993;
responsiveness measured by Chen, Pan & Xu 2016):

    ΔT_i^resp = ρ⁺ a_i (1 − T_i) − ρ⁺ α ε_i T_i      (α = ``unanswered_ratio`` ≥ 1)

Procedural fairness (Tyler 2006): a household that took part last week is heard in the
immersion lever's consultation (docs/ODD.md §7.9.4) at intensity k_imm:

    ΔT_i^fair = φ k_imm P_i (1 − T_i)

Broken promises: linked resources announced but not delivered (linking's capacity above the
venue and team caps, docs/ODD.md §7.9.3), u_L = (announced − delivered) / announced:

    ΔT_i^prom = −β u_L T_i

All three rates 0 (the defaults): nothing here runs and the model is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.core.params import param

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


@dataclass
class TrustConfig:
    """Trust's own channels (config node ``trust``); every rate 0 turns its channel off."""

    responsiveness: float = param(
        0.0, 0.0, 20.0, "ρ⁺, trust gained per need unit answered in time (× (1 − T)); 0 = channel off"
    )
    unanswered_ratio: float = param(
        2.0, 1.0, 10.0, "α, trust lost per need unit left unanswered relative to ρ⁺ (× T)"
    )
    answer_weeks: float = param(
        4.0, 1.0, 52.0, "W, mean weeks a reported need waits before it counts as unanswered ('a few weeks')"
    )
    fairness: float = param(
        0.0, 0.0, 1.0, "φ, weekly trust gained by being heard at immersion intensity 1 (× (1 − T))"
    )
    broken_promises: float = param(
        0.0, 0.0, 1.0, "β, weekly share of trust lost when every announced linked resource fails to arrive"
    )


def ledger_active(model: CommunityModel) -> np.ndarray:
    """Per member: whether reported needs are followed this run (trust's responsiveness or
    escalation on)."""
    cached = model.caches.get("ledger_active")
    if cached is None:
        cached = np.array(
            [
                cfg.trust.responsiveness > 0
                or (cfg.levers.conduction.escalation > 0 and cfg.levers.conduction.intensity > 0)
                for cfg in model.configs
            ]
        )
        model.caches["ledger_active"] = cached
    return cached


def ledger(model: CommunityModel, k_conduction: np.ndarray) -> None:
    """Stage 7b: reported needs answered, sent up (conduction), answered above, or left unanswered."""
    active = ledger_active(model)
    if not active.any():
        return
    from sim.core import dynamics
    from sim.core.levers import conduction

    hh = model.households
    book = model.ledger
    s = dynamics._scratch(model)
    information = model.buildings.need_information[s.building]
    arrived = np.einsum("ik,ik->i", s.arrivals, dynamics.need_rates(model))
    served = hh.served.sum(axis=1)
    need = hh.needs.sum(axis=1)
    before = need + served  # the need there was before this week's service
    pending = book.pending
    pending += information * arrived
    np.minimum(pending, before, out=pending)
    # reported need is served at the same rate as the household's need as a whole
    answered = pending * np.divide(served, before, out=np.zeros_like(served), where=before > 0)
    pending -= answered
    # conduction sends part of what is still pending up a level before it counts as unanswered
    up_answered, up_lapsed = conduction.escalate(model, k_conduction, need)
    waited = pending / model.at(model.par("trust.answer_weeks"), model.N)
    pending -= waited
    np.add(answered, up_answered, out=book.answered)
    np.add(waited, up_lapsed, out=book.unanswered)
    flow = model.flows
    answered_total = model.sums(book.answered)
    out = answered_total + model.sums(book.unanswered)
    with np.errstate(divide="ignore", invalid="ignore"):
        flow.reports_answered_share[:] = np.where(out > 0, answered_total / out, np.nan)
    flow.reports_pending[:] = model.means(pending)
    if not active.all():  # members that follow no reports keep an empty ledger
        off = np.repeat(~active, model.N)
        for values in (book.pending, book.escalated, book.answered, book.unanswered):
            values[off] = 0.0
        flow.reports_answered_share[~active] = np.nan
        flow.reports_pending[~active] = 0.0


def update(model: CommunityModel) -> None:
    """Stage 9b: trust's responsiveness, fairness and broken-promise channels (after stage 9),
    each for the members where it acts."""
    par, n = model.par, model.N
    hh = model.households
    flow = model.flows
    trust = hh.trust
    changed = False
    responsiveness = par("trust.responsiveness")
    if model.positive("trust.responsiveness"):
        on = model.vec("trust.responsiveness") > 0
        book = model.ledger
        change = model.at(responsiveness, n) * (
            book.answered * (1.0 - trust)
            - model.at(par("trust.unanswered_ratio"), n) * book.unanswered * trust
        )
        flow.trust_responsiveness[:] = np.where(on, model.means(change), 0.0)
        trust += change if on.all() else np.where(model.at(on, n), change, 0.0)
        changed = True
    k_imm = model.intensity("immersion")
    fairness = par("trust.fairness")
    if model.positive("trust.fairness") and k_imm.any():
        on = (model.vec("trust.fairness") > 0) & (k_imm > 0)
        if on.any():
            # heard: took part last week, when the consultation of stage 5 met
            change = model.at(fairness * k_imm, n) * hh.participating * (1.0 - trust)
            flow.trust_fairness[:] = np.where(on, model.means(change), 0.0)
            trust += change if on.all() else np.where(model.at(on, n), change, 0.0)
            changed = True
    broken = par("trust.broken_promises")
    if model.positive("trust.broken_promises") and flow.promises_broken_share.any():
        on = (model.vec("trust.broken_promises") > 0) & (flow.promises_broken_share > 0)
        if on.any():
            change = model.at(broken * flow.promises_broken_share, n) * trust
            flow.trust_promises[:] = np.where(on, -model.means(change), 0.0)
            trust -= change if on.all() else np.where(model.at(on, n), change, 0.0)
            changed = True
    if changed:
        np.clip(trust, 0.0, 1.0, out=trust)
