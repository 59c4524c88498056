"""Optimizers, schedules and clipping from scratch (lessons_lib.training.optimizers), checked against torch.optim."""

import math

import numpy as np
import pytest
import torch

from lessons_lib.training import clipping, optimizers, schedules

# ------------------------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The tensors here are tiny: extra threads only wait on each other, badly so on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 5, generator=g, dtype=torch.float64)
    y = torch.sin(X @ torch.randn(5, generator=g, dtype=torch.float64))
    start = [0.5 * torch.randn(5, 4, generator=g, dtype=torch.float64),  # W1
             0.1 * torch.randn(4, generator=g, dtype=torch.float64),     # b1
             0.5 * torch.randn(4, generator=g, dtype=torch.float64)]     # w2
    return X, y, start


def _loss(params, X, y):
    W1, b1, w2 = params
    return ((torch.tanh(X @ W1 + b1) @ w2 - y) ** 2).mean()  # a 2-layer net, squared error


def _fresh(start, device="cpu"):
    return [p.clone().to(device).requires_grad_() for p in start]


def _train(opt, params, X, y, steps=100, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        _loss(params, X, y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return [p.detach() for p in params]


def _assert_same(ours, theirs, start):
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)
    moved = max((a.cpu() - p0).abs().max().item() for a, p0 in zip(ours, start))
    assert moved > 1e-3, "the parameters barely moved: this comparison would prove nothing"


# ------------------------------------------------------------------------------------ optimizers


CASES = [
    (optimizers.SGD, torch.optim.SGD, dict(lr=0.05)),
    (optimizers.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optimizers.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.01)),
    (optimizers.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optimizers.Adagrad, torch.optim.Adagrad, dict()),
    (optimizers.Adagrad, torch.optim.Adagrad,
     dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8)),
    (optimizers.Adadelta, torch.optim.Adadelta, dict()),
    (optimizers.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
    (optimizers.RMSprop, torch.optim.RMSprop, dict()),
    (optimizers.RMSprop, torch.optim.RMSprop, dict(lr=1e-3, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01)),
    (optimizers.RMSprop, torch.optim.RMSprop, dict(centered=True)),
    (optimizers.RMSprop, torch.optim.RMSprop, dict(momentum=0.5, eps=1e-6)),
    (optimizers.Adam, torch.optim.Adam, dict()),
    (optimizers.Adam, torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    (optimizers.Adam, torch.optim.Adam, dict(lr=1e-2, amsgrad=True)),
    (optimizers.AdamW, torch.optim.AdamW, dict()),
    (optimizers.AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1, amsgrad=True, betas=(0.85, 0.95))),
]


@pytest.mark.parametrize("ours, theirs, kwargs", CASES, ids=[f"{c[0].__name__}-{c[2]}" for c in CASES])
def test_follows_torch_trajectory(ours, theirs, kwargs):
    X, y, start = _data()
    a, b = _fresh(start), _fresh(start)
    got = _train(ours(a, **kwargs), a, X, y)
    expected = _train(theirs(b, **kwargs), b, X, y)
    _assert_same(got, expected, start)


def test_param_groups_have_their_own_hyperparameters():
    X, y, start = _data(1)
    a, b = _fresh(start), _fresh(start)

    def groups(p):
        return [{"params": p[:2]}, {"params": [p[2]], "lr": 0.1, "weight_decay": 0.1}]

    for ours, theirs in [(optimizers.SGD, torch.optim.SGD), (optimizers.Adam, torch.optim.Adam)]:
        a, b = _fresh(start), _fresh(start)
        opt = ours(groups(a), lr=0.01, momentum=0.9) if ours is optimizers.SGD else ours(groups(a), lr=0.01)
        ref = theirs(groups(b), lr=0.01, momentum=0.9) if theirs is torch.optim.SGD else theirs(groups(b), lr=0.01)
        assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1]
        assert opt.param_groups[0]["weight_decay"] == 0 and opt.param_groups[1]["weight_decay"] == 0.1
        _assert_same(_train(opt, a, X, y), _train(ref, b, X, y), start)


def test_add_param_group_later():
    w, v = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
    opt = optimizers.SGD([w], lr=0.1)
    opt.add_param_group({"params": v, "lr": 1.0})
    (w.sum() + v.sum()).backward()
    opt.step()
    assert torch.equal(w, torch.full((2,), 0.9)) and torch.equal(v, torch.zeros(3))


