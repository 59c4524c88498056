"""The NumPy training loop and the BCE-with-logits loss layer."""

import numpy as np
import pytest
import torch

from lessons_lib.data.real import load
from lessons_lib.data.splits import split
from lessons_lib.data.tables import employee_bonus
from lessons_lib.data.toy import toy
from lessons_lib.functional.metrics import output_accuracy
from lessons_lib.scratch.fit import evaluate, fit
from lessons_lib.scratch.layers import BCEWithLogitsLoss, Linear, MSELoss, Sequential, SoftmaxCrossEntropy, mlp


def test_bce_with_logits_layer_matches_torch():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(7, 1)) * 5
    y = rng.integers(0, 2, size=(7, 1)).astype(float)
    layer = BCEWithLogitsLoss()
    loss = layer.forward(z, y)
    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(y))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(layer.backward(), zt.grad.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: logits have shape \(7, 1\) but targets have shape \(7,\)"):
        layer.forward(z, y.ravel())
    with pytest.raises(RuntimeError, match="called before forward"):
        BCEWithLogitsLoss().backward()


def test_accuracy_for_multiclass_and_binary_outputs():
    assert output_accuracy(np.array([0, 0]), np.array([[2.0, 1.0], [0.0, 3.0]])) == 0.5
    assert output_accuracy(np.array([1, 0, 0]), np.array([[0.3], [-0.2], [1.0]])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="accuracy: y_true has 3 labels but y_pred has 2"):
        output_accuracy(np.zeros(3), np.zeros((2, 3)))


def test_fit_learns_xor_with_a_hidden_layer():
    X, y = toy("xor", n=400, noise=0.05, seed=0)
    net = mlp([2, 16, 1], activation="tanh", rng=0)
    history = fit(net, BCEWithLogitsLoss(), X, y, lr=0.5, epochs=200, batch_size=32, rng=0)
    assert history.train_loss[-1] < history.train_loss[0] / 3
    assert output_accuracy(y, net.forward(X)) > 0.93


def test_fit_on_digits_with_validation_history():
    t = load("digits")
    s = split(t.X / 16.0, t.y, seed=0)
    net = mlp([64, 64, 10], rng=0)
    history = fit(net, SoftmaxCrossEntropy(), s.X_train, s.y_train, lr=0.1, epochs=15, batch_size=32,
                  X_val=s.X_val, y_val=s.y_val)
    assert history.epochs == 15 and len(history.val_metric) == 15
    assert history.val_metric[-1] > 0.9 and history.train_metric[-1] > 0.9


def test_early_stopping_restores_the_best_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = X[:, 0] + 0.5 * rng.normal(size=40)
    Xv = rng.normal(size=(200, 5))
    yv = Xv[:, 0] + 0.5 * rng.normal(size=200)
    # A wide net on 40 noisy points overfits: validation loss turns up while training loss keeps falling.
    net = mlp([5, 128, 1], rng=0)
    history = fit(net, MSELoss(), X, y, lr=0.05, epochs=300, batch_size=8, X_val=Xv, y_val=yv, patience=10)
    assert history.best_epoch is not None and history.epochs > history.best_epoch
    best = min(history.val_loss)
    assert history.val_loss[history.best_epoch - 1] == best
    assert evaluate(net, MSELoss(), Xv, yv)[0] == pytest.approx(best, rel=1e-5)


def test_divergence_stops_training_without_an_exception():
    X, y = employee_bonus(n=100).X, employee_bonus(n=100).y
    net = Sequential(Linear(3, 1, rng=0))
    history = fit(net, MSELoss(), X, y, lr=10.0, epochs=50, batch_size=100)
    assert history.diverged and history.epochs < 50


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": 0}, "fit: lr is 0; expected a positive number"),
        ({"epochs": 0}, "fit: epochs is 0; expected a positive integer"),
        ({"patience": 3}, "fit: patience needs validation data"),
    ],
)
def test_fit_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit(mlp([2, 1], rng=0), MSELoss(), np.zeros((4, 2)), np.zeros(4), **kwargs)
    with pytest.raises(ValueError, match="fit: X has 4 rows but y has 3"):
        fit(mlp([2, 1], rng=0), MSELoss(), np.zeros((4, 2)), np.zeros(3))
