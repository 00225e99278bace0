"""The per-sample gradient machinery (skcl.utils._fisher) against exact vmap per-sample grads."""

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from skcl.utils._fisher import PerSampleGrads, sum_grad_squared


def _exact_per_sample(module, x, y, criterion):
    params = {n: p.detach() for n, p in module.named_parameters()}
    buffers = dict(module.named_buffers())

    def loss_one(p, xi, yi):
        return criterion(functional_call(module, (p, buffers), (xi[None],)), yi[None])

    g = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, x, y)
    return [g[n] for n, _ in module.named_parameters()]


class _Shared(nn.Module):
    """A linear layer applied twice (cross terms: must fall back) and a batch norm."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.bn = nn.BatchNorm1d(6)
        self.out = nn.Linear(6, 3)

    def forward(self, x):
        return self.out(self.bn(torch.tanh(self.a(torch.tanh(self.a(x))))))


def _models():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 3))
    cnn = nn.Sequential(nn.Unflatten(1, (2, 6, 6)),
                        nn.Conv2d(2, 3, 3, stride=2, padding=1, dilation=1), nn.ReLU(),
                        nn.Conv2d(3, 4, 2, stride=1, padding=1, dilation=2, bias=False), nn.Tanh(),
                        nn.Flatten(), nn.LazyLinear(3))
    cnn(torch.zeros(1, 72))
    return [("mlp", mlp, 12), ("cnn", cnn, 72), ("shared", _Shared(), 6)]


@pytest.mark.parametrize("name,module,d", _models(), ids=lambda v: v if isinstance(v, str) else "")
def test_sum_grad_squared_equals_exact_vmap(name, module, d):
    module = module.double().eval()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(37, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (37,), generator=gen)
    crit = nn.CrossEntropyLoss()
    exact = _exact_per_sample(module, x, y, crit)
    params = list(module.parameters())
    got = sum_grad_squared(module, params, crit, x, y)
    for g, e in zip(got, exact, strict=True):
        torch.testing.assert_close(g, (e ** 2).sum(0), rtol=1e-10, atol=1e-12)
    stats = PerSampleGrads(module, params, crit, x, y)
    if name == "shared":  # the twice-used layer and the batch norm fall back; the head does not
        assert stats.covered_ == [False, False, False, False, True, True]
    else:
        assert all(stats.covered_)
    # per-sample dot products and norms against random references
    flat = torch.cat([e.reshape(len(x), -1) for e in exact], dim=1)
    refs = torch.randn(4, flat.shape[1], generator=gen, dtype=torch.float64)
    dots, norms = stats.dots_and_norms(refs)
    torch.testing.assert_close(dots, flat @ refs.T, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(norms, (flat ** 2).sum(1), rtol=1e-10, atol=1e-12)


def test_sum_reduction_and_grads_untouched():
    torch.manual_seed(0)
    lin = nn.Linear(4, 3).double()
    x, y = torch.randn(9, 4, dtype=torch.float64), torch.randint(0, 3, (9,))
    mean = sum_grad_squared(lin, list(lin.parameters()), nn.CrossEntropyLoss(), x, y)
    total = sum_grad_squared(lin, list(lin.parameters()), nn.CrossEntropyLoss(reduction="sum"),
                             x, y)
    for a, b in zip(mean, total, strict=True):
        torch.testing.assert_close(a, b)
    assert all(p.grad is None for p in lin.parameters())


@pytest.mark.parametrize("name,module,d", _models()[:2], ids=["mlp", "cnn"])
@pytest.mark.parametrize("conv_chunk", [64, 4])
def test_group_sums_and_row_subsets(name, module, d, conv_chunk, monkeypatch):
    import skcl.utils._fisher as fisher

    monkeypatch.setattr(fisher, "_CONV_CHUNK", conv_chunk)  # conv chunks across blocks too
    module = module.double().eval()
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(20, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (20,), generator=gen)
    crit = nn.CrossEntropyLoss()
    flat = torch.cat([e.reshape(20, -1) for e in _exact_per_sample(module, x, y, crit)], dim=1)
    stats = PerSampleGrads(module, list(module.parameters()), crit, x, y)
    for groups in ([torch.arange(0, 5), torch.tensor([7, 3, 19])],  # any index sets
                   [torch.arange(2, 7), torch.arange(7, 12), torch.arange(12, 17)]):  # blocks
        sums = stats.group_sums(groups)
        for k, idx in enumerate(groups):
            torch.testing.assert_close(sums[k], flat[idx].sum(0), rtol=1e-10, atol=1e-12)
    rows = torch.tensor([4, 11, 2])
    dots, norms = stats.dots_and_norms(sums, rows=rows)
    torch.testing.assert_close(dots, flat[rows] @ sums.T, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(norms, (flat[rows] ** 2).sum(1), rtol=1e-10, atol=1e-12)
