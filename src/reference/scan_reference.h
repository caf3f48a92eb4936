#pragma once
// References of the scans (contracts in ops/mru.h, ops/mingru.h, ops/lru.h): the equations of
// docs/cells.md sections 3 and 4 as
// plain LibTorch ops, one time step at a time; autograd provides the backward. Ground truth of
// the tests and the "composite" side of `neurocell bench --scan`.
//
// The MRUs are straight through: each step's value is the hard map, and its gradient is that
// of the smooth relaxation written with the previous step's h (cells/mru.h):
//   h = hard + (soft - soft.detach()),  hard computed without gradient.
// soft - soft.detach() is exactly zero, so the values are the hard ones bit for bit, and
// autograd sees d soft: the surrogate gradients evaluated on the hard trajectory.
#include "ops/lru.h"
#include "ops/mingru.h"
#include "ops/mru.h"
