#!/usr/bin/env bash
# Restore what scripts/device/prior_on_gpu.sh brought back (DIR: the device tool's files_at) into a
# work dir (default runs/train/stylegan2), check it, and print the steps that follow.
#     bash scripts/device/unpack_prior.sh DIR [WORK]
set -euo pipefail
SRC=${1:?usage: unpack_prior.sh DIR [WORK]  (DIR holds prior.tgz and last.pt.part-*)}
WORK=${2:-runs/train/stylegan2}
PY=${PYTHON:-.venv/bin/python}
[ -f "$SRC/prior.tgz" ] || { echo "unpack_prior: no prior.tgz in $SRC (see $SRC/run.log for what happened there)" >&2; exit 2; }
mkdir -p "$WORK"
tar xzf "$SRC/prior.tgz" -C "$WORK"
if ls "$SRC"/last.pt.part-* >/dev/null 2>&1; then
  cat "$SRC"/last.pt.part-* > "$WORK/last.pt.tmp" && mv "$WORK/last.pt.tmp" "$WORK/last.pt"
fi
"$PY" - "$WORK" <<'PYEOF'
import json, sys
from pathlib import Path
import torch
from methods.nets.stylegan2 import load_discriminator, load_generator
from bench.provenance import file_digest

from bench.errors import UserError
from methods.training.stylegan2 import TRAIN_DEFAULTS, resolve_init

work = Path(sys.argv[1])
try:  # all-or-nothing loads and the trainer's own pairing check: a broken transfer stops here, in one line
    load_generator(work / "stylegan2.pt")
    load_discriminator(work / "stylegan2-discriminator.pt")
    resolve_init({**TRAIN_DEFAULTS, "init_from": str(work / "stylegan2.pt"), "init_d_from": "paired"})
except UserError as exc:
    print(f"unpack_prior: {exc}", file=sys.stderr)
    sys.exit(2)
card = json.loads((work / "stylegan2.json").read_text())
state = torch.load(work / "last.pt", map_location="cpu", weights_only=True) if (work / "last.pt").exists() else None
pre = json.loads((work / "preflight.json").read_text()) if (work / "preflight.json").exists() else {}
print(f"unpack_prior: {work}: generator {file_digest(work / 'stylegan2.pt')[:12]} after {card['steps']} steps "
      f"(continued from {card['quality'].get('continued_from', {}).get('generator_sha256', '?')[:12]}), "
      f"resumable state at step {state['step'] if state else 'none'}; made on {pre.get('device', '?')} "
      f"(renders world 2 as pinned: {pre.get('renders_world2_as_pinned', '?')})")
print(f"""next:
  1. figures (CPU, measured only with what training never optimised):
     {sys.executable} -m methods.training.stylegan2_report {work}/report --ckpt {work}/stylegan2.pt --update-card
  2. compare quality with methods/weights/stylegan2.json; ship only if better:
     bench zoo ship stylegan2 --from {work}/stylegan2.pt
     bench zoo ship stylegan2-discriminator --from {work}/stylegan2-discriminator.pt
  3. retrain what pins the generator (each refuses another one), with the commands on their cards:
     stylegan2-encoder, field-functions, jecc-field-functions, channel-adapters;
     then scripts/experiments/remeasure_downstream_cards.py and bench check --update
  to train on (here or on the next GPU): the same command with a larger --steps and --work {work}
     resumes from last.pt: {card['command']} --work {work}""")
PYEOF
