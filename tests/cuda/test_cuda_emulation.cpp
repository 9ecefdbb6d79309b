// The CUDA int8 kernels' host emulation (fast/cuda) against reference/gemm, bit for bit: the PTX
// fragment layouts, the instruction models, then whole GEMMs over shapes that straddle the
// 16x8x32 mma tile, the 32x32 warp tile and the 4-wide dp4a step, with small, full-range, all
// -128 and extreme fills, K long enough to overflow int32, and NITI's fp32 epilogue.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fast/cuda/cuda_gemm.hpp"
#include "tests/cuda/gemm_cases.hpp"

namespace lpsim::fast::gpu {
namespace {

// Every (row, col) of a rows x cols fragment is held by exactly one (lane, element).
template <class Element>
void expect_bijection(Element element, int per_lane, int rows, int cols) {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < kWarpSize; ++lane)
    for (int i = 0; i < per_lane; ++i) {
      const Coord x = element(lane, i);
      ASSERT_TRUE(x.row >= 0 && x.row < rows && x.col >= 0 && x.col < cols)
          << "lane " << lane << " element " << i;
      EXPECT_TRUE(seen.insert({x.row, x.col}).second) << "lane " << lane << " element " << i;
    }
  EXPECT_EQ(seen.size(), std::size_t(rows) * cols);
}

TEST(CudaFragments, EachLayoutCoversItsMatrixOnce) {
  expect_bijection(a_element, kARegs * 4, kMmaM, kMmaK);
  expect_bijection(b_element, kBRegs * 4, kMmaK, kMmaN);
  expect_bijection(c_element, kCRegs, kMmaM, kMmaN);
}

// Lane 13: groupID 3, threadID_in_group 1 (PTX ISA, mma.m16n8k32 .s8 fragment figures).
TEST(CudaFragments, MatchThePtxFiguresForOneLane) {
  auto eq = [](Coord x, int row, int col) { return x.row == row && x.col == col; };
  EXPECT_TRUE(eq(a_element(13, 0), 3, 4));     // a0: groupID, tig*4
  EXPECT_TRUE(eq(a_element(13, 5), 11, 5));    // a5: groupID+8, tig*4+1
  EXPECT_TRUE(eq(a_element(13, 10), 3, 22));   // a10: groupID, tig*4+2+16
  EXPECT_TRUE(eq(a_element(13, 15), 11, 23));  // a15: groupID+8, tig*4+3+16
  EXPECT_TRUE(eq(b_element(13, 2), 6, 3));     // b2: tig*4+2, groupID
  EXPECT_TRUE(eq(b_element(13, 7), 23, 3));    // b7: tig*4+3+16, groupID
  EXPECT_TRUE(eq(c_element(13, 1), 3, 3));     // c1: groupID, tig*2+1
  EXPECT_TRUE(eq(c_element(13, 2), 11, 2));    // c2: groupID+8, tig*2
}

TEST(CudaDp4a, SignExtendsBytesAndWrapsOrSaturatesOnce) {
  const std::uint32_t min4 = pack_s8x4(-128, -128, -128, -128);
  EXPECT_EQ(dot4(min4, min4), 65536);
  EXPECT_EQ(dot4(pack_s8x4(1, -2, 3, -4), pack_s8x4(-5, 6, 7, 127)), -5 - 12 + 21 - 508);
  EXPECT_EQ(Dp4aModel{false}(min4, min4, kInt32Max - 1), kInt32Min + 65534);
  EXPECT_EQ(Dp4aModel{true}(min4, min4, kInt32Max - 1), kInt32Max);
  // One clamp of the exact sum 16384 - 16256: adding the products one by one would clamp at
  // the first and end at kInt32Max - 16256.
  EXPECT_EQ(Dp4aModel{true}(pack_s8x4(-128, -128, 0, 0), pack_s8x4(-128, 127, 0, 0),
                            kInt32Max - 200),
            kInt32Max - 72);
}

TEST(CudaEpilogue, NitiRoundsThroughFp32AndClamps) {
  EXPECT_EQ(niti_epilogue(16777215), 16777215);  // below 2^24: exact
  EXPECT_EQ(niti_epilogue(16777217), 16777216);  // ties to even
  EXPECT_EQ(niti_epilogue(16777219), 16777220);
  EXPECT_EQ(niti_epilogue(-16777219), -16777220);
  EXPECT_EQ(niti_epilogue(kInt32Max), kInt32Max);  // float 2^31, clamped back
  EXPECT_EQ(niti_epilogue(kInt32Max - 63), kInt32Max);         // tie between 2^31 - 128 and 2^31
  EXPECT_EQ(niti_epilogue(kInt32Max - 64), kInt32Max - 127);   // nearer 2^31 - 128
  EXPECT_EQ(niti_epilogue(kInt32Min), kInt32Min);
}

TEST(CudaPolicy, AcceptsItsOwnGroupsOnly) {
  std::int8_t a = 1, b = 1;
  std::int32_t c = 0;
  AccumulatorSpec spec;
  spec.overflow = AccOverflow::saturate;
  for (int group : {1, 2, 4, 32}) {
    spec.group = group;
    const GemmCall call = contiguous_gemm(ElementType::int8, 1, 1, 1, &a, &b, &c, nullptr, spec);
    EXPECT_EQ(unsupported(Int8Kernel::dp4a, call).empty(), group == 4) << group;
    EXPECT_EQ(unsupported(Int8Kernel::mma, call).empty(), group == 32) << group;
  }
  spec = AccumulatorSpec{};
  spec.group = 7;  // a wrapping sum does not depend on grouping
  const GemmCall wrap = contiguous_gemm(ElementType::int8, 1, 1, 1, &a, &b, &c, nullptr, spec);
  EXPECT_TRUE(unsupported(Int8Kernel::mma, wrap).empty());
  spec.group = 4;
  spec.flush_every = 32;  // Das' chains: not what these kernels do
  float total = 0;
  EXPECT_FALSE(unsupported(Int8Kernel::mma, contiguous_gemm(ElementType::int8, 1, 1, 1, &a, &b,
                                                             nullptr, &total, spec))
                   .empty());
  spec = AccumulatorSpec{};
  const GemmCall int16 = contiguous_gemm(ElementType::int16, 1, 1, 1, &a, &b, &c, nullptr, spec);
  EXPECT_FALSE(unsupported(Int8Kernel::dp4a, int16).empty());
}

using testing::GemmCase;

void expect_emulation_matches_reference(const GemmCase& c) {
  SCOPED_TRACE(testing::describe(c));
  const testing::Operands operands = testing::make_operands(c);
  const std::vector<std::int32_t> expected =
      testing::expected_outputs(c, operands, testing::case_spec(c));
  // Trust gate: a mostly-zero expectation proves little.
  ASSERT_GE(testing::nonzero_share(expected), 0.1);
  const testing::RunResult got = testing::run_case(c, operands, emulate_gemm);
  EXPECT_FALSE(got.padding_written);
  EXPECT_EQ(testing::first_mismatch(c, got.outputs, expected), "");
}

TEST(CudaEmulation, StandardCasesMatchTheReference) {
  for (const GemmCase& c : testing::standard_cases()) expect_emulation_matches_reference(c);
}

TEST(CudaEmulation, OverflowingDotsMatchTheReference) {
  for (const GemmCase& c : testing::overflow_cases()) expect_emulation_matches_reference(c);
}

// The climb-then-fall case tells saturation groups apart: the emulated mma matches group 32 and
// not per-product or dp4a-sized groups, and the saturated result differs from the wrapped one.
TEST(CudaEmulation, SaturationPointsAreVisible) {
  const GemmCase c{Int8Kernel::mma, true, 2, 3, 200000, Fill::min,
                   testing::Pattern::climb_then_fall};
  const testing::Operands operands = testing::make_operands(c);
  const std::vector<std::int32_t> got = testing::run_case(c, operands, emulate_gemm).outputs;
  EXPECT_EQ(got, testing::expected_outputs(c, operands, saturating_spec(Int8Kernel::mma)));
  for (int group : {1, 4}) {
    AccumulatorSpec other = saturating_spec(Int8Kernel::mma);
    other.group = group;
    EXPECT_NE(got, testing::expected_outputs(c, operands, other)) << "group " << group;
  }
  EXPECT_NE(got, testing::expected_outputs(c, operands, AccumulatorSpec{}));
}

TEST(CudaEmulation, NitiEpilogueMatchesTheReferenceFp32Total) {
  // 1101 products of 16129 make an odd sum above 2^24, which fp32 rounds; 140000 of 16384
  // saturate to INT32_MAX, whose fp32 value 2^31 clamps back.
  std::vector<GemmCase> cases;
  for (Int8Kernel kernel : {Int8Kernel::dp4a, Int8Kernel::mma}) {
    cases.push_back({kernel, false, 17, 9, 1101, Fill::min, testing::Pattern::all_minus_127, true});
    cases.push_back({kernel, true, 2, 3, 140000, Fill::min, testing::Pattern::fill, true});
    cases.push_back({kernel, false, 33, 31, 65, Fill::full, testing::Pattern::fill, true});
  }
  for (const GemmCase& c : cases) expect_emulation_matches_reference(c);
  // Those odd sums above 2^24 did change in the epilogue.
  const GemmCase plain{Int8Kernel::mma, false, 17, 9, 1101, Fill::min,
                       testing::Pattern::all_minus_127};
  const testing::Operands operands = testing::make_operands(plain);
  const std::vector<std::int32_t> exact = testing::expected_outputs(plain, operands, AccumulatorSpec{});
  GemmCase niti = plain;
  niti.niti_epilogue = true;
  EXPECT_NE(exact, testing::expected_outputs(niti, operands, testing::case_spec(niti)));
}

}  // namespace
}  // namespace lpsim::fast::gpu
