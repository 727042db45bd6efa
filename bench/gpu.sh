#!/usr/bin/env bash
# One short GPU visit (under 5 minutes on an H200): recurrent encoder speed on CUDA against
# torch.nn.* in the same run, fp32 and bf16 autocast, two shapes, one and two directions.
#   bash bench/gpu.sh OUT_DIR        # writes OUT_DIR/rnn_speed_<dtype>_<shape>_<dirs>.json
set -euo pipefail
out=${1:?usage: bash bench/gpu.sh OUT_DIR}
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" || true
"$python" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())" \
  | tee "$out/torch.txt"
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
