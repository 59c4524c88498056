"""The PyTorch training loop: learning, early stopping, checkpoints, clear errors, device policy."""

import numpy as np
import pytest
import torch
from torch import nn

from lessons_lib.data.real import load
from lessons_lib.data.splits import split
from lessons_lib.functional.metrics import output_accuracy
from lessons_lib.history import History
from lessons_lib.training.loop import evaluate, fit, load_checkpoint, make_loader, save_checkpoint


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def digits_loaders(seed=0):
    t = load("digits")
    s = split(t.X / 16.0, t.y, seed=seed, stratify=True)
    return (make_loader(s.X_train, s.y_train, 64, shuffle=True, seed=seed), make_loader(s.X_val, s.y_val, 256),
            make_loader(s.X_test, s.y_test, 256))


def test_fit_trains_a_digits_mlp():
    torch.manual_seed(0)
    train, val, test = digits_loaders()
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = fit(model, train, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=15, val_loader=val, device="cpu")
    assert isinstance(history, History) and history.epochs == 15
    assert history.train_loss[-1] < history.train_loss[0] / 3
    assert history.val_metric[-1] > 0.93
    assert evaluate(model, test, nn.CrossEntropyLoss(), device="cpu")[1] > 0.93


def test_make_loader_shuffles_with_its_own_generator():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    first = [b[1].tolist() for b in make_loader(X, y, 5, shuffle=True, seed=3)]
    torch.manual_seed(123)  # global state must not matter
    again = [b[1].tolist() for b in make_loader(X, y, 5, shuffle=True, seed=3)]
    assert first == again and sorted(sum(first, [])) == list(range(10))
    assert [b[1].tolist() for b in make_loader(X, y, 5)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    xb, yb = next(iter(make_loader(X, y, 5)))
    assert xb.dtype == torch.float32 and yb.dtype == torch.int64


def test_early_stopping_restores_the_best_epoch():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(40, 5)), rng.normal(size=(400, 5))
    y, yv = X[:, :1] + 0.5 * rng.normal(size=(40, 1)), Xv[:, :1] + 0.5 * rng.normal(size=(400, 1))
    model = nn.Sequential(nn.Linear(5, 256), nn.ReLU(), nn.Linear(256, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    val = make_loader(Xv, yv, 400)
    history = fit(model, make_loader(X, y, 8, shuffle=True), loss_fn=nn.MSELoss(), optimizer=opt, epochs=300,
                  val_loader=val, metric=None, patience=10, device="cpu")
    assert history.stopped_early and history.best_epoch < history.epochs
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)
    assert evaluate(model, val, nn.MSELoss(), metric=None, device="cpu")[0] == pytest.approx(min(history.val_loss), rel=1e-5)


def test_scheduler_and_clipping_are_applied():
    torch.manual_seed(0)
    train, val, _ = digits_loaders()
    model = nn.Sequential(nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, train, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=5, scheduler=sched,
                  clip_grad_norm=0.5, device="cpu")
    assert history.lr == [0.1, 0.1, 0.05, 0.05, 0.025]


def test_divergence_is_reported_not_raised():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 100
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=10.0)
    history = fit(model, make_loader(X, X[:, :1] * 3, 16), loss_fn=nn.MSELoss(), optimizer=opt, epochs=30, metric=None,
                  device="cpu")
    assert history.diverged and history.epochs < 30


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "m.pt", model, opt, epoch=3, note="digits")
    clone = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    clone_opt = torch.optim.Adam(clone.parameters())
    extra = load_checkpoint(path, clone, clone_opt)
    x = torch.randn(5, 4)
    assert torch.equal(model(x), clone(x)) and extra == {"epoch": 3, "note": "digits"}
    assert clone_opt.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    with pytest.raises(FileNotFoundError, match="load_checkpoint: no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt", clone)


def test_clear_errors():
    model, loss = nn.Linear(4, 1), nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    empty = make_loader(np.zeros((0, 4)), np.zeros(0, dtype=int), 8)
    with pytest.raises(ValueError, match="fit: train_loader yields no batches"):
        fit(model, empty, loss_fn=loss, optimizer=opt, epochs=1, device="cpu")
    loader = make_loader(np.zeros((8, 4)), np.array([0, 1, 2, 3, 0, 1, 2, 3]), 8)
    with pytest.raises(ValueError, match=r"fit: CrossEntropyLoss\(\) cannot compare the model's output of shape \(8, 1\)"):
        fit(model, loader, loss_fn=loss, optimizer=opt, epochs=1, device="cpu")
    with pytest.raises(ValueError, match="fit: epochs is 0"):
        fit(model, loader, loss_fn=loss, optimizer=opt, epochs=0, device="cpu")
    with pytest.raises(ValueError, match="patience .* needs a val_loader"):
        fit(model, loader, loss_fn=loss, optimizer=opt, epochs=1, patience=2, device="cpu")
    with pytest.raises(ValueError, match="make_loader: X has 3 rows but y has 2"):
        make_loader(np.zeros((3, 2)), np.zeros(2))


def test_accuracy_for_logits_and_binary_outputs():
    assert output_accuracy(torch.tensor([0, 0]), torch.tensor([[2.0, 1.0], [0.0, 3.0]])) == 0.5
    assert output_accuracy(torch.tensor([1.0, 1.0]), torch.tensor([[0.3], [-0.2]])) == 0.5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_runs_on_cuda():
    train, val, _ = digits_loaders()
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = fit(model, train, loss_fn=nn.CrossEntropyLoss(), optimizer=opt, epochs=3, val_loader=val)
    assert next(model.parameters()).device.type == "cuda" and history.val_metric[-1] > 0.8


def test_on_epoch_end_is_called_after_every_epoch():
    train, val, _ = digits_loaders()
    model = nn.Sequential(nn.Linear(64, 10))
    seen = []
    fit(model, train, loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=3,
        val_loader=val, on_epoch_end=lambda epoch, m: seen.append((epoch, m is model)), device="cpu")
    assert seen == [(1, True), (2, True), (3, True)]


def test_transformed_loader_transforms_every_pass_and_fit_trains_through_it():
    from lessons_lib.training.loop import TransformedLoader, predict_proba

    X = torch.arange(40, dtype=torch.float32).reshape(20, 2)
    y = torch.arange(20) % 2
    base = make_loader(X, y, batch_size=8, shuffle=True, seed=0)
    g = torch.Generator().manual_seed(0)
    noisy = TransformedLoader(base, lambda xb: xb + torch.randn(xb.shape, generator=g))
    assert len(noisy) == len(base) == 3
    first, second = list(noisy), list(noisy)
    xs = torch.cat([xb for xb, _ in first])
    assert xs.shape == (20, 2) and not torch.equal(first[0][0], second[0][0])   # fresh noise every pass
    plain = TransformedLoader(make_loader(X, y, batch_size=8), lambda xb: xb * 0)
    assert all(torch.all(xb == 0) for xb, _ in plain)
    assert torch.equal(torch.cat([yb for _, yb in plain]), y)                    # labels untouched, in order
    with pytest.raises(TypeError, match="transform"):
        TransformedLoader(base, "flip")

    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    scaled = TransformedLoader(make_loader(X, y, batch_size=8, shuffle=True), lambda xb: xb / 40)
    fit(model, scaled, loss_fn=nn.CrossEntropyLoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2)
    model.train()
    probs = predict_proba(model, plain)
    assert probs.shape == (20, 2) and np.allclose(probs.sum(1), 1) and model.training
