"""Every strategy on uint8 images and on a memmap; input handling of PNN, CoPE, AR1, GEM.

The models take ``uint8`` pixels as the MLP does (scaled to ``[0, 1]``, so a
fit matches one on the float input divided by 255), images of any trailing
shape, and lazy data (a memmap) whose small memories become tensors.
"""

import numpy as np
import pytest
import torch

import skcl.strategies as strategies
from skcl.models import AR1Net
from skcl.strategies import AGEM, AR1, GEM, BaseStrategy, CoPE, PNNStrategy
from skcl.utils import LazyX

N_PER_EXP = 40
N_EXP = 3
CLASSES_PER_EXP = 4

# Names in strategies.__all__ that are not strategies (a mixin and a constant): listed here,
# so that a new name is not skipped silently (see test_every_public_strategy_is_checked).
NOT_STRATEGIES = {"AccelerateMixin", "DATA_PARALLEL_COMPATIBLE"}
STRATEGY_NAMES = [n for n in strategies.__all__ if n not in NOT_STRATEGIES]


def _labels():
    # 3 experiences of 4 new classes each (class-incremental, 12 classes)
    return np.concatenate([np.repeat(np.arange(CLASSES_PER_EXP * e, CLASSES_PER_EXP * (e + 1)),
                                     N_PER_EXP // CLASSES_PER_EXP) for e in range(N_EXP)])


def _uint8_images(shape=(1, 8, 8), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (N_EXP * N_PER_EXP, *shape)).astype(np.uint8)


def _memmap(tmp_path, X):
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=X.dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    return np.load(tmp_path / "x.npy", mmap_mode="r")


def _float_memmap(tmp_path, seed=0):
    rng = np.random.default_rng(seed)
    return _memmap(tmp_path, rng.normal(size=(N_EXP * N_PER_EXP, 16)).astype(np.float32))


def _make(name, **params):
    params = {"max_epochs": 1, "random_state": 0, **params}
    if name == "CoPE":
        params.setdefault("n_classes", N_EXP * CLASSES_PER_EXP)  # default 10 < 12 classes
    return getattr(strategies, name)(**params)


def _task_params(name, sl):
    # PNN learns one column per task label: give each experience its own
    if name != "PNNStrategy":
        return {}
    return {"task_labels": np.repeat(np.arange(N_EXP), N_PER_EXP)[sl]}


def _train_and_score(name, X, y, **params):
    net = _make(name, **params)
    if name == "JointTraining":  # no partial_fit by design: one fit on the whole stream
        net.fit(X, y, experience=np.repeat(np.arange(N_EXP), N_PER_EXP))
    else:
        for e in range(N_EXP):
            sl = slice(e * N_PER_EXP, (e + 1) * N_PER_EXP)
            net.partial_fit(X[sl], y[sl], **_task_params(name, sl))
    everything = slice(None)
    pred = net.predict(X, **_task_params(name, everything))
    assert pred.shape == (len(y),)
    assert set(pred) <= set(y)
    score = net.score(X, y, **_task_params(name, everything))
    assert 0.0 <= score <= 1.0
    return net


def test_every_public_strategy_is_checked():
    for name in STRATEGY_NAMES:
        assert issubclass(getattr(strategies, name), BaseStrategy), name
    for name in NOT_STRATEGIES:
        obj = getattr(strategies, name)
        assert not (isinstance(obj, type) and issubclass(obj, BaseStrategy)), name


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_strategy_on_uint8_images(name):
    # (N, 1, 8, 8) uint8 pixels: every strategy's default model takes them (none refuses
    # images by design)
    torch.manual_seed(0)
    _train_and_score(name, _uint8_images(), _labels())


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_strategy_on_a_float_memmap(name, tmp_path):
    torch.manual_seed(0)
    _train_and_score(name, _float_memmap(tmp_path), _labels())


def _fit_pair(name, X_uint8, **params):
    """The same strategy fitted on uint8 pixels and on the float pixels divided by 255."""
    y = _labels()
    X_float = X_uint8.astype(np.float32) / np.float32(255)
    nets = []
    for X in (X_uint8, X_float):
        torch.manual_seed(0)
        nets.append(_train_and_score(name, X, y, **params))
    return nets, X_float


def _assert_same_fit(a, b, X_a, X_b, name):
    for (na, pa), (nb, pb) in zip(a.module_.named_parameters(), b.module_.named_parameters(),
                                  strict=True):
        assert na == nb
        torch.testing.assert_close(pa, pb, rtol=0, atol=0, msg=na)
    task = _task_params(name, slice(None))
    np.testing.assert_array_equal(a.predict_proba(X_a, **task), b.predict_proba(X_b, **task))


def test_pnn_takes_uint8_images_as_floats_divided_by_255():
    # was: "mat1 and mat2 must have the same dtype, but got Byte and Float"
    X = _uint8_images()
    (a, b), X_float = _fit_pair("PNNStrategy", X)
    assert a.module_.in_features == 64
    assert len(a.module_.columns) == N_EXP
    _assert_same_fit(a, b, X, X_float, "PNNStrategy")


def test_cope_default_module_flattens_uint8_images():
    # was: "mat1 and mat2 shapes cannot be multiplied (32x64 and 1x100)"
    X = _uint8_images()
    (a, b), X_float = _fit_pair("CoPE", X)
    assert a.module_.features[1].in_features == 64
    _assert_same_fit(a, b, X, X_float, "CoPE")


@pytest.mark.parametrize("shape", [(1, 4, 4), (3, 5, 7), (1, 1, 9), (2, 2, 2), (8, 8), (1, 28, 28)])
def test_ar1_default_network_takes_any_image_shape(shape):
    # was: unflatten error (AR1Net was built for in_features=1, i.e. a 1x1 image)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_EXP * N_PER_EXP, *shape)).astype(np.float32)
    net = _train_and_score("AR1", X, _labels(), rm_sz=20)
    assert isinstance(net.module_, AR1Net)
    assert net.module_.image_shape == ((1, *shape) if len(shape) == 2 else shape)


def test_ar1_default_network_keeps_pooling_for_usual_sizes():
    # the usual 8x8 digits keep the 2x2 pooling (8 -> 4 -> 2: 32 channels x 2 x 2)
    net = AR1Net(in_features=64)
    assert net.end_features[0].in_features == 32 * 2 * 2
    net = AR1Net(in_features=784)
    assert net.end_features[0].in_features == 32 * 7 * 7


def test_ar1_takes_uint8_images_as_floats_divided_by_255():
    X = _uint8_images((1, 4, 4))
    (a, b), X_float = _fit_pair("AR1", X, rm_sz=20)
    _assert_same_fit(a, b, X, X_float, "AR1")


def test_ar1_default_network_names_the_shape_it_cannot_take():
    X = np.zeros((8, 2, 3, 4, 4), dtype=np.float32)
    net = AR1(max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match=r"\(2, 3, 4, 4\)"):
        net.partial_fit(X, np.arange(8) % 2)
    assert not getattr(net, "initialized_", False)


@pytest.mark.parametrize("cls", [GEM, AGEM])
def test_gem_memories_on_a_memmap_are_tensors_and_match_in_memory(cls, tmp_path):
    # was (GEM, 3 experiences: the batched path over 2+ memories):
    # "expected Tensor as element 0 in argument 0, but got LazyX"
    mm = _float_memmap(tmp_path)
    X, y = np.array(mm), _labels()
    nets = []
    for data in (mm, X):
        net = cls(patterns_per_experience=10, max_epochs=1, random_state=0)
        for e in range(N_EXP):
            sl = slice(e * N_PER_EXP, (e + 1) * N_PER_EXP)
            net.partial_fit(data[sl], y[sl])
        nets.append(net)
    lazy, memory = nets
    plugin = lazy.named_plugins_["gem" if cls is GEM else "agem"]
    mems = plugin.memories_ if cls is GEM else [plugin.memory_]
    assert len(mems) == (N_EXP if cls is GEM else 1)
    assert all(isinstance(m.X, torch.Tensor) and not isinstance(m.X, LazyX) for m in mems)
    for pa, pb in zip(lazy.module_.parameters(), memory.module_.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
    np.testing.assert_array_equal(lazy.predict(mm), memory.predict(X))
    assert lazy.score(mm, y) == memory.score(X, y)


@pytest.mark.parametrize("name", ["GEM", "AGEM", "GSS_greedy", "ICaRL", "GDumb", "CoPE",
                                  "Replay"])
def test_memory_plugins_on_a_memmap_of_three_experiences(name, tmp_path):
    # small memories so that they fill and are updated across the 3 experiences
    sizes = {"GEM": {"patterns_per_experience": 5}, "AGEM": {"patterns_per_experience": 5},
             "GSS_greedy": {"mem_size": 20}, "ICaRL": {"memory_size": 20},
             "GDumb": {"mem_size": 20}, "CoPE": {"mem_size": 20}, "Replay": {"mem_size": 20}}
    torch.manual_seed(0)
    _train_and_score(name, _float_memmap(tmp_path), _labels(), max_epochs=2, **sizes[name])


def test_pnn_column_input_size_counts_every_image_dimension():
    net = PNNStrategy(max_epochs=1, random_state=0)
    net.partial_fit(_uint8_images((3, 4, 2))[:N_PER_EXP], _labels()[:N_PER_EXP])
    assert net.module_.columns[0].layers[0].in_features == 3 * 4 * 2


def test_cope_embedding_input_size_counts_every_image_dimension():
    net = CoPE(max_epochs=1, random_state=0, n_classes=12, mem_size=20)
    net.partial_fit(_uint8_images((3, 4, 2))[:N_PER_EXP], _labels()[:N_PER_EXP])
    assert net.module_.features[1].in_features == 3 * 4 * 2
