"""Stream builders: turn arrays into aligned train and test streams of experiences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

from skcl.benchmarks._experience import Experience

__all__ = [
    "class_incremental_split",
    "task_incremental_split",
    "permuted_stream",
    "rotated_stream",
    "stream_from_groups",
    "online_stream",
    "stream_to_arrays",
    "as_named_streams",
]


def _check_xy(X, y, name: str):
    X = np.asarray(X) if not hasattr(X, "shape") else X
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} samples but y has {len(y)}.")
    return X, y


def _class_groups(classes, n_experiences, per_exp_classes, class_order, shuffle, rng):
    if per_exp_classes is not None:
        groups = [np.asarray(g) for g in per_exp_classes]
        flat = np.concatenate(groups)
        unknown = np.setdiff1d(flat, classes)
        if len(unknown):
            raise ValueError(f"per_exp_classes names classes not in y: {unknown.tolist()}")
        if len(np.unique(flat)) != len(flat):
            raise ValueError("per_exp_classes must not repeat a class across experiences.")
        return groups
    if class_order is not None:
        order = np.asarray(class_order)
        if sorted(order.tolist()) != sorted(np.asarray(classes).tolist()):
            raise ValueError("class_order must be a permutation of the classes in y.")
    else:
        order = np.asarray(classes)
        if shuffle:
            order = order[rng.permutation(len(order))]
    if n_experiences is None or n_experiences < 1 or n_experiences > len(order):
        raise ValueError(
            f"n_experiences must be between 1 and the number of classes ({len(order)}); "
            f"got {n_experiences}."
        )
    return np.array_split(order, n_experiences)


def class_incremental_split(
    X,
    y,
    X_test=None,
    y_test=None,
    *,
    n_experiences: int | None = 5,
    per_exp_classes: Sequence[Sequence] | None = None,
    class_order: Sequence | None = None,
    shuffle: bool = True,
    task_labels: bool = False,
    class_ids_from_zero_in_each_exp: bool = False,
    random_state=None,
):
    """Split data into experiences with disjoint classes.

    Parameters
    ----------
    X, y : array-like
        Training inputs and labels.
    X_test, y_test : array-like, default=None
        Test data, split with the same class groups. When omitted only the
        train stream is returned.
    n_experiences : int, default=5
        Number of experiences; classes are spread as evenly as possible.
    per_exp_classes : list of lists, default=None
        Explicit classes of each experience (overrides ``n_experiences``).
    class_order : sequence, default=None
        Fixed order of the classes before splitting (overrides ``shuffle``).
    shuffle : bool, default=True
        Shuffle the class order with ``random_state``.
    task_labels : bool, default=False
        Give experience ``i`` the task label ``i`` (task-incremental).
    class_ids_from_zero_in_each_exp : bool, default=False
        Renumber the classes of each experience from 0 (task-incremental
        with per-task label spaces).
    random_state : int, RandomState or None, default=None
        Seeds the class order.

    Returns
    -------
    train_stream : list of Experience
    test_stream : list of Experience
        Only when ``X_test`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import class_incremental_split
    >>> X, y = np.arange(12).reshape(6, 2), np.array([0, 1, 2, 3, 0, 1])
    >>> stream = class_incremental_split(X, y, n_experiences=2, shuffle=False)
    >>> [e.classes.tolist() for e in stream]
    [[0, 1], [2, 3]]
    """
    X, y = _check_xy(X, y, "class_incremental_split")
    rng = check_random_state(random_state)
    groups = _class_groups(np.unique(y), n_experiences, per_exp_classes, class_order, shuffle, rng)

    def build(Xa, ya):
        stream = []
        for i, group in enumerate(groups):
            idx = np.flatnonzero(np.isin(ya, group))
            yi = ya[idx]
            classes = np.asarray(group)
            if class_ids_from_zero_in_each_exp:
                sorted_group = np.sort(classes)
                yi = np.searchsorted(sorted_group, yi)
                classes = np.arange(len(sorted_group))
            stream.append(
                Experience(
                    Xa[idx], yi, task_label=i if task_labels else 0,
                    classes=np.sort(classes), index=i,
                )
            )
        return stream

    train = build(X, y)
    if X_test is None:
        return train
    X_test, y_test = _check_xy(X_test, y_test, "class_incremental_split (test)")
    return train, build(X_test, y_test)


def task_incremental_split(X, y, X_test=None, y_test=None, *, n_experiences=5,
                           class_ids_from_zero_in_each_exp=False, **kwargs):
    """Class-incremental split where experience ``i`` carries task label ``i``.

    Takes the same arguments as :func:`class_incremental_split`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import task_incremental_split
    >>> X, y = np.zeros((8, 2)), np.array([0, 1, 2, 3] * 2)
    >>> s = task_incremental_split(X, y, n_experiences=2, shuffle=False,
    ...                            class_ids_from_zero_in_each_exp=True)
    >>> [(e.task_label, e.classes.tolist()) for e in s]
    [(0, [0, 1]), (1, [0, 1])]
    """
    return class_incremental_split(
        X, y, X_test, y_test, n_experiences=n_experiences, task_labels=True,
        class_ids_from_zero_in_each_exp=class_ids_from_zero_in_each_exp, **kwargs,
    )


def _domain_stream(X, y, X_test, y_test, transforms, task_labels):
    def build(Xa, ya):
        return [
            Experience(f(Xa), ya, task_label=i if task_labels else 0, index=i)
            for i, f in enumerate(transforms)
        ]

    train = build(X, y)
    if X_test is None:
        return train
    X_test, y_test = _check_xy(X_test, y_test, "test data")
    return train, build(X_test, y_test)


def permuted_stream(X, y, X_test=None, y_test=None, *, n_experiences=5, task_labels=False,
                    random_state=None):
    """Domain-incremental stream: one fixed feature permutation per experience.

    As in Permuted-MNIST, every experience (the first included) gets its own
    seeded permutation of the flattened features; labels stay the same.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import permuted_stream
    >>> X, y = np.arange(8.0).reshape(2, 4), np.array([0, 1])
    >>> s = permuted_stream(X, y, n_experiences=3, random_state=0)
    >>> len(s), sorted(s[1].X[0].tolist())
    (3, [0.0, 1.0, 2.0, 3.0])
    """
    X, y = _check_xy(X, y, "permuted_stream")
    if n_experiences < 1:
        raise ValueError(f"n_experiences must be >= 1; got {n_experiences}.")
    rng = check_random_state(random_state)
    n_features = int(np.prod(X.shape[1:]))
    perms = [rng.permutation(n_features) for _ in range(n_experiences)]

    def make(perm):
        return lambda A: A.reshape(len(A), -1)[:, perm].reshape(A.shape)

    return _domain_stream(X, y, X_test, y_test, [make(p) for p in perms], task_labels)


def rotated_stream(X, y, X_test=None, y_test=None, *, n_experiences=5, image_shape=None,
                   angles=None, task_labels=False, random_state=None):
    """Domain-incremental stream: each experience rotates the images by one angle.

    Parameters
    ----------
    image_shape : tuple (height, width), default=None
        Shape used to view flat rows as images; inferred for square images.
    angles : sequence of float, default=None
        Degrees per experience; drawn uniformly in [0, 180) when omitted.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import rotated_stream
    >>> X, y = np.eye(3).reshape(1, 9).repeat(2, 0), np.array([0, 1])
    >>> s = rotated_stream(X, y, angles=[0, 90])
    >>> np.allclose(s[0].X, X), s[1].X.shape
    (True, (2, 9))
    """
    from scipy.ndimage import rotate

    X, y = _check_xy(X, y, "rotated_stream")
    rng = check_random_state(random_state)
    if angles is None:
        angles = rng.uniform(0, 180, size=n_experiences)
    flat = X.ndim == 2
    if image_shape is None:
        if flat:
            side = int(round(np.sqrt(X.shape[1])))
            if side * side != X.shape[1]:
                raise ValueError("rotated_stream needs image_shape for non-square flat images.")
            image_shape = (side, side)
        else:
            image_shape = X.shape[-2:]

    h, w = (int(v) for v in image_shape)

    def make(angle):
        if h * w <= 1024:
            # Bilinear rotation is linear in the pixels: rotate the h*w basis images once
            # and apply the map to every image as one sparse product (the same values as
            # rotating each image, ~10x faster on 28x28 images).
            from scipy import sparse

            basis = np.eye(h * w, dtype=np.float32).reshape(h * w, h, w)
            M = rotate(basis, angle, axes=(-2, -1), reshape=False, order=1, mode="constant")
            M = sparse.csr_matrix(M.reshape(h * w, h * w))

            def f(A):
                out = np.asarray(A.reshape(-1, h * w) @ M)
                if np.issubdtype(A.dtype, np.integer):
                    info = np.iinfo(A.dtype)
                    out = np.clip(np.rint(out), info.min, info.max)
                return out.reshape(A.shape).astype(A.dtype, copy=False)
            return f

        def f(A):
            imgs = A.reshape(len(A), *image_shape) if flat else A
            out = rotate(imgs, angle, axes=(-2, -1), reshape=False, order=1, mode="constant")
            return out.reshape(A.shape).astype(A.dtype, copy=False)
        return f

    return _domain_stream(X, y, X_test, y_test, [make(a) for a in angles], task_labels)


def stream_from_groups(X, y, groups, *, task_labels=None):
    """Build a stream from user-given experience ids, one experience per id (sorted).

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Experience id of each sample.
    task_labels : array-like of shape (n_samples,) or None
        Per-sample task labels; 0 when omitted.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import stream_from_groups
    >>> s = stream_from_groups(np.zeros((4, 1)), [0, 1, 0, 1], groups=[2, 2, 7, 7])
    >>> [len(e) for e in s], [e.index for e in s]
    ([2, 2], [0, 1])
    """
    X, y = _check_xy(X, y, "stream_from_groups")
    groups = np.asarray(groups)
    if len(groups) != len(y):
        raise ValueError(f"groups has {len(groups)} entries but y has {len(y)}.")
    t = None if task_labels is None else np.asarray(task_labels)
    stream = []
    for i, g in enumerate(np.unique(groups)):
        idx = np.flatnonzero(groups == g)
        tl = 0 if t is None else t[idx]
        if t is not None and len(np.unique(tl)) == 1:
            tl = int(tl[0])
        stream.append(Experience(X[idx], y[idx], task_label=tl, index=i))
    return stream


def online_stream(stream, experience_size: int, *, shuffle=True, drop_last=False,
                  random_state=None):
    """Cut each experience into small experiences of ``experience_size`` samples.

    Each piece records the experience it came from (``origin``) and whether it
    is the first or last piece of it.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import Experience, online_stream
    >>> exp = Experience(np.zeros((5, 1)), np.array([0, 1, 0, 1, 0]), index=0)
    >>> pieces = online_stream([exp], 2, shuffle=False)
    >>> [(len(p), p.origin, p.is_first_piece, p.is_last_piece) for p in pieces]
    [(2, 0, True, False), (2, 0, False, False), (1, 0, False, True)]
    """
    if experience_size < 1:
        raise ValueError(f"experience_size must be >= 1; got {experience_size}.")
    rng = check_random_state(random_state)
    out = []
    for exp in stream:
        n = len(exp)
        order = rng.permutation(n) if shuffle else np.arange(n)
        cuts = list(range(0, n, experience_size))
        if drop_last and n % experience_size:
            cuts = cuts[:-1]
        t = exp.task_label
        for j, start in enumerate(cuts):
            idx = order[start:start + experience_size]
            tl = t if np.ndim(t) == 0 else np.asarray(t)[idx]
            out.append(Experience(
                exp.X[idx], np.asarray(exp.y)[idx], task_label=tl, index=len(out),
                origin=exp.origin_index, is_first_piece=j == 0, is_last_piece=j == len(cuts) - 1,
            ))
    return out


def stream_to_arrays(stream):
    """Concatenate a stream into ``(X, y, experience_ids, task_labels)`` arrays.

    The inverse of :func:`stream_from_groups`; handy for ``fit(X, y, experience=ids)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import Experience, stream_to_arrays
    >>> s = [Experience(np.zeros((2, 1)), [0, 1], index=0),
    ...      Experience(np.ones((1, 1)), [2], index=1)]
    >>> X, y, ids, t = stream_to_arrays(s)
    >>> ids.tolist(), y.tolist()
    ([0, 0, 1], [0, 1, 2])
    """
    X = np.concatenate([np.asarray(e.X) for e in stream])
    y = np.concatenate([np.asarray(e.y) for e in stream])
    ids = np.concatenate([np.full(len(e), e.index) for e in stream])
    t = np.concatenate([e.task_labels for e in stream])
    return X, y, ids, t


def as_named_streams(eval_streams) -> dict[str, list[Experience]]:
    """Normalize evaluation streams to ``{name: [Experience, ...]}``.

    Accepts one Experience, a stream (list of Experience, named ``"test"``), a
    list of streams (``"test"``, ``"test1"``, ...), an ``(X, y)`` pair, or a
    dict of any of these. ``None`` gives an empty dict.

    Examples
    --------
    >>> import numpy as np
    >>> from skcl.benchmarks import Experience, as_named_streams
    >>> e = Experience(np.zeros((2, 1)), np.array([0, 1]))
    >>> list(as_named_streams([e, e])), list(as_named_streams([[e], [e]]))
    (['test'], ['test', 'test1'])
    >>> len(as_named_streams({"valid": (np.zeros((3, 1)), [0, 1, 0])})["valid"][0])
    3
    """
    def as_stream(value) -> list[Experience]:
        if isinstance(value, Experience):
            return [value]
        is_pair = isinstance(value, tuple) and len(value) == 2
        if is_pair and not isinstance(value[0], (Experience, list, tuple)):
            return [Experience(value[0], value[1])]
        stream = list(value)
        if not all(isinstance(e, Experience) for e in stream):
            raise TypeError("eval_streams must be an Experience, a list of Experience, a list "
                            "of such lists, an (X, y) pair, or a dict {name: any of these}.")
        return stream

    if eval_streams is None:
        return {}
    if isinstance(eval_streams, dict):
        return {str(name): as_stream(value) for name, value in eval_streams.items()}
    if isinstance(eval_streams, Experience) or (
            isinstance(eval_streams, tuple) and len(eval_streams) == 2
            and not isinstance(eval_streams[0], (Experience, list, tuple))):
        return {"test": as_stream(eval_streams)}
    items = list(eval_streams)
    if all(isinstance(e, Experience) for e in items):
        return {"test": items}
    return {("test" if i == 0 else f"test{i}"): as_stream(s) for i, s in enumerate(items)}
