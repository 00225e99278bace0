"""The rollback record (issue 12 item 10): it shares the buffers' arrays instead of copying
them (its cost does not grow with the memory), still restores a memory that an experience
updated before failing, and keeps the mixed-precision gradient scaler."""

import numpy as np
import pytest
import torch
from _state import full_state

from skcl.benchmarks import split_digits
from skcl.plugins import StrategyPlugin
from skcl.strategies import Naive, Replay


@pytest.fixture(scope="module")
def stream():
    return split_digits(n_experiences=3, random_state=0)[0]


SEEN = []  # outside the strategy: the rollback does not undo it


class FailAtEnd(StrategyPlugin):
    """Raises in ``after_training_exp`` of the second experience, after the memory's update."""

    def __init__(self, armed=True):
        self.armed = armed

    def after_training_exp(self, strategy, experience):
        SEEN.append(strategy.named_plugins_["replay"].storage_.n_updates_)
        if self.armed and strategy.n_experiences_ >= 1:
            raise RuntimeError("fail after the memory's update")


def test_the_record_shares_buffer_arrays_instead_of_copying_them(stream):
    net = Replay(mem_size=80, max_epochs=1, random_state=0).partial_fit(stream[0])
    live = net.named_plugins_["replay"].storage_
    record = net._snapshot()
    plugins = dict(record["plugins_"])
    recorded = plugins["replay"].storage_
    assert recorded is not live  # the buffer object (counters, generator) is copied ...
    for name in ("X_", "y_", "task_labels_", "experience_ids_", "keys_"):
        assert getattr(recorded, name) is getattr(live, name), name  # ... its arrays are not
    # generators are recorded by their state (restored in place), not copied
    assert any(gen is live.rng_ for gen, _ in record["_generator_states"])


def test_a_memory_updated_before_a_failure_is_restored(stream):
    net = Replay(mem_size=80, max_epochs=1, random_state=0,
                 plugins=[("fail", FailAtEnd())]).partial_fit(stream[0])
    before = full_state(net)
    old_X = net.named_plugins_["replay"].storage_.X_
    with pytest.raises(RuntimeError, match="after the memory's update"):
        net.partial_fit(stream[1])
    assert SEEN[-1] == 2  # the memory had changed when the failure came
    assert full_state(net) == before
    assert net.named_plugins_["replay"].storage_.X_ is old_X
    # and training resumes as if the failure never happened
    twin = Replay(mem_size=80, max_epochs=1, random_state=0,
                  plugins=[("fail", FailAtEnd(armed=False))]).partial_fit(stream[0])
    net.named_plugins_["fail"].armed = False
    for model in (net, twin):
        model.partial_fit(stream[2])
    np.testing.assert_array_equal(net.predict_proba(stream[0].X), twin.predict_proba(stream[0].X))


class Boom(StrategyPlugin):
    def after_training_iteration(self, strategy, batch):
        if strategy.n_experiences_ >= 1:
            raise RuntimeError("boom")


def test_the_gradient_scaler_is_restored(stream):
    net = Naive(precision="16-mixed", max_epochs=1, random_state=0,
                plugins=[("boom", Boom())]).partial_fit(stream[0])
    scaler = dict(net.grad_scaler_.state_dict())
    with pytest.raises(RuntimeError, match="boom"):
        net.partial_fit(stream[1])
    assert net.grad_scaler_.state_dict() == scaler


class FailInExperience(StrategyPlugin):
    """Raises after a few minibatches of the experience numbered ``at``."""

    def __init__(self, at=2):
        self.at = at

    def after_training_iteration(self, strategy, batch):
        if strategy.n_experiences_ == self.at:
            raise RuntimeError("fail in a later experience")


def test_inside_a_strategy_the_memory_is_written_in_place_and_journaled(stream):
    net = Replay(mem_size=80, max_epochs=1, random_state=0).partial_fit(stream[0])
    storage = net.named_plugins_["replay"].storage_
    X_before = storage.X_
    values = X_before.clone()
    net.partial_fit(stream[1])  # a full memory: the new experience's exemplars take slots
    assert storage.X_ is X_before and not torch.equal(X_before, values)  # no copy of it


def test_a_failed_warm_fit_over_a_stream_undoes_every_experience(stream):
    net = Replay(mem_size=80, max_epochs=1, random_state=0, warm_start=True,
                 plugins=[("fail", FailInExperience(at=3))]).partial_fit(stream[0])
    before = full_state(net)
    with pytest.raises(RuntimeError, match="later experience"):
        net.fit(stream + stream[:1])  # experiences 1, 2 and 3 (warm): the fourth fails
    assert full_state(net) == before


@pytest.mark.parametrize("optimizer", [{"optimizer__momentum": 0.9},
                                       {"optimizer": torch.optim.Adam, "lr": 0.01}],
                         ids=["sgd-momentum", "adam"])
def test_the_optimizer_state_is_restored_in_the_same_object(stream, optimizer):
    net = Naive(max_epochs=2, random_state=0, plugins=[("boom", Boom())],
                **optimizer).partial_fit(stream[0])
    live, before = net.optimizer_, full_state(net)
    assert live.state  # momentum / moments to restore
    with pytest.raises(RuntimeError, match="boom"):
        net.partial_fit(stream[1])
    assert full_state(net) == before
    assert net.optimizer_ is live  # a scheduler or callback holding it still holds it
