#include "formats/syntax.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <vector>

// Grammar (tokens separated by ':'; options in any order, each at most once):
//   float   PRESET | eXmY, then :ieee|:fn|:fnuz|:finite  :bias=N  :gradual|:flush|:nosub
//           :signed|:unsigned. The options override fields of the base: the preset when eXmY (or
//           PRESET) names one (e4m3 is OCP fn, bias 7), else FloatFormat::ieee_like. The bias is
//           never derived from the other options: e4m3:fnuz keeps bias 7 (e4m3fnuz has bias 8).
//   fixed   intN | uintN | qI.F | uqI.F, then :sym
//   block   dfpN                  int N elements, das rule, shift 2, one exponent per tensor
//           mxfp8 | mxfp6 | mxfp4 [:ELEMENT]   OCP MX: e4m3 | e3m2 | e2m1 (or any float ELEMENT of
//                                 that width), mx rule, blocks of 32
//           mxint8                q1.6 elements, mx rule, blocks of 32
//           block:ELEMENT:RULE    any scalar element, RULE das|niti|wageubn|mx, per tensor
//           then :shift=A (das only)  :tensor|:row|:block=N
//   acc     acc:exact | acc:intN:wrap|sat[:group=G][:flush=K][:fp32-epilogue]
// to_string prints the canonical text: a preset name where there is one, else the shortest form
// above, with only the options that differ from the base. Fields a value ignores (add_shift
// outside das, block_size outside block scope, an exact accumulator's width) are not printed, so
// parse(to_string(x)) == x whenever those hold their defaults.

namespace lpsim {

namespace {

constexpr std::string_view kFormatKinds =
    "a preset, eXmY, intN, uintN, qI.F, uqI.F, dfpN, mxfp8, mxfp6, mxfp4, mxint8 or block:ELEMENT:RULE";

[[noreturn]] void fail(std::string_view what, std::string_view text, std::string_view reason) {
  throw SyntaxError("bad " + std::string(what) + " \"" + std::string(text) + "\": " +
                    std::string(reason));
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> tokens;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    tokens.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) return tokens;
    start = colon + 1;
  }
}

// Appends ":token" (appending, not "literal" + string, which GCC 12 -Wrestrict flags falsely).
void add_option(std::string& text, std::string_view token) {
  text += ':';
  text += token;
}

void add_token(std::string& text, char separator, int number) {
  text += separator;
  text += std::to_string(number);
}

std::string join(std::span<const std::string_view> tokens) {
  std::string text;
  for (std::string_view t : tokens) {
    if (!text.empty()) text += ':';
    text += t;
  }
  return text;
}

// A whole token as a decimal integer (optional '-'), bounded so that sums of bit counts cannot
// overflow; bad digits and huge values both give nullopt.
std::optional<int> parse_number(std::string_view s) {
  int value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value < -100000 ||
      value > 100000)
    return std::nullopt;
  return value;
}

// "key=N" -> N. nullopt when the token is not this key; a SyntaxError when the number is bad.
std::optional<int> keyed_number(std::string_view token, std::string_view key, std::string_view what,
                                std::string_view text) {
  if (!token.starts_with(key) || token.size() == key.size() || token[key.size()] != '=')
    return std::nullopt;
  const std::optional<int> n = parse_number(token.substr(key.size() + 1));
  if (!n) fail(what, text, "\"" + std::string(token) + "\" needs an integer after '='");
  return n;
}

// Records that an option of `category` was given; a second one is an error.
void once(bool& seen, std::string_view category, std::string_view what, std::string_view text) {
  if (seen) fail(what, text, std::string(category) + " given twice");
  seen = true;
}

// A whole token of decimal digits (a bit count in a name: e4m3, int8, q1.6), else nullopt.
std::optional<int> parse_count(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return parse_number(s);
}

// "<prefix>N" -> N, else nullopt.
std::optional<int> prefixed_number(std::string_view token, std::string_view prefix) {
  if (!token.starts_with(prefix)) return std::nullopt;
  return parse_count(token.substr(prefix.size()));
}

// ---- floats -------------------------------------------------------------------------------------

constexpr std::array<std::pair<std::string_view, Specials>, 4> kSpecials = {{
    {"ieee", Specials::ieee}, {"fn", Specials::fn}, {"fnuz", Specials::fnuz}, {"finite", Specials::finite}}};