def test_step_skips_tensors_without_grad_and_keeps_no_state_for_them():
    w, frozen = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    opt = optimizers.Adam([w, frozen], lr=0.1)
    (w**2).sum().backward()
    opt.step()
    assert torch.equal(frozen, torch.ones(3)) and frozen not in opt.state
    assert not torch.equal(w, torch.ones(3)) and opt.state[w]["step"] == 1


def test_step_runs_the_closure_and_returns_its_loss():
    w = torch.tensor([3.0], requires_grad=True)
    opt = optimizers.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.item() == 1.5  # 3 - 0.25 * 6
    assert opt.step() is None


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    w = torch.ones(3, requires_grad=True)
    opt = optimizers.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=set_to_none)  # no grad yet: nothing to do, no error
    (2 * w).sum().backward()
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert w.grad is None
    else:
        assert torch.equal(w.grad, torch.zeros(3))
    (3 * w).sum().backward()
    assert torch.equal(w.grad, torch.full((3,), 3.0))  # nothing left over from the first backward


def test_step_does_not_build_a_graph():
    w = torch.ones(3, requires_grad=True)
    opt = optimizers.RMSprop([w], momentum=0.9, centered=True)
    (w**2).sum().backward()
    opt.step()
    assert w.is_leaf and w.grad_fn is None
    assert all(not s.requires_grad for s in opt.state[w].values() if isinstance(s, torch.Tensor))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("ours, theirs, kwargs", [CASES[3], CASES[9], CASES[14], CASES[16]])
def test_follows_torch_on_cuda(ours, theirs, kwargs):
    X, y, start = _data()
    X, y = X.cuda(), y.cuda()
    a, b = _fresh(start, "cuda"), _fresh(start, "cuda")
    got = _train(ours(a, **kwargs), a, X, y)
    expected = _train(theirs(b, **kwargs), b, X, y)
    assert all(p.is_cuda for p in got)
    _assert_same(got, expected, start)
    norm = clipping.clip_grad_norm_(a, 0.01)
    assert norm.is_cuda


# ------------------------------------------------------------------------------------- schedules


SCHEDULES = [
    (schedules.StepLR, torch.optim.lr_scheduler.StepLR, dict(step_size=7, gamma=0.5)),
    (schedules.StepLR, torch.optim.lr_scheduler.StepLR, dict(step_size=10)),
    (schedules.ExponentialLR, torch.optim.lr_scheduler.ExponentialLR, dict(gamma=0.9)),
    (schedules.CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR, dict(T_max=50)),
    (schedules.CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR, dict(T_max=20, eta_min=0.001)),
    (schedules.LinearWarmup, torch.optim.lr_scheduler.LinearLR, dict()),
    (schedules.LinearWarmup, torch.optim.lr_scheduler.LinearLR, dict(start_factor=0.01, total_iters=10)),
    (schedules.OneCycleLR, torch.optim.lr_scheduler.OneCycleLR, dict(max_lr=1.0, total_steps=50)),
    (schedules.OneCycleLR, torch.optim.lr_scheduler.OneCycleLR,
     dict(max_lr=[1.0, 0.3], total_steps=50, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
          final_div_factor=100.0)),
    (schedules.OneCycleLR, torch.optim.lr_scheduler.OneCycleLR,
     dict(max_lr=0.5, total_steps=50, three_phase=True, base_momentum=0.8, max_momentum=0.9)),
    (schedules.OneCycleLR, torch.optim.lr_scheduler.OneCycleLR, dict(max_lr=0.5, total_steps=50, cycle_momentum=False)),
]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("ours, theirs, kwargs", SCHEDULES,
                         ids=[f"{s[0].__name__}-{s[2]}" for s in SCHEDULES])
def test_schedule_matches_torch(ours, theirs, kwargs, opt_name):
    def make(module, params):
        groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.02}]
        if opt_name == "SGD":
            return module.SGD(groups, lr=0.1, momentum=0.9)
        return module.Adam(groups, lr=0.1)

    mine, ref = make(optimizers, _fresh(_data()[2])), make(torch.optim, _fresh(_data()[2]))
    sched, ref_sched = ours(mine, **kwargs), theirs(ref, **kwargs)
    for _ in range(51 if ours is not schedules.OneCycleLR else 50):
        np.testing.assert_allclose(sched.get_last_lr(), ref_sched.get_last_lr(), rtol=1e-12, atol=0)
        np.testing.assert_allclose([g["lr"] for g in mine.param_groups], ref_sched.get_last_lr(), rtol=1e-12)
        key = "momentum" if opt_name == "SGD" else "betas"
        for g, h in zip(mine.param_groups, ref.param_groups):
            np.testing.assert_allclose(g[key], h[key], rtol=1e-12)
        ref.step()
        sched.step()
        ref_sched.step()
    assert sched.last_epoch == ref_sched.last_epoch


