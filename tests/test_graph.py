"""lessons_lib.models.graph: Â against a dense reference, a GCN layer by hand, permutation equivariance, errors."""

import networkx as nx
import numpy as np
import pytest
import torch

from lessons_lib.models.graph import GCN, GCNLayer, normalized_adjacency, receptive_field


def random_graph(n, p, seed):
    rng = np.random.default_rng(seed)
    A = np.triu((rng.random((n, n)) < p).astype(float), 1)
    return A + A.T


def dense_reference(A, self_loops=True):
    M = A + np.eye(len(A)) if self_loops else A
    d = M.sum(1)
    inv = np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0)
    return np.diag(inv) @ M @ np.diag(inv)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("self_loops", [True, False])
def test_normalized_adjacency_numpy_and_torch(seed, self_loops):
    A = random_graph(9, 0.3, seed)
    expected = dense_reference(A, self_loops)
    got = normalized_adjacency(A, self_loops=self_loops)
    assert isinstance(got, np.ndarray) and np.allclose(got, expected, atol=1e-12)
    got_t = normalized_adjacency(torch.from_numpy(A), self_loops=self_loops)
    assert isinstance(got_t, torch.Tensor) and np.allclose(got_t.numpy(), expected, atol=1e-12)
    assert np.allclose(got, got.T, atol=1e-14)
    eig = np.linalg.eigvalsh(got)
    assert eig.min() >= -1 - 1e-10 and eig.max() <= 1 + 1e-10


def test_self_loops_spectrum_and_karate():
    A = nx.to_numpy_array(nx.karate_club_graph(), weight=None)
    eig = np.linalg.eigvalsh(normalized_adjacency(A))
    assert abs(eig.max() - 1) < 1e-10 and eig.min() > -1 + 1e-6      # with self-loops, -1 is out of reach
    bipartite = np.array([[0, 1], [1, 0]], dtype=float)
    assert np.isclose(np.linalg.eigvalsh(normalized_adjacency(bipartite, self_loops=False)).min(), -1)


def test_gcn_layer_output_and_gradient_by_hand():
    torch.manual_seed(0)
    A = torch.tensor(random_graph(6, 0.5, 1))
    A_hat = normalized_adjacency(A)
    layer = GCNLayer(3, 2).double()
    H = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    out = layer(A_hat, H)
    W, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    An, Hn = A_hat.numpy(), H.detach().numpy()
    assert np.allclose(out.detach().numpy(), An @ Hn @ W + b, atol=1e-12)
    G = torch.randn(6, 2, dtype=torch.float64)                  # upstream gradient dL/dout
    (out * G).sum().backward()
    Gn = G.numpy()
    assert np.allclose(layer.weight.grad.numpy(), (An @ Hn).T @ Gn, atol=1e-12)   # dL/dW = (Â H)^T G
    assert np.allclose(H.grad.numpy(), An.T @ Gn @ W.T, atol=1e-12)               # dL/dH = Â^T G W^T
    assert np.allclose(layer.bias.grad.numpy(), Gn.sum(0), atol=1e-12)


def test_permutation_equivariance():
    torch.manual_seed(1)
    A = torch.tensor(random_graph(8, 0.4, 2))
    H = torch.randn(8, 4, dtype=torch.float64)
    model = GCN([4, 5, 3]).double()
    perm = torch.randperm(8)
    P = torch.eye(8, dtype=torch.float64)[perm]
    out = model(normalized_adjacency(A), H)
    out_perm = model(normalized_adjacency(P @ A @ P.T), P @ H)
    assert torch.allclose(out_perm, P @ out, atol=1e-12)


def test_receptive_field_matches_gradients():
    A = nx.to_numpy_array(nx.path_graph(7), weight=None)
    assert receptive_field(A, 0).sum() == 7
    assert receptive_field(A, 2)[0].tolist() == [True, True, True, False, False, False, False]
    torch.manual_seed(0)
    A_hat = normalized_adjacency(torch.tensor(A))
    for k in (1, 2, 3):
        model = GCN([2] + [4] * k, activation=torch.tanh).double()
        H = torch.randn(7, 2, dtype=torch.float64, requires_grad=True)
        model(A_hat, H)[3].sum().backward()
        reached = H.grad.abs().sum(1) > 0
        assert reached.numpy().tolist() == receptive_field(A, k)[3].tolist()


def test_return_all_and_shapes():
    model = GCN([5, 4, 3])
    out, every = model(torch.eye(6), torch.randn(6, 5), return_all=True)
    assert out.shape == (6, 3) and [o.shape[1] for o in every] == [4, 3]


def test_clear_errors():
    with pytest.raises(ValueError, match="square"):
        normalized_adjacency(np.ones((3, 4)))
    with pytest.raises(ValueError, match="square"):
        normalized_adjacency(np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        normalized_adjacency(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(ValueError, match="hops"):
        receptive_field(np.eye(3), -1)
    with pytest.raises(ValueError, match="rows"):
        GCNLayer(2, 2)(torch.eye(3), torch.randn(4, 2))
    with pytest.raises(ValueError, match="dims"):
        GCN([3])
