"""Replay for any incremental scikit-learn learner: a buffer as a pipeline step.

Feeds class-incremental split-digits, one experience at a time, to

    make_pipeline(StandardScaler(), ClassBalancedBuffer(max_size=200), SGDClassifier())

and to the same pipeline without the buffer, and prints the final average
accuracy of both. Runs in about a second.
"""

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler

from skcl.benchmarks import split_digits
from skcl.buffers import ClassBalancedBuffer
from skcl.pipeline import make_pipeline


def final_average_accuracy(pipe, train, test) -> float:
    for exp in train:
        pipe.partial_fit(exp.X, exp.y, classes=np.arange(10))
    return float(np.mean([pipe.score(exp.X, exp.y) for exp in test]))


def main() -> None:
    train, test = split_digits(n_experiences=5, random_state=0)
    with_buffer = make_pipeline(StandardScaler(),
                                ClassBalancedBuffer(max_size=200, random_state=0),
                                SGDClassifier(random_state=0))
    without = make_pipeline(StandardScaler(), SGDClassifier(random_state=0))
    acc_with = final_average_accuracy(with_buffer, train, test)
    acc_without = final_average_accuracy(without, train, test)
    print(f"with a 200-exemplar ClassBalancedBuffer: {acc_with:.3f}")
    print(f"without buffer:                          {acc_without:.3f}")
    print("exemplars per class:", np.bincount(with_buffer[1].y_).tolist())


if __name__ == "__main__":
    main()
