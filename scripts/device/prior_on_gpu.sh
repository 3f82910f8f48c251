#!/usr/bin/env bash
# The prepared run for a lent GPU (issue 10): continue the world-2 generator together with the
# discriminator it was trained with for GEN_S seconds, and bring everything back under $OUT. The pair is
# methods/weights/staging/ when the checkout has one (a continuation not shipped yet), else the shipped one
# (INIT=shipped or INIT=PATH chooses).
#
# Called through the device tool, from the repository root, as ONE command (a lease is 15 minutes in
# all, the machine's start included, and a machine is given back 30 s after a call, so there is no
# second try to count on):
#
#     run(command="bash scripts/device/prior_on_gpu.sh", timeout_s=590)     # GEN_S=420 by default
#
# It needs nothing but the device image's python3 with torch (no pip, no internet): the trainer uses
# numpy, Pillow and torch only. It fails in seconds, before any training, when CUDA, the shipped pair
# or the renderer is not what it expects. What comes back (at most 8 files of 16 MiB):
#   prior.tgz          stylegan2.pt/.json, stylegan2-discriminator.pt/.json, log.jsonl, preflight.json
#   last.pt.part-aa.. the resumable state (G, D, EMA, both Adam states; ~24 MB, split in 15 MB parts)
#   run.log            everything the script printed
# Back on the CPU machine: scripts/device/unpack_prior.sh DIR (DIR: the tool's files_at) restores
# runs/train/stylegan2/ and prints the steps that follow (report, ship, retrain what pins the generator).
set -euo pipefail
: "${OUT:?run this through the device tool: \$OUT is the folder whose files come back}"
GEN_S=${GEN_S:-420}
SEED=${SEED:-0}
DEVICE=${DEVICE:-cuda}     # DEVICE=cpu N_TRAIN=64 GEN_S=2: the dry run tests/test_device_scripts.py makes on the CPU
N_TRAIN=${N_TRAIN:-30000}  # the shipped generator's training set (30 000 world-2 train images)
# the pair to continue: the staged one (further along, not shipped yet) when the checkout has it, else the shipped
if [ -z "${INIT:-}" ]; then
  if [ -f methods/weights/staging/stylegan2.pt ]; then INIT=methods/weights/staging/stylegan2.pt; else INIT=shipped; fi
fi
WORK=${WORK:-/tmp/editsc-train/stylegan2}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 EDITSC_CACHE=${EDITSC_CACHE:-/tmp/editsc-cache}
exec > >(tee "$OUT/run.log") 2>&1
echo "prior_on_gpu: $(date -u +%FT%TZ) DEVICE=$DEVICE GEN_S=$GEN_S SEED=$SEED N_TRAIN=$N_TRAIN INIT=$INIT $(git rev-parse --short HEAD 2>/dev/null || true)"
mkdir -p "$WORK"

PY=${PYTHON:-python3}
"$PY" - "$WORK/preflight.json" "$DEVICE" "$INIT" <<'EOF'
"""Fail fast: CUDA, the shipped generator/discriminator pair, and world 2 rendering as the zoo learned it."""
import hashlib, json, platform, sys
import numpy as np
import torch
from methods.training.stylegan2 import resolve_init, TRAIN_DEFAULTS

if sys.argv[2] == "cuda" and not torch.cuda.is_available():
    sys.exit("prior_on_gpu: torch sees no CUDA device; nothing trained")
g, d = resolve_init({**TRAIN_DEFAULTS, "init_from": sys.argv[3], "init_d_from": "paired"})
from datasets.synthfaces import SynthFaces
img = SynthFaces("train", requests="none", world=2).item(0, 64).image
digest = hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()[:16]
report = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
          "device": torch.cuda.get_device_name(0) if sys.argv[2] == "cuda" else sys.argv[2], "generator": g, "discriminator": d,
          # the digest tests/test_synthfaces_v2.py pins: equal means this machine renders world 2 bit for bit
          "train_item0_digest": digest, "renders_world2_as_pinned": digest == "389780802ce36152"}
json.dump(report, open(sys.argv[1], "w"), indent=1)
print("preflight:", json.dumps(report))
EOF

status=0
BATCH=${BATCH:-16}  # the shipped recipe's; BATCH=64 is the first thing to try there (docs/prior-v2-recipes.md)
n_train=()
[ "$N_TRAIN" = 30000 ] || n_train=(--set "n_train=$N_TRAIN")
[ "$BATCH" = 16 ] || n_train+=(--set "batch=$BATCH")
timeout $((GEN_S + 150)) "$PY" -m bench.cli train stylegan2 --seed "$SEED" --device "$DEVICE" --work "$WORK" \
  --set init_from="$INIT" --set init_d_from=paired --set time_budget_s="$GEN_S" --set report=false "${n_train[@]}" \
  || status=$?
echo "bench train exit status: $status"

cd "$WORK"
tar czf "$OUT/prior.tgz" $(ls stylegan2.pt stylegan2.json stylegan2-discriminator.pt stylegan2-discriminator.json \
  log.jsonl preflight.json 2>/dev/null)
[ -f last.pt ] && split -b 15m last.pt "$OUT/last.pt.part-"
ls -la "$OUT"
exit "$status"
