"""``bench paper journal|conference``: every sweep a figure or table of the paper needs (resumable:
rows already in ``runs/paper/<paper>/results.sqlite`` are reused), then the figures, tables (CSV,
Markdown, LaTeX) and a ``README.md`` a reader opens first, each beside the paper's published values
(``reports/data/paper_values.json``) with a one-line verdict per claim.

Nothing is hidden: a method that cannot run a sweep (e.g. a 64-px codec asked for 128 px) is listed
with its reason, a claim we do not reproduce is said to be so, and every number carries its n.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.errors import UserError

PAPER_VALUES = Path(__file__).resolve().parent / "data" / "paper_values.json"
JOURNAL_METHODS = ["deepsc+talk2edit", "jpeg-ldpc+talk2edit", "talk2edit+deepsc", "talk2edit+jpeg-ldpc",
                   "editable-deepsc"]
CONFERENCE_METHODS = ["deepjscc", "jpeg-ldpc+edit", "deepjscc-huffman-rs", "jpeg-ldpc-huffman-rs",
                      "editable-deepsc:variant=conference"]
OURS = {"journal": "editable-deepsc", "conference": "editable-deepsc:variant=conference"}
EDIT_METRICS = ["lpips-alex", "lpips-vgg", "ssim", "edit-success", "edit-success-1", "others-kept",
                "identity-verified", "id-distance"]
PAPERS = ("journal", "conference")
# our additions (issue 14): the links against the separation bound, and a fading channel
LINKS = ["jpeg-ldpc", "ideal-separate", "deepsc", "ideal-separate:cbr=0.0833", "ideal-separate:cbr=0.0104"]
TRANSMIT_METRICS = ["psnr", "ssim", "lpips-alex", "lpips-vgg"]
RATE_LINKS = ([f"jpeg-ldpc:bpp={b}" for b in (0.7, 1.0, 1.5, 2.5)]
              + [f"ideal-separate:cbr={c}" for c in (0.0104, 0.0417, 0.0833, 0.1667, 0.3333)] + ["deepsc"])
RATE_SNRS = [0.0, 6.0, 18.0]
RAYLEIGH = "rayleigh"
RAYLEIGH_METHODS = ["editable-deepsc", "talk2edit+deepsc", "talk2edit+jpeg-ldpc"]
# a metric that is also a method's own optimisation loss favours that method: say so beside its table
LOSS_NOTES = {"journal": {"lpips-alex": " — the paper's metric, and Editable-DeepSC's inversion loss (eq. 8)",
                          "lpips-vgg": " — Talk2Edit's inversion loss; neither is the judge's edit success or SSIM"},
              "conference": {"lpips-alex": " — the paper's metric, and every method's inversion loss (eq. 8)",
                             "lpips-vgg": " — no method's loss"}}
GRID_SNR = 6.0  # the SNR of the qualitative grids (the conference's Fig. 4 is at 6 dB)
GRID_ROWS = 3
MIN_VERDICT_N = 5  # fewer paired images than this give a number but no verdict


@dataclass
class Sweep:
    name: str  # what it feeds (figure/table)
    methods: list[str]
    dataset: str
    snrs: list[float]
    size: int | None = None
    set_metrics: bool = True
    note: str = ""
    channel: str = "awgn"
    metrics: list | None = None  # default EDIT_METRICS


@dataclass(frozen=True)
class PaperSets:
    """The image sets a paper's figures use (dataset specs, as ``bench run --dataset``): the main set (journal
    Fig. 4 and Tables I, III, IV, VI, Fig. 10 and our additions; conference Fig. 3a-c), the high-resolution set
    (journal Fig. 6; by default the main set at ``--hires-size``) and the out-of-distribution set (journal Fig. 8).
    The paper used CelebA, CelebA-HQ and MetFaces; the embedded tier uses SynthFaces and its art set."""

    main: str = "synthfaces"
    hires: str | None = None
    ood: str = "synthfaces-art"

    @property
    def hires_set(self) -> str:
        return self.hires or self.main

    def flags(self, paper: str) -> str:
        """The command-line flags that reproduce these sets (empty for the defaults)."""
        default = PaperSets()
        out = [f"--dataset {self.main}"] if self.main != default.main else []
        if paper == "journal":
            out += [f"--hires-dataset {self.hires}"] if self.hires else []
            out += [f"--ood-dataset {self.ood}"] if self.ood != default.ood else []
        return " ".join(out)

    def embedded(self) -> bool:
        return all(_family(s).startswith("synthfaces") for s in (self.main, self.hires_set, self.ood))


def resolve_set(spec: str) -> tuple[str, int]:
    """(canonical spec as the rows store it, default size) of a dataset spec; a clear error if it cannot be read."""
    from bench.registry import DATASETS, load_builtin

    load_builtin()
    ds = DATASETS.create(spec)
    return ds.spec, int(ds.default_size)


@dataclass
class PaperRun:
    paper: str
    out: Path
    n: int
    snrs: list[float]
    hires_size: int
    sweeps: list[Sweep] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # "method @ sweep: reason"
    wall_s: dict = field(default_factory=dict)
    sets: PaperSets = field(default_factory=PaperSets)


def plan(paper: str, n: int, snrs: list[float] | None, hires_size: int, sets: PaperSets | None = None) -> list[Sweep]:
    sets = sets or PaperSets()
    main, hires, ood = sets.main, sets.hires_set, sets.ood
    if paper == "journal":
        snrs = snrs or [-6.0, 0.0, 6.0, 12.0, 18.0]
        m = JOURNAL_METHODS
        return [
            Sweep("fig4_main", m, main, snrs, note="Fig. 4 (CelebA in the paper)"),
            Sweep("fig6_hires", m, hires, snrs, size=hires_size,
                  note=f"Fig. 6 (CelebA-HQ 1024 px in the paper; {hires_size} px here)"),
            Sweep("fig8_ood", m, ood, snrs, note="Fig. 8 (MetFaces in the paper)"),
            Sweep("table3_r_inv", [f"editable-deepsc:r_inv={r}" if r != 110 else "editable-deepsc"
                                   for r in (70, 90, 110, 130, 150)], main, [-6.0], set_metrics=True,
                  note="Table III (-6 dB)"),
            Sweep("table4_adapters", ["editable-deepsc", "editable-deepsc:adapters=false"], main, [-6.0],
                  note="Table IV / Fig. 11 (main set)"),
            Sweep("table4_adapters_hires", ["editable-deepsc", "editable-deepsc:adapters=false"], hires, [-6.0],
                  size=hires_size, note="Table IV (high resolution)"),
            Sweep("table4_adapters_ood", ["editable-deepsc", "editable-deepsc:adapters=false"], ood,
                  [-6.0], note="Table IV (out of distribution)"),
            Sweep("fig10_matching", ["editable-deepsc", "editable-deepsc:matching=false"], main, [-6.0],
                  note="Fig. 10 (-6 dB)"),
            Sweep("add_links", LINKS, main, snrs, set_metrics=False, metrics=TRANSMIT_METRICS,
                  note="ours: the image links against the separation bound (AWGN)"),
            Sweep("add_rate", RATE_LINKS, main, [x for x in RATE_SNRS if x in snrs] or snrs[-1:],
                  set_metrics=False, metrics=TRANSMIT_METRICS, note="ours: the rate sweep along CBR"),
            Sweep("add_rayleigh", RAYLEIGH_METHODS, main, snrs, set_metrics=False, channel=RAYLEIGH,
                  note="ours: Rayleigh fading (the edit-then-send schemes and ours)"),
        ]
    if paper == "conference":
        if sets.hires or sets.ood != PaperSets.ood:
            raise UserError("the conference paper uses one set (Fig. 3a-c): give it --dataset only; --hires-dataset "
                            "and --ood-dataset are the journal's Fig. 6 and Fig. 8")
        snrs = snrs or [-6.0, -3.0, 0.0, 6.0, 12.0, 18.0]
        return [Sweep("fig3_main", CONFERENCE_METHODS, main, snrs, note="Fig. 3a-c (CelebA in the paper)")]
    raise UserError(f"paper must be one of {', '.join(PAPERS)}, got {paper!r}")


def run_paper(paper: str, out: Path | None = None, n: int = MIN_VERDICT_N, snrs=None, hires_size: int = 128,
              progress: bool = False, echo=print, sets: PaperSets | None = None) -> PaperRun:
    from bench.runner import SweepConfig, run_sweep

    sets = sets or PaperSets()
    if n < 1:
        raise UserError(f"--n must be >= 1 (got {n})")
    sweeps = plan(paper, n, snrs, hires_size, sets)
    for spec in dict.fromkeys(sw.dataset for sw in sweeps):  # an unreadable set is refused before any sweep runs
        resolve_set(spec)
    out = Path(out or Path("runs") / "paper" / paper)
    run = PaperRun(paper, out, n, list(snrs or []), hires_size, sweeps, sets=sets)
    for sw in run.sweeps:
        t0 = time.time()
        for spec in sw.methods:  # run_sweep builds and sets up the method; a refusal is a UserError
            cfg = SweepConfig(methods=[spec], dataset=sw.dataset, snrs=sw.snrs, n=n, size=sw.size, out=out,
                              metrics=sw.metrics or EDIT_METRICS, set_metrics=sw.set_metrics, progress=progress,
                              channel=sw.channel)
            try:
                res = run_sweep(cfg)
            except UserError as exc:
                run.unavailable.append(f"{spec} @ {sw.name}: {exc}")
                continue
            echo(f"[{sw.name}] {spec}: {res.rows_written} new rows, {res.rows_skipped} reused")
        run.wall_s[sw.name] = round(time.time() - t0, 1)
    if paper == "conference":
        run.wall_s["fig3de_continuous"] = _continuous(out, n, echo)
    out.mkdir(parents=True, exist_ok=True)
    (out / "paper_run.json").write_text(json.dumps({"n": n, "wall_s": run.wall_s, "unavailable": run.unavailable,
                                                    "total_wall_s": round(sum(run.wall_s.values()), 1),
                                                    "hires_size": hires_size, "sets": vars(sets)}, indent=1))
    return run


def load_run(paper: str, out: Path, n: int, snrs, hires_size: int | None = None,
             sets: PaperSets | None = None) -> PaperRun:
    """The record of the last ``bench paper`` run in ``out`` (for ``--report-only``): its n, times, sets and
    high resolution unless given here."""
    rec = Path(out) / "paper_run.json"
    d = json.loads(rec.read_text()) if rec.exists() else {}
    hires_size = int(hires_size or d.get("hires_size") or 128)
    if sets is None:
        sets = PaperSets(**d["sets"]) if d.get("sets") else PaperSets()
    run = PaperRun(paper, Path(out), n, list(snrs or []), hires_size, plan(paper, n, snrs, hires_size, sets),
                   sets=sets)
    if d:
        run.n, run.wall_s, run.unavailable = d.get("n", n), d.get("wall_s", {}), d.get("unavailable", [])
    return run


def _continuous(out: Path, n: int, echo) -> float:
    """Conference Fig. 3d/e through the same code as ``bench continuous`` (kept as JSON beside the db)."""
    import argparse

    from bench.commands import continuous

    dest = out / "continuous"
    if (dest / "continuous.json").exists() and json.loads((dest / "continuous.json").read_text()).get("n") == n:
        echo("[fig3de_continuous] reused")
        return 0.0
    t0 = time.time()
    continuous.run(argparse.Namespace(attribute="Smiling", n=n, offsets="1,2,3,2,1", r_inv=110, max_trials=20,
                                      out=str(dest)))
    return round(time.time() - t0, 1)


# ----------------------------------------------------------------------------- the report

def _bootstrap_ratio(ours: np.ndarray, other: np.ndarray, n_boot: int = 2000, seed: int = 0):
    """1 - mean(ours)/mean(other) with a paired bootstrap 95 % interval over images."""
    rng = np.random.default_rng(seed)
    k = len(ours)
    idx = rng.integers(0, k, (n_boot, k))
    vals = 1 - ours[idx].mean(1) / np.maximum(other[idx].mean(1), 1e-12)
    return 1 - ours.mean() / max(other.mean(), 1e-12), np.quantile(vals, 0.025), np.quantile(vals, 0.975)


def _fmt(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def build_paper_report(run: PaperRun) -> Path:
    import pandas as pd

    from bench.results import load, load_set_metrics, to_latex, to_markdown
    from reports.build import build_report

    paper = run.paper
    out = run.out
    pv = json.loads(PAPER_VALUES.read_text())[paper]
    everything = load(out)
    df = everything[everything.channel == "awgn"]  # the paper's figures and tables: AWGN only
    sets = load_set_metrics(out)
    if len(sets) and "channel" in sets:
        sets = sets[sets.channel == "awgn"]
    build_report(out / "results.sqlite", out / "figures")
    psets = run.sets
    (main, main_size), (hires, _), (ood, ood_size) = (resolve_set(x) for x in (psets.main, psets.hires_set, psets.ood))
    flags = " ".join(x for x in (f"--n {run.n}", psets.flags(paper)) if x)
    used = [f"main `{main}` ({main_size} px)"] + ([f"high resolution `{hires}` at {run.hires_size} px",
                                                   f"out of distribution `{ood}` ({ood_size} px)"]
                                                  if paper == "journal" else [])
    lines = [f"# Editable-DeepSC {paper} paper, regenerated "
             + ("on the embedded tier" if psets.embedded() else f"on {_family(psets.main)}"), "",
             f"`bench paper {paper} {flags}` · {len(df)} result rows in `results.sqlite` · SNRs "
             f"{', '.join(f'{s:g}' for s in sorted(df['snr'].unique()))} dB · wall time of the last invocation on this "
             f"machine {sum(run.wall_s.values()):.0f} s (per sweep: "
             + ", ".join(f"{k} {v} s" for k, v in run.wall_s.items())
             + "; rows reused from earlier invocations cost nothing)", "", "Sets: " + "; ".join(used) + ".", ""]
    if psets.embedded():
        lines += ["Faces are SynthFaces (the embedded world, 64 px native), not CelebA; FID/KID are FD/KD on ImageNet "
                  "VGG16 features (no Inception weights offline); every edit is also scored against the exact "
                  "ground-truth edit by the independent judge and the identity embedder. Paper values sit beside "
                  "ours; absolute numbers are not comparable across worlds, the verdicts compare *orderings and "
                  "ratios*.", ""]
    else:
        lines += ["Faces come from the sets above. Only SynthFaces knows the ground-truth edit and the edited degrees, "
                  "so on other sets the edits are scored against the original (the papers' convention) and the "
                  "judge-based columns (edit success, others kept) stay empty. Paper values sit beside ours; the "
                  "verdicts compare *orderings and ratios*.", ""]
    if run.unavailable:
        lines += ["**Not run** (each with its reason):", ""] + [f"* {u}" for u in run.unavailable] + [""]
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    ours = OURS[paper]

    def per_snr(data, metric):
        sub = data[data[metric].notna()] if metric in data else data.iloc[0:0]
        return sub.groupby(["method", "snr"])[metric].mean().unstack("snr") if len(sub) else None

    if paper == "journal":
        sections = [("fig4_main", main, main_size, "Fig. 4 — main set"),
                    ("fig6_hires", hires, run.hires_size, f"Fig. 6 — {run.hires_size} px"),
                    ("fig8_ood", ood, ood_size, f"Fig. 8 — out of distribution ({_family(psets.ood)})")]
    else:
        sections = [("fig3_main", main, main_size, "Fig. 3a–c — main set")]
    base_methods = set(JOURNAL_METHODS if paper == "journal" else CONFERENCE_METHODS)
    for name, dataset, size, title in sections:
        sub = df[df.method.isin(base_methods) & (df.dataset == dataset) & (df["size"] == size)]
        if sub.empty:
            lines += [f"## {title}", "", "no rows", ""]
            continue
        lines += [f"## {title}", ""]
        build_report(out / "results.sqlite", out / "figures" / name, methods=set(sub.method.unique()))
        lines += _figure_links(out, sub, name)
        grid = _grid(out, sub, GRID_SNR, out / "figures" / f"{name}_grid.png")
        if grid is not None:
            lines += [f"Qualitative grid at {min(sub.snr.unique(), key=lambda v: (abs(v - GRID_SNR), -v)):g} dB (original, ground-truth edit, each method; the request "
                      f"above each row):", "", f"![grid](figures/{grid.name})", ""]
        for metric in ("lpips-alex", "lpips-vgg", "ssim", "edit-success", "identity-verified"):
            t = per_snr(sub, metric)
            if t is None:
                continue
            to_latex(t, tables / f"{name}_{metric}.tex", caption=f"{title}: {metric}")
            t.to_csv(tables / f"{name}_{metric}.csv")
            lines += [f"**{metric}** (mean over {sub.image_id.nunique()} images){LOSS_NOTES[paper].get(metric, '')}", "",
                      to_markdown(t, "%.4f"), ""]
        fd = sets[(sets.name == "FD-VGG16") & sets.method.isin(base_methods) & (sets.dataset == dataset)
                  & (sets["size"] == size)] if len(sets) else sets  # one set: this dataset at this resolution
        if len(fd):
            t = fd.groupby(["method", "snr"])["value"].mean().unstack("snr")
            lines += ["**FD-VGG16** (our FID stand-in, per set)", "", to_markdown(t, "%.1f"), ""]
        lines += _verdicts_at(sub, fd, ours, pv, paper)
    if paper == "journal":
        lines += _journal_tables(df, sets, run, pv, tables, main, main_size)
        lines += _additions(everything[(everything.dataset == main) & (everything["size"] == main_size)], out, tables)
    else:
        lines += _conference_tables(df[(df.dataset == main) & (df["size"] == main_size)], run, pv, tables)
    readme = out / "README.md"
    readme.write_text("\n".join(lines) + "\n")
    return readme


def _figure_links(out: Path, sub, section: str = "", metrics=("lpips-alex", "edit-success", "FD-VGG16")) -> list[str]:
    """Links to the curves drawn for `section`'s methods only (``figures/<section>/<set>/``)."""
    from bench.runner import slug

    lines = []
    for (dataset, channel, size), _g in sub.groupby(["dataset", "channel", "size"]):
        d = out / "figures" / section / slug(f"{dataset}_{channel}_{size}px")
        rel = d.relative_to(out)
        pics = [f"![{m}]({rel.as_posix()}/snr_{m}.png)" for m in metrics if (d / f"snr_{m}.png").exists()]
        if pics:
            lines += [" ".join(pics), ""]
    return lines


