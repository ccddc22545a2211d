#!/usr/bin/env bash
# The student report's comparison, redone at its 32x32 input on one HaGRID split (../shared/data):
# the report's plain CNN, EfficientNet-Lite0 from ImageNet (offline weights), and EfficientNet-B0
# from scratch (its ImageNet weights cannot be downloaded here). Each is scored on the test subset.
#
#   bash scripts/compare_report.sh SPLIT_JSON [DATA_DIR] [RUNS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SPLIT=$1
DATA=${2:-../shared/data}/hagrid_crops
RUNS=${3:-runs/compare32}
PY=${PYTHON:-.venv/bin/python}
COMMON=(--data "$DATA" --split-file "$SPLIT" --image-size 32 --batch-size 64 --patience 5)
run() {  # NAME ARGS...
  local name=$1; shift
  [ -f "$RUNS/$name/model.keras" ] || "$PY" -m training.train --out "$RUNS/$name" "${COMMON[@]}" "$@"
  [ -f "$RUNS/$name/eval/metrics.json" ] || "$PY" -m training.evaluate --model "$RUNS/$name/model.keras" \
      --data "$DATA" --out "$RUNS/$name/eval"
}
run baseline --arch baseline --epochs 5 --fine-tune-epochs 0
# --head-on-images: the head phase as docs/training.md's figures were measured (before cached features)
run lite0_imagenet --arch efficientnet_lite0 --weights imagenet --epochs 1 --fine-tune-epochs 4 --fine-tune-from block3a \
    --head-on-images
run b0_scratch --arch efficientnet_b0 --weights none --epochs 5 --fine-tune-epochs 0
for name in baseline lite0_imagenet b0_scratch; do
  "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print(f'{sys.argv[2]:16s} test accuracy {m[\"accuracy\"]:.4f}  macro F1 {m[\"macro_f1\"]:.4f}  ({m[\"count\"]} images)')" \
      "$RUNS/$name/eval/metrics.json" "$name"
done
