"""The contract every scheme under test implements (what each side of the link may see).

* **Transmitter** — ``prepare(request)`` gets a `Request`: the image, the instruction text and
  an id, and nothing else (no ground-truth edit, no labels). It does the SNR-independent work
  (inversion, editing, source and channel coding) once per image per sweep.
  ``transmit(prepared, snr_db)`` is the per-SNR part (e.g. an SNR-adapted encoder); the
  default sends the prepared streams unchanged.
* **Channel** — the runner passes every stream (named complex vectors, one element per complex
  channel use, average power at most 1) through the sweep's channel.
* **Receiver** — ``receive(received, side_info, snr_db)`` sees only the channel outputs and
  `side_info`, what the receiver is declared to know error-free (lengths, shapes, and, for
  composed schemes with ``text=error-free``, the instruction). ``receive_batch`` takes several
  receptions at once (the SNRs of one image) so receivers that invert or edit can batch; it
  must give the same results as calling ``receive`` one by one.
* **Evaluation** — only the runner's scoring sees the dataset's ground truth (the
  ground-truth edit and labels), never the method.

``weights()`` names the trained files a scheme uses (after ``setup``); their digests enter
every row's provenance, so retrained weights never silently reuse old rows.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from channels.base import Received


@dataclass(frozen=True, slots=True)
class Request:
    """What a transmitter is given: the user's image and instruction, and an id for logs."""

    id: str
    image: np.ndarray  # uint8 (H, W, 3), the original S_I
    instruction: str | None = None  # the editing request S_T (None for plain transmission)


@dataclass
class Prepared:
    streams: dict[str, np.ndarray]
    side_info: dict[str, Any] = field(default_factory=dict)
    state: Any = None  # transmitter-private; only transmit() sees it
    bpp: float | None = None  # source-coded bits per pixel, where the scheme has one
    text_sent: str | None = None  # text put on the channel, if any
    stage_times: dict[str, float] = field(default_factory=dict)  # seconds per named stage
    info: dict[str, Any] = field(default_factory=dict)  # transmitter facts for the row (edit outcome, ...)
    # seconds of computation this preparation took over from an identical earlier one (a reused edit): the row's
    # `tx.prepare` adds them, so timings report what the scheme costs, not what the benchmark's reuse saved
    reused_s: float = 0.0


@dataclass
class Decoded:
    image: np.ndarray  # uint8 (H, W, 3)
    decode_failures: int = 0  # e.g. undecodable bitstreams replaced by a placeholder
    text_received: str | None = None
    stage_times: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    reused_s: float = 0.0  # as Prepared.reused_s, added to the row's `rx.receive`


# One reception: (channel outputs by stream name, side information, SNR in dB).
Reception = tuple[dict[str, Received], dict[str, Any], float]


class Method(ABC):
    """Subclasses are registered with ``@METHODS.register(name, summary)``.

    task: "transmit" when the receiver should reproduce the original image, "edit" when it
    should produce the edited image the instruction asks for.
    """

    spec: str = ""
    task: str = "transmit"

    def setup(self, size: int) -> None:
        """Called once per sweep with the image resolution before any prepare()."""

    def weights(self) -> dict[str, str]:
        """Trained weight files this scheme uses: role -> path (after setup)."""
        return {}

    @abstractmethod
    def prepare(self, request: Request) -> Prepared: ...

    def transmit(self, prepared: Prepared, snr_db: float) -> dict[str, np.ndarray]:
        return prepared.streams

    @abstractmethod
    def receive(self, received: dict[str, Received], side_info: dict[str, Any], snr_db: float) -> Decoded: ...

    def receive_batch(self, receptions: list[Reception]) -> list[Decoded]:
        """Several receptions in one call; the default decodes them one by one."""
        return [self.receive(rx, side, snr) for rx, side, snr in receptions]
