"""The `bench` command line: list, run, report."""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from bench.errors import UserError

DEFAULT_DATASET = "synthfaces"
# the main job: the journal's five-method edit comparison (Fig. 4's methods)
DEFAULT_METHODS = "deepsc+talk2edit,jpeg-ldpc+talk2edit,talk2edit+deepsc,talk2edit+jpeg-ldpc,editable-deepsc"
# Talk2Edit costs ~25-45 s per edit on 2 cores; M1 edits once per distinct received image, M2 once per image:
# 2 images take 7 min 54 s (2026-11-30; 3 would take ~11.8 min, over the 10-minute budget)
MAIN_JOB_N = 2
MAIN_JOB_METRICS = "lpips-alex,lpips-vgg,ssim,edit-success,edit-success-1,others-kept,identity-verified,id-distance"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Let "--snr -6 -inf" reach our own validation instead of being read as options.
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    def error(self, message):  # one line, exit 2
        print(f"bench: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(2)


def plugin_modules(extra: list[str]) -> list[str]:
    """Plugin modules to import: $BENCH_PLUGINS, then --plugin (worker processes import them too)."""
    return [p for p in os.environ.get("BENCH_PLUGINS", "").split(",") if p] + list(extra)


def _import_failure(exc: BaseException) -> str:
    """One line for an exception raised while importing a plugin: type, message, innermost location."""
    import traceback

    text = " ".join(str(exc).split())
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}:{exc.lineno}"
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}" + (f": {text}" if text else "") + (f" (at {where})" if where else "")


def _load_plugins(extra: list[str]) -> None:
    import importlib

    from bench.registry import load_builtin

    load_builtin()
    names = plugin_modules(extra)
    from_env = set(plugin_modules([])) - set(extra)
    for name in names:
        origin = " (from BENCH_PLUGINS)" if name in from_env else ""
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UserError(f"cannot import plugin module '{name}'{origin}: {' '.join(str(exc).split())}") from None
        except Exception as exc:  # whatever a plugin raises at import is its problem, reported in one line
            raise UserError(f"plugin module '{name}'{origin} failed while being imported: {_import_failure(exc)}; "
                            "fix it, or leave it out of --plugin / BENCH_PLUGINS") from None


def cmd_list(args) -> int:
    from bench.registry import CHANNELS, DATASETS, EDITORS, METHODS, METRICS

    for reg in (METHODS, EDITORS, CHANNELS, DATASETS, METRICS):
        print(f"{reg.kind}s:")
        for e in reg.entries():
            print(f"  {e.name:<18} {e.summary}")
    return 0


def split_specs(text: str) -> list[str]:
    """Split 'a,b:x=1,y=2,m2:editor=[e:k=1,j=2],codec=[c],d' into specs at top-level commas: a piece
    with '=' but no ':' before it continues the options of the spec before it; commas inside
    [brackets] belong to nested specs."""
    from bench.registry import split_top

    specs: list[str] = []
    for piece in (p.strip() for p in split_top(text)):
        if not piece:
            continue
        if specs and "=" in piece and ":" not in piece.split("=", 1)[0] and ":" in specs[-1]:
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    return specs


def cmd_run(args) -> int:
    from bench.runner import SweepConfig, run_sweep
    from reports.summary import summary_table

    main_job = args.methods is None
    methods = split_specs(DEFAULT_METHODS if main_job else args.methods)
    if args.n is None:
        args.n = MAIN_JOB_N if main_job else 16
    if main_job:
        if args.metrics is None:
            args.metrics = MAIN_JOB_METRICS
        print(f"main job: the journal's five-method edit comparison ({', '.join(methods)}) on n={args.n} "
              f"{args.dataset} image(s), SNRs {' '.join(map(str, args.snr))} dB (--n and --methods change "
              "it; bench paper journal regenerates the whole paper)", file=sys.stderr)
    metrics = None if args.metrics is None else [m.strip() for m in args.metrics.split(",") if m.strip()]
    cfg = SweepConfig(methods=methods, dataset=args.dataset, snrs=args.snr, channel=args.channel, n=args.n,
                      seed=args.seed, size=args.size, out=Path(args.out), metrics=metrics,
                      set_metrics=not args.no_set_metrics, progress=not args.no_progress, workers=args.workers,
                      plugins=plugin_modules(args.plugin), executor=args.executor)
    res = run_sweep(cfg)
    if res.dataset_skipped:
        print(f"warning: {len(res.dataset_skipped)} dataset file(s) skipped:", file=sys.stderr)
        for reason in res.dataset_skipped[:10]:
            print(f"  {reason}", file=sys.stderr)
    for note in res.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{res.rows_written} new rows, {res.rows_skipped} already done, {res.prepares} transmitter runs "
          f"for {res.images} images -> {res.db_path}")
    print(summary_table(res.db_path, methods=None, dataset=None))
    return 0


