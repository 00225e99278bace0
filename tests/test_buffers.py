"""Exemplar buffers: policies, invariants (property-based), sklearn behaviour."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from skcl.buffers import (
    BalancedExemplarsBuffer,
    ClassBalancedBuffer,
    ExperienceBalancedBuffer,
    ParametricBuffer,
    ReservoirSamplingBuffer,
)
from skcl.selection import ClosestToCenterSelectionStrategy

BUFFERS = [ReservoirSamplingBuffer, ExperienceBalancedBuffer, ClassBalancedBuffer,
           BalancedExemplarsBuffer, ParametricBuffer]

# A stream: list of experiences, each a list of class labels (sizes and classes vary).
streams = st.lists(
    st.lists(st.integers(0, 6), min_size=1, max_size=25), min_size=1, max_size=6)


def _feed(buf, stream, torch_input=False, seed=0):
    rng = np.random.default_rng(seed)
    groups = []
    for k, labels in enumerate(stream):
        y = np.asarray(labels)
        X = rng.normal(size=(len(y), 3)).astype(np.float32)
        t = rng.integers(0, 3, size=len(y))
        if torch_input:
            buf.partial_fit(torch.as_tensor(X), torch.as_tensor(y), task_labels=torch.as_tensor(t))
        else:
            buf.partial_fit(X, y, task_labels=t)
        groups.append((y, t, np.full(len(y), k)))
    return groups


@settings(max_examples=30, deadline=None)
@given(stream=streams, max_size=st.integers(0, 30), which=st.integers(0, 4))
def test_size_never_exceeds_max_size(stream, max_size, which):
    buf = BUFFERS[which](max_size=max_size, random_state=0)
    seen = 0
    rng = np.random.default_rng(0)
    for labels in stream:
        y = np.asarray(labels)
        buf.partial_fit(rng.normal(size=(len(y), 2)), y, task_labels=y % 2)
        seen += len(y)
        assert len(buf) <= max_size
        assert len(buf) == min(seen, max_size) or not isinstance(buf, ReservoirSamplingBuffer)
        assert len(buf.X_) == len(buf.y_) == len(buf.task_labels_) == len(buf.experience_ids_)


@settings(max_examples=30, deadline=None)
@given(stream=streams, max_size=st.integers(1, 30), by_class=st.booleans(),
       use_torch=st.booleans())
def test_balanced_groups_hold_their_quota(stream, max_size, by_class, use_torch):
    cls = ClassBalancedBuffer if by_class else ExperienceBalancedBuffer
    buf = cls(max_size=max_size, random_state=1)
    groups = _feed(buf, stream, torch_input=use_torch)
    y_all = np.concatenate([g[0] for g in groups])
    e_all = np.concatenate([g[2] for g in groups])
    key_all, key_mem = (y_all, np.asarray(buf.y_)) if by_class else (
        e_all, np.asarray(buf.experience_ids_))
    quotas = buf.quotas()
    assert sum(quotas.values()) == max_size
    for g, q in quotas.items():
        assert abs(q - max_size / len(quotas)) < 1  # within one sample of an even share
        held = int((key_mem == g).sum())
        assert held == min(q, int((key_all == g).sum()))
    if use_torch:
        assert isinstance(buf.X_, torch.Tensor) and isinstance(buf.y_, torch.Tensor)


@settings(max_examples=20, deadline=None)
@given(stream=streams, max_size=st.integers(2, 30), new_size=st.integers(0, 30),
       which=st.integers(0, 3))
def test_resize_keeps_the_samples_ranked_first(stream, max_size, new_size, which):
    buf = BUFFERS[which](max_size=max_size, random_state=0)
    _feed(buf, stream)
    before = set(np.asarray(buf.keys_).tolist())
    held_before = {tuple(r) for r in np.asarray(buf.X_).tolist()}
    groups_before = getattr(buf, "groups_", None)
    buf.resize(new_size)
    assert len(buf) <= new_size
    # every kept sample was held before, and in each group the kept ones outrank the dropped
    kept_keys = np.asarray(buf.keys_)
    assert all(k in before for k in kept_keys.tolist())
    assert {tuple(r) for r in np.asarray(buf.X_).tolist()} <= held_before
    if isinstance(buf, ReservoirSamplingBuffer):
        dropped = np.setdiff1d(list(before), kept_keys)
        assert len(dropped) == 0 or len(kept_keys) == 0 or kept_keys.min() > dropped.max()
    else:
        assert buf.groups_ is groups_before or np.array_equal(buf.groups_, groups_before)


def test_reservoir_is_uniform_over_everything_seen():
    # 3 experiences of 20 samples, memory 10: each sample held with probability 1/6.
    counts = np.zeros(60)
    n_runs = 600
    for seed in range(n_runs):
        buf = ReservoirSamplingBuffer(max_size=10, random_state=seed)
        for k in range(3):
            ids = np.arange(20 * k, 20 * (k + 1))
            buf.partial_fit(ids[:, None].astype(float), ids % 2)
        counts[np.asarray(buf.X_[:, 0], dtype=int)] += 1
    expected = n_runs * 10 / 60
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 100  # chi-square, 59 dof: the 0.999 quantile is ~95.8
    # per experience: equal shares
    per_exp = counts.reshape(3, 20).sum(axis=1) / counts.sum()
    np.testing.assert_allclose(per_exp, 1 / 3, atol=0.03)


def test_reservoir_is_not_biased_to_the_last_experience():
    buf = ReservoirSamplingBuffer(max_size=30, random_state=0)
    for k in range(10):
        buf.partial_fit(np.zeros((30, 2)), np.full(30, k))
    assert len(np.unique(buf.y_)) >= 8  # a FIFO would hold only class 9


def test_fit_resets_and_is_seeded():
    X, y = np.random.RandomState(0).rand(50, 4), np.arange(50) % 5
    a = ClassBalancedBuffer(max_size=10, random_state=3).fit(X, y)
    b = ClassBalancedBuffer(max_size=10, random_state=3)
    b.partial_fit(X[:5], y[:5])
    b.fit(X, y)
    np.testing.assert_array_equal(a.X_, b.X_)
    assert b.n_seen_ == 50 and b.n_updates_ == 1
    c = clone(a)
    assert not hasattr(c, "X_") and c.get_params() == a.get_params()


def test_sample_is_seeded_and_without_replacement():
    X = np.arange(40, dtype=float)[:, None]
    buf = ReservoirSamplingBuffer(max_size=20, random_state=0).fit(X, np.zeros(40))
    x1, _, _ = buf.sample(8, random_state=5)
    x2, _, _ = buf.sample(8, random_state=5)
    np.testing.assert_array_equal(x1, x2)
    assert len(np.unique(x1)) == 8
    assert len(buf.sample(100)[0]) == 20


def test_fit_resample_returns_new_data_then_old_exemplars():
    buf = ClassBalancedBuffer(max_size=4, random_state=0)
    X1, y1 = np.ones((6, 2)), np.array([0, 0, 0, 1, 1, 1])
    Xr, yr = buf.fit_resample(X1, y1)
    np.testing.assert_array_equal(Xr, X1)  # empty memory: only the new data
    X2, y2 = np.full((3, 2), 2.0), np.array([2, 2, 2])
    Xr, yr = buf.fit_resample(X2, y2)
    assert len(Xr) == 3 + 4 and (Xr[:3] == 2).all() and set(yr[3:].tolist()) == {0, 1}
    assert np.bincount(buf.y_).tolist() == [2, 1, 1]  # memory updated
    np.testing.assert_array_equal(buf.transform(X2), X2)


def test_torch_input_keeps_type_and_labels():
    buf = ExperienceBalancedBuffer(max_size=6, random_state=0)
    X = torch.randn(10, 3)
    buf.partial_fit(X, torch.arange(10), task_labels=torch.full((10,), 2))
    assert isinstance(buf.X_, torch.Tensor) and buf.X_.dtype == torch.float32
    assert buf.task_labels_.tolist() == [2] * 6
    assert all(any(torch.equal(r, x) for x in X) for r in buf.X_)
    Xs, ys, ts = buf.sample(3, random_state=0)
    assert isinstance(Xs, torch.Tensor) and len(ys) == 3


def test_fixed_size_modes_and_errors():
    buf = ClassBalancedBuffer(max_size=10, adaptive_size=False, total_num_classes=5,
                              random_state=0)
    buf.partial_fit(np.zeros((20, 1)), np.repeat([0, 1], 10))
    assert len(buf) == 4  # 2 per class, room kept for the 3 classes to come
    with pytest.raises(ValueError, match="total_num_classes"):
        ClassBalancedBuffer(max_size=10, adaptive_size=False).fit(np.zeros((2, 1)), [0, 1])
    with pytest.raises(ValueError, match="max_size"):
        ReservoirSamplingBuffer(max_size=-1).fit(np.zeros((2, 1)), [0, 1])
    with pytest.raises(ValueError, match="groupby"):
        ParametricBuffer(groupby="color").fit(np.zeros((2, 1)), [0, 1])


def test_parametric_buffer_ranks_with_its_selection_strategy():
    sel = ClosestToCenterSelectionStrategy(torch.nn.Identity(), "")
    buf = ParametricBuffer(max_size=4, groupby="experience", selection_strategy=sel,
                           random_state=0)
    buf.partial_fit(np.array([[0.0], [1.0], [2.0], [9.0]]), np.zeros(4))
    assert sorted(buf.X_.ravel().tolist()) == [0.0, 1.0, 2.0, 9.0]
    buf.partial_fit(np.array([[10.0], [11.0], [30.0]]), np.ones(3))
    # two per experience: the closest to each experience's mean (3.0 and 17.0)
    assert sorted(buf.X_.ravel().tolist()) == [1.0, 2.0, 10.0, 11.0]
    buf.resize(2)
    assert sorted(buf.X_.ravel().tolist()) == [2.0, 11.0]
