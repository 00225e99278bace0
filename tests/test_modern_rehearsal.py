"""DER, DER++, ER-ACE, MIR, SCR and BiC: hand-checked losses, offline/online runs, rollback,
pickling, and each plugin on another strategy."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch

from skcl.benchmarks import Experience, online_stream
from skcl.plugins import (
    BiCPlugin,
    DERPlugin,
    DERPlusPlusPlugin,
    ERACEPlugin,
    MIRPlugin,
    SCRPlugin,
    StrategyPlugin,
)
from skcl.plugins._bic import bic_distillation
from skcl.plugins._er_ace import ace_mask
from skcl.plugins._mir import virtual_sgd_params
from skcl.plugins._scr import supcon_loss
from skcl.strategies import DER, ERACE, EWC, MIR, SCR, BiC, DERPlusPlus, LwF, Naive

TINY = {"module__hidden_sizes": (8,), "max_epochs": 1, "lr": 0.1, "random_state": 0}
STRATEGIES = {
    "DER": lambda **kw: DER(mem_size=20, alpha=0.5, **kw),
    "DERPlusPlus": lambda **kw: DERPlusPlus(mem_size=20, alpha=0.5, beta=0.5, **kw),
    "ERACE": lambda **kw: ERACE(mem_size=20, **kw),
    "MIR": lambda **kw: MIR(mem_size=20, subsample=8, **kw),
    "SCR": lambda **kw: SCR(mem_size=20, batch_size_mem=8, projection_size=4, **kw),
    "BiC": lambda **kw: BiC(mem_size=20, bias_epochs=10, **kw),
}
PLUGIN_NAME = {"DER": "der", "DERPlusPlus": "der", "ERACE": "er_ace", "MIR": "mir",
               "SCR": "scr", "BiC": "bic"}


def _blobs(n_classes=4, per_class=12, n_features=5, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(n_classes, n_features))
    y = np.repeat(np.arange(n_classes), per_class)
    X = (centers[y] + rng.normal(size=(len(y), n_features))).astype(np.float32)
    return X, y


def _stream(n_classes=4, per_class=12):
    X, y = _blobs(n_classes, per_class)
    return [Experience(X[(y // 2) == k], y[(y // 2) == k], index=k)
            for k in range(n_classes // 2)]


def _linear_net(plugins, weight, bias=None, **kw):
    """A strategy whose module is one Linear layer with the given weights (fitted once)."""
    weight = torch.as_tensor(weight, dtype=torch.float32)
    n_out, n_in = weight.shape
    net = Naive(module=torch.nn.Linear, module__in_features=n_in, module__out_features=n_out,
                plugins=plugins, lr=0.0, random_state=0)
    X = np.zeros((n_out, n_in), dtype=np.float32)
    net.partial_fit(X, np.arange(n_out), classes=np.arange(n_out))
    with torch.no_grad():
        net.module_.weight.copy_(weight)
        net.module_.bias.copy_(torch.zeros(n_out) if bias is None else torch.as_tensor(bias))
    return net


def _put_memory(plugin, X, y, **fields):
    from skcl.buffers import ReservoirSamplingBuffer

    buf = ReservoirSamplingBuffer(max_size=len(X), random_state=0)
    buf.fit(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y),
            fields={k: torch.as_tensor(v, dtype=torch.float32) for k, v in fields.items()})
    plugin.storage_ = buf


# -- hand-checked losses ----------------------------------------------------------
def _step_loss(net, plugin, x, y):
    """The plugin's training loss for one incoming minibatch, through its own hooks."""
    batch = ({"x": torch.as_tensor(x, dtype=torch.float32),
              "task_labels": torch.zeros(len(y), dtype=torch.long)}, torch.as_tensor(y))
    inputs, y_all = plugin.adapt_batch(net, batch)
    return plugin.compute_loss(net, net.infer(inputs), y_all, inputs).item()


