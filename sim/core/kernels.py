"""The per-household loops of a step, compiled.

The stages of :mod:`sim.core.dynamics` that touch every household each week (arrivals, supply and
allocation, attitudes, participation) and the household half of the metrics run here as
numba-compiled loops: one pass over households instead of dozens of numpy calls, each of
which would make its own pass and its own temporary array. The equations and their order of
operations are those of the numpy versions they replaced, sums included (sequential, in
household order, as ``bincount`` and scipy's CSR product add). Two sums differ from those
versions in their last bits: Q's weighted sums over the categories (a BLAS product before,
whose order depends on the BLAS build) and the recorder's means (numpy's pairwise sums before);
see docs/performance.md.

Rules that keep it exact and safe:

- no ``fastmath``: IEEE arithmetic, no reordering, no fused multiply–add;
- ``error_model="numpy"``: a division by zero gives inf or NaN as numpy's would, it does not
  raise, so ``check_finite`` sees it;
- comparisons are written so that NaN passes through clipping (as ``np.minimum`` and
  ``np.maximum`` let it), instead of being silently replaced by a bound.

Compiled code is cached next to this file (or in numba's user cache when that is read-only),
so only the first run on a machine pays the compilation.
"""

from __future__ import annotations

import numba
import numpy as np

_compile = numba.njit(cache=True, nogil=True, error_model="numpy")
# small helpers are inlined into the kernels (no call, no reference counting per household)
_inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")


