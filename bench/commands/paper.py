"""``bench paper journal|conference [--dataset SPEC] [--hires-dataset SPEC] [--ood-dataset SPEC] [--n N] [--snr ...]
[--hires-size PX] [--out DIR]``: regenerate a paper
(``reports.paper``): run (resumably) every sweep its figures and tables need, then write
``OUT/README.md`` (figures inline, tables beside the published values, one verdict per claim),
``OUT/figures/`` and ``OUT/tables/`` (CSV + LaTeX). Default OUT: runs/paper/<paper>."""
from __future__ import annotations

from pathlib import Path

from reports.paper import MIN_VERDICT_N

DEFAULT_N = MIN_VERDICT_N  # fewer paired images give numbers but no verdicts


def add_parser(sub) -> None:
    s = sub.add_parser("paper", help="regenerate the journal or conference paper's figures and tables "
                                     "(resumable sweeps, then runs/paper/<paper>/README.md)")
    s.add_argument("paper", choices=("journal", "conference"))
    s.add_argument("--n", type=int, default=DEFAULT_N,
                   help=f"test images per sweep (default {DEFAULT_N}: the fewest that give a verdict per claim; the "
                        "journal takes about 12 min per image on 2 cores, almost all Talk2Edit)")
    s.add_argument("--snr", nargs="+", type=float, default=None, metavar="DB",
                   help="SNRs (default: the paper's: -6 0 6 12 18; conference adds -3)")
    s.add_argument("--dataset", default="synthfaces", metavar="SPEC",
                   help="the main set (journal Fig. 4 and the tables; conference Fig. 3): any `bench run --dataset` "
                        "spec, e.g. celeba-dialog:root=PATH (default synthfaces)")
    s.add_argument("--hires-dataset", default=None, metavar="SPEC",
                   help="journal Fig. 6's set, run at --hires-size, e.g. celeba-hq:root=PATH (default: the main set)")
    s.add_argument("--ood-dataset", default="synthfaces-art", metavar="SPEC",
                   help="journal Fig. 8's out-of-distribution set, e.g. metfaces:root=PATH (default synthfaces-art)")
    s.add_argument("--hires-size", type=int, default=None,
                   help="resolution of the high-resolution sweep (the paper: 1024; default 128 on 2 cores)")
    s.add_argument("--out", default=None, help="output directory (default runs/paper/<paper>)")
    s.add_argument("--report-only", action="store_true", help="only rebuild the report from the rows present")
    s.set_defaults(fn=run)


def run(args) -> int:
    from reports.paper import PaperSets, build_paper_report, load_run, run_paper

    out = Path(args.out) if args.out else Path("runs") / "paper" / args.paper
    sets = PaperSets(main=args.dataset, hires=args.hires_dataset, ood=args.ood_dataset)
    if args.report_only:
        given = sets != PaperSets()
        pr = load_run(args.paper, out, args.n, args.snr, args.hires_size, sets if given else None)
    else:
        pr = run_paper(args.paper, out, n=args.n, snrs=args.snr, hires_size=args.hires_size or 128, sets=sets)
    readme = build_paper_report(pr)
    print(f"-> {readme}")
    return 0
