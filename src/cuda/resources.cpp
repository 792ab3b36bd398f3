#include "cuda/resources.hpp"

#include <fmt/format.h>

namespace fp8kit::cuda {

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes > 0) FP8KIT_CUDA_CHECK(cudaMalloc(&data_, bytes));
}

DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFree(data_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

static void check_range(std::size_t offset, std::size_t bytes, std::size_t capacity) {
  if (offset > capacity || bytes > capacity - offset) {
    throw_invalid_argument(fmt::format("DeviceBuffer: copy of {} bytes at offset {} exceeds the {}-byte buffer",
                                       bytes, offset, capacity));
  }
}

void DeviceBuffer::upload(const void* host, std::size_t bytes, std::size_t offset) {
  check_range(offset, bytes, bytes_);
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
  if (bytes) FP8KIT_CUDA_CHECK(cudaMemcpy(static_cast<char*>(data_) + offset, host, bytes, cudaMemcpyHostToDevice));
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
}

void DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const {
  check_range(offset, bytes, bytes_);
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
  if (bytes) FP8KIT_CUDA_CHECK(cudaMemcpy(host, static_cast<const char*>(data_) + offset, bytes, cudaMemcpyDeviceToHost));
}

void DeviceBuffer::fill_bytes(unsigned char value) {
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
  if (bytes_) FP8KIT_CUDA_CHECK(cudaMemset(data_, value, bytes_));
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
}

Stream::Stream() { FP8KIT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
Stream::~Stream() {
  if (stream_) cudaStreamDestroy(stream_);
}

Event::Event() { FP8KIT_CUDA_CHECK(cudaEventCreate(&event_)); }
Event::~Event() {
  if (event_) cudaEventDestroy(event_);
}

float Event::elapsed_ms_since(const Event& start) const {
  float ms = 0.0f;
  FP8KIT_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, event_));
  return ms;
}

Graph::~Graph() {
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
}

Graph& Graph::operator=(Graph&& other) noexcept {
  if (this != &other) {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
    graph_ = std::exchange(other.graph_, nullptr);
    exec_ = std::exchange(other.exec_, nullptr);
  }
  return *this;
}

Graph Graph::from_capture(cudaStream_t stream) {
  Graph g;
  FP8KIT_CUDA_CHECK(cudaStreamEndCapture(stream, &g.graph_));
  FP8KIT_CUDA_CHECK(cudaGraphInstantiate(&g.exec_, g.graph_, 0));
  return g;
}

}  // namespace fp8kit::cuda
