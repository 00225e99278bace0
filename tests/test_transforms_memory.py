"""Plugins that run the model on stored or raw data see it through the strategy's transforms.

GEM / A-GEM memory gradients, EWC's Fisher and GSS's scores are computed on
``train_transform``-ed inputs (what the model trains on); the eval transform is
applied once per batch when ``adapt_eval_output`` plugins are present.
"""

import numpy as np
import pytest
import torch

from skcl.plugins import (
    AGEMPlugin,
    EWCPlugin,
    GEMPlugin,
    GSS_greedyPlugin,
    StrategyPlugin,
    _gss_greedy,
)
from skcl.plugins._ewc import fisher_diagonal
from skcl.strategies import Naive, StreamingLDA
from skcl.utils import TrainData


def _flip(x):
    # deterministic and far from the identity: a gradient on raw inputs differs from it
    return 1.0 - x


def _data(n_per_class=12, n_classes=6, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = rng.random((len(y), 5)).astype(np.float32) + y[:, None].astype(np.float32) / n_classes
    return X, y


def _experiences(n_exp=3):
    X, y = _data()
    return [(X[(y // 2) == k], y[(y // 2) == k]) for k in range(n_exp)]


def _net(plugins, **kw):
    kw = {"module__hidden_sizes": (8,), "batch_size": 8, "lr": 0.1, "random_state": 0, **kw}
    return Naive(plugins=plugins, **kw)


def _plugin(net, cls):
    """The strategy's clone of a plugin template."""
    (plugin,) = [p for _, p in net.plugins_ if isinstance(p, cls)]
    return plugin


def _grad_on(net, X, y, t):
    """Flat gradient of the criterion on (X, y, t) at the current parameters."""
    params = [p for p in net.module_.parameters() if p.requires_grad]
    out = net.infer({"x": X.to(net.device), "task_labels": t.to(net.device)})
    loss = net.criterion_(out, y.to(net.device))
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])


class _GEMSpy(StrategyPlugin):
    """Runs after GEM: its memory gradients against gradients on the transformed memories."""

    def __init__(self):
        self.records = []

    def before_training_iteration(self, strategy, batch):
        gem = strategy.named_plugins_["gem"]
        if gem.memory_grads_ is None:
            return
        expected = torch.stack([_grad_on(strategy, _flip(m.X), m.y, m.task_labels)
                                for m in gem.memories_])
        self.records.append((len(gem.memories_), gem.memory_grads_.clone(), expected))


def test_gem_memory_gradients_are_on_transformed_memories():
    net = _net([GEMPlugin(patterns_per_experience=6), _GEMSpy()], train_transform=_flip)
    for X, y in _experiences(3):
        net.partial_fit(X, y)
    spy = _plugin(net, _GEMSpy)
    # one memory: memory_gradient; two memories: the batched per-sample path
    assert {k for k, _, _ in spy.records} == {1, 2}
    for _, got, expected in spy.records:
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


class _AGEMSpy(StrategyPlugin):
    def __init__(self):
        self.records = []

    def before_training_iteration(self, strategy, batch):
        agem = strategy.named_plugins_["agem"]
        if agem.reference_grad_ is None:
            return
        mem = agem.memory_  # sample_size >= len(memory): the reference batch is all of it
        expected = _grad_on(strategy, _flip(mem.X), mem.y, mem.task_labels)
        self.records.append((agem.reference_grad_.clone(), expected))


def test_agem_reference_gradient_is_on_transformed_memory():
    net = _net([AGEMPlugin(patterns_per_experience=6, sample_size=64), _AGEMSpy()],
               train_transform=_flip)
    for X, y in _experiences(2):
        net.partial_fit(X, y)
    spy = _plugin(net, _AGEMSpy)
    assert spy.records
    for got, expected in spy.records:
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fisher", ["per_sample", "minibatch"])
def test_ewc_fisher_is_on_transformed_chunks(fisher):
    X, y = _experiences(1)[0]
    calls = []

    def flip(x):
        calls.append(len(x))
        return _flip(x)

    net = _net([EWCPlugin()], train_transform=flip, batch_size=3).partial_fit(X, y)
    x_t = torch.as_tensor(X)
    y_t = torch.as_tensor(net.encode_labels(y))
    t_t = torch.zeros(len(X), dtype=torch.long)
    calls.clear()
    got = fisher_diagonal(net, TrainData(x_t, y_t, t_t), chunk_size=5, fisher=fisher)
    assert calls == ([5, 5, 5, 5, 4] if fisher == "per_sample" else [3] * 8)
    net.train_transform = None  # the same Fisher, on inputs transformed by hand
    expected = fisher_diagonal(net, TrainData(_flip(x_t), y_t, t_t), chunk_size=5,
                               fisher=fisher)
    assert got.keys() == expected.keys()
    for name in got:
        torch.testing.assert_close(got[name], expected[name])
        # a Fisher on raw inputs would differ: the test sees the transform
    net_raw = fisher_diagonal(net, TrainData(x_t, y_t, t_t), chunk_size=5, fisher=fisher)
    assert any(not torch.allclose(got[n], net_raw[n]) for n in got)


def test_ewc_importances_use_the_train_transform():
    X, y = _experiences(1)[0]
    calls = []

    def flip(x):
        calls.append(len(x))
        return _flip(x)

    class Mark(StrategyPlugin):
        def after_training_exp(self, strategy, experience):
            calls.append("end")

    # EWC's Fisher runs in after_training_exp, after the epoch's minibatches
    _net([Mark(), EWCPlugin()], train_transform=flip).partial_fit(X, y)
    assert calls[calls.index("end") + 1:] == [len(X)]  # one chunk through the transform


@pytest.mark.parametrize("scored_batch", ["training", "incoming"])
def test_gss_scores_transformed_inputs_and_stores_raw_ones(scored_batch, monkeypatch):
    outputs, scored = [], []

    def flip(x):
        out = _flip(x)
        outputs.append(out)
        return out

    real = _gss_greedy.PerSampleGrads

    def spy(module, params, criterion, X, *args, **kwargs):
        scored.append(X)
        return real(module, params, criterion, X, *args, **kwargs)

    monkeypatch.setattr(_gss_greedy, "PerSampleGrads", spy)
    gss = GSS_greedyPlugin(mem_size=10, mem_strength=2, scored_batch=scored_batch)
    net = _net([gss], train_transform=flip, max_epochs=2)
    exps = _experiences(2)
    for X, y in exps:
        net.partial_fit(X, y)
    assert scored  # memory filling and full-memory scoring both ran
    for X in scored:  # each scoring input is a train_transform output (subsets and batch)
        assert any(o is X for o in outputs)
    plugin = net.named_plugins_["gss_greedy"]
    raw = {tuple(r) for X, _ in exps for r in np.round(X, 6).tolist()}
    stored = {tuple(r) for r in np.round(plugin.memory_x_[:plugin.n_filled_].numpy(),
                                         6).tolist()}
    assert plugin.n_filled_ == 10 and stored <= raw  # the memory keeps raw inputs


class _SeeInputs(StrategyPlugin):
    def __init__(self):
        self.inputs = []

    def adapt_eval_output(self, strategy, inputs, output):
        self.inputs.append(inputs["x"].clone())
        return output


@pytest.mark.parametrize("make", [
    lambda tf, p: _net(p, eval_transform=tf),
    lambda tf, p: StreamingLDA(plugins=p, eval_transform=tf, batch_size=8, random_state=0),
], ids=["Naive", "StreamingLDA"])
def test_eval_transform_runs_once_per_batch_with_eval_output_plugins(make):
    X, y = _experiences(1)[0]
    calls = []

    def double(x):
        calls.append(x.clone())
        return 2.0 * x

    net = make(double, [_SeeInputs()]).partial_fit(X, y)
    see = _plugin(net, _SeeInputs)
    calls.clear()
    see.inputs.clear()
    logits = net.forward_logits(X)
    n_batches = -(-len(X) // 8)
    assert len(calls) == n_batches  # once per batch, not twice
    assert len(see.inputs) == n_batches
    for seen, raw in zip(see.inputs, calls, strict=True):  # plugins see the model's inputs
        assert torch.equal(seen, 2.0 * raw)
    # the results are those of the model on the transformed inputs
    net.eval_transform = None
    expected = net.forward_logits(2.0 * X)
    torch.testing.assert_close(logits, expected)


def test_mir_scores_and_replays_candidates_through_train_transform():
    from skcl.plugins import MIRPlugin

    # the whole memory is the candidate set and is replayed: the penalty is the mean
    # cross-entropy on the transformed memory, whatever the draw's order
    net = _net([MIRPlugin(mem_size=20, subsample=20, batch_size_mem=20)],
               train_transform=_flip)
    for X, y in _experiences(2):
        net.partial_fit(X, y)
    mir = _plugin(net, MIRPlugin)
    mem = mir.storage_
    assert len(mem) == 20
    X, y = _experiences(2)[1]  # classes the head knows
    y_pred = net.infer({"x": _flip(torch.as_tensor(X[:8])),
                        "task_labels": torch.zeros(8, dtype=torch.long)})
    y_true = torch.as_tensor(y[:8])
    got = mir.penalty(net, y_pred, y_true, None)
    seen = {"x": _flip(mem.X_), "task_labels": mem.task_labels_}
    expected = net.criterion_(net.infer(seen), mem.y_)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    # the scores are the loss changes of the transformed candidates
    scores = mir.interference_scores(net, net.criterion_(y_pred, y_true), seen, mem.y_)
    torch.testing.assert_close(torch.sort(mir.last_scores_).values,
                               torch.sort(scores.detach()).values, rtol=1e-5, atol=1e-6)


def test_bic_bias_is_fit_on_eval_transformed_validation_memory():
    import copy

    from skcl.plugins import BiCPlugin

    net = _net([BiCPlugin(mem_size=24, bias_epochs=20)], eval_transform=_flip)
    for X, y in _experiences(2):
        net.partial_fit(X, y)
    bic = _plugin(net, BiCPlugin)
    units = bic.bias_units_
    assert len(units) and len(bic.val_memory_)
    got = bic._fit_bias(net, units)
    # the same fit on a memory that holds the transformed inputs, without a transform
    raw = copy.deepcopy(net)
    raw.eval_transform = None
    raw_bic = _plugin(raw, BiCPlugin)
    raw_bic.val_memory_.X_ = _flip(raw_bic.val_memory_.X_)
    assert got == pytest.approx(raw_bic._fit_bias(raw, units), rel=1e-6, abs=1e-7)