constexpr std::array<std::pair<std::string_view, Subnormals>, 3> kSubnormals = {{
    {"gradual", Subnormals::gradual}, {"flush", Subnormals::flush}, {"nosub", Subnormals::none}}};

std::string_view specials_name(Specials s) {
  for (const auto& [name, value] : kSpecials)
    if (value == s) return name;
  return "?";
}

std::string_view subnormals_name(Subnormals s) {
  for (const auto& [name, value] : kSubnormals)
    if (value == s) return name;
  return "?";
}

std::string float_base_name(int exp_bits, int man_bits) {
  std::string name = "e";
  name += std::to_string(exp_bits);
  add_token(name, 'm', man_bits);
  return name;
}

// The format `eXmY` means before options: its preset, or IEEE-like. Out-of-range widths keep
// bias 0 so that validate() names the width.
FloatFormat default_float(int exp_bits, int man_bits) {
  if (auto preset = find_float_preset(float_base_name(exp_bits, man_bits))) return *preset;
  if (exp_bits >= 1 && exp_bits <= 11) return FloatFormat::ieee_like(exp_bits, man_bits);
  return {exp_bits, man_bits, 0, true, Subnormals::gradual, Specials::ieee};
}

// The float a head token names, or nullopt when it is no float name.
std::optional<FloatFormat> float_head(std::string_view head) {
  if (head == "e4m3fn") return find_float_preset("e4m3");  // the OCP / ml_dtypes spelling
  if (auto preset = find_float_preset(head)) return preset;
  const std::size_t m = head.find('m');
  if (!head.starts_with('e') || m == std::string_view::npos) return std::nullopt;
  const std::optional<int> e = parse_count(head.substr(1, m - 1));
  const std::optional<int> man = parse_count(head.substr(m + 1));
  if (!e || !man) return std::nullopt;
  return default_float(*e, *man);
}

FloatFormat apply_float_options(FloatFormat f, std::span<const std::string_view> options,
                                std::string_view text) {
  bool seen_specials = false, seen_bias = false, seen_subnormals = false, seen_sign = false;
  for (std::string_view opt : options) {
    bool matched = false;
    for (const auto& [name, value] : kSpecials)
      if (opt == name) {
        once(seen_specials, "encoding", "format", text);
        f.specials = value;
        matched = true;
      }
    for (const auto& [name, value] : kSubnormals)
      if (opt == name) {
        once(seen_subnormals, "subnormal handling", "format", text);
        f.subnormals = value;
        matched = true;
      }
    if (opt == "signed" || opt == "unsigned") {
      once(seen_sign, "signedness", "format", text);
      f.is_signed = opt == "signed";
      matched = true;
    }
    if (const auto bias = keyed_number(opt, "bias", "format", text)) {
      once(seen_bias, "bias", "format", text);
      f.bias = *bias;
      matched = true;
    }
    if (!matched)
      fail("format", text,
           "unknown float option \"" + std::string(opt) +
               "\" (expected ieee, fn, fnuz, finite, bias=N, gradual, flush, nosub, signed or unsigned)");
  }
  return f;
}

// ---- fixed point --------------------------------------------------------------------------------

std::optional<FixedFormat> fixed_head(std::string_view head) {
  if (auto n = prefixed_number(head, "int")) return FixedFormat::integer(*n, true);
  if (auto n = prefixed_number(head, "uint")) return FixedFormat::integer(*n, false);
  const bool is_unsigned = head.starts_with("uq");
  if (!is_unsigned && !head.starts_with("q")) return std::nullopt;
  const std::string_view digits = head.substr(is_unsigned ? 2 : 1);
  const std::size_t dot = digits.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::optional<int> int_bits = parse_count(digits.substr(0, dot));
  const std::optional<int> frac_bits = parse_count(digits.substr(dot + 1));
  if (!int_bits || !frac_bits) return std::nullopt;
  return FixedFormat{*int_bits, *frac_bits, !is_unsigned, false};
}

FixedFormat apply_fixed_options(FixedFormat f, std::span<const std::string_view> options,
                                std::string_view text) {
  bool seen_sym = false;
  for (std::string_view opt : options) {
    if (opt != "sym") fail("format", text, "unknown fixed-point option \"" + std::string(opt) + "\" (expected sym)");
    once(seen_sym, "sym", "format", text);
    f.symmetric = true;
  }
  return f;
}

