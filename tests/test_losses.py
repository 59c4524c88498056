"""Tests for lessons_lib.functional.losses: values and gradients against torch (float64), finite differences, errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lessons_lib.functional import losses as L
from lessons_lib.functional.activations import softmax

RNG = np.random.default_rng(1)
N, C, D = 6, 4, 3
REDUCTIONS = ["mean", "sum", "none"]


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def numerical_grad(f, x, h=1e-6):
    """Gradient of the scalar sum(f(x)) with respect to x by central differences, one coordinate at a time."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (np.sum(f(xp)) - np.sum(f(xm))) / (2 * h)
    return g


def probability_rows(n, c, rng=RNG):
    return softmax(rng.normal(scale=2.0, size=(n, c)))


# Each case: (ours, torch reference, inputs as NumPy arrays, index of the input to differentiate, keywords)
# The reference takes tensors and a torch-style reduction.
Y_PRED, Y_TRUE = RNG.normal(scale=2.0, size=(N, D)), RNG.normal(scale=2.0, size=(N, D))
P = RNG.uniform(0.02, 0.98, size=(N, D))
Y01 = RNG.integers(0, 2, size=(N, D)).astype(float)
SOFT = RNG.uniform(size=(N, D))
LOGITS = RNG.normal(scale=3.0, size=(N, C))
CLASSES = RNG.integers(0, C, size=N)
PM1 = np.where(RNG.random(N) < 0.5, -1.0, 1.0)
SCORES = RNG.normal(scale=1.5, size=N)
EMB = [RNG.normal(size=(N, D)) for _ in range(3)]
PAIR_Y = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
PQ = [probability_rows(N, C), probability_rows(N, C)]


def torch_reduce(x, reduction):
    return {"mean": x.mean(), "sum": x.sum(), "none": x}[reduction]


def ref_rmse(a, b, reduction):
    return torch.sqrt(F.mse_loss(a, b, reduction=reduction))


def ref_hinge(s, y, reduction):
    return torch_reduce(torch.clamp(1 - y * s, min=0), reduction)


def ref_contrastive(x1, x2, y, reduction, margin=1.0):
    d = F.pairwise_distance(x1, x2)  # p = 2, eps = 1e-6, like ours
    return torch_reduce(y * d**2 + (1 - y) * torch.clamp(margin - d, min=0) ** 2, reduction)


def ref_kl(p, q, reduction):
    torch_reduction = {"mean": "batchmean", "sum": "sum", "none": "none"}[reduction]
    out = F.kl_div(torch.log(q), p, reduction=torch_reduction)  # input is log q, target is p
    return out.sum(-1) if reduction == "none" else out


def ref_ce_onehot(z, y, reduction):
    return F.cross_entropy(z, y, reduction=reduction)


CASES = {
    "mse": (L.mse, F.mse_loss, [Y_PRED, Y_TRUE], 0, {}),
    "rmse": (L.rmse, ref_rmse, [Y_PRED, Y_TRUE], 0, {}),
    "mae": (L.mae, F.l1_loss, [Y_PRED, Y_TRUE], 0, {}),
    "huber": (L.huber, F.huber_loss, [Y_PRED, Y_TRUE], 0, {}),
    "huber_delta_0.5": (
        L.huber,
        lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=0.5),
        [Y_PRED, Y_TRUE],
        0,
        {"delta": 0.5},
    ),
    "bce": (L.bce, F.binary_cross_entropy, [P, Y01], 0, {}),
    "bce_soft_targets": (L.bce, F.binary_cross_entropy, [P, SOFT], 0, {}),
    "bce_with_logits": (L.bce_with_logits, F.binary_cross_entropy_with_logits, [Y_PRED, Y01], 0, {}),
    "cross_entropy_indices": (L.cross_entropy, F.cross_entropy, [LOGITS, CLASSES], 0, {}),
    "cross_entropy_probabilities": (L.cross_entropy, F.cross_entropy, [LOGITS, probability_rows(N, C)], 0, {}),
    "cross_entropy_onehot": (L.cross_entropy, ref_ce_onehot, [LOGITS, np.eye(C)[CLASSES]], 0, {}),
    "hinge": (L.hinge, ref_hinge, [SCORES, PM1], 0, {}),
    "triplet": (L.triplet, F.triplet_margin_loss, EMB, 0, {}),
    "triplet_wrt_negative": (L.triplet, F.triplet_margin_loss, EMB, 2, {}),
    "triplet_single": (L.triplet, F.triplet_margin_loss, [e[0] for e in EMB], 1, {}),
    "contrastive": (L.contrastive, ref_contrastive, [EMB[0] * 0.4, EMB[1] * 0.3, PAIR_Y], 0, {}),
    "kl_wrt_p": (L.kl_divergence, ref_kl, PQ, 0, {}),
    "kl_wrt_q": (L.kl_divergence, ref_kl, PQ, 1, {}),
}


