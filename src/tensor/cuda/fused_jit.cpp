// Fused elementwise programs compiled to kernels of their own at first use (NVRTC): the program's
// instructions become straight-line calls to tensor/fused_program.hpp's functions with constant
// codes, so its registers live in registers (the interpreter keeps them in an indexed array in
// local memory) and nothing is decoded per element. Kernels are cached per program and way of
// reading each input, for the process. MAYA_CUDA_FUSED_JIT=0 keeps the interpreter.
#include <cuda_runtime.h>
#include <nvrtc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "maya/tensor/cuda.hpp"
#include "tensor/cuda/kernels.hpp"
#include "tensor/cuda/launch.cuh"

namespace maya {
namespace tensor::detail {
namespace text {
extern const std::string_view fused_program;  // tensor/fused_program.hpp
extern const std::string_view op_codes;       // tensor/op_codes.hpp
}  // namespace text

namespace kernels {
namespace {

struct Compiled {
  cudaKernel_t forward = nullptr;
  cudaKernel_t backward = nullptr;
};

struct Jit {
  std::mutex mutex;
  bool checked = false;
  std::string unusable;  // why programs are not compiled ("" while they are)
  std::string arch;      // --gpu-architecture=sm_XY
  bool dependent_launch = false;
  std::map<std::string, Compiled> cache;
};

Jit& jit() {
  static Jit state;
  return state;
}

std::string register_name(int r) { return "r" + std::to_string(r); }

// A double's exact bits as a device expression.
std::string constant(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return "__longlong_as_double(" + std::to_string(static_cast<long long>(bits)) + "LL)";
}

// The program and how each input is read (layout modes): what a compiled kernel depends on.
std::string cache_key(const fused::Program& p, const fused::Layout& layout) {
  std::string key;
  const auto put = [&key](const void* data, std::size_t size) {
    key.append(static_cast<const char*>(data), size);
  };
  put(&p.num_inputs, sizeof p.num_inputs);
  put(&p.num_instructions, sizeof p.num_instructions);
  put(&p.output, sizeof p.output);
  for (int j = 0; j < p.num_instructions; ++j) {
    const fused::Instruction& in = p.code[j];
    put(&in.kind, sizeof in.kind);
    put(&in.code, sizeof in.code);
    put(&in.a, sizeof in.a);
    put(&in.b, sizeof in.b);
    put(&in.c, sizeof in.c);
    put(&in.k0, sizeof in.k0);
    put(&in.k1, sizeof in.k1);
  }
  put(layout.mode, sizeof(int) * static_cast<std::size_t>(p.num_inputs));
  return key;
}

// The loads of the inputs and the forward instructions, as the interpreter evaluates them.
std::string forward_body(const fused::Program& p, const fused::Layout& layout) {
  std::string s;
  for (int k = 0; k < p.num_inputs; ++k) {
    const std::string at = layout.mode[k] == 0 ? "i"
                           : layout.mode[k] == 1
                               ? "0"
                               : "fz::input_offset(layout, " + std::to_string(k) + ", i)";
    s += "    const double " + register_name(k) + " = p.inputs[" + std::to_string(k) + "][" + at +
         "];\n";
  }
  for (int j = 0; j < p.num_instructions; ++j) {
    const fused::Instruction& in = p.code[j];
    const std::string code = std::to_string(in.code);
    const std::string a = register_name(in.a);
    std::string value;
    switch (in.kind) {
      case fused::Kind::binary:
        value = "fz::binary_value(" + code + ", " + a + ", " + register_name(in.b) + ")";
        break;
      case fused::Kind::binary_right:
        value = "fz::binary_value(" + code + ", " + a + ", " + constant(in.k0) + ")";
        break;
      case fused::Kind::binary_left:
        value = "fz::binary_value(" + code + ", " + constant(in.k0) + ", " + a + ")";
        break;
      case fused::Kind::unary:
        value = "fz::unary_value(" + code + ", " + a + ", " + constant(in.k0) + ", " +
                constant(in.k1) + ")";
        break;
      case fused::Kind::select:
        value = a + " != 0.0 ? " + register_name(in.b) + " : " + register_name(in.c);
        break;
    }
    s += "    const double " + register_name(p.num_inputs + j) + " = " + value + ";\n";
  }
  return s;
}

// The reverse sweep of fused::backpropagate, one statement per instruction, in its order.
std::string backward_body(const fused::Program& p) {
  const int count = p.num_inputs + p.num_instructions;
  std::string s;
  for (int k = 0; k < count; ++k) s += "    double a" + std::to_string(k) + " = 0.0;\n";
  s += "    a" + std::to_string(p.output) + " = g[i];\n";
  for (int j = p.num_instructions - 1; j >= 0; --j) {
    const fused::Instruction& in = p.code[j];
    const std::string code = std::to_string(in.code);
    const std::string self = std::to_string(p.num_inputs + j);
    const std::string ra = register_name(in.a);
    const std::string aa = "a" + std::to_string(in.a);
    const std::string partials =
        "    { double da = 0.0, db = 0.0; fz::binary_partials(" + code + ", ";
    switch (in.kind) {
      case fused::Kind::binary:
        s += partials + ra + ", " + register_name(in.b) + ", r" + self + ", da, db); " + aa +
             " += a" + self + " * da; a" + std::to_string(in.b) + " += a" + self + " * db; }\n";
        break;
      case fused::Kind::binary_right:
        s += partials + ra + ", " + constant(in.k0) + ", r" + self + ", da, db); " + aa + " += a" +
             self + " * da; (void)db; }\n";
        break;
      case fused::Kind::binary_left:
        s += partials + constant(in.k0) + ", " + ra + ", r" + self + ", da, db); " + aa + " += a" +
             self + " * db; (void)da; }\n";
        break;
      case fused::Kind::unary:
        s += "    " + aa + " += a" + self + " * fz::unary_derivative(" + code + ", " + ra + ", r" +
             self + ", " + constant(in.k0) + ", " + constant(in.k1) + ");\n";
        break;
      case fused::Kind::select:
        s += "    if (" + ra + " != 0.0) { a" + std::to_string(in.b) + " += a" + self +
             "; } else { a" + std::to_string(in.c) + " += a" + self + "; }\n";
        break;
    }
  }
  for (int k = 0; k < p.num_inputs; ++k) {
    const std::string ks = std::to_string(k);
    s += "    if (p.gradients[" + ks + "] != nullptr) { if (p.accumulate[" + ks +
         "]) { p.gradients[" + ks + "][i] += a" + ks + "; } else { p.gradients[" + ks + "][i] = a" +
         ks + "; } }\n";
  }
  return s;
}

std::string kernel_source(const fused::Program& p, const fused::Layout& layout,
                          bool dependent_launch) {
  // As MAYA_KERNEL_BEGIN: wait for the kernel before, then let the next one be scheduled.
  const std::string begin = dependent_launch
                                ? "  asm volatile(\"griddepcontrol.wait;\" ::: \"memory\");\n"
                                  "  asm volatile(\"griddepcontrol.launch_dependents;\");\n"
                                : "";
  const std::string loop =
      "  const long long step = static_cast<long long>(gridDim.x) * blockDim.x;\n"
      "  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;\n"
      "       i < static_cast<long long>(n); i += step) {\n";
  const std::string forward = forward_body(p, layout);
  return "#include \"tensor/fused_program.hpp\"\n"
         "namespace fz = maya::tensor::detail::fused;\n"
         "extern \"C\" __global__ void maya_fused_forward(fz::Layout layout, unsigned long long "
         "n,\n"
         "                                                fz::Pointers p, double* out) {\n" +
         begin + loop + forward + "    out[i] = r" + std::to_string(p.output) +
         ";\n  }\n}\n"
         "extern \"C\" __global__ void maya_fused_backward(fz::Layout layout, unsigned long long "
         "n,\n"
         "                                                 fz::Pointers p, const double* g) {\n" +
         begin + loop + forward + backward_body(p) + "  }\n}\n";
}

std::string nvrtc_error(const char* what, nvrtcResult result) {
  return std::string(what) + ": " + nvrtcGetErrorString(result);
}

// Compiles the program's two kernels; "" on success, else the reason.
std::string compile(const Jit& state, const fused::Program& p, const fused::Layout& layout,
                    Compiled& compiled) {
  const std::string source = kernel_source(p, layout, state.dependent_launch);
  const std::string header_text[2] = {std::string(text::fused_program),
                                      std::string(text::op_codes)};
  const char* headers[2] = {header_text[0].c_str(), header_text[1].c_str()};
  const char* names[2] = {"tensor/fused_program.hpp", "tensor/op_codes.hpp"};
  nvrtcProgram program = nullptr;
  nvrtcResult result =
      nvrtcCreateProgram(&program, source.c_str(), "maya_fused.cu", 2, headers, names);
  if (result != NVRTC_SUCCESS) return nvrtc_error("nvrtcCreateProgram", result);
  const char* options[] = {state.arch.c_str(), "--std=c++17"};
  result = nvrtcCompileProgram(program, 2, options);
  std::string failure;
  if (result != NVRTC_SUCCESS) {
    std::size_t size = 0;
    nvrtcGetProgramLogSize(program, &size);
    std::string log(size, '\0');
    nvrtcGetProgramLog(program, log.data());
    failure = nvrtc_error("nvrtcCompileProgram", result) + "\n" + log + "\n" + source;
  }
  std::vector<char> cubin;
  if (failure.empty()) {
    std::size_t size = 0;
    result = nvrtcGetCUBINSize(program, &size);
    if (result == NVRTC_SUCCESS) {
      cubin.resize(size);
      result = nvrtcGetCUBIN(program, cubin.data());
    }
    if (result != NVRTC_SUCCESS) failure = nvrtc_error("nvrtcGetCUBIN", result);
  }
  nvrtcDestroyProgram(&program);
  if (!failure.empty()) return failure;
  // Loading a module is not stream work: allowed while maya's stream is being captured.
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  cudaThreadExchangeStreamCaptureMode(&mode);
  cudaLibrary_t library = nullptr;
  cudaError_t error =
      cudaLibraryLoadData(&library, cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
  if (error == cudaSuccess)
    error = cudaLibraryGetKernel(&compiled.forward, library, "maya_fused_forward");
  if (error == cudaSuccess) {
    error = cudaLibraryGetKernel(&compiled.backward, library, "maya_fused_backward");
  }
  cudaThreadExchangeStreamCaptureMode(&mode);
  if (error != cudaSuccess) {
    cudaGetLastError();
    return std::string("loading a compiled fused program: ") + cudaGetErrorString(error);
  }
  return "";
}

// Whether programs can be compiled, and for which architecture: looked up once (mutex held).
void check_once(Jit& state) {
  if (!state.checked) {
    state.checked = true;
    const char* setting = std::getenv("MAYA_CUDA_FUSED_JIT");
    int device = 0;
    int major = 0;
    int minor = 0;
    if (setting != nullptr && std::strcmp(setting, "0") == 0) {
      state.unusable = "MAYA_CUDA_FUSED_JIT=0";
    } else if (cudaGetDevice(&device) != cudaSuccess ||
               cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) !=
                   cudaSuccess ||
               cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) !=
                   cudaSuccess) {
      cudaGetLastError();
      state.unusable = "no compute capability for the current device";
    } else {
      state.arch = "--gpu-architecture=sm_" + std::to_string(major) + std::to_string(minor);
      state.dependent_launch = major >= 9;
    }
  }
}

// The compiled kernels of the program, or null where programs are not compiled.
const Compiled* compiled_for(const fused::Program& p, const fused::Layout& layout) {
  Jit& state = jit();
  const std::lock_guard lock(state.mutex);
  check_once(state);
  if (!state.unusable.empty()) return nullptr;
  std::string key = cache_key(p, layout);
  const auto found = state.cache.find(key);
  if (found != state.cache.end()) return &found->second;
  Compiled compiled;
  std::string failure = compile(state, p, layout, compiled);
  if (!failure.empty()) {
    state.unusable = std::move(failure);
    return nullptr;
  }
  return &state.cache.emplace(std::move(key), compiled).first->second;
}

void launch_compiled(cudaKernel_t kernel, unsigned blocks, unsigned threads, void** args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(blocks);
  config.blockDim = dim3(threads);
  config.stream = static_cast<cudaStream_t>(stream());
  cudaLaunchAttribute attribute[1] = {};
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = programmatic_launch() ? 1 : 0;
  const cudaError_t error =
      cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(kernel), args);
  if (error != cudaSuccess) {
    cudaGetLastError();
    throw DeviceError(std::string("CUDA kernel fused (compiled): ") + cudaGetErrorString(error));
  }
}

}  // namespace

bool fused_jit_forward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                       const FusedPointers& pointers, double* out, unsigned blocks,
                       unsigned threads) {
  const Compiled* compiled = compiled_for(program, layout);
  if (compiled == nullptr) return false;
  fused::Layout l = layout;
  unsigned long long count = n;
  fused::Pointers p = pointers;
  void* args[] = {&l, &count, &p, &out};
  launch_compiled(compiled->forward, blocks, threads, args);
  return true;
}

bool fused_jit_backward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                        const FusedPointers& pointers, const double* g, unsigned blocks,
                        unsigned threads) {
  const Compiled* compiled = compiled_for(program, layout);
  if (compiled == nullptr) return false;
  fused::Layout l = layout;
  unsigned long long count = n;
  fused::Pointers p = pointers;
  void* args[] = {&l, &count, &p, &g};
  launch_compiled(compiled->backward, blocks, threads, args);
  return true;
}

}  // namespace kernels
}  // namespace tensor::detail

std::string cuda_fused_jit_fallback_reason() {
  if (!cuda_available()) return cuda_unavailable_reason();
  tensor::detail::kernels::Jit& state = tensor::detail::kernels::jit();
  const std::lock_guard lock(state.mutex);
  tensor::detail::kernels::check_once(state);
  return state.unusable;
}

}  // namespace maya
