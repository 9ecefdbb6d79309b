# `lpsim sweep --resume` after a real SIGKILL: the sweep is killed once a run has finished and
# another is running; resuming keeps every finished trace untouched (same inode, same mtime to the
# nanosecond), redoes the killed run, and the summary then has every run finished. Without
# --resume, the directory is refused.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"

# Six short runs, two at a time; every other step recorded and flushed, so that the kill lands
# amid trace writes.
cat > kill.toml <<'TOML'
model = "mlp"
data = "synthetic"
epochs = 2
batch = 32
record_every = 2
flush_every = 2
limit_train = 512
limit_test = 256

[axes]
seed = [1, 2, 3, 4, 5, 6]
TOML

"$LPSIM" sweep kill.toml --out out --jobs 2 > first.log 2>&1 &
sweep=$!
finished_lines() { grep -c '^run [0-9]* finished' first.log; }
traces() { find out/runs -name '*.h5' 2>/dev/null | wc -l; }
for ((i = 0; i < 600; ++i)); do
  # At least one run finished, and more traces than finished runs: one is being written.
  finished=$(finished_lines)
  if ((finished >= 1 && $(traces) > finished)) || ! kill -0 "$sweep" 2> /dev/null; then break; fi
  sleep 0.05
done
kill -9 "$sweep"
wait "$sweep" 2> /dev/null
killed_status=$?
((killed_status == 137)) || fail "the sweep was not killed (status $killed_status): it ended first"

mapfile -t kept < <(sed -n 's/^run \([0-9]*\) finished.*/\1/p' first.log)
((${#kept[@]} >= 1 && ${#kept[@]} < 6)) || fail "${#kept[@]} runs finished before the kill"
declare -A before
for id in "${kept[@]}"; do before[$id]=$(stat -c '%i %.9Y' "out/runs/$id.h5"); done

run '' sweep kill.toml --out out --jobs 2
expect_error "an existing sweep without --resume" 2 "out holds the runs of an earlier sweep: pass --resume"

run '' sweep kill.toml --out out --jobs 2 --resume
[[ $status == 0 && -z $err ]] || fail "resume: status $status, stderr: $err"
# Runs that finished after the log was read and before the kill are kept too.
[[ $out =~ resuming:\ ([0-9]+)\ finished\ runs\ kept ]] && ((BASH_REMATCH[1] >= ${#kept[@]})) ||
  fail "resume did not keep the ${#kept[@]} finished runs: $(head -n 1 <<<"$out")"
expect_contains "the killed run is redone" "$out" "; redoing it"
for id in "${kept[@]}"; do
  [[ $(stat -c '%i %.9Y' "out/runs/$id.h5") == "${before[$id]}" ]] || fail "run $id was rewritten"
  [[ $out != *"run $id finished"* ]] || fail "run $id ran again"
done
rows=$(grep -c '^[0-9]\{4\},finished,runs/[0-9]\{4\}\.h5,' out/summary.csv)
((rows == 6)) || fail "summary.csv has $rows finished rows, not 6"
[[ ! -e out/summary.csv.tmp && ! -e out/summary.h5.tmp ]] || fail "a temporary summary was left"

# Resuming a complete sweep runs nothing and rewrites nothing.
stamp=$(stat -c '%.9Y' out/runs/0000.h5)
run '' sweep kill.toml --out out --resume
expect_contains "nothing left to run" "$out" "resuming: 6 finished runs kept"
[[ $out != *" finished ("* ]] || fail "a complete sweep ran runs again"
[[ $(stat -c '%.9Y' out/runs/0000.h5) == "$stamp" ]] || fail "a complete sweep rewrote a trace"

finish
