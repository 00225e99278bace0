"""Labels keep one type (issue 12 item 4): the same rule in strategies (class order, label
encoding) and buffers; integral floats are the integer classes."""

import numpy as np
import pytest
from _state import full_state

from skcl.buffers import ReservoirSamplingBuffer
from skcl.strategies import Replay


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    return rng.rand(40, 4).astype(np.float32), np.repeat([0, 1], 20)


@pytest.mark.parametrize("labels, message", [
    (["1", "0"], r"seen number classes \[0, 1\] but got string labels \['0', '1'\]"),
    ([0.5, 1.0], r"seen integer classes \[0, 1\] but got non-integral labels \[0.5\]"),
])
def test_encode_labels_names_a_type_change(data, labels, message):
    net = Replay(mem_size=10, max_epochs=1, random_state=0).partial_fit(*data)
    before = full_state(net)
    with pytest.raises(ValueError, match=message):
        net.encode_labels(np.array(labels))
    assert full_state(net) == before
    assert net.encode_labels(np.array([1.0, 0.0])).tolist() == [1, 0]


def test_strategy_and_its_buffer_follow_one_rule(data):
    X, y = data
    net = Replay(mem_size=10, max_epochs=1, random_state=0).partial_fit(X, y)
    net.partial_fit(X, (y + 2).astype(float))  # integral floats: new integer classes 2, 3
    assert net.classes_.tolist() == [0, 1, 2, 3] and net.classes_.dtype.kind == "i"
    storage = net.named_plugins_["replay"].storage_
    assert storage.y_.dtype.is_floating_point is False
    before = full_state(net)
    # non-integral floats are refused by scikit-learn's target check first ("continuous"),
    # which does not name the classes seen so far (inputs.py runs it before labels.py)
    for bad, message in ((np.array(["a", "b"] * 20), r"labels changed type.*\[0, 1, 2, 3\]"),
                         (y + 0.5, "labels changed type|continuous")):
        with pytest.raises(ValueError, match=message):
            net.partial_fit(X, bad)
        assert full_state(net) == before
    buf = ReservoirSamplingBuffer(max_size=5, random_state=0).partial_fit(X, y)
    buf.partial_fit(X, (y + 2).astype(float))
    assert buf.y_.dtype.kind == "i" and buf.classes_.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="labels changed type"):
        buf.partial_fit(X, np.array(["a", "b"] * 20))
