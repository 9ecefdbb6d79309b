# `lpsim train` refuses bad configurations with one line naming the problem: status 2 for the
# command line or TOML file (key and line), status 1 for data that cannot be read.
source "$(dirname "$0")/lib/check.bash"
cd "$tmp"

printf 'model = "mlp"\nepochs = 1\nlrr = 0.1\n' > unknown_key.toml
run '' train --config unknown_key.toml
expect_error "unknown TOML key" 2 'unknown_key.toml:3: unknown key "lrr"'

printf 'model = "mlp"\n\nepochs = "one"\n' > bad_type.toml
run '' train --config bad_type.toml
expect_error "TOML value of the wrong type" 2 'bad_type.toml:3: "epochs" must be an integer'

printf '[scheme_options]\nloss_scale = true\n' > bad_option.toml
run '' train --config bad_option.toml
expect_error "TOML scheme option of the wrong type" 2 'bad_option.toml:2: scheme option "loss_scale" must be a string or a number'

printf 'model = "mlp\n' > syntax.toml
run '' train --config syntax.toml
expect_error "TOML syntax error" 2 'syntax.toml:1: '

run '' train --config missing.toml
expect_error "missing TOML file" 2 'missing.toml: no such file'

run '' train --model resnet50
expect_error "unknown model" 2 'unknown model "resnet50" (expected mlp, lenet5, vgg-small or resnet20)'

run '' train --scheme bf16
expect_error "unknown scheme" 2 'unknown scheme "bf16" (expected fp32, fp16-mixed, dfp16, fp8-delayed, mx, wageubn-8 or niti-int8)'

run '' train --loss-scale apex
expect_error "scheme option the scheme lacks" 2 'scheme fp32 has no option "loss_scale" (it takes engine)'

run '' train --scheme fp16-mixed --loss-scale weird
expect_error "unknown loss scaling" 2 'unknown loss scaling "weird"'

run '' train --scheme fp16-mixed --scheme-option loss_scale
expect_error "scheme option without a value" 2 '--scheme-option "loss_scale": expected KEY=VALUE'

run '' train --epochs 0
expect_error "zero epochs" 2 'epochs: 0 (need >= 1)'

run '' train --schedule linear
expect_error "unknown schedule" 2 'schedule: "linear" (expected constant, step or cosine)'

run '' train --data imagenet
expect_error "unknown data set" 2 'data: unknown data set "imagenet"'

run '' train --data mnist
expect_error "data set without its directory" 2 'data: "mnist" needs a directory: mnist:DIR'

run '' train --data "mnist:$tmp/no-such-dir"
expect_error "missing data directory" 1 "$tmp/no-such-dir/train-images-idx3-ubyte"

run '' train --data synthetic --epochs 1 --limit-train 64 --limit-test 64 --trace "$tmp/no-such-dir/run.h5"
expect_error "trace in a missing directory" 1 "$tmp/no-such-dir/run.h5"

finish