def _grid(out: Path, sub, snr: float, dest: Path) -> Path | None:
    """Fig. 5/7/9-style grid: per row one test image (original | ground-truth edit | each method's received
    image at ``snr``), the request as the row's title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    if sub.empty:
        return None
    snr = min(sub.snr.unique(), key=lambda v: (abs(v - snr), -v))  # the grid's SNR, or the nearest one swept
    at = sub[sub.snr == snr]
    methods = sorted(at.method.unique())
    images = sorted(at.image_id.unique())[:GRID_ROWS]
    dataset = at.dataset.iloc[0]
    size = int(at["size"].iloc[0])
    from bench.registry import DATASETS

    ds = DATASETS.create(dataset.split(":")[0] + (":" + dataset.split(":", 1)[1] if ":" in dataset else ""))
    items = {it.id: it for it in ds.items(None if len(images) > 50 else 50, size)} if images else {}
    cols = 2 + len(methods)
    fig, axes = plt.subplots(len(images), cols, figsize=(1.25 * cols, 1.5 * len(images)), squeeze=False)
    for r, image_id in enumerate(images):
        it = items.get(image_id)
        panels = [("original", it.image if it is not None else None),
                  ("ground truth", it.target if it is not None else None)]
        for m in methods:
            row = at[(at.method == m) & (at.image_id == image_id)]
            img = np.asarray(Image.open(out / row.received_path.iloc[0])) if len(row) else None
            panels.append((m.split(":")[0] if len(m) > 24 else m, img))
        for c, (label, img) in enumerate(panels):
            ax = axes[r][c]
            ax.axis("off")
            if img is not None:
                ax.imshow(img)
            if r == 0:
                ax.set_title(label, fontsize=6)
        text = (it.instruction if it is not None else "") or ""
        label = axes[r][0].text(0, -0.06, f'"{text[:90]}"', transform=axes[r][0].transAxes, fontsize=6, va="top")
        label.set_in_layout(False)  # the request runs under the whole row: it must not squeeze the first panel
    fig.tight_layout(h_pad=1.6, w_pad=0.3)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dest, dpi=130)
    plt.close(fig)
    return dest


def _ordering_verdicts(sub, fd, ours) -> list[str]:
    """How often ours is the best (lowest LPIPS-alex per image mean / lowest FD per set) across the SNRs:
    the conference's 'better than all data-oriented methods at every SNR' claims."""
    lines = []
    for label, table in (("LPIPS-alex", sub.groupby(["snr", "method"])["lpips-alex"].mean().unstack("method")),
                         ("FD-VGG16 (FID stand-in)", fd.groupby(["snr", "method"])["value"].mean().unstack("method")
                          if len(fd) else None)):
        if table is None or ours not in table.columns or table.shape[1] < 2:
            continue
        best = [bool(row[ours] <= row.drop(ours).min()) for _, row in table.iterrows()]
        lines.append(f"* **{label}: ours best at {sum(best)} of {len(best)} SNRs** "
                     f"({', '.join(f'{s:g} dB' for s, b in zip(table.index, best) if b) or 'none'}) — the paper "
                     f"claims every SNR: {'reproduced' if all(best) else 'not reproduced'}")
    return lines


