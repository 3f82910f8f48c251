"""Separate schemes by composition: any registered codec with any registered editor.

* ``m1`` — **send, then edit** (the papers' M1): the transmitter sends the original image with
  the codec; the receiver decodes it and the editor applies the instruction there. The
  instruction reaches the receiver in one of two declared ways:

  - ``text=error-free`` — the journal's assumption: the text is side information the receiver
    knows exactly (recorded in every row as ``info.text = "error-free"``; no channel uses).
  - ``text=huffman-rs`` — the conference baselines: Huffman source coding + Reed–Solomon
    (``rs_nsym`` parity bytes) + uncoded Gray 4-QAM over the *same* channel at the same SNR,
    as a second stream ``text`` whose channel uses count in the CBR. A corrupted text that the
    editor's parser cannot understand leaves the image unedited (outcome ``not-understood``).

  An image the codec could not decode (the JPEG+LDPC cliff: the receiver holds only the grey
  placeholder, ``decode_failures`` > 0) is not handed to the editor; the row keeps the placeholder
  with outcome ``undecodable``. Identical requests (an error-free link delivers the same pixels at
  every SNR) are edited once; see ``Talk2EditEditor.edit_batch``.

* ``m2`` — **edit, then send** (the papers' M2): the editor edits at the transmitter and the
  codec sends the edited image; no text crosses the channel.

Parts are nested specs: ``m2:editor=[identity],codec=[jpeg-ldpc:bpp=0.5,rate=0.5]``. The parts'
streams are namespaced (``codec/image``), as are their side information, stage times and row
info (``codec.*``, ``editor.*``, ``text.*``). With the ``identity`` editor both compose into
the plain codec: the same received image, channel uses and bpp (plus the text stream's channel
uses with ``huffman-rs``).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.registry import EDITORS, METHODS, nested
from channels.base import Received
from methods.editing.base import EditResult, Editor, Outcome
from methods.schemes.base import Decoded, Method, Prepared, Request

TEXT_MODES = ("error-free", "huffman-rs")
TEXT_STREAM = "text"
CODEC = "codec"


def stream_leaf(name: str) -> str:
    """The part-local name of a (possibly namespaced) stream: 'codec/image' -> 'image'."""
    return name.rsplit("/", 1)[-1]


def _into(prefix: str, streams: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}/{k}": v for k, v in streams.items()}


def _out_of(prefix: str, received: dict[str, Received]) -> dict[str, Received]:
    head = prefix + "/"
    return {k[len(head):]: v for k, v in received.items() if k.startswith(head)}


def _times(prefix: str, times: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}.{k}": float(v) for k, v in times.items()}


def _reused_s(ed: EditResult) -> float:
    """The cost of a reused edit (computed once for an identical request), to be counted in the row's time."""
    return float(ed.elapsed or 0.0) if ed.reused else 0.0


def _edit_time(ed: EditResult, measured: float) -> float:
    """The editor's time for a row: a reused edit reports its computation's cost, others what was measured here."""
    return ed.elapsed if ed.reused and ed.elapsed is not None else measured


def _example(name: str) -> str:
    return f"e.g. {name}:codec=[jpeg-ldpc],editor=[identity]"


class _Composed(Method):
    task = "edit"
    kind = ""

    def __init__(self, codec: str | None, editor: str | None) -> None:
        if not codec or not editor:
            raise UserError(f"method '{self.kind}' needs both codec=[SPEC] and editor=[SPEC]; {_example(self.kind)}")
        self.codec: Method = METHODS.create(str(codec))
        if getattr(self.codec, "task", "transmit") != "transmit":
            raise UserError(f"'{self.codec.spec}' is an edit scheme, not a codec; give {self.kind} a codec that "
                            "transmits images (uncoded, jpeg-ldpc, deepsc, ...)")
        self.editor: Editor = EDITORS.create(str(editor))

    def setup(self, size: int) -> None:
        self.codec.setup(size)
        self.editor.setup(size)

    def weights(self) -> dict[str, str]:
        out = {f"codec.{k}": v for k, v in self.codec.weights().items()}
        out.update({f"editor.{k}": v for k, v in self.editor.weights().items()})
        return out


@METHODS.register("m1", "send, then edit (M1): codec=[SPEC] sends the image, editor=[SPEC] edits at the receiver; "
                        "text=error-free|huffman-rs says how the instruction gets there")
