#!/usr/bin/env bash
# One short GPU visit (under 5 minutes on an H200): recurrent encoder speed on CUDA against
# torch.nn.* in the same run, fp32 and bf16 autocast, two shapes, one and two directions,
# after an exactness check of the CUDA code paths against float64 on the CPU (gpu_check.py),
# then host-device syncs in the training step (sync_check.py: none between logging steps).
#   bash bench/gpu.sh OUT_DIR   # OUT_DIR/gpu_check.json, OUT_DIR/rnn_speed_<dtype>_<shape>_<dirs>.json
set -euo pipefail
out=${1:?usage: bash bench/gpu.sh OUT_DIR}
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" 2>/dev/null || true
"$python" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())" \
  | tee "$out/torch.txt"
timeout 60 "$python" "$here/bench/gpu_check.py" --device cuda --json "$out/gpu_check.json" \
  | tee "$out/gpu_check.txt" || echo "gpu_check failed" | tee -a "$out/failures.txt"
for dtype in fp32 bf16; do
  for shape in "32 200 256" "64 500 512"; do
    read -r batch steps hidden <<< "$shape"
    for dirs in uni bi; do
      flag=$([ "$dirs" = bi ] && echo --bidirectional || true)
      name="rnn_speed_${dtype}_B${batch}_T${steps}_H${hidden}_${dirs}"
      echo "== $name"
      timeout 120 "$python" "$here/bench/rnn_speed.py" --device cuda --dtype "$dtype" \
        --batch "$batch" --steps "$steps" --hidden-size "$hidden" $flag \
        --warmup 2 --runs 5 --json "$out/$name.json" 2>&1 | grep -v '^USDT\|^\[W' \
        | tee "$out/$name.txt" || echo "$name failed or timed out" | tee -a "$out/failures.txt"
    done
  done
done
echo "== sync_check (host-device syncs in the training step)"
timeout 120 "$python" "$here/bench/sync_check.py" --steps 12 --log-every 5 2>&1 | grep -v '^USDT\|^\[W' \
  | tee "$out/sync_check.txt" || echo "sync_check failed or found syncs" | tee -a "$out/failures.txt"
