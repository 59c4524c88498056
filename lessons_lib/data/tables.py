"""The chapters' running examples as synthetic tables generated from stated true parameters,
so that training can be seen to recover them: employee bonus, insurance purchase, "will score a century".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lessons_lib.validate import integer, number


@dataclass
class Table:
    """A tabular dataset: ``X`` (n, d), ``y`` (n,), the column names and, for synthetic data, the truth.

    ``true_params`` holds the parameters the data was generated from (empty for real data), so that a
    chapter can compare what training learned with what is actually there.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    description: str
    true_params: dict[str, Any] = field(default_factory=dict)
    target_names: list[str] | None = None

    def __repr__(self) -> str:
        names = self.feature_names if len(self.feature_names) <= 6 else [*self.feature_names[:5], "..."]
        return f"Table({self.target_name!r}: X {self.X.shape}, y {self.y.shape}, features {names})"


# ----------------------------------------------------------------------------- running-example tables


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # equal to 1 / (1 + exp(-z)), without overflow


BONUS_TRUE = {"weights": {"performance": 1.5, "years_of_experience": 0.4, "projects_completed": 0.25}, "bias": 2.0}


def employee_bonus(n: int = 200, noise: float = 0.3, seed: int = 0) -> Table:
    """Yearly bonus (in thousands) from performance rating, years of experience and projects completed.

    Generated as ``bonus = 1.5 performance + 0.4 years + 0.25 projects + 2.0 + noise``: a linear model
    with these weights is the truth, so gradient descent should recover them (up to the noise).
    """
    n = integer("employee_bonus", "n", n, minimum=1)
    noise = float(number("employee_bonus", "noise", noise, 0))
    rng = np.random.default_rng(seed)
    performance = rng.integers(1, 6, n).astype(float)  # rating 1..5
    years = np.round(rng.uniform(0, 10, n), 1)
    projects = rng.integers(0, 11, n).astype(float)
    X = np.c_[performance, years, projects]
    w = np.array(list(BONUS_TRUE["weights"].values()))
    y = X @ w + BONUS_TRUE["bias"] + noise * rng.standard_normal(n)
    return Table(
        X, y, list(BONUS_TRUE["weights"]), "bonus",
        "employee bonus (thousands) = 1.5 performance + 0.4 years + 0.25 projects + 2.0 + Gaussian noise",
        {"weights": w, "bias": BONUS_TRUE["bias"], "noise": noise},
    )


# The insurance network: 4 inputs -> 2 hidden sigmoid units -> 1 sigmoid output.
# Inputs enter standardised with these fixed centres and scales, so the weights are comparable.
INSURANCE_FEATURES = ["age", "education_years", "income_k", "savings_k"]


INSURANCE_CENTRE = np.array([40.0, 14.0, 60.0, 50.0])


INSURANCE_SCALE = np.array([12.0, 3.0, 25.0, 40.0])


INSURANCE_TRUE = {
    # columns: h1 = awareness (driven by age and education), h2 = affordability (income and savings)
    "W1": np.array([[1.5, 0.2], [2.0, 0.1], [0.3, 2.5], [0.1, 2.0]]),
    "b1": np.array([-0.5, -0.5]),
    "w2": np.array([4.0, 5.0]),
    "b2": -4.5,
}


def insurance(n: int = 500, seed: int = 0) -> Table:
    """Did a customer buy insurance? Four inputs, labels drawn from a stated 4-2-1 sigmoid network.

    The hidden units are awareness ``h1 = sigma(x W1[:, 0] + b1[0])`` and affordability ``h2``; the
    output is ``O = sigma(w2 . h + b2)`` and the label is 1 with probability O. Inputs are standardised
    with ``INSURANCE_CENTRE`` and ``INSURANCE_SCALE`` before entering the network.
    """
    n = integer("insurance", "n", n, minimum=1)
    rng = np.random.default_rng(seed)
    X = np.c_[
        rng.uniform(18, 70, n),
        np.clip(np.round(rng.normal(14, 3, n)), 8, 22),
        np.clip(rng.lognormal(np.log(55), 0.45, n), 10, 250),
        np.clip(rng.lognormal(np.log(30), 1.0, n), 0, 400),
    ]
    p = insurance_network((X - INSURANCE_CENTRE) / INSURANCE_SCALE)
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return Table(
        X, y, INSURANCE_FEATURES, "bought",
        "insurance purchase: labels drawn from a stated 4-2-1 sigmoid network (see INSURANCE_TRUE)",
        {**INSURANCE_TRUE, "centre": INSURANCE_CENTRE, "scale": INSURANCE_SCALE},
        target_names=["no", "yes"],
    )


def insurance_network(Z: np.ndarray, params: dict | None = None) -> np.ndarray:
    """The true insurance network on standardised inputs ``Z`` (n, 4): returns P(buy), shape (n,)."""
    p = INSURANCE_TRUE if params is None else params
    H = _sigmoid(Z @ p["W1"] + p["b1"])  # (n, 2): awareness, affordability
    return _sigmoid(H @ p["w2"] + p["b2"])


CENTURY_FEATURES = ["hand_eye_coordination", "diet", "fitness_routine", "height"]


CENTURY_HIDDEN = ["running", "timing", "technique", "muscle_power", "luck"]


CENTURY_TRUE = {
    # W1[i, j]: weight from input i to hidden unit j. The running column starts 0.7, 2.1, 2.7 as in the
    # chapter; luck has no input weights at all, so it is the same for every player.
    "W1": np.array(
        [
            [0.7, 2.5, 1.8, 0.0, 0.0],
            [2.1, 0.0, 0.0, 1.5, 0.0],
            [2.7, 0.5, 0.4, 2.0, 0.0],
            [0.3, 0.0, 0.2, 0.8, 0.0],
        ]
    ),
    "b1": np.array([-1.0, 0.0, 0.0, -0.5, 0.0]),
    "w2": np.array([1.1, 3.0, 4.0, 2.7, 0.1]),
    # With every hidden unit in (0, 1) and all output weights positive, a bias of +1.2 would make
    # P(century) > sigma(1.2) = 0.77 for every player; -5.5 puts the classes near balance instead.
    "b2": -5.5,
}


def century(n: int = 500, seed: int = 0) -> Table:
    """Will a batter score a century? Four standardised inputs, labels from a stated 4-5-1 network."""
    n = integer("century", "n", n, minimum=1)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    p = century_network(X)
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return Table(
        X, y, CENTURY_FEATURES, "century",
        "will score a century: 4 standardised inputs -> 5 sigmoid hidden units -> sigmoid output (CENTURY_TRUE)",
        {**CENTURY_TRUE, "hidden_names": CENTURY_HIDDEN},
        target_names=["no", "yes"],
    )


def century_network(X: np.ndarray, params: dict | None = None) -> np.ndarray:
    """The true century network on inputs ``X`` (n, 4): returns P(century), shape (n,)."""
    p = CENTURY_TRUE if params is None else params
    H = _sigmoid(X @ p["W1"] + p["b1"])  # (n, 5)
    return _sigmoid(H @ p["w2"] + p["b2"])