class SendThenEdit(_Composed):
    kind = "m1"

    def __init__(self, codec: str | None = None, editor: str | None = None, text: str = "error-free",
                 rs_nsym: int = 16) -> None:
        if text not in TEXT_MODES:
            raise UserError(f"m1 text='{text}' is not known: use text=error-free (journal: the instruction is known "
                            "exactly at the receiver) or text=huffman-rs (conference: sent over the channel)")
        if isinstance(rs_nsym, bool) or not isinstance(rs_nsym, int) or not 2 <= rs_nsym <= 128 or rs_nsym % 2:
            raise UserError(f"m1 rs_nsym must be an even number of Reed-Solomon parity bytes in 2..128, got {rs_nsym!r}")
        super().__init__(codec, editor)
        self.text = text
        self.link = None
        if text == "huffman-rs":
            from channels.channel_coding.text_link import TextLink

            self.link = TextLink(nsym=rs_nsym)
        self.spec = (f"m1:codec={nested(self.codec.spec)},editor={nested(self.editor.spec)},text={text}"
                     + (f",rs_nsym={rs_nsym}" if text == "huffman-rs" and rs_nsym != 16 else ""))

    def prepare(self, request: Request) -> Prepared:
        part = self.codec.prepare(Request(request.id, request.image, None))
        streams = _into(CODEC, part.streams)
        side: dict[str, Any] = {CODEC: part.side_info}
        times = _times(CODEC, part.stage_times)
        text_sent = None
        if self.link is None:
            side["instruction"] = request.instruction  # declared error-free side information
        else:
            t0 = time.perf_counter()
            text_sent = request.instruction or ""
            bits = self.link.encode(text_sent)
            streams[TEXT_STREAM] = self.link.to_symbols(text_sent)
            side["text_bits"] = int(bits.size)
            times["text.encode"] = time.perf_counter() - t0
        return Prepared(streams=streams, side_info=side, state=part, bpp=part.bpp, text_sent=text_sent,
                        stage_times=times, info={"text": self.text})

    def transmit(self, prepared: Prepared, snr_db: float) -> dict[str, np.ndarray]:
        streams = _into(CODEC, self.codec.transmit(prepared.state, snr_db))
        if self.link is not None:
            streams[TEXT_STREAM] = prepared.streams[TEXT_STREAM]
        return streams

    def receive(self, received, side_info, snr_db) -> Decoded:
        return self.receive_batch([(received, side_info, snr_db)])[0]

    def receive_batch(self, receptions) -> list[Decoded]:
        parts = self.codec.receive_batch([(_out_of(CODEC, rx), side[CODEC], snr) for rx, side, snr in receptions])
        texts, text_info, text_times = [], [], []
        for rx, side, _ in receptions:
            if self.link is None:
                texts.append(side.get("instruction"))
                text_info.append({})
                text_times.append({})
                continue
            t0 = time.perf_counter()
            res = self.link.from_received(rx[TEXT_STREAM], side["text_bits"])
            texts.append(res.text)
            text_info.append({"text.rs_failed": bool(res.failed), "text.rs_corrected": int(res.corrected)})
            text_times.append({"text.decode": time.perf_counter() - t0})
        # an undecodable image (the JPEG+LDPC cliff: the receiver holds only the grey placeholder) is not
        # edited: there is nothing to edit, and the editor's inversion would only dress up the placeholder
        todo = [i for i, p in enumerate(parts) if not p.decode_failures]
        t0 = time.perf_counter()
        done = self.editor.edit_batch([parts[i].image for i in todo], [texts[i] for i in todo]) if todo else []
        # the batch's wall time is shared by the edits computed in it; a reused edit (the same pixels and text as
        # one computed earlier) reports what its computation cost, which is what this receiver's editor costs
        per_edit = (time.perf_counter() - t0) / max(sum(not ed.reused for ed in done), 1)
        edits = [EditResult(p.image, Outcome.UNDECODABLE) for p in parts]
        for i, ed in zip(todo, done):
            edits[i] = ed
        out = []
        for part, text, tinfo, ttimes, ed in zip(parts, texts, text_info, text_times, edits):
            times = _times(CODEC, part.stage_times)
            times.update(ttimes)
            times.update(_times("editor", ed.stage_times))
            times["editor.edit"] = 0.0 if ed.outcome == Outcome.UNDECODABLE else _edit_time(ed, per_edit)
            info = {f"codec.{k}": v for k, v in part.info.items()}
            info.update(tinfo)
            info.update(ed.info())
            out.append(Decoded(image=ed.image, decode_failures=part.decode_failures,
                               text_received=text if self.link is not None else None,
                               stage_times=times, info=info, reused_s=_reused_s(ed)))
        return out


@METHODS.register("m2", "edit, then send (M2): editor=[SPEC] edits at the transmitter, codec=[SPEC] sends the "
                        "edited image")