// A scalar format from its tokens, or nullopt when the head names none.
std::optional<ScalarFormat> scalar_from_tokens(std::span<const std::string_view> tokens,
                                               std::string_view text) {
  const std::string_view head = tokens.front();
  const auto options = tokens.subspan(1);
  if (auto f = float_head(head)) return apply_float_options(*f, options, text);
  if (auto f = fixed_head(head)) return apply_fixed_options(*f, options, text);
  return std::nullopt;
}

void check_valid(const std::string& reason, std::string_view what, std::string_view text) {
  if (!reason.empty()) fail(what, text, reason);
}

// ---- block formats ------------------------------------------------------------------------------

bool is_block_option(std::string_view token) {
  return token == "tensor" || token == "row" || token.starts_with("block=") ||
         token.starts_with("shift=");
}

void apply_block_options(BlockFormat& f, std::span<const std::string_view> options,
                         std::string_view text) {
  bool seen_scope = false, seen_shift = false;
  for (std::string_view opt : options) {
    if (opt == "tensor" || opt == "row") {
      once(seen_scope, "scope (tensor, row or block=N)", "format", text);
      f.scope = opt == "row" ? BlockScope::row : BlockScope::tensor;
    } else if (const auto size = keyed_number(opt, "block", "format", text)) {
      once(seen_scope, "scope (tensor, row or block=N)", "format", text);
      f.scope = BlockScope::block;
      f.block_size = *size;
    } else if (const auto shift = keyed_number(opt, "shift", "format", text)) {
      once(seen_shift, "shift", "format", text);
      if (f.rule != ExponentRule::das) fail("format", text, "shift= applies to the das rule only");
      f.add_shift = *shift;
    } else {
      fail("format", text,
           "unknown block option \"" + std::string(opt) + "\" (expected tensor, row, block=N or shift=A)");
    }
  }
}

// Appends the scope unless it is the default one (blocks of 32 where blocks are the default).
void add_scope(std::string& text, const BlockFormat& f, BlockScope default_scope) {
  if (f.scope == default_scope && (f.scope != BlockScope::block || f.block_size == 32)) return;
  switch (f.scope) {
    case BlockScope::tensor: add_option(text, "tensor"); break;
    case BlockScope::row: add_option(text, "row"); break;
    case BlockScope::block: add_option(text, "block=" + std::to_string(f.block_size)); break;
  }
}

ScalarFormat element_from(std::span<const std::string_view> tokens, std::string_view text) {
  if (tokens.empty()) fail("format", text, "missing element format");
  const std::string element_text = join(tokens);
  const std::optional<ScalarFormat> element = scalar_from_tokens(tokens, text);
  if (!element) fail("format", text, "element \"" + element_text + "\" is not a scalar format");
  return *element;
}

// OCP MX shorthands: name, element when none is given, element width.
struct MxName {
  std::string_view name;
  std::string_view default_element;
  int bits;
};
constexpr std::array<MxName, 3> kMxFloat = {{{"mxfp8", "e4m3", 8}, {"mxfp6", "e3m2", 6}, {"mxfp4", "e2m1", 4}}};
const FixedFormat kMxInt8Element{1, 6, true, false};  // q1.6: MXINT8 elements

BlockFormat mx_block(ScalarFormat element) {
  return BlockFormat{element, ExponentRule::mx, 2, BlockScope::block, 32};
}

