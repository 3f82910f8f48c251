"""SNR curves in the paper's figure style: one line per method, x = SNR (dB), PNG + CSV."""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reports.aggregate import HIGHER_IS_BETTER, Group, curves, mean_ci  # noqa: E402

MARKERS = "osD^v<>pP*Xh"


def write_curve(rows, group: Group, metric: str, stem: Path) -> list[Path]:
    data = curves(rows, metric)
    if not data:
        return []
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path = stem.with_suffix(".csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "dataset", "channel", "size", "snr_db", "metric", "mean", "ci95_lo", "ci95_hi", "n"])
        for method, per_snr in sorted(data.items()):
            for snr, vals in per_snr.items():
                mean, lo, hi = mean_ci(vals)
                w.writerow([method, group.dataset, group.channel, group.size, snr, metric,
                            f"{mean:.6g}", f"{lo:.6g}", f"{hi:.6g}", int(vals.size)])
    fig, ax = plt.subplots(figsize=(4.8, 3.6), dpi=150)
    for i, (method, per_snr) in enumerate(sorted(data.items())):
        snrs = list(per_snr)
        stats = [mean_ci(v) for v in per_snr.values()]
        means = [s[0] for s in stats]
        ax.plot(snrs, means, marker=MARKERS[i % len(MARKERS)], linewidth=1.6, markersize=5, label=method)
        ax.fill_between(snrs, [s[1] for s in stats], [s[2] for s in stats], alpha=0.15)
    arrow = "↑" if metric in HIGHER_IS_BETTER else "↓"
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel(f"{metric.upper()} ({arrow})")
    ax.set_title(group.title(), fontsize=8)
    all_snrs = sorted({s for d in data.values() for s in d})
    ax.set_xticks(all_snrs)
    ax.grid(True, linestyle=":", linewidth=0.6)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    png_path = stem.with_suffix(".png")
    fig.savefig(png_path)
    plt.close(fig)
    return [png_path, csv_path]