class EditThenSend(_Composed):
    kind = "m2"

    def __init__(self, editor: str | None = None, codec: str | None = None) -> None:
        super().__init__(codec, editor)
        self.spec = f"m2:editor={nested(self.editor.spec)},codec={nested(self.codec.spec)}"

    def prepare(self, request: Request) -> Prepared:
        t0 = time.perf_counter()
        ed = self.editor.edit(request.image, request.instruction)
        t_edit = time.perf_counter() - t0
        part = self.codec.prepare(Request(request.id, ed.image, None))
        times = _times("editor", ed.stage_times)
        times["editor.edit"] = _edit_time(ed, t_edit)
        times.update(_times(CODEC, part.stage_times))
        return Prepared(streams=_into(CODEC, part.streams), side_info={CODEC: part.side_info}, state=part,
                        bpp=part.bpp, stage_times=times, info=ed.info(), reused_s=_reused_s(ed))

    def transmit(self, prepared: Prepared, snr_db: float) -> dict[str, np.ndarray]:
        return _into(CODEC, self.codec.transmit(prepared.state, snr_db))

    def receive(self, received, side_info, snr_db) -> Decoded:
        return self.receive_batch([(received, side_info, snr_db)])[0]

    def receive_batch(self, receptions) -> list[Decoded]:
        parts = self.codec.receive_batch([(_out_of(CODEC, rx), side[CODEC], snr) for rx, side, snr in receptions])
        return [Decoded(image=p.image, decode_failures=p.decode_failures, stage_times=_times(CODEC, p.stage_times),
                        info={f"codec.{k}": v for k, v in p.info.items()}) for p in parts]


# ----------------------------------------------------------------------------- the papers' names

SEMANTIC_EDITOR = "talk2edit:steps=110,lr_generator=0,loss=lpips-alex"
"""The conference baselines' receiver editor: the semantic editing module without Talk2Edit's generator
fine-tuning (the paper's eq. 8-9 inversion budget, r_inv = 110, LPIPS-alex + MSE)."""

PAPER_SCHEMES = {
    # name: (composition, codec, editor, text, summary)
    "deepsc+talk2edit": ("m1", "deepsc", "talk2edit", "error-free",
                         "journal M1: DeepSC sends the image, Talk2Edit edits at the receiver (text error-free)"),
    "jpeg-ldpc+talk2edit": ("m1", "jpeg-ldpc", "talk2edit", "error-free",
                            "journal M1: JPEG (0.7 bpp @128 px, 0.2 @1024, auto @64) + LDPC 1/2 + 4-QAM, then "
                            "Talk2Edit at the receiver (text error-free)"),
    "talk2edit+deepsc": ("m2", "deepsc", "talk2edit", None,
                         "journal M2: Talk2Edit edits at the transmitter, DeepSC sends the edited image"),
    "talk2edit+jpeg-ldpc": ("m2", "jpeg-ldpc", "talk2edit", None,
                            "journal M2: Talk2Edit edits, then JPEG + LDPC 1/2 + 4-QAM sends the edited image"),
    "deepjscc": ("m1", "deepsc", SEMANTIC_EDITOR, "error-free",
                 "conference baseline 'DeepJSCC, text error-free': the image by deep JSCC, the receiver edits with "
                 "the semantic editing module"),
    "jpeg-ldpc+edit": ("m1", "jpeg-ldpc", SEMANTIC_EDITOR, "error-free",
                       "conference baseline 'JPEG+LDPC, text error-free': the receiver edits with the semantic "
                       "editing module"),
    "deepjscc-huffman-rs": ("m1", "deepsc", SEMANTIC_EDITOR, "huffman-rs",
                            "conference baseline: deep JSCC image + the instruction by Huffman + Reed-Solomon + "
                            "4-QAM over the same channel (its channel uses count in the CBR)"),
    "jpeg-ldpc-huffman-rs": ("m1", "jpeg-ldpc", SEMANTIC_EDITOR, "huffman-rs",
                             "conference baseline: JPEG + LDPC image + the instruction by Huffman + Reed-Solomon + "
                             "4-QAM over the same channel"),
}


def _paper_scheme(name: str, kind: str, codec: str, editor: str, text: str | None):
    def factory(codec: str = codec, editor: str = editor, **options) -> Method:
        if kind == "m2":
            if options:
                raise UserError(f"{name} takes codec=[SPEC] and editor=[SPEC] only, got {', '.join(options)}")
            obj = EditThenSend(editor=editor, codec=codec)
        else:
            obj = SendThenEdit(codec=codec, editor=editor, **{"text": text, **options})
        obj.spec = name if (codec, editor, options) == (PAPER_SCHEMES[name][1], PAPER_SCHEMES[name][2], {}) \
            else f"{name}:" + ",".join([f"codec={nested(obj.codec.spec)}", f"editor={nested(obj.editor.spec)}"]
                                       + [f"{k}={v}" for k, v in sorted(options.items())])
        obj.expands_to = (f"m2:editor={nested(editor)},codec={nested(codec)}" if kind == "m2" else
                          f"m1:codec={nested(codec)},editor={nested(editor)},text={text}")
        return obj
    factory.__name__ = name.replace("+", "_").replace("-", "_")
    return factory


for _name, (_kind, _codec, _editor, _text, _summary) in PAPER_SCHEMES.items():
    METHODS.register(_name, _summary)(_paper_scheme(_name, _kind, _codec, _editor, _text))
