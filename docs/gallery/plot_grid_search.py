"""
Tuning over a stream with GridSearchCV
======================================

A continual learner is judged after the whole stream, not after one batch.
``fit(X, y, experience=ids)`` replays the stream in order (one ``partial_fit`` per
experience id), so ``GridSearchCV`` can tune any parameter, plugin parameters
included. The folds must cut *within* experiences (every fold sees every
experience): here ``GroupKFold`` over groups that alternate between samples. The
stream is domain-incremental (permuted digits), where EWC's penalty matters.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold

from skcl.benchmarks import permuted_digits, stream_to_arrays
from skcl.strategies import EWC

train, test = permuted_digits(n_experiences=4, random_state=0)
X, y, ids, _ = stream_to_arrays(train)
groups = np.arange(len(y)) % 2  # two folds, each holding half of every experience

search = GridSearchCV(
    EWC(module__hidden_sizes=(100,), lr=0.1, max_epochs=3, random_state=0),
    {"ewc_lambda": [0.0, 10.0, 30.0, 100.0]},
    cv=GroupKFold(n_splits=2),
)
search.fit(X, y, experience=ids, groups=groups)
print("best:", search.best_params_, f"score {search.best_score_:.3f}")

# %%
# The default score is the strategy's ``score``: accuracy on the test fold after the
# whole stream, pooled over its samples. With scikit-learn's metadata routing on,
# :func:`~skcl.evaluation.make_average_accuracy_scorer` averages per experience
# instead (each experience counts the same, however many samples it has); see the
# tuning guide.

scores = search.cv_results_["mean_test_score"]
labels = [f"ewc_lambda={p['ewc_lambda']:g}" for p in search.cv_results_["params"]]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(range(len(scores)), scores, color="tab:blue")
ax.set_xticks(range(len(scores)), labels)
ax.set_ylabel("mean test-fold accuracy\nafter the whole stream")
ax.set_ylim(0, 1)
fig.tight_layout()
