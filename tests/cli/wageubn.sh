# `lpsim train --scheme wageubn-8`: a short run on the synthetic set records the scheme's plans,
# options and columns in its trace; bad scheme options are one-line errors.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"

run '' train --scheme wageubn-8 --model vgg-small --data synthetic:3x8x8 --epochs 2 --batch 32 \
  --limit-train 64 --limit-test 32 --record-every 1 --scheme-option last_layer=quantized \
  --trace run.h5
if [[ $status != 0 || -n $err ]]; then
  fail "training run: status $status, stderr: $err"
fi
expect_contains "final line" "$out" "final: test_accuracy="
expect_contains "header" "$out" "scheme wageubn-8, 2 epochs of batch 32"

py=/usr/bin/python3
if "$py" -c "import h5py" 2> /dev/null; then
  trace_out=$("$py" - run.h5 << 'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
c = f["config"].attrs
for key in ["scheme", "scheme.conv1.W", "scheme.conv2.W", "scheme.fc2.E", "scheme.relu1.E",
            "scheme.bn1.G", "scheme_option.last_layer", "scheme_option.g_scale"]:
    print(key, c[key])
t = f["tensors"]
print("g_scale", list(t["conv2/G"]["g_scale"][()]))
print("r_exponent", t["relu1/E"]["r_exponent"].dtype)
print("lr_q", t["fc2/U"]["lr_q"][0] * 512)
print("sigma_q", t["bn1/BN.std"]["q_min"][0] >= 2 ** -15)
PY
  )
  expected="scheme wageubn-8
scheme.conv1.W fp32
scheme.conv2.W wageubn-fw:clip(Q(x,8),8)
scheme.fc2.E wageubn-fe2:flag(8+1)
scheme.relu1.E wageubn-fe1:R*clamp(Q(x/R,8),-1,1)
scheme.bn1.G wageubn-fgBN:Q(x,15)
scheme_option.last_layer quantized
scheme_option.g_scale schedule
g_scale [128.0, 128.0, 128.0, 32.0]
r_exponent int64
lr_q 26.0
sigma_q True"
  [[ $trace_out == "$expected" ]] || {
    fail "trace contents"
    diff <(echo "$expected") <(echo "$trace_out") | sed 's/^/  /'
  }
else
  echo "skipped the trace check: $py lacks h5py"
fi

run '' train --scheme wageubn-8 --scheme-option bits_w=40
expect_error "width out of range" 2 'wageubn-8 option bits_w: "40" is not a width 2..32 (32: full precision)'

run '' train --scheme wageubn-8 --scheme-option g_scale=big
expect_error "bad g_scale" 2 'wageubn-8 option g_scale: "big" is not schedule or a number in (1, 2^24]'

run '' train --scheme wageubn-8 --scheme-option momentum_bits=13
expect_error "unknown option" 2 'scheme wageubn-8 has no option "momentum_bits"'

finish
