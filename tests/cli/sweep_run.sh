# `lpsim sweep`: a short sweep piped (a line per run, the table, summary.csv and summary.h5) and
# on a terminal (one redrawn line), failed runs (exit status 1), bad sweep files and options
# (status 2, nothing run), and --print-papers.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"

run '' sweep --print-papers
expect_out "--print-papers prints sim/sweep/papers.toml" "$(<"$SRC/sim/sweep/papers.toml")"

cat > tiny.toml <<'TOML'
model = "mlp"
data = "synthetic"
epochs = 1
batch = 32
limit_train = 128
limit_test = 64

[axes]
scheme = ["fp32", "fp16-mixed"]
"fp16-mixed.loss_scale" = ["apex", 1024]
TOML

run '' sweep tiny.toml --jobs 2
[[ $status == 0 && -z $err ]] || fail "sweep: status $status, stderr: $err"
expect_contains "header" "$out" "sweep: 3 runs of tiny.toml into sweep-tiny (1 rank x 2 jobs x 1 thread)"
for line in "run 0000 finished (scheme=fp32): test_accuracy=" \
  "run 0002 finished (scheme=fp16-mixed fp16-mixed.loss_scale=1024): test_accuracy="; do
  expect_contains "a line per finished run" "$out" "$line"
done
expect_contains "progress on the run lines" "$out" "runs 3/3 done, 0 running, 0 left, ETA "
table=$(sed -n '/^run  /,$p' <<<"$out")
header_re='^run +scheme +variant +seed +test acc % +vs fp32 +images/s +overflow\+sat\+wrap +flushed to 0$'
fp32_re='^0000 +fp32 +1 +[0-9]+\.[0-9]{2} +\+0\.00 +[0-9]+ +[0-9]+ +[0-9]+$'
fp16_re='^0002 +fp16-mixed +loss_scale=1024 +1 +[0-9.]+ +[-+][0-9]+\.[0-9]{2} +[0-9]+ +[0-9]+ +[0-9]+$'
[[ $(sed -n 1p <<<"$table") =~ $header_re ]] || fail "table header: $(sed -n 1p <<<"$table")"
[[ $(sed -n 2p <<<"$table") =~ $fp32_re ]] || fail "fp32 row: $(sed -n 2p <<<"$table")"
[[ $(sed -n 4p <<<"$table") =~ $fp16_re ]] || fail "fp16-mixed row: $(sed -n 4p <<<"$table")"
expect_contains "summary files" "$out" "summary: sweep-tiny/summary.csv, sweep-tiny/summary.h5"
[[ $out != *$'\r'* ]] || fail "carriage returns in piped output"
header=$(head -n 1 sweep-tiny/summary.csv | tr -d '\r')
expected='run,status,trace,rank,host,scheme,model,data,epochs,*,seed,scheme_option.loss_scale,test_accuracy,*,nan'
[[ $header == $expected ]] || fail "summary.csv header: $header"
(($(grep -c '^000[0-2],finished,runs/000[0-2]\.h5,0,' sweep-tiny/summary.csv) == 3)) ||
  fail "summary.csv rows: $(cat sweep-tiny/summary.csv)"
[[ -s sweep-tiny/summary.h5 && -s sweep-tiny/runs/0002.h5 ]] || fail "summary.h5 or a trace missing"
cmp -s tiny.toml sweep-tiny/sweep.toml || fail "sweep-tiny/sweep.toml is not the sweep file"

# On a terminal: one line redrawn in place, no line per run (util-linux `script` is the terminal).
if command -v script > /dev/null; then
  script -qec "$LPSIM sweep tiny.toml --out tty --jobs 1" tty.log > /dev/null
  tty_out=$(<tty.log)
  expect_contains "redrawn status line" "$tty_out" $'\r\e[Kruns 3/3 done, 0 running, 0 left, ETA '
  [[ $tty_out != *"run 0000 finished"* ]] || fail "lines per run on a terminal"
  expect_contains "table on a terminal" "$tty_out" "summary: tty/summary.csv"
else
  echo "skipped the terminal check: no \`script\` command"
fi

# A run whose trace cannot be written fails; the others finish; exit status 1.
mkdir -p failing/runs/0001.h5/x
run '' sweep tiny.toml --out failing --resume
expect_error "a failed run" 1 "1 of 3 runs failed (see failing/summary.csv)"
expect_contains "the failed run's line" "$out" "run 0001 failed (scheme=fp16-mixed fp16-mixed.loss_scale=apex): "
grep -q '^0001,"\?failed: ' failing/summary.csv || fail "no failed row: $(cat failing/summary.csv)"
expect_contains "failed in the table" "$out" "0001  fp16-mixed  loss_scale=apex     1      failed"

# Bad files and options: status 2, one line, nothing run.
printf 'model = "mlp"\n[axes]\nseed = [1, 2]\n"dfp16.acc" = ["acc:int32:wrap"]\n' > bad.toml
run '' sweep bad.toml
expect_error "scoped axis of a scheme no run has" 2 "bad.toml:4: axes.dfp16.acc: no run has scheme dfp16"
[[ ! -e sweep-bad ]] || fail "a bad sweep file created its directory"
run '' sweep missing.toml
expect_error "missing file" 2 "missing.toml: no such file"
run '' sweep tiny.toml --threads-per-run 0
expect_error "zero threads per run" 2 "--threads-per-run: 0 (need 1..256)"
run '' sweep tiny.toml --jobs -1
expect_error "negative jobs" 2 "--jobs: -1 (need >= 1, or 0 for the default)"

finish
