"""Iterative attribute matching (Editable-DeepSC eq. 10-11; Talk2Edit's editing loop), shared by
every method that edits in the generator's latent space.

For each latent w with a parsed request (attribute i, direction d and Δ, or a target degree):

1. the attribute predictor P reads the *current* image G(w): degree a_i;
2. the expected degree is eq. (10): ``a_exp = min(max(a_i + Δ·d, 0), u)`` (u = 5), or the target;
   when clipping leaves nothing to do the outcome is ``at-limit``; a target the face already has is
   ``edited`` after 0 trials;
3. with ``matching=True`` the field function steps ``w <- w + d·M_i(w)`` (eq. 11) and P reads G(w)
   after every step, until it reads a_exp (``edited``) or passes it / ``max_trials`` run out
   (``gave-up``; the latent of the last step is kept);
4. with ``matching=False`` (the paper's Fig. 10 ablation) exactly ``|a_exp - a_i|·steps_per_degree``
   steps are applied without looking (``edited``).

Rows of a batch are independent: each stops on its own, and a finished row is never moved again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from bench.errors import UserError
from methods.editing.base import RADIUS_SCALE, Outcome

MAX_DEGREE = 5


def expected_degree(current: int, direction: int | None = None, delta: int | None = None,
                    target: int | None = None, u: int = MAX_DEGREE) -> int:
    """Eq. (10) for a (direction, Δ) request, or the target degree itself (clipped to 0..u)."""
    if target is not None:
        return int(min(max(int(target), 0), u))
    if direction not in (-1, 1) or delta is None or int(delta) < 0:
        raise UserError(f"a relative request needs direction +-1 and delta >= 0 (got {direction!r}, {delta!r})")
    return int(min(max(int(current) + int(delta) * int(direction), 0), u))


@dataclass
class MatchResult:
    latents: torch.Tensor  # (B, w_dim) edited latents ((B, num_ws, w_dim) for fields that edit W+)
    outcomes: list[str]
    trials: np.ndarray  # (B,) field-function steps applied
    before: np.ndarray  # (B,) P's degree of the requested attribute before editing
    expected: np.ndarray  # (B,) a_exp
    after: np.ndarray  # (B,) P's degree after editing
    degrees_before: np.ndarray = field(default=None)  # (B, 5) every attribute, before
    degrees_after: np.ndarray = field(default=None)  # (B, 5) every attribute, after


_RADII: dict = {}


def latent_radius(G, scale: float = RADIUS_SCALE) -> float | None:
    """How far from G's mean latent an edit may go: ``scale`` (default twice) the 99th percentile of
    ||w - w_avg|| over 2000 seeded mapping samples (None for generators without a mapping network, e.g.
    test doubles, or scale 0: no limit). Field steps repeated up to max_trials can otherwise walk far off
    the latent distribution, where G makes noise (seen with 51 Bangs steps on an inverted face)."""
    if not (hasattr(G, "mapping") and hasattr(G, "w_avg")) or not scale:
        return None
    key = id(G)
    if key not in _RADII:
        with torch.no_grad():
            ws = G.mapping(torch.randn(2000, G.z_dim, generator=torch.Generator().manual_seed(99)).to(G.w_avg.device))
            d = (ws - G.w_avg.view(1, -1)).norm(dim=-1)
        _RADII[key] = float(torch.quantile(d.float(), 0.99))
    return scale * _RADII[key]


def _distance(G, w: torch.Tensor) -> torch.Tensor:
    base = w if w.ndim == 2 else w.mean(1)  # W+: the layers' mean
    return (base - G.w_avg.view(1, -1).to(base)).norm(dim=-1)


def _read(G, P, w: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return P.predict(G.synthesis(w, noise="const"))


def iterative_matching(G, P, fields, w: torch.Tensor, attributes, directions=None, deltas=None, targets=None,
                       max_trials: int = 20, matching: bool = True, steps_per_degree: int = 1,
                       refine: bool = False, radius_scale: float = RADIUS_SCALE) -> MatchResult:
    """Edit latents w (B, w_dim). attributes: (B,) indices; per row either (direction, delta) or a
    target (``targets[b]`` not None wins). Returns the edited latents and per-row outcomes.

    ``refine`` (not in the papers): a step that carries P past the expected degree is undone and
    retried at half the length (down to 1/8 of a step, each try counting as a trial) instead of
    ending the edit there (``gave-up`` with the overshot latent, the papers' loop).

    ``radius_scale`` (not in the papers): a step that leaves the ball of ``latent_radius(G,
    radius_scale)`` around the mean latent is undone and ends the edit (``gave-up``); 0 turns it off."""
    w = w.detach().float().clone()
    if hasattr(fields, "prepare"):  # e.g. Talk2Edit's official fields edit W+
        w = fields.prepare(w)
    b = w.shape[0]
    attrs = np.asarray(attributes, np.int64).reshape(b)
    dirs = np.zeros(b, np.int64) if directions is None else np.asarray(
        [0 if v is None else int(v) for v in directions], np.int64).reshape(b)
    dels = [None] * b if deltas is None else list(deltas)
    tars = [None] * b if targets is None else list(targets)
    if max_trials < 0 or steps_per_degree < 1:
        raise UserError(f"max_trials must be >= 0 and steps_per_degree >= 1 (got {max_trials}, {steps_per_degree})")
    deg0 = _read(G, P, w)
    before = deg0[np.arange(b), attrs]
    expected = np.array([expected_degree(before[i], int(dirs[i]) if tars[i] is None else None, dels[i], tars[i])
                         for i in range(b)], np.int64)
    step_dir = np.sign(expected - before).astype(np.int64)
    outcomes: list[str | None] = [None] * b
    for i in range(b):
        if expected[i] == before[i]:
            # nothing to move: a relative request clipped at the scale's end, or a target already met
            outcomes[i] = Outcome.EDITED if tars[i] is not None or dels[i] == 0 else Outcome.AT_LIMIT
    trials = np.zeros(b, np.int64)
    active = np.array([o is None for o in outcomes])
    attr_t = torch.as_tensor(attrs)
    if not matching:
        n_steps = np.abs(expected - before) * steps_per_degree
        for t in range(int(n_steps.max(initial=0))):
            rows = np.flatnonzero(active & (n_steps > t))
            idx = torch.as_tensor(rows)
            with torch.no_grad():
                w[idx] = fields.step(w[idx], attr_t[idx], torch.as_tensor(step_dir[rows]))
            trials[rows] += 1
        for i in np.flatnonzero(active):
            outcomes[i] = Outcome.EDITED
        deg1 = _read(G, P, w)
    else:
        deg1 = deg0.copy()
        scale = np.ones(b)
        radius = latent_radius(G, radius_scale)
        for _t in range(max_trials):
            rows = np.flatnonzero(active)
            if len(rows) == 0:
                break
            idx = torch.as_tensor(rows)
            prev_w, prev_deg = w[idx].clone(), deg1[rows].copy()
            with torch.no_grad():
                w[idx] = fields.step(w[idx], attr_t[idx], torch.as_tensor(step_dir[rows] * scale[rows]))
            trials[rows] += 1
            if radius is not None:  # a step off the latent distribution is undone and ends the edit
                far = (_distance(G, w[idx]) > radius).numpy()
                for j in np.flatnonzero(far):
                    i = rows[j]
                    w[i] = prev_w[j]
                    outcomes[i], active[i] = Outcome.GAVE_UP, False
                rows, idx = rows[~far], idx[~far]
                prev_deg = prev_deg[~far]
                prev_w = prev_w[~far]
                if len(rows) == 0:
                    continue
            deg1[rows] = _read(G, P, w[idx])
            now = deg1[rows, attrs[rows]]
            for j, i in enumerate(rows):
                if now[j] == expected[i]:
                    outcomes[i], active[i] = Outcome.EDITED, False
                elif (now[j] - expected[i]) * step_dir[i] > 0:  # passed the expected degree
                    if refine and scale[i] > 0.125:
                        w[i], deg1[i] = prev_w[j], prev_deg[j]  # undo, retry with half the step
                        scale[i] /= 2
                    else:
                        outcomes[i], active[i] = Outcome.GAVE_UP, False
        for i in np.flatnonzero(active):
            outcomes[i] = Outcome.GAVE_UP
    after = deg1[np.arange(b), attrs]
    return MatchResult(latents=w, outcomes=[str(o) for o in outcomes], trials=trials, before=before,
                       expected=expected, after=after, degrees_before=deg0, degrees_after=deg1)