def _verdicts_at(sub, fd, ours, pv, paper) -> list[str]:
    lines = _ordering_verdicts(sub, fd, ours) if paper == "conference" else []
    claims = [c for c in pv.get("claims", []) if c.get("relative_improvement") is not None]
    for c in claims:
        snr = float(c["snr_db"])
        at = sub[sub.snr == snr]
        if at.empty or ours not in set(at.method):
            continue
        if c["metric"] == "lpips":
            # the paper's LPIPS (AlexNet) first; then the same claim on LPIPS-vgg, which Editable-DeepSC does not
            # optimise (eq. 8 is LPIPS-alex): a claim that holds only on the method's own loss is flagged
            for col, label in (("lpips-alex", "LPIPS"), ("lpips-vgg", "LPIPS-vgg (a check: not the paper's metric)")):
                if col not in at or at[col].isna().all():
                    continue
                means = at.groupby("method")[col].mean()
                others = means.drop(ours, errors="ignore")
                if others.empty:
                    continue
                second = others.idxmin()
                a = at[at.method == ours].set_index("image_id")[col]
                b = at[at.method == second].set_index("image_id")[col]
                common = a.index.intersection(b.index)
                est, lo, hi = _bootstrap_ratio(a[common].to_numpy(), b[common].to_numpy())
                # as a change of LPIPS relative to the second best: negative = ours lower (better)
                ch, ch_lo, ch_hi = -est, -hi, -lo
                if len(common) < MIN_VERDICT_N:
                    verdict = f"no verdict: n={len(common)} is too few images (at least {MIN_VERDICT_N}; use --n)"
                else:
                    verdict = "reproduced (ours is better)" if ch_hi < 0 else "not reproduced" if ch_lo > 0 \
                        else "inconclusive (the CI includes 0)"
                lines.append(f"* **{snr:g} dB, {label} vs second best ({second})**: paper "
                             f"−{100 * c['relative_improvement']:.1f} %, ours {100 * ch:+.1f} % "
                             f"[95 % CI {100 * ch_lo:+.1f}, {100 * ch_hi:+.1f}] (n={len(common)}) — {verdict}")
        elif c["metric"] == "fid" and len(fd):
            at_fd = fd[fd.snr == snr].groupby("method")["value"].mean()
            if ours in at_fd and len(at_fd) > 1:
                second = at_fd.drop(ours).idxmin()
                ch = at_fd[ours] / at_fd[second] - 1
                lines.append(f"* **{snr:g} dB, FID (FD-VGG16 here) vs second best ({second})**: paper "
                             f"−{100 * c['relative_improvement']:.1f} %, ours {100 * ch:+.1f} % (set metric, no CI) — "
                             f"{'same direction' if ch < 0 else 'not reproduced'}")
    return lines + [""] if lines else []