def test_schedule_also_drives_a_torch_optimizer():
    params = _fresh(_data()[2])
    ref = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)
    opt = torch.optim.Adam(params, lr=0.1)
    sched = schedules.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    ref_sched = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=1.0, total_steps=20)
    for _ in range(20):
        sched.step()
        ref.step()
        ref_sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(ref.param_groups[0]["lr"], rel=1e-12)
        assert opt.param_groups[0]["betas"] == pytest.approx(ref.param_groups[0]["betas"], rel=1e-12)


def test_one_cycle_training_follows_torch():
    X, y, start = _data(2)
    a, b = _fresh(start), _fresh(start)
    opt, ref = optimizers.SGD(a, lr=0.1, momentum=0.9, nesterov=True), torch.optim.SGD(b, lr=0.1, momentum=0.9, nesterov=True)
    got = _train(opt, a, X, y, scheduler=schedules.OneCycleLR(opt, max_lr=0.3, total_steps=100))
    expected = _train(ref, b, X, y, scheduler=torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=0.3, total_steps=100))
    _assert_same(got, expected, start)


def test_one_cycle_refuses_to_go_past_total_steps():
    sched = schedules.OneCycleLR(optimizers.SGD([torch.ones(1, requires_grad=True)], lr=0.1), max_lr=1.0, total_steps=10)
    for _ in range(10):
        sched.step()
    with pytest.raises(ValueError, match="step\\(\\) has been called 11 times; expected at most total_steps = 10"):
        sched.step()


def test_cosine_schedule_reaches_eta_min_at_T_max():
    opt = optimizers.SGD([torch.ones(1, requires_grad=True)], lr=0.5)
    sched = schedules.CosineAnnealingLR(opt, T_max=8, eta_min=0.05)
    lrs = [sched.get_last_lr()[0]] + [sched.step() or sched.get_last_lr()[0] for _ in range(8)]
    assert lrs[0] == 0.5 and math.isclose(lrs[4], 0.275) and math.isclose(lrs[-1], 0.05)
    assert all(a > b for a, b in zip(lrs, lrs[1:]))


# -------------------------------------------------------------------------------------- clipping


def _with_grads(seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in [(3, 4), (5,), (2,)]]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64).to(device)
    params[2].grad = None  # a tensor without a gradient is skipped
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clips / leaves alone
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    a, b = _with_grads(), _with_grads()
    total = clipping.clip_grad_norm_(a, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(b, max_norm, norm_type)
    torch.testing.assert_close(total, expected, rtol=1e-12, atol=0)
    for p, q in zip(a, b):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=0)
    new_norm = clipping.clip_grad_norm_(a, max_norm, norm_type)
    if max_norm < total:
        assert new_norm <= max_norm and math.isclose(new_norm.item(), max_norm, rel_tol=1e-5)
    else:
        torch.testing.assert_close(new_norm, total)


def test_clip_grad_norm_edge_cases():
    w = torch.ones(4, requires_grad=True)
    assert clipping.clip_grad_norm_([w], 1.0).item() == 0.0  # no gradients at all
    w.grad = torch.full((4,), 2.0)
    assert clipping.clip_grad_norm_(w, 1.0).item() == 4.0  # a single tensor works too
    torch.testing.assert_close(w.grad, torch.full((4,), 0.5), rtol=1e-5, atol=0)
    w.grad = torch.zeros(4)  # zero gradients stay zero, no NaN
    assert clipping.clip_grad_norm_(w, 1.0).item() == 0.0 and torch.equal(w.grad, torch.zeros(4))


def test_clip_grad_value_matches_torch():
    a, b = _with_grads(1), _with_grads(1)
    assert clipping.clip_grad_value_(a, 0.3) is None
    torch.nn.utils.clip_grad_value_(b, 0.3)
    for p, q in zip(a, b):
        assert (p.grad is None and q.grad is None) or torch.equal(p.grad, q.grad)
    assert a[0].grad.abs().max() == 0.3


