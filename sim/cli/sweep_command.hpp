// `lpsim sweep`: runs every run of a sweep file (or the built-in papers sweep), writes their
// traces, DIR/summary.csv and DIR/summary.h5, and prints a comparison table (docs/sweeps.md).
#pragma once

namespace CLI {
class App;
}

namespace lpsim {

// Adds the `sweep` subcommand; its callback runs inside app.parse(). It throws cli::UsageError
// (exit status 2) for a bad option or sweep file and for an output directory that holds runs
// without --resume, and cli::DataError (exit status 1) when runs failed.
void add_sweep_command(CLI::App& app);

}  // namespace lpsim
