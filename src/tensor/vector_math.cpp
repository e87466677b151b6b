#include "vector_math.hpp"

#include <Eigen/Core>
#include <algorithm>

namespace maya::detail {
namespace {

// Fixed-size blocks on the stack: no allocation per call, and Eigen vectorizes fixed-size
// expressions fully. The tail is copied into a zero-padded block.
constexpr Eigen::Index kBlock = 64;
using Block = Eigen::Array<double, kBlock, 1>;
using ConstMap = Eigen::Map<const Block, Eigen::Unaligned>;
using Map = Eigen::Map<Block, Eigen::Unaligned>;

template <class Kernel>
void blockwise(const double* in, double* out, std::size_t n, Kernel&& kernel) {
  const auto count = static_cast<Eigen::Index>(n);
  Eigen::Index start = 0;
  for (; start + kBlock <= count; start += kBlock) {
    kernel(ConstMap(in + start), Map(out + start));
  }
  if (start < count) {
    const Eigen::Index rest = count - start;
    Block padded_in = Block::Zero();
    Block padded_out;
    std::copy(in + start, in + count, padded_in.data());
    kernel(ConstMap(padded_in.data()), Map(padded_out.data()));
    std::copy(padded_out.data(), padded_out.data() + rest, out + start);
  }
}

// Eigen's packet exp clamps its argument near -709. Below that the result is subnormal:
// exp(x) = exp(x / 2)^2 (x / 2 is exact); below log(smallest subnormal) it rounds to 0.
template <class Expression>
Block exp_or_zero(const Expression& x) {
  const Block v = x;
  const Block subnormal = (0.5 * v).exp().square();
  return (v < -745.2).select(Block::Zero(), (v < -708.0).select(subnormal, v.exp()));
}

}  // namespace

void vector_tanh(const double* in, double* out, std::size_t n) noexcept {
  blockwise(in, out, n, [](const ConstMap& x, Map y) {
    const Block magnitude = x.abs();
    const Block e = (-2.0 * magnitude).exp();
    // tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - 1382x^11/155925
    //          + 21844x^13/6081075 - 929569x^15/638512875 + O(x^17); below |x| = 1/8 the next
    //          term is under 1e-18 relative.
    const Block x2 = x * x;
    const Block series =
        x * (1.0 +
             x2 * (-1.0 / 3.0 +
                   x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 +
                                            x2 * (62.0 / 2835.0 +
                                                  x2 * (-1382.0 / 155925.0 +
                                                        x2 * (21844.0 / 6081075.0 +
                                                              x2 * (-929569.0 / 638512875.0))))))));
    const Block large = ((1.0 - e) / (1.0 + e)) * x.sign();
    y = (magnitude < 0.125).select(series, large);
  });
}

void vector_sigmoid(const double* in, double* out, std::size_t n) noexcept {
  blockwise(in, out, n, [](const ConstMap& x, Map y) {
    // e = exp(-|x|) never overflows; sigmoid = 1 / (1 + e) for x >= 0, e / (1 + e) otherwise.
    const Block e = exp_or_zero(-x.abs());
    y = (x >= 0.0).select(1.0 / (1.0 + e), e / (1.0 + e));
  });
}

void vector_exp(const double* in, double* out, std::size_t n) noexcept {
  blockwise(in, out, n, [](const ConstMap& x, Map y) { y = exp_or_zero(x); });
}

}  // namespace maya::detail