def _journal_tables(df, sets, run, pv, tables, main_set: str, main_size: int) -> list[str]:
    from bench.registry import METHODS
    from bench.results import to_latex, to_markdown

    import pandas as pd

    lines = ["## Table I — CBR (paper convention beside ours)", ""]
    rows = df[df.method.isin(JOURNAL_METHODS) & (df.dataset == main_set) & (df["size"] == main_size)]
    if len(rows):
        from bench.cbr import cbr_table_convention

        rows = rows.assign(cbr_tables=[cbr_table_convention(b if b == b else None, u, s, s)
                                       for b, u, s in zip(rows.bpp, rows.channel_uses, rows["size"])])
        t = rows.groupby("method")[["cbr_paper", "cbr_complex", "cbr_tables"]].mean()
        t["paper (128 px)"] = [pv["table_I_cbr_128"]["values"].get(m) for m in t.index]
        to_latex(t, tables / "table1_cbr.tex", caption="CBR")
        lines += [to_markdown(t, "%.4f"), "",
                  "cbr_paper counts every real value sent (LDPC redundancy and JPEG headers included); "
                  "cbr_tables is the paper's convention (information bits / (6 HWC) for JPEG+LDPC).", ""]
    t3 = df[df.method.str.startswith("editable-deepsc") & (df.snr == -6.0) & (df.dataset == main_set)
            & (df["size"] == main_size)]
    lines += ["## Table III — r_inv at −6 dB", ""]
    rows = []
    for r in (70, 90, 110, 130, 150):
        spec = "editable-deepsc" if r == 110 else METHODS.create(f"editable-deepsc:r_inv={r}").spec
        s = t3[t3.method == spec]
        if s.empty:
            continue
        per_img = s.groupby("image_id").first()
        rows.append({"r_inv": r, "lpips-alex": s["lpips-alex"].mean(), "edit-success": s["edit-success"].mean(),
                     "tx time per image (s)": per_img["time.tx.prepare"].mean(),
                     "paper LPIPS": pv["table_III_r_inv"]["lpips"][[70, 90, 110, 130, 150].index(r)],
                     "paper time (s)": pv["table_III_r_inv"]["time_s"][[70, 90, 110, 130, 150].index(r)]})
    if rows:
        t = pd.DataFrame(rows).set_index("r_inv")
        to_latex(t, tables / "table3_r_inv.tex", caption="r_inv")
        lines += [to_markdown(t, "%.4f"), ""]
    lines += ["## Table IV — SNR-aware fine-tuning (adapters) at −6 dB", ""]
    rows = []
    for ds in sorted(df.dataset.unique()):
        for size in sorted(df[df.dataset == ds]["size"].unique()):
            s = df[(df.dataset == ds) & (df["size"] == size) & (df.snr == -6.0)]
            # judged with LPIPS-vgg: the adapters are fine-tuned on LPIPS-alex (eq. 18), which would grade its own loss
            a = s[s.method == "editable-deepsc"].set_index("image_id")["lpips-vgg"]
            b = s[s.method == METHODS.create("editable-deepsc:adapters=false").spec].set_index("image_id")["lpips-vgg"]
            common = a.index.intersection(b.index)
            if len(common) == 0:
                continue
            diff = (a[common] - b[common]).to_numpy()
            rng = np.random.default_rng(0)
            boots = diff[rng.integers(0, len(diff), (2000, len(diff)))].mean(1)
            lo, hi = np.quantile(boots, [0.025, 0.975])
            rows.append({"set": f"{ds} {size}px", "LPIPS-vgg w/o adapters": b[common].mean(),
                         "LPIPS-vgg with adapters": a[common].mean(), "difference": diff.mean(),
                         "95% CI": f"[{lo:.4f}, {hi:.4f}]", "n": len(common),
                         "verdict": f"no verdict (n < {MIN_VERDICT_N})" if len(common) < MIN_VERDICT_N else
                         "adapters help" if hi < 0 else "adapters hurt" if lo > 0 else "no clear effect"})
    if rows:
        t = pd.DataFrame(rows).set_index("set")
        to_latex(t, tables / "table4_adapters.tex", caption="fine-tuning")
        lines += [to_markdown(t, "%.4f"), "",
                  "Paper (CelebA, −6 dB): LPIPS 0.3049 without → 0.1618 with fine-tuning. Ours is scored with "
                  "LPIPS-vgg, not the LPIPS-alex the adapters are fine-tuned on.", ""]
    lines += ["## Table V — time per image (s; transmitter once, receiver per SNR averaged)", ""]
    main = df[df.method.isin(JOURNAL_METHODS)]
    if len(main):
        rx_cols = [c for c in main.columns if c in ("time.tx.transmit", "time.channel", "time.rx.receive")]
        per = main.assign(rx=main[rx_cols].sum(axis=1)).groupby(["method", "size", "image_id"]).agg(
            tx=("time.tx.prepare", "first"), rx=("rx", "mean"))
        t = (per.tx + per.rx).groupby(["method", "size"]).mean().unstack("size")
        t.columns = [f"{c} px (ours)" for c in t.columns]
        t["paper 128 px"] = [pv["table_V_time_s"]["values"].get(m, {}).get("128") for m in t.index]
        to_latex(t, tables / "table5_time.tex", caption="time per image")
        lines += [to_markdown(t, "%.2f"), "",
                  "Send-then-edit receivers are timed as the benchmark runs them: all SNRs of an image in one batch "
                  "(one Talk2Edit inversion per distinct received image, vmapped), each row carrying its share. "
                  "That is an amortised cost, below what one receiver pays alone; compare the edit-then-send rows, "
                  "whose transmitter runs Talk2Edit on one image at a time.", ""]
        if "editable-deepsc" in t.index and "talk2edit+jpeg-ldpc" in t.index:
            col = t.columns[0]
            ratio = t.loc["editable-deepsc", col] / t.loc["talk2edit+jpeg-ldpc", col]
            lines += [f"* **Time, Editable-DeepSC / Talk2Edit+JPEG+LDPC**: paper 14.6/32.8 = 0.445, ours {ratio:.3f}", ""]
    lines += ["## Table VI — parameters", ""]
    try:
        c = METHODS.create("editable-deepsc").parameter_counts()
        lines += [f"frozen {c['frozen_total']:,} · tuned {c['tuned_total']:,} (one SNR's adapters) · total "
                  f"{c['total']:,} · tuned ratio {100 * c['tuned_ratio']:.2f} % (paper: 7.70e7 / 0.21e7 / 7.91e7, "
                  "2.65 %)", ""] + [f"* {k}: {v:,}" for k, v in {**c["frozen"], **c["tuned"]}.items()] + [""]
    except UserError as exc:
        lines += [f"unavailable: {exc}", ""]
    lines += ["## Fig. 10 — iterative attribute matching on/off (−6 dB)", ""]
    s = df[(df.snr == -6.0) & df.method.isin(["editable-deepsc", METHODS.create("editable-deepsc:matching=false").spec])
           & (df.dataset == main_set) & (df["size"] == main_size)]
    if len(s):
        t = s.groupby("method")[["edit-success", "edit-success-1", "lpips-alex"]].mean()
        lines += [to_markdown(t, "%.3f"), ""]
    lines += ["Figures (SNR curves of every metric, per set) are in `figures/`; tables as CSV/LaTeX in `tables/`.", ""]
    return lines


