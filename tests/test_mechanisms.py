"""The essay's remaining mechanisms (docs/ODD.md §7.11–): direction with margins over seeded
replicates, and the knock-out — with the mechanism's parameter at 0 its pattern is gone.

Every run is paired by seed (common random numbers, tests/lever_helpers.py); effects are
per-replicate differences and a pattern holds when the whole 95% interval of the mean effect
lies beyond its margin. Run with ``SIM_TEST_SEED=<n>`` to check the patterns with other seeds.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import BIN
from lever_helpers import SEED, credibly_above, credibly_below, effect, frames, make_config, outcome

from sim.experiment.compose import compose_config

R = 6  # replicates per configuration
SHOCK = {"shock": {"week": 40, "duration": 64, "depth": 0.5}}


def cfg(levers=None, trust=None, dynamics=None, **extra):
    data = dict(extra)
    if trust:
        data["trust"] = trust
    if dynamics:
        data["dynamics"] = dynamics
    return make_config(levers or {}, **data)


def same_tables(a, b, columns=None) -> None:
    for x, y in zip(frames(a, 2), frames(b, 2), strict=True):
        cols = columns or list(x.columns)
        pd.testing.assert_frame_equal(x[cols], y[cols], check_exact=True)


# --------------------------------------------------------------------------- trust (§7.11)


def test_responsiveness_raises_trust_where_needs_are_answered():
    on, off = cfg(trust={"responsiveness": 1.0}), cfg()
    assert credibly_above(effect(on, off, "trust", R), 0.01)
    assert credibly_above(outcome(on, "reports_answered_share", R), 0.9)
    assert credibly_above(outcome(on, "trust_responsiveness", R), 0.0)
    # knock-out: channel off, nothing recorded and nothing changed
    assert (outcome(off, "trust_responsiveness", R) == 0).all()
    assert np.isnan(outcome(off, "reports_answered_share", R)).all()


def test_unanswered_needs_cost_more_trust_than_answered_ones_gain():
    """During a long service failure few reported needs are answered; with α > 1 the channel
    loses trust, and a larger α loses more (asymmetry). Trust itself is then not credibly
    below the same failure without the channel (docs/ODD.md §7.11: satisfaction already pulls
    it down), so that is not asserted."""
    failing = cfg(trust={"responsiveness": 1.0, "unanswered_ratio": 3.0}, dynamics=SHOCK)
    mild = cfg(trust={"responsiveness": 1.0, "unanswered_ratio": 1.0}, dynamics=SHOCK)
    off = cfg(dynamics=SHOCK)
    assert credibly_below(outcome(failing, "reports_answered_share", R), 0.5)
    assert credibly_below(outcome(failing, "trust_responsiveness", R), 0.0)
    assert credibly_below(effect(failing, mild, "trust", R), -0.005)
    # knock-out: channel off, no change recorded
    assert (outcome(off, "trust_responsiveness", R) == 0).all()


def test_being_heard_in_consultation_raises_trust():
    consult = {"immersion": {"intensity": 1.0}}
    fair = cfg(consult, trust={"fairness": 0.01})
    plain = cfg(consult)
    assert credibly_above(effect(fair, plain, "trust", R), 0.005)
    assert credibly_above(outcome(fair, "trust_fairness", R), 0.0)
    # knock-out: no consultation (immersion off) means nobody is heard
    same_tables(cfg(trust={"fairness": 0.01}), cfg())
    assert (outcome(plain, "trust_fairness", R) == 0).all()


def test_promises_linking_cannot_keep_cost_trust_and_conduction_keeps_them():
    linking = {"linking": {"intensity": 1.0}}
    both = {"linking": {"intensity": 1.0}, "conduction": {"intensity": 1.0}}
    broken = cfg(linking, trust={"broken_promises": 0.02})
    assert credibly_above(outcome(broken, "promises_broken_share", R), 0.05)
    assert credibly_below(effect(broken, cfg(linking), "trust", R), -0.01)
    # conduction frees the work team, so linking's announcements are delivered
    kept = cfg(both, trust={"broken_promises": 0.02})
    assert credibly_below(
        outcome(kept, "promises_broken_share", R) - outcome(broken, "promises_broken_share", R), -0.05
    )
    # knock-out: rate 0, the announcements still fall short but trust does not feel it
    assert (outcome(cfg(linking), "trust_promises", R) == 0).all()


def test_members_conduct_is_recorded_as_its_own_channel():
    assert credibly_above(outcome(cfg(), "trust_conduct", R), 0.0)
    off = cfg(members={"trust_effect": 0.0})
    assert (outcome(off, "trust_conduct", R) == 0).all()


# --------------------------------------------------------------------- escalation (§7.12)

WHISTLE = {"conduction": {"intensity": 1.0, "escalation": 0.5}}
NO_WHISTLE = {"conduction": {"intensity": 1.0}}


def test_needs_sent_up_are_answered_and_feed_trust():
    up = cfg(WHISTLE, trust={"responsiveness": 1.0}, dynamics=SHOCK)
    flat = cfg(NO_WHISTLE, trust={"responsiveness": 1.0}, dynamics=SHOCK)
    assert credibly_above(outcome(up, "escalated", R), 0.0)
    assert credibly_above(outcome(up, "escalation_answered_share", R), 0.5)
    assert credibly_below(effect(up, flat, "unmet_need", R), -0.01)
    assert credibly_above(effect(up, flat, "trust", R), 0.02)
    # knock-out: escalation 0 sends nothing up
    assert (outcome(flat, "escalated", R) == 0).all()
    assert np.isnan(outcome(flat, "escalation_answered_share", R)).all()


def test_a_level_above_with_little_capacity_answers_less_and_later():
    roomy = cfg(WHISTLE, dynamics=SHOCK)
    tight = cfg({"conduction": {**WHISTLE["conduction"], "upper_capacity": 0.001}}, dynamics=SHOCK)
    assert credibly_below(
        outcome(tight, "escalation_answered_share", R) - outcome(roomy, "escalation_answered_share", R), -0.1
    )
    assert credibly_above(
        outcome(tight, "escalation_wait_weeks", R) - outcome(roomy, "escalation_wait_weeks", R), 0.5
    )


# ------------------------------------------------------------------------ the baseline


@pytest.mark.parametrize(
    "levers",
    [
        {"conduction": {"escalation": 0.5, "upper_capacity": 0.001}},
        # turnover itself describes the status quo (docs/ODD.md §7.14): not a lever policy
        {"conduction": {"career": 0.6, "exemplars": 0.3}},
        {"converging": {"community_fund": 0.02, "street_say": 1.0}},
        {"integration": {"compound_organisation": 1.0, "compound_mediation": 0.5}},
        {"embedding": {"duty": 1.0, "duty_cost": 0.2}},
        {"embedding": {"stationed": 0.5, "regional": 0.5, "hub": 0.5, "unit_members": 1.0}},
        {
            "immersion": {
                "conventions": 0.5,
                "legal_aid": 0.2,
                "moral_recognition": 2.0,
                "trade_union": 0.3,
                "youth_league": 0.3,
                "womens_federation": 0.3,
            }
        },
    ],
)
def test_new_lever_parameters_change_nothing_at_intensity_zero(levers):
    same_tables(cfg(levers), cfg())


# ------------------------------------------------------------------------------- sweeps

#: a user's own experiment over the new parameters; nothing in the sweeper or sim-analyse knows them
SMALL_DESIGN = """# @package _global_
defaults:
  - override /hydra/sweeper: design
  - override /hydra/launcher: joblib

