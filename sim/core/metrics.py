"""What a step reports (docs/design.md §5), recorded into preallocated arrays.

``METRICS`` names every community-level series with its English and Chinese label; the
:class:`Recorder` fills one row per week and one column per metric, plus per-building
series for maps. Tables are made only at the end (:meth:`Recorder.frame`).

Why one module of this length: the table of metrics (with their ranges and labels in both
languages) and the recorder that fills it must agree column for column, so they are kept together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core import kernels
from sim.core.config import CHANNELS, NEED_CATEGORIES, PROFILES
from sim.core.dynamics import SETTLED_BY
from sim.core.levers import LEVERS
from sim.core.state import FLOW_SCALARS
from sim.vocab import CATEGORY_WORDS, CHANNEL_SERVICE_WORDS, LEVER_WORDS

if TYPE_CHECKING:
    from sim.core.model import CommunityModel


#: the range of a share, rate or index in [0, 1] (the default), and of counts and amounts
PROPORTION = (0.0, 1.0)
NON_NEGATIVE = (0.0, math.inf)


@dataclass(frozen=True)
class Metric:
    """A community-level series: labels, meaning, and the range its values lie in.

    ``bounds`` is what intervals must respect (:mod:`sim.analysis.stats`); ``kind`` says what
    the value is: ``proportion`` (a share or index in [0, 1]), ``count`` (conflicts),
    ``amount`` (need units, resources, cost; ≥ 0) or ``difference`` (in [−1, 1]).
    """

    en: str
    zh: str
    description: str = ""
    bounds: tuple[float, float] = PROPORTION
    kind: str = "proportion"


#: compound types whose outcomes are reported apart (a compound can be managed and have a committee)
COMPOUND_KINDS: tuple[str, ...] = ("managed", "unmanaged", "owners_committee")
_COMPOUND_KIND_EN = {
    "managed": "compounds with a property company",
    "unmanaged": "compounds without a property company",
    "owners_committee": "compounds with an owners' committee",
}
_COMPOUND_KIND_ZH = {"managed": "有物业小区", "unmanaged": "无物业小区", "owners_committee": "有业委会小区"}
_OUTCOME_ZH = {"satisfaction": "满意度", "trust": "信任度"}

_SETTLED_EN = {
    "mediation": "mediation",
    "owners_committee": "the owners' committee",
    "legal": "the legal channel",
    "street": "the street",
    "replacement": "replacing the company",
}
_SETTLED_ZH = {
    "mediation": "人民调解",
    "owners_committee": "业委会协商",
    "legal": "法律途径",
    "street": "街道",
    "replacement": "更换物业",
}

METRICS: dict[str, Metric] = {
    "participation": Metric("Participation rate", "参与率", "share of households taking part"),
    "satisfaction": Metric("Satisfaction", "满意度", "mean satisfaction S"),
    "satisfaction_gini": Metric("Satisfaction Gini", "满意度基尼系数", "inequality of S across households"),
    "satisfaction_worst_compound": Metric(
        "Satisfaction, worst-off compound",
        "最低小区满意度",
        "mean S of the least satisfied compound",
    ),
    "trust": Metric("Trust", "信任度", "mean trust T in the community Party organisation"),
    **{
        f"{outcome}_{kind}": Metric(
            f"{outcome.capitalize()}, {_COMPOUND_KIND_EN[kind]}",
            f"{_COMPOUND_KIND_ZH[kind]}{_OUTCOME_ZH[outcome]}",
            f"mean {outcome} of households in {_COMPOUND_KIND_EN[kind]} (NaN where there are none)",
        )
        for outcome in ("satisfaction", "trust")
        for kind in COMPOUND_KINDS
    },
    "expectation": Metric("Expectation", "期望", "mean expectation E"),
    "performance": Metric("Perceived performance", "感知绩效", "mean Q, share of weighted need met"),
    "unmet_need": Metric(
        "Unmet need",
        "未满足需求",
        "mean Σ_k n_ik after service",
        (0.0, float(len(NEED_CATEGORIES))),
        "amount",
    ),
    "need_information": Metric("Need information", "需求信息", "mean A_b over households"),
    "civic_resources": Metric("Civic resources", "公民资源", "mean r"),
    "participation_rich": Metric("Participation, resource-rich", "高资源户参与率", "top third of initial r"),
    "participation_poor": Metric(
        "Participation, resource-poor", "低资源户参与率", "bottom third of initial r"
    ),
    "participation_gap": Metric(
        "Participation gap", "参与差距", "rich minus poor participation", (-1.0, 1.0), "difference"
    ),
    "asks": Metric("Asked by members", "党员动员率", "share of households asked this week"),
    **{
        f"served_{ch}": Metric(
            f"Served by {ch} channel",
            CHANNEL_SERVICE_WORDS[ch][1],
            "need units per household",
            NON_NEGATIVE,
            "amount",
        )
        for ch in CHANNELS
    },
    **{
        f"served_{cat}": Metric(
            f"Served, {cat}",
            f"{CATEGORY_WORDS[cat][1]}服务",
            "need units per household",
            NON_NEGATIVE,
            "amount",
        )
        for cat in NEED_CATEGORIES
    },
    "contribution_rate": Metric("Organisations contributing", "组织贡献率", "share of players contributing"),
    "contribution_vertical": Metric("Contributing, vertical", "纵向贡献率"),
    "contribution_horizontal": Metric("Contributing, horizontal", "横向贡献率"),
    "contribution_outward": Metric("Contributing, outward", "外向贡献率"),
    "joint_capacity": Metric(
        "Joint capacity J",
        "联合能力 J",
        "pooled resources after synergy and coordination",
        NON_NEGATIVE,
        "amount",
    ),
    "linked_resources": Metric(
        "Linked resources L", "链接资源 L", "resources brokered by the committee", NON_NEGATIVE, "amount"
    ),
    "linked_capacity": Metric(
        "Linked service capacity", "链接服务能力", "need units per household", NON_NEGATIVE, "amount"
    ),
    "funds_delivered_share": Metric("Share of funds delivered", "资金到位率", "Π τ_ℓ"),
    "effective_capacity": Metric(
        "Effective capacity W_eff",
        "有效工作能力",
        "community workforce net of burden",
        NON_NEGATIVE,
        "amount",
    ),
    "burden": Metric("Task burden B/B_max", "任务负担", "tasks from above", NON_NEGATIVE, "amount"),
    "task_growth": Metric("Task growth φ", "层层加码", "mean φ_ℓ over hand-offs"),
    "conflicts_started": Metric("Conflicts started", "新发矛盾", "", NON_NEGATIVE, "count"),
    "conflicts_resolved": Metric("Conflicts resolved", "化解矛盾", "", NON_NEGATIVE, "count"),
    "conflicts_open": Metric("Conflicts open", "未决矛盾", "", NON_NEGATIVE, "count"),
    "coverage_point": Metric("Coverage, buildings (point)", "点覆盖", "share of buildings covered"),
    "coverage_line": Metric("Coverage, organisations (line)", "线覆盖"),
    "coverage_surface": Metric("Coverage, new business (surface)", "面覆盖"),
    "coverage_body": Metric("Coverage, links among branches (body)", "体覆盖"),
    "cross_appointment": Metric("Cross-appointment χ", "交叉任职 χ"),
    "company_quality": Metric("Property service quality", "物业服务质量"),
    "fee_collection": Metric("Fee collection", "物业费收缴率", "mean share of fees collected by companies"),
    "company_replacements": Metric(
        "Companies replaced",
        "更换物业次数",
        "companies replaced through owners' committees so far",
        NON_NEGATIVE,
        "count",
    ),
    "members_active": Metric("Active Party members", "活跃党员比例", "share of members with activity ≥ ½"),
    "member_activity": Metric("Party members' activity", "党员活跃度", "mean activity e of members"),
    "member_overload": Metric(
        "Members' overload", "党员负担超载", "mean overload of buildings' members", NON_NEGATIVE, "amount"
    ),
    "leaders": Metric("Buildings with a leader", "有楼栋长的楼栋", "share of buildings with a 楼栋长"),
    "role_model_reach": Metric(
        "Role-model reach",
        "先锋模范影响",
        "mean exposure x to members' visible service",
        NON_NEGATIVE,
        "amount",
    ),
    "trust_responsiveness": Metric(
        "Trust from responsiveness",
        "回应带来的信任变化",
        "mean weekly change of trust from reported needs answered or left unanswered",
        (-1.0, 1.0),
        "difference",
    ),
    "trust_fairness": Metric(
        "Trust from fair consultation",
        "协商公正带来的信任变化",
        "mean weekly trust gained by being heard in consultation",
        (-1.0, 1.0),
        "difference",
    ),
    "trust_conduct": Metric(
        "Trust from members' conduct",
        "党员表率带来的信任变化",
        "mean weekly trust gained from members' visible service",
        (-1.0, 1.0),
        "difference",
    ),
    "trust_promises": Metric(
        "Trust from broken promises",
        "承诺落空带来的信任变化",
        "mean weekly trust lost to linked resources announced but not delivered",
        (-1.0, 1.0),
        "difference",
    ),
    "promises_broken_share": Metric(
        "Promises broken",
        "承诺落空比例",
        "share of announced linked service capacity not delivered this week",
    ),
    "reports_answered_share": Metric(
        "Reported needs answered in time",
        "反映需求及时回应率",
        "share of reported need answered (by the community or above) of all that left the queue this week",
    ),
    "reports_pending": Metric(
        "Reported needs waiting",
        "待回应需求",
        "mean reported need not yet answered, need units per household",
        NON_NEGATIVE,
        "amount",
    ),
    "escalated": Metric(
        "Needs sent up a level",
        "上报需求",
        "need units per household sent up to the street this week (吹哨)",
        NON_NEGATIVE,
        "amount",
    ),
    "escalation_answered": Metric(
        "Needs answered from above",
        "上级回应需求",
        "need units per household the level above answered this week (报到)",
        NON_NEGATIVE,
        "amount",
    ),
    "escalation_answered_share": Metric(
        "Needs sent up answered",
        "上报需求回应率",
        "share of needs sent up that the level above answered (so far), not lapsed",
    ),
    "escalation_wait_weeks": Metric(
        "Weeks to answer a need sent up",
        "上报需求回应周数",
        "mean weeks a need sent up waits above (stock over what leaves it each week)",
        NON_NEGATIVE,
        "amount",
    ),
    "worker_turnover": Metric(
        "Community workers leaving", "社区工作者流失率", "weekly share of community workers who leave"
    ),
    "worker_experience": Metric(
        "Community workers' experience",
        "社区工作者经验",
        "mean experience X of community workers (1 = seasoned; 1 without turnover)",
    ),
    "fund_spent": Metric(
        "Community fund allocated",
        "社区基金使用",
        "need units per household per week of the community fund residents allocated",
        NON_NEGATIVE,
        "amount",
    ),
    **{
        f"line_{form}": Metric(
            f"Line units reached, {form}",
            f"{zh}覆盖的单位",
            f"firms, social organisations, companies and stationed units reached by a {form} organisation",
            NON_NEGATIVE,
            "count",
        )
        for form, zh in (("stationed", "派驻型组织"), ("regional", "区域型组织"), ("hub", "枢纽型组织"))
    },
    "uncovered_units": Metric(
        "Units nobody covers",
        "无人覆盖的单位",
        "firms, social organisations, companies, stationed units and new business forms without a branch",
        NON_NEGATIVE,
        "count",
    ),
    "duty_units": Metric(
        "Units the community took on",
        "社区兜底的单位",
        "units without a branch of their own that the community answers for (社区兜底管理)",
        NON_NEGATIVE,
        "count",
    ),
    "branch_network_density": Metric(
        "Density of the branch network",
        "组织网络密度",
        "share of pairs of organisations both with a branch × the strength of links among branches",
    ),
    "compounds_organised": Metric(
        "Compounds with their own Party organisation",
        "建立党组织的小区",
        "share of compounds with a compound-level Party organisation",
    ),
    "participation_workers": Metric(
        "Participation, workers",
        "职工户参与率",
        "share of worker households taking part (trade union's constituency)",
    ),
    "participation_youth": Metric(
        "Participation, young",
        "青年户参与率",
        "share of young households taking part (Youth League's constituency)",
    ),
    "participation_families": Metric(
        "Participation, families",
        "家庭户参与率",
        "share of families with children taking part (Women's Federation's constituency)",
    ),
    **{
        f"settled_share_{channel}": Metric(
            f"Conflicts settled by {_SETTLED_EN[channel]}",
            f"{_SETTLED_ZH[channel]}化解占比",
            "share of owner–company conflicts settled so far that this channel settled (by its rate)",
        )
        for channel in SETTLED_BY
    },
    "cost": Metric(
        "Lever cost", "举措成本", "budget units per 1,000 households per week", NON_NEGATIVE, "amount"
    ),
    "budget_bound": Metric("Budget-bound", "预算约束", "1 when the levers were scaled down"),
    **{
        f"intensity_{lever}": Metric(f"Intensity, {lever}", f"{LEVER_WORDS[lever][1]}强度", "after budget")
        for lever in LEVERS
    },
}

#: shares that are NaN by design while their mechanism is off (nothing to divide)
UNDEFINED_WHEN_OFF: tuple[str, ...] = (
    "reports_answered_share",
    "escalation_answered_share",
    "escalation_wait_weeks",
    # and before the first conflict is settled, or in a community without the group
    *(f"settled_share_{channel}" for channel in SETTLED_BY),
    "participation_workers",
    "participation_youth",
    "participation_families",
)

BUILDING_METRICS: tuple[str, ...] = (
    "satisfaction",
    "participation",
    "trust",
    "unmet_need",
    "need_information",
)

_INDEX = {name: i for i, name in enumerate(METRICS)}
_SETTLED_NAMES = tuple(f"settled_share_{channel}" for channel in SETTLED_BY)


def label(name: str, lang: str = "en") -> str:
    """Display label of a metric in English (``en``) or Chinese (``zh``)."""
    metric = METRICS.get(name)
    if metric is None:
        return name
    return metric.zh if lang == "zh" else metric.en


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 when all are equal or all zero)."""
    return float(kernels.gini_of_sorted(np.sort(np.asarray(values, dtype=np.float64))))


