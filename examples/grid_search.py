"""GridSearchCV over a strategy parameter, ranked by final average accuracy over experiences.

``fit(X, y, experience=ids)`` runs the whole stream for each candidate; the
scorer averages the accuracy of each experience of the test fold (it gets
the fold's experience ids through scikit-learn's metadata routing).

    python examples/grid_search.py
"""

import argparse

import sklearn
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skcl.benchmarks import split_digits, stream_to_arrays
from skcl.evaluation import make_average_accuracy_scorer
from skcl.strategies import Cumulative


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-experiences", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    train, _ = split_digits(n_experiences=args.n_experiences, random_state=0)
    X, y, experience, _ = stream_to_arrays(train)
    with sklearn.config_context(enable_metadata_routing=True):
        net = Cumulative(max_epochs=args.epochs, random_state=0).set_fit_request(experience=True)
        search = GridSearchCV(
            net,
            {"lr": [0.01, 0.1], "module__hidden_sizes": [(32,), (100,)]},
            scoring=make_average_accuracy_scorer(),
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
        )
        search.fit(X, y, experience=experience)
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"], strict=True):
        print(f"{params}: {score:.3f}")
    print("best:", search.best_params_, f"{search.best_score_:.3f}")


if __name__ == "__main__":
    main()
