"""Buffers under faults (issue 12 items 4, 7, 10; issue 11 item 2): every policy refuses bad
updates leaving the buffer bit-identical, declares its parameters, never writes into arrays it
handed out (copy-on-write), keeps uint8 compact, stores tensors on ``store_device`` and keeps
index references into a memmap instead of copies."""

import pickle

import numpy as np
import pytest
import torch
from _state import full_state

import skcl.buffers as buffers
from skcl.selection import ClosestToCenterSelectionStrategy
from skcl.utils import InvalidParameterError, LazyX

BUFFERS = [getattr(buffers, n) for n in buffers.__all__
           if not getattr(getattr(buffers, n), "__abstractmethods__", None)]
FIXED = [  # each balanced policy with a fixed number of groups: 2 groups allowed
    (buffers.ClassBalancedBuffer, {"total_num_classes": 2}, dict(y=[0, 1, 2])),
    (buffers.ExperienceBalancedBuffer, {"num_experiences": 2}, dict(experience=2)),
    (buffers.BalancedExemplarsBuffer, {"total_num_groups": 2}, dict(task_labels=2)),
]


def _data(n=12, width=3, seed=0, labels=(0, 1, 2)):
    rng = np.random.RandomState(seed)
    return rng.rand(n, width).astype(np.float32), np.resize(np.asarray(labels), n)


def _fitted(cls, torch_input=False, **params):
    buf = cls(max_size=6, random_state=0, **params)
    X, y = _data()
    if torch_input:
        X, y = torch.as_tensor(X), torch.as_tensor(y)
    for k in range(2):
        buf.partial_fit(X[k * 6:(k + 1) * 6], y[k * 6:(k + 1) * 6],
                        fields={"z": X[k * 6:(k + 1) * 6, :2]})
    return buf


def _bad_updates(torch_input):
    X, y = _data(4)
    T = torch.as_tensor
    z = X[:, :2]
    cases = {
        "width": (X[:, :2], y, {"fields": {"z": z}}),
        "other_kind_width": ((X[:, :2] if torch_input else T(X[:, :2])), y,
                             {"fields": {"z": z}}),
        "y_length": (X, y[:3], {"fields": {"z": z}}),
        "string_labels": (X, np.array(["a", "b", "c", "d"]), {"fields": {"z": z}}),
        "non_integral_labels": (X, np.array([0.5, 1.0, 2.0, 0.0]), {"fields": {"z": z}}),
        "missing_field": (X, y, {}),
        "field_rows": (X, y, {"fields": {"z": z[:2]}}),
        "task_labels_length": (X, y, {"task_labels": [0, 1], "fields": {"z": z}}),
        "empty": (X[:0], y[:0], {"fields": {"z": z[:0]}}),
    }
    if torch_input:  # numpy string labels cannot be tensors: keep them numpy
        cases = {k: ((T(a) if isinstance(a, np.ndarray) and k != "other_kind_width" else a),
                     (T(b) if b.dtype.kind in "fiu" else b), kw)
                 for k, (a, b, kw) in cases.items()}
    return cases


_INVALID_ALONE = {"y_length", "field_rows", "task_labels_length", "empty"}


@pytest.mark.parametrize("torch_input", [False, True], ids=["numpy", "torch"])
@pytest.mark.parametrize("cls", BUFFERS, ids=lambda c: c.__name__)
def test_every_rejected_update_leaves_every_policy_bit_identical(cls, torch_input):
    buf = _fitted(cls, torch_input)
    before = full_state(buf)
    for name, (X, y, kw) in _bad_updates(torch_input).items():
        with pytest.raises(ValueError):
            buf.partial_fit(X, y, **kw)
        assert full_state(buf) == before, name
        if name in _INVALID_ALONE:  # fit starts afresh: only what is invalid in itself
            with pytest.raises(ValueError):
                buf.fit(X, y, **kw)
            assert full_state(buf) == before, name
    # the next valid update gives what an untouched twin gives (rng and counters intact)
    twin = _fitted(cls, torch_input)
    X, y = _data(5, seed=1)
    if torch_input:
        X, y = torch.as_tensor(X), torch.as_tensor(y)
    for b in (buf, twin):
        b.partial_fit(X, y, fields={"z": X[:, :2]})
    assert full_state(buf) == full_state(twin)


