// lpsim's command line: parses the subcommands with CLI11 and maps failures to exit statuses.
#include <CLI/CLI.hpp>

#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/cli/kernel_commands.hpp"
#include "sim/cli/sweep_command.hpp"
#include "sim/cli/train_command.hpp"

namespace {

constexpr const char* kExitStatus =
    "Exit status: 0 success; 1 bad input data (a bad line, an unreadable .npy) or a failed\n"
    "self-check; 2 bad command line (unknown subcommand, option, format, rounding or overflow).\n"
    "Errors are one line on stderr: `lpsim: error: ...`.";

constexpr const char* kPolicyHelp =
    "Roundings: nearest-even (default), nearest-away, toward-zero, up, down, odd, stochastic,\n"
    "niti-psr (conversions only). Overflow: to-inf (default for floats), to-nan, saturate (default\n"
    "for fixed point and OCP MX), wrap (fixed point only). See docs/semantics.md.";

void add_policy_options(CLI::App& cmd, lpsim::cli::PolicyOptions& o) {
  cmd.add_option("--rounding", o.rounding, "rounding mode")->capture_default_str();
  cmd.add_option("--overflow", o.overflow, "overflow policy (default: the target's)");
  cmd.add_option("--seed", o.seed, "stochastic rounding: Philox key")->capture_default_str();
  cmd.add_option("--random-bits", o.random_bits, "stochastic rounding: random bits r, 1..32")
      ->capture_default_str();
}

int fail(const std::string& message, int status) {
  std::cout.flush();
  std::cerr << "lpsim: error: " << message << '\n';
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lpsim::cli;
  std::ios::sync_with_stdio(false);
  std::cin.tie(nullptr);  // the filters would otherwise flush stdout before every line they read

  CLI::App app{"lpsim: a bit-exact simulator of low-precision training numerics."};
  app.set_version_flag("--version", std::string("lpsim ") + LPSIM_VERSION);
  app.require_subcommand(1);
  app.footer(kExitStatus);

  CLI::App* formats = app.add_subcommand("formats", "Print the float presets: range, precision, special codes.");

  ConvertOptions convert;
  CLI::App* convert_cmd = app.add_subcommand(
      "convert",
      "Filter stdin to stdout: each line's first token, a hex code of --from, becomes\n"
      "`INPUT OUTPUT FLAGS` (Berkeley TestFloat's format; FLAGS: 1 inexact, 2 underflow,\n"
      "4 overflow, 8 infinite, 16 invalid, in hex). Codes have exactly ceil(bits/4) hex digits;\n"
      "later tokens and blank lines are ignored; data line k is element k for stochastic rounding.");
  convert_cmd->add_option("--from", convert.from, "source format (float or fixed point)")->required();
  convert_cmd->add_option("--to", convert.to, "target format (float or fixed point)")->required();
  add_policy_options(*convert_cmd, convert.policy);
  convert_cmd->footer(kPolicyHelp);

  ArithOptions arith;
  CLI::App* arith_cmd = app.add_subcommand(
      "arith",
      "Filter stdin to stdout: lines of 1-3 hex operands of --format become `A [B [C]] RESULT FLAGS`\n"
      "(fma: A*B+C, rounded once).");
  arith_cmd->add_option("--format", arith.format, "float format of operands and result")->required();
  arith_cmd->add_option("--op", arith.op, "add, sub, mul, div, fma or sqrt")->required();
  add_policy_options(*arith_cmd, arith.policy);
  arith_cmd->footer(kPolicyHelp);

  QuantizeOptions quantize;
  CLI::App* quantize_cmd = app.add_subcommand(
      "quantize",
      "Quantize a float32/float64 .npy array to --format and write the dequantized values (same\n"
      "dtype) or, with --codes, the codes (uint8/16/32/64). Block formats (dfp16, mxfp8, ...) need\n"
      "float32 input, treat it as rows x cols (cols = last dimension) and, with --codes, write the\n"
      "shared exponents (int32; 1073741824 marks an MX NaN scale) to OUT.exponents.npy.\n"
      "Prints one line `counts: ...` to stdout.");
  quantize_cmd->add_option("--format", quantize.format, "target format, scalar or block")->required();
  quantize_cmd->add_flag("--codes", quantize.codes, "write codes instead of dequantized values");
  add_policy_options(*quantize_cmd, quantize.policy);
  quantize_cmd->add_option("IN", quantize.input, "input .npy (float32 or float64)")->required();
  quantize_cmd->add_option("OUT", quantize.output, "output .npy")->required();
  quantize_cmd->footer(kPolicyHelp);

  CLI::App* demo = app.add_subcommand(
      "demo", "Print the formats table, then check the vectorised conversions against scalar encode().");

  lpsim::add_kernel_commands(app);  // their callbacks run inside app.parse()
  lpsim::add_train_command(app);
  lpsim::add_sweep_command(app);

  try {
    app.parse(argc, argv);
    if (*formats) run_formats(std::cout);
    if (*convert_cmd) run_convert(convert, std::cin, std::cout);
    if (*arith_cmd) run_arith(arith, std::cin, std::cout);
    if (*quantize_cmd) run_quantize(quantize, std::cout);
    if (*demo) run_demo(std::cout);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(std::string(e.what()) + " (see lpsim --help)", 2);
  } catch (const UsageError& e) {
    return fail(e.what(), 2);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
  std::cout.flush();
  return std::cout ? 0 : fail("cannot write the output", 1);
}
