// Rate coding's Bernoulli draws (kernels_cpu.h, RateCodeArgs): 11 M per batch of spiking MNIST
// (220 steps x 64 images x 784 pixels), which with torch::rand cost as much as the SRC layer's
// forward and backward. Each 64-bit SplitMix64 output gives four 16-bit uniforms; the AVX-512
// copy mixes eight words (32 draws) per iteration with 64-bit vector multiplies.
#include "kernels/cpu/simd.h"

namespace neurocell::kernels::CPU_CAPABILITY {

namespace {

constexpr uint64_t gamma = 0x9e3779b97f4a7c15ULL;  // SplitMix64's increment

// SplitMix64's output function (Steele, Lea and Flood 2014), a bijection of 64-bit words.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Draws of one step for values [j0, row) (j0 a multiple of 4), word by word.
void scalar_draws(const RateCodeArgs& k, int64_t s, int64_t words, int64_t j0, float* out) {
  for (int64_t j = j0; j < k.row; j += 4) {
    const uint64_t r = mix64(k.seed + static_cast<uint64_t>(s * words + j / 4 + 1) * gamma);
    const int64_t lanes = std::min<int64_t>(4, k.row - j);
    for (int64_t l = 0; l < lanes; ++l)
      out[j + l] = ((r >> (16 * l)) & 0xffffu) < k.threshold[j + l] ? 1.0f : 0.0f;
  }
}

}  // namespace

void rate_code_spikes(const RateCodeArgs& k) {
  const int64_t words = (k.row + 3) / 4;
  for (int64_t s = k.step0; s < k.step1; ++s) {
    float* out = k.out + s * k.row;
    int64_t j = 0;
#if defined(CPU_CAPABILITY_AVX512)
    const __m512i lane = _mm512_setr_epi64(1, 2, 3, 4, 5, 6, 7, 8);
    const __m512i m1 = _mm512_set1_epi64(static_cast<int64_t>(0xbf58476d1ce4e5b9ULL));
    const __m512i m2 = _mm512_set1_epi64(static_cast<int64_t>(0x94d049bb133111ebULL));
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; j + 32 <= k.row; j += 32) {
      // words s*words + j/4 + 1 .. + 8, times gamma, plus the seed
      const __m512i index = _mm512_add_epi64(_mm512_set1_epi64(s * words + j / 4), lane);
      __m512i z = _mm512_add_epi64(_mm512_set1_epi64(static_cast<int64_t>(k.seed)),
                                   _mm512_mullo_epi64(index, _mm512_set1_epi64(static_cast<int64_t>(gamma))));
      z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
      z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
      z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
      // 32 uniforms in memory order (word w's lane l is value 4w + l), widened to 32 bits
      const __m512i low = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(z));
      const __m512i high = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(z, 1));
      const __mmask16 spike_low = _mm512_cmplt_epu32_mask(low, _mm512_loadu_si512(k.threshold + j));
      const __mmask16 spike_high = _mm512_cmplt_epu32_mask(high, _mm512_loadu_si512(k.threshold + j + 16));
      _mm512_storeu_ps(out + j, _mm512_maskz_mov_ps(spike_low, one));
      _mm512_storeu_ps(out + j + 16, _mm512_maskz_mov_ps(spike_high, one));
    }
#endif
    scalar_draws(k, s, words, j, out);
  }
}

}  // namespace neurocell::kernels::CPU_CAPABILITY