@pytest.mark.parametrize("cls, params, extra", FIXED, ids=lambda v: getattr(v, "__name__", ""))
def test_a_group_over_the_fixed_limit_changes_nothing(cls, params, extra):
    buf = cls(max_size=6, adaptive_size=False, random_state=0, **params)
    X, y = _data(6, labels=(0, 1))
    buf.partial_fit(X, y, task_labels=np.resize([0, 1], 6))
    buf.partial_fit(X, y, task_labels=np.resize([0, 1], 6))  # experiences 0 and 1
    before = full_state(buf)
    kw = {"task_labels": extra.get("task_labels", 0), "experience": extra.get("experience")}
    with pytest.raises(ValueError, match=list(params)[0]):
        buf.partial_fit(X[:3], np.asarray(extra.get("y", [0, 1, 0])), **kw)
    assert full_state(buf) == before
    assert buf.n_seen_ == 12 and buf.n_updates_ == 2


@pytest.mark.parametrize("first_torch", [False, True])
def test_numpy_and_torch_of_other_widths_name_both_widths_and_kinds(first_torch):
    X3, X4 = np.zeros((4, 3), np.float32), np.zeros((2, 4), np.float32)
    first, second = (torch.as_tensor(X3), X4) if first_torch else (X3, torch.as_tensor(X4))
    buf = buffers.ReservoirSamplingBuffer(max_size=5).partial_fit(first, np.arange(4))
    kinds = ("a numpy array", "a torch tensor")[::-1 if first_torch else 1]
    with pytest.raises(ValueError, match=rf"X has 4 features.*expecting 3.*X is {kinds[1]}, "
                                         rf"the stored exemplars {kinds[0]}"):
        buf.partial_fit(second, np.arange(2))


# -- declared parameters --------------------------------------------------------------
BAD_PARAMS = [
    ({"max_size": -1}, "max_size"), ({"max_size": 2.5}, "max_size"),
    ({"max_size": "ten"}, "max_size"), ({"random_state": "seed"}, "random_state"),
    ({"store_device": 3}, "store_device"), ({"store_device": "gpu7"}, "store_device"),
]


@pytest.mark.parametrize("cls", BUFFERS, ids=lambda c: c.__name__)
def test_parameters_are_checked_before_anything_changes(cls):
    buf = _fitted(cls)
    before = full_state(buf)
    X, y = _data(4)
    extra = {buffers.ClassBalancedBuffer: [({"total_num_classes": 0}, "total_num_classes"),
                                           ({"adaptive_size": "no"}, "adaptive_size")],
             buffers.ExperienceBalancedBuffer: [({"num_experiences": -2}, "num_experiences")],
             buffers.BalancedExemplarsBuffer: [({"total_num_groups": 1.5}, "total_num_groups")],
             buffers.ParametricBuffer: [({"groupby": "color"}, "groupby"),
                                        ({"selection_strategy": "herding"},
                                         "selection_strategy")]}.get(cls, [])
    for params, name in BAD_PARAMS + extra:
        good = buf.get_params()
        buf.set_params(**params)
        for call in (lambda: buf.partial_fit(X, y, fields={"z": X[:, :2]}),
                     lambda: buf.fit(X, y, fields={"z": X[:, :2]})):
            with pytest.raises(InvalidParameterError, match=f"{cls.__name__}: parameter '{name}'"):
                call()
        buf.set_params(**good)
        assert full_state(buf) == before, params
    with pytest.raises(InvalidParameterError, match="max_size"):
        buf.resize(-3)
    assert full_state(buf) == before and buf.max_size == 6


def test_relations_and_devices_are_checked():
    with pytest.raises(InvalidParameterError,
                       match="'total_num_classes' must be a positive int when adaptive_size"):
        buffers.ClassBalancedBuffer(adaptive_size=False).fit(np.zeros((2, 1)), [0, 1])
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="no CUDA device is available"):
            buffers.ReservoirSamplingBuffer(store_device="cuda").fit(torch.zeros(2, 1), [0, 1])
    with pytest.raises(ValueError, match="store_device='cpu' keeps tensors.*numpy array"):
        buffers.ReservoirSamplingBuffer(store_device="cpu").fit(np.zeros((2, 1)), [0, 1])
    sel = ClosestToCenterSelectionStrategy(torch.nn.Identity(), "")
    buffers.ParametricBuffer(selection_strategy=sel).validate_parameters()


# -- compact storage ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", BUFFERS, ids=lambda c: c.__name__)
def test_uint8_stays_uint8_and_store_device_holds_the_payload(cls):
    X8 = torch.randint(0, 256, (12, 1, 2, 2), dtype=torch.uint8)
    y = torch.arange(12) % 3
    device = "cuda" if torch.cuda.is_available() else "cpu"
    buf = cls(max_size=5, random_state=0, store_device=device)
    for k in range(3):
        buf.partial_fit(X8[4 * k:4 * k + 4], y[4 * k:4 * k + 4],
                        fields={"z": X8[4 * k:4 * k + 4, 0, 0].float()})
    assert buf.X_.dtype == torch.uint8 and buf.X_.device.type == device
    assert buf.fields_["z"].device.type == device and 0 < len(buf) <= 5
    plain = cls(max_size=5, random_state=0).fit(X8.numpy(), y.numpy())
    assert plain.X_.dtype == np.uint8


