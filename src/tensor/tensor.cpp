#include "maya/tensor/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "tensor/device_runtime.hpp"

namespace maya {

namespace tensor::detail {

DeviceValues::DeviceValues(std::size_t count)
    : values_(tensor::detail::device_allocate(count, "Tensor on cuda")), count_(count) {}

DeviceValues::DeviceValues(const DeviceValues& other) : count_(other.count_) {
  if (other.values_ == nullptr) return;
  values_ = tensor::detail::device_allocate(count_, "Tensor on cuda");
  tensor::detail::copy_on_device(values_, other.values_, count_);
}

DeviceValues& DeviceValues::operator=(const DeviceValues& other) {
  if (this != &other) *this = DeviceValues(other);
  return *this;
}

DeviceValues::DeviceValues(DeviceValues&& other) noexcept
    : values_(std::exchange(other.values_, nullptr)), count_(std::exchange(other.count_, 0)) {}

DeviceValues& DeviceValues::operator=(DeviceValues&& other) noexcept {
  if (this != &other) {
    tensor::detail::device_free(values_);
    values_ = std::exchange(other.values_, nullptr);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

DeviceValues::~DeviceValues() { tensor::detail::device_free(values_); }

}  // namespace tensor::detail

Tensor Tensor::from_data(std::vector<double> values, Shape shape, Device device) {
  const std::size_t count = checked_numel(shape, "Tensor::from_data");
  if (values.size() != count) {
    throw ShapeError("Tensor::from_data: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_string(shape) + " (" +
                     std::to_string(count) + " elements)");
  }
  Tensor t;
  t.shape_ = std::move(shape);
  t.values_ = std::move(values);
  if (device != Device::kCpu) return t.to(device);
  return t;
}

Tensor Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor t;
  t.shape_ = shape_;
  t.device_ = device;
  if (device == Device::kCuda) {
    t.device_values_ = tensor::detail::DeviceValues(values_.size());
    tensor::detail::copy_to_device(t.device_values_.get(), values_.data(), values_.size());
  } else {
    t.values_.resize(device_values_.size());
    tensor::detail::copy_to_host(t.values_.data(), device_values_.get(), t.values_.size());
  }
  return t;
}

void Tensor::assign(const Tensor& source) {
  if (source.shape_ != shape_) {
    throw ShapeError("Tensor::assign: source shape " + shape_string(source.shape_) +
                     " differs from " + shape_string(shape_));
  }
  const std::size_t n = numel();
  if (device_ == Device::kCpu && source.device_ == Device::kCpu) {
    std::copy(source.values_.begin(), source.values_.end(), values_.begin());
  } else if (device_ == Device::kCpu) {
    tensor::detail::copy_to_host(values_.data(), source.device_values_.get(), n);
  } else if (source.device_ == Device::kCpu) {
    tensor::detail::copy_to_device(device_values_.get(), source.values_.data(), n);
  } else {
    tensor::detail::copy_on_device(device_values_.get(), source.device_values_.get(), n);
  }
}

const double* Tensor::cuda_data() const {
  if (device_ != Device::kCuda) {
    throw DeviceError("Tensor::cuda_data: the tensor lives on " + std::string(to_string(device_)) +
                      "; move it with to(Device::kCuda) first");
  }
  return device_values_.get();
}

double* Tensor::mutable_cuda_data() { return const_cast<double*>(cuda_data()); }

Tensor Tensor::from_view(TensorView view) {
  return from_data(std::vector<double>(view.values, view.values + view.numel()),
                   Shape(view.shape.begin(), view.shape.end()));
}

Tensor Tensor::full(Shape shape, double value, Device device) {
  const std::size_t n = checked_numel(shape, "Tensor::full");
  if (device == Device::kCuda) {
    // Filled where it lives: no host vector to zero and copy.
    Tensor t;
    t.shape_ = std::move(shape);
    t.device_ = device;
    t.device_values_ = tensor::detail::DeviceValues(n);
    if (value == 0.0 && !std::signbit(value)) {
      tensor::detail::fill_zero(t.device_values_.get(), n);
    } else {
      tensor::detail::fill_value(t.device_values_.get(), value, n);
    }
    return t;
  }
  return from_data(std::vector<double>(n, value), std::move(shape), device);
}

Tensor Tensor::zeros(Shape shape, Device device) { return full(std::move(shape), 0.0, device); }
Tensor Tensor::ones(Shape shape, Device device) { return full(std::move(shape), 1.0, device); }
Tensor Tensor::scalar(double value) { return from_data({value}, {}); }

Tensor Tensor::arange(double start, double stop, double step) {
  if (step == 0.0 || !std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step)) {
    throw ValueError("Tensor::arange: step must be non-zero and bounds finite");
  }
  const double span = std::max(0.0, std::ceil((stop - start) / step));
  if (!(span <= static_cast<double>(kMaxElements))) {
    throw ShapeError("Tensor::arange: [" + format_number(start) + ", " + format_number(stop) +
                     ") in steps of " + format_number(step) +
                     " has more elements than a tensor "
                     "can hold");
  }
  const auto count = static_cast<std::size_t>(span);
  std::vector<double> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = start + static_cast<double>(i) * step;
  return from_data(std::move(values), {count});
}

Tensor Tensor::linspace(double start, double stop, std::size_t count) {
  (void)checked_numel(Shape{count}, "Tensor::linspace");
  std::vector<double> values(count);
  if (count == 1) values[0] = start;
  for (std::size_t i = 0; count > 1 && i < count; ++i) {
    values[i] = start + (stop - start) * static_cast<double>(i) / static_cast<double>(count - 1);
  }
  if (count > 1) values.back() = stop;
  return from_data(std::move(values), {count});
}

Tensor Tensor::uniform(Shape shape, double low, double high, std::uint64_t seed, Device device) {
  if (!(low < high)) {
    throw ValueError("Tensor::uniform: low (" + std::to_string(low) + ") must be below high (" +
                     std::to_string(high) + ")");
  }
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  std::vector<double> values(checked_numel(shape, "Tensor::uniform"));
  for (double& v : values) v = distribution(engine);
  return from_data(std::move(values), std::move(shape), device);
}

Tensor Tensor::normal(Shape shape, double mean, double stddev, std::uint64_t seed, Device device) {
  (void)check_non_negative(stddev, "Tensor::normal: stddev");
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> distribution(mean, stddev);
  std::vector<double> values(checked_numel(shape, "Tensor::normal"));
  for (double& v : values) v = distribution(engine);
  return from_data(std::move(values), std::move(shape), device);
}

std::span<const double> Tensor::data() const {
  if (device_ != Device::kCpu) {
    throw DeviceError("Tensor::data: the tensor lives on " + std::string(to_string(device_)) +
                      "; copy it to the CPU first");
  }
  return values_;
}

std::span<double> Tensor::mutable_data() {
  if (device_ != Device::kCpu) {
    throw DeviceError("Tensor::mutable_data: the tensor lives on " +
                      std::string(to_string(device_)) + "; copy it to the CPU first");
  }
  return values_;
}

TensorView Tensor::view() const { return {data().data(), shape_}; }

double Tensor::at(std::initializer_list<std::size_t> index) const {
  return at(std::span<const std::size_t>(index.begin(), index.size()));
}

double Tensor::at(std::span<const std::size_t> index) const {
  if (index.size() != shape_.size()) {
    throw ShapeError("Tensor::at: " + std::to_string(index.size()) +
                     " indices for a tensor of shape " + shape_string(shape_));
  }
  std::size_t flat = 0;
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (index[i] >= shape_[i]) {
      throw ShapeError("Tensor::at: index " + std::to_string(index[i]) + " out of range for axis " +
                       std::to_string(i) + " of shape " + shape_string(shape_));
    }
    flat = flat * shape_[i] + index[i];
  }
  return data()[flat];
}

double Tensor::item() const {
  if (numel() != 1) {
    throw ShapeError("Tensor::item: the tensor has shape " + shape_string(shape_) +
                     ", not one element");
  }
  if (device_ == Device::kCuda) {
    double value = 0.0;
    tensor::detail::copy_to_host(&value, device_values_.get(), 1);
    return value;
  }
  return data()[0];
}

Tensor Tensor::reshape(Shape shape) const {
  if (checked_numel(shape, "Tensor::reshape") != numel()) {
    throw ShapeError("Tensor::reshape: cannot reshape " + shape_string(shape_) + " (" +
                     std::to_string(numel()) + " elements) to " + shape_string(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

double max_abs_difference(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) {
    throw ShapeError("max_abs_difference: shapes differ: " + shape_string(a.shape()) + " vs " +
                     shape_string(b.shape()));
  }
  double worst = 0.0;
  const auto x = a.data();
  const auto y = b.data();
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const auto x = a.data();
  const auto y = b.data();
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) return false;
  }
  return true;
}

namespace {

void print_axis(std::ostream& out, const Tensor& t, std::size_t axis, std::size_t offset,
                std::size_t indent) {
  const auto& shape = t.shape();
  const auto values = t.data();
  out << '[';
  std::size_t stride = 1;
  for (std::size_t i = axis + 1; i < shape.size(); ++i) stride *= shape[i];
  for (std::size_t i = 0; i < shape[axis]; ++i) {
    if (i > 0) {
      out << (axis + 1 == shape.size() ? ", " : ",\n");
      if (axis + 1 < shape.size()) out << std::string(indent + 1, ' ');
    }
    if (axis + 1 == shape.size()) {
      out << values[offset + i];
    } else {
      print_axis(out, t, axis + 1, offset + i * stride, indent + 1);
    }
  }
  out << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const Tensor& tensor) {
  if (tensor.device() != Device::kCpu) {
    return out << tensor.to(Device::kCpu) << " on " << to_string(tensor.device());
  }
  std::ostringstream text;
  text << std::setprecision(6);
  text << "Tensor(";
  if (tensor.ndim() == 0) {
    text << tensor.data()[0];
  } else {
    print_axis(text, tensor, 0, 0, 7);
  }
  text << ", shape=" << shape_string(tensor.shape()) << ')';
  return out << text.str();
}

}  // namespace maya