class Recorder:
    """Preallocated arrays for every metric at every week (row t = after week t + 1), per member.

    ``data`` is (M, weeks, metrics); ``buildings[name]`` is (weeks, M·B) and ``conflicts``
    (weeks, M·C), the members' buildings (compounds) one after another. ``values`` is member
    0's table (a single model's).
    """

    def __init__(self, model: CommunityModel, steps: int, record_buildings: bool = True) -> None:
        c = model.community
        members = model.n_members
        self.members = members
        self.data = np.full((members, steps, len(METRICS)), np.nan)
        self.record_buildings = record_buildings
        self._member_buildings = [cfg.record_buildings for cfg in model.configs]
        shape = (steps, c.n_buildings) if record_buildings else (0, 0)
        self.buildings = {name: np.full(shape, np.nan) for name in BUILDING_METRICS}
        self.conflicts = np.zeros((steps, c.n_compounds) if record_buildings else (0, 0), dtype=np.int64)
        self.rows = 0
        # Static facts of the community and buffers reused every week (no full-size allocations).
        n = c.n_households
        self._n = model.N
        self._n_compounds = model.C
        self._building_size = np.maximum(c.building_size, 1).astype(np.float64)
        self._compound_size = np.maximum(np.bincount(c.compound, minlength=c.n_compounds), 1)
        self._building = c.building.astype(np.intp)
        self._compound = c.compound.astype(np.intp)
        self._ordered = np.empty(n)
        self._unmet = np.empty(n)
        self._means = np.empty((members, 11))
        self._building_sums = np.empty((3, c.n_buildings))
        self._compound_satisfaction = np.empty(c.n_compounds)
        # households per compound type (managed, unmanaged, with owners' committee), per member
        self._kind_masks: dict[str, list[np.ndarray]] = {kind: [] for kind in COMPOUND_KINDS}
        self._kind_households: dict[str, np.ndarray] = {}
        for kind in COMPOUND_KINDS:
            households = []
            for cm in model.communities:
                managed = cm.compound_company >= 0
                kinds = {
                    "managed": managed,
                    "unmanaged": ~managed,
                    "owners_committee": cm.compound_owners_committee,
                }
                mask = kinds[kind].astype(np.float64)
                sizes = np.bincount(cm.compound, minlength=cm.n_compounds).astype(np.float64)
                self._kind_masks[kind].append(mask)
                households.append(float(sizes @ mask))
            self._kind_households[kind] = np.array(households)
        # the compound types' series in the order record() lists them: (outcome, type) pairs
        self._kind_keys = [(i, kind) for kind in COMPOUND_KINDS for i in range(2)]
        self._kind_names = [f"{('satisfaction', 'trust')[i]}_{kind}" for i, kind in self._kind_keys]
        divisor = np.array([self._kind_households[kind] for _, kind in self._kind_keys])
        self._kind_valid = divisor != 0
        self._kind_divisor = np.where(self._kind_valid, divisor, 1.0)
        self._columns: np.ndarray | None = None  # metric columns in the order record() lists them
        #: the metrics that are this week's flows of the same name, and where each flow sits
        # (company_replacements, a metric of the replacements so far, is not the week's flow)
        reported = [name for name in FLOW_SCALARS if name in _INDEX and name != "company_replacements"]
        self._flow_columns = np.array([_INDEX[name] for name in reported], dtype=np.intp)
        self._flow_rows = np.array([list(FLOW_SCALARS).index(name) for name in reported], dtype=np.intp)
        self._row = np.empty((len(METRICS), members))
        # constituencies of the mass organisations (immersion): workers, young, families
        self._profile = (
            c.profile.astype(np.intp) + len(PROFILES) * np.repeat(np.arange(members), model.N)
        ).astype(np.intp)
        self._profile_size = (
            np.bincount(self._profile, minlength=len(PROFILES) * members)
            .astype(np.float64)
            .reshape(members, -1)
        )
        assert c.young is not None  # build_community always places the young households
        self._young = c.young
        self._young_count = np.count_nonzero(c.young.reshape(members, -1), axis=1).astype(np.float64)
        self._profile_divisor = np.where(self._profile_size > 0, self._profile_size, 1.0)
        self._young_divisor = np.where(self._young_count > 0, self._young_count, 1.0)
        self._group_missing = bool((self._profile_size == 0).any() or (self._young_count == 0).any())

    @property
    def values(self) -> np.ndarray:
        """Member 0's metrics (a single model's): one row per week, one column per metric."""
        return self.data[0]

    def record(self, model: CommunityModel) -> None:
        if self.rows >= self.data.shape[1]:
            self._grow()
        t = self.rows
        hh = model.households
        flow = model.flows
        members = self.members
        means = self._means
        np.copyto(self._ordered, hh.satisfaction)
        self._ordered.reshape(members, -1).sort(axis=1)
        kernels.household_metrics(
            hh.needs,
            hh.satisfaction,
            hh.trust,
            hh.expectation,
            hh.performance,
            hh.civic_resources,
            model.buildings.need_information,
            hh.participating,
            model.resource_rich,
            model.resource_poor,
            self._building,
            self._compound,
            self._unmet,
            means,
            self._building_sums,
            self._compound_satisfaction,
            self._ordered,
        )
        satisfaction, trust, expectation, performance, unmet, information, resources = means[:, :7].T
        participation, rich, poor, satisfaction_gini = means[:, 7:].T
        companies = model.companies
        if model.P:
            quality = model.means(companies.quality)
            fees = model.means(companies.fee_collection)
        else:
            quality = fees = np.full(members, np.nan)
        worst = (self._compound_satisfaction / self._compound_size).reshape(members, -1).min(axis=1)
        values: list[tuple[str, Any]] = [
            ("participation", participation),
            ("satisfaction", satisfaction),
            ("satisfaction_gini", satisfaction_gini),
            ("satisfaction_worst_compound", worst),
            ("trust", trust),
            ("expectation", expectation),
            ("performance", performance),
            ("unmet_need", unmet),
            ("need_information", information),
            ("civic_resources", resources),
            ("participation_rich", rich),
            ("participation_poor", poor),
            ("participation_gap", rich - poor),
            ("conflicts_open", model.sums(model.compounds.open_conflicts)),
            ("company_quality", quality),
            ("fee_collection", fees),
            ("company_replacements", model.sums(companies.replacements) if model.P else 0.0),
            *self._participation_by_group(hh.participating),
            *self._settled_shares(model),
        ]
        compound_trust = np.bincount(
            self._compound, weights=hh.trust, minlength=self._compound_satisfaction.size
        )
        by_member = (self._compound_satisfaction.reshape(members, -1), compound_trust.reshape(members, -1))
        kinds = np.empty((len(self._kind_names), members))
        for j, (outcome, kind) in enumerate(self._kind_keys):
            sums, masks = by_member[outcome], self._kind_masks[kind]
            for m in range(members):  # a product per member, as alone (BLAS's order of sums)
                kinds[j, m] = sums[m] @ masks[m]
        kinds = np.divide(kinds, self._kind_divisor, out=np.full(kinds.shape, np.nan), where=self._kind_valid)
        values += zip(self._kind_names, kinds, strict=True)
        values += [(f"served_{ch}", flow.served_by_channel[:, i]) for i, ch in enumerate(CHANNELS)]
        values += [(f"served_{cat}", flow.served_by_category[:, i]) for i, cat in enumerate(NEED_CATEGORIES)]
        values += [(f"intensity_{lever}", flow.intensities.get(lever, 0.0)) for lever in LEVERS]
        # the flows reported as they are, in one gather from the flows' block
        self.data[:, t, self._flow_columns] = flow.block[self._flow_rows].T
        if self._columns is None:
            self._columns = np.array([_INDEX[name] for name, _ in values], dtype=np.intp)
        row = self._row
        for j, (_, value) in enumerate(values):
            row[j] = value
        self.data[:, t, self._columns] = row[: len(values)].T

        if self.record_buildings:
            sizes = self._building_size
            out = self.buildings
            sums = self._building_sums
            np.divide(sums[0], sizes, out=out["satisfaction"][t])
            out["participation"][t] = model.buildings.participation
            np.divide(sums[1], sizes, out=out["trust"][t])
            np.divide(sums[2], sizes, out=out["unmet_need"][t])
            out["need_information"][t] = model.buildings.need_information
            self.conflicts[t] = model.compounds.open_conflicts
        self.rows += 1

    def _participation_by_group(self, participating: np.ndarray) -> list[tuple[str, np.ndarray]]:
        members = self.members
        by_profile = np.bincount(self._profile, weights=participating, minlength=self._profile_size.size)
        share = by_profile.reshape(members, -1) / self._profile_divisor
        young = (
            np.add.reduce((participating & self._young).reshape(members, -1), axis=1) / self._young_divisor
        )
        if self._group_missing:  # a constituency a community does not have: NaN
            share[self._profile_size == 0] = np.nan
            young[self._young_count == 0] = np.nan
        return [
            ("participation_workers", share[:, PROFILES.index("worker")]),
            ("participation_youth", young),
            ("participation_families", share[:, PROFILES.index("family")]),
        ]

    @staticmethod
    def _settled_shares(model: CommunityModel) -> list[tuple[str, np.ndarray]]:
        settled = model.tallies.settled
        total = settled.sum(axis=1, keepdims=True)
        if (total > 0).all():
            shares = settled / total
        else:  # NaN before the first conflict is settled
            shares = np.divide(settled, total, out=np.full(settled.shape, np.nan), where=total > 0)
        return list(zip(_SETTLED_NAMES, shares.T, strict=True))

    def _grow(self) -> None:
        """Room for more weeks when a model runs past its configured horizon (dashboard)."""
        extra = max(self.data.shape[1], 1)
        self.data = np.concatenate(
            [self.data, np.full((self.members, extra, self.data.shape[2]), np.nan)], axis=1
        )
        if self.record_buildings:
            for name, arr in self.buildings.items():
                self.buildings[name] = np.vstack([arr, np.full((extra, arr.shape[1]), np.nan)])
            self.conflicts = np.vstack([self.conflicts, np.zeros((extra, self.conflicts.shape[1]), np.int64)])

    def frame(self, member: int = 0) -> pd.DataFrame:
        """One row per recorded week of ``member`` (a single model: its own): ``step`` (1-based)
        and one column per metric."""
        df = pd.DataFrame(self.data[member, : self.rows], columns=list(METRICS))
        df.insert(0, "step", np.arange(1, self.rows + 1, dtype=np.int32))
        return df

    def building_frame(self, model: CommunityModel, member: int = 0) -> pd.DataFrame:
        """One row per recorded week × building of ``member``, with its compound and open
        conflicts there."""
        if not self.record_buildings or not self._member_buildings[member]:
            return pd.DataFrame()
        c = model.communities[member]
        n_b, n_c = c.n_buildings, c.n_compounds
        part = slice(member * n_b, (member + 1) * n_b)
        steps = np.repeat(np.arange(1, self.rows + 1, dtype=np.int32), c.n_buildings)
        building = np.tile(np.arange(c.n_buildings, dtype=np.int32), self.rows)
        data = {
            "step": steps,
            "building": building,
            "compound": c.building_compound[building],
            "households": c.building_size[building],
            "covered": np.tile(model.buildings.covered[part], self.rows),
        }
        for name in BUILDING_METRICS:
            data[name] = self.buildings[name][: self.rows, part].ravel()
        conflicts = self.conflicts[: self.rows, member * n_c : (member + 1) * n_c]
        data["conflicts_open"] = conflicts[:, c.building_compound].ravel()
        return pd.DataFrame(data)
