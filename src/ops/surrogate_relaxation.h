#pragma once
// Surrogate relaxation: a thread-local mode, like torch's GradMode, in which the cells trained
// through a surrogate gradient (registry field surrogate_gradient: the MRUs, the hybrids'
// MRU halves, SRC, LIF) run, instead of their hard forward, the smooth function of which their
// backward is the exact derivative (docs/cells.md, "Checking a surrogate gradient"):
//
//   BMRU     h' = m s + (1 - m) h            CMRU   h' = h + delta m s      (no clip)
//   aCMRU    h' = h + alpha D(u)  (no clip)  fq-BMRU h' = m_on + (1 - m_on - m_off) h
//   SRC      spikes = h  (the ReLU's straight-through derivative is 1)
//   LIF      spikes = (u - theta) / (1 + k |u - theta|)  (snnTorch's fast sigmoid, whose
//            derivative is the surrogate; the reset stays the hard spike's, detached)
//
// The backward kernels are unchanged: they evaluate the same partial derivatives on the
// trajectory the forward stored, which is now the relaxed one, so finite differences
// (torch.autograd.gradcheck, the conformance test) can check them. A verification mode, not a
// training mode: the fused MRU forward runs sequentially under it (no chunked scan), and the
// integer SRC, whose forward is the FPGA's integer arithmetic, refuses it.
namespace neurocell {

namespace detail {
inline thread_local bool surrogate_relaxation = false;
}  // namespace detail

// Whether this thread's forwards run the relaxation.
inline bool surrogate_relaxation() { return detail::surrogate_relaxation; }

// Sets the mode on this thread; returns the previous one (the Python context manager's binding).
inline bool set_surrogate_relaxation(bool enabled) {
  const bool previous = detail::surrogate_relaxation;
  detail::surrogate_relaxation = enabled;
  return previous;
}

// Sets the mode on this thread for the guard's lifetime, then restores the previous one.
class SurrogateRelaxationGuard {
 public:
  explicit SurrogateRelaxationGuard(bool enabled = true) : previous_(set_surrogate_relaxation(enabled)) {}
  ~SurrogateRelaxationGuard() { set_surrogate_relaxation(previous_); }
  SurrogateRelaxationGuard(const SurrogateRelaxationGuard&) = delete;
  SurrogateRelaxationGuard& operator=(const SurrogateRelaxationGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace neurocell
