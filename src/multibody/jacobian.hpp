// Exact Jacobian columns by chunked forward mode: the inputs (several blocks: state, control,
// parameters) are lifted to Dual<kChunk>, kChunk directions are seeded per evaluation, and each
// evaluated column d out / d input is handed to a sink. ceil(seeded inputs / kChunk) evaluations.
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "ad/dual.hpp"
#include "maya/core/workspace.hpp"

namespace maya::multibody::detail {

inline constexpr int kChunk = 8;
using ChunkDual = Dual<kChunk>;

struct InputBlock {
  const double* values;
  std::size_t size;
  bool seeded;  // whether columns are wanted for this block
};

// evaluate(std::vector<std::vector<ChunkDual>>& inputs, ChunkDual* out) computes the outputs;
// sink(block, index, column) receives column(i) = d out_i / d input[block][index]. The duals
// are borrowed from `workspace`.
template <class Evaluate, class Sink>
void jacobian_columns(Workspace& workspace, std::span<const InputBlock> blocks,
                      std::size_t num_outputs, Evaluate&& evaluate, Sink&& sink) {
  auto inputs_loan = workspace.borrow_unset<std::vector<ChunkDual>>(blocks.size());
  auto out_loan = workspace.borrow_unset<ChunkDual>(num_outputs);
  auto directions_loan = workspace.borrow<std::pair<std::size_t, std::size_t>>();
  std::vector<std::vector<ChunkDual>>& inputs = *inputs_loan;
  std::vector<ChunkDual>& out = *out_loan;
  std::vector<std::pair<std::size_t, std::size_t>>& directions = *directions_loan;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    if (!blocks[b].seeded) continue;
    for (std::size_t i = 0; i < blocks[b].size; ++i) directions.emplace_back(b, i);
  }
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    inputs[b].assign(blocks[b].values, blocks[b].values + blocks[b].size);
  }
  for (std::size_t start = 0; start < directions.size(); start += kChunk) {
    const std::size_t count = std::min<std::size_t>(kChunk, directions.size() - start);
    for (std::size_t s = 0; s < count; ++s) {
      const auto [b, i] = directions[start + s];
      inputs[b][i].d[s] = 1.0;
    }
    evaluate(inputs, out.data());
    for (std::size_t s = 0; s < count; ++s) {
      const auto [b, i] = directions[start + s];
      sink(b, i, [&](std::size_t row) { return out[row].d[s]; });
      inputs[b][i].d[s] = 0.0;
    }
  }
}

}  // namespace maya::multibody::detail
