"""Per-sample gradient statistics from one ordinary backward pass (BackPACK's trick).

For a ``torch.nn.Linear`` layer ``y = W a + b`` the gradient of sample ``n``'s
loss is ``g_n a_n^T`` (``g_n = dl_n/dy_n``, ``a_n`` the layer input), so

* the sum of squared per-sample gradients is ``(g*g)^T (a*a)`` (one matmul;
  BackPACK's ``SumGradSquared``, Dangel et al., ICLR 2020),
* the dot product of each per-sample gradient with a reference ``M`` is
  ``sum((g @ M) * a, 1)`` and its squared norm is ``|g_n|^2 |a_n|^2``
  (Goodfellow, arXiv:1510.01799),

without ever materialising the per-sample gradients. ``torch.nn.Conv2d``
(``groups=1``, zero padding) materialises them per chunk from
``unfold(a)`` and the output gradients. Both need only the layer inputs
(forward hooks) and the output gradients of one backward pass of the
summed loss. Parameters of any other layer (and of a layer called more
than once per forward pass) fall back to :func:`torch.func.vmap`, or to a
loop over samples where vmap cannot trace the module (data-dependent
routing of multi-head models).

Used by :class:`~skcl.plugins.EWCPlugin` (the Fisher diagonal) and
:class:`~skcl.plugins.GSS_greedyPlugin` (per-sample gradient similarities).
The module should be in eval mode (batch norm in train mode couples the
samples); the parameters' ``.grad`` are never touched.

(Slightly over 400 lines: the three paths, linear, conv and vmap/loop, share one
hook bookkeeping class that would have to be exported to be split.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PerSampleGrads", "sum_grad_squared", "summed_loss"]

_CONV_CHUNK = 64


def summed_loss(criterion: Callable, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """``sum_n loss(out_n, y_n)`` from a mean- or sum-reduced criterion; None if unknown.

    A weighted mean (``weight=``) is not a sum of per-sample losses times a
    constant, so it returns None (the callers then loop over samples).

    Examples
    --------
    >>> import torch
    >>> from skcl.utils._fisher import summed_loss
    >>> out, y = torch.zeros(4, 3), torch.tensor([0, 1, 2, 0])
    >>> round(float(summed_loss(torch.nn.CrossEntropyLoss(), out, y)), 4)  # 4 * log(3)
    4.3944
    """
    reduction = getattr(criterion, "reduction", None)
    if getattr(criterion, "weight", None) is not None:
        return None
    if reduction == "sum":
        return criterion(out, y)
    if reduction == "mean":
        return criterion(out, y) * len(y)
    return None


def _as_blocks(groups) -> tuple[int, int, int] | None:
    """``(start, size, k)`` when the groups are adjacent, equal, contiguous index ranges."""
    if not len(groups):
        return None
    first = torch.as_tensor(groups[0])
    size = len(first)
    if size == 0:
        return None
    start = int(first[0])
    for k, idx in enumerate(groups):
        idx = torch.as_tensor(idx)
        lo = start + k * size
        if len(idx) != size or not torch.equal(idx, torch.arange(lo, lo + size, dtype=idx.dtype)):
            return None
    return start, size, len(groups)


def _supported(m: nn.Module) -> bool:
    if type(m).forward is nn.Linear.forward:
        return True
    return (type(m).forward is nn.Conv2d.forward and m.groups == 1
            and m.padding_mode == "zeros" and not isinstance(m.padding, str))


class PerSampleGrads:
    """Per-sample gradient statistics of ``sum_n loss_n`` on one batch.

    Parameters
    ----------
    module : torch.nn.Module
    params : sequence of Tensor
        The parameters of interest (in the order of every result).
    criterion : callable
        ``criterion(out, y)``, mean- or sum-reduced (see :func:`summed_loss`).
    x, y : Tensor
        The batch.
    forward : callable, default=None
        ``forward(x) -> output`` on a batch; ``module(x)`` by default.
    loop_forward : callable, default=None
        ``loop_forward(i) -> output`` of sample ``i`` alone, for the loop
        fallback; ``forward(x[i:i+1])`` by default.
    use_layers : bool, default=True
        Use the layer formulas; False sends every parameter to the fallback
        (one row per sample whatever the model routes, e.g. multi-head).

    Attributes
    ----------
    covered_ : list of bool
        For each parameter, whether the layer formulas handled it (else the
        vmap or loop fallback did).

    Examples
    --------
    >>> import torch
    >>> from skcl.utils._fisher import PerSampleGrads
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    >>> stats = PerSampleGrads(net, list(net.parameters()), torch.nn.CrossEntropyLoss(), x, y)
    >>> [tuple(s.shape) for s in stats.sum_grad_squared()]
    [(4, 3), (4,), (2, 4), (2,)]
    >>> stats.covered_
    [True, True, True, True]
    """

    def __init__(self, module: nn.Module, params: Sequence[torch.Tensor], criterion: Callable,
                 x: torch.Tensor, y: torch.Tensor, forward: Callable | None = None,
                 loop_forward: Callable | None = None, use_layers: bool = True):
        self.module = module
        self.use_layers = use_layers
        self.params = list(params)
        self.criterion = criterion
        self.x, self.y = x, y
        self.forward = forward if forward is not None else module
        self.loop_forward = loop_forward
        self.n = len(y)
        self._run()

    # -- capture -----------------------------------------------------------------
    def _run(self) -> None:
        index = {id(p): i for i, p in enumerate(self.params)}
        layers = {}
        for m in (self.module.modules() if self.use_layers else ()):
            if not _supported(m):
                continue
            w = index.get(id(m.weight))
            b = index.get(id(m.bias)) if m.bias is not None else None
            if w is not None or b is not None:
                layers[m] = (w, b)
        calls: dict = {m: [] for m in layers}

        def hook(m, inputs, out):
            calls[m].append((inputs[0].detach(), out))

        loss = None
        if layers:
            handles = [m.register_forward_hook(hook) for m in layers]
            try:
                out = self.forward(self.x)
                if isinstance(out, tuple):
                    out = out[0]
            finally:
                for h in handles:
                    h.remove()
            loss = summed_loss(self.criterion, out, self.y)
        records = []
        if loss is not None:
            # a layer called more than once per forward pass (shared weights) has cross terms
            records = [(m, *calls[m][0]) for m in layers if len(calls[m]) == 1
                       and calls[m][0][1].requires_grad]
        grads = torch.autograd.grad(loss, [r[2] for r in records]) if records else ()
        self.records_ = []  # (module, a, g, weight index, bias index)
        covered = [False] * len(self.params)
        for (m, a, _), g in zip(records, grads, strict=True):
            w, b = layers[m]
            self.records_.append((m, a, g.detach(), w, b))
            for i in (w, b):
                if i is not None:
                    covered[i] = True
        self.covered_ = covered
        rest = [i for i, c in enumerate(covered) if not c]
        self.fallback_ = self._fallback_grads(rest) if rest else {}

    def _fallback_grads(self, rest: list[int]) -> dict[int, torch.Tensor]:
        """Per-sample gradients (n, *shape) of the parameters no layer formula covers."""
        params = [self.params[i] for i in rest]
        if self.forward is self.module and not getattr(self.module, "is_multi_task", False):
            try:
                return dict(zip(rest, self._vmap(params), strict=True))
            except Exception:  # noqa: BLE001 - modules vmap cannot trace: loop instead
                pass
        out = [torch.zeros((self.n, *p.shape), dtype=p.dtype, device=p.device) for p in params]
        for n in range(self.n):
            z = (self.loop_forward(n) if self.loop_forward is not None
                 else self.forward(self.x[n:n + 1]))
            if isinstance(z, tuple):
                z = z[0]
            loss = self.criterion(z, self.y[n:n + 1])
            for o, g in zip(out, torch.autograd.grad(loss, params, allow_unused=True),
                            strict=True):
                if g is not None:
                    o[n] = g.detach()
        return dict(zip(rest, out, strict=True))

    def _vmap(self, params):
        from torch.func import functional_call, grad, vmap

        named = dict(self.module.named_parameters())
        names = {id(p): n for n, p in named.items()}
        keys = [names[id(p)] for p in params]
        fixed = {n: p.detach() for n, p in named.items() if n not in keys}
        fixed.update(dict(self.module.named_buffers()))
        criterion = self.criterion

        def loss_one(sub, xi, yi):
            out = functional_call(self.module, {**fixed, **sub}, (xi.unsqueeze(0),))
            return criterion(out, yi.unsqueeze(0))

        sub = {k: p.detach() for k, p in zip(keys, params, strict=True)}
        g = vmap(grad(loss_one), in_dims=(None, 0, 0))(sub, self.x, self.y)
        return [g[k].detach() for k in keys]

    @staticmethod
    def _conv_grads(m: nn.Conv2d, a: torch.Tensor, g: torch.Tensor):
        """Per-sample (weight, bias) gradients of a Conv2d, shapes (n, *weight), (n, out)."""
        cols = F.unfold(a, m.kernel_size, dilation=m.dilation, padding=m.padding,
                        stride=m.stride)  # (n, C_in k k, L)
        gam = g.reshape(len(g), g.shape[1], -1)  # (n, C_out, L)
        gw = torch.bmm(gam, cols.transpose(1, 2)).reshape(len(g), *m.weight.shape)
        return gw, gam.sum(2)

    def _layer_chunks(self, rows=None):
        """For each record: yields (w idx, b idx, kind, data, chunk rows) per chunk.

        ``rows`` (an index tensor) restricts to those samples (records must
        then hold one row per sample). The chunk rows index the (restricted)
        batch; for a multi-head model's head they are its own rows.
        """
        for m, a, g, w, b in self.records_:
            if rows is not None:
                a, g = a[rows], g[rows]
            if type(m).forward is nn.Linear.forward and a.dim() == 2:
                yield w, b, "linear", (a, g), slice(None)
            elif type(m).forward is nn.Linear.forward:  # extra axes: materialise per sample
                a3 = a.reshape(a.shape[0], -1, a.shape[-1])
                g3 = g.reshape(g.shape[0], -1, g.shape[-1])
                yield w, b, "dense", (torch.einsum("nti,ntj->nij", g3, a3), g3.sum(1)), slice(None)
            else:
                for s in range(0, len(a), _CONV_CHUNK):
                    gw, gb = self._conv_grads(m, a[s:s + _CONV_CHUNK], g[s:s + _CONV_CHUNK])
                    yield w, b, "dense", (gw, gb), slice(s, s + _CONV_CHUNK)

    def _check_rowwise(self) -> None:
        if any(len(r[1]) != self.n for r in self.records_):
            raise NotImplementedError("a layer saw a subset of the batch (multi-head routing): "
                                      "per-sample statistics need one row per sample.")

    def _offsets(self) -> list[int]:
        starts = [0]
        for p in self.params:
            starts.append(starts[-1] + p.numel())
        return starts

    def group_sums(self, groups: Sequence[torch.Tensor]) -> torch.Tensor:
        """Flat ``sum_{n in group} grad loss_n`` for each group of sample indices, (K, n_params).

        Divide by the group sizes for the gradients of the groups' mean losses.
        """
        self._check_rowwise()
        starts = self._offsets()
        dtype = self.params[0].dtype if self.params else torch.float32
        blocks = _as_blocks(groups)
        if blocks is not None:
            return self._block_sums(*blocks, starts, dtype)
        out = torch.zeros(len(groups), starts[-1], dtype=dtype)
        for k, idx in enumerate(groups):
            idx = torch.as_tensor(idx, dtype=torch.long)
            for w, b, kind, data, _ in self._layer_chunks(idx):
                if kind == "linear":
                    a, g = data
                    if w is not None:
                        out[k, starts[w]:starts[w + 1]] += (g.T @ a).reshape(-1).to(dtype)
                    if b is not None:
                        out[k, starts[b]:starts[b + 1]] += g.sum(0).to(dtype)
                else:
                    gw, gb = data
                    if w is not None:
                        out[k, starts[w]:starts[w + 1]] += gw.sum(0).reshape(-1).to(dtype)
                    if b is not None:
                        out[k, starts[b]:starts[b + 1]] += gb.sum(0).to(dtype)
            for i, g in self.fallback_.items():
                out[k, starts[i]:starts[i + 1]] += g[idx].sum(0).reshape(-1).to(dtype)
        return out

    # -- statistics --------------------------------------------------------------
    def sum_grad_squared(self) -> list[torch.Tensor]:
        """``sum_n (d loss_n / d theta)^2`` for each parameter (same shapes)."""
        out = [torch.zeros_like(p, dtype=p.dtype) for p in self.params]
        for w, b, kind, data, _ in self._layer_chunks():
            if kind == "linear":
                a, g = data
                g2 = g * g
                if w is not None:
                    out[w] += (g2.T @ (a * a)).to(out[w].dtype)
                if b is not None:
                    out[b] += g2.sum(0).to(out[b].dtype)
            else:
                gw, gb = data
                if w is not None:
                    out[w] += (gw * gw).sum(0).to(out[w].dtype)
                if b is not None:
                    out[b] += (gb * gb).sum(0).to(out[b].dtype)
        for i, g in self.fallback_.items():
            out[i] += (g * g).sum(0)
        return out

    def _block_sums(self, start: int, size: int, k: int, starts, dtype) -> torch.Tensor:
        """``group_sums`` for ``k`` adjacent blocks of ``size`` rows from ``start``: batched."""
        rows = slice(start, start + k * size)
        out = torch.empty(k, starts[-1], dtype=dtype)
        filled = [False] * len(self.params)
        for w, b, kind, data, chunk in self._layer_chunks(rows):
            if kind == "linear":
                a, g = data
                if w is not None:  # (k, out, size) @ (k, size, in)
                    gw = torch.bmm(g.reshape(k, size, -1).transpose(1, 2), a.reshape(k, size, -1))
                    out[:, starts[w]:starts[w + 1]] = gw.reshape(k, -1)
                    filled[w] = True
                if b is not None:
                    out[:, starts[b]:starts[b + 1]] = g.reshape(k, size, -1).sum(1)
                    filled[b] = True
            else:  # conv chunks (of _CONV_CHUNK rows): accumulate per block row by row
                gw, gb = data
                lo = chunk.start or 0
                blk = torch.div(torch.arange(lo, lo + len(gw)), size, rounding_mode="floor")
                for i, t in ((w, gw), (b, gb)):
                    if i is None:
                        continue
                    if not filled[i]:
                        out[:, starts[i]:starts[i + 1]] = 0
                        filled[i] = True
                    flat = t.reshape(len(t), -1).to(dtype)
                    out[:, starts[i]:starts[i + 1]].index_add_(0, blk, flat)
        for i, g in self.fallback_.items():
            out[:, starts[i]:starts[i + 1]] = g[rows].reshape(k, size, -1).sum(1).to(dtype)
            filled[i] = True
        for i, f in enumerate(filled):
            if not f:
                out[:, starts[i]:starts[i + 1]] = 0
        return out

    def dots_and_norms(self, refs: torch.Tensor, rows=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample gradient dot products with references, and squared norms.

        Parameters
        ----------
        refs : Tensor of shape (K, n_params)
            Flat reference gradients (parameters concatenated in ``params``
            order, each flattened).
        rows : index tensor, default=None
            Only these samples (all by default).

        Returns
        -------
        dots : Tensor (n_rows, K)
            ``<grad loss_n, refs_k>``.
        sq_norms : Tensor (n_rows,)
            ``|grad loss_n|^2``.
        """
        self._check_rowwise()
        refs = torch.as_tensor(refs)
        starts = self._offsets()
        if rows is not None:
            rows = torch.as_tensor(rows, dtype=torch.long)
        n = self.n if rows is None else len(rows)

        def ref(i):  # (K, *shape) of parameter i
            return refs[:, starts[i]:starts[i + 1]].reshape(len(refs), *self.params[i].shape)

        dots = torch.zeros(n, len(refs), dtype=refs.dtype, device=refs.device)
        norms = torch.zeros(n, dtype=refs.dtype, device=refs.device)
        for w, b, kind, data, chunk in self._layer_chunks(rows):
            if kind == "linear":
                a, g = (t.to(refs.dtype) for t in data)
                g2 = (g * g).sum(1)
                if w is not None:
                    # <g_n a_n^T, M_k> = g_n^T M_k a_n ; |g_n a_n^T|^2 = |g_n|^2 |a_n|^2
                    k, n_out = len(refs), g.shape[1]
                    am = (a @ ref(w).reshape(k * n_out, -1).T).reshape(len(a), k, n_out)
                    dots += (am * g[:, None, :]).sum(2)
                    norms += g2 * (a * a).sum(1)
                if b is not None:
                    dots += g @ ref(b).T
                    norms += g2
            else:
                gw, gb = (t.to(refs.dtype) for t in data)
                if w is not None:
                    flat = gw.reshape(len(gw), -1)
                    dots[chunk] += flat @ ref(w).reshape(len(refs), -1).T
                    norms[chunk] += (flat * flat).sum(1)
                if b is not None:
                    dots[chunk] += gb @ ref(b).T
                    norms[chunk] += (gb * gb).sum(1)
        for i, g in self.fallback_.items():
            g = g if rows is None else g[rows]
            flat = g.reshape(n, -1).to(refs.dtype)
            dots += flat @ ref(i).reshape(len(refs), -1).T
            norms += (flat * flat).sum(1)
        return dots, norms


def sum_grad_squared(module: nn.Module, params: Sequence[torch.Tensor], criterion: Callable,
                     x: torch.Tensor, y: torch.Tensor, **kwargs) -> list[torch.Tensor]:
    """``sum_n (d loss_n / d theta)^2`` per parameter, from one backward pass.

    See :class:`PerSampleGrads` (keyword arguments ``forward`` and ``loop_forward``).

    Examples
    --------
    >>> import torch
    >>> from skcl.utils._fisher import sum_grad_squared
    >>> lin = torch.nn.Linear(2, 2)
    >>> x, y = torch.randn(3, 2), torch.tensor([0, 1, 1])
    >>> s = sum_grad_squared(lin, [lin.weight, lin.bias], torch.nn.CrossEntropyLoss(), x, y)
    >>> bool((s[0] >= 0).all()), tuple(s[1].shape)
    (True, (2,))
    """
    return PerSampleGrads(module, params, criterion, x, y, **kwargs).sum_grad_squared()
