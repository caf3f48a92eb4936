#pragma once
// Which map a memory recurrent unit applies at each step (cells/mru.h, docs/cells.md section
// 4). The one spelling of this choice, torch-free: the layers (through the cell registry's
// CellKind), the autograd scans, the CPU kernels and the runtime all use it.
namespace neurocell {

enum class MruKind : int {
  bmru,     // bistable: states {-1, 0, 1}, set to q or hold
  cmru,     // cumulative: clamped adds of quantised steps, `levels` states in [-1, 1]
  acmru,    // relaxed cumulative: steps scaled by alpha in (0, 1)
  fq_bmru,  // first-quadrant BMRU, the analog form: states {0, 1}, fixed thresholds
};

}  // namespace neurocell
