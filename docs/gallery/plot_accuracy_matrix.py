"""
The accuracy matrix and the metrics derived from it
===================================================

An :class:`~skcl.evaluation.EvaluationPlugin` evaluates the test stream after every
experience. Row ``i`` of the accuracy matrix is the accuracy on each test experience
after training experience ``i``; cells of experiences not trained yet are hatched.
Average accuracy, forgetting and backward transfer are functions of this matrix.
"""

import matplotlib.pyplot as plt

from skcl.benchmarks import split_digits
from skcl.evaluation import (
    EvaluationPlugin,
    average_accuracy,
    average_forgetting,
    backward_transfer,
    plot_accuracy_matrix,
)
from skcl.strategies import Replay

train, test = split_digits(n_experiences=5, random_state=0)
net = Replay(mem_size=200, module__hidden_sizes=(100,), lr=0.1, max_epochs=3,
             random_state=0, plugins=[("eval", EvaluationPlugin())])
for exp in train:
    net.partial_fit(exp, eval_streams=[test])

R = net.named_plugins_["eval"].accuracy_matrices_["test"]
print(f"final average accuracy {average_accuracy(R):.3f}")
print(f"average forgetting     {average_forgetting(R):.3f}")
print(f"backward transfer      {backward_transfer(R).mean():.3f}")

# %%
# Forgetting follows the paper's definition (Chaudhry et al. 2018): the best accuracy an
# experience ever had minus its accuracy now. Avalanche subtracts the accuracy right
# after training it instead of the maximum.

fig, ax = plt.subplots(figsize=(5, 4))
plot_accuracy_matrix(R, ax=ax, title="Replay (200) on split digits")
fig.tight_layout()
