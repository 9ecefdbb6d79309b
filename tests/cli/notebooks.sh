# The notebooks run headless (jupyter nbconvert --execute) on fresh outputs: exponent_drift on a finished
# trace and on a killed run's trace, sweep_summary on a small `lpsim sweep`. A cell that raises fails the
# test; each executed notebook must hold an image and the text that shows it read the data.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"

# Debian's interpreter owns python3-nbconvert, -ipykernel, -h5py, ...: the python3 first on PATH may be
# another one.
python=/usr/bin/python3
if ! "$python" -c "import nbconvert, ipykernel, h5py, pandas, matplotlib" 2> /dev/null; then
  fail "$python lacks nbconvert, ipykernel, h5py, pandas or matplotlib (setup.sh installs them)"
  finish
fi

# Jupyter, IPython and matplotlib keep their state in the scratch directory, not in $HOME; the kernel is
# Debian's interpreter whatever kernels the user has installed.
export JUPYTER_CONFIG_DIR=$tmp/jupyter/config JUPYTER_DATA_DIR=$tmp/jupyter/data
export JUPYTER_RUNTIME_DIR=$tmp/jupyter/runtime JUPYTER_PATH=$tmp/jupyter/path
export IPYTHONDIR=$tmp/ipython MPLCONFIGDIR=$tmp/matplotlib
export PYDEVD_DISABLE_FILE_VALIDATION=1 # silences the kernel's debugger warning on stderr
mkdir -p "$JUPYTER_PATH/kernels/lpsim-python3"
cat > "$JUPYTER_PATH/kernels/lpsim-python3/kernel.json" << JSON
{"argv": ["$python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
 "display_name": "Python 3 (Debian)", "language": "python"}
JSON

# The repository keeps the notebooks without outputs (small, clean diffs).
stored=$("$python" - "$SRC"/notebooks/*.ipynb << 'PY'
import json, sys
for path in sys.argv[1:]:
    cells = [c for c in json.load(open(path))["cells"] if c["cell_type"] == "code"]
    if any(c["outputs"] or c["execution_count"] is not None for c in cells):
        print(path)
PY
)
[[ -z $stored ]] || fail "notebooks committed with outputs or execution counts (clear them): $stored"

# execute NOTEBOOK OUTPUT [VAR=VALUE...]: runs notebooks/NOTEBOOK with the variables set into
# executed/OUTPUT.ipynb; sets $outputs to its text outputs and checks it holds an image. Fails (status 1)
# when a cell raised.
execute() {
  local notebook=$1 output=$2
  shift 2
  outputs=
  if ! env "$@" "$python" -m nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=lpsim-python3 --ExecutePreprocessor.timeout=300 \
    --output-dir "$tmp/executed" --output "$output" "$SRC/notebooks/$notebook" 2> nbconvert.err; then
    fail "$notebook on $output: a cell raised; nbconvert's last line:"
    sed 's/\x1b\[[0-9;]*m//g' nbconvert.err | grep -v '^ *$' | tail -n 1 | sed 's/^/  /'
    return 1
  fi
  outputs=$("$python" - "$tmp/executed/$output.ipynb" << 'PY'
import json, sys
images = 0
for cell in json.load(open(sys.argv[1]))["cells"]:
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        images += "image/png" in data
        print("".join(output.get("text", "")) + "".join(data.get("text/plain", "")))
print(f"images: {images}")
PY
  )
  [[ $outputs =~ images:\ [1-9] ]] || fail "$notebook on $output: no image in the executed notebook"
}

# A finished trace of a shared-exponent scheme.
run '' train --model mlp --data synthetic --scheme dfp16 --epochs 2 --batch 32 --limit-train 256 \
  --limit-test 128 --record-every 1 --trace finished.h5
if [[ $status != 0 ]]; then
  fail "training run: status $status, stderr: $err"
elif execute exponent_drift.ipynb finished LPSIM_TRACE="$tmp/finished.h5"; then
  expect_contains "finished trace" "$outputs" "scheme dfp16, 16 committed steps"
  expect_contains "finished trace" "$outputs" "finished 20"
  expect_contains "finished trace: table of formats" "$outputs" "dfp16:nearest-even"
fi

# A run killed (SIGKILL) after its second epoch: flushed every 4 steps, so at least 16 steps survive.
"$LPSIM" train --model mlp --data synthetic --scheme fp16-mixed --epochs 1000 --batch 32 --limit-train 256 \
  --limit-test 128 --record-every 1 --flush-every 4 --trace killed.h5 > killed.log 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do
  grep -qs '^epoch 2/' killed.log && break  # -s: the background shell may not have created it yet
  sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2> /dev/null
if ! grep -q '^epoch 2/' killed.log; then
  fail "the run to kill did not reach its second epoch in 30 s: $(tail -n 3 killed.log)"
elif execute exponent_drift.ipynb killed LPSIM_TRACE="$tmp/killed.h5"; then
  expect_contains "killed trace" "$outputs" "NOT FINISHED"
  [[ $outputs =~ scheme\ fp16-mixed,\ ([0-9]+)\ committed\ steps && ${BASH_REMATCH[1]} -ge 16 ]] ||
    fail "killed trace: expected at least 16 committed steps"
fi

# A sweep: fp32 and dfp16 under two roundings, two seeds.
cat > sweep.toml << 'TOML'
model = "mlp"
data = "synthetic"
epochs = 1
batch = 32
limit_train = 256
limit_test = 128

[axes]
scheme = ["fp32", "dfp16"]
"dfp16.rounding" = ["nearest-even", "stochastic"]
seed = [1, 2]
TOML
run '' sweep sweep.toml --out sweep
if [[ $status != 0 || ! -s sweep/summary.h5 ]]; then
  fail "sweep: status $status, stderr: $err"
elif execute sweep_summary.ipynb sweep LPSIM_SWEEP_DIR="$tmp/sweep"; then
  expect_contains "sweep" "$outputs" "6 runs, 6 finished; axes: scheme, scheme_option.rounding; replicates: seed"
  expect_contains "sweep: heat map" "$outputs" "test accuracy (%): scheme × scheme_option.rounding"
  expect_contains "sweep: difference from fp32" "$outputs" "test accuracy − fp32 (percentage points)"
fi

finish
