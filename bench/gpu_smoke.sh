#!/usr/bin/env bash
# One-GPU smoke test of the real training path, < 10 minutes: LoRA GRPO for a few steps with vLLM colocate on a
# small local model, evaluation before and after, and the dry-run memory estimate beside the measured peak.
#
#   bench/gpu_smoke.sh /path/to/Qwen2.5-0.5B-Instruct [OUTPUT_DIR]
#
# Needs: one CUDA GPU, `pip install -e ".[train]" vllm` (vLLM matching your torch/CUDA), nvidia-smi, and a local
# model folder (any small causal LM with a chat template). Offline: the data is the generated arithmetic task.
# NOT run by us (no GPU in this project's CI); docs/training.md says what has run where.
set -euo pipefail

MODEL=${1:?usage: bench/gpu_smoke.sh LOCAL_MODEL_FOLDER [OUTPUT_DIR]}
OUT=${2:-runs/gpu_smoke}
RECIPE="$(cd "$(dirname "$0")/.." && pwd)/pipelines/grpo_gpu_smoke.yaml"
DEEPMATH=${DEEPMATH:-deepmath}

[ -f "$MODEL/config.json" ] || { echo "gpu_smoke: $MODEL has no config.json (give a local model folder)" >&2; exit 2; }
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'gpu_smoke: no CUDA GPU visible')"
python -c "import vllm" 2>/dev/null || { echo "gpu_smoke: vllm is not installed (pip install vllm)" >&2; exit 2; }

GPU_GIB=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits -i 0 | awk '{printf "%.1f", $1/1024}')
echo "== dry run ($GPU_GIB GiB GPU)"
$DEEPMATH train grpo "$RECIPE" --model "$MODEL" --dry-run --gpu-memory "$GPU_GIB" | tee /tmp/gpu_smoke_dry_run.txt

echo "== LoRA GRPO with vLLM colocate -> $OUT"
PEAK_LOG=$(mktemp)
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0 -lms 500 > "$PEAK_LOG" &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null || true' EXIT
START=$(date +%s)
$DEEPMATH train grpo "$RECIPE" --model "$MODEL" --output "$OUT"
SECONDS_TAKEN=$(( $(date +%s) - START ))
kill $SAMPLER 2>/dev/null || true
PEAK_MIB=$(sort -n "$PEAK_LOG" | tail -1)

echo "== result"
python - "$OUT" "$PEAK_MIB" "$SECONDS_TAKEN" <<'PY'
import json, sys
out, peak_mib, seconds = sys.argv[1], float(sys.argv[2] or 0), sys.argv[3]
metrics = json.load(open(f"{out}/metrics.json"))
before, after = metrics["eval_before"], metrics["eval_after"]
for key in ("pass@1", "maj@k"):
    print(f"{key}: before {before[key]:.3f}  after {after[key]:.3f}")
print(f"measured peak GPU memory (nvidia-smi, whole device): {peak_mib / 1024:.1f} GiB; run took {seconds} s")
PY
grep -E "^(memory per GPU|generation|evaluation)" /tmp/gpu_smoke_dry_run.txt | sed 's/^/dry-run estimate: /'
ls "$OUT/adapter/adapter_config.json" "$OUT/model/config.json" >/dev/null && echo "adapter and merged model saved"
