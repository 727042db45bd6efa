#!/usr/bin/env bash
# Reproduce the README's regularization table on JapaneseVowels: 3 seeds per variant.
# Usage: bash scripts/regularization_table.sh [extra overrides, e.g. trainer=gpu]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-logs/regularization_table}
COMMON=(logger=csv trainer.enable_progress_bar=false "$@")
"$PYTHON" train.py -m seed=1,2,3 regularizer=none,dropout,l2,label_smoothing,augment \
  "${COMMON[@]}" hydra.sweep.dir="$OUT/regularizers"
"$PYTHON" train.py -m seed=1,2,3 ensemble=bagging ensemble.members=5 \
  "${COMMON[@]}" hydra.sweep.dir="$OUT/bagging"
"$PYTHON" scripts/aggregate_multirun.py "$OUT"
