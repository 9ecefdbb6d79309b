// The text syntax of formats/syntax.hpp: known spellings, canonical printing, round trips over
// whole grids of descriptors, and one-line errors.
#include "formats/syntax.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lpsim {
namespace {

FloatFormat float_of(std::string_view text) { return std::get<FloatFormat>(parse_format(text)); }
FixedFormat fixed_of(std::string_view text) { return std::get<FixedFormat>(parse_format(text)); }
BlockFormat block_of(std::string_view text) { return std::get<BlockFormat>(parse_format(text)); }

// The SyntaxError message parsing `text` gives ("" when it parses).
template <class Parse>
std::string error_of(Parse parse, std::string_view text) {
  try {
    parse(text);
  } catch (const SyntaxError& e) {
    return e.what();
  }
  return "";
}
std::string format_error(std::string_view text) { return error_of(parse_format, text); }

// Every value must print to a text that parses back to itself and prints the same again.
template <class T, class Parse>
void expect_round_trip(const T& value, Parse parse) {
  const std::string text = to_string(value);
  SCOPED_TRACE(text);
  const auto parsed = parse(text);
  EXPECT_EQ(T(parsed), value);
  EXPECT_EQ(to_string(T(parsed)), text);
}

TEST(Syntax, PresetsParseToThemselvesAndPrintTheirName) {
  for (const auto& preset : float_presets()) {
    EXPECT_EQ(float_of(preset.name), preset.format) << preset.name;
    EXPECT_EQ(to_string(preset.format), preset.name);
  }
}

TEST(Syntax, FloatSpellings) {
  EXPECT_EQ(float_of("e4m3"), *find_float_preset("e4m3"));  // OCP fn, not IEEE-like
  EXPECT_EQ(float_of("e4m3fn"), *find_float_preset("e4m3"));
  EXPECT_EQ(float_of("e6m9"), FloatFormat::ieee_like(6, 9));
  EXPECT_EQ(float_of("e5m10"), *find_float_preset("fp16"));
  EXPECT_EQ(float_of("e5m2:fnuz:bias=16"), *find_float_preset("e5m2fnuz"));
  EXPECT_EQ(to_string(float_of("e4m3:fnuz:bias=8")), "e4m3fnuz");

  FloatFormat fp16_flush = FloatFormat::ieee_like(5, 10);
  fp16_flush.subnormals = Subnormals::flush;
  EXPECT_EQ(float_of("fp16:flush"), fp16_flush);
  EXPECT_EQ(to_string(fp16_flush), "e5m10:flush");

  // Options override the base's fields; the bias stays the base's unless given.
  const FloatFormat e4m3_ieee = float_of("e4m3:ieee");
  EXPECT_EQ(e4m3_ieee, FloatFormat::ieee_like(4, 3));
  EXPECT_EQ(to_string(e4m3_ieee), "e4m3:ieee");
  EXPECT_EQ(float_of("e4m3:fnuz").bias, 7);
  EXPECT_EQ(float_of("e3m4:bias=-2").bias, -2);

  const FloatFormat unsigned_nosub = float_of("e5m3:unsigned:nosub:fn");
  EXPECT_FALSE(unsigned_nosub.is_signed);
  EXPECT_EQ(unsigned_nosub.subnormals, Subnormals::none);
  EXPECT_EQ(unsigned_nosub.specials, Specials::fn);
  EXPECT_EQ(to_string(unsigned_nosub), "e5m3:fn:nosub:unsigned");
  EXPECT_EQ(to_string(float_of("e8m0:signed:gradual")), "e8m0:gradual:signed");
}

TEST(Syntax, FixedSpellings) {
  EXPECT_EQ(fixed_of("int16"), (FixedFormat{15, 0, true, false}));
  EXPECT_EQ(fixed_of("uint8"), (FixedFormat{8, 0, false, false}));
  EXPECT_EQ(fixed_of("int8:sym"), (FixedFormat{7, 0, true, true}));
  EXPECT_EQ(fixed_of("q1.14"), (FixedFormat{1, 14, true, false}));
  EXPECT_EQ(fixed_of("uq0.8"), (FixedFormat{0, 8, false, false}));
  EXPECT_EQ(to_string(fixed_of("q7.0")), "int8");
  EXPECT_EQ(to_string(fixed_of("uq4.0")), "uint4");
  EXPECT_EQ(to_string(fixed_of("q0.7:sym")), "q0.7:sym");
}

TEST(Syntax, BlockSpellings) {
  EXPECT_EQ(block_of("dfp16"),
            (BlockFormat{FixedFormat::integer(16), ExponentRule::das, 2, BlockScope::tensor, 32}));
  EXPECT_EQ(block_of("dfp8:shift=0:row"),
            (BlockFormat{FixedFormat::integer(8), ExponentRule::das, 0, BlockScope::row, 32}));
  EXPECT_EQ(block_of("block:int8:niti"),
            (BlockFormat{FixedFormat::integer(8), ExponentRule::niti, 2, BlockScope::tensor, 32}));
  EXPECT_EQ(block_of("block:int8:sym:wageubn:block=64").element,
            ScalarFormat(FixedFormat{7, 0, true, true}));
  const auto mx = [](std::string_view element) {
    return BlockFormat{*find_float_preset(element), ExponentRule::mx, 2, BlockScope::block, 32};
  };
  EXPECT_EQ(block_of("mxfp8"), mx("e4m3"));
  EXPECT_EQ(block_of("mxfp8:e5m2"), mx("e5m2"));
  EXPECT_EQ(block_of("mxfp6"), mx("e3m2"));
  EXPECT_EQ(block_of("mxfp6:e2m3"), mx("e2m3"));
  EXPECT_EQ(block_of("mxfp4"), mx("e2m1"));
  EXPECT_EQ(block_of("mxint8"),
            (BlockFormat{FixedFormat{1, 6, true, false}, ExponentRule::mx, 2, BlockScope::block, 32}));
  EXPECT_EQ(to_string(block_of("block:e4m3:mx:block=32")), "mxfp8");
  EXPECT_EQ(to_string(block_of("block:int16:das")), "dfp16");
  EXPECT_EQ(to_string(block_of("mxfp8:e5m2fnuz:block=16")), "mxfp8:e5m2fnuz:block=16");
  EXPECT_EQ(to_string(block_of("mxfp8:e5m2:fnuz:bias=16:row")), "mxfp8:e5m2fnuz:row");
  EXPECT_EQ(to_string(block_of("block:q2.5:mx")), "block:q2.5:mx");  // general form: per tensor
  EXPECT_EQ(to_string(block_of("block:q2.5:mx:block=32")), "block:q2.5:mx:block=32");
  EXPECT_EQ(to_string(block_of("mxfp4:tensor")), "mxfp4:tensor");
}

TEST(Syntax, AccumulatorSpellings) {
  EXPECT_EQ(parse_accumulator("acc:exact"), AccumulatorSpec{.exact = true});
  EXPECT_EQ(parse_accumulator("acc:int32:wrap:flush=256"),
            (AccumulatorSpec{false, 32, AccOverflow::wrap, 1, 256}));
  EXPECT_EQ(parse_accumulator("acc:int16:group=2:sat"),
            (AccumulatorSpec{false, 16, AccOverflow::saturate, 2, 0}));
  EXPECT_EQ(to_string(parse_accumulator("acc:int16:saturate:group=2:flush=4")),
            "acc:int16:sat:group=2:flush=4");
  EXPECT_EQ(to_string(parse_accumulator("acc:int32:fp32-epilogue:sat:group=32")),
            "acc:int32:sat:group=32:fp32-epilogue");
}

TEST(Syntax, RoundingAndOverflowNames) {
  for (Rounding r : {Rounding::nearest_even, Rounding::nearest_away, Rounding::toward_zero,
                     Rounding::up, Rounding::down, Rounding::odd, Rounding::stochastic,
                     Rounding::niti_psr})
    EXPECT_EQ(parse_rounding_name(to_string(r)), r) << to_string(r);
  EXPECT_EQ(parse_rounding_name("niti-psr"), Rounding::niti_psr);
  for (Overflow o : {Overflow::to_inf, Overflow::to_nan, Overflow::saturate, Overflow::wrap})
    EXPECT_EQ(parse_overflow(to_string(o)), o) << to_string(o);
  EXPECT_EQ(parse_overflow("to-nan"), Overflow::to_nan);
  EXPECT_EQ(error_of(parse_rounding_name, "rne"),
            "bad rounding \"rne\": expected nearest-even, nearest-away, toward-zero, up, down, odd, "
            "stochastic or niti-psr");
  EXPECT_EQ(error_of(parse_overflow, "clamp"),
            "bad overflow \"clamp\": expected to-inf, to-nan, saturate or wrap");
}

// Every float descriptor in a grid: valid ones round-trip, invalid ones fail to parse.
TEST(Syntax, FloatGridRoundTrips) {
  int valid = 0;
  for (int e = 0; e <= 12; ++e)
    for (int m = 0; m <= 53; ++m)
      for (Specials s : {Specials::ieee, Specials::fn, Specials::fnuz, Specials::finite})
        for (Subnormals sub : {Subnormals::gradual, Subnormals::flush, Subnormals::none})
          for (bool is_signed : {true, false})
            for (int bias_delta : {0, 1, -3}) {
              const int ieee_bias = e >= 1 && e <= 11 ? (1 << (e - 1)) - 1 : 0;
              const FloatFormat f{e, m, ieee_bias + bias_delta, is_signed, sub, s};
              if (validate(f).empty()) {
                expect_round_trip(f, [](std::string_view t) { return std::get<FloatFormat>(parse_format(t)); });
                ++valid;
              } else {
                EXPECT_THROW(parse_format(to_string(f)), SyntaxError) << to_string(f);
              }
            }
  EXPECT_GT(valid, 10000);
}

TEST(Syntax, FixedGridRoundTrips) {
  int valid = 0;
  for (int i = 0; i <= 65; ++i)
    for (int fr = 0; fr <= 65; fr += (fr < 8 ? 1 : 7))
      for (bool is_signed : {true, false})
        for (bool sym : {false, true}) {
          const FixedFormat f{i, fr, is_signed, sym};
          if (validate(f).empty()) {
            expect_round_trip(f, [](std::string_view t) { return std::get<FixedFormat>(parse_format(t)); });
            ++valid;
          } else {
            EXPECT_THROW(parse_format(to_string(f)), SyntaxError) << to_string(f);
          }
        }
  EXPECT_GT(valid, 500);
}

TEST(Syntax, BlockGridRoundTrips) {
  std::vector<ScalarFormat> elements;
  for (const auto& preset : float_presets()) elements.push_back(preset.format);
  for (std::string_view text : {"int4", "int8", "int16", "int8:sym", "uint8", "q1.6", "q3.4", "e3m4",
                                "e4m3:ieee", "e2m1:unsigned", "e5m2:fnuz:bias=16:flush"})
    elements.push_back(parse_scalar_format(text));
  int valid = 0;
  for (const ScalarFormat& element : elements)
    for (ExponentRule rule : {ExponentRule::das, ExponentRule::niti, ExponentRule::wageubn, ExponentRule::mx})
      for (BlockScope scope : {BlockScope::tensor, BlockScope::row, BlockScope::block})
        for (int size : {1, 32, 100})
          for (int shift : {0, 2, 5}) {
            if ((scope != BlockScope::block && size != 32) || (rule != ExponentRule::das && shift != 2))
              continue;  // fields the value ignores are not printed
            const BlockFormat f{element, rule, shift, scope, size};
            if (!validate(f).empty()) continue;
            expect_round_trip(f, [](std::string_view t) { return std::get<BlockFormat>(parse_format(t)); });
            ++valid;
          }
  EXPECT_GT(valid, 700);
}

TEST(Syntax, AccumulatorGridRoundTrips) {
  expect_round_trip(AccumulatorSpec{.exact = true}, parse_accumulator);
  for (int bits = 2; bits <= 64; ++bits)
    for (AccOverflow o : {AccOverflow::wrap, AccOverflow::saturate})
      for (int group : {1, 2, 4})
        for (int flush : {0, 4, 256}) {
          const AccumulatorSpec a{false, bits, o, group, flush};
          ASSERT_EQ(validate(a), "");
          expect_round_trip(a, parse_accumulator);
        }
}

TEST(Syntax, ScalarFormatsRejectBlocks) {
  EXPECT_EQ(parse_scalar_format("e5m2"), ScalarFormat(*find_float_preset("e5m2")));
  EXPECT_EQ(parse_scalar_format("q1.6"), ScalarFormat(FixedFormat{1, 6, true, false}));
  EXPECT_EQ(error_of(parse_scalar_format, "mxfp8"),
            "bad format \"mxfp8\": a block format, where a scalar (float or fixed-point) format is needed");
  EXPECT_EQ(total_bits(parse_scalar_format("e8m0")), 8);
  EXPECT_EQ(total_bits(parse_scalar_format("uq2.3")), 5);
}

TEST(Syntax, ErrorsNameTheTextAndTheProblem) {
  EXPECT_EQ(format_error("e0m3"), "bad format \"e0m3\": 0 exponent bits (need 1..11)");
  EXPECT_EQ(format_error("e4m3:ieee:fn"), "bad format \"e4m3:ieee:fn\": encoding given twice");
  EXPECT_EQ(format_error("e4m3:bias=x"),
            "bad format \"e4m3:bias=x\": \"bias=x\" needs an integer after '='");
  EXPECT_EQ(format_error("e2m3:ieee:fast"),
            "bad format \"e2m3:ieee:fast\": unknown float option \"fast\" (expected ieee, fn, fnuz, "
            "finite, bias=N, gradual, flush, nosub, signed or unsigned)");
  EXPECT_EQ(format_error("int1"), "bad format \"int1\": 1 bits (need 2..64)");
  EXPECT_EQ(format_error("uint8:sym"), "bad format \"uint8:sym\": symmetric range needs a signed format");
  EXPECT_EQ(format_error("e4m3::fn"), "bad format \"e4m3::fn\": empty field between ':'");
  EXPECT_NE(format_error("float8").find("bad format \"float8\": unknown format (expected a preset"),
            std::string::npos);
  EXPECT_NE(format_error("").find("bad format \"\": empty"), std::string::npos);
  EXPECT_EQ(format_error("mxfp6:e4m3"), "bad format \"mxfp6:e4m3\": mxfp6 needs a 6-bit float element");
  EXPECT_EQ(format_error("mxfp8:shift=1"), "bad format \"mxfp8:shift=1\": shift= applies to the das rule only");
  EXPECT_EQ(format_error("block:int8"),
            "bad format \"block:int8\": missing exponent rule (das, niti, wageubn or mx) after the element");
  EXPECT_EQ(format_error("block:das"), "bad format \"block:das\": missing element format");
  EXPECT_EQ(format_error("block:foo:das"), "bad format \"block:foo:das\": element \"foo\" is not a scalar format");
  EXPECT_EQ(format_error("dfp16:row:block=4"),
            "bad format \"dfp16:row:block=4\": scope (tensor, row or block=N) given twice");
  EXPECT_EQ(format_error("dfp16:block=0"), "bad format \"dfp16:block=0\": block size 0 (need 1..1048576)");
  EXPECT_EQ(format_error("dfp4:shift=4"),
            "bad format \"dfp4:shift=4\": add_shift 4 (need 0..element bits - 1)");
  EXPECT_EQ(format_error("dfp1"), "bad format \"dfp1\": element format: 1 bits (need 2..64)");
  EXPECT_EQ(error_of(parse_accumulator, "acc:int32:sat:flush=256:fp32-epilogue"),
            "bad accumulator \"acc:int32:sat:flush=256:fp32-epilogue\": the fp32 epilogue needs an "
            "unflushed accumulator");
  EXPECT_EQ(error_of(parse_accumulator, "acc:int32"),
            "bad accumulator \"acc:int32\": missing overflow behaviour: wrap or sat");
  EXPECT_EQ(error_of(parse_accumulator, "acc:int65:wrap"),
            "bad accumulator \"acc:int65:wrap\": 65 accumulator bits (need 2..64)");
  EXPECT_EQ(error_of(parse_accumulator, "acc:int32:wrap:group=2:flush=3"),
            "bad accumulator \"acc:int32:wrap:group=2:flush=3\": flush interval 3 is not a multiple of "
            "group 2");
  EXPECT_EQ(error_of(parse_accumulator, "acc:exact:wrap"),
            "bad accumulator \"acc:exact:wrap\": acc:exact takes no options");
  EXPECT_EQ(error_of(parse_accumulator, "int32"),
            "bad accumulator \"int32\": expected acc:exact or "
            "acc:intN:wrap|sat[:group=G][:flush=K][:fp32-epilogue]");
}

}  // namespace
}  // namespace lpsim
