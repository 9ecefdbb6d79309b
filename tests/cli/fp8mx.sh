# `lpsim train --scheme fp8-delayed` and `--scheme mx`: short synthetic runs learn, their traces
# hold the scheme's options, per-layer choices and per-tensor columns (FP8 amax and scale, MX block
# exponents), and bad options are one-line errors.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"
py=/usr/bin/python3

for scheme in fp8-delayed mx; do
  run '' train --scheme "$scheme" --model mlp --data synthetic --epochs 2 --batch 32 \
    --limit-train 256 --limit-test 128 --record-every 2 --trace "$scheme.h5"
  if [[ $status != 0 || -n $err ]]; then
    fail "$scheme run: status $status, stderr: $err"
    continue
  fi
  last=$(printf '%s\n' "$out" | tail -n 1)
  accuracy=${last#final: test_accuracy=}
  accuracy=${accuracy%% *}
  awk -v a="$accuracy" 'BEGIN { exit !(a > 0.5) }' || fail "$scheme did not learn: '$last'"
done

$py - <<'PY' || fail "trace contents"
import h5py
fp8 = h5py.File("fp8-delayed.h5", "r")
config = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in fp8["config"].attrs.items()}
assert config["scheme_option.format"] == "hybrid", config
assert config["scheme_option.history"] == "1024", config
assert config["scheme.fc2.E"].startswith("fp8-delayed:e5m2:"), config["scheme.fc2.E"]
assert config["scheme.fc2.W.backward"] == config["scheme.fc2.W"], config
scale = fp8["tensors/fc2/A/fp8_scale"][:]
assert scale[0] == 1 and all(s != 1 for s in scale[1:]), scale
mx = h5py.File("mx.h5", "r")
config = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in mx["config"].attrs.items()}
assert config["scheme_option.element"] == "mxfp8-e4m3", config
assert config["scheme.fc2.W.backward"].endswith(":along=dim0"), config
assert config["scheme.fc2.engine"] == "mx-weight-grad-dim0(fp32-onednn)", config
low, high = mx["tensors/fc1/A/mx_min_exponent"][:], mx["tensors/fc1/A/shared_exponent"][:]
assert len(low) > 0 and all(l <= h for l, h in zip(low, high)), (low, high)
PY

run '' train --scheme fp8-delayed --scheme-option algo=mean
expect_error "unknown amax algorithm" 2 'fp8-delayed option algo: "mean" (expected max or most_recent)'
run '' train --scheme mx --scheme-option element=mxfp16
expect_error "unknown MX element" 2 'mx option element: "mxfp16" (expected mxint8, mxfp8-e4m3'
run '' train --scheme mx --scheme-option history=16
expect_error "an fp8-delayed option given to mx" 2 'scheme mx has no option "history"'

finish