def test_der_and_derpp_terms_by_hand():
    # f(x) = x (identity weights); one stored sample x=(1, 2), logits z=(0, 0), label 1;
    # incoming sample x=(0, 0), label 0: its cross-entropy is log 2
    net = _linear_net([DERPlugin(mem_size=1, alpha=0.5, beta=0.0)], np.eye(2))
    der = net.named_plugins_["der"]
    _put_memory(der, [[1.0, 2.0]], [1], logits=[[0.0, 0.0]])
    x, y = [[0.0, 0.0]], [0]
    # + alpha * mean((1-0)^2, (2-0)^2) = 0.5 * 2.5
    assert _step_loss(net, der, x, y) == pytest.approx(math.log(2) + 1.25, rel=1e-6)
    der.set_params(beta=1.0)   # + beta * CE((1, 2), 1) = log(1 + e^-1)
    expected = math.log(2) + 1.25 + math.log(1 + math.e ** -1)
    assert _step_loss(net, der, x, y) == pytest.approx(expected, rel=1e-6)
    der.set_params(alpha=0.0)
    expected = math.log(2) + math.log(1 + math.e ** -1)
    assert _step_loss(net, der, x, y) == pytest.approx(expected, rel=1e-6)
    # a logit unknown at insertion (NaN) is left out of the mean: 0.5 * (1 - 0)^2
    der.set_params(alpha=0.5, beta=0.0)
    _put_memory(der, [[1.0, 2.0]], [1], logits=[[0.0, float("nan")]])
    assert _step_loss(net, der, x, y) == pytest.approx(math.log(2) + 0.5, rel=1e-6)


def test_derpp_minibatch_is_incoming_then_two_independent_draws():
    # the one-gather minibatch holds exactly the rows of the two draws, in draw order, as
    # drawing each with the plugin's generator and indexing the memory would give
    net = _linear_net([DERPlusPlusPlugin(mem_size=8, batch_size_mem=3)], np.eye(2))
    (der,) = net.named_plugins_.values()
    X = np.arange(16, dtype=np.float32).reshape(8, 2)
    _put_memory(der, X, np.arange(8) % 2, logits=X * 10)
    rng = copy.deepcopy(der.rng_)
    first, second = rng.choice(8, size=3, replace=False), rng.choice(8, size=3, replace=False)
    batch = ({"x": torch.full((2, 2), -1.0), "task_labels": torch.zeros(2, dtype=torch.long)},
             torch.tensor([0, 1]))
    inputs, y = der.adapt_batch(net, batch)
    rows = np.concatenate([first, second])
    assert torch.equal(inputs["x"][2:], torch.as_tensor(X[rows]))
    assert y[2:].tolist() == (rows % 2).tolist() and inputs["x"][:2].eq(-1).all()
    assert [(tag, m, r.tolist()) for tag, m, r in der.parts_] == [
        ("logits", 3, first.tolist()), ("labels", 3, second.tolist())]


def test_der_stores_the_logits_of_the_forward_before_the_step():
    X, y = _blobs(2, 4)
    net = DER(module__hidden_sizes=(4,), mem_size=100, lr=0.5, batch_size=8, random_state=0)
    net.partial_fit(X[:1], y[:1], classes=[0, 1])  # builds the model, one tiny step
    before = copy.deepcopy(net.module_)
    net.partial_fit(X, y)  # one minibatch of 8: its stored logits come from `before`
    storage = net.named_plugins_["der"].storage_
    assert len(storage) == 9 and storage.experience_ids_.tolist() == [0] + [1] * 8
    with torch.no_grad():
        expected = before(storage.X_[1:])
        after = net.module_(storage.X_[1:])
    assert not torch.allclose(after, expected)  # the step moved the model
    assert torch.allclose(storage.fields_["logits"][1:], expected, atol=1e-6)


def test_der_fills_logits_of_new_units_when_the_head_grows():
    train = _stream()
    net = DER(mem_size=30, **TINY)
    net.partial_fit(train[0])
    z0 = net.named_plugins_["der"].storage_.fields_["logits"].clone()
    assert z0.shape[1] == 2
    net.partial_fit(train[1])
    storage = net.named_plugins_["der"].storage_
    z = storage.fields_["logits"]
    assert z.shape[1] == 4 and not torch.isnan(z).any()
    old = storage.experience_ids_ == 0
    # old samples: new units filled with the row's lowest known logit
    assert torch.equal(z[old][:, 2], z[old][:, :2].min(dim=1).values)
    assert torch.equal(z[old][:, 3], z[old][:, :2].min(dim=1).values)


