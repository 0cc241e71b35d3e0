"""Shared helpers for the azsim tests: small scenarios with every incident switched off."""

from __future__ import annotations

import copy

import pandas as pd

import azsim
from azsim.practices import PRACTICE_COST_CATEGORIES
from azsim.simulate import RunResult, run_policy
from azsim.world import World

SEED = 20210901

ZERO_INCIDENTS = {
    "lost_in_transit": 0.0,
    "late_delivery": 0.0,
    "damaged_in_transit": {"best": 0.0, "worst": 0.0},
    "not_as_described": {"best": 0.0, "worst": 0.0},
    "wrong_item": 0.0,
    "remorse_return": 0.0,
    "product_safety": 0.0,
    "routine_question": 0.0,
    "out_of_stock": 0.0,
    "base_negative_feedback": 0.0,
}
"""Every per-order incident rate at zero (fraud attempts are zeroed per policy)."""

QUIET_POLICY = {"fraud_attempt_rate": 0.0}

NO_ACCOUNT_ACTIONS = {
    rule: {"action_probability": 0.0}
    for rule in ("odr", "late_shipment", "cancel", "valid_tracking", "insurance_missing")
}
"""Account health measured but never acted on (no suspension or restriction of any kind)."""


def schema_leaves(model, prefix: str = ""):
    """``(dotted path, pydantic FieldInfo)`` of every leaf field of a schema model, depth first."""
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and hasattr(ann, "model_fields"):
            yield from schema_leaves(ann, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def deep_merge(base: dict, extra: dict) -> dict:
    """``base`` updated recursively with ``extra`` (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_scenario(extra: dict | None = None, policies: dict | None = None, **top) -> azsim.Scenario:
    """A short, quiet scenario: no incidents, no fraud, no suspensions, plus ``extra``.

    ``policies`` maps names to partial policy dicts (``preset`` optional); every policy gets
    ``fraud_attempt_rate: 0`` unless it says otherwise. Default: only ``new``.
    """
    base = {
        "horizon_days": 120,
        "market": {"orders_per_day": 50.0},
        "incidents": ZERO_INCIDENTS,
        "account_health": NO_ACCOUNT_ACTIONS,
        "seller": {"insurance": {"carry": "never"}},
    }
    data = deep_merge(base, extra or {})
    data = deep_merge(data, top)
    pol = policies if policies is not None else {"new": {}}
    data["policies"] = {name: {**QUIET_POLICY, **(spec or {})} for name, spec in pol.items()}
    return azsim.scenario_from_dict(data)


def run(scenario: azsim.Scenario, policy: str = "new", seed: int = SEED, rep: int = 0) -> RunResult:
    return run_policy(scenario, policy, seed, rep)


def frame(result: RunResult) -> pd.DataFrame:
    """The ledger as a DataFrame with plain string columns (easier to filter)."""
    df = result.ledger.to_frame()
    for col in ("payer", "payee", "category"):
        df[col] = df[col].astype(str)
    return df


def entries(result: RunResult, category: str, payer: str | None = None, payee: str | None = None) -> pd.DataFrame:
    df = frame(result)
    sel = df["category"] == category
    if payer is not None:
        sel &= df["payer"] == payer
    if payee is not None:
        sel &= df["payee"] == payee
    return df[sel]


def by_order(result: RunResult, category: str, payer: str | None = None, payee: str | None = None) -> dict:
    """{order id: summed amount} of the matching ledger entries."""
    df = entries(result, category, payer, payee)
    return df.groupby("order")["amount"].sum().round(2).to_dict()


def claims_of(result: RunResult, kind: str = "atoz") -> list:
    return [c for c in result.claims if c.kind == kind]


def seller_cost(result: RunResult,
                exclude: tuple[str, ...] = ("insurance_premium", *PRACTICE_COST_CATEGORIES)) -> float:
    """The seller's net cost in dollars, without the named categories (by default the premium and
    what the practices cost, which every seller pays with or without incidents)."""
    return round(sum(v for k, v in result.ledger.cost("seller").items() if k not in exclude), 2)


def world_orders(scenario: azsim.Scenario, seed: int = SEED, rep: int = 0) -> dict:
    """{order id: Order} of every incident order in the replication's world."""
    out = {}
    for block in World(scenario, seed, rep).blocks():
        for day in block.incidents:
            for o in day:
                out[o.id] = o
        for o in block.remorse.orders():  # buyer-remorse returns are kept as arrays
            out[o.id] = o
    return out
