// The analog noise of a stream (see step_options.h).
#include "step_options.h"

#include "error.h"

namespace ncrt {

AnalogNoise::AnalogNoise(double drive_sigma, double state_sigma, uint64_t seed)
    : drive_sigma_(static_cast<float>(drive_sigma)), state_sigma_(static_cast<float>(state_sigma)), engine_(seed) {
  if (!(drive_sigma >= 0) || !(state_sigma >= 0)) throw Error("analog noise: the standard deviations must be >= 0");
}

void AnalogNoise::drive(float* values, int64_t n) {
  if (drive_sigma_ > 0)
    for (int64_t i = 0; i < n; ++i) values[i] += drive_sigma_ * normal_(engine_);
}

void AnalogNoise::state(float* values, int64_t n) {
  if (state_sigma_ > 0)
    for (int64_t i = 0; i < n; ++i) values[i] += state_sigma_ * normal_(engine_);
}

}  // namespace ncrt