def test_er_ace_mask_and_loss_by_hand():
    # seen units {0, 1, 2}, batch of class 1: unit 1 and every unit from 2 (the highest seen)
    assert ace_mask(torch.tensor([1]), torch.tensor([0, 1, 2]), 4).tolist() == [
        False, True, True, True]
    # classes not arriving in unit order (seen {1, 3}): the never-seen units 0 and 2 stay in
    # the softmax like the future units above 3, only the absent seen unit 1 is masked
    assert ace_mask(torch.tensor([3]), torch.tensor([1, 3]), 5).tolist() == [
        True, False, True, True, True]
    net = _linear_net([ERACEPlugin(mem_size=1)], np.eye(4))
    ace = net.named_plugins_["erace"]
    ace.seen_units_ = torch.tensor([0, 2])
    ace.storage_ = None  # empty memory: only the incoming, masked term
    x = [[2.0, 1.0, 0.0, 3.0]]
    # CE over units (1, 2, 3) for label 1: -log(e^1 / (e^1 + e^0 + e^3))
    masked = -math.log(math.e / (math.e + 1 + math.e ** 3))
    assert _step_loss(net, ace, x, [1]) == pytest.approx(masked, rel=1e-6)
    # the replayed sample (same input, label 0): plain CE over all units of f(x) = x
    _put_memory(ace, x, [0])
    full = -math.log(math.e ** 2 / (math.e ** 2 + math.e + 1 + math.e ** 3))
    assert _step_loss(net, ace, x, [1]) == pytest.approx(masked + full, rel=1e-6)


def test_mir_interference_score_by_hand_and_nothing_real_is_touched():
    # f(x) = W x with W = (1, 0)^T (one input, two units), virtual lr 1
    net = _linear_net([MIRPlugin(mem_size=1, subsample=1, batch_size_mem=1)], [[1.0], [0.0]],
                      optimizer=torch.optim.SGD, optimizer__momentum=0.9)
    net.set_params(lr=1.0)
    net.optimizer_.param_groups[0]["lr"] = 1.0
    # give the optimizer some momentum state to protect
    net.module_.weight.grad = torch.ones_like(net.module_.weight)
    net.module_.bias.grad = torch.ones_like(net.module_.bias)
    state0 = copy.deepcopy(net.optimizer_.state_dict())
    net.module_.zero_grad(set_to_none=True)
    mir = net.named_plugins_["mir"]
    w0 = net.module_.weight.detach().clone()
    x_in = torch.tensor([[1.0]])
    loss_in = torch.nn.functional.cross_entropy(net.module_(x_in), torch.tensor([1]))
    cand = {"x": torch.tensor([[2.0]]), "task_labels": torch.tensor([0])}
    score = mir.interference_scores(net, loss_in, cand, torch.tensor([0])).item()
    e = math.e
    # gradient of the logits: softmax((1, 0)) - (0, 1) = (e, -e) / (1 + e), so (lr 1)
    # W' = (1, 0) - (e, -e) / (1 + e) = (1, e) / (1 + e) and b' = (-e, e) / (1 + e);
    # candidate x = 2, label 0: logits before (2, 0), after (2 - e, 3e) / (1 + e)
    pre = math.log(1 + math.exp(-2.0))
    post = math.log(1 + math.exp((4 * e - 2) / (1 + e)))
    assert score == pytest.approx(post - pre, rel=1e-5)
    assert torch.equal(net.module_.weight, w0)
    assert net.module_.weight.grad is None and net.module_.bias.grad is None
    assert str(net.optimizer_.state_dict()) == str(state0)


def test_virtual_sgd_params_matches_a_deep_copied_sgd_step():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    loss = torch.nn.functional.cross_entropy(net(x), y)
    virtual = virtual_sgd_params(net, loss, lr=0.3)
    twin = copy.deepcopy(net)
    torch.optim.SGD(twin.parameters(), lr=0.3).zero_grad()
    torch.nn.functional.cross_entropy(twin(x), y).backward()
    torch.optim.SGD(twin.parameters(), lr=0.3).step()
    for name, p in twin.named_parameters():
        assert torch.allclose(virtual[name], p, atol=1e-6)
    assert all(p.grad is None for p in net.parameters())


