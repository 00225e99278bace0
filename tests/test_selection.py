"""Exemplar selection strategies."""

import numpy as np
import pytest
import torch

from skcl.selection import (
    ClosestToCenterSelectionStrategy,
    HerdingSelectionStrategy,
    RandomExemplarsSelectionStrategy,
    herding_order,
)


def test_herding_hand_checked_case():
    # mean (1.75, 1). k=1: squared distances of each f to the mean: 4.06, .56, .06, 6.06
    # -> idx 2. k=2: (f + (2,1))/2 vs mean: (0,0) .81, (1,1) .06, (4,2) 1.81 -> idx 1.
    # k=3: (f + (3,2))/3 vs mean: (0,0) -> (1, .67): .67; (4,2) -> (2.33, 1.33): .45 -> idx 3.
    # (Closest-to-center would take (0,0) third.)
    f = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 1.0], [4.0, 2.0]])
    assert herding_order(f).tolist() == [2, 1, 3, 0]
    assert herding_order(f, n=2).tolist() == [2, 1]
    # herding is not "closest to the center": 1-D case, mean 2
    f1 = np.array([[0.0], [1.0], [5.0]])
    assert herding_order(f1).tolist() == [1, 2, 0]
    closest = ClosestToCenterSelectionStrategy(torch.nn.Identity(), "")
    assert closest.make_sorted_indices(torch.tensor(f1, dtype=torch.float32)).tolist() == [1, 0, 2]


def test_herding_running_mean_tracks_the_mean_better_than_random():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(200, 5))
    mu = f.mean(axis=0)
    order = herding_order(f, n=10)
    assert len(set(order.tolist())) == 10
    err_herd = np.linalg.norm(f[order].mean(axis=0) - mu)
    err_rand = np.mean([np.linalg.norm(f[rng.choice(200, 10, replace=False)].mean(0) - mu)
                        for _ in range(50)])
    assert err_herd < err_rand / 3


def test_feature_extraction_uses_the_named_layer_and_restores_modes():
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 1))
    net.train()
    net[1].eval()  # a mixed state must come back as it was
    sel = HerdingSelectionStrategy(net, "0", batch_size=3)
    X = torch.randn(7, 2, requires_grad=True)
    feats = sel.features(X)
    assert feats.shape == (7, 4) and not feats.requires_grad
    torch.testing.assert_close(feats, net[0](X).detach())
    assert net.training and net[0].training and not net[1].training
    assert sorted(sel.make_sorted_indices(X).tolist()) == list(range(7))
    with pytest.raises(ValueError, match="No layer named"):
        HerdingSelectionStrategy(net, "nope").features(X)


def test_herding_normalizes_features_like_the_paper():
    net = torch.nn.Identity()
    X = torch.tensor([[10.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    raw = HerdingSelectionStrategy(net, "", normalize=False).make_sorted_indices(X)
    normed = HerdingSelectionStrategy(net, "", normalize=True).make_sorted_indices(X)
    assert raw.tolist() == herding_order(X).tolist()
    assert normed.tolist() == herding_order(torch.nn.functional.normalize(X, dim=1)).tolist()


def test_random_selection_is_seeded():
    s = RandomExemplarsSelectionStrategy()
    a = s.make_sorted_indices(np.zeros((10, 1)), rng=np.random.default_rng(1))
    b = s.make_sorted_indices(np.zeros((10, 1)), rng=np.random.default_rng(1))
    assert a.tolist() == b.tolist() and sorted(a.tolist()) == list(range(10))


def test_a_fitted_strategy_can_be_the_model():
    from skcl.strategies import Naive

    X = np.random.RandomState(0).rand(20, 3).astype("float32")
    net = Naive(module__hidden_sizes=(5,), random_state=0).partial_fit(X, np.arange(20) % 2)
    sel = ClosestToCenterSelectionStrategy(net, "features")
    assert sel.features(X).shape == (20, 5)
