"""Architectural and streaming family: CWR*, AR1, PNN, StreamingLDA, batch renorm."""

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from skcl.benchmarks import split_digits
from skcl.models import PNN, AR1Net, BatchRenorm1d, BatchRenorm2d
from skcl.plugins import StrategyPlugin
from skcl.plugins._cwr_star import cwr_consolidate
from skcl.strategies import AR1, CWRStar, PNNStrategy, StreamingLDA


@pytest.fixture(scope="module")
def digits():
    return split_digits(n_experiences=5, random_state=0)


@pytest.fixture(scope="module")
def task_digits():
    return split_digits(n_experiences=5, task_labels=True, random_state=0)


# --------------------------------------------------------------------------- #
# BatchRenorm
# --------------------------------------------------------------------------- #
def test_batch_renorm_starts_as_batch_norm_and_keeps_stats_in_state_dict():
    torch.manual_seed(0)
    x = torch.randn(16, 3) * 3 + 1
    brn, bn = BatchRenorm1d(3), torch.nn.BatchNorm1d(3)
    # r_max = 1, d_max = 0 at the start: exactly batch norm in training mode
    torch.testing.assert_close(brn(x), bn(x), atol=1e-5, rtol=1e-5)
    state = brn.state_dict()
    for key in ("running_mean", "running_std", "r_max", "d_max"):
        assert key in state
    assert float(brn.r_max) > 1.0 and float(brn.d_max) > 0.0  # relaxed with each sample
    torch.testing.assert_close(brn.running_mean, 0.01 * x.mean(0))
    brn.eval()
    expected = (x - brn.running_mean) / brn.running_std
    torch.testing.assert_close(brn(x), expected)


def test_batch_renorm_corrects_towards_running_statistics():
    brn = BatchRenorm2d(2, max_r_max=3.0, max_d_max=5.0, r_d_max_inc_step=1.0)
    brn.running_mean.fill_(1.0)
    brn.running_std.fill_(2.0)
    brn.r_max.fill_(3.0)
    brn.d_max.fill_(5.0)
    x = torch.randn(4, 2, 3, 3)
    out = brn(x)
    # with wide clips, batch renorm reproduces the running-statistics normalisation
    expected = (x - 1.0) / 2.0
    mean_b = x.mean(dim=(0, 2, 3))
    std_b = torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False) + brn.eps)
    assert ((std_b / 2.0) < 3).all() and ((std_b / 2.0) > 1 / 3).all()
    assert ((mean_b - 1.0).abs() / 2.0 < 5).all()
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)


