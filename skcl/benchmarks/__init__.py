"""Experiences, stream builders and data set loaders."""

from skcl.benchmarks._datasets import (
    FASHION_MNIST_DEBIAN_PATH,
    load_digits_arrays,
    load_fashion_mnist,
    load_mnist,
    permuted_digits,
    read_idx,
    split_digits,
    split_fashion_mnist,
)
from skcl.benchmarks._experience import Experience
from skcl.benchmarks._streams import (
    as_named_streams,
    class_incremental_split,
    online_stream,
    permuted_stream,
    rotated_stream,
    stream_from_groups,
    stream_to_arrays,
    task_incremental_split,
)

__all__ = [
    "Experience",
    "as_named_streams",
    "FASHION_MNIST_DEBIAN_PATH",
    "class_incremental_split",
    "load_digits_arrays",
    "load_fashion_mnist",
    "load_mnist",
    "online_stream",
    "permuted_digits",
    "permuted_stream",
    "read_idx",
    "rotated_stream",
    "split_digits",
    "split_fashion_mnist",
    "stream_from_groups",
    "stream_to_arrays",
    "task_incremental_split",
]
