"""Fidelity with Avalanche and the papers (issue 13): one test per item, small and fast."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skcl.benchmarks import split_digits
from skcl.plugins import GSS_greedyPlugin
from skcl.plugins._cope import ppp_loss
from skcl.strategies import (
    AR1,
    LFL,
    CoPE,
    CWRStar,
    GDumb,
    GSS_greedy,
    ICaRL,
    JointTraining,
    LwF,
    PNNStrategy,
)

ALL = np.arange(10)


@pytest.fixture(scope="module")
def digits():
    return split_digits(5, random_state=0)


def _both_ways(make, train):
    """Train two copies: plain partial_fit, and partial_fit(..., classes=all) at the first call."""
    plain, fixed = make(), make()
    for i, exp in enumerate(train):
        plain.partial_fit(exp)
        fixed.partial_fit(exp, classes=ALL if i == 0 else None)
        yield i, plain, fixed


def _labels(net, units):
    return sorted(net.class_order_[np.asarray(units, dtype=np.int64)].tolist())


def _acc(net, test):
    return float(np.mean([net.score(e) for e in test]))


# --------------------------------------------------------------------------- #
# item 2: "old" units are the units trained in earlier experiences
# --------------------------------------------------------------------------- #
def test_lwf_old_units_do_not_depend_on_classes(digits):
    train, test = digits
    make = lambda: LwF(alpha=1.0, module__hidden_sizes=(32,), lr=0.1,  # noqa: E731
                       max_epochs=3, random_state=0)
    seen = []
    for i, plain, fixed in _both_ways(make, train):
        seen += np.unique(train[i].y).tolist()
        a, b = plain.named_plugins_["lwf"].old_units_, fixed.named_plugins_["lwf"].old_units_
        assert _labels(plain, a) == _labels(fixed, b) == sorted(seen)
    assert abs(_acc(plain, test) - _acc(fixed, test)) < 0.1


def test_icarl_distills_only_trained_units_with_classes(digits):
    train, test = digits
    make = lambda: ICaRL(memory_size=100, module__hidden_sizes=(32,), lr=0.1,  # noqa: E731
                         max_epochs=3, random_state=0)
    seen = []
    for i, plain, fixed in _both_ways(make, train):
        seen += np.unique(train[i].y).tolist()
        a = plain.named_plugins_["icarl_loss"].old_units_
        b = fixed.named_plugins_["icarl_loss"].old_units_
        assert _labels(plain, a) == _labels(fixed, b) == sorted(seen)
    acc_plain, acc_fixed = _acc(plain, test), _acc(fixed, test)
    assert acc_plain > 0.6 and abs(acc_plain - acc_fixed) < 0.1


def test_lfl_head_learns_new_classes_with_classes(digits):
    train, test = digits
    make = lambda: LFL(lambda_e=0.5, module__hidden_sizes=(32,), lr=0.1,  # noqa: E731
                       max_epochs=3, random_state=0)
    *_, (_, plain, fixed) = _both_ways(make, train)
    # the last experience's classes are new: the head must have learned them both ways
    assert plain.score(test[-1]) > 0.5 and fixed.score(test[-1]) > 0.5
    assert abs(plain.score(test[-1]) - fixed.score(test[-1])) < 0.15


def test_cwrstar_consolidates_the_same_classes_with_classes(digits):
    train, test = digits
    make = lambda: CWRStar(module__hidden_sizes=(32,), lr=0.1, max_epochs=3,  # noqa: E731
                           random_state=0)
    for _, plain, fixed in _both_ways(make, train):
        pa, pb = (n.named_plugins_["cwr"].past_counts_ for n in (plain, fixed))
        counts_a = {int(plain.class_order_[u]): c for u, c in enumerate(pa) if c}
        counts_b = {int(fixed.class_order_[u]): c for u, c in enumerate(pb) if c}
        assert counts_a == counts_b
    assert abs(_acc(plain, test) - _acc(fixed, test)) < 0.1


def test_ar1_counts_the_same_classes_with_classes(digits):
    train, _ = digits
    params = {**AR1._unit_test_params(), "max_epochs": 2}
    for _, plain, fixed in _both_ways(lambda: AR1(**params), train[:3]):
        pa, pb = (n.named_plugins_["cwr"].past_counts_ for n in (plain, fixed))
        counts_a = {int(plain.class_order_[u]): c for u, c in enumerate(pa) if c}
        counts_b = {int(fixed.class_order_[u]): c for u, c in enumerate(pb) if c}
        assert counts_a == counts_b


def test_gdumb_memory_is_the_same_with_classes(digits):
    train, test = digits
    make = lambda: GDumb(mem_size=100, module__hidden_sizes=(32,), lr=0.1,  # noqa: E731
                         max_epochs=20, random_state=0)
    for _, plain, fixed in _both_ways(make, train):
        ma, mb = (n.named_plugins_["gdumb"].memory_ for n in (plain, fixed))
        ca = np.bincount(plain.class_order_[ma.y.numpy()], minlength=10)
        cb = np.bincount(fixed.class_order_[mb.y.numpy()], minlength=10)
        # same classes, both balanced (ties between equally full classes may break differently)
        assert np.array_equal(ca > 0, cb > 0) and np.abs(ca - cb).max() <= 1
    acc_plain, acc_fixed = _acc(plain, test), _acc(fixed, test)
    assert acc_plain > 0.6 and abs(acc_plain - acc_fixed) < 0.1


def test_cope_memory_holds_the_seen_classes_with_classes(digits):
    train, _ = digits
    make = lambda: CoPE(p_size=16, mem_size=40, max_it_cnt=10**6, module__hidden_sizes=(32,),  # noqa: E731
                        lr=0.1, random_state=0)
    seen = []
    for i, plain, fixed in _both_ways(make, train):
        seen += np.unique(train[i].y).tolist()
        for net in (plain, fixed):
            mem = net.named_plugins_["cope"].memory_
            assert sorted(np.unique(net.class_order_[mem.y.numpy()]).tolist()) == sorted(seen)


# --------------------------------------------------------------------------- #
# item 1: GSS keeps every class; scoring leaves .grad alone
# --------------------------------------------------------------------------- #
def test_gss_memory_holds_every_class_seen(digits):
    train, test = digits
    net = GSS_greedy(mem_size=60, module__hidden_sizes=(64,), lr=0.05, optimizer__momentum=0.9,
                     max_epochs=3, random_state=0)
    seen = set()
    for exp in train:
        net.partial_fit(exp)
        seen |= set(np.unique(exp.y).tolist())
        plugin = net.named_plugins_["gss_greedy"]
        held = net.class_order_[plugin.memory_y_[:plugin.n_filled_].numpy()]
        assert set(np.unique(held).tolist()) == seen
    assert _acc(net, test) > 0.6


@pytest.mark.parametrize("scored_batch", ["training", "incoming"])
def test_gss_scoring_leaves_grad_alone_and_matches_exact_similarities(digits, scored_batch):
    train, _ = digits
    net = GSS_greedy(mem_size=20, scored_batch=scored_batch, module__hidden_sizes=(8,),
                     random_state=0).partial_fit(train[0])
    plugin = net.named_plugins_["gss_greedy"]
    params = [p for p in net.module_.parameters() if p.requires_grad]
    sentinel = [torch.full_like(p, 7.0) for p in params]
    for p, s in zip(params, sentinel, strict=True):
        p.grad = s.clone()
    x = torch.as_tensor(train[0].X[-8:], dtype=torch.float32)
    y = torch.as_tensor(net.encode_labels(train[0].y[-8:]))
    t = torch.zeros(8, dtype=torch.long)
    G, stats, rows = plugin._stats(net, x, y, t, 4)
    for p, s in zip(params, sentinel, strict=True):
        assert torch.equal(p.grad, s)
    # exact: per-sample gradients one by one
    net.module_.eval()

    def flat_grad(xb, yb):
        loss = net.criterion_(net.module_(xb), yb)
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])

    per_sample = torch.stack([flat_grad(x[i:i + 1], y[i:i + 1]) for i in range(8)])
    dots, sq = stats.dots_and_norms(G, rows=rows)
    torch.testing.assert_close(dots, per_sample @ G.T, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(sq, (per_sample ** 2).sum(1), rtol=1e-4, atol=1e-6)
    batch = stats.group_sums([rows])[0] / 8
    torch.testing.assert_close(batch, flat_grad(x, y), rtol=1e-4, atol=1e-6)


def test_gss_rejects_unknown_scored_batch(digits):
    train, _ = digits
    with pytest.raises(ValueError, match="scored_batch"):
        GSS_greedy(scored_batch="all").partial_fit(train[0])
    assert GSS_greedyPlugin().scored_batch == "training"


# --------------------------------------------------------------------------- #
# items 3-5, 13
# --------------------------------------------------------------------------- #
def _ppp_reference(z, y, protos, T):
    """The PPP loss written sample by sample, the pseudo-prototypes detached (authors' code)."""
    loss = z.new_zeros(())
    for c in torch.unique(y).tolist():
        pc = protos[c]
        pk = torch.cat([protos[:c], protos[c + 1:]])
        idx_c = torch.nonzero(y == c).flatten().tolist()
        idx_k = torch.nonzero(y != c).flatten().tolist()

        def prob(q, x, pk=pk):
            s = torch.exp(q @ x / T)
            return s / (s + torch.exp(pk @ x / T).sum())

        for i in idx_c:
            cands = [pc] + [z[j].detach() for j in idx_c if j != i]
            loss = loss - torch.log(torch.stack([prob(q, z[i]) for q in cands]).mean()) / len(z)
        for k in idx_k:
            for j in idx_c:
                avg = (prob(z[j].detach(), z[k]) + prob(pc, z[k])) / 2
                loss = loss - torch.log(1 - avg) / len(z)
    return loss


def test_cope_ppp_gradient_treats_pseudo_prototypes_as_constants():
    gen = torch.Generator().manual_seed(0)
    protos = F.normalize(torch.randn(3, 5, generator=gen, dtype=torch.float64), dim=1)
    raw = torch.randn(7, 5, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 2, 1, 0, 2])
    z1 = F.normalize(raw, dim=1).detach().requires_grad_(True)
    z2 = z1.detach().clone().requires_grad_(True)
    got, ref = ppp_loss(z1, y, protos, 0.5), _ppp_reference(z2, y, protos, 0.5)
    torch.testing.assert_close(got, ref)
    got.backward()
    ref.backward()
    torch.testing.assert_close(z1.grad, z2.grad)


