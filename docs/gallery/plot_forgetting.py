"""
Naive forgets, Replay remembers
===============================

Train :class:`~skcl.strategies.Naive` and :class:`~skcl.strategies.Replay` on the
same class-incremental stream (split digits: two new classes per experience) and
plot the average accuracy over the experiences seen so far after each one.
"""

import matplotlib.pyplot as plt
import numpy as np

from skcl.benchmarks import split_digits
from skcl.strategies import Naive, Replay

train, test = split_digits(n_experiences=5, random_state=0)
common = dict(module__hidden_sizes=(100,), lr=0.1, max_epochs=5, random_state=0)
strategies = {"Naive": Naive(**common), "Replay (200)": Replay(mem_size=200, **common)}

curves = {}
for label, net in strategies.items():
    curve = []
    for k, exp in enumerate(train):
        net.partial_fit(exp)
        curve.append(np.mean([net.score(e) for e in test[: k + 1]]))
    curves[label] = curve
    print(f"{label}: " + ", ".join(f"{a:.2f}" for a in curve))

# %%
# Naive's average falls towards ``1 / k`` (it only knows the last two classes);
# Replay keeps much more of the old classes with a memory of 200 samples.

fig, ax = plt.subplots(figsize=(6, 3.5))
for (label, curve), marker in zip(curves.items(), ["o", "s"]):
    ax.plot(range(1, 6), curve, marker=marker, label=label)
ax.set_xlabel("experiences trained")
ax.set_ylabel("average accuracy on the experiences seen")
ax.set_xticks(range(1, 6))
ax.set_ylim(0, 1.05)
ax.legend()
fig.tight_layout()