# ------------------------------------------------------------------------------------------- ewma


def test_ewma_matches_the_unrolled_sum():
    x = np.random.default_rng(0).normal(size=30)
    beta = 0.8
    t = np.arange(1, 31)
    unrolled = [(1 - beta) * np.sum(beta ** (k - t[:k]) * x[:k]) for k in t]  # (1-β) Σ β^(t-k) x_k
    np.testing.assert_allclose(optimizers.ewma(x, beta), unrolled, rtol=1e-12)
    np.testing.assert_allclose(optimizers.ewma(x, beta, bias_correction=True), unrolled / (1 - beta**t), rtol=1e-12)
    assert optimizers.ewma(x, 0.0).tolist() == x.tolist()  # β = 0 keeps only the newest value


@pytest.mark.parametrize("beta, tol", [(0.9, 0.03), (0.98, 0.01), (0.99, 0.005)])
def test_ewma_window_is_about_one_over_one_minus_beta(beta, tol):
    n = 1000
    weights = optimizers.ewma(np.eye(n), beta)[-1]  # ewma is linear: row n-1 holds the weight of each x_k
    window = round(1 / (1 - beta))
    share = weights[-window:].sum() / weights.sum()
    assert abs(share - (1 - 1 / math.e)) < tol
    assert weights[-1] > weights[-2] > weights[0] > 0


def test_ewma_bias_correction_makes_a_constant_series_exact():
    x = np.full(20, 5.0)
    raw, corrected = optimizers.ewma(x, 0.9), optimizers.ewma(x, 0.9, bias_correction=True)
    assert raw[0] == pytest.approx(0.5) and raw[-1] < 5.0  # starting at 0 drags the early values down
    np.testing.assert_allclose(corrected, 5.0, rtol=1e-12)
    columns = optimizers.ewma(np.c_[x, 2 * x], 0.5, bias_correction=True)  # (n, 2): averaged along axis 0
    np.testing.assert_allclose(columns, np.c_[x, 2 * x], rtol=1e-12)


# ------------------------------------------------------------------------------------------- errors


def _w():
    return torch.zeros(2, requires_grad=True)