def test_cope_default_module_keeps_a_p_size_embedding(digits):
    train, test = digits
    net = CoPE(p_size=4, max_it_cnt=10**6, module__hidden_sizes=(32,), lr=0.1, random_state=0)
    for exp in train:  # 10 classes, embedding of 4
        net.partial_fit(exp)
    x = torch.as_tensor(test[0].X[:3], dtype=torch.float32)
    assert net.module_(x).shape == (3, 4)
    assert net.predict_proba(test[0].X[:3]).shape == (3, 10)
    assert set(np.unique(net.predict(np.concatenate([e.X for e in test])))) <= set(range(10))


def test_pnn_accepts_optimizer_parameters():
    train, test = split_digits(3, task_labels=True, random_state=0)
    net = PNNStrategy(optimizer__momentum=0.9, optimizer__weight_decay=1e-4,
                      module__hidden_features_per_column=16, lr=0.05, max_epochs=2,
                      random_state=0)
    for exp in train:
        net.partial_fit(exp)
    group = net.optimizer_.param_groups[0]
    assert group["momentum"] == 0.9 and group["weight_decay"] == 1e-4
    assert net.score(test[0]) > 0.8
    with pytest.raises(ValueError):  # a direct predict of an unknown task keeps its error
        net.predict(test[0].X[:2], task_labels=np.array([7, 7]))


