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

#include "core/error.h"

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

// Divergence, reported rather than hidden: the first non-finite training loss, or validation
// error above 100x its chance level, names the run as diverged. The loops warn once on stderr
// (also with --quiet), write "diverged" in that metrics line and in report.json.
class DivergenceWatch {
 public:
  explicit DivergenceWatch(double learning_rate) : learning_rate_(learning_rate) {}

  void observe_loss(double loss, int64_t step) {
    if (!std::isfinite(loss)) flag("non-finite training loss at update " + std::to_string(step));
  }
  // `chance` is what a model that ignores its input scores (MSE, or cross-entropy ln K).
  void observe_error(const char* name, double error, double chance, int64_t step) {
    if (!std::isfinite(error))
      flag(std::string("non-finite ") + name + " at update " + std::to_string(step));
    else if (chance > 0 && error > 100 * chance)
      flag(std::string(name) + " " + number(error) + " at update " + std::to_string(step) + ", over 100x its chance level " +
           number(chance));
  }
  const std::string& reason() const { return reason_; }
  void restore(std::string reason) { reason_ = std::move(reason); }

 private:
  void flag(const std::string& reason) {
    if (!reason_.empty()) return;
    reason_ = reason;
    std::fprintf(stderr, "%sneurocell: warning: the run diverged: %s; lower --lr (%s) or add --clip\n",
                 ::isatty(STDERR_FILENO) ? "\n" : "", reason.c_str(), number(learning_rate_).c_str());
    std::fflush(stderr);
  }
  static std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
    return buffer;
  }
  double learning_rate_;
  std::string reason_;
};

// A run where no update (or only the first: lr 1e20 makes every later gradient NaN) was
// applied learnt nothing: that is an error, not a result.
inline void require_some_update(int64_t steps_done, int64_t skipped, double learning_rate) {
  if (steps_done == 0 || skipped < std::max<int64_t>(steps_done - 1, 1)) return;
  char lr[32];
  std::snprintf(lr, sizeof lr, "%.4g", learning_rate);
  throw Error(std::to_string(skipped) + " of the " + std::to_string(steps_done) +
              " updates were skipped (NaN/Inf loss or gradients) at --lr " + lr +
              ": lower --lr, add --clip, or check the data");
}

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
