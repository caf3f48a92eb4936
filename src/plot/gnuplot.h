#pragma once
// Pictures through gnuplot (Debian's gnuplot-nox): data files and the script go to a private
// temporary folder next to the picture, gnuplot draws into a temporary file, and the picture
// is renamed into place only when gnuplot succeeded, so a failed plot never leaves a broken
// or half-written file.
#include <filesystem>
#include <string>

namespace neurocell {

class GnuplotFigure {
 public:
  // out_path must end in .png or .svg (checked: a clear error otherwise).
  GnuplotFigure(std::string out_path, int width, int height);
  ~GnuplotFigure();
  GnuplotFigure(const GnuplotFigure&) = delete;
  GnuplotFigure& operator=(const GnuplotFigure&) = delete;

  // Writes a data file into the temporary folder and returns its path, ready to quote in
  // the script ('...'). An empty content becomes one "NaN" line: gnuplot refuses empty files.
  std::string data(const std::string& name, const std::string& content);

  // Runs the script body (everything after `set terminal` / `set output`) and moves the
  // picture into place.
  void render(const std::string& body);

 private:
  std::string out_path_, extension_;
  int width_, height_;
  std::filesystem::path work_;
};

}  // namespace neurocell
