// The kernels' float32 vector math on arrays (kernels_cpu.h, NEUROCELL_DECLARE_VEC_MATH): the
// accuracy tests run every copy of it against double libm, and `neurocell bench` times it to
// state each cell's transcendental bound with the exp the kernels really use.
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {
template <class T, class F>
void map_values(const T* x, T* y, int64_t n, F&& f) {
  for_each_unit<T>(n, [&](auto tag, int64_t j) { store(y + j, f(load(x + j, tag)), tag); });
}
template <class F>
void map_floats(const float* x, float* y, int64_t n, F&& f) {
  map_values<float>(x, y, n, f);
}
}  // namespace

void vec_exp(const float* x, float* y, int64_t n) {
  map_floats(x, y, n, [](const Vec<float>& v) { return cells::vec_math::exp_f32(v); });
}
void vec_exp(const double* x, double* y, int64_t n) {
  map_values<double>(x, y, n, [](const Vec<double>& v) { return v.exp(); });
}
void vec_tanh(const float* x, float* y, int64_t n) {
  map_floats(x, y, n, [](const Vec<float>& v) { return cells::tanh_(v); });
}
void vec_sigmoid(const float* x, float* y, int64_t n) {
  map_floats(x, y, n, [](const Vec<float>& v) { return cells::sigmoid_(v); });
}
void vec_sleef_exp(const float* x, float* y, int64_t n) {
  map_floats(x, y, n, [](const Vec<float>& v) { return v.exp(); });
}

}  // namespace neurocell::kernels::CPU_CAPABILITY
