#pragma once
// The fused scans (kernels/scan.cpp): the MRU family, minGRU and the LRU's complex diagonal
// recurrence. Their contracts, shared with the references, are the ops/ headers included here.
#include "ops/lru.h"
#include "ops/mingru.h"
#include "ops/mru.h"
#include "ops/scan.h"