def test_joint_training_partial_fit_error_says_call_fit():
    with pytest.raises(AttributeError, match=r"fit\(stream\)"):
        JointTraining().partial_fit  # noqa: B018
    assert not hasattr(JointTraining(), "partial_fit")


# --------------------------------------------------------------------------- #
# item 10: GDumb's sampler jumps between acceptable samples, same decisions
# --------------------------------------------------------------------------- #
def _greedy_reference(mem_y, new_y, mem_size, rng, seen_classes=()):
    """GDumb's Algorithm 1 offering every sample in turn (the plain loop)."""
    labels = np.concatenate([mem_y, new_y])
    slots = list(range(len(mem_y)))
    by_class = {}
    for pos, c in enumerate(mem_y.tolist()):
        by_class.setdefault(c, []).append(pos)
    seen = set(seen_classes) | set(by_class)
    for j, c in enumerate(new_y.tolist(), start=len(mem_y)):
        seen.add(c)
        members = by_class.setdefault(c, [])
        if len(slots) < mem_size:
            members.append(len(slots))
            slots.append(j)
        elif len(members) < mem_size / len(seen):
            victims = by_class[max(by_class, key=lambda k: len(by_class[k]))]
            k = int(rng.integers(len(victims)))
            slot = victims[k]
            victims[k] = victims[-1]
            victims.pop()
            slots[slot] = j
            members.append(slot)
    keep = np.asarray(slots, dtype=np.int64)
    return keep[np.argsort(labels[keep], kind="stable")] if len(keep) else keep