# --------------------------------------------------------------------------- #
# CWR*
# --------------------------------------------------------------------------- #
def test_cwr_consolidation_hand_checked():
    saved, past = np.zeros((3, 2)), np.zeros(3)
    # experience 1: classes 0 (4 samples) and 1 (2 samples); avg of all entries = 3
    saved, past = cwr_consolidate(saved, past, np.array([[1.0, 3.0], [3.0, 5.0], [9.0, 9.0]]),
                                  np.array([0, 1]), np.array([4, 2]))
    np.testing.assert_allclose(saved, [[-2.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(past, [4, 2, 0])
    # experience 2: class 0 again (1 sample) and new class 2; avg = (5+7+1+1)/4 = 3.5
    saved, past = cwr_consolidate(saved, past, np.array([[5.0, 7.0], [8.0, 8.0], [1.0, 1.0]]),
                                  np.array([0, 2]), np.array([1, 3]))
    # class 0: w_past = sqrt(4/1) = 2; ([-2, 0] * 2 + [1.5, 3.5]) / 3
    np.testing.assert_allclose(saved[0], [-2.5 / 3, 3.5 / 3])
    np.testing.assert_allclose(saved[1], [0.0, 2.0])  # absent class untouched
    np.testing.assert_allclose(saved[2], [-2.5, -2.5])  # new class: trained - avg
    np.testing.assert_allclose(past, [5, 2, 3])


class _Spy(StrategyPlugin):
    """Records the CWR layer at the end of training and the consolidated rows meanwhile."""

    def before_training_exp(self, strategy, experience):
        cwr = strategy.named_plugins_["cwr"]
        self.layer_at_start_ = cwr._get_rows(cwr._layer(strategy))
        self.saved_at_start_ = cwr.consolidated_weights_.copy()
        self.saved_changed_ = False

    def after_training_iteration(self, strategy, batch):
        cwr = strategy.named_plugins_["cwr"]
        if not np.array_equal(cwr.consolidated_weights_, self.saved_at_start_):
            self.saved_changed_ = True

    def after_training_epoch(self, strategy):
        cwr = strategy.named_plugins_["cwr"]
        self.trained_ = cwr._get_rows(cwr._layer(strategy))


@pytest.mark.parametrize("bias", [False, True])
def test_cwr_star_running_average_end_to_end(digits, bias):
    train, _ = digits
    # experience 3 repeats a class of experience 1 to exercise the weighted average
    stream = [train[0], train[1], train[0]]
    net = CWRStar(module__hidden_sizes=(16,), module__bias=bias, lr=0.1, max_epochs=2,
                  plugins=[("spy", _Spy())], random_state=0)
    saved = np.zeros((0, 16 + bias))
    past = np.zeros(0)
    for exp in stream:
        net.partial_fit(exp)
        cwr, spy = net.named_plugins_["cwr"], net.named_plugins_["spy"]
        n_units = len(net.class_order_)
        saved = np.vstack([saved, np.zeros((n_units - len(saved), saved.shape[1]))])
        past = np.concatenate([past, np.zeros(n_units - len(past))])
        units = net._encode(exp.y, net.class_order_)
        present, counts = np.unique(units, return_counts=True)
        # at the start: absent classes zero, present ones at their consolidated weights
        expected_start = np.zeros_like(saved)
        expected_start[present] = saved[present]
        np.testing.assert_allclose(spy.layer_at_start_, expected_start, atol=1e-6)
        # consolidation by hand: the paper's running average
        avg = spy.trained_[present].mean()
        for j, c in zip(present, counts, strict=True):
            wp = np.sqrt(past[j] / c)
            saved[j] = (saved[j] * wp + spy.trained_[j] - avg) / (wp + 1)
            past[j] += c
        np.testing.assert_allclose(cwr.consolidated_weights_, saved, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(cwr._get_rows(cwr._layer(net)), saved, atol=1e-5)
        assert not spy.saved_changed_  # consolidated weights untouched while training
    assert past[net._encode(train[0].y[:1], net.class_order_)[0]] > 0


def test_cwr_star_freezes_the_rest_after_first_experience(digits):
    train, test = digits
    net = CWRStar(module__hidden_sizes=(16,), lr=0.1, max_epochs=2, random_state=0)
    net.partial_fit(train[0])
    feats = {k: v.clone() for k, v in net.module_.features.state_dict().items()}
    net.partial_fit(train[1])
    for k, v in net.module_.features.state_dict().items():
        torch.testing.assert_close(v, feats[k])
    free = CWRStar(module__hidden_sizes=(16,), lr=0.1, max_epochs=2,
                   freeze_remaining_model=False, random_state=0)
    free.partial_fit(train[0]).partial_fit(train[1])
    assert not torch.equal(free.module_.features[1].weight, feats["1.weight"])


def test_cwr_star_unconsolidated_units_cannot_win(digits):
    train, test = digits
    net = CWRStar(module__hidden_sizes=(16,), lr=0.1, max_epochs=2, random_state=0)
    net.partial_fit(train[0], classes=np.arange(10))
    assert set(np.unique(net.predict(test[1].X))) <= set(train[0].classes.tolist())


def test_cwr_star_bad_layer_name(digits):
    with pytest.raises(ValueError, match="no layer named"):
        CWRStar(cwr_layer_name="nope").partial_fit(digits[0][0])


# --------------------------------------------------------------------------- #
# AR1
# --------------------------------------------------------------------------- #
def _latent(net, X):
    return net.named_plugins_["latent_replay"].latent_activations(net, torch.as_tensor(X))


def test_ar1_latent_memory_matches_stored_inputs(digits):
    train, _ = digits
    net = AR1(lr=0.05, inc_lr=0.01, batch_size=32, max_epochs=1, rm_sz=60, random_state=0)
    for exp in train[:3]:
        net.partial_fit(exp)
    mem = net.named_plugins_["latent_replay"]
    assert len(mem.rm_y_) == 60
    assert len(np.unique(mem.rm_source_[:, 0])) == 3  # all three experiences represented
    X = np.stack([train[e].X[i] for e, i in mem.rm_source_])
    y = np.array([train[e].y[i] for e, i in mem.rm_source_])
    # activations are what the (frozen) lower layers compute for the stored inputs...
    torch.testing.assert_close(_latent(net, X), mem.rm_acts_, atol=1e-5, rtol=1e-5)
    # ...and each carries its own input's label
    np.testing.assert_array_equal(net.class_order_[mem.rm_y_.numpy()], y)


def test_ar1_lower_layers_frozen_inc_lr_and_replay_batches(digits):
    train, _ = digits
    seen = []

    class BatchSpy(StrategyPlugin):
        def before_training_iteration(self, strategy, batch):
            seen.append((strategy.n_experiences_, len(batch[0]["x"]), len(batch[1]),
                         "latent_acts" in batch[0]))

    net = AR1(lr=0.05, inc_lr=0.02, batch_size=32, max_epochs=1, rm_sz=100,
              plugins=[BatchSpy()], random_state=0)
    net.partial_fit(train[0])
    assert isinstance(net.module_, AR1Net)
    assert any(isinstance(m, BatchRenorm2d) for m in net.module_.modules())
    lower = {k: v.clone() for k, v in net.module_.lat_features.state_dict().items()}
    upper = net.module_.end_features[0].weight.detach().clone()
    assert all(g["lr"] == 0.05 for g in net.optimizer_.param_groups)
    net.partial_fit(train[1])
    for k, v in net.module_.lat_features.state_dict().items():  # incl. BRN running stats
        torch.testing.assert_close(v, lower[k])
    assert not torch.equal(net.module_.end_features[0].weight, upper)
    assert all(g["lr"] == 0.02 for g in net.optimizer_.param_groups)
    first = [s for s in seen if s[0] == 0]
    later = [s for s in seen if s[0] == 1]
    assert not any(s[3] for s in first)
    # current samples are topped up to batch_size with stored activations
    assert all(s[3] and s[2] == 32 and s[1] < 32 for s in later)


def test_ar1_keeps_old_consolidated_weights_while_training(digits):
    train, _ = digits
    net = AR1(lr=0.05, inc_lr=0.01, batch_size=32, max_epochs=1, rm_sz=50,
              plugins=[("spy", _Spy())], random_state=0)
    for exp in train[:3]:
        net.partial_fit(exp)
        assert not net.named_plugins_["spy"].saved_changed_


# --------------------------------------------------------------------------- #
# PNN
# --------------------------------------------------------------------------- #
def test_pnn_no_forgetting_and_unknown_task(task_digits):
    train, test = task_digits
    net = PNNStrategy(module__hidden_features_per_column=16, module__num_layers=2, lr=0.1,
                      max_epochs=3, random_state=0)
    net.partial_fit(train[0])
    p0, proba0 = net.predict(test[0]), net.predict_proba(test[0])
    assert net.score(test[0]) > 0.9
    frozen_before = [p.clone() for p in net.module_.columns[0].parameters()]
    net.partial_fit(train[1])
    assert len(net.module_.columns) == 2
    np.testing.assert_array_equal(net.predict(test[0]), p0)
    # probabilities over the task's own classes are unchanged (new classes are masked out)
    cols = np.searchsorted(net.classes_, np.sort(train[0].classes))
    np.testing.assert_allclose(net.predict_proba(test[0])[:, cols], proba0, atol=1e-6)
    for p, q in zip(net.module_.columns[0].parameters(), frozen_before, strict=True):
        assert not p.requires_grad and torch.equal(p, q)
    assert net.score(test[1]) > 0.9
    with pytest.raises(ValueError, match="task label.*never seen"):
        net.predict(test[2].X, task_labels=np.full(len(test[2].y), 7))
    with pytest.raises(ValueError, match="learned before"):
        net.partial_fit(train[0])


def test_pnn_lateral_adapters():
    pnn = PNN(in_features=4, num_layers=2, hidden_features_per_column=3, adapter="linear")
    pnn.adaptation(5, {0: np.array([0, 1]), 1: np.array([2, 3]), 2: np.array([4])})
    assert isinstance(pnn.columns[0].adapters[1], torch.nn.Identity)
    assert [len(c.adapters[1].lateral) for c in pnn.columns[1:]] == [1, 2]
    assert all(isinstance(c.adapters[0], torch.nn.Identity) for c in pnn.columns)
    out = pnn(torch.randn(5, 4), torch.tensor([0, 1, 2, 2, 0]))
    assert out.shape == (5, 5)
    with pytest.raises(ValueError, match="adapter"):
        PNN(in_features=4, adapter="conv")


def test_pnn_strategy_rejects_other_modules(digits):
    with pytest.raises(TypeError, match="PNN"):
        PNNStrategy(module=torch.nn.Linear, module__in_features=64,
                    module__out_features=10).partial_fit(digits[0][0])


# --------------------------------------------------------------------------- #
# StreamingLDA
# --------------------------------------------------------------------------- #
class _ShrunkToIdentity(BaseEstimator):
    """Covariance ``(1 - eps) S + eps I``: SLDA's shrinkage, for sklearn's LDA."""

    def __init__(self, eps=1e-4):
        self.eps = eps

    def fit(self, X, y=None):
        c = np.cov(X, rowvar=False, bias=True)
        self.covariance_ = (1 - self.eps) * c + self.eps * np.eye(X.shape[1])
        return self


def test_streaming_lda_matches_batch_lda(digits):
    train, test = digits
    X = np.concatenate([e.X for e in train])
    y = np.concatenate([e.y for e in train])
    Xt = np.concatenate([e.X for e in test])
    yt = np.concatenate([e.y for e in test])
    eps = 1e-2
    slda = StreamingLDA(shrinkage_param=eps, batch_size=4, random_state=0)
    for exp in train:
        slda.partial_fit(exp)
    lda = LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator=_ShrunkToIdentity(eps))
    lda.fit(X, y)
    assert abs(slda.score(Xt, yt) - lda.score(Xt, yt)) <= 0.01
    assert slda.score(Xt, yt) > 0.9
    means = np.stack([X[y == c].mean(0) for c in slda.class_order_])
    np.testing.assert_allclose(slda.means_.numpy(), means, atol=1e-6)
    np.testing.assert_array_equal(slda.counts_.numpy(), [np.sum(y == c)
                                                        for c in slda.class_order_])
    assert slda.n_updates_ == len(y) and slda.optimizer_ is None


def test_streaming_lda_batches_equal_single_samples(digits):
    train, _ = digits
    one = StreamingLDA(batch_size=1, random_state=0)
    many = StreamingLDA(batch_size=64, random_state=0)
    for exp in train[:2]:
        one.partial_fit(exp)
        many.partial_fit(exp)
    torch.testing.assert_close(one.covariance_, many.covariance_)
    torch.testing.assert_close(one.means_, many.means_)
    # the per-sample formula, written out, on the first experience's first samples
    ref = StreamingLDA(batch_size=5, iterator_train__shuffle=False).partial_fit(
        train[0].X[:5], train[0].y[:5])
    mu, cnt, sigma, n = {}, {}, np.zeros((64, 64)), 0
    for x, c in zip(train[0].X[:5].astype(float), train[0].y[:5], strict=True):
        m = mu.get(c, np.zeros(64))
        d = x - m
        sigma = (n * sigma + n / (n + 1) * np.outer(d, d)) / (n + 1)
        mu[c] = m + d / (cnt.get(c, 0) + 1)
        cnt[c] = cnt.get(c, 0) + 1
        n += 1
    np.testing.assert_allclose(ref.covariance_.numpy(), sigma, atol=1e-10)


def test_streaming_lda_unseen_classes_never_win_and_fit_base(digits):
    train, test = digits
    slda = StreamingLDA(shrinkage_param=0.1).partial_fit(train[0], classes=np.arange(10))
    assert set(np.unique(slda.predict(test[1].X))) <= set(train[0].classes.tolist())
    proba = slda.predict_proba(test[1].X)
    assert np.all(proba[:, ~np.isin(slda.classes_, train[0].classes)] == 0)
    base = StreamingLDA(shrinkage_param=0.1, streaming_update_sigma=False)
    base.fit_base(train[0])
    from sklearn.covariance import OAS

    X0, y0 = train[0].X.astype(float), train[0].y
    centred = X0 - np.stack([X0[y0 == c].mean(0) for c in y0])
    np.testing.assert_allclose(base.covariance_.numpy(),
                               OAS(assume_centered=True).fit(centred).covariance_, atol=1e-8)
    cov = base.covariance_.clone()
    base.partial_fit(train[1])  # covariance frozen, means keep streaming
    torch.testing.assert_close(base.covariance_, cov)
    assert base.n_updates_ == len(train[0].y) + len(train[1].y)
    assert base.score(test[1]) > 0.8


def test_streaming_lda_bad_params(digits):
    with pytest.raises(ValueError, match="shrinkage_param"):
        StreamingLDA(shrinkage_param=2.0).partial_fit(digits[0][0])
    with pytest.raises(ValueError, match="input_size"):
        StreamingLDA(input_size=10).partial_fit(digits[0][0])
    with pytest.raises(ValueError, match="num_classes"):
        clone(StreamingLDA(num_classes=1)).partial_fit(digits[0][0])
