"""The method contract every transmission scheme implements.

A scheme is split at the point the sweep runner needs:

* ``prepare(item)``  — the transmitter's SNR-independent work (inversion, editing, source
  coding, channel encoding). The runner calls it once per image per sweep and reuses the
  result for every SNR.
* ``transmit(prepared, snr_db)`` — the per-SNR part of the transmitter (e.g. an SNR-adapted
  encoder). The default sends the prepared streams unchanged.
* ``receive(received, side_info, snr_db)`` — the receiver. It sees only the channel outputs
  and `side_info` (what the receiver is assumed to know error-free: lengths, shapes), never
  the transmitter's private state or the original image.

Streams are named complex vectors (one element per complex channel use) with average power
at most 1; the runner checks that and passes each through the channel.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from channels.base import Received
from datasets.base import Item


@dataclass
class Prepared:
    streams: dict[str, np.ndarray]
    side_info: dict[str, Any] = field(default_factory=dict)
    state: Any = None  # transmitter-private; only transmit() sees it
    bpp: float | None = None  # source-coded bits per pixel, where the scheme has one
    text_sent: str | None = None  # text put on the channel, if any
    stage_times: dict[str, float] = field(default_factory=dict)  # seconds per named stage


@dataclass
class Decoded:
    image: np.ndarray  # uint8 (H, W, 3)
    decode_failures: int = 0  # e.g. undecodable bitstreams replaced by a placeholder
    text_received: str | None = None
    stage_times: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


class Method(ABC):
    """Subclasses are registered with ``@METHODS.register(name, summary)``.

    task: "transmit" when the receiver should reproduce the original image, "edit" when it
    should produce the edited image the instruction asks for.
    """

    spec: str = ""
    task: str = "transmit"

    def setup(self, size: int) -> None:
        """Called once per sweep with the image resolution before any prepare()."""

    @abstractmethod
    def prepare(self, item: Item) -> Prepared: ...

    def transmit(self, prepared: Prepared, snr_db: float) -> dict[str, np.ndarray]:
        return prepared.streams

    @abstractmethod
    def receive(self, received: dict[str, Received], side_info: dict[str, Any], snr_db: float) -> Decoded: ...