def test_supcon_loss_by_hand():
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # anchors 0 and 1: one positive (cos 1) against {positive, negative (cos 0)}; anchor 2 has
    # no positive and is left out: -(1 - log(e + 1)) with t = 1
    assert supcon_loss(z, torch.tensor([0, 0, 1]), 1.0).item() == pytest.approx(
        math.log(math.e + 1) - 1, rel=1e-6)
    # temperature 0.5: similarities doubled
    assert supcon_loss(z, torch.tensor([0, 0, 1]), 0.5).item() == pytest.approx(
        math.log(math.e ** 2 + 1) - 2, rel=1e-6)
    # two positives for an anchor: the mean of their log-probabilities
    z2 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    each = -(1 - math.log(math.e + 2))
    assert supcon_loss(z2, torch.tensor([0, 0, 1, 1]), 1.0).item() == pytest.approx(each,
                                                                                     rel=1e-6)


def test_scr_predicts_the_nearest_class_mean_of_the_memory():
    train = _stream()
    net = SCR(mem_size=40, batch_size_mem=8, projection_size=4, **TINY)
    for exp in train:
        net.partial_fit(exp)
    scr = net.named_plugins_["scr"]
    mem = scr.storage_
    with torch.no_grad():
        f = torch.nn.functional.normalize(net.module_.get_features(mem.X_), dim=1)
        X = torch.as_tensor(_blobs()[0])
        fx = torch.nn.functional.normalize(net.module_.get_features(X), dim=1)
    means = torch.stack([torch.nn.functional.normalize(f[mem.y_ == c].mean(0), dim=0)
                         for c in range(4)])
    expected = torch.cdist(fx, means).argmin(1).numpy()
    assert np.array_equal(net.predict(X.numpy()), net.class_order_[expected])
    assert hasattr(net.module_, "scr_projection")


def test_bic_distillation_and_bias_by_hand():
    s, t = torch.tensor([[0.0, math.log(3.0)]]), torch.zeros(1, 2)
    # T = 1: -(0.5 log 1/4 + 0.5 log 3/4)
    assert bic_distillation(s, t, 1.0).item() == pytest.approx(
        -(0.5 * math.log(0.25) + 0.5 * math.log(0.75)), rel=1e-6)
    # T = 2: T^2 * the same with halved logits: student softmax (1, sqrt 3) / (1 + sqrt 3)
    r = math.sqrt(3.0)
    assert bic_distillation(s, t, 2.0).item() == pytest.approx(
        -4 * (0.5 * math.log(1 / (1 + r)) + 0.5 * math.log(r / (1 + r))), rel=1e-6)
    bic = BiCPlugin()
    bic.bias_, bic.bias_units_ = (2.0, -1.0), np.array([1, 2])
    out = bic.adapt_eval_output(None, None, torch.tensor([[1.0, 1.0, 3.0]]))
    assert out.tolist() == [[1.0, 1.0, 5.0]]


def test_bic_stage_one_loss_weights_by_hand():
    train = _stream()
    net = BiC(mem_size=40, bias_epochs=5, **TINY)
    net.partial_fit(train[0])
    seen = {}

    class Peek(StrategyPlugin):
        def after_forward(self, strategy, y_pred, y_true, inputs):
            if "loss" not in seen:
                live = strategy.named_plugins_["bic"]
                seen.update(y_pred=y_pred.detach(), y=y_true, inputs=inputs,
                            loss=live.compute_loss(strategy, y_pred.detach(), y_true, inputs))

    net.set_params(plugins=[Peek()])
    net.partial_fit(train[1])
    bic = net.named_plugins_["bic"]
    assert bic.lambda_ == pytest.approx(2 / 4)  # 2 old classes of 4
    # recompute by hand from the teacher (the model after experience 0)
    teacher = BiC(mem_size=40, bias_epochs=5, **TINY).partial_fit(train[0])
    with torch.no_grad():
        t = teacher.module_(seen["inputs"]["x"])
    # (no bias correction after the first experience: the teacher's outputs are used as is)
    ce = torch.nn.functional.cross_entropy(seen["y_pred"], seen["y"])
    kd = bic_distillation(seen["y_pred"][:, :2], t[:, :2], 2.0)
    assert seen["loss"].item() == pytest.approx((0.5 * kd + 0.5 * ce).item(), rel=1e-5)
    assert bic.bias_units_.tolist() == [2, 3] and bic.bias_ != (1.0, 0.0)


