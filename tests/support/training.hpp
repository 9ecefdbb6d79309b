// Helpers of the training tests: a model's weights, and two traces compared bit for bit.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/nn/models.hpp"
#include "traces/reader.hpp"

namespace lpsim::test {

// Every parameter's values, in the model's order.
inline std::vector<std::vector<float>> weights(const nn::Model& m) {
  std::vector<std::vector<float>> out;
  for (const nn::Parameter* p : m.parameters()) out.push_back(p->value.data);
  return out;
}

// The same tensor groups with the same columns, and every column of every group and /steps
// holding the same bits (NaN cells included).
inline void expect_same_traces(const std::filesystem::path& a, const std::filesystem::path& b) {
  const traces::TraceReader ra(a), rb(b);
  ASSERT_EQ(ra.tensors(), rb.tensors());
  std::vector<std::string> groups = {std::string(traces::kStepsGroup)};
  for (const traces::TensorId& t : ra.tensors())
    groups.push_back(traces::tensor_group(t.layer, t.role));
  for (const std::string& g : groups) {
    ASSERT_EQ(ra.columns(g), rb.columns(g)) << g;
    for (const traces::ColumnSpec& col : ra.columns(g)) {
      const std::vector<double> x = ra.read_float64(g, col.name), y = rb.read_float64(g, col.name);
      EXPECT_TRUE(x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * 8) == 0)
          << g << "/" << col.name;
    }
  }
}

}  // namespace lpsim::test