def _conference_tables(df, run, pv, tables) -> list[str]:
    from bench.results import to_latex, to_markdown

    lines = ["## Table I — bits per pixel / channel uses", ""]
    main = df[df.method.isin(CONFERENCE_METHODS)]
    if len(main):
        t = main.groupby("method")[["bpp", "cbr_paper", "channel_uses"]].mean()
        paper_name = {"deepjscc": "deepjscc", "deepjscc-huffman-rs": "deepjscc", "jpeg-ldpc+edit": "jpeg-ldpc",
                      "jpeg-ldpc-huffman-rs": "jpeg-ldpc"}
        t["paper bpp"] = [pv["table_I_bpp"]["values"].get("editable-deepsc" if m.startswith("editable")
                                                            else paper_name.get(m, m)) for m in t.index]
        to_latex(t, tables / "conf_table1.tex", caption="bpp")
        lines += [to_markdown(t, "%.4f"), ""]
    cont = run.out / "continuous" / "continuous.json"
    if cont.exists():
        rec = json.loads(cont.read_text())
        lines += ["## Fig. 3d/e — continuous editing", "", f"![continuous](continuous/continuous.png)", ""]
        for path in ("latent", "image"):
            rows = [r for r in rec["rows"] if r["path"] == path]
            lines.append(f"* {path} path ID score per round: " + ", ".join(f"{r['id_score']:.3f}" for r in rows)
                         + "; attribute-preservation CE: " + ", ".join(f"{r['attr_preservation_ce']:.3f}" for r in rows))
        lat = [r["id_score"] for r in rec["rows"] if r["path"] == "latent"]
        img = [r["id_score"] for r in rec["rows"] if r["path"] == "image"]
        better = sum(a <= b for a, b in zip(lat, img))
        lines += ["", f"* **Claim (Fig. 3d)**: the latent path keeps identity better in every round — ours: "
                      f"{better} of {len(lat)} rounds ({'reproduced' if better == len(lat) else 'not reproduced'})", ""]
    return lines