experiment: mechanisms_small
replicates: 2
record_buildings: false
baseline_comparison: false

hydra:
  sweeper:
    method: morris
    n: 2
    num_levels: 4
    params:
      responsiveness: {key: trust.responsiveness, lo: 0.0, hi: 2.0}
      escalation: {key: levers.conduction.escalation, lo: 0.0, hi: 1.0}
      conduction: {key: levers.conduction.intensity, lo: 0.0, hi: 1.0}
"""


def test_a_design_sweep_over_the_new_parameters_runs_and_is_analysed(tmp_path, cli_env):
    configs = tmp_path / "configs"
    (configs / "experiment").mkdir(parents=True)
    (configs / "experiment" / "mechanisms_small.yaml").write_text(SMALL_DESIGN, encoding="utf-8")
    sweep = tmp_path / "sweep"
    done = subprocess.run(
        [
            str(BIN / "sim-run"),
            "-m",
            "--config-dir",
            str(configs),
            "experiment=mechanisms_small",
            "community=workshop",
            "steps=6",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ran 8, failed 0" in done.stdout
    done = subprocess.run(
        [str(BIN / "sim-analyse"), str(sweep)], env=cli_env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_parquet(sweep / "analysis" / "morris.parquet")
    assert set(table["input"]) == {"responsiveness", "escalation", "conduction"}
    trust = table[table["output"] == "trust"].set_index("input")
    assert np.isfinite(trust["mu_star"]).all()


# --------------------------------------------------- immersion: 自治、德治、法治; 群团 (§7.13)

IMMERSION = {"intensity": 1.0}


def immersion(**params):
    return cfg({"immersion": {**IMMERSION, **params}})


def conflicted(**params):
    """The owner–company conflict estate (many conflicts to settle), immersion acting."""
    overrides = [f"levers.immersion.{k}={v}" for k, v in {"intensity": 1.0, **params}.items()]
    return compose_config(
        [
            "scenario=owner_company_conflict",
            "community=workshop",
            f"seed={SEED}",
            "record_buildings=false",
            *overrides,
        ]
    )


def test_residents_conventions_lower_dispute_arrival():
    with_rules, plain = immersion(conventions=0.5), immersion()
    assert credibly_below(effect(with_rules, plain, "served_dispute", R), -0.001)
    # knock-out: without conventions the run is the plain immersion run, to the bit
    same_tables(immersion(conventions=0.0), plain)


def test_legal_aid_settles_a_larger_share_through_the_legal_channel():
    aided, plain = conflicted(legal_aid=0.1), conflicted()
    share = effect(aided, plain, "settled_share_legal", R, window=1)
    assert np.isfinite(share).all()
    assert credibly_above(share, 0.1)
    # slowly: even with legal aid, mediation and the rest still settle most conflicts
    assert credibly_below(outcome(aided, "settled_share_legal", R, window=1), 0.5)
    same_tables(conflicted(legal_aid=0.0), plain)


def test_reputation_raises_organisations_contributions():
    praised, plain = immersion(moral_recognition=1.0), immersion()
    assert credibly_above(effect(praised, plain, "contribution_rate", R), 0.05)
    same_tables(immersion(moral_recognition=0.0), plain)


@pytest.mark.parametrize(
    ("organisation", "own", "others"),
    [
        ("trade_union", "participation_workers", ("participation_families",)),
        ("youth_league", "participation_youth", ("participation_families",)),
        ("womens_federation", "participation_families", ("participation_workers",)),
    ],
)
def test_each_mass_organisation_mobilises_its_own_constituency(organisation, own, others):
    mobilised, plain = immersion(**{organisation: 0.1}), immersion()
    gain = effect(mobilised, plain, own, R)
    assert credibly_above(gain, 0.02)
    for other in others:  # more in its own constituency than in another
        assert credibly_above(gain - effect(mobilised, plain, other, R), 0.01)
    same_tables(immersion(**{organisation: 0.0}), plain)


# ------------------------------------------------ conduction: community workers' career (§7.14)

CAREER = {"intensity": 1.0, "turnover": 0.004}


def conduction(**params):
    return cfg({"conduction": {**CAREER, **params}})


def test_career_measures_keep_workers_who_bring_experience_and_capacity():
    kept, leaving = conduction(career=0.6), conduction()
    assert credibly_below(effect(kept, leaving, "worker_turnover", R), -0.001)
    assert credibly_above(effect(kept, leaving, "worker_experience", R), 0.05)
    assert credibly_above(effect(kept, leaving, "effective_capacity", R), 0.01)
    # exemplars recognised keep some more
    honoured = conduction(career=0.6, exemplars=0.3)
    assert credibly_above(effect(honoured, kept, "worker_experience", R), 0.01)


def test_without_career_measures_experience_stays_where_turnover_holds_it():
    frame = frames(conduction(), 1)[0]
    assert np.allclose(frame["worker_experience"], frame["worker_experience"].iloc[0], atol=1e-9)
    # knock-out: no turnover, experience is full and nothing else changes
    same_tables(conduction(turnover=0.0, career=0.6, exemplars=0.3), cfg({"conduction": {"intensity": 1.0}}))
    assert (outcome(cfg(), "worker_experience", R) == 1).all()


# ------------------------------------------------ converging: rights and capacity (§7.15)


def test_a_community_fund_residents_allocate_serves_more_where_more_take_part():
    fund = {"intensity": 1.0, "community_fund": 0.02}
    funded = cfg({"converging": fund}, dynamics=SHOCK)
    unfunded = cfg({"converging": {"intensity": 1.0}}, dynamics=SHOCK)
    assert credibly_below(effect(funded, unfunded, "unmet_need", R), -0.001)
    # consultation draws people in, and more of the fund is allocated
    engaged = cfg({"converging": fund, "immersion": {"intensity": 1.0}}, dynamics=SHOCK)
    assert credibly_above(effect(engaged, funded, "fund_spent", R), 0.003)
    # knock-out: no fund, nothing allocated and nothing changed
    same_tables(cfg({"converging": {"intensity": 1.0, "community_fund": 0.0}}, dynamics=SHOCK), unfunded)
    assert (outcome(unfunded, "fund_spent", R) == 0).all()


def test_a_say_over_street_departments_speeds_their_answers():
    whistle = {"conduction": WHISTLE["conduction"]}
    say = cfg({**whistle, "converging": {"intensity": 1.0, "street_say": 1.0}}, dynamics=SHOCK)
    no_say = cfg({**whistle, "converging": {"intensity": 1.0}}, dynamics=SHOCK)
    assert credibly_below(effect(say, no_say, "escalation_wait_weeks", R), -0.3)
    assert credibly_above(effect(say, no_say, "escalation_answered_share", R), 0.05)
    # knock-out: no escalation, nothing to answer faster
    same_tables(
        cfg({"converging": {"intensity": 1.0, "street_say": 1.0}}), cfg({"converging": {"intensity": 1.0}})
    )


# ------------------------------------------- integration: organisation in each compound (§7.16)


def estate(**integration):
    """The owner–company conflict estate with integration acting and no cross-appointment."""
    params = {"intensity": 1.0, "cross_appointment_max": 0.0, **integration}
    base = ["scenario=owner_company_conflict", "community=workshop", f"seed={SEED}", "record_buildings=false"]
    return compose_config([*base, *(f"levers.integration.{k}={v}" for k, v in params.items())])


def test_organisation_in_each_compound_leaves_fewer_conflicts_open():
    replicates = 12  # open conflicts in two compounds are small counts
    organised, plain = estate(compound_organisation=1.0), estate()
    assert (outcome(organised, "compounds_organised", replicates) == 1).all()
    assert credibly_below(effect(organised, plain, "conflicts_open", replicates, window=104), 0.0)
    assert credibly_above(effect(organised, plain, "trust", replicates, window=104), 0.0)
    # knock-out: no compound organisation, the plain integration run to the bit
    same_tables(estate(compound_organisation=0.0), plain)
    assert (outcome(plain, "compounds_organised", replicates) == 0).all()


# ------------------------------------------------ embedding: a dense network of branches (§7.17)


def test_a_dense_branch_network_cuts_coordination_more_the_denser_it_is():
    def joint(embedding: float, weight: float):
        return cfg(
            {
                "converging": {"intensity": 1.0},
                "embedding": {"intensity": embedding, "network_coordination": weight},
            }
        )

    dense_gain = effect(joint(1.0, 1.0), joint(1.0, 0.0), "joint_capacity", R)
    sparse_gain = effect(joint(0.0, 1.0), joint(0.0, 0.0), "joint_capacity", R)
    assert credibly_above(outcome(joint(1.0, 0.0), "branch_network_density", R) - 0.075, 0.5)
    assert credibly_above(dense_gain, 1.0)
    assert credibly_above(dense_gain - sparse_gain, 1.0)
    # knock-out: weight 0, the density is recorded but changes nothing
    same_tables(joint(1.0, 0.0), cfg({"converging": {"intensity": 1.0}, "embedding": {"intensity": 1.0}}))


# --------------------------------------- embedding, surface: the community's duty (§7.18)


def test_units_the_community_takes_on_join_the_joint_game_at_a_cost_in_capacity():
    def duty(share: float):
        return cfg({"converging": {"intensity": 1.0}, "embedding": {"intensity": 0.3, "duty": share}})

    taken, left = duty(1.0), duty(0.0)
    assert credibly_below(effect(taken, left, "uncovered_units", R), -0.5)
    assert credibly_above(outcome(taken, "duty_units", R), 0.5)
    assert credibly_above(effect(taken, left, "contribution_outward", R), 0.1)
    assert credibly_below(effect(taken, left, "effective_capacity", R), -0.05)
    # knock-out: no duty, nothing taken on and nothing changed
    same_tables(left, cfg({"converging": {"intensity": 1.0}, "embedding": {"intensity": 0.3}}))
    assert (outcome(left, "duty_units", R) == 0).all()


# -------------------------------- embedding, line: stationed, regional and hub (§7.19)


def line_form(name: str | None = None, members: float = 0.5):
    """Embedding at 0.3 (line units left open) with the joint meeting, on the community preset."""
    embedding = {"intensity": 0.3, "unit_members": members}
    if name:
        embedding[name] = 1.0
    return make_config({"converging": {"intensity": 1.0}, "embedding": embedding}, community="community")


def test_a_stationed_organisation_reaches_deepest_and_costs_most():
    base = line_form()
    stationed, regional, hub = line_form("stationed"), line_form("regional"), line_form("hub")
    for form, run in (("stationed", stationed), ("regional", regional), ("hub", hub)):
        assert credibly_above(outcome(run, f"line_{form}", R), 0.5)
    assert credibly_above(effect(stationed, base, "contribution_rate", R), 0.05)
    assert credibly_above(effect(stationed, regional, "contribution_rate", R), 0.05)
    # cost in the work team's capacity: stationed > regional > hub > nothing
    costs = [effect(run, base, "effective_capacity", R) for run in (stationed, regional, hub)]
    assert credibly_below(costs[0] - costs[1], 0.0) and credibly_below(costs[1] - costs[2], 0.0)
    assert credibly_below(costs[2], 0.0)
    # a stationed organisation needs none of the unit's own members
    same_tables(line_form("stationed", members=0.0), stationed)
    # knock-out: no line form, the same run as embedding without them
    assert (outcome(base, "line_stationed", R) == 0).all()
    same_tables(
        base,
        make_config(
            {"converging": {"intensity": 1.0}, "embedding": {"intensity": 0.3}}, community="community"
        ),
    )


@pytest.mark.xfail(
    strict=True,
    reason=(
        "not reproduced (docs/ODD.md §7.19): on the community preset a regional organisation's "
        "contribution gain over a hub's is +0.006 [-0.004, +0.015], and neither depends credibly "
        "on the units' own members: two units each, reached at depths 0.3 and 0.15, earn too "
        "little recognition to move the joint game"
    ),
)
def test_regional_reach_is_deeper_than_a_hubs_and_both_need_the_units_members():
    regional, hub = line_form("regional"), line_form("hub")
    assert credibly_above(effect(regional, hub, "contribution_rate", R), 0.0)
    assert credibly_below(effect(line_form("regional", members=0.0), regional, "contribution_rate", R), 0.0)