def _memmap(tmp_path, array):
    path = tmp_path / "x.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=array.dtype, shape=array.shape)
    mm[:] = array
    mm.flush()
    return np.load(path, mmap_mode="r")


def _sources(lazy):
    if isinstance(lazy.source, list):
        return [s for p in lazy.source for s in _sources(p)]
    return [lazy.source]


@pytest.mark.parametrize("cls", BUFFERS, ids=lambda c: c.__name__)
def test_memmap_exemplars_are_index_references_equal_to_the_in_memory_ones(cls, tmp_path):
    X8 = np.random.RandomState(0).randint(0, 256, (60, 1, 3, 3)).astype(np.uint8)
    y = np.repeat(np.arange(6), 10)
    mm = _memmap(tmp_path, X8)
    lazy, memory = cls(max_size=8, random_state=0), cls(max_size=8, random_state=0)
    for k in range(5):  # five updates: the references never nest
        part = slice(12 * k, 12 * k + 12)
        lazy.partial_fit(LazyX(mm, np.arange(60)[part]), torch.as_tensor(y[part]))
        memory.partial_fit(torch.as_tensor(X8[part]), torch.as_tensor(y[part]))
    assert isinstance(lazy.X_, LazyX) and all(s is mm for s in _sources(lazy.X_))
    assert not isinstance(lazy.X_.source, list) or all(
        not isinstance(p.source, list) for p in lazy.X_.source)
    assert torch.equal(lazy.X_[:], memory.X_) and lazy.X_[:].dtype == torch.uint8
    assert torch.equal(lazy.y_, memory.y_)
    Xs, ys, _ = lazy.sample(4, random_state=0)
    assert isinstance(Xs, torch.Tensor) and Xs.dtype == torch.uint8
    lazy.resize(3)
    memory.resize(3)
    assert torch.equal(lazy.X_[:], memory.X_)


# -- copy-on-write: what the rollback record relies on ------------------------------------
@pytest.mark.parametrize("torch_input", [False, True], ids=["numpy", "torch"])
@pytest.mark.parametrize("cls", BUFFERS, ids=lambda c: c.__name__)
def test_updates_replace_stored_arrays_and_never_write_into_them(cls, torch_input):
    buf = _fitted(cls, torch_input)
    names = ("X_", "y_", "task_labels_", "experience_ids_", "keys_")
    for step in range(6):
        held = {n: getattr(buf, n) for n in names} | {"z": buf.fields_["z"]}
        copies = pickle.loads(pickle.dumps(held))
        X, y = _data(4 + step, seed=step + 2)
        if torch_input:
            X, y = torch.as_tensor(X), torch.as_tensor(y)
        if step == 3:
            buf.resize(4)
        else:
            buf.partial_fit(X, y, fields={"z": X[:, :2]})
        for n, arr in held.items():  # the arrays handed out before the update are unchanged
            same = torch.equal if isinstance(arr, torch.Tensor) else np.array_equal
            assert same(arr, copies[n]), (step, n)


def test_a_pickled_memory_holds_its_exemplars_not_the_file(tmp_path):
    X8 = np.random.RandomState(0).randint(0, 256, (20000, 64)).astype(np.uint8)
    mm = _memmap(tmp_path, X8)
    buf = buffers.ReservoirSamplingBuffer(max_size=10, random_state=0)
    buf.partial_fit(LazyX(mm), torch.as_tensor(np.arange(20000) % 3))
    data = pickle.dumps(buf)
    assert len(data) < 20000  # 10 exemplars of 64 bytes, not the 1.28 MB file
    loaded = pickle.loads(data)
    assert isinstance(buf.X_, LazyX) and loaded.X_.dtype == torch.uint8
    assert torch.equal(loaded.X_, buf.X_[:])
    import copy  # a deep copy (the rollback record) keeps the references
    assert isinstance(copy.deepcopy(buf).X_, LazyX)


@pytest.mark.parametrize("cls", BUFFERS, ids=lambda c: c.__name__)
def test_every_buffer_parameter_is_declared(cls):
    declared = {}
    for klass in reversed(cls.__mro__):
        declared.update(vars(klass).get("_parameter_constraints", {}))
    assert set(cls._get_param_names()) <= set(declared)
