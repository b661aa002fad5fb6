#!/usr/bin/env bash
# Issue 19, item 4 (the CUDA figures of issue 7) in one call of the device tool, whose budget is 15
# minutes for the whole session: install this checkout into the machine's own Python (it has torch,
# torchvision, torchmetrics, onnx and pytest, nothing can be fetched there), then the training tests
# and the CUDA bench, each under its own time limit, everything written to $OUT:
#
#   run(command="bash tools/gpu_check.sh", timeout_s=590)
#
# Here, to try the script itself on the CPU in a minute: PY=.venv/bin/python DEVICE=cpu QUICK=1
# OUT=/tmp/gpu-check bash tools/gpu_check.sh
set -u
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-/tmp/gpu-check}
TESTS_S=${TESTS_S:-220}
BENCH_S=${BENCH_S:-330}  # each case's result is in bench.log as it ends, if the limit stops it
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
{ date; uname -a; nvidia-smi 2>&1 || echo "no nvidia-smi"; } >"$OUT/machine.txt"

# the node types arrive through an entry point, so the package must be installed; offline, no deps
if ! "$PY" -c "import studio, importlib.metadata as m; m.version('netstudio')" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$OUT/install.log" 2>&1 \
    || { echo "install failed: see install.log"; tail -5 "$OUT/install.log"; exit 1; }
fi
"$PY" - >>"$OUT/machine.txt" 2>&1 <<'EOF'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0))
EOF
cat "$OUT/machine.txt"

# the training tests (the CUDA-only fast-path tests run where a GPU is); captum may be missing there,
# so the attribution tests are left out when it is
opts=()  # pytest options: what this machine lacks is left out
"$PY" -c "import captum" 2>/dev/null || opts=(--ignore=tests/training/test_explain.py --ignore=tests/training/test_explain_cli.py)
# (16 cores there, and pytest-xdist: the suite in parallel, or it does not fit beside the bench)
"$PY" -c "import xdist" 2>/dev/null && opts+=(-n "${WORKERS:-8}")
timeout "$TESTS_S" "$PY" -m pytest tests/training -q -p no:cacheprovider "${opts[@]}" \
  ${QUICK:+-m "not slow" -k "fastpath"} >"$OUT/pytest.log" 2>&1
echo "pytest tests/training: rc $? (124: stopped at ${TESTS_S} s)"; tail -3 "$OUT/pytest.log"

# the bench: JSON for docs/performance.md, its progress in bench.log
timeout "$BENCH_S" "$PY" -m studio bench train --device "$DEVICE" --json ${QUICK:+--quick} \
  >"$OUT/bench.json" 2>"$OUT/bench.log"
echo "bench train --device $DEVICE: rc $? (124: stopped at ${BENCH_S} s)"; tail -2 "$OUT/bench.log"
