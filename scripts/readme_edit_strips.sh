#!/usr/bin/env bash
# Regenerates the README's before/after strips (one per attribute) with `bench edit` and the shipped
# Talk2Edit editor: for each attribute, the first SynthFaces test face (of 60) whose true degree of
# that attribute is 0 or 1 gets a request to raise it. Writes docs/edits/<attribute>.png (original |
# edited, 4x) and docs/edits/<attribute>.json (parsed request, outcome, trials, judged degrees before
# and after, identity verdict).   Usage: scripts/readme_edit_strips.sh [OUT_DIR]
# The images depend on torch's thread count (600-step inversions with generator fine-tuning amplify
# the float differences of other reduction orders): the committed ones were made with torch's default
# threads on the 2-core machine; under OMP_NUM_THREADS=1 the same edits land elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/edits}
BENCH=${BENCH:-.venv/bin/bench}
PY=${PY:-.venv/bin/python}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$BENCH" data export synthfaces:requests=none --n 60 --out "$TMP/faces" > /dev/null
mkdir -p "$OUT"
"$PY" - "$TMP/faces" > "$TMP/plan.tsv" <<'PYEOF'
import json, sys
from pathlib import Path
root = Path(sys.argv[1])
requests = {"Bangs": "make the bangs longer", "Eyeglasses": "add glasses", "Beard": "give him a bit more beard",
            "Smiling": "make her smile more", "Young": "make them look younger"}
rows = [json.loads(line) for line in (root / "labels.jsonl").read_text().splitlines()]
for a, (name, text) in enumerate(requests.items()):
    pick = next(r for r in rows if r["labels"]["attributes"][a] <= 1 and
                (name != "Beard" or r["labels"]["identity_factors"]["masculine"]))
    print(f"{name}\t{root / r'images' / Path(pick['file']).name}\t{text}")
PYEOF
while IFS=$'\t' read -r name image text; do
  "$BENCH" edit "$image" "$text" --out "$TMP/$name" --json > "$TMP/$name.json"
  cp "$TMP/$name/"*-edit.png "$OUT/$name.png"
  cp "$TMP/$name/"*-edit.json "$OUT/$name.json"
  "$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); a = r["parsed"]["attribute_name"]
print("%s: %r -> outcome %s after %d trial(s), judged %s %s -> %s, identity verified %s"
      % (a, r["request"], r["outcome"], r["trials"], a, r["judged_before"][a], r["judged_after"][a], r["identity_verified"]))' "$TMP/$name.json"
done < "$TMP/plan.tsv"
