// The loss scalers step by step against their reference code's rules (SCHEMES.md §4).
#include <gtest/gtest.h>

#include "sim/schemes/loss_scaler.hpp"
#include "sim/schemes/scheme.hpp"

namespace lpsim::schemes {
namespace {

// Runs `n` steps without overflow; returns how many were skipped.
int good_steps(LossScaler& s, int n) {
  int skipped = 0;
  for (int i = 0; i < n; ++i) skipped += s.update(false);
  return skipped;
}

TEST(LossScaler, NoScalingNeverSkips) {
  LossScaler s(no_loss_scaling());
  EXPECT_EQ(s.scale(), 1.0);
  EXPECT_FALSE(s.update(true));
  EXPECT_FALSE(s.update(false));
  EXPECT_EQ(s.scale(), 1.0);
}

TEST(LossScaler, StaticSkipsOverflowsAndKeepsItsScale) {
  LossScaler s(static_loss_scale(128));
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 128.0);
  EXPECT_EQ(good_steps(s, 5000), 0);
  EXPECT_EQ(s.scale(), 128.0);
  EXPECT_THROW(static_loss_scale(0), std::invalid_argument);
}

TEST(LossScaler, ApexAmp) {
  LossScaler s(dynamic_loss_scale("apex"));
  EXPECT_EQ(s.scale(), 0x1p16);
  EXPECT_TRUE(s.update(true));  // overflow: skip, halve, reset the counter
  EXPECT_EQ(s.scale(), 0x1p15);
  EXPECT_EQ(good_steps(s, 1999), 0);
  EXPECT_EQ(s.scale(), 0x1p15);
  EXPECT_EQ(s.growth_tracker(), 1999);
  EXPECT_FALSE(s.update(false));  // the 2000th good step in a row doubles
  EXPECT_EQ(s.scale(), 0x1p16);
  EXPECT_EQ(s.growth_tracker(), 0);
  good_steps(s, 1000);
  s.update(true);  // an overflow restarts the count
  good_steps(s, 1999);
  EXPECT_EQ(s.scale(), 0x1p15);
  s.update(false);
  EXPECT_EQ(s.scale(), 0x1p16);
  good_steps(s, 2000 * 8);  // capped at 2^24
  EXPECT_EQ(s.scale(), 0x1p24);
  for (int i = 0; i < 100; ++i) s.update(true);  // no floor
  EXPECT_EQ(s.scale(), 0x1p-76);
}

TEST(LossScaler, ApexFp16UtilsGrowsOnMultiplesSinceTheLastOverflow) {
  LossScaler s(dynamic_loss_scale("apex-fp16-utils"));
  EXPECT_EQ(s.scale(), 0x1p32);
  // last_overflow_iter starts at -1: the first growth is at iteration 999.
  good_steps(s, 999);
  EXPECT_EQ(s.scale(), 0x1p32);
  s.update(false);
  EXPECT_EQ(s.scale(), 0x1p33);
  good_steps(s, 1000);  // iterations 1000..1999: growth at 1999
  EXPECT_EQ(s.scale(), 0x1p34);
  // Overflow at iteration 2000: halve; the next growth is at 3000, not after 1000 good steps.
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale(), 0x1p33);
  good_steps(s, 999);  // 2001..2999
  EXPECT_EQ(s.scale(), 0x1p33);
  EXPECT_EQ(s.growth_tracker(), 1000);
  s.update(false);  // 3000
  EXPECT_EQ(s.scale(), 0x1p34);
  for (int i = 0; i < 40; ++i) s.update(true);  // floor 1
  EXPECT_EQ(s.scale(), 1.0);
}

TEST(LossScaler, TorchGradScaler) {
  LossScaler s(dynamic_loss_scale("torch"));
  EXPECT_EQ(s.scale(), 0x1p16);
  good_steps(s, 1999);
  EXPECT_EQ(s.scale(), 0x1p16);
  s.update(false);
  EXPECT_EQ(s.scale(), 0x1p17);
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(s.update(true));  // no floor
  EXPECT_EQ(s.scale(), 0x1p-13);
  // A growth past float32's range is refused, and the tracker still resets.
  LossScalePolicy p = dynamic_loss_scale("torch");
  p.init = 0x1p127;
  p.interval = 3;
  LossScaler top(p);
  good_steps(top, 3);
  EXPECT_EQ(top.scale(), 0x1p127);
  EXPECT_EQ(top.growth_tracker(), 0);
}

TEST(LossScaler, TensorFlow) {
  LossScaler s(dynamic_loss_scale("tensorflow"));
  EXPECT_EQ(s.scale(), 0x1p15);
  good_steps(s, 2000);
  EXPECT_EQ(s.scale(), 0x1p16);
  for (int i = 0; i < 30; ++i) s.update(true);  // floor 1
  EXPECT_EQ(s.scale(), 1.0);
  s.update(false);
  EXPECT_EQ(s.growth_tracker(), 1);
}

TEST(LossScaler, UnknownVariant) {
  EXPECT_THROW(dynamic_loss_scale("dynamic-ish"), std::invalid_argument);
}

TEST(Fp16MixedOptions, LossScaleChoices) {
  EXPECT_EQ(make_scheme("fp16-mixed", {}, 0)->loss_scaling().name, "apex");
  const LossScalePolicy fixed =
      make_scheme("fp16-mixed", {{"loss_scale", "1024"}}, 0)->loss_scaling();
  EXPECT_EQ(fixed.name, "static");
  EXPECT_EQ(fixed.init, 1024.0);
  const LossScalePolicy tuned =
      make_scheme("fp16-mixed",
                  {{"loss_scale", "torch"}, {"init_scale", "8"}, {"growth_interval", "10"}}, 0)
          ->loss_scaling();
  EXPECT_EQ(tuned.init, 8.0);
  EXPECT_EQ(tuned.interval, 10);
  EXPECT_TRUE(tuned.float32_scale);
}

std::string scheme_error(const std::string& scheme, const SchemeOptions& options) {
  try {
    make_scheme(scheme, options, 0);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Fp16MixedOptions, Errors) {
  EXPECT_EQ(scheme_error("fp16-mixed", {{"loss_scal", "8"}}),
            "scheme fp16-mixed has no option \"loss_scal\" (it takes loss_scale, init_scale, "
            "growth_interval, rounding, engine)");
  EXPECT_EQ(scheme_error("fp32", {{"loss_scale", "8"}}),
            "scheme fp32 has no option \"loss_scale\" (it takes engine)");
  EXPECT_EQ(scheme_error("fp32", {{"engine", "mkl"}}),
            "scheme option engine: \"mkl\" (expected onednn or openblas)");
  EXPECT_EQ(scheme_error("fp16-mixed", {{"loss_scale", "8"}, {"init_scale", "4"}}),
            "fp16-mixed option init_scale needs a dynamic loss_scale");
  EXPECT_EQ(scheme_error("fp16-mixed", {{"loss_scale", "-3"}}),
            "unknown loss scaling \"-3\" (expected a number, apex, apex-fp16-utils, torch or "
            "tensorflow)");
  EXPECT_EQ(scheme_error("fp16-mixed", {{"rounding", "niti-psr"}}),
            "fp16-mixed option rounding: \"niti-psr\" is not a float rounding mode");
  EXPECT_EQ(scheme_error("bf16", {}),
            "unknown scheme \"bf16\" (expected fp32, fp16-mixed, dfp16, fp8-delayed, mx, wageubn-8 "
            "or niti-int8)");
}

}  // namespace
}  // namespace lpsim::schemes
