#pragma once
// SIGINT / SIGTERM during a long run. The handler only records the signal; the training loops
// look at it after every update, write a resume checkpoint (train/resume.h) and throw
// Interrupted, so that a killed job (Ctrl-C, `kill`, a SLURM preemption) loses nothing and
// exits cleanly with the command that continues it. A second signal of the same kind ends the
// process at once (the default action), for a user who does not want to wait.
#include <csignal>
#include <string>

#include "core/error.h"

namespace neurocell {

namespace detail {
inline volatile std::sig_atomic_t stop_signal = 0;
inline void record_stop_signal(int signal) {
  stop_signal = signal;
  std::signal(signal, SIG_DFL);  // a second one acts at once
}
}  // namespace detail

// Routes SIGINT and SIGTERM to the recorder (the CLI's train and reproduce commands; the Python
// package while a training runs). Returns the previous handlers in `previous` when given.
inline void install_stop_handlers(struct sigaction* previous_int = nullptr, struct sigaction* previous_term = nullptr) {
  struct sigaction action {};
  action.sa_handler = detail::record_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // file writes of the run go on undisturbed
  sigaction(SIGINT, &action, previous_int);
  sigaction(SIGTERM, &action, previous_term);
}

// The signal received since the handlers were installed (0 = none).
inline int stop_signal() { return detail::stop_signal; }
// Forgets a recorded signal (tests; the Python package between two trainings).
inline void clear_stop_signal() { detail::stop_signal = 0; }

inline const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

// Thrown by a training loop after it saved its state on a stop signal; the CLI prints the
// message and exits with 128 + signal (130 for SIGINT, 143 for SIGTERM), as a shell does.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& message, int signal) : Error(message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace neurocell
