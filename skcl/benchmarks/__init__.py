"""Experiences, stream builders, data set loaders and the standard image benchmarks.

The image benchmarks (``split_mnist``, ``permuted_mnist``, ``rotated_mnist``,
``split_fashion_mnist``, ``split_cifar10``, ``split_cifar100``,
``split_tiny_imagenet``, ``core50``) read the official files from ``root=``, a
per-data-set environment variable (``SKCL_MNIST``, ``SKCL_FASHION_MNIST``,
``SKCL_CIFAR10``, ``SKCL_CIFAR100``, ``SKCL_TINY_IMAGENET``, ``SKCL_CORE50``),
``$SKCL_DATA/<name>`` or the cache folder, and download only with
``download=True``. Each returns ``(train_stream, test_stream)``.

Images are uint8 arrays of shape (n, C, H, W) by default (compact: CIFAR-10's
training set is 150 MB). ``dtype="float32"`` scales them to [0, 1] and
``flatten=True`` gives rows for MLPs. Note: at the time of writing the
strategies' input validation turns a uint8 array into float32 *without*
scaling (0..255), so feed strategies ``dtype="float32"`` streams unless the
strategy documents that it keeps uint8 inputs.
"""

from skcl.benchmarks._cifar import (
    CIFAR100_ICARL_ORDER,
    CIFAR100_LUCIR_ORDER,
    load_cifar,
    split_cifar10,
    split_cifar100,
)
from skcl.benchmarks._core50 import core50
from skcl.benchmarks._datasets import (
    FASHION_MNIST_DEBIAN_PATH,
    load_digits_arrays,
    load_fashion_mnist,
    load_mnist,
    permuted_digits,
    read_idx,
    split_digits,
)
from skcl.benchmarks._download import (
    DatasetNotFoundError,
    DatasetVerificationError,
    default_cache_dir,
    md5sum,
)
from skcl.benchmarks._experience import Experience
from skcl.benchmarks._mnist import (
    load_idx_images,
    permuted_mnist,
    rotated_mnist,
    split_fashion_mnist,
    split_mnist,
)
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
from skcl.benchmarks._tiny_imagenet import load_tiny_imagenet, split_tiny_imagenet

__all__ = [
    "Experience",
    "as_named_streams",
    "CIFAR100_ICARL_ORDER",
    "CIFAR100_LUCIR_ORDER",
    "DatasetNotFoundError",
    "DatasetVerificationError",
    "FASHION_MNIST_DEBIAN_PATH",
    "class_incremental_split",
    "core50",
    "default_cache_dir",
    "load_cifar",
    "load_digits_arrays",
    "load_fashion_mnist",
    "load_idx_images",
    "load_mnist",
    "load_tiny_imagenet",
    "md5sum",
    "online_stream",
    "permuted_digits",
    "permuted_mnist",
    "permuted_stream",
    "read_idx",
    "rotated_mnist",
    "rotated_stream",
    "split_cifar10",
    "split_cifar100",
    "split_digits",
    "split_fashion_mnist",
    "split_mnist",
    "split_tiny_imagenet",
    "stream_from_groups",
    "stream_to_arrays",
    "task_incremental_split",
]
