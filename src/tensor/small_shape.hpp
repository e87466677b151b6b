// Dimensions, strides or counters of one tensor, held in place up to kInline entries (on the
// heap beyond that), so an op can build them on every call without allocating: recording and
// sweeping a tape allocate nothing per op in steady state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <vector>

#include "maya/tensor/shape.hpp"

namespace maya::tensor::detail {

class SmallShape {
 public:
  static constexpr std::size_t kInline = 8;

  SmallShape() = default;
  SmallShape(std::size_t count, std::size_t value) { assign(count, value); }
  explicit SmallShape(ShapeView dims) { assign(dims.begin(), dims.end()); }
  template <std::input_iterator Iterator>
  SmallShape(Iterator first, Iterator last) {
    assign(first, last);
  }
  SmallShape(const SmallShape& other) { assign(other.begin(), other.end()); }
  SmallShape& operator=(const SmallShape& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }

  template <class Iterator>
  void assign(Iterator first, Iterator last) {
    resize(static_cast<std::size_t>(std::distance(first, last)));
    std::copy(first, last, data());
  }
  void assign(std::size_t count, std::size_t value) {
    resize(count);
    std::fill(data(), data() + count, value);
  }
  void push_back(std::size_t value) {
    resize(size_ + 1);
    data()[size_ - 1] = value;
  }
  void erase_at(std::size_t index) {
    std::copy(begin() + index + 1, end(), begin() + index);
    resize(size_ - 1);
  }
  void insert_at(std::size_t index, std::size_t value) {
    resize(size_ + 1);
    std::copy_backward(begin() + index, end() - 1, end());
    data()[index] = value;
  }
  // Keeps the first min(size, count) entries; new ones are unspecified.
  void resize(std::size_t count) {
    if (!on_heap_ && count > kInline) {
      heap_.assign(inline_, inline_ + size_);
      on_heap_ = true;
    }
    if (on_heap_) heap_.resize(count);
    size_ = count;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t* data() noexcept { return on_heap_ ? heap_.data() : inline_; }
  [[nodiscard]] const std::size_t* data() const noexcept {
    return on_heap_ ? heap_.data() : inline_;
  }
  [[nodiscard]] std::size_t& operator[](std::size_t i) noexcept { return data()[i]; }
  [[nodiscard]] std::size_t operator[](std::size_t i) const noexcept { return data()[i]; }
  [[nodiscard]] std::size_t* begin() noexcept { return data(); }
  [[nodiscard]] std::size_t* end() noexcept { return data() + size_; }
  [[nodiscard]] const std::size_t* begin() const noexcept { return data(); }
  [[nodiscard]] const std::size_t* end() const noexcept { return data() + size_; }

 private:
  std::size_t inline_[kInline] = {};
  std::vector<std::size_t> heap_;
  std::size_t size_ = 0;
  bool on_heap_ = false;
};

}  // namespace maya::tensor::detail
