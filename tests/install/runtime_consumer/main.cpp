// A program that uses only the installed runtime (tests/install/runtime_consumer/build.sh):
// it writes a one-unit GRU with the runtime's own writer, reads it back, streams three steps
// and checks them against the closed form: exit 0 and "runtime_consumer: ok" when they agree.
// With all weights 0 but W_in = 1 and the readout y = h, the gates are r = z = sigmoid(0) = 1/2
// and n = tanh(x), so h' = (tanh(x) + h) / 2.
#include <neurocell/runtime/integer_src.h>
#include <neurocell/runtime/neurocell_runtime.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace {

ncrt::NcmTensor tensor(std::vector<int64_t> shape, std::vector<float> values) {
  ncrt::NcmTensor t;
  t.shape = std::move(shape);
  t.floats = std::move(values);
  return t;
}

std::string one_unit_gru() {
  const std::string header = "model sequence\ncell gru\ninput 1\nhidden 1\noutput 1\nlayers 1\nlayer 0 gru 1 1\n";
  return ncrt::write_ncm(header, {{"stack.layer0.weight_ih", tensor({3, 1}, {0, 0, 1})},  // rows r, z, n
                                  {"stack.layer0.weight_hh", tensor({3, 1}, {0, 0, 0})},
                                  {"stack.layer0.bias_ih", tensor({3}, {0, 0, 0})},
                                  {"stack.layer0.bias_hh", tensor({3}, {0, 0, 0})},
                                  {"readout.weight", tensor({1, 1}, {1})},
                                  {"readout.bias", tensor({1}, {0})}});
}

}  // namespace

int main() {
  try {
    ncrt::Stream stream(ncrt::Model::parse(one_unit_gru(), "one-unit GRU"));
    std::printf("runtime: %zu cells, model cell %s, state %lld floats\n", ncrt::supported_layer_kinds().size(),
                stream.model().cell().c_str(), static_cast<long long>(stream.model().state_size()));
    double h = 0;
    bool ok = true;
    for (int t = 1; t <= 3; ++t) {
      const float x = 1.0f;
      const float y = stream.step(&x)[0];
      h = (std::tanh(1.0) + h) / 2;
      ok = ok && std::fabs(y - h) < 1e-6;
      std::printf("step %d: y = %.6f (expected %.6f)\n", t, y, h);
    }
    std::printf("integer SRC default weight bits: %d\n", ncrt::IntegerSrcOptions{}.weight_bits);
    std::printf(ok ? "runtime_consumer: ok\n" : "runtime_consumer: MISMATCH\n");
    return ok ? 0 : 1;
  } catch (const ncrt::Error& e) {
    std::fprintf(stderr, "runtime_consumer: %s\n", e.what());
    return 1;
  }
}
