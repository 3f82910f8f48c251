"""Loaders for the public datasets in their published layouts (the official tier).

Importing this package registers ``celeba``, ``celeba-hq``, ``metfaces`` and
``celeba-dialog`` in ``bench.registry.DATASETS``. Specs use ``name:k=v`` options, always with
``root=PATH`` (a path containing ',' cannot be written in a spec). Common options:
``requests=all|train|heldout|none`` (which instruction templates generate Item.instruction),
``shuffle=true`` (n items = a seeded random subset; false = the first n), ``crop=N``,
``allow_clamp=false``.
"""
from datasets.real.celeba import CelebA
from datasets.real.celeba_dialog import CelebADialog
from datasets.real.celeba_hq import CelebAHQ
from datasets.real.metfaces import MetFaces

__all__ = ["CelebA", "CelebAHQ", "CelebADialog", "MetFaces"]
