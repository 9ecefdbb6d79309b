// The slow exact reference, written from docs/semantics.md and the descriptors' fields alone:
// every value is a rational, every rounding decision is the table of §3 applied to
// floor(|x| / 2^q) and its remainder. Nothing here calls formats/ code that computes a value.
#include "reference/exact.hpp"

#include <Random123/philox.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <tuple>

namespace lpsim::ref {
namespace {

using boost::multiprecision::denominator;
using boost::multiprecision::numerator;

const FloatFormat kFp32{8, 23, 127, true, Subnormals::gradual, Specials::ieee};
const FloatFormat kFp64{11, 52, 1023, true, Subnormals::gradual, Specials::ieee};

Integer two_to(int n) { return Integer(1) << n; }  // n >= 0

Rational pow2(int n) { return n >= 0 ? Rational(two_to(n)) : Rational(Integer(1), two_to(-n)); }

Rational dyadic(const Integer& sig, int exp) {  // sig * 2^exp
  return exp >= 0 ? Rational(sig << exp) : Rational(sig, two_to(-exp));
}

// k * 2^s for a shift either way; a right shift must drop only zeros.
Integer shifted(const Integer& k, int s) {
  if (s >= 0) return k << s;
  if ((k & (two_to(-s) - 1)) != 0) throw std::logic_error("reference: inexact shift");
  return k >> -s;
}

// a * 2^ea > b * 2^eb, for non-negative a and b.
bool dyadic_greater(const Integer& a, int ea, const Integer& b, int eb) {
  const int e = std::min(ea, eb);
  return (a << (ea - e)) > (b << (eb - e));
}

std::uint64_t ones(int bits) { return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1; }

// E with 2^E <= x < 2^(E+1), for x > 0, by comparing with powers of two (as integers: n/d < 2^e).
int floor_log2(const Rational& x) {
  const Integer& n = numerator(x);
  const Integer& d = denominator(x);
  int e = int(msb(n)) - int(msb(d));  // E or E + 1
  if (e >= 0 ? n < (d << e) : (n << -e) < d) --e;
  return e;
}

Rational signed_value(const Value& v) { return v.negative ? -v.magnitude : v.magnitude; }

// ---------------------------------------------------------------------------------------------
// Float formats (§1): what the reference needs, from the fields.

struct FloatFacts {
  int m = 0;
  std::uint64_t sign_bit = 0;   // 0 when unsigned
  std::uint64_t exp_ones = 0;   // the all-ones exponent field, in place
  std::uint64_t man_mask = 0;
  int emin = 0;                 // exponent of the smallest normal binade
  std::uint64_t max_code = 0;   // largest finite value, positive: max_sig * 2^max_exp
  Integer max_sig;
  int max_exp = 0;
};

bool is_nan_code(const FloatFormat& f, std::uint64_t code) {
  const std::uint64_t exp_field = (code >> f.man_bits) & ones(f.exp_bits);
  const std::uint64_t man = code & ones(f.man_bits);
  const bool sign = f.is_signed && ((code >> (f.exp_bits + f.man_bits)) & 1);
  switch (f.specials) {
    case Specials::ieee: return exp_field == ones(f.exp_bits) && man != 0;
    case Specials::fn: return exp_field == ones(f.exp_bits) && man == ones(f.man_bits);
    case Specials::fnuz: return sign && exp_field == 0 && man == 0;
    case Specials::finite: return false;
  }
  return false;
}

// A finite code's integer significand and exponent (§1): subnormal M * 2^(1-bias-m), normal
// (2^m + M) * 2^(E-bias-m); without subnormals E = 0 is a normal binade.
std::pair<Integer, int> significand(const FloatFormat& f, std::uint64_t exp_field, std::uint64_t man) {
  if (exp_field == 0 && f.subnormals != Subnormals::none) return {Integer(man), 1 - f.bias - f.man_bits};
  return {two_to(f.man_bits) + man, int(exp_field) - f.bias - f.man_bits};
}

Value decode_float(const FloatFormat& f, std::uint64_t code) {
  const int m = f.man_bits;
  const std::uint64_t exp_field = (code >> m) & ones(f.exp_bits);
  const std::uint64_t man = code & ones(m);
  Value v;
  v.negative = f.is_signed && ((code >> (f.exp_bits + m)) & 1);
  if (is_nan_code(f, code)) {
    v.kind = Kind::nan;
    v.nan_bits = m > 0 ? man << (64 - m) : 0;
    v.signalling = f.specials == Specials::ieee && ((man >> (m - 1)) & 1) == 0;
    return v;
  }
  if (f.specials == Specials::ieee && exp_field == ones(f.exp_bits)) {
    v.kind = Kind::inf;
    return v;
  }
  if (exp_field == 0 && f.subnormals != Subnormals::none && (man == 0 || f.subnormals == Subnormals::flush))
    return v;  // a signed zero
  std::tie(v.sig, v.exp) = significand(f, exp_field, man);
  v.kind = Kind::finite;
  v.magnitude = dyadic(v.sig, v.exp);
  return v;
}

FloatFacts facts_of(const FloatFormat& f) {
  FloatFacts t;
  t.m = f.man_bits;
  t.sign_bit = f.is_signed ? std::uint64_t{1} << (f.exp_bits + f.man_bits) : 0;
  t.exp_ones = ones(f.exp_bits) << f.man_bits;
  t.man_mask = ones(f.man_bits);
  t.emin = f.subnormals == Subnormals::none ? -f.bias : 1 - f.bias;
  // The largest code that is neither NaN nor inf: ieee gives its top binade to inf and NaN; fn
  // has one NaN code there (with m = 0 that is the whole top binade).
  std::uint64_t code = f.specials == Specials::ieee ? t.exp_ones - 1 : t.exp_ones | t.man_mask;
  if (is_nan_code(f, code)) --code;
  t.max_code = code;
  std::tie(t.max_sig, t.max_exp) = significand(f, (code >> t.m) & ones(f.exp_bits), code & t.man_mask);
  return t;
}

// The default NaN of §7: sign set, quiet, payload 0 (fn: all ones; fnuz: 0x80; finite: +0).
std::uint64_t default_nan(const FloatFormat& f, const FloatFacts& t) {
  switch (f.specials) {
    case Specials::ieee: return t.sign_bit | t.exp_ones | (std::uint64_t{1} << (t.m - 1));
    case Specials::fn: return t.sign_bit | t.exp_ones | t.man_mask;
    case Specials::fnuz: return t.sign_bit;
    case Specials::finite: return 0;
  }
  return 0;
}

// A quiet NaN carrying a sign (dropped where the format cannot hold it) and, in ieee, the top m
// bits of a source mantissa.
std::uint64_t quiet_nan(const FloatFormat& f, const FloatFacts& t, bool negative,
                        std::uint64_t nan_bits) {
  const std::uint64_t sign = negative ? t.sign_bit : 0;
  switch (f.specials) {
    case Specials::ieee: return sign | t.exp_ones | (std::uint64_t{1} << (t.m - 1)) | (nan_bits >> (64 - t.m));
    case Specials::fn: return sign | t.exp_ones | t.man_mask;
    case Specials::fnuz: return t.sign_bit;
    case Specials::finite: return 0;
  }
  return 0;
}

std::uint64_t zero_code(const FloatFormat& f, const FloatFacts& t, bool negative) {
  return negative && f.specials != Specials::fnuz ? t.sign_bit : 0;
}

// The code of a representable magnitude k * 2^q > 0.
std::uint64_t code_of(const FloatFormat& f, const FloatFacts& t, bool negative, const Integer& k, int q) {
  const int e = int(msb(k)) + q;  // 2^e <= k * 2^q < 2^(e+1)
  std::uint64_t exp_field = 0, man = 0;
  if (e < t.emin) {  // gradual subnormal: M * 2^(emin - m)
    man = std::uint64_t(shifted(k, q - (t.emin - t.m)));
  } else {  // (2^m + M) * 2^(e - m)
    exp_field = std::uint64_t(e + f.bias);
    man = std::uint64_t(shifted(k, q - (e - t.m)) - two_to(t.m));
  }
  return (negative ? t.sign_bit : 0) | (exp_field << t.m) | man;
}

EncodeResult max_result(const FloatFacts& t, bool negative) {
  EncodeResult r;
  r.code = (negative ? t.sign_bit : 0) | t.max_code;
  r.saturated = true;
  return r;
}

// ±inf in ieee, NaN in fn/fnuz, ±max in finite (§4).
EncodeResult inf_like(const FloatFormat& f, const FloatFacts& t, bool negative) {
  if (f.specials == Specials::finite) return max_result(t, negative);
  if (f.specials == Specials::ieee) return {(negative ? t.sign_bit : 0) | t.exp_ones};
  return {quiet_nan(f, t, negative, 0)};
}

// ---------------------------------------------------------------------------------------------
// The rounding decision (§3).

struct Rounder {
  Rounding mode;
  int r;            // stochastic: random bits
  std::uint32_t u;  // stochastic: the element's r-bit random number
  bool inexact_below;
};

Rounder rounder_for(const RoundingSpec& spec, std::uint64_t index, bool inexact_below) {
  const std::uint32_t word = spec.mode == Rounding::stochastic ? random_bits(spec, index) : 0;
  return {spec.mode, spec.random_bits, word >> (32 - spec.random_bits), inexact_below};
}

// NITI PstoShift: round away iff the upper half P of the s dropped bits exceeds the lower half R.
bool niti_rounds_up(const Value& x, int q) {
  if (x.sig == 0) throw std::invalid_argument("niti-psr needs the source's integer significand");
  if (x.magnitude != dyadic(x.sig, x.exp))
    throw std::invalid_argument("niti-psr: sig * 2^exp differs from the magnitude");
  const int s = q - x.exp;
  if (s <= 0) return false;
  const Integer p = x.sig & (two_to(s) - 1);
  const int h = s / 2;
  const Integer upper = p >> h;
  Integer lower = p & (two_to(h) - 1);
  if (s % 2 == 1) lower <<= 1;
  return upper > lower;
}

struct Rounded {
  Integer k;  // |x| rounds to k * 2^q
  bool inexact;
};

// |x| to a multiple of 2^q. With inexact_below the true value lies a hair above |x|.
Rounded round_at(const Value& x, int q, const Rounder& rd) {
  // |x| / 2^q = num / den = lo + f, with the fraction f = rem / den in [0, 1).
  Integer num = numerator(x.magnitude), den = denominator(x.magnitude);
  if (q >= 0) den <<= q;
  else num <<= -q;
  Integer lo, rem;
  divide_qr(num, den, lo, rem);
  const Integer twice_rem = rem << 1;  // f vs 1/2 is 2 rem vs den
  const bool inexact = rem != 0 || rd.inexact_below;
  const bool lo_odd = bit_test(lo, 0);
  bool up = false;
  switch (rd.mode) {
    case Rounding::nearest_even:
      up = twice_rem > den || (twice_rem == den && (rd.inexact_below || lo_odd));
      break;
    case Rounding::nearest_away: up = twice_rem >= den; break;
    case Rounding::toward_zero: up = false; break;
    case Rounding::up: up = inexact && !x.negative; break;
    case Rounding::down: up = inexact && x.negative; break;
    case Rounding::odd: up = inexact && !lo_odd; break;
    case Rounding::stochastic: up = ((rem << rd.r) / den) + rd.u >= two_to(rd.r); break;  // F = floor(f 2^r)
    case Rounding::niti_psr: up = niti_rounds_up(x, q); break;
  }
  return {lo + (up ? 1 : 0), inexact};
}

bool rounds_away_on_overflow(Rounding mode, bool negative) {
  switch (mode) {
    case Rounding::toward_zero:
    case Rounding::odd: return false;
    case Rounding::up: return !negative;
    case Rounding::down: return negative;
    default: return true;
  }
}

// §4 for a finite x whose rounded magnitude exceeds max.
EncodeResult overflow_result(const FloatFormat& f, const FloatFacts& t, bool negative,
                             const ConvertPolicy& p) {
  EncodeResult r;
  switch (p.overflow) {
    case Overflow::to_inf:
      r = rounds_away_on_overflow(p.rounding.mode, negative) ? inf_like(f, t, negative)
                                                             : max_result(t, negative);
      break;
    case Overflow::to_nan:
      r = f.specials == Specials::finite ? max_result(t, negative)
                                         : EncodeResult{quiet_nan(f, t, negative, 0)};
      break;
    case Overflow::saturate: r = max_result(t, negative); break;
    case Overflow::wrap: throw std::invalid_argument("overflow policy wrap is for fixed point only");
  }
  r.flags = flag::inexact | flag::overflow;
  r.out_of_range = true;
  return r;
}

EncodeResult round_float(const FloatFormat& to, const Value& x, const ConvertPolicy& p,
                         std::uint64_t index, bool inexact_below) {
  const FloatFacts t = facts_of(to);
  const bool has_zero = to.subnormals != Subnormals::none;
  const bool has_nan = to.specials != Specials::finite;
  EncodeResult r;
  if (x.kind == Kind::nan) {  // §5
    r.code = quiet_nan(to, t, x.negative, x.nan_bits);
    if (x.signalling || !has_nan) r.flags = flag::invalid;
    return r;
  }
  if (x.negative && !to.is_signed && x.kind != Kind::zero) {  // §5: unsigned float targets
    r.code = has_nan ? quiet_nan(to, t, false, 0) : 0;
    r.flags = flag::invalid;
    return r;
  }
  if (x.kind == Kind::inf) {  // §5
    if (to.specials == Specials::ieee && p.overflow != Overflow::saturate)
      return {(x.negative ? t.sign_bit : 0) | t.exp_ones};
    r = p.overflow == Overflow::saturate ? max_result(t, x.negative) : inf_like(to, t, x.negative);
    r.flags = flag::invalid;
    return r;
  }
  if (x.kind == Kind::zero) {
    if (!has_zero) return {0, flag::underflow | flag::inexact};  // code 0 is 2^emin (E8M0)
    return {zero_code(to, t, x.negative)};
  }

  const Rounder rd = rounder_for(p.rounding, index, inexact_below);
  const int e = floor_log2(x.magnitude);
  // Below 2^emin the quantum stops at the subnormal spacing, or at 2^emin without subnormals.
  const int q = e >= t.emin ? e - t.m : to.subnormals == Subnormals::gradual ? t.emin - t.m : t.emin;
  const Rounded rounded = round_at(x, q, rd);  // |x| -> k * 2^q
  // Overflow needs e >= emin, where q is the quantum of an unbounded exponent range.
  if (dyadic_greater(rounded.k, q, t.max_sig, t.max_exp)) return overflow_result(to, t, x.negative, p);

  if (rounded.inexact) {
    r.flags |= flag::inexact;
    // Tininess after rounding: x rounded to m+1 significant bits with an unbounded exponent,
    // k * 2^(e-m), is below 2^emin.
    const bool tiny = e < t.emin && round_at(x, e - t.m, rd).k < two_to(t.emin - e + t.m);
    if (tiny) r.flags |= flag::underflow;
  }
  if (rounded.k == 0) {
    if (!has_zero) return {0, flag::underflow | flag::inexact};  // code 0 is 2^emin
    r.code = zero_code(to, t, x.negative);
    return r;
  }
  r.code = code_of(to, t, x.negative, rounded.k, q);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Fixed point (§2, §4, §5).

struct FixedRange {
  int bits;
  Integer min, max;
};

FixedRange range_of(const FixedFormat& f) {
  const int b = f.int_bits + f.frac_bits + int(f.is_signed);
  if (!f.is_signed) return {b, 0, two_to(b) - 1};
  return {b, -two_to(b - 1) + (f.symmetric ? 1 : 0), two_to(b - 1) - 1};
}

std::uint64_t fixed_code(const FixedRange& range, const Integer& k) {
  Integer wrapped = k % two_to(range.bits);  // two's complement bits of k
  if (wrapped < 0) wrapped += two_to(range.bits);
  return std::uint64_t(wrapped);
}

EncodeResult round_fixed(const FixedFormat& to, const Value& x, const ConvertPolicy& p,
                         std::uint64_t index) {
  const FixedRange range = range_of(to);
  const bool wrap = p.overflow == Overflow::wrap;
  EncodeResult r;
  if (x.kind == Kind::zero) return r;
  if (x.kind == Kind::nan) return {0, flag::invalid};
  Integer k = 0;  // the rounded value in quanta; inf wraps to 0
  if (x.kind == Kind::finite) {
    const Rounded rounded = round_at(x, -to.frac_bits, rounder_for(p.rounding, index, false));
    k = x.negative ? Integer(-rounded.k) : rounded.k;
    if (k >= range.min && k <= range.max) {
      r.code = fixed_code(range, k);
      r.flags = rounded.inexact ? flag::inexact : 0;
      return r;
    }
  }
  r.flags = flag::invalid;  // out of range, as IEEE float-to-integer conversions
  r.out_of_range = true;
  if (wrap) {
    r.wrapped = true;
    r.code = fixed_code(range, k);
  } else {
    r.saturated = true;
    r.code = fixed_code(range, x.negative ? range.min : range.max);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------

float to_f32(const Rational& x) {
  const EncodeResult r = round_to(kFp32, exact(x < 0, x < 0 ? Rational(-x) : x), ConvertPolicy{});
  return std::bit_cast<float>(static_cast<std::uint32_t>(r.code));
}

// x rounded to fp32 (nearest-even), as an exact value; x stays far inside fp32's range.
Rational f32_value(const Rational& x) { return signed_value(value_of_f32(to_f32(x))); }

// x + y rounded to fp32 (nearest-even), for an fp32 x (an infinite x stays) and an exact y.
float add_f32(float x, const Rational& y) {
  if (std::isinf(x)) return x;
  return to_f32(signed_value(value_of_f32(x)) + y);
}

Value scaled(Value v, int exponent) {  // v * 2^exponent
  v.magnitude *= pow2(exponent);
  v.exp += exponent;
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Values.

Value value_of(const FloatFormat& f, std::uint64_t code) { return decode_float(f, code); }

Value value_of(const FixedFormat& f, std::uint64_t code) {
  const FixedRange range = range_of(f);
  Integer k = code & ones(range.bits);
  if (f.is_signed && bit_test(k, range.bits - 1)) k -= two_to(range.bits);
  Value v;
  if (k == 0) return v;
  v.kind = Kind::finite;
  v.negative = k < 0;
  v.sig = abs(k);
  v.exp = -f.frac_bits;
  v.magnitude = dyadic(v.sig, v.exp);
  return v;
}

Value value_of(const ScalarFormat& f, std::uint64_t code) {
  return std::visit([code](const auto& format) { return value_of(format, code); }, f);
}

Value value_of_f32(float x) {
  return value_of(kFp32, std::bit_cast<std::uint32_t>(x));
}

Value value_of_f64(double x) {
  return value_of(kFp64, std::bit_cast<std::uint64_t>(x));
}

Value exact(bool negative, const Rational& magnitude) {
  Value v;
  v.kind = magnitude == 0 ? Kind::zero : Kind::finite;
  v.negative = negative;
  v.magnitude = magnitude;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Rounding into a format.

EncodeResult round_to(const FloatFormat& to, const Value& x, const ConvertPolicy& p,
                      std::uint64_t index, bool inexact_below) {
  return round_float(to, x, p, index, inexact_below);
}

EncodeResult round_to(const FixedFormat& to, const Value& x, const ConvertPolicy& p,
                      std::uint64_t index) {
  return round_fixed(to, x, p, index);
}

EncodeResult round_to(const ScalarFormat& to, const Value& x, const ConvertPolicy& p,
                      std::uint64_t index) {
  return std::visit([&](const auto& format) { return round_to(format, x, p, index); }, to);
}

std::uint32_t random_bits(const RoundingSpec& r, std::uint64_t index) {
  using Philox = r123::Philox4x32;  // Philox4x32-10
  const std::uint64_t block = index / 4;
  const Philox::ctr_type counter = {{static_cast<std::uint32_t>(block),
                                     static_cast<std::uint32_t>(block >> 32), r.stream, 0}};
  const Philox::key_type key = {{static_cast<std::uint32_t>(r.seed),
                                 static_cast<std::uint32_t>(r.seed >> 32)}};
  return Philox()(counter, key)[index % 4];
}

// ---------------------------------------------------------------------------------------------
// Arithmetic (§7). An exact outcome is a Value (zero, finite or an exact infinity), or nothing
// for an invalid operation.

namespace {

using Outcome = std::optional<Value>;

Value infinity(bool negative) {
  Value v;
  v.kind = Kind::inf;
  v.negative = negative;
  return v;
}

Value zero(bool negative) {
  Value v;
  v.negative = negative;
  return v;
}

Outcome product(const Value& a, const Value& b) {
  const bool negative = a.negative != b.negative;
  if (a.kind == Kind::inf || b.kind == Kind::inf) {
    if (a.kind == Kind::zero || b.kind == Kind::zero) return std::nullopt;  // 0 * inf
    return infinity(negative);
  }
  return exact(negative, a.magnitude * b.magnitude);
}

Outcome sum(const Value& a, const Value& b, Rounding mode) {
  if (a.kind == Kind::inf && b.kind == Kind::inf && a.negative != b.negative) return std::nullopt;
  if (a.kind == Kind::inf) return a;
  if (b.kind == Kind::inf) return b;
  const Rational s = signed_value(a) + signed_value(b);
  if (s != 0) return exact(s < 0, s < 0 ? Rational(-s) : s);
  // An exact zero sum: the addends' common sign, else +0 (-0 when rounding down).
  return zero(a.negative == b.negative ? a.negative : mode == Rounding::down);
}

Outcome quotient(const Value& a, const Value& b) {
  const bool negative = a.negative != b.negative;
  if (a.kind == Kind::inf) return b.kind == Kind::inf ? Outcome{} : infinity(negative);
  if (b.kind == Kind::inf) return zero(negative);
  if (b.kind == Kind::zero) return std::nullopt;  // 0/0; a finite x/0 is arith's own case
  return exact(negative, a.magnitude / b.magnitude);
}

}  // namespace

EncodeResult arith(ArithOp op, const FloatFormat& f, std::span<const std::uint64_t> operands,
                   const ConvertPolicy& p, std::uint64_t index) {
  if (p.rounding.mode == Rounding::niti_psr)
    throw std::invalid_argument("niti-psr is a conversion rounding; arithmetic rejects it");
  const std::size_t arity = op == ArithOp::sqrt ? 1 : op == ArithOp::fma ? 3 : 2;
  if (operands.size() != arity) throw std::invalid_argument("arith: wrong number of operands");
  const FloatFacts t = facts_of(f);
  std::vector<Value> v;
  for (std::uint64_t code : operands) v.push_back(value_of(f, code));

  // NaN operands: the first one quieted; invalid when any is signalling.
  const auto first_nan = std::find_if(v.begin(), v.end(), [](const Value& x) { return x.kind == Kind::nan; });
  if (first_nan != v.end()) {
    const bool signalling = std::any_of(v.begin(), v.end(), [](const Value& x) { return x.signalling; });
    return {quiet_nan(f, t, first_nan->negative, first_nan->nan_bits), signalling ? flag::invalid : std::uint8_t{0}};
  }

  const Rounding mode = p.rounding.mode;
  Outcome outcome;
  bool inexact_below = false;
  switch (op) {
    case ArithOp::add: outcome = sum(v[0], v[1], mode); break;
    case ArithOp::sub: {
      Value negated = v[1];
      negated.negative = !negated.negative;
      outcome = sum(v[0], negated, mode);
      break;
    }
    case ArithOp::mul: outcome = product(v[0], v[1]); break;
    case ArithOp::fma: {
      const Outcome ab = product(v[0], v[1]);
      if (ab) outcome = sum(*ab, v[2], mode);
      break;
    }
    case ArithOp::div:
      if (v[1].kind == Kind::zero && v[0].kind == Kind::finite) {  // x/0: exact infinity, §4's inf-like
        const bool negative = v[0].negative != v[1].negative;
        EncodeResult r = p.overflow == Overflow::saturate ? max_result(t, negative) : inf_like(f, t, negative);
        r.flags = flag::infinite;
        return r;
      }
      outcome = quotient(v[0], v[1]);
      break;
    case ArithOp::sqrt: {
      const Value& a = v[0];
      if (a.kind == Kind::zero) outcome = a;  // sqrt(-0) = -0
      else if (a.negative) outcome = std::nullopt;
      else if (a.kind == Kind::inf) outcome = a;
      else {
        // floor(sqrt(a * 2^(2N))) / 2^N, with 2^-N far below any quantum a result can have
        // (and below the r <= 32 bits that stochastic rounding reads past it).
        const int n = std::max(0, t.m - t.emin) + 64;
        const Integer radicand = numerator(a.magnitude) * two_to(2 * n);
        Integer remainder;
        const Integer root = sqrt(radicand / denominator(a.magnitude), remainder);
        inexact_below = remainder != 0 || radicand % denominator(a.magnitude) != 0;
        outcome = exact(false, Rational(root) * pow2(-n));
      }
      break;
    }
  }
  if (!outcome) return {default_nan(f, t), flag::invalid};
  if (outcome->kind == Kind::inf) {  // exact infinity from infinite operands (ieee only)
    if (outcome->negative && !f.is_signed) return {default_nan(f, t), flag::invalid};
    return {(outcome->negative ? t.sign_bit : 0) | t.exp_ones};
  }
  return round_to(f, *outcome, p, index, inexact_below);
}

// ---------------------------------------------------------------------------------------------
// Dot products (§9).

DotReference dot(const AccumulatorSpec& spec, std::span<const std::int32_t> a,
                 std::span<const std::int32_t> b, int scale_exp) {
  if (a.size() != b.size()) throw std::invalid_argument("dot: operand lengths differ");
  DotReference out;
  if (spec.exact) {
    for (std::size_t i = 0; i < a.size(); ++i) out.integer += Integer(a[i]) * b[i];
    out.total = to_f32(Rational(out.integer) * pow2(scale_exp));
    return out;
  }
  const Integer modulus = two_to(spec.bits), max = two_to(spec.bits - 1) - 1, min = -max - 1;
  Integer acc = 0;
  std::size_t in_chain = 0;
  // Chain end: fp32(acc) * 2^scale_exp added into the total, one nearest-even rounding.
  auto flush = [&] {
    out.total = add_f32(out.total, f32_value(Rational(acc)) * pow2(scale_exp));
    acc = 0;
    in_chain = 0;
  };
  for (std::size_t i = 0; i < a.size();) {
    const std::size_t end = std::min(a.size(), i + std::size_t(spec.group));
    Integer group_sum = 0;
    for (; i < end; ++i, ++in_chain) group_sum += Integer(a[i]) * b[i];
    acc += group_sum;
    if (acc < min || acc > max) {
      if (spec.overflow == AccOverflow::saturate) {
        acc = acc < min ? min : max;
        ++out.saturations;
      } else {
        acc = (acc - min) % modulus;
        if (acc < 0) acc += modulus;
        acc += min;
        ++out.wraps;
      }
    }
    if (spec.flush_every > 0 && in_chain == std::size_t(spec.flush_every)) flush();
  }
  if (spec.flush_every > 0) {
    if (in_chain > 0) flush();
  } else {
    out.total = to_f32(f32_value(Rational(acc)) * pow2(scale_exp));
    if (spec.fp32_epilogue) {
      // fp32 keeps 24 significant bits, so the rounded value of an integer is an integer.
      const Rational through = f32_value(Rational(acc));
      acc = through > Rational(max) ? max : Integer(numerator(through));
    }
  }
  out.integer = acc;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared-exponent formats (§8).

namespace {

int element_bits(const ScalarFormat& e) {
  if (const auto* f = std::get_if<FloatFormat>(&e)) return int(f->is_signed) + f->exp_bits + f->man_bits;
  const auto& x = std::get<FixedFormat>(e);
  return int(x.is_signed) + x.int_bits + x.frac_bits;
}

// The exponent of the element format's largest binade.
int largest_binade(const ScalarFormat& e) {
  if (const auto* f = std::get_if<FloatFormat>(&e)) {
    const FloatFacts t = facts_of(*f);
    return int(msb(t.max_sig)) + t.max_exp;
  }
  const auto& x = std::get<FixedFormat>(e);
  return floor_log2(Rational(range_of(x).max) * pow2(-x.frac_bits));
}

}  // namespace

int shared_exponent(const BlockFormat& f, float amax) {
  const int top = element_bits(f.element) - 1;  // P - 1
  if (!std::isfinite(amax)) {
    if (f.rule == ExponentRule::mx) return kNanScale;
    throw std::invalid_argument("shared_exponent: non-finite amax has no exponent under this rule");
  }
  const Rational a = value_of_f32(amax).magnitude;  // |amax|
  if (a == 0) {
    switch (f.rule) {
      case ExponentRule::das: return -(top - f.add_shift);
      case ExponentRule::mx: return -127;
      default: return -top;
    }
  }
  const int e = floor_log2(a);  // 2^e <= amax < 2^(e+1)
  switch (f.rule) {
    case ExponentRule::das: return (e + 1) - (top - f.add_shift);  // frexp exponent is e + 1
    case ExponentRule::niti: return (a == pow2(e) ? e : e + 1) - top;
    case ExponentRule::wageubn: return (a * a >= pow2(2 * e + 1) ? e + 1 : e) - top;  // amax >= 2^(e+1/2)
    case ExponentRule::mx: return std::clamp(e - largest_binade(f.element), -127, 127);
  }
  return 0;
}

BlockReference quantize_block(const BlockFormat& f, std::span<const float> in, std::size_t rows,
                              std::size_t cols, const ConvertPolicy& p, std::uint64_t first_index) {
  if (in.size() != rows * cols) throw std::invalid_argument("quantize_block: size is not rows * cols");
  BlockReference out;
  out.codes.resize(in.size());
  out.dequantized.resize(in.size());

  // One block: the flat element range [begin, end), all within a row unless the scope is tensor.
  auto quantize = [&](std::size_t begin, std::size_t end) {
    bool non_finite = false;
    float amax = 0.0f;  // largest finite magnitude
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isfinite(in[i])) non_finite = true;
      else amax = std::max(amax, std::fabs(in[i]));
    }
    const int x = f.rule == ExponentRule::mx && non_finite ? kNanScale : ref::shared_exponent(f, amax);
    out.exponents.push_back(x);
    for (std::size_t i = begin; i < end; ++i) {
      if (x == kNanScale) {
        out.codes[i] = 0;
        out.dequantized[i] = std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      const Value element = value_of_f32(in[i]);
      out.codes[i] = round_to(f.element, element.kind == Kind::finite ? scaled(element, -x) : element,
                              p, first_index + i).code;
      const Value q = value_of(f.element, out.codes[i]);
      const float nan = q.negative ? -std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::quiet_NaN();
      const float inf = q.negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
      switch (q.kind) {
        case Kind::nan: out.dequantized[i] = nan; break;
        case Kind::inf: out.dequantized[i] = inf; break;
        case Kind::zero: out.dequantized[i] = q.negative ? -0.0f : 0.0f; break;
        case Kind::finite: out.dequantized[i] = to_f32(signed_value(q) * pow2(x)); break;
      }
    }
  };

  if (f.scope == BlockScope::tensor) {
    quantize(0, in.size());
    return out;
  }
  const std::size_t width = f.scope == BlockScope::row ? cols : std::size_t(f.block_size);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; c += width) quantize(r * cols + c, r * cols + std::min(cols, c + width));
  return out;
}

}  // namespace lpsim::ref