def as_tensors(inputs, wrt):
    tensors = [torch.tensor(x) if x.dtype.kind == "i" else t64(x) for x in inputs]
    tensors[wrt].requires_grad_(True)
    return tensors


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_value_and_gradient_match_torch(name, reduction):
    ours, ref, inputs, wrt, kw = CASES[name]
    expected_in = as_tensors(inputs, wrt)
    expected = ref(*expected_in, reduction=reduction)
    ours_in = as_tensors(inputs, wrt)
    got = ours(*ours_in, **kw, reduction=reduction)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours(*inputs, **kw, reduction=reduction), expected.detach().numpy(), rtol=1e-10)
    upstream = t64(RNG.normal(size=tuple(expected.shape)))
    (g_expected,) = torch.autograd.grad(expected, expected_in[wrt], grad_outputs=upstream)
    (g_ours,) = torch.autograd.grad(got, ours_in[wrt], grad_outputs=upstream)
    torch.testing.assert_close(g_ours, g_expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(name):
    ours, _, inputs, wrt, kw = CASES[name]
    tensors = as_tensors(inputs, wrt)
    (autograd,) = torch.autograd.grad(ours(*tensors, **kw, reduction="sum"), tensors[wrt])

    def f(x):
        args = list(inputs)
        args[wrt] = x
        return ours(*args, **kw, reduction="sum")

    np.testing.assert_allclose(autograd.numpy(), numerical_grad(f, inputs[wrt].copy()), rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------------- particular values


def test_mse_and_rmse_small_example():
    assert L.mse([1.0, 2.0, 3.0], [1.0, 0.0, 3.0]) == pytest.approx(4 / 3)
    assert L.rmse([1.0, 2.0, 3.0], [1.0, 0.0, 3.0]) == pytest.approx(np.sqrt(4 / 3))
    assert L.mse([0.0, 0.0], [2.0, 10.0], reduction="none").tolist() == [4.0, 100.0]


def test_mae_small_example():
    assert L.mae([1e-8, -3.0], [0.0, 1.0], reduction="none").tolist() == [1e-8, 4.0]
    assert L.huber([0.5, 3.0], [0.0, 0.0], reduction="none").tolist() == [0.125, 2.5]


def test_bce_with_logits_keeps_relative_precision_in_float32():
    # y = 1 and z >> 0: the loss log(1 + e^-z) is tiny; adding it to z before subtracting z * y would lose it
    z = np.array([6.0, 20.0, 50.0], dtype=np.float32)
    got = L.bce_with_logits(z, np.ones(3, dtype=np.float32), reduction="none")
    np.testing.assert_allclose(got, np.log1p(np.exp(-z.astype(np.float64))), rtol=1e-6)


def test_bce_endpoints_are_finite_and_clipped_without_warnings():
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = L.bce(np.array([0.0, 1.0, 1.0]), np.array([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss, [-np.log(1e-12), -np.log(1e-12), 0.0])
    assert L.bce([0.0], [1.0], eps=1e-3) == pytest.approx(-np.log(1e-3))


def test_bce_with_logits_equals_bce_of_sigmoid_and_has_right_slope_at_zero():
    z = RNG.normal(scale=3.0, size=20)
    y = RNG.uniform(size=20)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(L.bce_with_logits(z, y, reduction="none"), L.bce(p, y, reduction="none"), rtol=1e-9)
    zt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    y0 = t64([0.0, 0.3, 1.0])
    (g,) = torch.autograd.grad(L.bce_with_logits(zt, y0, reduction="sum"), zt)
    np.testing.assert_allclose(g.numpy(), 0.5 - y0.numpy(), rtol=1e-15)  # sigmoid(0) - y


extreme_logits = st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: arrays(dtype, (4, 3), elements=st.floats(-1e4, 1e4, width=32 if dtype == np.float32 else 64))
)


@settings(max_examples=40, deadline=None)
@given(z=extreme_logits, cls=st.lists(st.integers(0, 2), min_size=4, max_size=4))
def test_logit_losses_are_finite_without_warnings_and_match_torch_on_extremes(z, cls):
    y = np.eye(3, dtype=z.dtype)[cls]
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        bce = L.bce_with_logits(z, y, reduction="none")
        ce = L.cross_entropy(z, np.array(cls), reduction="none")
        ce_rows = L.cross_entropy(z, y, reduction="none")
    assert np.all(np.isfinite(bce)) and np.all(np.isfinite(ce)) and np.all(bce >= 0) and np.all(ce >= 0)
    zt = torch.tensor(z, dtype=torch.float64)
    z64 = z.astype(np.float64)
    exact = y * np.logaddexp(0.0, -z64) + (1 - y) * np.logaddexp(0.0, z64)  # softplus(-z) or softplus(z), no cancellation
    np.testing.assert_allclose(bce, exact, rtol=2e-5, atol=1e-30)  # atol: float32 subnormals keep fewer digits
    # torch forms the tiny losses without log1p, so it is good to ~1e-14 absolute there (at z = -28 it gives
    # 6.9278e-13 for the exact 6.9144e-13): compare with it where its digits are right
    np.testing.assert_allclose(
        bce, F.binary_cross_entropy_with_logits(zt, t64(y), reduction="none"), rtol=2e-5, atol=1e-13
    )
    np.testing.assert_allclose(ce, F.cross_entropy(zt, torch.tensor(cls), reduction="none"), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ce_rows, ce, rtol=1e-6)
    zg = torch.tensor(z, requires_grad=True)  # autograd stays finite too
    (g,) = torch.autograd.grad(L.bce_with_logits(zg, torch.tensor(y)) + L.cross_entropy(zg, torch.tensor(cls)), zg)
    assert torch.isfinite(g).all()


def test_cross_entropy_example_from_chapter():
    # true class 1; a confident right answer costs little, a confident wrong one costs a lot
    good, bad = np.log([[0.1, 0.8, 0.1]]), np.log([[0.8, 0.1, 0.1]])
    assert L.cross_entropy(good, [1]) == pytest.approx(-np.log(0.8))
    assert L.cross_entropy(bad, [1]) == pytest.approx(-np.log(0.1))


def test_hinge_is_zero_beyond_the_margin():
    np.testing.assert_allclose(L.hinge([2.0, 0.5, -1.0, -3.0], [1, 1, 1, -1], reduction="none"), [0, 0.5, 2.0, 0])


def test_contrastive_conventions():
    x = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    far = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    loss = L.contrastive(x, far, [1, 0, 0], margin=2.0, eps=0.0, reduction="none")
    np.testing.assert_allclose(loss, [0.0, 4.0, 0.0])  # similar & together; dissimilar & together: margin^2; apart
    assert L.contrastive([[3.0, 4.0]], [[0.0, 0.0]], [1], eps=0.0) == pytest.approx(25.0)  # y = 1: d^2, no 1/2
    xt, ft = t64(x[:2], grad=True), t64(far[:2])
    (g,) = torch.autograd.grad(L.contrastive(xt, ft, t64([1, 0])), xt)  # identical points: finite gradient
    assert torch.isfinite(g).all()


def test_kl_zero_times_log_zero_is_zero_and_matches_torch():
    p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    q = np.array([[0.25, 0.25, 0.5], [0.2, 0.3, 0.5]])
    np.testing.assert_allclose(L.kl_divergence(p, q, reduction="none"), [np.log(2), np.log(5)], rtol=1e-12)
    expected = F.kl_div(t64(q).log(), t64(p), reduction="batchmean")
    np.testing.assert_allclose(L.kl_divergence(p, q), expected.numpy(), rtol=1e-12)
    pt, qt = t64(p, grad=True), t64(q, grad=True)
    gp, gq = torch.autograd.grad(L.kl_divergence(pt, qt), (pt, qt))
    assert torch.isfinite(gp).all() and torch.isfinite(gq).all()  # no NaN from the p = 0 entries
    np.testing.assert_allclose(gq.numpy(), -p / q / 2, rtol=1e-12)


def test_kl_is_not_symmetric_and_is_zero_only_for_equal_distributions():
    p, q = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    forward, backward = L.kl_divergence(p, q), L.kl_divergence(q, p)
    assert forward == pytest.approx(0.9 * np.log(1.8) + 0.1 * np.log(0.2))  # about 0.368
    assert backward == pytest.approx(0.5 * np.log(5 / 9) + 0.5 * np.log(5))  # about 0.511
    assert abs(forward - backward) > 0.1
    assert L.kl_divergence(p, p) == 0.0
    assert forward > 0 and backward > 0


def test_kl_mean_is_torch_batchmean_not_torch_mean():
    p, q = PQ
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns that its "mean" is not the KL divergence
        torch_mean = F.kl_div(t64(q).log(), t64(p), reduction="mean").item()
    assert L.kl_divergence(p, q) == pytest.approx(C * torch_mean)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_dtype_is_kept_and_targets_are_cast(dtype):
    a = torch.zeros(3, dtype=dtype)
    assert L.mse(a, torch.ones(3, dtype=torch.float64)).dtype == dtype
    assert L.cross_entropy(torch.zeros(2, 3, dtype=dtype), torch.tensor([0, 2])).dtype == dtype


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_matches_cpu():
    for name, (ours, _, inputs, wrt, kw) in CASES.items():
        cpu = as_tensors(inputs, wrt)
        gpu = [t.detach().to("cuda") for t in cpu]
        torch.testing.assert_close(ours(*gpu, **kw).cpu(), ours(*cpu, **kw), msg=name)


# ---------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: L.cross_entropy(np.zeros((32, 10)), np.zeros(31, dtype=int)),
            ValueError,
            r"^cross_entropy: logits \(32, 10\) but targets \(31,\)",
        ),
        (
            lambda: L.cross_entropy(np.zeros((2, 10)), [3, 12]),
            ValueError,
            r"^cross_entropy: target class 12 is outside \[0, 10\)$",
        ),
        (lambda: L.cross_entropy(np.zeros((2, 10)), [-1, 2]), ValueError, r"target class -1 is outside \[0, 10\)"),
        (lambda: L.cross_entropy(torch.zeros(2, 10), torch.tensor([0, 10])), ValueError, r"target class 10 is outside \[0, 10\)"),
        (
            lambda: L.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])),
            TypeError,
            r"cross_entropy: targets of shape \(2,\) must be integer class indices; got dtype float64",
        ),
        (lambda: L.cross_entropy(np.zeros(10), [3]), ValueError, r"cross_entropy: logits has shape \(10,\); expected \(N, C\)"),
        (lambda: L.mse(np.zeros(5), np.zeros(4)), ValueError, r"^mse: y_pred \(5,\) but y_true \(4,\)"),
        (lambda: L.huber(np.zeros(5), np.zeros(5), delta=0), ValueError, r"huber: delta is 0; expected a positive number"),
        (
            lambda: L.bce(np.array([0.5, -0.2]), np.array([1.0, 0.0])),
            ValueError,
            r"^bce: probabilities must lie in \[0, 1\]; got min -0\.2$",
        ),
        (lambda: L.bce(np.array([0.5, 0.2]), np.array([1.0, 2.0])), ValueError, r"bce: targets must lie in \[0, 1\]; got max 2"),
        (
            lambda: L.bce_with_logits(np.zeros(2), np.array([1.0, -1.0])),
            ValueError,
            r"bce_with_logits: targets must lie in \[0, 1\]; got min -1",
        ),
        (
            lambda: L.mse(np.zeros(2), np.zeros(2), reduction="avg"),
            ValueError,
            r"reduction is 'avg'; expected 'mean', 'sum' or 'none'",
        ),
        (
            lambda: L.kl_divergence(np.ones(3) / 3, np.ones(3) / 3, reduction="batchmean"),
            ValueError,
            r"kl_divergence: reduction is 'batchmean'; expected 'mean', 'sum' or 'none'",
        ),
        (lambda: L.hinge(np.zeros(3), np.array([0, 1, 1])), ValueError, r"^hinge: targets must be -1 or \+1; got 0$"),
        (
            lambda: L.contrastive(np.zeros((3, 2)), np.zeros((3, 2)), [1, 0, -1]),
            ValueError,
            r"contrastive: y must be 1 \(similar pair\) or 0 \(dissimilar pair\); got -1",
        ),
        (
            lambda: L.contrastive(np.zeros((3, 2)), np.zeros((3, 2)), [1, 0]),
            ValueError,
            r"contrastive: x1 \(3, 2\) but y \(2,\); expected x1 \(N, D\) and y \(N,\)",
        ),
        (
            lambda: L.triplet(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 3))),
            ValueError,
            r"triplet: anchor \(3, 2\) but negative \(3, 3\)",
        ),
        (
            lambda: L.triplet(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2)), margin=-1),
            ValueError,
            r"triplet: margin is -1; expected a number >= 0",
        ),
        (
            lambda: L.kl_divergence(np.array([0.5, 0.6]), np.array([0.5, 0.5])),
            ValueError,
            r"kl_divergence: each row of p must sum to 1; one sums to 1\.1",
        ),
        (
            lambda: L.kl_divergence(np.array([0.5, 0.5]), np.array([1.2, -0.2])),
            ValueError,
            r"kl_divergence: q must be non-negative; got min -0\.2",
        ),
        (
            lambda: L.mse(torch.zeros(3), np.zeros(3)),
            TypeError,
            r"mse: y_pred is a torch Tensor, y_true is a numpy ndarray; convert them to one library",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_nan_predictions_pass_through_rather_than_raise():
    assert np.isnan(L.bce(np.array([np.nan, 0.5]), np.array([1.0, 0.0])))
