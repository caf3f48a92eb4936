#pragma once
// Pieces shared by the training loops and the long analyses: wall-clock helpers, the progress
// bar, the NaN/Inf gradient check and weight snapshots.
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
  // metric names the second number ("val MSE", "val accuracy", "VAA*", ...); loss_name the first.
  ProgressBar(int64_t total, bool enabled, std::string metric = "val", std::string loss_name = "loss")
      : total_(total), enabled_(enabled), interactive_(::isatty(STDERR_FILENO)), start_(Clock::now()),
        metric_(std::move(metric)), loss_name_(std::move(loss_name)) {}

  // A NaN value (no validation yet) is shown as "-".
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
    std::fprintf(stderr, "%s[%s] %lld/%lld %s %s %s %s  %s elapsed, ETA %s%s", interactive_ ? "\r" : "", bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), loss_name_.c_str(), number(loss).c_str(),
                 metric_.c_str(), number(validation).c_str(), format_duration(elapsed).c_str(),
                 format_duration(eta).c_str(), interactive_ ? "\x1b[K" : "\n");
    std::fflush(stderr);
  }

  void finish() {
    if (enabled_ && interactive_) std::fprintf(stderr, "\n");
  }

 private:
  static std::string number(double value) {
    if (std::isnan(value)) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
    return buffer;
  }

  int64_t total_;
  bool enabled_, interactive_;
  Clock::time_point start_;
  std::string metric_, loss_name_;
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
