#!/usr/bin/env bash
# Everything darts checks on a GPU, in one run that prints a summary (about 5-8 minutes on one GPU):
#   1. the CUDA tests (pytest -m gpu: inference and training on cuda:0)
#   2. the paired training-step benchmark at 512 px with resnet34 (bf16 + channels-last vs the
#      reference's fp32 settings, and vs a bare torch loop)
#   3. whole-scene inference throughput (benchmarks/segment_scene.py, when present)
#   4. train-smp, test-smp and a 2-trial optuna-sweep-smp on GPU 0, on the tiny quickstart's data
# On a machine without a CUDA device every GPU step is skipped with a message and the script exits 0,
# so it can be tried anywhere. Exit status: 1 when any step failed.
#
#   bash benchmarks/gpu_check.sh            # logs in a temporary folder (printed)
#   GPU_CHECK_OUT=gpu-check bash benchmarks/gpu_check.sh
set -uo pipefail

cd "$(dirname "$0")/.."
OUT=${GPU_CHECK_OUT:-$(mktemp -d -t darts-gpu-check-XXXXXX)}
mkdir -p "$OUT"
GPU=${GPU_CHECK_DEVICE:-0}
SUMMARY=()
FAILED=0

has_cuda=$(uv run python -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)
if [ "$has_cuda" = 1 ]; then
    gpu_name=$(uv run python -c "import torch; print(torch.cuda.get_device_name($GPU))")
    echo "GPU $GPU: $gpu_name; logs in $OUT"
else
    echo "no CUDA device: every GPU step is skipped (logs in $OUT)"
fi

# step NAME COMMAND...: run, time and record one step; its output goes to $OUT/NAME.log
step() {
    local name=$1
    shift
    local start=$SECONDS status
    echo "== $name: $*"
    if "$@" >"$OUT/$name.log" 2>&1; then status=passed; else status="FAILED (exit $?)"; FAILED=1; fi
    SUMMARY+=("$(printf '%-16s %-18s %5ds' "$name" "$status" $((SECONDS - start)))")
    echo "   $status; log: $OUT/$name.log"
}

skip() {
    SUMMARY+=("$(printf '%-16s skipped: %s' "$1" "$2")")
    echo "== $1: skipped: $2"
}

gpu_step() {
    if [ "$has_cuda" = 1 ]; then step "$@"; else skip "$1" "no CUDA device"; fi
}

gpu_step cuda-tests uv run pytest -m gpu -q -p no:cacheprovider
gpu_step train-step uv run python benchmarks/train_step.py --device "$GPU" --encoder resnet34 \
    --patch-size 512 --batch-size 8 --steps 30
if [ -f benchmarks/segment_scene.py ]; then
    gpu_step segment-scene uv run python benchmarks/segment_scene.py --device "$GPU"
else
    skip segment-scene "benchmarks/segment_scene.py is not in this checkout"
fi

if [ "$has_cuda" = 1 ]; then
    QS="$OUT/quickstart"
    step quickstart-data uv run darts quickstart --tiny --workdir "$QS"
    CONFIG=("--config-file" "$QS/config.toml")
    step train-gpu uv run darts train-smp "${CONFIG[@]}" --accelerator gpu --devices "$GPU" \
        --precision auto --max-epochs 4 --check-val-every-n-epoch 2 --run-name gpu-check --run-id gpu00001
    step test-gpu uv run darts test-smp "${CONFIG[@]}" --run-name gpu-check --run-id gpu00001 \
        --test-device "$GPU"
    step sweep-gpu uv run darts optuna-sweep-smp "${CONFIG[@]}" --sweep-device "$GPU" --n-trials 2 \
        --sweep-id gpu-check
else
    skip train-gpu "no CUDA device"
    skip test-gpu "no CUDA device"
    skip sweep-gpu "no CUDA device"
fi

echo
echo "== summary (logs in $OUT)"
printf '%s\n' "${SUMMARY[@]}"
if [ -f "$OUT/train-step.log" ]; then
    echo "-- train_step"
    grep -E "^(train-smp|bare|reference)" "$OUT/train-step.log" || true
fi
if [ -f "$OUT/segment-scene.log" ]; then
    echo "-- segment_scene"
    tail -n 8 "$OUT/segment-scene.log"
fi
exit $FAILED
