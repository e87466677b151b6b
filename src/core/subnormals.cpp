#include "maya/core/subnormals.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define MAYA_HAVE_MXCSR 1
#endif

namespace maya {

#ifdef MAYA_HAVE_MXCSR
namespace {
constexpr unsigned kFlushToZero = 1u << 15;      // subnormal results become 0
constexpr unsigned kDenormalsAreZero = 1u << 6;  // subnormal inputs are read as 0
}  // namespace

FlushSubnormals::FlushSubnormals(bool enabled) noexcept {
  if (!enabled) return;
  saved_ = _mm_getcsr();
  _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero);
  active_ = true;
}

FlushSubnormals::~FlushSubnormals() {
  if (active_) _mm_setcsr(saved_);
}

bool can_flush_subnormals() noexcept { return true; }
#else
FlushSubnormals::FlushSubnormals(bool) noexcept {}
FlushSubnormals::~FlushSubnormals() = default;
bool can_flush_subnormals() noexcept { return false; }
#endif

}  // namespace maya
