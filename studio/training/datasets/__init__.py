"""Datasets for training: a registry of named sets (embedded, generated, downloaded, the user's own
files), each with a description, sample shape and dtype, classes, task and a preview."""
from __future__ import annotations

from .base import CLASSIFICATION, RECONSTRUCTION, REGRESSION, ArrayDataset, DatasetInfo, Part, Splits
from .registry import DatasetEntry, dataset_info, get_entry, list_datasets, load_dataset, register

__all__ = ["ArrayDataset", "DatasetInfo", "DatasetEntry", "Part", "Splits", "CLASSIFICATION",
           "REGRESSION", "RECONSTRUCTION", "dataset_info", "get_entry", "list_datasets",
           "load_dataset", "register"]
