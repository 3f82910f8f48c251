"""Results as data: ``bench.results.load(OUT) -> pandas.DataFrame``, one row per result row.

Columns: the row's key and facts (``method``, ``dataset``, ``image_id``, ``snr``, ``channel``,
``seed``, ``size``, ``task``, ``channel_uses``, ``cbr_paper``, ``cbr_complex``, ``bpp``,
``decode_failures``, ``text_sent``, ``text_received``, ``received_path``), the edit ``outcome``
(wherever the scheme recorded it), one column per metric (``psnr``, ``lpips-vgg@original``, ...),
one per stage time in seconds (``time.tx.inversion``, ...), scalar row info (``info.tx.trials``,
...), and provenance (``provenance``, ``weights`` as a dict). Set-level metrics (FD/KD per method
and SNR) come from :func:`load_set_metrics`. ``to_latex`` writes a booktabs table.

    from bench.results import load
    df = load("runs")
    df.groupby(["method", "snr"])["lpips-vgg"].mean().unstack("snr")
"""
from __future__ import annotations

from pathlib import Path

from bench.errors import UserError

KEY_COLUMNS = ["method", "dataset", "image_id", "snr", "channel", "seed", "size", "task"]


def _db(out) -> Path:
    p = Path(out)
    db = p / "results.sqlite" if p.is_dir() else p
    if not db.exists():
        raise UserError(f"no results database at {db}: run 'bench run ... --out {p}' first")
    return db


def load(out="runs"):
    """All result rows under ``out`` (a run directory or its results.sqlite) as a DataFrame."""
    import pandas as pd

    from reports.aggregate import load_rows
    from reports.tables import outcome_of

    records = []
    for r in load_rows(_db(out)):
        rec = {k: getattr(r, k) for k in KEY_COLUMNS}
        rec.update(channel_uses=r.channel_uses, cbr_paper=r.cbr_paper, cbr_complex=r.cbr_complex, bpp=r.bpp,
                   decode_failures=r.decode_failures, text_sent=r.text_sent, text_received=r.text_received,
                   received_path=r.received_path, outcome=outcome_of(r), provenance=r.provenance,
                   weights=dict(r.weights), created=r.created)
        rec.update({k: float(v) if v is not None else float("nan") for k, v in r.metrics.items()})
        rec.update({f"time.{k}": float(v) for k, v in r.times.items()})
        rec.update({f"info.{k}": v for k, v in (r.info or {}).items()
                    if isinstance(v, (str, int, float, bool)) or v is None})
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    if df.empty:
        df = pd.DataFrame(columns=KEY_COLUMNS)
    return df


def load_set_metrics(out="runs"):
    """Set-level metrics (FD/KD per method, dataset and SNR) as a DataFrame."""
    import pandas as pd

    from reports.aggregate import load_set_metrics as _load

    return pd.DataFrame.from_records(_load(_db(out)))


def to_latex(df, path, caption: str = "", label: str = "", float_format: str = "%.4g") -> Path:
    """Write ``df`` as a booktabs LaTeX table (``\\toprule``/``\\midrule``/``\\bottomrule``; no jinja2
    needed) and return the path."""
    import math

    cols = [str(c) for c in (df.columns if not hasattr(df.columns, "levels") else
                             [" ".join(map(str, c)) for c in df.columns])]
    index_name = df.index.name or ""

    def cell(v) -> str:
        if isinstance(v, float):
            return "--" if math.isnan(v) else float_format % v
        return _escape(str(v))

    lines = ["\\begin{table}[t]", "\\centering"]
    if caption:
        lines.append(f"\\caption{{{_escape(caption)}}}")
    if label:
        lines.append(f"\\label{{{label}}}")
    lines += ["\\begin{tabular}{l" + "r" * len(cols) + "}", "\\toprule",
              " & ".join([_escape(index_name)] + [_escape(c) for c in cols]) + " \\\\", "\\midrule"]
    for idx, row in df.iterrows():
        lines.append(" & ".join([cell(idx)] + [cell(v) for v in row.tolist()]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines))
    return p


def _escape(text: str) -> str:
    for a, b in (("\\", "\\textbackslash{}"), ("&", "\\&"), ("%", "\\%"), ("$", "\\$"), ("#", "\\#"),
                 ("_", "\\_"), ("{", "\\{"), ("}", "\\}"), ("~", "\\textasciitilde{}"), ("^", "\\^{}")):
        text = text.replace(a, b)
    return text


def to_markdown(df, float_format: str = "%.4f") -> str:
    """A pipe table of ``df`` (index first), without the optional ``tabulate`` dependency."""
    import math

    def cell(v) -> str:
        if isinstance(v, float):
            return "–" if math.isnan(v) else float_format % v
        return "–" if v is None else str(v)

    cols = [str(c) for c in df.columns]
    head = "| " + " | ".join([str(df.index.name or "")] + cols) + " |"
    sep = "|" + "---|" * (len(cols) + 1)
    body = ["| " + " | ".join([cell(i)] + [cell(v) for v in row.tolist()]) + " |" for i, row in df.iterrows()]
    return "\n".join([head, sep] + body)
