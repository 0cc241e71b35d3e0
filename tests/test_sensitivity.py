"""Sobol indices and tornado data (azsim.sensitivity), with known functions in place of the simulator."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from azsim.sensitivity import (
    SOBOL_COLUMNS,
    oat_design,
    oat_labels,
    sobol_design,
    sobol_indices,
    sobol_problem,
    tornado,
)

NAMES = ["x1", "x2", "x3"]
A, B = 7.0, 0.1


def ishigami(u: np.ndarray) -> np.ndarray:
    """The Ishigami function of unit-cube inputs, x_i = -pi + 2 pi u_i."""
    x = -math.pi + 2 * math.pi * u
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices() -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices of the Ishigami function."""
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1 + B * pi4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * pi8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_analytic_ishigami_values():
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)


def test_problem_is_the_unit_cube():
    assert sobol_problem(NAMES) == {"num_vars": 3, "names": NAMES, "bounds": [[0.0, 1.0]] * 3}
    with pytest.raises(ValueError, match="unique"):
        sobol_problem(["a", "a"])
    with pytest.raises(ValueError, match="at least one"):
        sobol_problem([])


def test_design_shape_order_and_determinism():
    from SALib.sample import sobol as salib_sobol

    x = sobol_design(NAMES, 16, seed=3)
    assert x.shape == (16 * (3 + 2), 3)
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_array_equal(x, sobol_design(NAMES, 16, seed=3))
    assert not np.array_equal(x, sobol_design(NAMES, 16, seed=4))
    direct = salib_sobol.sample(sobol_problem(NAMES), 16, calc_second_order=False, scramble=True, seed=3)
    np.testing.assert_array_equal(x, direct)
    # SALib's row order: A, AB_1..AB_d (A with column j from B), B
    a, b = x[0::5], x[4::5]
    for j in range(3):
        ab = x[1 + j :: 5]
        expected = a.copy()
        expected[:, j] = b[:, j]
        np.testing.assert_array_equal(ab, expected)


@pytest.mark.parametrize("n", [0, 1, 3, 1000, -8, 2.0, "64", True])
def test_n_must_be_a_power_of_two(n):
    with pytest.raises(ValueError, match="power of 2"):
        sobol_design(NAMES, n, seed=1)


@pytest.mark.parametrize("seed", [1, 2])
def test_ishigami_indices_within_their_cis(seed):
    x = sobol_design(NAMES, 1024, seed=seed)
    frame = sobol_indices(NAMES, ishigami(x), seed=seed)
    assert list(frame.columns) == SOBOL_COLUMNS
    assert list(frame["factor"]) == NAMES
    s1, st = ishigami_indices()
    for kind, truth in (("S1", s1), ("ST", st)):
        est = frame[kind].to_numpy()
        low, high = frame[f"{kind}_ci_low"].to_numpy(), frame[f"{kind}_ci_high"].to_numpy()
        assert np.all(low <= est) and np.all(est <= high)
        inside = (low <= truth) & (truth <= high)
        close = np.abs(est - truth) <= 0.03
        assert np.all(inside | close), (kind, est, low, high, truth)
    # the ranking a user reads off: x2 and x1 matter alone, x3 only through its interaction with x1
    assert frame.loc[2, "S1"] < 0.05 < frame.loc[2, "ST"]


def test_bootstrap_is_seeded_even_with_seed_zero():
    x = sobol_design(NAMES, 64, seed=0)
    y = ishigami(x)
    f1, f2 = sobol_indices(NAMES, y, seed=0, resamples=200), sobol_indices(NAMES, y, seed=0, resamples=200)
    assert f1.equals(f2)
    f3 = sobol_indices(NAMES, y, seed=5, resamples=200)
    np.testing.assert_array_equal(f1["S1"], f3["S1"])  # the point estimates do not depend on the bootstrap
    assert not np.array_equal(f1["S1_ci_low"], f3["S1_ci_low"])


def test_sobol_indices_rejects_bad_outputs():
    y = ishigami(sobol_design(NAMES, 8, seed=1))
    with pytest.raises(ValueError, match="n \\* 5 rows"):
        sobol_indices(NAMES, y[:-1])
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="1 missing or non-finite"):
        sobol_indices(NAMES, bad)
    with pytest.raises(ValueError, match="1-D"):
        sobol_indices(NAMES, np.vstack([y, y]))


def test_constant_output_has_zero_indices():
    frame = sobol_indices(NAMES, np.full(8 * 5, 3.0))
    assert frame.attrs["constant_output"] is True
    assert (frame.drop(columns="factor").to_numpy() == 0.0).all()


def test_oat_design_points_and_labels():
    pts = oat_design(NAMES)
    assert len(pts) == 1 + 2 * 3
    assert [p.label for p in pts] == oat_labels(NAMES) == [
        "centre", "x1=low", "x1=high", "x2=low", "x2=high", "x3=low", "x3=high"]
    assert pts[0] == {"x1": 0.5, "x2": 0.5, "x3": 0.5}
    assert pts[3] == {"x1": 0.5, "x2": 0.0, "x3": 0.5}
    assert pts[6] == {"x1": 0.5, "x2": 0.5, "x3": 1.0}
    assert oat_design(["a"], centre=0.25)[0] == {"a": 0.25}
    back = pickle.loads(pickle.dumps(pts[4]))
    assert back == pts[4] and back.label == "x2=high"
    with pytest.raises(ValueError, match="centre"):
        oat_design(NAMES, centre=1.5)


def test_tornado_orders_a_linear_function_by_swing():
    coef = {"x1": 5.0, "x2": -1.0, "x3": 3.0}
    pts = oat_design(NAMES)
    y = np.array([10.0 + sum(coef[k] * u for k, u in p.items()) for p in pts])
    frame = tornado(NAMES, y)
    assert list(frame.columns) == ["factor", "low", "high", "centre", "swing"]
    assert list(frame["factor"]) == ["x1", "x3", "x2"]
    assert frame["swing"].tolist() == pytest.approx([5.0, 3.0, 1.0])
    row = frame.set_index("factor").loc["x2"]
    assert row["low"] == pytest.approx(10 + 2.5 + 1.5)
    assert row["high"] == pytest.approx(10 + 2.5 - 1.0 + 1.5)
    assert (frame["centre"] == y[0]).all()
    with pytest.raises(ValueError, match="7 points"):
        tornado(NAMES, y[:-1])
