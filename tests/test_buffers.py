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


# -- per-sample extra fields ------------------------------------------------------
def _buf_state(buf):
    """Everything a buffer holds, as comparable Python values (rng included)."""
    out = {}
    for k, v in vars(buf).items():
        if k == "rng_":
            out[k] = v.bit_generator.state
        elif isinstance(v, dict):
            out[k] = {n: np.asarray(a).tolist() for n, a in v.items()}
        elif isinstance(v, (np.ndarray, torch.Tensor)):
            out[k] = (type(v).__name__, str(v.dtype), np.asarray(v).tolist())
        else:
            out[k] = v
    return out


@settings(max_examples=20, deadline=None)
@given(stream=streams, max_size=st.integers(0, 12), which=st.integers(0, 4),
       use_torch=st.booleans())
def test_fields_stay_aligned_through_every_policy(stream, max_size, which, use_torch):
    # each sample's field rows are a function of its input row: alignment is checkable
    buf = BUFFERS[which](max_size=max_size, random_state=0)
    rng = np.random.default_rng(0)
    for labels in stream:
        y = np.asarray(labels)
        X = rng.normal(size=(len(y), 3)).astype(np.float32)
        fields = {"logits": np.c_[X.sum(1), -X[:, 0]], "step": (X[:, 1] * 1e6).astype(np.int64)}
        if use_torch:
            X, y = torch.as_tensor(X), torch.as_tensor(y)
            fields = {k: torch.as_tensor(v) for k, v in fields.items()}
        buf.partial_fit(X, y, fields=fields)
    for new_size in (max_size, max_size // 2):
        buf.resize(new_size)
        Xs, f = np.asarray(buf.X_), buf.fields_
        assert set(f) == {"logits", "step"} and len(f["logits"]) == len(Xs)
        assert isinstance(f["logits"], torch.Tensor) == use_torch
        assert np.array_equal(np.asarray(f["logits"]), np.c_[Xs.sum(1), -Xs[:, 0]])
        assert np.array_equal(np.asarray(f["step"]), (Xs[:, 1] * 1e6).astype(np.int64))
        assert np.asarray(f["step"]).dtype == np.int64
    if len(buf):
        Xs, ys, ts, fs = buf.sample(3, random_state=1, return_fields=True)
        Xs = np.asarray(Xs)
        assert np.array_equal(np.asarray(fs["logits"]), np.c_[Xs.sum(1), -Xs[:, 0]])


def test_fields_are_checked_kept_on_device_and_pickled():
    import pickle

    buf = ReservoirSamplingBuffer(max_size=4, random_state=0)
    X = torch.randn(6, 2)
    buf.partial_fit(X, torch.arange(6), fields={"logits": torch.randn(6, 3, dtype=torch.float16)})
    assert buf.fields_["logits"].dtype == torch.float16  # compact: the dtype given is kept
    assert buf.fields_["logits"].device == buf.X_.device and buf.fields_["logits"].shape == (4, 3)
    before = _buf_state(buf)
    with pytest.raises(ValueError, match=r"names the buffer stores \['logits'\]"):
        buf.partial_fit(X, torch.arange(6))
    with pytest.raises(ValueError, match=r"shape \(4,\) but the buffer stores samples of shape "
                                         r"\(3,\)"):
        buf.partial_fit(X, torch.arange(6), fields={"logits": torch.zeros(6, 4)})
    with pytest.raises(ValueError, match="one entry per sample"):
        buf.partial_fit(X, torch.arange(6), fields={"logits": torch.zeros(5, 3)})
    assert _buf_state(buf) == before
    restored = pickle.loads(pickle.dumps(buf))
    assert _buf_state(restored) == before


# -- a rejected update changes nothing (issue 12, item 7) --------------------------
def _fixed_three_classes():
    buf = ClassBalancedBuffer(max_size=9, adaptive_size=False, total_num_classes=3,
                              random_state=0)
    buf.partial_fit(np.arange(12.0).reshape(6, 2), np.array([0, 0, 1, 1, 2, 2]),
                    fields={"z": np.arange(6)})
    return buf


def test_rejected_fourth_class_leaves_the_buffer_bit_identical():
    buf = _fixed_three_classes()
    before = _buf_state(buf)
    with pytest.raises(ValueError, match=r"4 groups seen \(classes \[0, 1, 2\] held, \[3\] new\)"
                                         r" but total_num_classes=3"):
        buf.partial_fit(np.ones((2, 2)), np.array([0, 3]), fields={"z": np.arange(2)})
    assert _buf_state(buf) == before
    # and the same next update as an untouched twin gives the same result
    twin = _fixed_three_classes()
    for b in (buf, twin):
        b.partial_fit(np.ones((4, 2)), np.array([0, 1, 2, 2]), fields={"z": np.arange(4)})
    assert _buf_state(buf) == _buf_state(twin)


def test_rejected_fit_keeps_the_old_memory():
    buf = _fixed_three_classes()
    before = _buf_state(buf)
    with pytest.raises(ValueError, match="total_num_classes=3"):
        buf.fit(np.ones((4, 2)), np.array([0, 1, 2, 3]), fields={"z": np.arange(4)})
    assert _buf_state(buf) == before


@pytest.mark.parametrize("first_torch", [False, True])
def test_mixing_numpy_and_torch_of_other_widths_names_the_shapes(first_torch):
    buf = ReservoirSamplingBuffer(max_size=5, random_state=0)
    X3 = np.zeros((4, 3), dtype=np.float32)
    X4 = np.zeros((2, 4), dtype=np.float32)
    first, second = (torch.as_tensor(X3), X4) if first_torch else (X3, torch.as_tensor(X4))
    buf.partial_fit(first, np.arange(4))
    before = _buf_state(buf)
    with pytest.raises(ValueError, match=r"X has 4 features.*expecting 3.*X has shape \(2, 4\) "
                                         r"\(samples of shape \(4,\)\) but the buffer holds "
                                         r"samples of shape \(3,\)"):
        buf.partial_fit(second, np.arange(2))
    assert _buf_state(buf) == before


@pytest.mark.parametrize("first,second,match", [
    ([0, 1, 2], ["a", "b"], r"seen number labels \[0, 1, 2\] but got string labels"),
    (["a", "b"], [1, 2], r"seen string labels \['a', 'b'\] but got number labels \[1, 2\]"),
    ([0, 1, 2], [1.0, 2.5], r"seen integer labels \[0, 1, 2\] but got non-integral labels "
                            r"\[2.5\]"),
])
def test_labels_changing_type_are_rejected(first, second, match):
    buf = ReservoirSamplingBuffer(max_size=10, random_state=0)
    buf.partial_fit(np.zeros((len(first), 2)), np.array(first))
    before = _buf_state(buf)
    with pytest.raises(ValueError, match=match):
        buf.partial_fit(np.zeros((len(second), 2)), np.array(second))
    assert _buf_state(buf) == before


def test_integral_float_labels_join_integer_labels():
    buf = ReservoirSamplingBuffer(max_size=10, random_state=0)
    buf.partial_fit(np.zeros((2, 2)), np.array([0, 1]))
    buf.partial_fit(np.zeros((2, 2)), np.array([2.0, 1.0]))
    assert buf.y_.dtype.kind == "i" and sorted(buf.y_.tolist()) == [0, 1, 1, 2]
    tbuf = ReservoirSamplingBuffer(max_size=10, random_state=0)
    tbuf.partial_fit(torch.zeros(2, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="non-integral labels"):
        tbuf.partial_fit(torch.zeros(1, 2), torch.tensor([0.5]))
    tbuf.partial_fit(torch.zeros(1, 2), torch.tensor([3.0]))
    assert tbuf.y_.dtype == torch.int64 and tbuf.classes_.tolist() == [0, 1, 3]


# -- feature names (issue 10, item 6) -----------------------------------------------
def test_feature_names_out_and_pandas_output_in_a_pipeline():
    pd = pytest.importorskip("pandas")
    from sklearn.preprocessing import StandardScaler

    from skcl.pipeline import make_pipeline
    from skcl.strategies import Naive

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)).astype(np.float32), columns=["a", "b", "c"])
    y = np.arange(40) % 2
    buf = ReservoirSamplingBuffer(max_size=10, random_state=0).fit(X, y)
    assert buf.get_feature_names_out().tolist() == ["a", "b", "c"]
    assert ReservoirSamplingBuffer(5).fit(torch.zeros(2, 2), [0, 1]).get_feature_names_out(
    ).tolist() == ["x0", "x1"]
    pipe = make_pipeline(StandardScaler(), ReservoirSamplingBuffer(max_size=10, random_state=0),
                         Naive(module__hidden_sizes=(4,), random_state=0))
    pipe.set_output(transform="pandas")
    pipe.partial_fit(X, y, classes=[0, 1])
    Xt = pipe[:-1].transform(X)
    assert isinstance(Xt, pd.DataFrame) and Xt.columns.tolist() == ["a", "b", "c"]
    assert pipe[:-1].get_feature_names_out().tolist() == ["a", "b", "c"]
    assert pipe.predict(X).shape == (40,)
