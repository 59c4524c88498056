"""Data parallelism for real: two gloo ranks on this machine hold exactly the full-batch gradient (appendix I)."""

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons_lib.training.distributed import shard, train_data_parallel, train_full_batch


def _data(n=48, features=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, features, generator=g, dtype=torch.float64),
            torch.randn(n, 1, generator=g, dtype=torch.float64))


def _mlp(features=5):
    return torch.nn.Sequential(torch.nn.Linear(features, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


MAKE_MLP = functools.partial(_mlp, 5)


def _max_difference(a, b):
    return max(np.abs(np.array(u) - np.array(v)).max() for u, v in zip(a, b))


def test_two_ranks_hold_the_full_batch_gradient_at_every_step():
    X, y = _data()
    ranks = train_data_parallel(MAKE_MLP, X, y, loss_fn=F.mse_loss, world_size=2, steps=3, lr=0.1)
    reference = train_full_batch(MAKE_MLP, X, y, loss_fn=F.mse_loss, steps=3, lr=0.1)
    assert [r["examples"] for r in ranks] == [24, 24]
    for rank in ranks:
        for step in range(3):
            assert _max_difference(rank["gradients"][step], reference["gradients"][step]) < 1e-12
        assert _max_difference(rank["parameters"], reference["parameters"]) < 1e-12
    # each rank's own loss is the mean over its half; their average is the full-batch loss
    assert np.allclose(np.mean([r["losses"] for r in ranks], axis=0), reference["losses"], atol=1e-12)
    assert abs(ranks[0]["losses"][0] - ranks[1]["losses"][0]) > 1e-3   # the halves really differ


def test_shard_splits_rows_evenly_and_refuses_uneven_splits():
    X = torch.arange(12).reshape(6, 2)
    assert torch.equal(shard(X, 1, 3), X[2:4])
    with pytest.raises(ValueError, match="7 rows do not split evenly over world_size=2"):
        shard(torch.zeros(7, 2), 0, 2)
    with pytest.raises(ValueError, match="rank must be in"):
        shard(X, 3, 3)


def test_bad_arguments_are_named_before_any_process_starts():
    X, y = _data()
    with pytest.raises(TypeError, match="make_model must be importable"):
        train_data_parallel(lambda: torch.nn.Linear(5, 1), X, y, loss_fn=F.mse_loss)
    with pytest.raises(ValueError, match="X has 48 rows but y has 47"):
        train_data_parallel(MAKE_MLP, X, y[:47], loss_fn=F.mse_loss)
    with pytest.raises(ValueError, match="world_size must be a positive integer"):
        train_data_parallel(MAKE_MLP, X, y, loss_fn=F.mse_loss, world_size=0)


def test_a_failing_rank_is_reported_not_waited_for():
    X, y = _data(features=5)
    wrong = functools.partial(torch.nn.Linear, 3, 1, dtype=torch.float64)    # expects 3 features, gets 5
    with pytest.raises(Exception, match="shapes cannot be multiplied"):
        train_data_parallel(wrong, X, y, loss_fn=F.mse_loss, timeout=60)