def _additions(df, out: Path, tables: Path) -> list[str]:
    """Our additions beside the paper's (issue 14): the image links against the separation bound and
    at equal bandwidth, and Rayleigh fading."""
    import math

    from bench.registry import METHODS
    from bench.results import to_latex, to_markdown

    lines = ["## Our additions", ""]
    specs = {METHODS.create(m).spec: m for m in LINKS}
    links = df[df.method.isin(specs) & (df.channel == "awgn")]
    if len(links):
        links = links.assign(link=links.method.map(specs))
        from reports.build import build_report

        build_report(out / "results.sqlite", out / "figures" / "add_links", methods=set(links.method))
        lines += [f"### The links against the separation bound (AWGN, {int(df['size'].iloc[0])} px, plain transmission)", "",
                  "`ideal-separate` is a bound, not a scheme: JPEG at the rate a capacity-achieving code delivers "
                  "(uses·log2(1+SNR) bits) over the stated channel uses — `uses=auto` is JPEG+LDPC's budget "
                  "(bpp·H·W complex uses), `cbr=0.0833` DeepSC's, `cbr=0.0104` Editable-DeepSC's (one W latent).", ""]
        lines += _figure_links(out, links, "add_links", metrics=("psnr", "lpips-vgg"))
        for metric in ("psnr", "lpips-vgg"):
            if metric not in links:
                continue
            t = links.groupby(["link", "snr"])[metric].mean().unstack("snr")
            t.insert(0, "CBR (paper)", links.groupby("link")["cbr_paper"].mean())
            to_latex(t, tables / f"additions_links_{metric}.tex", caption=f"links vs the separation bound: {metric}")
            t.to_csv(tables / f"additions_links_{metric}.csv")
            lines += [f"**{metric}** (mean over {links.image_id.nunique()} images; below capacity = the grey "
                      "placeholder)", "", to_markdown(t, "%.4f"), ""]
        ideal = links[links.link.str.startswith("ideal-separate") & links["info.smallest_stream_bits"].notna()] \
            if "info.smallest_stream_bits" in links else links.iloc[0:0]
        if len(ideal):
            rows = []
            for link, g in ideal.groupby("link"):
                uses = float(g["channel_uses"].mean())
                bits = float(g["info.smallest_stream_bits"].max())
                need = 10 * math.log10(2 ** (bits / uses) - 1)
                rows.append(f"| {link} | {uses:.0f} | {bits:.0f} | {need:.1f} dB |")
            lines += ["**Equal bandwidth.** The smallest JPEG stream of these images (abbreviated, quality 1) and the "
                      "SNR at which even a capacity-achieving code could carry it in each budget: at Editable-DeepSC's "
                      "64 complex uses no separate scheme can send the image at any SNR of the sweep, so the "
                      "separate schemes are compared at their own (larger) budgets everywhere else.", "",
                      "| budget | complex uses / image | smallest JPEG stream (bits) | SNR needed |", "|---|---|---|---|",
                      *rows, ""]
    lines += _rate_sweep(df, out, tables)
    ray = df[df.channel != "awgn"]
    if len(ray):
        lines += [f"### Rayleigh fading (`{ray.channel.iloc[0]}`)", "",
                  "The same edit comparison through a fading channel (the adapters and DeepSC were trained on AWGN; "
                  "the JPEG+LDPC receiver equalises with the channel state).", ""]
        from reports.build import build_report

        build_report(out / "results.sqlite", out / "figures" / "add_rayleigh", methods=set(ray.method))
        lines += _figure_links(out, ray, "add_rayleigh", metrics=("lpips-vgg", "edit-success"))
        for metric in ("lpips-vgg", "edit-success"):
            if metric not in ray:
                continue
            t = ray.groupby(["method", "snr"])[metric].mean().unstack("snr")
            awgn = df[(df.channel == "awgn") & df.method.isin(ray.method.unique())]
            to_latex(t, tables / f"additions_rayleigh_{metric}.tex", caption=f"Rayleigh fading: {metric}")
            t.to_csv(tables / f"additions_rayleigh_{metric}.csv")
            lines += [f"**{metric}**, Rayleigh (mean over {ray.image_id.nunique()} images)", "", to_markdown(t, "%.4f"),
                      ""]
            if len(awgn) and metric in awgn:
                lines += [f"**{metric}**, the same methods over AWGN", "",
                          to_markdown(awgn.groupby(["method", "snr"])[metric].mean().unstack("snr"), "%.4f"), ""]
    return lines