# -- every strategy: offline, online, on other strategies ------------------------------
@pytest.mark.parametrize("name", STRATEGIES)
def test_offline_and_online(name):
    train = _stream()
    X, y = _blobs()
    offline = STRATEGIES[name](**{**TINY, "max_epochs": 3})
    for exp in train:
        offline.partial_fit(exp)
    assert offline.predict(X).shape == (len(X),) and set(offline.predict(X)) <= set(range(4))
    online = STRATEGIES[name](**{**TINY, "batch_size": 10})
    pieces = online_stream(train, 10, random_state=0)
    online.partial_fit(pieces[0])
    plugin = online.named_plugins_[PLUGIN_NAME[name]]
    memory = plugin.train_memory_ if name == "BiC" else plugin.storage_
    assert 0 < len(memory) <= 10  # filled from the first small experience on
    for piece in pieces[1:]:
        online.partial_fit(piece)
    assert online.n_experiences_ == len(pieces) and len(memory) <= 20
    assert online.classes_.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("plugin", [DERPlugin(mem_size=10, beta=0.5), ERACEPlugin(mem_size=10),
                                    MIRPlugin(mem_size=10, subsample=5),
                                    SCRPlugin(mem_size=10, batch_size_mem=4, projection_size=4),
                                    BiCPlugin(mem_size=10, bias_epochs=5)],
                         ids=lambda p: type(p).__name__)
@pytest.mark.parametrize("host", [EWC, LwF])
def test_each_plugin_on_another_strategy(plugin, host):
    train = _stream()
    net = host(plugins=[plugin], **TINY)
    for exp in train:
        net.partial_fit(exp)
    live = [p for _, p in net.plugins_ if type(p) is type(plugin)][0]
    memory = live.train_memory_ if isinstance(live, BiCPlugin) else live.storage_
    assert len(memory) > 0 and net.n_experiences_ == 2


class FailsLate(StrategyPlugin):
    def __init__(self, armed=False):
        self.armed = armed

    def after_training_exp(self, strategy, experience):
        if self.armed:
            raise RuntimeError("boom")


def _plugin_state(plugin):
    out = {}
    for k, v in vars(plugin).items():
        if k.endswith("_") and hasattr(v, "fields_"):  # a buffer
            arrays = [v.X_, v.y_, v.task_labels_, v.keys_, *v.fields_.values()]
            out[k] = ([(str(a.dtype), tuple(a.shape), np.asarray(a).tobytes()) for a in arrays],
                      v.n_seen_, v.rng_.bit_generator.state)
        elif k == "rng_":
            out[k] = v.bit_generator.state
        elif isinstance(v, torch.Tensor):
            out[k] = v.tolist()
    return out


@pytest.mark.parametrize("name", STRATEGIES)
def test_failed_partial_fit_rolls_back_weights_and_memory(name):
    train = _stream()
    net = STRATEGIES[name](plugins=[FailsLate()], **TINY)
    net.partial_fit(train[0])
    plugin = net.named_plugins_[PLUGIN_NAME[name]]
    before = _plugin_state(plugin)
    weights = [p.detach().clone() for p in net.module_.parameters()]
    net.set_params(plugins__failslate__armed=True)
    with pytest.raises(RuntimeError, match="boom"):
        net.partial_fit(train[1])
    plugin = net.named_plugins_[PLUGIN_NAME[name]]
    assert _plugin_state(plugin) == before
    assert all(torch.equal(a, b) for a, b in zip(weights, net.module_.parameters()))
    with pytest.raises(ValueError, match="NaN"):
        net.partial_fit(np.full((3, 5), np.nan, dtype=np.float32), [0, 1, 2])
    assert _plugin_state(net.named_plugins_[PLUGIN_NAME[name]]) == before
    net.set_params(plugins__failslate__armed=False)
    net.partial_fit(train[1])
    assert net.n_experiences_ == 2


