// Flushing subnormal numbers to zero while a reverse sweep runs. Adjoints that decay along long
// chains (the early nodes of an unrolled simulation, a long chain's first inputs) pass through the
// subnormal range below 2.2e-308 on their way to zero, and on Intel CPUs every arithmetic
// operation on a subnormal takes a microcode assist of about a hundred cycles: the scalar-chain
// benchmark's sweep (docs/benchmarks.md) ran 8x slower for it. With the flush on, such values
// are taken as 0; nothing of normal magnitude changes. x86-64 only (the MXCSR's FTZ and DAZ
// bits); elsewhere this does nothing.
#pragma once

namespace maya {

// While alive, the calling thread flushes subnormal results and inputs to zero; the previous
// mode comes back when it is destroyed. Does nothing when constructed with `enabled = false`.
class FlushSubnormals {
 public:
  explicit FlushSubnormals(bool enabled = true) noexcept;
  ~FlushSubnormals();
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned saved_ = 0;
  bool active_ = false;
};

// Whether this build can flush subnormals (false off x86-64, where FlushSubnormals is a no-op).
[[nodiscard]] bool can_flush_subnormals() noexcept;

}  // namespace maya
