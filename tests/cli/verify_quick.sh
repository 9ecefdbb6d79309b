# lpsim verify --quick: every kernel this machine can run passes bit for bit and is trusted; the
# kernels of a missing instruction set or without a CUDA device are SKIPPED with the reason,
# never run. The CUDA emulations run everywhere.
source "$(dirname "$0")/lib/check.bash"

run "" verify --quick
summary=$(tail -n 1 <<<"$out")
echo "$summary"
[[ $status == 0 && $summary =~ ([0-9]+)\ PASS,\ 0\ FAIL,\ 0\ UNTRUSTED ]] || fail "verify --quick: $summary"
((${BASH_REMATCH[1]:-0} >= 300)) || fail "only ${BASH_REMATCH[1]:-0} cases passed"
while read -r line; do
  [[ $line == *"CPU lacks "* || $line == *"CUDA"* ]] || fail "a skip without its reason: $line"
done < <(grep SKIPPED <<<"$out" | grep -v '^verify:')
for kernel in cuda-int8-mma-sat-emulated cuda-int8-mma-sat-niti-emulated cuda-int8-dp4a-sat-niti-emulated; do
  grep -q "^$kernel .* PASS" <<<"$out" || fail "the CUDA emulation $kernel was not verified"
done
finish
