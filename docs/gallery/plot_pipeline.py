"""
A scaler in front of a strategy
===============================

:class:`skcl.pipeline.Pipeline` passes each experience through its steps with
``partial_fit``: an incremental transformer such as ``StandardScaler`` updates its
running statistics on every experience, then the strategy trains on the scaled data.
Put the scaler first: it then sees each sample exactly once, and the strategy's replay
memory holds scaled samples.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import StandardScaler

from skcl.benchmarks import permuted_digits
from skcl.pipeline import make_pipeline
from skcl.strategies import Replay

train, test = permuted_digits(n_experiences=4, random_state=0)
common = dict(mem_size=200, module__hidden_sizes=(100,), lr=0.05, max_epochs=2,
              random_state=0)
models = {"Replay on pixels in [0, 1]": Replay(**common),
          "StandardScaler -> Replay": make_pipeline(StandardScaler(), Replay(**common))}

curves = {}
for label, model in models.items():
    curve = []
    for k, exp in enumerate(train):
        model.partial_fit(exp.X, exp.y, **({"classes": np.arange(10)} if k == 0 else {}))
        curve.append(np.mean([model.score(e.X, e.y) for e in test[: k + 1]]))
    curves[label] = curve
    print(f"{label}: " + ", ".join(f"{a:.2f}" for a in curve))

# %%
# The scaler's statistics move a little with every experience, so exemplars stored early
# were scaled with earlier statistics; with a fixed scaling known in advance, use
# :class:`skcl.transforms.Normalize` as the strategy's ``train_transform`` and
# ``eval_transform`` instead (replayed samples then go through it too).

fig, ax = plt.subplots(figsize=(6, 3.5))
for (label, curve), marker in zip(curves.items(), ["o", "s"]):
    ax.plot(range(1, len(curve) + 1), curve, marker=marker, label=label)
ax.set_xlabel("experiences trained")
ax.set_ylabel("average accuracy so far")
ax.set_ylim(0, 1.05)
ax.legend()
fig.tight_layout()
