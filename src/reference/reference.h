#pragma once
// Reference implementations: the equations of docs/cells.md written with plain
// LibTorch ops, one time step at a time; autograd provides the backward. They are the
// ground truth of the tests and the "composite" side of the benchmarks.
//
// Convention everywhere in neurocell: sequences are time-major, x is (T, B, I), states
// are (B, H), and the returned state sequence is (T, B, H) with row t = h_{t+1}
// (the state after reading x_t). Gate blocks are stacked along the rows of the
// weight matrices in the order written next to each function.
// Each cell family's contract (shapes, gate order, equations) is one ops/ header, declared
// there for reference:: and fused:: alike.
#include "ops/bistable.h"
#include "ops/gru.h"
#include "ops/lif.h"
#include "ops/lstm.h"
#include "ops/mgu.h"
#include "ops/src.h"
