#include "plot/gnuplot.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "io/files.h"

namespace neurocell {

GnuplotFigure::GnuplotFigure(std::string out_path, int width, int height)
    : out_path_(std::move(out_path)), width_(width), height_(height) {
  extension_ = std::filesystem::path(out_path_).extension().string();
  require(extension_ == ".png" || extension_ == ".svg", "--out must end in .png or .svg (got '" + out_path_ + "')");
  auto parent = std::filesystem::path(out_path_).parent_path();
  if (parent.empty()) parent = ".";
  ensure_directory(parent.string());
  work_ = parent / (".plot-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
  ensure_directory(work_.string());
}

GnuplotFigure::~GnuplotFigure() {
  std::error_code ignored;
  std::filesystem::remove_all(work_, ignored);
}

std::string GnuplotFigure::data(const std::string& name, const std::string& content) {
  const auto path = (work_ / name).string();
  std::ofstream out(path);
  out << (content.empty() ? "NaN NaN\n" : content);
  require(out.good(), "cannot write plot data '" + path + "'");
  return path;
}

void GnuplotFigure::render(const std::string& body) {
  const auto temporary = (work_ / ("picture" + extension_)).string();
  const auto script_path = (work_ / "figure.gp").string();
  {
    std::ofstream script(script_path);
    script << "set terminal " << (extension_ == ".png" ? "pngcairo" : "svg") << " size " << width_ << "," << height_
           << "\nset output '" << temporary << "'\n" << body << "\nunset output\n";
    require(script.good(), "cannot write gnuplot script '" + script_path + "'");
  }
  const std::string log = (work_ / "gnuplot.log").string();
  const int status = std::system(("gnuplot '" + script_path + "' > '" + log + "' 2>&1").c_str());
  if (status != 0) {
    std::string detail;
    try {
      detail = read_file(log, "gnuplot log");
      detail = detail.substr(0, detail.find('\n', detail.find_first_not_of(" \n")));
    } catch (const Error&) {
    }
    throw Error("gnuplot failed (is it installed? apt-get install gnuplot-nox)" +
                (detail.empty() ? std::string() : ": " + detail));
  }
  std::filesystem::rename(temporary, out_path_);
}

}  // namespace neurocell
