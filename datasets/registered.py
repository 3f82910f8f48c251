"""Imports every built-in dataset module so its @DATASETS.register decorators run."""
import datasets.folder  # noqa: F401
import datasets.real  # noqa: F401
import datasets.synthfaces  # noqa: F401
import datasets.stress  # noqa: F401