@pytest.mark.parametrize("name", STRATEGIES)
def test_pickle_mid_stream_then_continue_identically(name):
    train = _stream(n_classes=6, per_class=8)
    net = STRATEGIES[name](**TINY)
    net.partial_fit(train[0])
    restored = pickle.loads(pickle.dumps(net))
    X = _blobs(6, 8)[0]
    assert np.array_equal(restored.predict(X), net.predict(X))
    for exp in train[1:]:
        net.partial_fit(exp)
        restored.partial_fit(exp)
    assert all(torch.equal(p, q) for p, q in zip(net.module_.parameters(),
                                                 restored.module_.parameters()))
    a = net.named_plugins_[PLUGIN_NAME[name]]
    b = restored.named_plugins_[PLUGIN_NAME[name]]
    assert _plugin_state(a) == _plugin_state(b)


@pytest.mark.parametrize("name,param,value", [
    ("DER", "alpha", -1.0), ("DERPlusPlus", "beta", -0.5), ("ERACE", "mem_size", 0),
    ("MIR", "subsample", 0), ("SCR", "temperature", 0.0), ("BiC", "val_percentage", 1.5),
])
def test_bad_parameters_are_named_and_change_nothing(name, param, value):
    train = _stream()
    net = STRATEGIES[name](**TINY).partial_fit(train[0])
    weights = [p.detach().clone() for p in net.module_.parameters()]
    net.set_params(**{param: value})
    with pytest.raises(ValueError, match=param):
        net.partial_fit(train[1])
    assert all(torch.equal(a, b) for a, b in zip(weights, net.module_.parameters()))
    assert net.n_experiences_ == 1


def test_flat_and_nested_parameters_reach_the_same_plugin():
    net = DERPlusPlus(alpha=0.2, beta=0.7, **TINY).partial_fit(*_blobs())
    assert net.get_params()["plugins__der__beta"] == 0.7
    net.set_params(plugins__der__alpha=0.9)
    assert net.alpha == 0.9 and net.named_plugins_["der"].alpha == 0.9


@pytest.mark.parametrize("name", STRATEGIES)
def test_skorch_checkpoint_with_cl_state_continues_identically(name, tmp_path):
    from sklearn.base import clone

    train = _stream(n_classes=6, per_class=8)
    net = STRATEGIES[name](**TINY).partial_fit(train[0])
    files = {k: str(tmp_path / f"{k}.pt") for k in ("f_params", "f_optimizer", "f_cl_state")}
    net.save_params(**files)
    fresh = clone(net)
    fresh.load_params(**files)
    X = _blobs(6, 8)[0]
    np.testing.assert_array_equal(fresh.predict_proba(X), net.predict_proba(X))
    for exp in train[1:]:
        net.partial_fit(exp)
        fresh.partial_fit(exp)
    np.testing.assert_array_equal(fresh.predict_proba(X), net.predict_proba(X))
    assert _plugin_state(net.named_plugins_[PLUGIN_NAME[name]]) == _plugin_state(
        fresh.named_plugins_[PLUGIN_NAME[name]])


def test_memory_keeps_inputs_before_a_later_augmentation():
    from skcl.plugins import TransformPlugin

    X, y = _blobs(2, 8)
    net = ERACE(mem_size=50, plugins=[TransformPlugin(lambda x: x + 100.0)], **TINY)
    net.partial_fit(X, y)
    stored = net.named_plugins_["er_ace"].storage_.X_.numpy()
    assert len(stored) == 16
    assert all(np.any(np.all(np.isclose(X, row), axis=1)) for row in stored)


def test_memory_updates_every_few_steps_and_at_the_end_of_an_experience():
    X, y = _blobs(2, 16)

    class Count(StrategyPlugin):
        def after_training_iteration(self, strategy, batch):
            self.sizes_ = [*getattr(self, "sizes_", []),
                           len(strategy.named_plugins_["der"].storage_)]

    net = DER(mem_size=100, mem_update_every=3, batch_size=4, plugins=[Count()], **{
        k: v for k, v in TINY.items() if k != "batch_size"})
    net.partial_fit(X, y)  # 8 steps of 4 samples
    # the DER plugin runs first: its update after steps 3 and 6 is seen by Count
    assert net.named_plugins_["count"].sizes_ == [0, 0, 12, 12, 12, 24, 24, 24]
    assert len(net.named_plugins_["der"].storage_) == 32  # flushed at the end
    net.set_params(mem_update_every=1)
    net.partial_fit(X[:8], y[:8])
    assert net.named_plugins_["count"].sizes_[-2:] == [36, 40]