@_inline
def _clip01(x: float) -> float:
    """min(max(x, 0), 1), NaN kept."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@_inline
def _at_least(x: float, floor: float) -> float:
    """max(x, floor), NaN kept (``np.maximum``)."""
    return floor if x < floor else x


@_inline
def _smaller(a: float, b: float) -> float:
    """min(a, b), NaN kept (``np.minimum``)."""
    if a != a or b != b:
        return a + b
    return a if a <= b else b


@_compile
def arrive_needs(needs: np.ndarray, arrivals: np.ndarray, rates: np.ndarray, keep: np.ndarray) -> None:
    """n_ik ← clip01(keep_m · n_ik + ν_ik ε_ik), in place (``keep``: one value per member)."""
    n, k_count = needs.shape
    per = n // keep.size
    for i in range(n):
        kept = keep[i // per]
        for k in range(k_count):
            needs[i, k] = _clip01(needs[i, k] * kept + arrivals[i, k] * rates[i, k])


@_compile
def need_totals(
    needs: np.ndarray,
    compound: np.ndarray,
    household_company: np.ndarray,
    company_capacity: np.ndarray,
    demand: np.ndarray,
    compound_demand: np.ndarray,
    market_capacity: np.ndarray,
    compound_market_capacity: np.ndarray,
) -> None:
    """Column sums of need per member, need per compound × category, market capacity per
    household/compound.

    ``demand`` is (M, K), one row per member (its households are the M-th block of rows);
    ``company_capacity`` is each company's capacity per household this week (−1 in
    ``household_company`` marks an unmanaged household, which the market does not serve).
    """
    n, k_count = needs.shape
    members = demand.shape[0]
    per = n // members
    demand[:] = 0.0
    compound_demand[:] = 0.0
    compound_market_capacity[:] = 0.0
    for m in range(members):
        for i in range(m * per, (m + 1) * per):
            c = compound[i]
            for k in range(k_count):
                demand[m, k] += needs[i, k]
                compound_demand[c, k] += needs[i, k]
            company = household_company[i]
            capacity = company_capacity[company] if company >= 0 else 0.0
            market_capacity[i] = capacity
            compound_market_capacity[c] += capacity


@_inline
def _community_weight(need: float, demand: float, information: float, spread_share: float) -> float:
    """A_b · n_ik / D_k + (1 − A_b) / N: need-proportional targeting mixed with an even spread."""
    share = need / demand if demand > 0.0 else 0.0
    return share * information + spread_share


@_compile
def allocate(
    needs: np.ndarray,
    information: np.ndarray,
    building: np.ndarray,
    compound: np.ndarray,
    compound_size: np.ndarray,
    demand: np.ndarray,
    community_supply: np.ndarray,
    compound_demand: np.ndarray,
    compound_supply: np.ndarray,
    need_weights: np.ndarray,
    served: np.ndarray,
    performance: np.ndarray,
    weight_sums: np.ndarray,
    served_by_category: np.ndarray,
    compound_weight_sums: np.ndarray,
) -> None:
    """Share every category's supply out to households, serve their needs, form Q.

    Community-wide supply S_k goes to household i in proportion to its weight
    A_b · n_ik / D_k + (1 − A_b) / N; a compound's market supply M_ck in proportion to
    A_b · n_ik / D_ck + (1 − A_b) / |compound|. Both weights are normalised to sum to one (over
    the community, over the compound), so that every unit offered is shared out even where
    need information A_b differs between the buildings of a compound. Nobody is served more
    than they need. Q_i = 1 − Σ_k w_k n_ik(after) / Σ_k w_k n_ik(before), 1 when there was no need.

    Per member (one row each): ``demand``, ``community_supply``, ``need_weights``,
    ``weight_sums`` and ``served_by_category`` (M, K); the rest is indexed by household,
    building or compound across the ensemble.
    """
    total_rows, k_count = needs.shape
    members = demand.shape[0]
    n = total_rows // members
    weight_sums[:] = 0.0
    compound_weight_sums[:] = 0.0
    served_by_category[:] = 0.0
    for m in range(members):
        for i in range(m * n, (m + 1) * n):
            a = information[building[i]]
            spread_share = (1.0 - a) / n
            c = compound[i]
            spread_compound = (1.0 - a) / compound_size[c]
            for k in range(k_count):
                weight_sums[m, k] += _community_weight(needs[i, k], demand[m, k], a, spread_share)
                compound_weight_sums[c, k] += _community_weight(
                    needs[i, k], compound_demand[c, k], a, spread_compound
                )
        for i in range(m * n, (m + 1) * n):
            a = information[building[i]]
            spread = 1.0 - a
            spread_share = spread / n
            c = compound[i]
            spread_compound = spread / compound_size[c]
            total = 0.0
            unmet = 0.0
            for k in range(k_count):
                need = needs[i, k]
                weight = _community_weight(need, demand[m, k], a, spread_share)
                if weight_sums[m, k] > 0.0:
                    weight = weight / weight_sums[m, k]
                allotted = weight * community_supply[m, k]
                market = _community_weight(need, compound_demand[c, k], a, spread_compound)
                if compound_weight_sums[c, k] > 0.0:
                    market = market / compound_weight_sums[c, k]
                allotted += market * compound_supply[c, k]
                s = _smaller(need, allotted)
                served[i, k] = s
                left = need - s
                needs[i, k] = left
                total += need * need_weights[m, k]
                unmet += left * need_weights[m, k]
                served_by_category[m, k] += s
            performance[i] = 1.0 - unmet / total if total > 1e-12 else 1.0


@_compile
def neighbour_means(values: np.ndarray, network: tuple, out: np.ndarray) -> None:
    """Each household's mean of ``values`` over its neighbours (its own value when it has none).

    ``network`` = (data, indptr, indices, isolated) of the row-normalised adjacency matrix; the
    sum runs in the order of scipy's CSR product, so the means are the same to the bit.
    """
    data, indptr, indices, isolated = network
    for i in range(out.size):
        if isolated[i]:
            out[i] = values[i]
            continue
        total = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            total += data[j] * values[indices[j]]
        out[i] = total


@_compile
def update_attitudes(
    performance: np.ndarray,
    satisfaction: np.ndarray,
    expectation: np.ndarray,
    trust: np.ndarray,
    old_trust: np.ndarray,
    network: tuple,
    neighbours: np.ndarray,
    trust_shock: np.ndarray,
    compound: np.ndarray,
    constants: np.ndarray,
) -> None:
    """Satisfaction, expectation and trust of every household (docs/design.md §3), in place.

    ``constants`` (M, 10), one row per member = (s₀, a_Q, a_D, λ_S, η⁺, η⁻, E_norm, α⁺, α⁻, μ);
    ``trust_shock`` is the share of its trust a household of each compound loses to open
    conflicts this week.
    """
    n = performance.size
    per = n // constants.shape[0]
    old_trust[:] = trust
    neighbour_means(old_trust, network, neighbours)
    for i in range(n):
        s0, a_q, a_d, lam, eta_up, eta_down, e_floor, alpha_up, alpha_down, mu = constants[i // per]
        q = performance[i]
        e = expectation[i]
        surprise = q - e
        target = _clip01(q * a_q + s0 + surprise * a_d)
        s = satisfaction[i] + (target - satisfaction[i]) * lam
        satisfaction[i] = s
        rate = eta_up if q >= e else eta_down
        expectation[i] = _clip01(_at_least(rate * surprise + e, e_floor))

        t = old_trust[i]
        new = t + _at_least(s - t, 0.0) * alpha_up
        new -= _at_least(t - s, 0.0) * alpha_down
        new += (neighbours[i] - t) * mu
        new -= trust_shock[compound[i]] * t
        trust[i] = _clip01(new)


@_compile
def participate(
    participating: np.ndarray,
    asked: np.ndarray,
    trust: np.ndarray,
    threshold: np.ndarray,
    network: tuple,
    rho: np.ndarray,
    trust_effect: np.ndarray,
    was_participating: np.ndarray,
    neighbours: np.ndarray,
    building: np.ndarray,
    building_count: np.ndarray,
) -> None:
    """P_i = [f_i + ρ·ask_i + β_T (T_i − ½) ≥ θ_i], f_i from last week; counts per building.

    ``rho`` and ``trust_effect``: one value per member."""
    n = participating.size
    per = n // rho.size
    for i in range(n):
        was_participating[i] = 1.0 if participating[i] else 0.0
    neighbour_means(was_participating, network, neighbours)
    building_count[:] = 0.0
    for i in range(n):
        m = i // per
        push = neighbours[i]
        push += rho[m] if asked[i] else 0.0
        push += (trust[i] - 0.5) * trust_effect[m]
        participating[i] = push >= threshold[i]
        if participating[i]:
            building_count[building[i]] += 1.0


@_compile
def gini_of_sorted(ordered: np.ndarray) -> float:
    """Gini coefficient of non-negative values sorted ascending (0 when all are zero).

    The sort is left to numpy, whose sort is about twice as fast as numba's at 100,000 values.
    """
    n = ordered.size
    total = 0.0
    ranked = 0.0
    for i in range(n):
        total += ordered[i]
        ranked += (i + 1.0) * ordered[i]
    if n == 0 or total <= 0.0:
        return 0.0
    return 2.0 * ranked / (n * total) - (n + 1.0) / n


@_compile
def household_metrics(
    needs: np.ndarray,
    satisfaction: np.ndarray,
    trust: np.ndarray,
    expectation: np.ndarray,
    performance: np.ndarray,
    civic_resources: np.ndarray,
    information: np.ndarray,
    participating: np.ndarray,
    rich: np.ndarray,
    poor: np.ndarray,
    building: np.ndarray,
    compound: np.ndarray,
    unmet: np.ndarray,
    means: np.ndarray,
    building_sums: np.ndarray,
    compound_satisfaction: np.ndarray,
    ordered: np.ndarray,
) -> None:
    """The household half of a week's metrics, in one pass, per member.

    ``means`` (M, 11) gets, per member, the mean satisfaction, trust, expectation, performance,
    unmet need, need information and civic resources, then the participation of all, of the
    rich and of the poor, and the Gini coefficient of satisfaction (``ordered``: satisfaction,
    sorted within each member). ``building_sums`` (3, B) gets the sums of satisfaction, trust
    and unmet need per building; ``compound_satisfaction`` the sum of satisfaction per
    compound; ``unmet`` each household's Σ_k n_ik.
    """
    total_rows, k_count = needs.shape
    members = means.shape[0]
    n = total_rows // members
    means[:] = 0.0
    building_sums[:] = 0.0
    compound_satisfaction[:] = 0.0
    for m in range(members):
        row = means[m]
        rich_count = 0.0
        poor_count = 0.0
        rich_taking_part = 0.0
        poor_taking_part = 0.0
        for i in range(m * n, (m + 1) * n):
            left = needs[i, 0]
            for k in range(1, k_count):
                left += needs[i, k]
            unmet[i] = left
            row[0] += satisfaction[i]
            row[1] += trust[i]
            row[2] += expectation[i]
            row[3] += performance[i]
            row[4] += left
            row[5] += information[building[i]]
            row[6] += civic_resources[i]
            taking_part = 1.0 if participating[i] else 0.0
            row[7] += taking_part
            if rich[i]:
                rich_count += 1.0
                rich_taking_part += taking_part
            if poor[i]:
                poor_count += 1.0
                poor_taking_part += taking_part
            b = building[i]
            building_sums[0, b] += satisfaction[i]
            building_sums[1, b] += trust[i]
            building_sums[2, b] += left
            compound_satisfaction[compound[i]] += satisfaction[i]
        if n == 0:
            row[:] = np.nan
            continue
        for j in range(8):
            row[j] /= n
        row[8] = rich_taking_part / rich_count if rich_count > 0 else 0.0
        row[9] = poor_taking_part / poor_count if poor_count > 0 else 0.0
        row[10] = gini_of_sorted(ordered[m * n : (m + 1) * n])
