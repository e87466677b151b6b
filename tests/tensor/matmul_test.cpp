#include <gtest/gtest.h>

#include <functional>
#include <maya/maya.hpp>
#include <random>
#include <string>

#include "support/weighted_losses.hpp"

namespace {

using maya_test::weighted_sum;

using maya::Shape;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

// numpy.matmul by its definition, one output element at a time.
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  Shape sa = a.shape();
  Shape sb = b.shape();
  const bool a_vector = sa.size() == 1;
  const bool b_vector = sb.size() == 1;
  if (a_vector) sa.insert(sa.begin(), 1);
  if (b_vector) sb.push_back(1);
  const std::size_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  const Shape batch_a(sa.begin(), sa.end() - 2);
  const Shape batch_b(sb.begin(), sb.end() - 2);
  const Shape batch = maya::broadcast_shapes(batch_a, batch_b, "reference");
  Shape out_shape = batch;
  if (!a_vector) out_shape.push_back(m);
  if (!b_vector) out_shape.push_back(n);
  std::vector<double> out;
  const std::size_t nb = maya::numel_of(batch);
  for (std::size_t flat = 0; flat < nb; ++flat) {
    // Multi-index of this batch entry, then the operands' broadcast matrix indices.
    std::vector<std::size_t> coord(batch.size());
    std::size_t rest = flat;
    for (std::size_t d = batch.size(); d-- > 0;) {
      coord[d] = rest % batch[d];
      rest /= batch[d];
    }
    const auto matrix_index = [&](const Shape& own) {
      std::size_t index = 0;
      const std::size_t lead = batch.size() - own.size();
      for (std::size_t d = 0; d < own.size(); ++d) {
        index = index * own[d] + (own[d] == 1 ? 0 : coord[lead + d]);
      }
      return index;
    };
    const std::size_t ia = matrix_index(batch_a);
    const std::size_t ib = matrix_index(batch_b);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        double total = 0.0;
        for (std::size_t p = 0; p < k; ++p) {
          total += a.data()[ia * m * k + i * k + p] * b.data()[ib * k * n + p * n + j];
        }
        out.push_back(total);
      }
    }
  }
  return Tensor::from_data(out, out_shape);
}

void expect_matmul_matches(const Shape& sa, const Shape& sb, std::uint64_t seed) {
  const Tensor a = Tensor::uniform(sa, -1.0, 1.0, seed);
  const Tensor b = Tensor::uniform(sb, -1.0, 1.0, seed + 1000);
  const std::string label = maya::shape_string(sa) + " x " + maya::shape_string(sb);
  TensorTape t;
  const Tensor value = maya::matmul(t.var(a), t.var(b)).value();
  const Tensor expected = reference_matmul(a, b);
  ASSERT_EQ(value.shape(), expected.shape()) << label;
  EXPECT_LT(maya::max_abs_difference(value, expected), 1e-12) << label;

  const Tensor inputs[] = {a, b};
  const auto report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) {
        return weighted_sum(maya::matmul(x[0], x[1]));
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-7) << label;
  EXPECT_EQ(report.analytic[0].shape(), sa) << label;
  EXPECT_EQ(report.analytic[1].shape(), sb) << label;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const maya::ShapeError& e) {
    return e.what();
  }
  return "no ShapeError";
}

}  // namespace

TEST(Matmul, SeedExampleGradientsAreOnesTimesTransposes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::from_data({1, 2, 3, 4, 5, 6}, {2, 3}));
  const TensorVar b = t.var(Tensor::from_data({7, 8, 9, 10, 11, 12}, {3, 2}));
  const TensorVar c = a.matmul(b);
  EXPECT_EQ(c.value().shape(), (Shape{2, 2}));
  EXPECT_TRUE(maya::allclose(c.value(), Tensor::from_data({58, 64, 139, 154}, {2, 2}), 0, 0));
  const auto g = t.grad(c.sum());
  // dA = ones(2,2) B^T: every row holds B's row sums; dB = A^T ones(2,2): A's column sums.
  EXPECT_TRUE(maya::allclose(g[a], Tensor::from_data({15, 19, 23, 15, 19, 23}, {2, 3}), 0, 0));
  EXPECT_TRUE(maya::allclose(g[b], Tensor::from_data({5, 5, 7, 7, 9, 9}, {3, 2}), 0, 0));
}

TEST(Matmul, MatrixAndVectorCasesMatchNumpyAndCentralDifferences) {
  const std::pair<Shape, Shape> cases[] = {
      {{2, 3}, {3, 4}}, {{1, 1}, {1, 1}}, {{3}, {3, 4}},    {{2, 3}, {3}},
      {{4}, {4}},       {{5, 1}, {1, 6}}, {{2, 4, 3}, {3}}, {{3}, {2, 3, 4}},
  };
  std::uint64_t seed = 11;
  for (const auto& [sa, sb] : cases) expect_matmul_matches(sa, sb, seed++);
}