def cmd_report(args) -> int:
    from reports.build import build_report

    out = Path(args.out)
    db = out / "results.sqlite"
    if not db.exists():
        raise UserError(f"no results database at {db}; run 'bench run --out {out} ...' first")
    written = build_report(db, Path(args.dest) if args.dest else out / "report")
    for p in written:
        print(p)
    return 0


def parse_train_options(comp, items: list[str]) -> dict:
    """`--set KEY=VALUE` items -> {key: int | float | bool | str}, keys checked against the component."""
    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set recipe=projected")
        if not comp.train_options:
            raise UserError(f"{comp.name} takes no training options (--set); leave --set out")
        if key not in comp.train_options:
            raise UserError(f"{comp.name} has no training option {key!r}; it accepts {', '.join(comp.train_options)}")
        raw = raw.strip()
        value: object = raw
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    pass
        out[key] = value
    return out


def cmd_train(args) -> int:
    from methods.zoo import TrainContext, component, trained_path, weights_path

    # Every argument is checked before anything is written (no work dir, log or checkpoint on bad input).
    comp = component(args.component)
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps must be >= 1 (got {args.steps}); leave it out for the component's default")
    if not 0 <= args.seed < 2**32:
        raise UserError(f"--seed must be >= 0 and < 2^32 (got {args.seed})")
    if args.device not in ("auto", "cpu", "cuda"):
        raise UserError(f"--device '{args.device}' is not known: use auto, cpu or cuda")
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available here (torch.cuda.is_available() is false); "
                        "use --device cpu or auto")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    options = parse_train_options(comp, args.options)
    if args.dest and Path(args.dest).resolve() == weights_path(comp.name).parent.resolve():
        raise UserError(f"--dest {args.dest} is the shipped weights directory; train into the work dir (or another "
                        f"--dest) and replace the shipped weights with 'bench zoo ship {comp.name} --from PATH'")
    ctx = TrainContext(name=comp.name, seed=args.seed, device=device, steps=args.steps,
                       work_dir=Path(args.work) if args.work else trained_path(comp.name).parent,
                       out=Path(args.dest) if args.dest else None, resume=not args.fresh, options=options)
    comp.train(ctx)
    out = ctx.export_path
    if out.is_file():
        ship = f"bench zoo ship {comp.name}" + ("" if out == trained_path(comp.name) else f" --from {out}")
        print(f"{comp.name}: checkpoint {out} + card {out.with_suffix('.json')}; the shipped weights are "
              f"unchanged (replace them with '{ship}')")
    return 0


def cmd_zoo_ship(args) -> int:
    from methods.zoo import ship

    dest, card = ship(args.component, args.src)
    print(f"shipped {args.component}: {args.src or 'runs/train/' + args.component + '/' + args.component + '.pt'} "
          f"-> {dest} (+ {card.name})")
    return 0


def _print_parameter_accounting() -> None:
    """Every registered method that can count its networks' parameters (journal Table VI)."""
    from bench.registry import METHODS, load_builtin

    load_builtin()
    lines = []
    for entry in METHODS.entries():
        try:
            m = METHODS.create(entry.name)
        except UserError:
            continue
        if not hasattr(m, "parameter_counts"):
            continue
        try:
            c = m.parameter_counts()
        except UserError as exc:
            lines.append(f"{entry.name:<22} unavailable: {exc}")
            continue
        parts = ", ".join(f"{k} {v:,}" for k, v in {**c["frozen"], **c["tuned"]}.items())
        lines.append(f"{entry.name:<22} frozen {c['frozen_total']:,} + tuned {c['tuned_total']:,} = "
                     f"{c['total']:,} parameters; tuned ratio {100 * c['tuned_ratio']:.2f} % (paper: 2.65 %)")
        lines.append(f"{' ' * 22} {parts}")
    if lines:
        print("\nparameter accounting (journal Table VI; tuned = what SNR-aware fine-tuning changes):")
        print("\n".join(lines))