ERRORS = [
    (lambda: optimizers.SGD([_w()], lr=-0.1), ValueError, r"SGD: lr is -0\.1; expected a number >= 0"),
    (lambda: optimizers.SGD([_w()], lr="0.1"), ValueError, r"SGD: lr is '0\.1'; expected a number >= 0"),
    (lambda: optimizers.SGD([_w()], lr=0.1, momentum=-1), ValueError, r"SGD: momentum is -1; expected a number >= 0"),
    (lambda: optimizers.SGD([_w()], lr=0.1, nesterov=True), ValueError,
     r"SGD: nesterov=True needs momentum > 0 and dampening = 0; got momentum=0, dampening=0"),
    (lambda: optimizers.SGD([_w()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "nesterov=True needs momentum > 0 and dampening = 0"),
    (lambda: optimizers.Adam([_w()], betas=(0.9, 1.0)), ValueError, r"Adam: betas\[1\] is 1\.0; expected a number in \[0, 1\)"),
    (lambda: optimizers.AdamW([_w()], betas=(-0.1, 0.9)), ValueError,
     r"AdamW: betas\[0\] is -0\.1; expected a number in \[0, 1\)"),
    (lambda: optimizers.Adam([_w()], betas=0.9), ValueError, r"Adam: betas is 0\.9; expected a pair \(beta1, beta2\)"),
    (lambda: optimizers.Adam([_w()], eps=-1e-8), ValueError, "Adam: eps is -1e-08; expected a number >= 0"),
    (lambda: optimizers.Adagrad([_w()], lr_decay=-1), ValueError, "Adagrad: lr_decay is -1"),
    (lambda: optimizers.Adadelta([_w()], rho=1.5), ValueError, r"Adadelta: rho is 1\.5; expected a number in \[0, 1\]"),
    (lambda: optimizers.RMSprop([_w()], alpha=math.nan), ValueError, r"RMSprop: alpha is nan; expected a number in \[0, 1\]"),
    (lambda: optimizers.SGD([_w(), {"params": [_w()], "lr": -1}], lr=0.1), TypeError, "SGD: params\\[1\\] is a dict"),
    (lambda: optimizers.SGD([{"params": [_w()]}, {"params": [_w()], "lr": -1}], lr=0.1), ValueError, "SGD: lr is -1"),
    (lambda: optimizers.SGD([], lr=0.1), ValueError, "SGD: params is empty; expected at least one tensor"),
    (lambda: optimizers.Adam(iter([])), ValueError, "Adam: params is empty"),
    (lambda: optimizers.Adam(_w()), TypeError, r"Adam: params is a single tensor; expected an iterable of tensors such as \[w\]"),
    (lambda: optimizers.Adam(3), TypeError, "Adam: params is a int; expected an iterable"),
    (lambda: optimizers.SGD([_w(), np.zeros(2)], lr=0.1), TypeError, r"SGD: params\[1\] is a ndarray; expected a torch tensor"),
    (lambda: optimizers.SGD([_w() * 2], lr=0.1), ValueError, r"SGD: params\[0\] is not a leaf tensor"),
    (lambda: optimizers.SGD([w := _w(), w], lr=0.1), ValueError, "SGD: a tensor appears twice in params"),
    (lambda: schedules.StepLR(torch.zeros(2), step_size=3), TypeError, "StepLR: optimizer is a Tensor; expected an optimizer"),
    (lambda: schedules.OneCycleLR([_w()], max_lr=1.0, total_steps=10), TypeError, "OneCycleLR: optimizer is a list; expected"),
    (lambda: schedules.StepLR(optimizers.SGD([_w()], lr=0.1), step_size=0), ValueError,
     "StepLR: step_size is 0; expected a positive integer"),
    (lambda: schedules.ExponentialLR(optimizers.SGD([_w()], lr=0.1), gamma=0), ValueError,
     "ExponentialLR: gamma is 0; expected a positive number"),
    (lambda: schedules.CosineAnnealingLR(optimizers.SGD([_w()], lr=0.1), T_max=2.5), ValueError,
     "T_max is 2.5; expected a positive integer"),
    (lambda: schedules.LinearWarmup(optimizers.SGD([_w()], lr=0.1), start_factor=0), ValueError,
     r"LinearWarmup: start_factor is 0; expected a number in \(0, 1\]"),
    (lambda: schedules.OneCycleLR(optimizers.SGD([_w()], lr=0.1), max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy is 'exp'; expected 'cos' or 'linear'"),
    (lambda: schedules.OneCycleLR(optimizers.SGD([_w()], lr=0.1), max_lr=[1.0, 2.0], total_steps=10), ValueError,
     "max_lr has 2 values but the optimizer has 1 groups"),
    (lambda: schedules.OneCycleLR(optimizers.SGD([_w()], lr=0.1), max_lr=1.0, total_steps=3), ValueError,
     "expected each phase to last at least one step"),
    (lambda: schedules.OneCycleLR(optimizers.Adagrad([_w()]), max_lr=1.0, total_steps=10), ValueError,
     "cycle_momentum=True needs an optimizer with 'momentum' or 'betas'"),
    (lambda: clipping.clip_grad_norm_([_w()], max_norm=-1), ValueError,
     "clip_grad_norm_: max_norm is -1; expected a number >= 0"),
    (lambda: clipping.clip_grad_norm_([_w()], 1.0, norm_type=0), ValueError, "norm_type is 0; expected a positive number or"),
    (lambda: clipping.clip_grad_value_([_w()], -1.0), ValueError, "clip_grad_value_: clip_value is -1.0"),
    (lambda: optimizers.ewma([1.0, 2.0], beta=1.0), ValueError, r"ewma: beta is 1\.0; expected a number in \[0, 1\)"),
    (lambda: optimizers.ewma([], beta=0.9), ValueError, r"ewma: values has shape \(0,\); expected a non-empty series"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[:40] for _, _, m in ERRORS])
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_frozen_tensors_are_accepted_and_left_alone():
    """Fine-tuning passes a partly frozen model's parameters: the frozen ones never change, as in torch."""
    w, frozen = torch.ones(3, requires_grad=True), torch.ones(3)
    opt = optimizers.Adam([w, frozen], lr=0.1)
    (w.sum() + frozen.sum()).backward()
    opt.step()
    assert torch.equal(frozen, torch.ones(3)) and not torch.equal(w, torch.ones(3))
