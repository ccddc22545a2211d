#!/usr/bin/env bash
# Reproduce models/handsign.onnx from ../shared/data on CPU (2 cores: about 1.5 hours).
# Every step is skipped when its output exists, and an interrupted training step resumes
# (training.train --resume), so re-running the script continues where it stopped.
#
#   bash scripts/train_shipped_model.sh [DATA_DIR] [RUNS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
RUNS=${2:-runs/shipped}
PY=${PYTHON:-.venv/bin/python}
SMALL=four,peace_inverted,three,three2,two_up,two_up_inverted
COMMON=(--data "$DATA/hagrid_crops" --arch efficientnet_lite0 --image-size 128 --fine-tune-from block5a
        --class-weights sqrt --patience 3)

train() {  # train RUN_DIR ARGS...: run, resume, or skip when finished
  local run=$1; shift
  if [ -f "$run/done" ]; then return; fi
  if [ -f "$run/last.keras" ]; then "$PY" -m training.train --out "$run" --data "$DATA/hagrid_crops" --resume
  else "$PY" -m training.train --out "$run" "$@"; fi
  touch "$run/done"
}

# Round 0: head on the frozen ImageNet Lite0 (1 epoch, 1e-3), then block5a.. fine-tuned (1 epoch, 2e-4).
# --head-on-images: the head phase as the shipped model was made (one epoch of images, before the
# head on cached features existed), so this script reproduces it; not re-run with cached features.
train "$RUNS/r0" "${COMMON[@]}" --epochs 1 --fine-tune-epochs 1 --fine-tune-learning-rate 2e-4 --head-on-images
# Pseudo-label rounds (ROUNDS, default 1: the shipped model): label the unlabelled pool with the
# previous round's confident predictions (small classes only, gated on held-out precision), then
# fine-tune one more epoch from the previous round with those images added to training.
prev=r0
for round in $(seq 1 "${ROUNDS:-1}"); do
  lr=$([ "$round" = 1 ] && echo 2e-4 || echo 1e-4)
  [ -f "$RUNS/$prev/pseudo.json" ] || "$PY" -m training.pseudolabel --model "$RUNS/$prev/model.keras" \
      --data "$DATA/hagrid_crops" --pool "$DATA/hagrid_pool" --out "$RUNS/$prev/pseudo.json" --classes "$SMALL"
  train "$RUNS/r$round" "${COMMON[@]}" --split-file "$RUNS/r0/split.json" --init-from "$RUNS/$prev/model.keras" \
      --extra-train "$RUNS/$prev/pseudo.json" --epochs 0 --fine-tune-epochs 1 --fine-tune-learning-rate "$lr"
  prev=r$round
done

ROUND_LAST=${ROUNDS:-1}
# Test split of the crops, then export with the contract, then the live path on hagrid_context.
[ -f "$RUNS/r$ROUND_LAST/eval/metrics.json" ] || "$PY" -m training.evaluate --model "$RUNS/r$ROUND_LAST/model.keras" \
    --data "$DATA/hagrid_crops" --out "$RUNS/r$ROUND_LAST/eval"
SOURCES="HaGRID (Kapitanov et al., CC BY-SA 4.0): hagrid_crops (46,914 hand crops, 18 gestures + no_gesture) and hagrid_pool (pseudo-labelled) from ../shared/data"
"$PY" -m export --model "$RUNS/r$ROUND_LAST/model.keras" --out "$RUNS/r$ROUND_LAST/handsign.onnx" --check-data "$DATA/hagrid_crops" \
    --data-sources "$SOURCES"
"$PY" -m realtime.evaluate --model "$RUNS/r$ROUND_LAST/handsign.onnx" --data "$DATA/hagrid_context" --out "$RUNS/r$ROUND_LAST/live"
"$PY" -m export --model "$RUNS/r$ROUND_LAST/model.keras" --out models/handsign.onnx --check-data "$DATA/hagrid_crops" \
    --data-sources "$SOURCES" --live-metrics "$RUNS/r$ROUND_LAST/live/metrics.json"
