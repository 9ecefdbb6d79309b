# niti-int8 end to end: a short run on the synthetic set, one-line errors for models and options
# NITI cannot take, and "no floating point in the integer path" checked on the binary itself.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"

run '' train --scheme niti-int8 --model lenet5 --data synthetic --epochs 2 --batch 32 \
  --limit-train 256 --limit-test 128 --trace run.h5 --scheme-option mu_schedule=0:4,1:3
if [[ $status != 0 || -n $err ]]; then
  fail "training run: status $status, stderr: $err"
fi
last=$(printf '%s\n' "$out" | tail -n 1)
[[ $last =~ ^final:\ test_accuracy=[01]\.[0-9]{4}\ .*steps=16\  ]] || fail "final line: '$last'"
expect_contains "progress line without a learning rate" "$out" "step 2/16 epoch 1/2 loss="
[[ -s run.h5 ]] || fail "no trace at run.h5"

run '' train --scheme niti-int8 --model vgg-small --data synthetic --epochs 1
expect_error "a model with batch norm" 2 \
  "niti-int8: model vgg-small has batch norm (bn1), which NITI's integer network does not have"
run '' train --scheme niti-int8 --scheme-option variant=2019
expect_error "an unknown variant" 2 'niti-int8 option variant: "2019" (expected head or 2020)'
run '' train --scheme niti-int8 --scheme-option conv_acc=acc:int32:wrap:flush=256
expect_error "a flushing accumulator" 2 \
  "niti-int8 option conv_acc: \"acc:int32:wrap:flush=256\": flushing to fp32 is Das et al.'s"

# The integer path is the namespace lpsim::schemes::niti (sim/schemes/niti/float_boundary.hpp):
# none of its functions, nor the standard-library code instantiated for it (its thread-pool
# lambdas run inside std::function handlers), may hold an x87 instruction or SSE/AVX arithmetic,
# comparison or conversion on floats (ss, sd, ps, pd). NITI's float steps, in niti_float, must
# show such instructions: proof that the scan sees them.
if ! command -v objdump > /dev/null; then
  fail "objdump (binutils) is needed to check the integer path for floating point"
  finish
fi
objdump -d -C --no-show-raw-insn "$LPSIM" > lpsim.s || fail "objdump -d $LPSIM"
float_ops='^(f[a-z0-9]+|v?(add|sub|mul|div|sqrt|min|max|rcp|rsqrt|round|cmp[a-z]*|u?comi|hadd|hsub|addsub|dp|fn?m(add|sub)[0-9]*)(ss|sd|ps|pd)|v?cvt[a-z0-9]*)$'
scan() {  # scan PATTERN: "function: instruction" for functions whose name matches PATTERN
  awk -v pattern="$1" -v ops="$float_ops" '
    /^[0-9a-f]+ <.*>:$/ { inside = $0 ~ pattern; name = $0; next }
    inside && $2 ~ ops { print substr(name, 1, 160) ": " $2 }' lpsim.s
}
functions=$(grep -cE '^[0-9a-f]+ <lpsim::schemes::niti::' lpsim.s)
((functions > 20)) || fail "only $functions functions of lpsim::schemes::niti in the binary"
integer_path=$(scan '^[0-9a-f]+ <(lpsim::schemes::niti::|std::.*lpsim::schemes::niti::)')
[[ -z $integer_path ]] || fail "floating point in the integer path:"$'\n'"$(head -20 <<< "$integer_path")"
boundary=$(scan '^[0-9a-f]+ <lpsim::schemes::niti_float::float_to_int8')
[[ -n $boundary ]] || fail "the scan finds no floating point in niti_float::float_to_int8"

finish
