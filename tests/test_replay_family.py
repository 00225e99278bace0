"""Replay, GDumb, GSS_greedy, iCaRL and their plugins on split-digits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skcl.benchmarks import split_digits
from skcl.buffers import ClassBalancedBuffer, ReservoirSamplingBuffer
from skcl.default_run import COMMON
from skcl.plugins import (
    GSS_greedyPlugin,
    ICaRLLossPlugin,
    ReplayPlugin,
    StrategyPlugin,
)
from skcl.plugins._gdumb import greedy_class_balanced
from skcl.strategies import GDumb, GSS_greedy, ICaRL, Naive, Replay

SETTINGS = dict(COMMON, random_state=0)


def _final_avg(net, train, test):
    for exp in train:
        net.partial_fit(exp)
    return float(np.mean([net.score(e) for e in test]))


@pytest.fixture(scope="module")
def naive_acc(digits_streams):
    return _final_avg(Naive(**SETTINGS), *digits_streams)


class Recorder(StrategyPlugin):
    """Counts the samples trained on per experience and the task labels seen in batches."""

    def before_training_exp(self, strategy, experience):
        self.samples_ = getattr(self, "samples_", [])
        self.samples_.append(0)
        self.tasks_ = set()
        self.first_weight_ = strategy.module_.features[1].weight.detach().clone()

    def after_training_iteration(self, strategy, batch):
        self.samples_[-1] += len(batch[1])
        self.tasks_ |= set(batch[0]["task_labels"].tolist())


def test_replay_beats_naive_and_holds_its_quota(digits_streams, naive_acc):
    net = Replay(mem_size=200, plugins=[Recorder()], **SETTINGS)
    acc = _final_avg(net, *digits_streams)
    assert acc >= naive_acc + 0.30, (acc, naive_acc)
    storage = net.named_plugins_["replay"].storage_
    assert len(storage) == 200
    assert np.bincount(storage.experience_ids_.numpy()).tolist() == [40] * 5
    assert isinstance(storage.X_, torch.Tensor)
    # cost per experience does not grow: each epoch sees |current| + |current| replayed
    sizes = [len(e) for e in digits_streams[0]]
    samples = net.named_plugins_["recorder"].samples_
    assert samples[0] == SETTINGS["max_epochs"] * sizes[0]
    for k in range(1, 5):
        assert samples[k] == 2 * SETTINGS["max_epochs"] * sizes[k]


def test_gdumb_beats_naive_retrains_from_scratch_and_holds_its_quota(digits_streams, naive_acc):
    net = GDumb(mem_size=200, plugins=[Recorder()], **SETTINGS)
    initial = None
    train, test = digits_streams
    for exp in train:
        net.partial_fit(exp)
        rec = net.named_plugins_["recorder"]
        if initial is None:
            initial = rec.first_weight_
        torch.testing.assert_close(rec.first_weight_, initial)  # reset to initial weights
    acc = float(np.mean([net.score(e) for e in test]))
    assert acc >= naive_acc + 0.30, (acc, naive_acc)
    memory = net.named_plugins_["gdumb"].memory_
    assert np.bincount(memory.y.numpy()).tolist() == [20] * 10
    # trained on the memory only
    assert net.named_plugins_["recorder"].samples_[-1] == SETTINGS["max_epochs"] * 200


def test_greedy_sampler_follows_the_paper():
    rng = np.random.default_rng(0)
    keep = greedy_class_balanced(np.zeros(0, dtype=int), np.array([0] * 10 + [1] * 3), 6, rng)
    labels = np.array([0] * 10 + [1] * 3)[keep]
    assert np.bincount(labels).tolist() == [3, 3]  # class 1 took slots from class 0
    keep = greedy_class_balanced(np.zeros(0, dtype=int), np.array([0] * 10), 6, rng)
    assert keep.tolist() == [0, 1, 2, 3, 4, 5]  # a full single class keeps the first ones


def test_icarl_beats_naive_with_herding_and_nme(digits_streams, naive_acc):
    net = ICaRL(memory_size=200, **SETTINGS)
    train, test = digits_streams
    acc = _final_avg(net, train, test)
    assert acc >= naive_acc + 0.30, (acc, naive_acc)
    plugin = net.named_plugins_["icarl"]
    assert np.bincount(plugin.memory_.y.numpy()).tolist() == [20] * 10
    # predictions are the nearest normalized class mean
    X = torch.as_tensor(test[0].X[:20])
    with torch.no_grad():
        f = F.normalize(net.module_.get_features(X), dim=1)
    nearest = torch.cdist(f, plugin.class_means_).argmin(dim=1).numpy()
    np.testing.assert_array_equal(net.predict(test[0].X[:20]), net.class_order_[nearest])
    # the exemplars of the last class are its herding order under the final model
    from skcl.selection import herding_order

    unit = len(net.class_order_) - 1
    Xc = torch.as_tensor(train[-1].X[train[-1].y == net.class_order_[unit]])
    with torch.no_grad():
        fc = F.normalize(net.module_.get_features(Xc), dim=1)
    expected = Xc[herding_order(fc, n=20)]
    torch.testing.assert_close(plugin.memory_.X[plugin.memory_.y == unit], expected)


def test_icarl_growing_memory_and_feature_extractor_split():
    train, _ = split_digits(n_experiences=5, random_state=0)
    fe = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU())
    net = ICaRL(feature_extractor=fe, memory_size=3, fixed_memory=False, max_epochs=1,
                random_state=0)
    for exp in train[:3]:
        net.partial_fit(exp)
    assert len(net.named_plugins_["icarl"].memory_) == 3 * 6  # 3 per class
    assert net.module_.feature_extractor is not fe  # a copy is trained
    assert net.predict(train[0].X).shape == (len(train[0]),)


def test_icarl_loss_distills_old_classes():
    train, _ = split_digits(n_experiences=5, random_state=0)
    net = Naive(plugins=[ICaRLLossPlugin()], max_epochs=1, random_state=0)
    net.partial_fit(train[0])
    plugin = net.named_plugins_["icarlloss"]
    net.partial_fit(train[1])
    assert plugin.old_units_.tolist() == [0, 1, 2, 3] and not plugin.old_module_.training
    x = torch.as_tensor(train[1].X[:5])
    y = torch.tensor([2, 3, 2, 3, 2])
    logits = torch.randn(5, 4)
    with torch.no_grad():
        old = torch.sigmoid(plugin.old_module_(x)[:, :4])
    plugin.old_units_ = np.array([0, 1])
    loss = plugin.compute_loss(net, logits, y, {"x": x, "task_labels": torch.zeros(5)})
    target = F.one_hot(y, 4).float()
    target[:, :2] = old[:, :2]
    expected = -(target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits))
    torch.testing.assert_close(loss, expected.sum(1).mean())


def test_gss_takes_its_input_shape_from_data_and_fills_memory():
    from skcl.models import SimpleCNN

    train, _ = split_digits(n_experiences=5, random_state=0)
    net = GSS_greedy(SimpleCNN, module__image_shape=(1, 8, 8), module__channels=(4,),
                     mem_size=30, mem_strength=2, max_epochs=1, random_state=0)
    for exp in train[:2]:
        X = np.asarray(exp.X).reshape(-1, 1, 8, 8)
        net.partial_fit(X, exp.y)
    p = net.named_plugins_["gss_greedy"]
    assert p.memory_x_.shape == (30, 1, 8, 8) and p.n_filled_ == 30
    assert float(p.scores_.abs().max()) <= 1.0 + 1e-6
    assert set(p.memory_y_.tolist()) <= {0, 1, 2, 3}


def test_plugins_compose_with_each_other_and_multi_head():
    train, test = split_digits(n_experiences=5, task_labels=True, random_state=0)
    plugins = [ReplayPlugin(mem_size=60, task_balanced_dataloader=True), ICaRLLossPlugin(),
               GSS_greedyPlugin(mem_size=20), Recorder()]
    net = Naive(plugins=plugins, module__multi_head=True, module__hidden_sizes=(32,),
                lr=0.1, max_epochs=2, random_state=0)
    for exp in train[:3]:
        net.partial_fit(exp)
    rec = net.named_plugins_["recorder"]
    assert rec.tasks_ == {0, 1, 2}  # replayed samples carry their own task labels
    assert net.score(test[0]) > 0.8  # ... and go to their own head
    net.set_params(plugins__replay__mem_size=30)
    net.partial_fit(train[3])
    assert len(net.named_plugins_["replay"].storage_) == 30


def test_replay_with_other_storage_and_batch_sizes(digits_streams):
    train, _ = digits_streams
    buf = ReservoirSamplingBuffer(max_size=50)
    net = Naive(plugins=[ReplayPlugin(mem_size=50, batch_size=16, batch_size_mem=8,
                                      storage_policy=buf), Recorder()],
                max_epochs=1, random_state=0)
    for exp in train[:2]:
        net.partial_fit(exp)
    assert not hasattr(buf, "X_")  # the template is never fitted
    assert len(net.named_plugins_["replay"].storage_) == 50
    n = len(train[1])
    n_batches = -(-n // 16)
    assert net.named_plugins_["recorder"].samples_[-1] == n + 8 * n_batches
    assert net.train_batch_size_ is None  # only for the experience
    assert net.get_params()["batch_size"] == 32  # no hyper-parameter was touched


def test_bad_parameters_raise_and_leave_the_strategy_unchanged(digits_streams):
    train, _ = digits_streams
    net = Replay(mem_size=10, max_epochs=1, random_state=0).partial_fit(train[0])
    net.set_params(storage_policy=ClassBalancedBuffer(max_size=5))
    with pytest.raises(ValueError, match="must equal mem_size"):
        net.partial_fit(train[1])
    assert net.n_experiences_ == 1
    with pytest.raises(ValueError, match="mem_size"):
        GDumb(mem_size=0).partial_fit(train[0])
    with pytest.raises(ValueError, match="memory_size"):
        ICaRL(memory_size=-3).partial_fit(train[0])


def test_flat_and_nested_parameters_agree():
    net = Replay(mem_size=10)
    assert net.get_params()["plugins__replay__mem_size"] == 10
    net.set_params(mem_size=20)
    assert net.get_params()["plugins__replay__mem_size"] == 20
    assert ICaRL(memory_size=7).get_params()["plugins__icarl__memory_size"] == 7