std::optional<BlockFormat> block_from_tokens(std::span<const std::string_view> tokens,
                                             std::string_view text) {
  const std::string_view head = tokens.front();
  auto rest = tokens.subspan(1);
  // The leading tokens that are no block option belong to an element format.
  std::size_t element_tokens = 0;
  while (element_tokens < rest.size() && !is_block_option(rest[element_tokens])) ++element_tokens;

  BlockFormat f;
  if (auto bits = prefixed_number(head, "dfp")) {
    if (element_tokens > 0) fail("format", text, "dfpN takes no element format (use block:ELEMENT:das)");
    f = BlockFormat{FixedFormat::integer(*bits), ExponentRule::das, 2, BlockScope::tensor, 32};
  } else if (head == "mxint8") {
    if (element_tokens > 0) fail("format", text, "mxint8 takes no element format");
    f = mx_block(kMxInt8Element);
  } else if (head == "block") {
    std::size_t rule_at = 0;
    ExponentRule rule{};
    while (rule_at < rest.size() && !parse_exponent_rule(rest[rule_at], rule)) ++rule_at;
    if (rule_at == rest.size())
      fail("format", text, "missing exponent rule (das, niti, wageubn or mx) after the element");
    f = BlockFormat{element_from(rest.first(rule_at), text), rule, 2, BlockScope::tensor, 32};
    element_tokens = rule_at + 1;
  } else {
    const MxName* mx = nullptr;
    for (const MxName& m : kMxFloat)
      if (head == m.name) mx = &m;
    if (!mx) return std::nullopt;
    const std::array<std::string_view, 1> default_tokens = {mx->default_element};
    const ScalarFormat element = element_tokens > 0 ? element_from(rest.first(element_tokens), text)
                                                    : element_from(default_tokens, text);
    const auto* float_element = std::get_if<FloatFormat>(&element);
    if (!float_element || float_element->total_bits() != mx->bits)
      fail("format", text,
           std::string(mx->name) + " needs a " + std::to_string(mx->bits) + "-bit float element");
    f = mx_block(element);
  }
  apply_block_options(f, rest.subspan(element_tokens), text);
  return f;
}

}  // namespace

Format parse_format(std::string_view text) {
  if (text.empty()) fail("format", text, "empty (expected " + std::string(kFormatKinds) + ")");
  const std::vector<std::string_view> tokens = split(text);
  for (std::string_view t : tokens)
    if (t.empty()) fail("format", text, "empty field between ':'");
  if (auto f = block_from_tokens(tokens, text)) {
    check_valid(validate(*f), "format", text);
    return *f;
  }
  if (auto f = scalar_from_tokens(tokens, text)) {
    check_valid(std::visit([](const auto& s) { return validate(s); }, *f), "format", text);
    return std::visit([](const auto& s) { return Format{s}; }, *f);
  }
  fail("format", text, "unknown format (expected " + std::string(kFormatKinds) + ")");
}

ScalarFormat parse_scalar_format(std::string_view text) {
  const Format f = parse_format(text);
  if (std::holds_alternative<BlockFormat>(f))
    fail("format", text, "a block format, where a scalar (float or fixed-point) format is needed");
  if (const auto* fl = std::get_if<FloatFormat>(&f)) return *fl;
  return std::get<FixedFormat>(f);
}

AccumulatorSpec parse_accumulator(std::string_view text) {
  const std::vector<std::string_view> tokens = split(text);
  if (tokens.size() < 2 || tokens[0] != "acc")
    fail("accumulator", text,
         "expected acc:exact or acc:intN:wrap|sat[:group=G][:flush=K][:fp32-epilogue]");
  if (tokens[1] == "exact") {
    if (tokens.size() > 2) fail("accumulator", text, "acc:exact takes no options");
    return AccumulatorSpec{.exact = true};
  }
  const std::optional<int> bits = prefixed_number(tokens[1], "int");
  if (!bits) fail("accumulator", text, "\"" + std::string(tokens[1]) + "\" is not intN or exact");
  AccumulatorSpec a;
  a.bits = *bits;
  bool seen_overflow = false, seen_group = false, seen_flush = false, seen_epilogue = false;
  for (std::string_view opt : std::span(tokens).subspan(2)) {
    if (opt == "wrap" || opt == "sat" || opt == "saturate") {
      once(seen_overflow, "overflow (wrap or sat)", "accumulator", text);
      a.overflow = opt == "wrap" ? AccOverflow::wrap : AccOverflow::saturate;
    } else if (const auto group = keyed_number(opt, "group", "accumulator", text)) {
      once(seen_group, "group", "accumulator", text);
      a.group = *group;
    } else if (const auto flush = keyed_number(opt, "flush", "accumulator", text)) {
      once(seen_flush, "flush", "accumulator", text);
      a.flush_every = *flush;
    } else if (opt == "fp32-epilogue") {
      once(seen_epilogue, "fp32-epilogue", "accumulator", text);
      a.fp32_epilogue = true;
    } else {
      fail("accumulator", text,
           "unknown option \"" + std::string(opt) +
               "\" (expected wrap, sat, group=G, flush=K or fp32-epilogue)");
    }
  }
  if (!seen_overflow) fail("accumulator", text, "missing overflow behaviour: wrap or sat");
  check_valid(validate(a), "accumulator", text);
  return a;
}