def test_gdumb_sampler_equals_the_plain_loop():
    from skcl.plugins._gdumb import greedy_class_balanced

    r = np.random.default_rng(0)
    for trial in range(200):
        n_classes, mem = int(r.integers(1, 8)), int(r.integers(1, 40))
        mem_y = r.integers(0, n_classes, size=r.integers(0, mem + 1))
        new_y = r.integers(0, n_classes + 3, size=r.integers(0, 200))
        seen = tuple(r.integers(0, 12, size=r.integers(0, 3)).tolist())
        seed = int(r.integers(1 << 30))
        got = greedy_class_balanced(mem_y, new_y, mem, np.random.default_rng(seed), seen)
        ref = _greedy_reference(mem_y, new_y, mem, np.random.default_rng(seed), seen)
        assert np.array_equal(got, ref), trial


def test_gem_batched_memory_gradients_equal_one_pass_per_memory():
    from skcl.benchmarks import permuted_digits
    from skcl.plugins._utils import memory_gradient, trainable_parameters
    from skcl.strategies import GEM

    train, _ = permuted_digits(4, random_state=0)
    net = GEM(patterns_per_experience=30, module__hidden_sizes=(16,), random_state=0)
    for exp in train[:3]:
        net.partial_fit(exp)
    plugin = net.named_plugins_["gem"]
    params = [p for _, p in trainable_parameters(net.module_)]
    net.module_.train()
    expected = torch.stack([memory_gradient(net, m, params) for m in plugin.memories_])
    plugin.before_training_iteration(net, None)  # the batched path (3 memories, no batch norm)
    torch.testing.assert_close(plugin.memory_grads_, expected, rtol=1e-4, atol=1e-6)


def test_fidelity_benchmark_smoke_run(capsys):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "fidelity.py"
    spec = importlib.util.spec_from_file_location("_bench_fidelity", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    try:
        module.main(["--streams", "split_digits", "--seeds", "0", "--strategies", "Naive",
                     "StreamingLDA"])
    finally:
        torch.set_num_threads(threads)
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| split_digits")]
    assert [r.split("|")[2].strip() for r in rows] == ["Naive", "StreamingLDA"]
    assert rows[0].split("|")[5].strip() != "-"  # Naive has its hand-written loop
    assert "failed" not in "".join(rows)
