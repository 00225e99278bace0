"""Progressive Neural Networks (Rusu et al., 2016): one column per task, lateral adapters."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from skcl.models._dynamic import DynamicModule, MultiHeadClassifier, MultiTaskModule
from skcl.models._mlp import FlatInput

__all__ = ["PNN", "PNNColumn", "LinearAdapter", "MLPAdapter"]

_FLAT_INPUT = FlatInput()  # stateless: shared by every PNN, not a registered submodule


class LinearAdapter(nn.Module):
    """Lateral connection from earlier columns: one Linear per earlier column, summed.

    Parameters
    ----------
    in_features : int
        Width of each earlier column's activation.
    out_features : int
    n_previous : int
        Number of earlier columns.
    """

    def __init__(self, in_features: int, out_features: int, n_previous: int):
        super().__init__()
        self.lateral = nn.ModuleList(
            nn.Linear(in_features, out_features) for _ in range(n_previous))

    def forward(self, hs: list[torch.Tensor]) -> torch.Tensor:
        return sum(lin(h) for lin, h in zip(self.lateral, hs, strict=True))


class MLPAdapter(nn.Module):
    """The paper's non-linear lateral adapter: ``U relu(V [a_1 h_1; ...; a_k h_k])``.

    ``a_j`` are learned scalars (initialised to 1), ``V`` projects the
    concatenated earlier activations down to ``out_features``.
    """

    def __init__(self, in_features: int, out_features: int, n_previous: int):
        super().__init__()
        self.alphas = nn.Parameter(torch.ones(n_previous))
        self.V = nn.Linear(in_features * n_previous, out_features)
        self.U = nn.Linear(out_features, out_features)

    def forward(self, hs: list[torch.Tensor]) -> torch.Tensor:
        h = torch.cat([a * x for a, x in zip(self.alphas, hs, strict=True)], dim=1)
        return self.U(torch.relu(self.V(h)))


class PNNColumn(nn.Module):
    """One column's layers, with the lateral adapters into each layer but the first.

    Layer ``l`` computes ``relu(W_l h_{l-1} + adapter_l(h^{<k}_{l-1}))``, where
    ``h^{<k}_{l-1}`` are the previous layer's activations of the earlier
    columns.
    """

    def __init__(self, in_features: int, hidden: int, num_layers: int, n_previous: int,
                 adapter: str):
        super().__init__()
        sizes = [in_features] + [hidden] * num_layers
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        adapter_cls = {"linear": LinearAdapter, "mlp": MLPAdapter}[adapter]
        # Paper: lateral connections come from layer l-1 of earlier columns for l >= 2 only.
        self.adapters = nn.ModuleList(
            adapter_cls(hidden, hidden, n_previous) if (n_previous and layer > 0) else nn.Identity()
            for layer in range(num_layers)
        )
        self.n_previous = n_previous

    def forward_layer(self, layer: int, h: torch.Tensor, prev: list[torch.Tensor]) -> torch.Tensor:
        out = self.layers[layer](h)
        if self.n_previous and layer > 0:
            out = out + self.adapters[layer](prev)
        return torch.relu(out)


class PNN(MultiTaskModule, DynamicModule):
    """Progressive Neural Network: one column per task label, earlier columns frozen.

    When an experience brings a new task label, every existing parameter
    (columns, adapters, heads) is frozen and a new column is added, with
    lateral adapters from every earlier column. Samples are routed by their
    task label at train and predict time; each column feeds its own head (a
    :class:`~skcl.models.MultiHeadClassifier`). Old tasks cannot be forgotten:
    their columns and heads never change again.

    Differences from Avalanche (which follows the paper less closely here):
    the first layer takes only the raw input (the paper has no lateral
    connections into the first layer; Avalanche always puts an "mlp" adapter
    over the repeated raw input there), and ``adapter`` applies to every layer.

    Parameters
    ----------
    in_features : int
        Flat input size (filled in by the strategy from the data).
    num_layers : int, default=1
    hidden_features_per_column : int, default=100
    adapter : {"mlp", "linear"}, default="mlp"
    n_classes : int, default=2
        Initial units of each head.

    Attributes
    ----------
    task_to_column : dict
        Task label -> column index.
    frozen_tasks : set
        Task labels whose column and head are frozen (a later task arrived).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcl.models import PNN
    >>> pnn = PNN(in_features=4, hidden_features_per_column=8)
    >>> _ = pnn.adaptation(4, {0: np.array([0, 1]), 1: np.array([2, 3])})
    >>> pnn(torch.zeros(3, 4), torch.tensor([0, 1, 1])).shape, len(pnn.columns)
    (torch.Size([3, 4]), 2)
    """

    def __init__(self, in_features: int, num_layers: int = 1, hidden_features_per_column: int = 100,
                 adapter: str = "mlp", n_classes: int = 2):
        super().__init__()
        if adapter not in ("mlp", "linear"):
            raise ValueError(f"adapter must be 'mlp' or 'linear'; got {adapter!r}.")
        if int(num_layers) < 1:
            raise ValueError(f"num_layers must be >= 1; got {num_layers!r}.")
        self.in_features = int(in_features)
        self.num_layers = int(num_layers)
        self.hidden = int(hidden_features_per_column)
        self.adapter = adapter
        self.columns = nn.ModuleList()
        self.task_to_column: dict[int, int] = {}
        self.frozen_tasks: set[int] = set()
        self.head = MultiHeadClassifier(self.hidden, n_classes)

    def known_tasks(self) -> list[int]:
        return sorted(self.task_to_column)

    def adaptation(self, n_outputs: int, units_by_task: dict[int, np.ndarray]) -> bool:
        new_tasks = [int(t) for t in sorted(units_by_task) if int(t) not in self.task_to_column]
        if new_tasks:
            for p in self.parameters():  # freeze everything learned so far
                p.requires_grad_(False)
            self.frozen_tasks.update(self.task_to_column)
        changed = self.head.adaptation(n_outputs, units_by_task)
        for key, head in self.head.heads.items():  # a grown old head stays frozen
            if int(key) in self.frozen_tasks:
                for p in head.parameters():
                    p.requires_grad_(False)
        device = next(self.parameters(), torch.zeros(0)).device
        for t in new_tasks:
            col = PNNColumn(self.in_features, self.hidden, self.num_layers, len(self.columns),
                            self.adapter).to(device)
            self.task_to_column[t] = len(self.columns)
            self.columns.append(col)
            changed = True
        return changed

    def _check_tasks(self, tasks) -> None:
        unknown = [t for t in tasks if t not in self.task_to_column]
        if unknown:
            raise ValueError(
                f"PNN: task label(s) {unknown} were never seen in training; known task labels: "
                f"{self.known_tasks()}. A PNN needs the task label of every sample.")

    def _features(self, x: torch.Tensor, column: int) -> torch.Tensor:
        hs = [x] * (column + 1)
        for layer in range(self.num_layers):
            hs = [self.columns[j].forward_layer(layer, hs[j], hs[:j]) for j in range(column + 1)]
        return hs[column]

    def forward(self, x: torch.Tensor, task_labels: torch.Tensor | int = 0) -> torch.Tensor:
        # as the MLP: any trailing shape is flattened and uint8 pixels scaled to [0, 1]
        # (image streams and lazy data keep uint8 in memory; the first Linear needs floats)
        x = _FLAT_INPUT(x)
        if isinstance(task_labels, int):
            task_labels = torch.full((len(x),), task_labels, dtype=torch.long)
        task_labels = task_labels.to(x.device)
        tasks = [int(t) for t in torch.unique(task_labels)]
        self._check_tasks(tasks)
        out = None
        for t in tasks:
            idx = task_labels == t
            o = self.head(self._features(x[idx], self.task_to_column[t]), t)
            if out is None:
                out = o.new_empty(len(x), o.shape[1])
            out[idx] = o
        return out