Rounding parse_rounding_name(std::string_view text) {
  Rounding r{};
  if (!parse_rounding(text, r))
    fail("rounding", text,
         "expected nearest-even, nearest-away, toward-zero, up, down, odd, stochastic or niti-psr");
  return r;
}

Overflow parse_overflow(std::string_view text) {
  for (Overflow o : {Overflow::to_inf, Overflow::to_nan, Overflow::saturate, Overflow::wrap})
    if (to_string(o) == text) return o;
  fail("overflow", text, "expected to-inf, to-nan, saturate or wrap");
}

std::string_view to_string(Overflow o) {
  switch (o) {
    case Overflow::to_inf: return "to-inf";
    case Overflow::to_nan: return "to-nan";
    case Overflow::saturate: return "saturate";
    case Overflow::wrap: return "wrap";
  }
  return "?";
}

std::string to_string(const FloatFormat& f) {
  if (const std::string_view name = preset_name(f); !name.empty()) return std::string(name);
  const FloatFormat base = default_float(f.exp_bits, f.man_bits);
  std::string text = float_base_name(f.exp_bits, f.man_bits);
  if (f.specials != base.specials) add_option(text, specials_name(f.specials));
  if (f.bias != base.bias) add_option(text, "bias=" + std::to_string(f.bias));
  if (f.subnormals != base.subnormals) add_option(text, subnormals_name(f.subnormals));
  if (f.is_signed != base.is_signed) add_option(text, f.is_signed ? "signed" : "unsigned");
  return text;
}

std::string to_string(const FixedFormat& f) {
  std::string text = f.frac_bits == 0 ? (f.is_signed ? "int" : "uint") : (f.is_signed ? "q" : "uq");
  text += std::to_string(f.frac_bits == 0 ? f.total_bits() : f.int_bits);
  if (f.frac_bits != 0) add_token(text, '.', f.frac_bits);
  if (f.symmetric) add_option(text, "sym");
  return text;
}

std::string to_string(const ScalarFormat& f) {
  return std::visit([](const auto& s) { return to_string(s); }, f);
}

std::string to_string(const BlockFormat& f) {
  const auto* fixed = std::get_if<FixedFormat>(&f.element);
  const auto* fl = std::get_if<FloatFormat>(&f.element);
  std::string text;
  BlockScope default_scope = BlockScope::tensor;
  if (f.rule == ExponentRule::das && fixed && fixed->is_signed && fixed->frac_bits == 0 &&
      !fixed->symmetric) {
    text = "dfp" + std::to_string(fixed->total_bits());
  } else if (f.rule == ExponentRule::mx && fixed && *fixed == kMxInt8Element) {
    text = "mxint8";
    default_scope = BlockScope::block;
  } else if (f.rule == ExponentRule::mx && fl) {
    for (const MxName& mx : kMxFloat)
      if (fl->total_bits() == mx.bits) {
        text = mx.name;
        if (find_float_preset(mx.default_element) != *fl) add_option(text, to_string(*fl));
        default_scope = BlockScope::block;
      }
  }
  if (text.empty()) {
    text = "block";
    add_option(text, to_string(f.element));
    add_option(text, to_string(f.rule));
  }
  if (f.rule == ExponentRule::das && f.add_shift != 2) add_option(text, "shift=" + std::to_string(f.add_shift));
  add_scope(text, f, default_scope);
  return text;
}

std::string to_string(const Format& f) {
  return std::visit([](const auto& s) { return to_string(s); }, f);
}

std::string to_string(const AccumulatorSpec& a) {
  if (a.exact) return "acc:exact";
  std::string text = "acc:int" + std::to_string(a.bits) +
                     (a.overflow == AccOverflow::wrap ? ":wrap" : ":sat");
  if (a.group != 1) text += ":group=" + std::to_string(a.group);
  if (a.flush_every != 0) text += ":flush=" + std::to_string(a.flush_every);
  if (a.fp32_epilogue) text += ":fp32-epilogue";
  return text;
}

int total_bits(const ScalarFormat& f) {
  return std::visit([](const auto& s) { return s.total_bits(); }, f);
}

}  // namespace lpsim
