"""The partial_fit pipeline with resampling steps."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skcl.buffers import ClassBalancedBuffer, ReservoirSamplingBuffer
from skcl.pipeline import Pipeline, make_pipeline


def _run(pipe, train, test):
    for exp in train:
        pipe.partial_fit(exp.X, exp.y, classes=np.arange(10))
    return np.mean([pipe.score(e.X, e.y) for e in test])


def test_buffer_pipeline_beats_the_same_pipeline_without_buffer(digits_streams):
    train, test = digits_streams
    with_buffer = make_pipeline(StandardScaler(), ClassBalancedBuffer(max_size=200, random_state=0),
                                SGDClassifier(random_state=0))
    without = make_pipeline(StandardScaler(), SGDClassifier(random_state=0))
    acc_with, acc_without = _run(with_buffer, train, test), _run(without, train, test)
    assert acc_with > acc_without + 0.15, (acc_with, acc_without)
    assert len(with_buffer[1]) == 200
    assert np.bincount(with_buffer[1].y_).tolist() == [20] * 10


def test_partial_fit_flows_through_steps():
    X, y = np.random.RandomState(0).rand(20, 3), np.repeat([0, 1], 10)
    buf = ReservoirSamplingBuffer(max_size=5, random_state=0)
    pipe = make_pipeline(StandardScaler(), buf, SGDClassifier(random_state=0))
    assert isinstance(pipe, Pipeline)
    pipe.partial_fit(X[:10], y[:10], classes=[0, 1])
    pipe.partial_fit(X[10:], y[10:])
    assert pipe[0].n_samples_seen_ == 20  # the scaler saw each experience once
    assert buf.n_seen_ == 20 and len(buf) == 5
    assert pipe.predict(X).shape == (20,)
    with pytest.raises(ValueError, match="<step>__<param>"):
        pipe.partial_fit(X, y, bogus=1)
    # non-incremental transformers are fitted once, then only transform
    pipe2 = make_pipeline(FunctionTransformer(np.log1p), SGDClassifier(random_state=0))
    pipe2.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert pipe2.score(X, y) >= 0.5


def test_pipeline_is_a_sklearn_pipeline(digits_streams):
    train, _ = digits_streams
    pipe = make_pipeline(ClassBalancedBuffer(max_size=50, random_state=0),
                         SGDClassifier(random_state=0))
    params = pipe.get_params()
    assert params["classbalancedbuffer__max_size"] == 50
    c = clone(pipe)
    assert isinstance(c, Pipeline) and not hasattr(c[0], "X_")
    X = np.concatenate([e.X for e in train])
    y = np.concatenate([e.y for e in train])
    gs = GridSearchCV(pipe, {"sgdclassifier__alpha": [1e-4, 1e-3]}, cv=2).fit(X, y)
    assert gs.best_score_ > 0.8


def test_failed_partial_fit_leaves_every_step_as_it_was():
    import copy

    import numpy as np
    import pytest
    from sklearn.linear_model import SGDClassifier
    from sklearn.preprocessing import StandardScaler

    from skcl.buffers import ClassBalancedBuffer
    from skcl.pipeline import make_pipeline

    rng = np.random.RandomState(0)
    X, y = rng.rand(20, 3), np.arange(20) % 2
    pipe = make_pipeline(StandardScaler(), ClassBalancedBuffer(max_size=10, random_state=0),
                         SGDClassifier(random_state=0))
    pipe.partial_fit(X, y, classes=[0, 1])
    def state(step):  # arrays and numbers by value; generators by state; other objects by type
        def plain(v):
            if isinstance(v, np.random.Generator):
                return v.bit_generator.state
            if isinstance(v, (np.ndarray, int, float, str, bool, type(None), np.generic)):
                return v
            return type(v).__name__
        return {k: plain(v) for k, v in copy.deepcopy(vars(step)).items()}

    before = [state(step) for _, step in pipe.steps]
    bad = X.copy()
    bad[0, 0] = np.nan  # the scaler accepts NaN, the buffer rejects it
    with pytest.raises(ValueError, match="NaN"):
        pipe.partial_fit(bad, y)
    for (_, step), expected in zip(pipe.steps, before):
        np.testing.assert_equal(state(step), expected)
