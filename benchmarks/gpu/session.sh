#!/usr/bin/env bash
# Issue 19's GPU checks as one run that fits a device call (≤ 9 minutes on an H200): the Triton
# backend against torch on every example and on random circuits, on the chip; the torch backend's
# device path without host syncs; then rows/s of eager, batched, batched as a CUDA graph,
# torch.compile and the fused kernels (fp32, bf16) against the roofline, on the colour programs
# and the shipped examples;
# and what `--backend auto` measures and chooses on sequences' whole domain.
# Each step has its own time limit, so one that hangs leaves the others' figures. The log and the
# tables land in $OUT (the device tool's folder) or ./gpu-report.
# Compiling the fused kernels is minutes of it (fp32 36–353 s a kernel, one at a time, ahead of time
# for sm_90 on the 2-core VM; RESULTS.md round 14), so part 1 first compiles every example's
# kernels into Triton's cache in parallel (`warm`), then runs the tests; part 2 the benchmarks. Run
# them as two calls back to back, so the machine (and its cache) is still held for part 2.
#   here, once:   bash benchmarks/gpu/wheels.sh
#   on the GPU:   run(carry=[".whl"], timeout_s=600, command="bash benchmarks/gpu/session.sh 1")
#   at once:      run(carry=[".whl"], timeout_s=420, command="bash benchmarks/gpu/session.sh 2")
#   (no argument: both parts in one run)
# Without CUDA it runs the same steps at toy sizes, under Triton's interpreter (a check of the script).
set -uo pipefail
part=${1:-all}
cd "$(dirname "$0")/../.."
out=${OUT:-gpu-report}
mkdir -p "$out"
exec > >(tee -a "$out/session-$part.log") 2>&1
export PYTHONUNBUFFERED=1
if [ -d .whl ] && ! python3 -c "import lark, z3, sqlalchemy" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
python3 -c "import circ.lang" 2>/dev/null || python3 -m pip install -q --no-deps --no-build-isolation -e . || exit 1
if python3 -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  rows="10000 100000 1000000 10000000" examples="field polynomial sequences combinators" tests=tests/runtime/triton
  every=$(cd examples && ls -- *.circ | sed 's/\.circ$//' | tr '\n' ' ')  # the tests run them all
  whole=sequences
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
else
  rows="2000" examples="affine" tests="tests/runtime/triton/test_triton_backend.py -k affine" every=affine
  whole=affine
  export TRITON_INTERPRET=1
  echo "no CUDA: toy sizes, Triton's interpreter"
fi
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
step() {  # a step's name, its time limit in seconds, then its command
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit} s)"
  local start=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee "$out/$name.txt"
  echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s"
}
warm() {  # $1's kernels in fp32 and $2's in bf16, one process each, all at once
  local name pids=()
  for name in $1; do python3 benchmarks/gpu/warm.py "$name" fp32 & pids+=($!); done
  for name in $2; do python3 benchmarks/gpu/warm.py "$name" bf16 & pids+=($!); done
  wait "${pids[@]}"
}
if [ "$part" != 2 ]; then
  step warm 360 bash -c "$(declare -f warm); warm '$every' '$examples'"
  # shellcheck disable=SC2086  # the test selection and sizes are word lists
  step tests 180 python3 -m pytest -q -p no:cacheprovider $tests tests/runtime/test_device_path.py
fi
if [ "$part" != 1 ]; then
  # shellcheck disable=SC2086
  step examples 200 python3 benchmarks/compile_speed.py --no-compile --rows $rows --examples $examples
  # --backend auto's measured choice on a whole domain (its line on stderr; the rows to /dev/null)
  step auto 60 bash -c "python3 -m circ run examples/$whole.circ --all --backend auto > /dev/null"
  step compiled 100 python3 benchmarks/compile_speed.py --rows ${rows%% *}
fi
