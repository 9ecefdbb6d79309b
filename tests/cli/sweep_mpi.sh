# `mpirun -n 2 lpsim sweep`: the runs are shared between the two ranks (run index modulo 2), each
# rank writes its own traces, and rank 0 writes a complete summary and prints the table.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"
command -v mpirun > /dev/null || { echo "FAIL: no mpirun (Debian: openmpi-bin)"; exit 1; }

cat > mpi.toml <<'TOML'
model = "mlp"
data = "synthetic"
epochs = 1
batch = 32
limit_train = 256
limit_test = 128

[axes]
scheme = ["fp32", "fp16-mixed"]
seed = [1, 2]
TOML

out=$(mpirun -n 2 --oversubscribe --allow-run-as-root "$LPSIM" sweep mpi.toml --out out 2>&1)
status=$?
((status == 0)) || fail "mpirun: status $status"
for run in 0 1 2 3; do
  expect_contains "run 000$run on rank $((run % 2))" "$out" "rank $((run % 2)): run 000$run finished"
done
# rank 0 alone prints the table, once.
(($(grep -c '^run *scheme *variant' <<<"$out") == 1)) || fail "the table is not printed once"
expect_contains "table row" "$out" "0003  fp16-mixed"

# The summary's rank column (the traces' sweep.rank) says who ran each run.
ranks=$(awk -F, 'NR > 1 && $2 == "finished" { print $1 ":" $4 }' out/summary.csv | tr '\n' ' ')
[[ $ranks == "0000:0 0001:1 0002:0 0003:1 " ]] || fail "summary rows (run:rank): '$ranks'"
[[ -s out/summary.h5 ]] || fail "no summary.h5"
for run in 0000 0001 0002 0003; do [[ -s out/runs/$run.h5 ]] || fail "no trace of run $run"; done

finish
