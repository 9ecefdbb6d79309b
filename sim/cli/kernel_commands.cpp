// `lpsim verify`: every kernel of the registry against reference/gemm, bit for bit, as a table
// with a replay command per failure. `lpsim gemm`: one GEMM of .npy operands.
#include "sim/cli/kernel_commands.hpp"

#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "fast/registry.hpp"
#include "fast/verify.hpp"
#include "sim/cli/commands.hpp"
#include "sim/io/npy.hpp"

namespace lpsim {

namespace {

using cli::DataError;
using cli::UsageError;
using fast::Verdict;

struct VerifyOptions {
  std::string kernel, isa, op = "gemm", shape, fill = "small", acc;
  bool quick = false, full = false;
  std::uint64_t seed = 1;
  int scale_exp = 0;
};

std::optional<Isa> isa_option(const std::string& name) {
  if (name.empty()) {
    try {
      return fast::requested_isa();
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  Isa isa;
  if (!parse_isa(name, isa))
    throw UsageError("--isa " + name + ": expected scalar, avx2 or avx512");
  return isa;
}

AccumulatorSpec accumulator_option(const std::string& text, const fast::Kernel& kernel) {
  if (text.empty()) return kernel.acc;
  AccumulatorSpec acc;
  try {
    acc = parse_accumulator(text);
  } catch (const SyntaxError& e) {
    throw UsageError(std::string("--acc: ") + e.what());
  }
  if (!kernel.accepts(acc))
    throw UsageError("--acc " + text + ": " + std::string(kernel.name) + " implements " +
                     to_string(kernel.acc) + (kernel.acc.flush_every ? " (any even flush=K)" : ""));
  return acc;
}

const fast::Kernel& kernel_option(const std::string& name) {
  const fast::Kernel* kernel = fast::find_kernel(name);
  if (!kernel) {
    std::string message = "--kernel " + name + ": unknown; kernels:";
    for (const fast::Kernel& k : fast::kernels()) message.append(" ").append(k.name);
    throw UsageError(message);
  }
  return *kernel;
}

// The one case that --shape describes (a replay), with the other options.
fast::VerifyCase single_case(const VerifyOptions& o) {
  if (o.kernel.empty()) throw UsageError("--shape needs --kernel");
  const fast::Kernel& kernel = kernel_option(o.kernel);
  fast::VerifyCase c;
  c.kernel = kernel.name;
  c.acc = accumulator_option(o.acc, kernel);
  c.seed = o.seed;
  c.scale_exp = o.scale_exp;
  const auto op = fast::parse_operation(o.op);
  const auto fill = fast::parse_fill(o.fill);
  if (!op)
    throw UsageError("--op " + o.op + ": expected gemm, conv-fwd, conv-bwd-data or conv-wgrad");
  if (!fill) throw UsageError("--fill " + o.fill + ": expected small, full, min or extreme");
  c.op = *op;
  c.fill = *fill;
  try {
    if (c.op == fast::Operation::gemm) {
      char x1 = 0, x2 = 0;
      std::istringstream in(o.shape);
      if (!(in >> c.m >> x1 >> c.n >> x2 >> c.k) || x1 != 'x' || x2 != 'x' || !in.eof() ||
          c.m < 1 || c.n < 1 || c.k < 1)
        throw std::invalid_argument("expected MxNxK, e.g. 7x17x301");
    } else {
      c.conv = parse_conv2d_shape(o.shape);
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError("--shape " + o.shape + ": " + e.what());
  }
  return c;
}

std::vector<fast::VerifyCase> selected_cases(const VerifyOptions& o) {
  if (o.quick && o.full) throw UsageError("--quick and --full exclude each other");
  if (!o.shape.empty()) return {single_case(o)};
  fast::CaseSelection selection;
  if (!o.kernel.empty()) selection.kernel = std::string(kernel_option(o.kernel).name);
  selection.isa = isa_option(o.isa);
  selection.full = o.full;
  return fast::standard_cases(selection);
}

// Column widths of the verify table: the longest kernel name and accumulator text fit with a space.
constexpr int kKernelWidth = 33, kAccWidth = 40;
constexpr int kCaseWidth = 14 + 22 + 8 + 5 + kAccWidth;  // op, shape, fill, seed, accumulator

void run_verify(const VerifyOptions& o) {
  const std::vector<fast::VerifyCase> cases = selected_cases(o);
  std::ostream& out = std::cout;
  out << std::left << std::setw(kKernelWidth) << "kernel" << std::setw(14) << "op" << std::setw(22)
      << "shape" << std::setw(8) << "fill" << std::setw(5) << "seed" << std::setw(kAccWidth)
      << "accumulator"
      << std::setw(10) << "result" << std::right << std::setw(7) << "wraps" << std::setw(7)
      << "sats"
      << "  detail\n";
  fast::Verifier verifier;
  std::map<Verdict, std::size_t> counts;
  std::map<std::string, std::size_t> skipped;  // cases per kernel: reported once per kernel
  for (const fast::VerifyCase& c : cases) {
    fast::VerifyResult r;
    try {
      r = verifier.run(c);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    ++counts[r.verdict];
    if (r.verdict == Verdict::skipped) {
      if (skipped[c.kernel]++ == 0)
        out << std::left << std::setw(kKernelWidth) << c.kernel << std::setw(kCaseWidth)
            << "(every case)"
            << "SKIPPED   " << r.detail << '\n';
      continue;
    }
    out << std::left << std::setw(kKernelWidth) << c.kernel << std::setw(14)
        << fast::to_string(c.op) << std::setw(22) << fast::shape_text(c) << std::setw(8)
        << fast::to_string(c.fill) << std::setw(5) << c.seed << std::setw(kAccWidth)
        << to_string(c.acc) << std::setw(10)
        << fast::to_string(r.verdict) << std::right << std::setw(7) << r.wraps << std::setw(7)
        << r.saturations;
    if (r.verdict != Verdict::pass)
      out << "  " << r.detail << "\n    replay: " << fast::repro_command(c);
    out << '\n';
  }
  out << "verify: " << cases.size() << " cases: " << counts[Verdict::pass] << " PASS, "
      << counts[Verdict::fail] << " FAIL, " << counts[Verdict::untrusted] << " UNTRUSTED, "
      << counts[Verdict::skipped] << " SKIPPED\n";
  if (counts[Verdict::fail] || counts[Verdict::untrusted])
    throw DataError("verify: " + std::to_string(counts[Verdict::fail]) + " failed and " +
                    std::to_string(counts[Verdict::untrusted]) + " untrusted cases");
}

struct GemmOptions {
  std::string kernel, isa, acc, a, b, out;
  int scale_exp = 0;
};

template <class T>
npy::Array run_gemm_typed(const fast::Kernel& kernel, const AccumulatorSpec& acc, int scale_exp,
                          const npy::Array& a, const npy::Array& b) {
  const int m = int(a.shape[0]), k = int(a.shape[1]), n = int(b.shape[1]);
  const std::vector<T> av = a.values<T>(), bv = b.values<T>();
  const std::size_t outputs = std::size_t(m) * n;
  std::vector<std::int32_t> c(acc.flush_every ? 0 : outputs);
  std::vector<float> c_fp32(acc.flush_every ? outputs : 0);
  kernel.run(fast::contiguous_gemm(kernel.input, m, n, k, av.data(), bv.data(), c.data(),
                                   c_fp32.data(), acc, scale_exp));
  const std::vector<std::size_t> shape{std::size_t(m), std::size_t(n)};
  return acc.flush_every ? npy::Array::of<float>(c_fp32, shape)
                         : npy::Array::of<std::int32_t>(c, shape);
}

void run_gemm(const GemmOptions& o) {
  const npy::Array a = npy::read(o.a), b = npy::read(o.b);
  if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[1] != b.shape[0])
    throw DataError("gemm: A must be M x K and B K x N (2-D arrays), got " + o.a + " and " + o.b);
  if (a.dtype != b.dtype || (a.dtype != npy::DType::i16 && a.dtype != npy::DType::i8))
    throw DataError("gemm: A and B must both be int16 or both int8");
  const auto input =
      a.dtype == npy::DType::i16 ? fast::ElementType::int16 : fast::ElementType::int8;
  const fast::Kernel* kernel = nullptr;
  AccumulatorSpec acc;
  if (!o.kernel.empty()) {
    kernel = &kernel_option(o.kernel);
    if (!o.isa.empty()) throw UsageError("--isa and --kernel exclude each other");
    acc = accumulator_option(o.acc, *kernel);
  } else {
    if (o.acc.empty()) throw UsageError("gemm: give --kernel or --acc");
    try {
      acc = parse_accumulator(o.acc);
      kernel = &fast::select_kernel(input, acc, isa_option(o.isa));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (kernel->input != input)
    throw DataError("gemm: " + std::string(kernel->name) + " takes " +
                    std::string(fast::to_string(kernel->input)) + " operands");
  if (!kernel->available())
    throw UsageError(std::string(kernel->name) + ": " + kernel->why_unavailable());
  const npy::Array c = input == fast::ElementType::int16
                           ? run_gemm_typed<std::int16_t>(*kernel, acc, o.scale_exp, a, b)
                           : run_gemm_typed<std::int8_t>(*kernel, acc, o.scale_exp, a, b);
  npy::write(o.out, c);
  std::cout << kernel->name << " " << to_string(acc) << ": " << a.shape[0] << "x" << b.shape[1]
            << "x" << a.shape[1] << " -> " << o.out << '\n';
}

}  // namespace

void add_kernel_commands(CLI::App& app) {
  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* v = app.add_subcommand(
      "verify",
      "Check the fast kernels bit for bit against the reference (reference/gemm.hpp): shapes that\n"
      "straddle each kernel's tiles and blocks, fills small (every sum exact), full, min, "
      "extreme.\n"
      "A case with under 10% nonzero expected outputs is UNTRUSTED. Kernels whose instruction set\n"
      "this CPU lacks are SKIPPED. Exit status 1 if any case FAILs or is UNTRUSTED.");
  v->add_option("--kernel", verify->kernel, "only this kernel (e.g. int16-gemm-avx2-wrap)");
  v->add_option("--isa", verify->isa,
                "only kernels of this path: scalar, avx2, avx512 (default: LPSIM_ISA)");
  v->add_flag("--quick", verify->quick, "the tile edges once (default)");
  v->add_flag("--full", verify->full, "more shapes, block edges and seeds");
  v->add_option("--op", verify->op, "replay: gemm, conv-fwd, conv-bwd-data, conv-wgrad")
      ->capture_default_str();
  v->add_option("--shape", verify->shape,
                "replay one case: MxNxK, or NxCxHxW:KxRxS:sS:pP for convolutions");
  v->add_option("--fill", verify->fill, "replay: small, full, min or extreme")
      ->capture_default_str();
  v->add_option("--seed", verify->seed, "replay: fill seed")->capture_default_str();
  v->add_option("--acc", verify->acc, "replay: accumulator (default: the kernel's)");
  v->add_option("--scale-exp", verify->scale_exp, "replay: flushed chains scaled by 2^E")
      ->capture_default_str();
  v->callback([verify] { run_verify(*verify); });

  auto gemm = std::make_shared<GemmOptions>();
  CLI::App* g = app.add_subcommand(
      "gemm",
      "C = A B with a fast kernel: A (M x K) and B (K x N) int16 or int8 .npy arrays; C int32, or\n"
      "float32 under a flushing accumulator (Das et al.'s chains, each scaled by 2^scale-exp).\n"
      "Prints the kernel used.");
  g->add_option("--kernel", gemm->kernel, "kernel name (default: the best for --acc on this CPU)");
  g->add_option("--acc", gemm->acc,
                "accumulator, e.g. acc:int32:wrap, acc:int32:sat:group=2:flush=256");
  g->add_option("--isa", gemm->isa,
                "without --kernel: scalar, avx2 or avx512 (default: LPSIM_ISA or best)");
  g->add_option("--scale-exp", gemm->scale_exp, "flushed chains are scaled by 2^E")
      ->capture_default_str();
  g->add_option("A", gemm->a, "A.npy")->required();
  g->add_option("B", gemm->b, "B.npy")->required();
  g->add_option("OUT", gemm->out, "OUT.npy")->required();
  g->callback([gemm] { run_gemm(*gemm); });
}

}  // namespace lpsim
