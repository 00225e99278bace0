"""A scikit-learn `Pipeline` whose `partial_fit` flows through its steps, with resampling steps."""

from __future__ import annotations

import copy

from sklearn import pipeline as _skpipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["Pipeline", "make_pipeline"]


def _final_has_partial_fit(self) -> bool:
    final = self._final_estimator
    return final == "passthrough" or hasattr(final, "partial_fit")


def _is_fitted(est) -> bool:
    try:
        check_is_fitted(est)
    except Exception:
        return False
    return True


class Pipeline(_skpipeline.Pipeline):
    """scikit-learn's :class:`~sklearn.pipeline.Pipeline` with an incremental ``partial_fit``.

    ``partial_fit(X, y)`` sends one experience through the steps:

    - a resampling step (one with ``fit_resample``, e.g. an exemplar buffer)
      gets ``fit_resample(X, y)``, whose output (new data + stored exemplars)
      goes on;
    - an incremental transformer gets ``partial_fit`` then ``transform``;
    - a transformer without ``partial_fit`` is fitted on the first call only
      and then just transforms;
    - the final estimator gets ``partial_fit`` (with ``classes=`` and its own
      ``<step>__<param>`` keyword arguments).

    ``predict``/``score``/``transform`` are scikit-learn's: a buffer's
    ``transform`` is the identity, so resampling steps do nothing there.
    Everything else (``get_params``, ``clone``, ``GridSearchCV``, ``fit``) is
    scikit-learn's ``Pipeline``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import SGDClassifier
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skcl.buffers import ClassBalancedBuffer
    >>> from skcl.pipeline import make_pipeline
    >>> pipe = make_pipeline(StandardScaler(), ClassBalancedBuffer(max_size=4, random_state=0),
    ...                      SGDClassifier(random_state=0))
    >>> X, y = np.random.RandomState(0).rand(10, 3), np.array([0] * 5 + [1] * 5)
    >>> _ = pipe.partial_fit(X[:5], y[:5], classes=[0, 1])
    >>> _ = pipe.partial_fit(X[5:], y[5:])
    >>> len(pipe[1]), pipe.predict(X).shape
    (4, (10,))
    """

    @available_if(_final_has_partial_fit)
    def partial_fit(self, X, y=None, classes=None, **params):
        """Train every step on one more batch (experience) of data.

        Parameters
        ----------
        X, y : array-like
        classes : array-like, default=None
            Passed to the final estimator's ``partial_fit`` when given.
        **params
            ``<step>__<param>=value`` for a step's ``partial_fit``/``fit_resample``.

        Returns
        -------
        self
        """
        step_params: dict[str, dict] = {name: {} for name, _ in self.steps}
        for key, value in params.items():
            name, sep, param = key.partition("__")
            if not sep or name not in step_params:
                raise ValueError(f"Pipeline.partial_fit got {key!r}: use "
                                 f"'<step>__<param>' with a step in {list(step_params)}.")
            step_params[name][param] = value
        # A step that fails (bad data) must not leave earlier steps updated: keep their
        # state and put it back on failure, as a strategy's partial_fit does.
        saved = [copy.deepcopy(vars(step)) for _, step in self.steps
                 if step not in (None, "passthrough")]
        try:
            return self._partial_fit(X, y, classes, step_params)
        except BaseException:
            live = [step for _, step in self.steps if step not in (None, "passthrough")]
            for step, state in zip(live, saved):
                vars(step).clear()
                vars(step).update(state)
            raise

    def _partial_fit(self, X, y, classes, step_params: dict[str, dict]):
        Xt, yt = X, y
        for _, name, step in self._iter(with_final=False, filter_passthrough=True):
            kw = step_params[name]
            if hasattr(step, "fit_resample"):
                Xt, yt = step.fit_resample(Xt, yt, **kw)
            elif hasattr(step, "partial_fit"):
                step.partial_fit(Xt, yt, **kw)
                Xt = step.transform(Xt)
            else:
                if not _is_fitted(step):
                    step.fit(Xt, yt, **kw)
                Xt = step.transform(Xt)
        final_name, final = self.steps[-1]
        if final != "passthrough" and final is not None:
            kw = dict(step_params[final_name])
            if classes is not None:
                kw["classes"] = classes
            final.partial_fit(Xt, yt, **kw)
        return self


def make_pipeline(*steps, memory=None, transform_input=None, verbose: bool = False) -> Pipeline:
    """Build a :class:`Pipeline` from estimators, naming the steps automatically.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skcl.buffers import ReservoirSamplingBuffer
    >>> from skcl.pipeline import make_pipeline
    >>> make_pipeline(ReservoirSamplingBuffer(10), SGDClassifier()).steps[0][0]
    'reservoirsamplingbuffer'
    """
    named = _skpipeline.make_pipeline(*steps).steps  # scikit-learn's public naming rule
    return Pipeline(named, memory=memory, transform_input=transform_input, verbose=verbose)
