"""Editable-DeepSC (journal Section IV; conference version as ``variant=conference``).

Transmitter (``prepare``, once per image whatever the number of SNRs):

1. **SE_T** — the instruction encoder parses the request into (attribute, direction, Δ or target);
   no text is sent. Not understood: the image is sent unedited (outcome ``not-understood``).
2. **SE_I** — GAN inversion into the generator's latent (eq. 8-9): λ_inv·MSE + LPIPS-alex,
   ``r_inv`` steps of Adam at η_inv, started from ``init`` (the shipped latent encoder by default;
   the paper starts from a random z, ``init=random``).
3. **JECC editing** — iterative attribute matching (eq. 10-11) with the field functions, P read on
   G(w) after every step (``matching=false``: a fixed number of steps per degree, Fig. 10).

Per SNR (``transmit``): the channel-encoder adapter A_CE of the nearest trained SNR (eq. 16) and
power normalisation (eq. 4) -> ``w_dim / 2`` complex symbols (64 at 64 px: CBR 1/96 = 0.0104 in
the paper's convention). Receiver: A_CD (eq. 17), then the generator (JSCD). ``adapters=false``
(the journal's Table IV ablation, and the conference system) leaves both adapters out.

Images of another size are resized to the generator's resolution before inversion and the
decoded image is resized back (Lanczos); rows record it (``rx.resized``), and the CBR is counted
on the image actually given.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.options import bool_option, float_option, int_option
from bench.registry import METHODS
from channels.base import Received
from methods.editing.base import RADIUS_SCALE
from methods.schemes.base import Decoded, Method, Prepared, Request

STREAM = "latent"
VARIANTS = ("journal", "conference")
SPACES = ("w", "w+")
INITS = ("encoder", "mean", "random")


@METHODS.register("editable-deepsc", "Editable-DeepSC (journal): invert into W (r_inv=110), parse, edit the latent "
                                     "with field functions + attribute matching at the transmitter, send the edited "
                                     "latent (64 complex symbols at 64 px) through SNR-aware adapters, decode with G; "
                                     "options variant=journal|conference, r_inv, init, space=w|w+, adapters, "
                                     "matching, max_trials, radius")
class EditableDeepSC(Method):
    task = "edit"

    def __init__(self, variant: str = "journal", r_inv: int = 110, lambda_inv: float = 1.0, lr_inv: float = 0.1,
                 init: str = "encoder", space: str = "w", adapters: bool | None = None, matching: bool = True,
                 max_trials: int = 100, steps_per_degree: int = 1, fields: str | None = None,
                 adapters_path: str | None = None, norm: str = "implicit", refine: bool = False,
                 radius: float = RADIUS_SCALE):
        if variant not in VARIANTS:
            raise UserError(f"editable-deepsc variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
        self.variant = variant
        self.r_inv = int_option(r_inv, "editable-deepsc r_inv", 0, 100_000)
        self.lambda_inv = float_option(lambda_inv, "editable-deepsc lambda_inv", 0.0, 1e6)
        self.lr_inv = float_option(lr_inv, "editable-deepsc lr_inv", 0.0, 10.0, lo_open=True)
        if init not in INITS:
            raise UserError(f"editable-deepsc init must be one of {', '.join(INITS)}, got {init!r}")
        self.init = init
        if space not in SPACES:
            raise UserError(f"editable-deepsc space must be one of {', '.join(SPACES)}, got {space!r} (w sends "
                            "w_dim reals; w+ sends one w per synthesis layer, num_ws times the channel uses)")
        self.space = space
        default_adapters = variant == "journal"
        self.adapters = default_adapters if adapters is None else bool_option(adapters, "editable-deepsc adapters")
        self.matching = bool_option(matching, "editable-deepsc matching")
        self.max_trials = int_option(max_trials, "editable-deepsc max_trials", 0, 10_000)
        self.steps_per_degree = int_option(steps_per_degree, "editable-deepsc steps_per_degree", 1, 1000)
        self.refine = bool_option(refine, "editable-deepsc refine")
        self.radius = float_option(radius, "editable-deepsc radius", 0.0, 1e3,
                                   note=" (edits stop at this many times the 99th percentile of the latents' "
                                        "distance from the mean; 0 turns the limit off)")
        from methods.nets.channel_adapter import NORMS

        if norm not in NORMS:
            raise UserError(f"editable-deepsc norm must be implicit (the paper: eq. 4 removes the latent's norm) or "
                            f"sent (one more channel use carries it), got {norm!r}")
        self.norm = norm
        self.fields_path = None if fields in (None, "") else str(fields)
        self.adapters_path = None if adapters_path in (None, "") else str(adapters_path)
        parts = [f"variant={variant}"]
        defaults = {"r_inv": 110, "lambda_inv": 1.0, "lr_inv": 0.1, "init": "encoder", "space": "w",
                    "adapters": default_adapters, "matching": True, "max_trials": 100, "steps_per_degree": 1,
                    "norm": "implicit", "refine": False, "radius": RADIUS_SCALE}
        for k, default in defaults.items():
            v = getattr(self, k)
            if v != default:
                parts.append(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
        if self.fields_path:
            parts.append(f"fields={self.fields_path}")
        if self.adapters_path:
            parts.append(f"adapters_path={self.adapters_path}")
        self.spec = "editable-deepsc" + (":" + ",".join(parts) if parts != ["variant=journal"] else "")
        self.G = self.P = self.fields = self.parse = self.encoder = self.link = self.ad = None
        self._paths: dict[str, str] = {}
        self.size: int | None = None

    # ------------------------------------------------------------------ set-up
    def setup(self, size: int) -> None:
        from methods.nets.attribute_predictor import load_predictor
        from methods.nets.channel_adapter import load_adapters_for
        from methods.nets.field_function import load_fields_for
        from methods.nets.instruction_encoder.parser import _shipped
        from methods.nets.latent_encoder import load_encoder_for
        from methods.nets.stylegan2 import load_generator
        from methods.zoo import weights_path

        self.size = int(size)
        if self.G is None:
            import torch

            torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
            G = load_generator()
            # the JECC fields (trained with the channel in the loop) when shipped, else the editing fields
            from methods.nets.field_function import field_component_of

            if self.fields_path is not None:
                self.fields_name = field_component_of(self.fields_path)
            else:
                self.fields_name = "jecc-field-functions" if weights_path("jecc-field-functions").exists() \
                    else "field-functions"
            fields = load_fields_for(fields_path=self.fields_path, name=self.fields_name)
            self.use(G=G, P=load_predictor(), fields=fields, parse=_shipped().parse,
                     encoder=load_encoder_for() if self.init == "encoder" else None,
                     adapters=load_adapters_for(path=self.adapters_path) if self.adapters else None)
            self._paths = {"generator": str(weights_path("stylegan2")),
                           "predictor": str(weights_path("attribute-predictor")),
                           "fields": self.fields_path or str(weights_path(self.fields_name)),
                           "parser": str(weights_path("instruction-encoder"))}
            if self.init == "encoder":
                self._paths["encoder"] = str(weights_path("stylegan2-encoder"))
            if self.adapters:
                self._paths["adapters"] = self.adapters_path or str(weights_path("channel-adapters"))

    def use(self, G, P, fields, parse, encoder=None, adapters=None) -> "EditableDeepSC":
        """Set the networks directly (tests, the official tier)."""
        from methods.nets.channel_adapter import LatentLink

        for m in (G, P, fields, encoder, adapters):
            if m is not None and hasattr(m, "eval"):
                m.eval().requires_grad_(False)
        if self.adapters and adapters is None:
            raise UserError("editable-deepsc adapters=true needs trained channel adapters ('bench train "
                            "channel-adapters'); or run it with adapters=false")
        if self.init == "encoder" and encoder is None:
            raise UserError("editable-deepsc init=encoder needs the latent encoder of this generator "
                            "('bench train stylegan2-encoder'); or use init=mean|random")
        self.G, self.P, self.fields, self.parse, self.encoder = G, P, fields, parse, encoder
        self.ad = adapters if self.adapters else None
        if self.ad is not None and getattr(self.ad, "norm", "implicit") != self.norm:
            raise UserError(f"the channel adapters were fine-tuned with norm={self.ad.norm}, not norm={self.norm}; "
                            f"use norm={self.ad.norm} or train adapters with 'bench train channel-adapters "
                            f"--set norm={self.norm}'")
        self.link = LatentLink.for_generator(G)
        return self

    def weights(self) -> dict[str, str]:
        return dict(self._paths)

    def parameter_counts(self) -> dict[str, Any]:
        """Table VI: parameters of every network the system runs, frozen vs tuned (the adapters of one
        SNR, the ones fine-tuned per channel condition). Loads the shipped networks if not set up."""
        if self.G is None:
            self.setup(64)

        def n(m):
            return int(sum(p.numel() for p in m.parameters())) if hasattr(m, "parameters") else 0

        frozen = {"generator (SE_I prior, JSCD)": n(self.G), "attribute predictor P": n(self.P),
                  "field functions M (JECC encoder)": n(self.fields),
                  "instruction encoder (SE_T)": n(getattr(self.parse, "__self__", None)),
                  "latent encoder (inversion start)": n(self.encoder)}
        tuned = {"adapters A_CE + A_CD (one SNR)": self.ad.parameters_per_snr() if self.ad is not None else 0}
        total = sum(frozen.values()) + sum(tuned.values())
        return {"frozen": frozen, "tuned": tuned, "frozen_total": sum(frozen.values()),
                "tuned_total": sum(tuned.values()), "total": total,
                "tuned_ratio": sum(tuned.values()) / total if total else 0.0}

    # ------------------------------------------------------------------ transmitter
    def _check(self, img) -> np.ndarray:
        if self.G is None:
            raise UserError("editable-deepsc: call setup(size) before prepare()")
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise UserError(f"editable-deepsc needs a uint8 (H, W, 3) image, got {getattr(img, 'dtype', type(img))} "
                            f"{getattr(img, 'shape', '')}")
        return img

    def prepare(self, request: Request) -> Prepared:
        return self.prepare_batch([request])[0]

    def prepare_batch(self, requests: list[Request]) -> list[Prepared]:
        """The SNR-independent transmitter for several images at once (inversion and matching batch)."""
        import torch

        from methods.editing.base import Outcome
        from methods.editing.inversion import InversionConfig, invert
        from methods.editing.matching import iterative_matching
        from methods.editing.talk2edit import _parsed_info, _resize

        imgs = [self._check(r.image) for r in requests]
        res = self.G.resolution
        n = len(requests)
        times = [dict() for _ in range(n)]
        parsed = []
        for i, r in enumerate(requests):
            t = time.perf_counter()
            parsed.append(self.parse(r.instruction or ""))
            times[i]["parse"] = time.perf_counter() - t
        x = np.stack([_resize(im, res) for im in imgs])
        cfg = InversionConfig(steps=self.r_inv, lr=self.lr_inv, lambda_mse=self.lambda_inv, space=self.space,
                              init=self.init, lpips_net="alex")
        t = time.perf_counter()
        inv = invert(self.G, x, cfg, encoder=self.encoder)
        for tt in times:
            tt["inversion"] = (time.perf_counter() - t) / n
        w = inv.latents
        ok = [p.understood for p in parsed]
        rows = [i for i in range(n) if ok[i]]
        outcomes = [Outcome.NOT_UNDERSTOOD] * n
        trials = np.zeros(n, np.int64)
        extra: list[dict] = [{} for _ in range(n)]
        if rows:
            fields = self.fields if self.space == "w" else _LiftedFields(self.fields)
            p = [parsed[i] for i in rows]
            t = time.perf_counter()
            r = iterative_matching(self.G, self.P, fields, w[rows],
                                   [q.attribute for q in p],
                                   [q.direction if q.mode != "target" else None for q in p],
                                   [q.delta if q.mode != "target" else None for q in p],
                                   [q.target if q.mode == "target" else None for q in p],
                                   max_trials=self.max_trials, matching=self.matching,
                                   steps_per_degree=self.steps_per_degree, refine=self.refine,
                                   radius_scale=self.radius)
            dt = (time.perf_counter() - t) / len(rows)
            w = w.clone()
            w[rows] = r.latents.reshape(w[rows].shape)
            for j, i in enumerate(rows):
                outcomes[i], trials[i] = r.outcomes[j], int(r.trials[j])
                times[i]["editing"] = dt
                extra[i] = {"degree_before": int(r.before[j]), "expected_degree": int(r.expected[j]),
                            "degree_after": int(r.after[j])}
        out = []
        for i in range(n):
            info = {"outcome": outcomes[i], "parsed": _parsed_info(parsed[i]), "trials": int(trials[i]),
                    "inversion_loss": float(inv.loss[i]), **extra[i]}
            if imgs[i].shape[:2] != (res, res):
                info["resized_from"] = list(imgs[i].shape[:2])
            out.append(Prepared(streams={}, side_info={"shape": tuple(imgs[i].shape)},
                                state=w[i:i + 1].detach(), stage_times=times[i], info=info))
        return out

    def transmit(self, prepared: Prepared, snr_db: float) -> dict[str, np.ndarray]:
        import torch

        from channels.analog import reals_to_complex

        with torch.no_grad():
            w = prepared.state
            ce = self.ad.pair(snr_db)[0] if self.ad is not None else None
            z = self.link.encode(w, ce, send_norm=self.norm == "sent")
        # exact float64 unit power (the float32 network output is normalised again in float64)
        from channels.analog import power_normalize

        x = reals_to_complex(z[0].double().numpy())
        if self.norm == "sent":  # the data symbols at unit power, the norm symbol (|x| <= 1) as sent
            return {STREAM: np.concatenate([power_normalize(x[:-1]), x[-1:]])}
        return {STREAM: power_normalize(x)}

    # ------------------------------------------------------------------ receiver
    def receive(self, received: dict[str, Received], side_info: dict[str, Any], snr_db: float) -> Decoded:
        return self.receive_batch([(received, side_info, snr_db)])[0]

    def receive_batch(self, receptions) -> list[Decoded]:
        import torch

        from channels.analog import complex_to_reals
        from methods.editing.inversion import to_uint8
        from methods.editing.talk2edit import _resize

        t0 = time.perf_counter()
        num = self.G.num_ws if self.space == "w+" else 1
        n_reals = num * self.G.w_dim + (2 if self.norm == "sent" else 0)
        lat, notes = [], []
        for rx, _side, snr in receptions:
            if STREAM not in rx:
                raise ValueError(f"editable-deepsc expects a received stream named '{STREAM}', got {sorted(rx)}")
            reals = complex_to_reals(np.asarray(rx[STREAM].y))
            if reals.size != n_reals:
                raise ValueError(f"editable-deepsc received {reals.size // 2} symbols, expected {n_reals // 2}")
            y = torch.from_numpy(reals.astype(np.float32)).view(1, -1)
            cd = self.ad.pair(snr)[1] if self.ad is not None else None
            with torch.no_grad():
                lat.append(self.link.decode(y, cd, send_norm=self.norm == "sent",
                                            layers=self.G.num_ws if self.space == "w+" else 0)[0])
            notes.append({} if self.ad is None else {"adapter_snr": self.ad.nearest(snr),
                                                     "adapter_nearest": self.ad.nearest(snr) != float(snr)})
        t_ch = (time.perf_counter() - t0) / len(receptions)
        t0 = time.perf_counter()
        with torch.no_grad():
            imgs = to_uint8(self.G.synthesis(torch.stack(lat), noise="const"))
        t_dec = (time.perf_counter() - t0) / len(receptions)
        out = []
        for img, (_rx, side, _snr), note in zip(imgs, receptions, notes):
            h, w = side["shape"][:2]
            if (h, w) != img.shape[:2]:
                img = _resize(img, h, w)
                note = {**note, "resized": True}
            out.append(Decoded(image=img, stage_times={"channel_decoding": t_ch, "decoding": t_dec}, info=note))
        return out


class _LiftedFields:
    """W fields applied to W+ latents: the step computed at the layers' mean w, added to every layer."""

    def __init__(self, fields):
        self.fields = fields

    def step(self, w, attr, direction):
        d = self.fields.step(w.mean(1), attr, direction) - w.mean(1)
        return w + d.unsqueeze(1)

