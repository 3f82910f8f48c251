"""Trainer of the JECC field functions (``bench train jecc-field-functions``): the editing field
functions trained further with the channel in the loop at high SNRs, as the journal trains
M "through noisy channels under high SNRs" (Sec. IV-B; eq. 12-15 on the received image).

Defaults: start from the shipped ``field-functions`` (training further rather than from scratch:
the clean-channel fields already edit, and the paper warns that low training SNRs spoil the edits,
so the channel is added as a late, mild perturbation), SNRs 12 and 18 dB. ``--set snrs=...`` and
``--set init_from=PATH`` override them. Everything else is ``methods.training.field_functions``.
"""
from __future__ import annotations

from methods.training import field_functions

DEFAULT_SNRS = "12,18"


def train(ctx) -> None:
    field_functions.train(ctx, default_snrs=DEFAULT_SNRS, default_init=None if ctx.quick else "shipped")
