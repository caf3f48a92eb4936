#pragma once
// Attractor analysis (multistability.md): fixed points of a trained network under a constant
// input, with their stability, and the bifurcation diagram of one cellular unit.
#include <cstdint>
#include <string>
#include <vector>

#include "nn/model.h"

namespace neurocell::analysis {

// ---- A whole network -------------------------------------------------------------------

struct FixedPointOptions {
  int64_t starts = 200;        // random start states (h uniform in [-1, 1], c uniform in [-2, 2])
  int64_t max_steps = 20000;   // iterations of the network before giving up on a start
  double tolerance = 1e-9;     // converged when ||F(z) - z|| < tolerance (float64)
  double eps = 1e-4;           // two converged states closer than eps are one fixed point
  uint64_t seed = 1;
  void validate() const;
};

struct FixedPoint {
  std::vector<double> state;   // joint state (S): every layer's h (and c), layer order
  int64_t basin = 0;           // how many of the starts converged to it
  double spectral_radius = 0;  // of the Jacobian dF/dz of one step at the fixed point
  bool stable = false;         // spectral radius < 1
};

struct FixedPointReport {
  std::vector<FixedPoint> points;  // by basin size, largest first
  int64_t unconverged = 0;         // starts still moving after max_steps (cycles, slow drift)
};

// Iterates the network's one-step map F(z) = step(z, input) from many start states until it
// stops moving, groups the end points within eps, and classifies each by the spectral radius
// of its Jacobian (computed in float64 with autograd). input: (I).
FixedPointReport find_fixed_points(SequenceModel& model, const torch::Tensor& input, const FixedPointOptions& options);

// Jacobian (S, S) of the one-step map at the joint state z (S), input (I); float64.
torch::Tensor one_step_jacobian(SequenceModel& model, const torch::Tensor& z, const torch::Tensor& input);

// ---- One cellular unit -----------------------------------------------------------------

struct UnitFixedPoint {
  double u = 0;  // constant input (the unit's total drive)
  double h = 0;  // fixed point
  bool stable = false;
};

// BRC unit with feedback a: fixed points of h = tanh(u + a h) (the BRC update
// h' = c h + (1 - c) tanh(u + a h) has the same ones for every c in (0, 1)), for n values of
// u evenly spaced in [u_min, u_max]. Every root in [-1, 1] is bracketed on a fine grid and
// refined by bisection; stable iff a (1 - h^2) < 1.
std::vector<UnitFixedPoint> brc_unit_fixed_points(double a, double u_min, double u_max, int64_t n);

// The analytic half-width of BRC's bistable range: for a > 1 the unit has two stable fixed
// points iff |u| < a h_c - atanh(h_c), h_c = sqrt(1 - 1/a) (the saddle-node where
// a (1 - h^2) = 1); 0 for a <= 1 (always monostable).
double brc_bistable_half_width(double a);

// SRC unit (cells.md section 2) under a constant soft-saturated input x: its equilibria
// h = h_s = tanh(x + (r + r_s) h + b), stable iff both eigenvalues of the Jacobian of
// (h, h_s) -> (tanh(x + r h + r_s h_s + b), z h_s + (1 - z) h) lie inside the unit circle
// (z = z_dep above h = 1/2, z_hyp below). Where the equilibrium is unstable the unit spikes.
std::vector<UnitFixedPoint> src_unit_fixed_points(double r, double r_s, double bias, double z_hyp, double z_dep,
                                                  double x_min, double x_max, int64_t n);

}  // namespace neurocell::analysis