TEST(Matmul, BatchedWithBroadcastBatchAxes) {
  const std::pair<Shape, Shape> cases[] = {
      {{2, 3, 4}, {2, 4, 5}},    {{2, 3, 4}, {4, 5}},    {{3, 4}, {2, 4, 5}},
      {{2, 1, 3, 4}, {5, 4, 2}}, {{1, 3, 2}, {4, 2, 3}}, {{3, 1, 2, 2}, {1, 4, 2, 3}},
  };
  std::uint64_t seed = 41;
  for (const auto& [sa, sb] : cases) expect_matmul_matches(sa, sb, seed++);
}

TEST(Matmul, RandomBroadcastCompatibleShapes) {
  std::mt19937_64 rng(2024);
  const auto pick = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 25; ++trial) {
    const std::size_t m = pick(1, 4), k = pick(1, 4), n = pick(1, 4);
    // A common batch shape; each operand keeps a suffix of it, with some extents set to 1.
    Shape batch(pick(0, 3));
    for (std::size_t& extent : batch) extent = pick(1, 3);
    const auto own_batch = [&]() {
      Shape own(batch.end() - static_cast<long>(pick(0, batch.size())), batch.end());
      for (std::size_t& extent : own) {
        if (pick(0, 2) == 0) extent = 1;
      }
      return own;
    };
    Shape sa = own_batch();
    Shape sb = own_batch();
    const bool a_vector = pick(0, 5) == 0;
    const bool b_vector = pick(0, 5) == 0;
    if (a_vector) {
      sa = {k};
    } else {
      sa.push_back(m);
      sa.push_back(k);
    }
    if (b_vector) {
      sb = {k};
    } else {
      sb.push_back(k);
      sb.push_back(n);
    }
    expect_matmul_matches(sa, sb, 100 + static_cast<std::uint64_t>(trial));
  }
}

TEST(Matmul, ConstantOperandGetsNoGradientAndVarStillDoes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::from_data({1, 2, 3, 4}, {2, 2}));
  const TensorVar b = t.constant(Tensor::from_data({1, 0, 0, 2}, {2, 2}));
  const auto g = t.grad(maya::matmul(b, a).sum());
  // d/dA sum(B A) = B^T ones.
  EXPECT_TRUE(maya::allclose(g[a], Tensor::from_data({1, 1, 2, 2}, {2, 2}), 0, 0));
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::zeros({2, 0}));
  const TensorVar b = t.var(Tensor::zeros({0, 3}));
  const TensorVar c = maya::matmul(a, b);
  EXPECT_TRUE(maya::allclose(c.value(), Tensor::zeros({2, 3}), 0, 0));
  const auto g = t.grad(c.sum());
  EXPECT_EQ(g[a].shape(), (Shape{2, 0}));
}

TEST(Matmul, InnerDimensionMismatchNamesBothShapes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::zeros({2, 3}));
  const TensorVar b = t.var(Tensor::zeros({4, 5}));
  EXPECT_EQ(error_of([&] { (void)maya::matmul(a, b); }),
            "matmul: inner dimensions differ: [2, 3] x [4, 5]");
  const TensorVar v = t.var(Tensor::zeros({4}));
  EXPECT_EQ(error_of([&] { (void)a.matmul(v); }), "matmul: inner dimensions differ: [2, 3] x [4]");
  EXPECT_EQ(error_of([&] { (void)maya::matmul(v, a); }),
            "matmul: inner dimensions differ: [4] x [2, 3]");
}

TEST(Matmul, IncompatibleBatchAxesNameBothShapes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::zeros({2, 3, 4}));
  const TensorVar b = t.var(Tensor::zeros({3, 4, 5}));
  EXPECT_EQ(error_of([&] { (void)maya::matmul(a, b); }),
            "matmul: batch dimensions cannot be broadcast: [2, 3, 4] x [3, 4, 5]");
}

TEST(Matmul, ZeroDimensionalOperandIsRejected) {
  TensorTape t;
  const TensorVar s = t.var(Tensor::scalar(2.0));
  const TensorVar a = t.var(Tensor::zeros({2, 2}));
  const std::string message = error_of([&] { (void)maya::matmul(s, a); });
  EXPECT_NE(message.find("matmul"), std::string::npos);
  EXPECT_NE(message.find("[] x [2, 2]"), std::string::npos) << message;
}
