#!/usr/bin/env bash
# The GPU check, in one script: a CUDA smoke study (local, and on Ray when Ray is installed), the
# CUDA-only code paths, the training-throughput benchmark on CPU and GPU, and the MSD-E paper
# protocol for one ResNet-18 arm (baseline-mix: 10 folds x 25 epochs x ~1,760 training images at
# 224 px) on the demo dataset, timed. Every figure is printed, and collected at the end.
#
#   bash benchmarks/gpu_check.sh                 # on a machine with an NVIDIA GPU
#   GPU_CHECK_STEPS=smoke,paths bash benchmarks/gpu_check.sh   # some steps only
#   bash benchmarks/gpu_check.sh --dry-run-on-cpu   # check the script itself on a CPU, tiny sizes
#
# Steps (GPU_CHECK_STEPS, comma-separated; default all): smoke, paths, throughput, paper, paper-ray.
# paper-ray (the same protocol with 5 folds at a time on the GPU, --gpus-per-task 0.2) runs only
# where Ray is installed. Python: $PYTHON, else .venv/bin/python, else python3. Work files go to
# $GPU_CHECK_DIR (default: a new temporary folder). Exit status: 3 without CUDA, 1 when a step
# failed, 0 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
if [ "${1:-}" = "--dry-run-on-cpu" ]; then DRY=1; fi
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

if [ "$DRY" = 0 ] && ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu_check: no CUDA device here (torch.cuda.is_available() is False with $PY)." >&2
    echo "gpu_check: run it on a machine with an NVIDIA GPU, or use --dry-run-on-cpu to check the script." >&2
    exit 3
fi

WORK=${GPU_CHECK_DIR:-$(mktemp -d -t maskfer-gpu-check.XXXXXX)}
mkdir -p "$WORK"
export MASKFER_CACHE="$WORK/cache"
FIGURES="$WORK/figures.txt"
: >"$FIGURES"
STEPS=${GPU_CHECK_STEPS:-smoke,paths,throughput,paper,paper-ray}
FAILED=()
if "$PY" -c 'import ray' 2>/dev/null; then HAVE_RAY=1; else HAVE_RAY=0; fi

if [ "$DRY" = 1 ]; then   # the same commands at toy sizes, on the CPU
    DEVICE=cpu; RAYGPU=(); SUBJECTS=8; DEMO_SIZE=64; SMOKE=(--image-size 32 --epochs 1)
    PAPER=(--image-size 32 --epochs 1 --k 4 --folds 0,1); PAPER_RAYGPU=()
    PATHS=(--device cpu --subjects 6 --image-size 32 --epochs 1 --no-compile)
    THROUGHPUT=(--devices cpu --sizes 32 --steps 1 --batch 8 --photo-side 128)
else
    DEVICE=cuda; RAYGPU=(--gpus-per-task 0.5); SUBJECTS=142; DEMO_SIZE=256; SMOKE=()
    PAPER=(); PAPER_RAYGPU=(--gpus-per-task 0.2)
    PATHS=(--subjects 16 --image-size 64 --epochs 2)
    THROUGHPUT=(--devices cpu,cuda --sizes 112,224 --workers 8 --compile)
fi

wanted() { [[ ",$STEPS," == *",$1,"* ]]; }
figure() { echo "$*" | tee -a "$FIGURES"; }
step() {  # step NAME COMMAND...: run, time, record failure, go on
    local name=$1; shift
    echo; echo "=== $name: $*"
    local started=$SECONDS
    if "$@"; then figure "$name: ok in $((SECONDS - started)) s"; else
        figure "$name: FAILED (exit $?) after $((SECONDS - started)) s"; FAILED+=("$name"); fi
}
run_timed() {  # run_timed NAME OUT ARGS...: a study, its wall time and per-model timing as figures
    local name=$1 out=$2; shift 2
    local started=$EPOCHREALTIME wall
    "$PY" -m trainers run "$@" --out "$out" || return
    wall=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }")
    figure "$name: wall $wall s"
    "$PY" -m benchmarks.study_timing "$out" --wall "$wall" | tee -a "$FIGURES"
}

echo "maskfer GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), work folder $WORK, ray installed: $HAVE_RAY"
"$PY" - <<'EOF' | tee -a "$FIGURES"
import platform, torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
print(f"device: {gpu}; torch {torch.__version__}, CUDA {torch.version.cuda}, Python {platform.python_version()}")
EOF
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

if wanted smoke || wanted paper || wanted paper-ray; then
    step "demo data" "$PY" -m trainers data demo --out "$WORK/demo" --subjects "$SUBJECTS" --size "$DEMO_SIZE" \
        --workers "$(nproc)"
    step "label validation" "$PY" -m trainers data validate "$WORK/demo/manifest.csv" "$WORK/demo/votes.csv" \
        --out "$WORK/validated"
fi
if wanted smoke; then
    step "smoke study ($DEVICE)" run_timed "smoke $DEVICE" "$WORK/smoke" --data "$WORK/validated/manifest.csv" \
        --preset smoke --models baseline-nm,kd --device "$DEVICE" "${SMOKE[@]}"
    if [ "$HAVE_RAY" = 1 ]; then
        step "smoke study (ray)" run_timed "smoke ray" "$WORK/smoke-ray" --data "$WORK/validated/manifest.csv" \
            --preset smoke --models baseline-nm,kd --executor ray "${RAYGPU[@]}" "${SMOKE[@]}"
        step "smoke: ray predictions equal local" bash -c "cd '$WORK' && for f in smoke/*/fold-*/predictions.csv; \
            do cmp \"\$f\" \"smoke-ray/\${f#smoke/}\" || exit 1; done"
    else
        figure "smoke study (ray): skipped, ray is not installed"
    fi
fi
if wanted paths; then
    step "CUDA code paths" bash -c "'$PY' -m benchmarks.cuda_paths ${PATHS[*]} | tee -a '$FIGURES'"
fi
if wanted throughput; then
    step "training throughput" bash -c "'$PY' -m benchmarks.train_throughput ${THROUGHPUT[*]} | tee -a '$FIGURES'"
fi
if wanted paper; then
    step "paper protocol, one arm ($DEVICE)" run_timed "paper baseline-mix $DEVICE" "$WORK/paper" \
        --data "$WORK/validated/manifest.csv" --preset paper --models baseline-mix --allow-random-init \
        --device "$DEVICE" "${PAPER[@]}"
fi
if wanted paper-ray; then
    if [ "$HAVE_RAY" = 1 ]; then
        step "paper protocol, one arm (ray, shared GPU)" run_timed "paper baseline-mix ray" "$WORK/paper-ray" \
            --data "$WORK/validated/manifest.csv" --preset paper --models baseline-mix --allow-random-init --executor ray \
            "${PAPER_RAYGPU[@]}" "${PAPER[@]}"
    else
        figure "paper protocol (ray): skipped, ray is not installed"
    fi
fi

echo; echo "=== figures ($FIGURES)"; cat "$FIGURES"
if [ ${#FAILED[@]} -gt 0 ]; then echo "gpu_check: failed steps: ${FAILED[*]}" >&2; exit 1; fi
echo "gpu_check: all steps passed"
