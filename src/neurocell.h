#pragma once
// neurocell's public C++ API in one include, for programs built against an installed
// neurocell (find_package(neurocell), target neurocell::neurocell):
//   cells and layers (nn/), models and their checkpoints, tasks, training, run folders of every
//   kind (runs/), the multistability toolkit and the .ncm export. Headers can also be included one by one ("nn/model.h").
#include "analysis/fixed_points.h"
#include "analysis/vaa.h"
#include "analysis/warmup.h"
#include "io/ncm_export.h"
#include "nn/cell_registry.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/neuromodulation.h"
#include "nn/scan_layers.h"
#include "nn/spiking.h"
#include "runs/run_folder.h"
#include "runs/runs.h"
#include "tasks/synthetic.h"
#include "tasks/meta_rl.h"
#include "train/checkpoint.h"
#include "train/ppo.h"
#include "train/trainer.h"