def cmd_check(args) -> int:
    from bench.check import run_check

    return run_check(update=args.update, goldens=Path(args.goldens) if args.goldens else None,
                     out=Path(args.keep) if args.keep else None)


def cmd_zoo(args) -> int:
    from methods.zoo import COMPONENTS, component_status, load_components, remake_hint
    from methods.zoo.bench import benchmark_summary, file_on_cards, results_by_component, run_benchmarks

    load_components()
    if args.bench or args.bench_json:
        load = None if args.bench_json else os.getloadavg()[0]
        bench_json = Path(args.bench_json) if args.bench_json else run_benchmarks(Path("runs") / "zoo-bench.json")
        updated = file_on_cards(results_by_component(bench_json, load_avg=load))
        print(f"benchmarks from {bench_json} filed on the cards of: {', '.join(updated) or 'none'}")
    pad = " " * 22
    broken = []
    for name in COMPONENTS.names():
        comp = COMPONENTS.entry(name).factory
        st = component_status(name)
        if not st.ok and st.size_bytes is not None:  # shipped but unusable (not-shipped is only listed)
            broken.append(name)
        size = "not shipped" if st.size_bytes is None else f"{st.size_bytes / 1e6:.1f} MB"
        print(f"{name:<22} {size:<12} {comp.summary}")
        if comp.train_options:
            print(f"{pad} bench train {name} --set KEY=VALUE takes: {', '.join(comp.train_options)}")
        if st.size_bytes is None:
            print(f"{pad} status: not shipped: make it with {remake_hint(name)}")
            continue
        if st.weights_problem:
            print(f"{pad} status: weights broken: {st.weights_problem}")
        if st.card_problem:
            print(f"{pad} status: card {'missing' if st.card_missing else 'invalid'}: {st.card_problem}")
        if not st.ok:
            continue  # quality figures only for weights that load, from a valid card
        card = st.card
        q = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}=(see card)" if isinstance(v, (dict, list))
                      else f"{k}={v}" for k, v in card["quality"].items())
        print(f"{pad} status: ok")
        print(f"{pad} steps={card['steps']} wall={card.get('wall_time_s')}s device={card.get('device')} "
              f"seed={card['seed']}")
        if q:
            print(f"{pad} {q}")
        if card.get("benchmarks"):
            print(f"{pad} bench ({card['benchmarks']['machine'].get('cpu')}, 1 thread): {benchmark_summary(card)}")
    _print_parameter_accounting()
    if broken:  # a non-zero exit lets CI gate on a sound zoo
        print(f"bench: {len(broken)} shipped component(s) not usable: {', '.join(broken)} (see status above)",
              file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bench", description="Semantic-communication benchmark for text-driven facial edits.")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE to register extra methods/channels/datasets (also $BENCH_PLUGINS)")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    s = sub.add_parser("list", help="show registered methods, channels, datasets and metrics")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("run", help="sweep methods x SNRs x images into the results database")
    s.add_argument("--snr", nargs="+", required=True, metavar="DB", help="SNRs (Es/N0, dB), e.g. -6 0 6 12 18")
    s.add_argument("--methods", default=None, help=f"comma-separated method specs (default: the main job, "
                                                   f"{DEFAULT_METHODS})")
    s.add_argument("--dataset", default=DEFAULT_DATASET, help=f"dataset spec, e.g. folder:PATH (default {DEFAULT_DATASET})")
    s.add_argument("--channel", default="awgn", help="channel spec: awgn | rayleigh[:fading=block,csi=none]")
    s.add_argument("--n", type=int, default=None, help=f"number of images (default 16; {MAIN_JOB_N} for the main job)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=None, help="image resolution (default: the dataset's)")
    s.add_argument("--metrics", default=None, help="comma-separated per-image metrics (default: psnr,ssim,lpips-alex)")
    s.add_argument("--out", default="runs", help="output directory holding results.sqlite and images (default runs)")
    s.add_argument("--no-set-metrics", action="store_true",
                   help="skip the set-level FD/KD (FID/KID with Inception weights) per method and SNR")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--workers", type=int, default=0, metavar="N",
                   help="run units (method x image) in N worker processes; 0 (default) runs them in this process. "
                        "Rows are identical either way")
    s.add_argument("--executor", default="local", metavar="SPEC",
                   help="where units run: local (default; --workers N for processes), ray (a local Ray instance) "
                        "or ray:address=HOST:PORT (an existing cluster; --out must be shared). Rows are identical")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("train", help="train one zoo component (seeded, resumable) and write its checkpoint + card "
                                     "into its work dir (ship it with 'bench zoo ship')")
    s.add_argument("component", help="component name (see 'bench zoo')")
    s.add_argument("--steps", type=int, default=None, help="training steps (default: the component's)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="auto", help="auto | cpu | cuda (training only; nothing else needs a GPU)")
    s.add_argument("--work", default=None, help="resumable state and log (default runs/train/COMPONENT)")
    s.add_argument("--dest", default=None,
                   help="write the final checkpoint + card here instead of the work dir (never methods/weights: "
                        "'bench zoo ship' replaces shipped weights)")
    s.add_argument("--fresh", action="store_true", help="ignore saved state and start over")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="options",
                   help="a training option of the component (repeatable; 'bench zoo' lists which a component takes); "
                        "recorded in the card's command")
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("zoo", help="list the shipped trained models, whether they load, and their cards; "
                                   "'bench zoo ship NAME' replaces one with a trained checkpoint")
    s.add_argument("--bench", action="store_true",
                   help="first run the zoo's CPU benchmarks (tests/benchmarks, a few minutes) and file the timings "
                        "on the cards")
    s.add_argument("--bench-json", default=None, metavar="PATH",
                   help="file the timings of an existing pytest-benchmark JSON on the cards (no rerun)")
    s.set_defaults(fn=cmd_zoo)
    zoo_sub = s.add_subparsers(dest="zoo_cmd", parser_class=_Parser, metavar="ship")
    z = zoo_sub.add_parser("ship", help="replace the shipped checkpoint + card of a component with a trained one, "
                                        "after loading it all-or-nothing and checking its card")
    z.add_argument("component", help="component name (see 'bench zoo')")
    z.add_argument("--from", dest="src", default=None, metavar="PATH",
                   help="the checkpoint to ship (default runs/train/COMPONENT/COMPONENT.pt, what 'bench train' "
                        "writes); its card COMPONENT.json must lie beside it")
    z.set_defaults(fn=cmd_zoo_ship)

    s = sub.add_parser("check", help="CI regression guard: a small fixed sweep of every paper method compared with the "
                                     "committed golden metric values within stated tolerances (exit 1 on a regression)")
    s.add_argument("--update", action="store_true", help="rewrite the golden values deliberately")
    s.add_argument("--goldens", default=None, help="golden file (default bench/goldens/check-<CPU family>.json, else "
                   "check.json)")
    s.add_argument("--keep", default=None, metavar="DIR", help="keep the check sweep's rows and images in DIR")
    s.set_defaults(fn=cmd_check)

    s = sub.add_parser("report", help="figures and tables from the results database")
    s.add_argument("--out", default="runs", help="the run directory given to 'bench run' (default runs)")
    s.add_argument("--dest", default=None, help="where to write the report (default OUT/report)")
    s.set_defaults(fn=cmd_report)

    from bench.commands import continuous, data, edit, invert, paper, parse  # parse, data, invert, edit, ...

    parse.add_parser(sub)
    data.add_parser(sub)
    invert.add_parser(sub)
    edit.add_parser(sub)
    continuous.add_parser(sub)
    paper.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _load_plugins(args.plugin)
        return args.fn(args)
    except UserError as exc:
        if args.debug:
            raise
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; finished rows are saved, rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:
        from bench.runner import MethodError

        if args.debug or not isinstance(exc, MethodError):
            raise
        print(f"bench: error: {exc} (rows finished before it are saved; rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
