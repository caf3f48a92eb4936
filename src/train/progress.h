#pragma once
// Pieces shared by the training loops (regression trainer, spiking classifier trainer):
// wall-clock helpers, the progress bar, the NaN/Inf gradient check and weight snapshots.
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace neurocell::training {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buffer[32];
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%dh%02dm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%dm%02ds", s / 60, s % 60);
  return buffer;
}

// A one-line progress bar on stderr: redrawn in place on a terminal, printed every 10 %
// otherwise (logs, CI), so that long runs show loss and ETA without flooding the output.
class ProgressBar {
 public:
  ProgressBar(int64_t total, bool enabled)
      : total_(total), enabled_(enabled), interactive_(::isatty(STDERR_FILENO)), start_(Clock::now()) {}

  void update(int64_t done, double loss, double validation) {
    if (!enabled_) return;
    const double elapsed = seconds_since(start_);
    const bool milestone = done * 10 / total_ != last_decile_;
    if (interactive_ ? (elapsed - last_draw_ < 0.2 && done != total_) : !milestone) return;
    last_draw_ = elapsed;
    last_decile_ = done * 10 / total_;
    const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : NAN;
    const int width = 24, filled = static_cast<int>(width * done / total_);
    std::string bar(filled, '#');
    bar.append(width - filled, '.');
    std::fprintf(stderr, "%s[%s] %lld/%lld loss %.4g val %.4g  %s elapsed, ETA %s%s",
                 interactive_ ? "\r" : "", bar.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), loss, validation, format_duration(elapsed).c_str(),
                 format_duration(eta).c_str(), interactive_ ? "\x1b[K" : "\n");
    std::fflush(stderr);
  }

  void finish() {
    if (enabled_ && interactive_) std::fprintf(stderr, "\n");
  }

 private:
  int64_t total_;
  bool enabled_, interactive_;
  Clock::time_point start_;
  double last_draw_ = -1;
  int64_t last_decile_ = -1;
};

inline bool gradients_finite(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params)
    if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) return false;
  return true;
}

inline std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> copy;
  for (const auto& p : params) copy.push_back(p.detach().clone());
  return copy;
}

}  // namespace neurocell::training
