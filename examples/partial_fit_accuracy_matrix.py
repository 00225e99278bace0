"""A partial_fit loop with an EvaluationPlugin, then the accuracy matrix as a heatmap.

    python examples/partial_fit_accuracy_matrix.py --output matrix.png
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skcl.benchmarks import split_digits  # noqa: E402
from skcl.evaluation import (  # noqa: E402
    EvaluationPlugin,
    TextLogger,
    accuracy_metrics,
    bwt_metrics,
    forgetting_metrics,
)
from skcl.strategies import Naive  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-experiences", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--output", default="accuracy_matrix.png")
    args = parser.parse_args(argv)

    train, test = split_digits(n_experiences=args.n_experiences, random_state=0)
    evaluation = EvaluationPlugin(
        accuracy_metrics(experience=True, stream=True),
        forgetting_metrics(stream=True),
        bwt_metrics(stream=True),
        loggers=[TextLogger()],  # prints to stdout
    )
    net = Naive(plugins=[evaluation], lr=0.1, max_epochs=args.epochs, random_state=0)
    for exp in train:
        net.partial_fit(exp, eval_streams=test)  # evaluated on `test` after each experience

    R = net.named_plugins_["evaluation"].accuracy_matrix_
    print(R.summary())
    ax = R.plot(title="Naive on split-digits")
    ax.figure.tight_layout()
    ax.figure.savefig(args.output, dpi=100)
    plt.close(ax.figure)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