def _family(spec: str) -> str:
    return spec.split(":")[0]


def _rate_sweep(df, out: Path, tables: Path) -> list[str]:
    """Quality against CBR at fixed SNRs: JPEG+LDPC at several bpp, the separation bound at several
    budgets, DeepSC's single operating point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bench.registry import METHODS
    from bench.results import to_markdown

    specs = {METHODS.create(m).spec for m in RATE_LINKS}
    rate = df[df.method.isin(specs) & (df.channel == "awgn") & df.snr.isin(RATE_SNRS)]
    if rate.empty:
        return []
    lines = [f"### The rate sweep along CBR (AWGN, {int(rate['size'].iloc[0])} px, plain transmission)", "",
             "Each point is one operating point (mean over the images): JPEG+LDPC at target bpp 0.7-2.5 (rate-1/2 "
             "LDPC, 4-QAM; its CBR counts the LDPC redundancy), the separation bound at five budgets, DeepSC's one "
             "(CBR 1/12 by architecture). Below capacity or past the LDPC cliff the receiver shows the grey placeholder.",
             ""]
    fig, axes = plt.subplots(1, len(sorted(rate.snr.unique())), figsize=(4.2 * rate.snr.nunique(), 3.6), squeeze=False)
    for ax, (snr, g) in zip(axes[0], rate.groupby("snr")):
        t = g.groupby("method").agg(cbr=("cbr_paper", "mean"), psnr=("psnr", "mean"),
                                    lpips_vgg=("lpips-vgg", "mean"), failures=("decode_failures", "mean"))
        t = t.assign(family=[_family(m) for m in t.index]).sort_values(["family", "cbr"])
        t.drop(columns="family").to_csv(tables / f"additions_rate_{snr:g}dB.csv")
        lines += [f"**{snr:g} dB**", "", to_markdown(t.drop(columns="family").rename(
            columns={"cbr": "CBR (paper)", "lpips_vgg": "lpips-vgg", "failures": "decode failures"}), "%.4f"), ""]
        for k, (fam, f) in enumerate(t.groupby("family", sort=False)):
            ax.plot(f["cbr"], f["lpips_vgg"], marker="osD^v"[k % 5], label=fam)
        ax.set_xscale("log")
        ax.set_title(f"{snr:g} dB")
        ax.set_xlabel("CBR (paper convention)")
        ax.set_ylabel("LPIPS-vgg vs original (lower is better)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    dest = out / "figures" / "add_rate.png"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dest, dpi=110)
    plt.close(fig)
    return lines + ["![rate sweep](figures/add_rate.png)", ""]
