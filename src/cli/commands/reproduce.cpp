// `neurocell reproduce NAME`: a named suite of experiments (configs/suites/NAME.json: tasks x
// variants x seeds with their budgets, and what the paper claims) run as child `neurocell`
// processes, `--jobs` at a time, each writing its own run folder under --out. Finished runs
// (a report.json) are skipped, so an interrupted suite resumes where it stopped; a run
// folder without a report is redone. Afterwards the results table (results.md and
// results.json: per experiment and variant, the test metric's mean, min and max over seeds,
// wall time) and pictures (learning curves and bar charts per experiment) are written to
// --out. A finished run whose entry in the suite changed since (budget, flags) is run again.
// `--quick` uses each experiment's smaller "quick" budget; `--only I` runs one run
// (a cluster array task), `--slurm FILE` writes a SLURM array script for the suite,
// `--list` shows the runs and their state, `--table-only` remakes the table.
#include "cli/commands/commands.h"

#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/interrupt.h"
#include "io/files.h"
#include "nn/cell_registry.h"
#include "plot/gnuplot.h"
#include "runs/suite.h"
#include "train/checkpoint.h"

extern char** environ;

namespace neurocell::cli {

namespace fs = std::filesystem;

namespace {

struct ReproduceOptions {
  std::string suite;        // a name (configs/suites/NAME.json, found from the working or program folder)
  std::string suite_file;   // or an explicit file
  bool quick = false, paper = false;  // the budget: full (neither), quick or paper
  std::string out;          // default runs/reproduce/NAME[-quick|-paper]
  int64_t jobs = 1;
  int64_t threads_per_job = 1;
  int64_t only = -1;
  bool list = false, table_only = false;
  std::string slurm;
};

std::string budget_of(const ReproduceOptions& o) { return o.quick ? "quick" : o.paper ? "paper" : "full"; }
// " --quick", " --paper" or "": the budget as a flag of the command lines this command prints
std::string budget_flag(const std::string& budget) { return budget == "full" ? "" : " --" + budget; }

using suites::Experiment;
using suites::Run;
using suites::Suite;
using suites::Variant;

fs::path find_suite_file(const std::string& name) {
  const fs::path relative = fs::path("configs") / "suites" / (name + ".json");
  std::error_code ec;
  std::vector<fs::path> starts = {fs::current_path(ec)};
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe.parent_path());
  for (auto dir : starts)
    for (; !dir.empty(); dir = dir.parent_path()) {
      if (fs::exists(dir / relative)) return dir / relative;
      if (dir == dir.parent_path()) break;
    }
  throw Error("no suite '" + name + "': configs/suites/" + name +
              ".json was not found above the working folder or the program (suites: bistable, warmup, mru, src, horizon, nmd; or "
              "give --suite-file FILE)");
}

std::string shell_line(const std::string& program, const std::vector<std::string>& argv) {
  std::string line = program;
  for (const auto& a : argv) line += " " + a;
  return line;
}

// The command a run was started with, kept next to its log: a finished run whose suite entry
// has changed since (another budget, other flags) is stale and runs again.
std::string command_path(const Run& r) { return r.log.substr(0, r.log.size() - 4) + ".command"; }

bool finished(const Run& r) {
  if (!file_exists(report_path(r.dir))) return false;
  if (!file_exists(command_path(r))) return true;  // made by hand or by an older neurocell: trusted
  return read_file(command_path(r), "run command") == shell_line("neurocell", r.argv) + "\n";
}

std::string program_path() {
  if (const char* env = std::getenv("NEUROCELL_EXECUTABLE")) return env;
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  require(!ec, "cannot find the neurocell program (/proc/self/exe); set NEUROCELL_EXECUTABLE");
  return exe.string();
}

// Starts one run as a child process writing its log. The child is tied to this process: when
// reproduce dies, however it dies (kill -9 included), the kernel sends the child SIGTERM
// (PR_SET_PDEATHSIG), on which a training saves its resume checkpoint and stops, so that no
// orphan keeps writing a run folder that a rerun continues. Everything the child needs is
// prepared before fork(): after it, only async-signal-safe calls.
pid_t start_child(const std::string& program, const std::vector<std::string>& argv, const std::string& log) {
  std::vector<std::string> words = argv;
  std::vector<char*> c_argv;
  std::string program_copy = program;
  c_argv.push_back(program_copy.data());
  for (auto& a : words) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  require(pid >= 0, "cannot start '" + program + "': fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(127);
    ::execve(program_copy.c_str(), c_argv.data(), environ);
    ::_exit(127);
  }
  return pid;
}

// Runs the pending runs as child processes, `jobs` at a time; returns the failed ones. On
// SIGINT/SIGTERM it starts nothing more, passes SIGTERM to the running children (each saves a
// resume checkpoint), waits for them and throws Interrupted: a rerun continues them.
std::vector<const Run*> execute(const std::vector<const Run*>& pending, int64_t jobs, const std::string& program) {
  std::map<pid_t, const Run*> running;
  std::vector<const Run*> failed;
  size_t next = 0, done = 0;
  const auto start = std::chrono::steady_clock::now();
  install_stop_handlers();
  bool forwarded = false;
  while (next < pending.size() || !running.empty()) {
    while (!stop_signal() && next < pending.size() && static_cast<int64_t>(running.size()) < jobs) {
      const Run& r = *pending[next++];
      ensure_directory(fs::path(r.log).parent_path().string());
      const std::string command = shell_line("neurocell", r.argv) + "\n";
      const bool same_command = file_exists(command_path(r)) && read_file(command_path(r), "run command") == command;
      std::vector<std::string> argv = r.argv;
      // An interrupted run: continue it from its checkpoint when the suite entry is unchanged;
      // redo it otherwise (a stale finished run, a changed entry).
      if (fs::exists(r.dir))
        argv.push_back(same_command && !file_exists(report_path(r.dir)) ? "--resume" : "--overwrite");
      write_file_atomic(command_path(r), command);
      running[start_child(program, argv, r.log)] = &r;
      std::printf("started %s%s\n", r.dir.c_str(), argv.back() == "--resume" ? " (resumed)" : "");
      std::fflush(stdout);
    }
    if (stop_signal() && !forwarded) {
      for (const auto& item : running) ::kill(item.first, SIGTERM);
      forwarded = true;
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0) {
      ::usleep(50 * 1000);  // polled, so that a signal is seen while children run
      continue;
    }
    if (pid < 0) break;
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const Run* r = it->second;
    running.erase(it);
    ++done;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && finished(*r);
    if (!ok) failed.push_back(r);
    const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
    std::printf("%s %s (%zu/%zu, %.1f min)%s\n", ok ? "finished" : stop_signal() ? "stopped" : "FAILED", r->dir.c_str(),
                done, pending.size(), minutes, ok || stop_signal() ? "" : (", see " + r->log).c_str());
    std::fflush(stdout);
  }
  if (const int signal = stop_signal())
    throw Interrupted(std::string("reproduce interrupted by ") + signal_name(signal) +
                          ": the running trainings saved their state; rerun the same command to continue them",
                      signal);
  return failed;
}

double metric_of(const nlohmann::json& report, const std::string& metric) {
  return report.at("test").at(metric).get<double>();
}

struct Row {
  std::string variant;
  std::vector<double> values, walls;
  std::vector<int64_t> seeds;
  std::map<int64_t, std::vector<double>> generalisation;  // T-maze: success per evaluation length
  // T-maze: runs that solved the training length, and of those the ones still solving the
  // longest evaluated length; the trained agents' VAA (report.json "vaa", where measured).
  int64_t solved = 0, kept = 0;
  int64_t optimal = 0, kept_optimal = 0;  // the same under the paper's criterion (report "optimal")
  std::vector<double> vaas;
};

void write_results(const Suite& suite, const std::vector<Run>& runs, const std::string& out, const std::string& budget) {
  nlohmann::json json = {{"suite", suite.name},       {"title", suite.title},
                         {"paper", suite.paper},      {"quick", budget == "quick"},
                         {"budget", budget},          {"claims", suite.claims},
                         {"experiments", nlohmann::json::array()}};
  std::ostringstream md;
  md << "# " << suite.title
     << (budget == "quick" ? " (quick budgets)" : budget == "paper" ? " (the papers' budgets)" : "") << "\n\n";
  if (!suite.paper.empty()) md << "Paper: " << suite.paper << "\n\n";
  if (!suite.claims.empty()) {
    md << "What the paper claims:\n\n";
    for (const auto& c : suite.claims) md << "- " << c << "\n";
    md << "\n";
  }
  md << "Made by `neurocell reproduce " << suite.name << budget_flag(budget) << " --out " << out
     << "`; every run is a `neurocell` command (below), its folder holds config, metrics and report.\n";
  for (size_t e = 0; e < suite.experiments.size(); ++e) {
    const auto& x = suite.experiments[e];
    const bool lower_is_better = x.metric == "mse";
    std::vector<Row> rows(x.variants.size());
    std::vector<std::string> curves;  // per run: "variant seed" + data
    nlohmann::json exp = {{"id", x.id}, {"title", x.title}, {"metric", x.metric}, {"runs", nlohmann::json::array()}};
    std::string example;
    for (const auto& r : runs) {
      if (r.experiment != e) continue;
      if (example.empty()) example = shell_line("neurocell", r.argv);
      auto& row = rows[r.variant];
      row.variant = x.variants[r.variant].name;
      if (!finished(r)) continue;
      try {
        const auto report = nlohmann::json::parse(read_file(report_path(r.dir), "run report"));
        const double value = metric_of(report, x.metric);
        const double wall = report.value("wall_time_s", NAN);
        row.values.push_back(value);
        row.walls.push_back(wall);
        if (report.at("test").contains("generalisation")) {
          const auto& gs = report.at("test").at("generalisation");
          const int64_t trained = report.at("task").at("length").get<int64_t>();
          bool solved = false, optimal = false, optimal_at_longest = false;
          int64_t longest = 0;
          double at_longest = 0;
          for (const auto& g : gs) {
            const int64_t length = g.at("length").get<int64_t>();
            const double success = g.at("success").get<double>();
            const bool is_optimal = g.value("optimal", false);
            row.generalisation[length].push_back(success);
            if (length == trained) solved = success == 1.0, optimal = is_optimal;
            if (length > longest) longest = length, at_longest = success, optimal_at_longest = is_optimal;
          }
          row.solved += solved ? 1 : 0;
          row.kept += solved && at_longest == 1.0 ? 1 : 0;
          row.optimal += optimal ? 1 : 0;
          row.kept_optimal += optimal && optimal_at_longest ? 1 : 0;
          if (report.contains("vaa")) row.vaas.push_back(report.at("vaa").at("vaa").get<double>());
        }
        row.seeds.push_back(r.seed);
        exp["runs"].push_back({{"variant", row.variant}, {"seed", r.seed}, {"dir", r.dir}, {x.metric, value},
                               {"wall_time_s", wall}, {"command", shell_line("neurocell", r.argv)}});
      } catch (const std::exception& err) {
        throw Error("report of '" + r.dir + "' is unreadable: " + err.what());
      }
    }
    md << "\n## " << x.title << "\n\n";
    md << "Metric: test " << x.metric << (lower_is_better ? " (lower is better)" : " (higher is better)")
       << ". One run, for instance:\n\n```sh\n" << example << "\n```\n\n";
    md << "| variant | seeds | mean | min | max | mean wall time (s) |\n|---|---|---|---|---|---|\n";
    std::ostringstream bars;
    for (size_t v = 0; v < rows.size(); ++v) {
      const auto& row = rows[v];
      if (row.values.empty()) {
        md << "| " << row.variant << " | 0/" << x.seeds.size() << " | - | - | - | - |\n";
        continue;
      }
      double sum = 0, wall = 0;
      for (double value : row.values) sum += value;
      for (double w : row.walls) wall += w;
      const double mean = sum / row.values.size();
      const double lo = *std::min_element(row.values.begin(), row.values.end());
      const double hi = *std::max_element(row.values.begin(), row.values.end());
      char line[256];
      std::snprintf(line, sizeof line, "| %s | %zu/%zu | %.4g | %.4g | %.4g | %.1f |\n", row.variant.c_str(),
                    row.values.size(), x.seeds.size(), mean, lo, hi, wall / row.walls.size());
      md << line;
      nlohmann::json generalisation = nlohmann::json::array();
      for (const auto& [length, successes] : row.generalisation) {
        double total = 0;
        for (double g : successes) total += g;
        generalisation.push_back({{"length", length}, {"mean_success", total / successes.size()}});
      }
      if (!row.generalisation.empty()) {
        exp["generalisation"][row.variant] = generalisation;
        nlohmann::json horizon = {{"solved_at_training_length", row.solved}, {"still_at_longest", row.kept},
                                  {"optimal_at_training_length", row.optimal}, {"optimal_at_longest", row.kept_optimal}};
        if (!row.vaas.empty()) {
          double vaa = 0;
          for (double value : row.vaas) vaa += value / static_cast<double>(row.vaas.size());
          horizon["mean_vaa"] = vaa;
          horizon["vaa"] = row.vaas;
        }
        exp["horizon"][row.variant] = horizon;
      }
      bars << v << " \"" << row.variant << "\" " << mean << " " << lo << " " << hi << "\n";
      exp["summary"].push_back({{"variant", row.variant}, {"seeds_done", row.values.size()},
                                {"seeds_planned", x.seeds.size()}, {"mean", mean}, {"min", lo}, {"max", hi},
                                {"mean_wall_time_s", wall / row.walls.size()}});
    }
    if (exp.contains("generalisation")) {  // T-maze: the greedy agent at longer corridors
      md << "\nHorizon generalisation (mean greedy success over the seeds, per corridor length):\n\n| variant |";
      const auto& any = exp["generalisation"].begin().value();
      for (const auto& g : any) md << " L = " << g.at("length").get<int64_t>() << " |";
      md << " solved at training L | of those, solved at the longest | optimal at training L | of those, optimal at "
            "the longest | VAA (mean over seeds) |\n|---|";
      for (size_t k = 0; k < any.size() + 5; ++k) md << "---|";
      md << "\n";
      for (auto it = exp["generalisation"].begin(); it != exp["generalisation"].end(); ++it) {
        md << "| " << it.key() << " |";
        for (const auto& g : it.value()) {
          char cell[32];
          std::snprintf(cell, sizeof cell, " %.2f |", g.at("mean_success").get<double>());
          md << cell;
        }
        const auto& h = exp["horizon"][it.key()];
        char cell[96];
        std::snprintf(cell, sizeof cell, " %lld | %lld | %lld | %lld |",
                      static_cast<long long>(h.at("solved_at_training_length").get<int64_t>()),
                      static_cast<long long>(h.at("still_at_longest").get<int64_t>()),
                      static_cast<long long>(h.at("optimal_at_training_length").get<int64_t>()),
                      static_cast<long long>(h.at("optimal_at_longest").get<int64_t>()));
        md << cell;
        if (h.contains("mean_vaa")) {
          std::snprintf(cell, sizeof cell, " %.3f |", h.at("mean_vaa").get<double>());
          md << cell;
        } else {
          md << " - |";
        }
        md << "\n";
      }
    }
    json["experiments"].push_back(exp);

    // Pictures: learning curves of every finished run, and the bar chart of the means.
    if (bars.str().empty()) continue;
    const std::string x_key = x.command == "tmaze" ? "episode" : x.command == "meta-rl" ? "iteration" : "step";
    const std::string y_key = x.command == "tmaze"     ? "greedy_success"
                              : x.command == "meta-rl" ? "mean_return"
                              : x.metric == "mse"      ? "validation_mse"
                                                       : "validation_accuracy";
    try {
      GnuplotFigure curves_figure(out + "/" + x.id + "-curves.png", 900, 520);
      std::ostringstream body;
      body << "set title '" << x.id << ": "
           << (x.command == "tmaze" ? "validation greedy success" : x.command == "meta-rl" ? "training mean return" : "validation " + x.metric)
           << " during training' noenhanced\nset xlabel '" << x_key << "'\nset ylabel '" << y_key
           << "' noenhanced\nset grid\n"
           << "set key outside right\n" << (lower_is_better ? "set logscale y\n" : "") << "plot ";
      bool first = true;
      for (const auto& r : runs) {
        if (r.experiment != e || !finished(r)) continue;
        std::ostringstream data;
        std::istringstream lines(read_file(metrics_path(r.dir), "metrics"));
        for (std::string line; std::getline(lines, line);) {
          if (line.empty()) continue;
          const auto m = nlohmann::json::parse(line, nullptr, false);
          if (m.is_discarded() || !m.contains(x_key) || !m.contains(y_key) || !m.at(y_key).is_number()) continue;
          data << m.at(x_key).get<double>() << " " << m.at(y_key).get<double>() << "\n";
        }
        const auto file = curves_figure.data(x.variants[r.variant].name + "-s" + std::to_string(r.seed) + ".dat", data.str());
        body << (first ? "" : ", ") << "'" << file << "' using 1:2 with lines lw 2 lc " << r.variant + 1 << " title '"
             << x.variants[r.variant].name << " s" << r.seed << "'";
        first = false;
      }
      curves_figure.render(body.str());
      GnuplotFigure bar_figure(out + "/" + x.id + "-bars.png", 700, 420);
      const auto bar_file = bar_figure.data("bars.dat", bars.str());
      std::ostringstream bar_body;
      bar_body << "set title '" << x.id << ": test " << x.metric << " (bars: mean, whiskers: min-max over seeds)' noenhanced\n"
               << "set style fill solid 0.5\nset boxwidth 0.6\nset grid y\nunset key\n"
               << (rows.size() > 6 ? "set xtics rotate by -30 noenhanced\n" : "set xtics noenhanced\n")  // long names do not overlap
               << "set ylabel 'test " << x.metric
               << "' noenhanced\n" << (lower_is_better ? "set logscale y\n" : x.metric == "mean_return" ? "set yrange [*<0:0<*]\n" : "set yrange [0:*]\n")
               << "plot '" << bar_file << "' using 1:3:xtic(2) with boxes, '' using 1:3:4:5 with yerrorbars lc rgb 'black' pt 0\n";
      bar_figure.render(bar_body.str());
      md << "\n![" << x.id << " learning curves](" << x.id << "-curves.png) ![" << x.id << " test " << x.metric
         << "](" << x.id << "-bars.png)\n";
    } catch (const Error& err) {
      std::fprintf(stderr, "warning: pictures of %s not drawn: %s\n", x.id.c_str(), err.what());
    }
  }
  ensure_directory(out);
  write_file_atomic(out + "/results.md", md.str());
  write_json_atomic(out + "/results.json", json);
  std::fputs(md.str().c_str(), stdout);
  std::printf("\nwrote %s/results.md, %s/results.json and the pictures\n", out.c_str(), out.c_str());
}

int command_reproduce(const ReproduceOptions& o) {
  require(o.suite.empty() != o.suite_file.empty(), "reproduce needs a suite NAME (or --suite-file FILE), not both");
  require(o.jobs >= 1 && o.threads_per_job >= 1, "--jobs and --threads-per-job must be >= 1");
  const std::string path = o.suite_file.empty() ? find_suite_file(o.suite).string() : o.suite_file;
  require(!(o.quick && o.paper), "--quick and --paper are two budgets: give one of them (neither: the full budget)");
  const std::string budget = budget_of(o);
  const Suite suite = suites::parse_suite(path, budget, cell_kind_names());
  const std::string out =
      o.out.empty() ? "runs/reproduce/" + suite.name + (budget == "full" ? "" : "-" + budget) : o.out;
  const auto runs = suites::plan(suite, out, o.threads_per_job);
  const std::string program = program_path();

  if (o.list) {
    // What a run costs here: the experiment's measured wall time per run at this budget.
    double known = 0;
    int64_t unknown = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
      const double seconds = suite.experiments[runs[i].experiment].seconds_per_run;
      if (seconds > 0)
        known += seconds;
      else
        ++unknown;
      const std::string cost = seconds <= 0 ? "?"
                               : seconds < 120 ? std::to_string(static_cast<long long>(seconds)) + " s"
                                               : std::to_string(static_cast<long long>(seconds / 60)) + " min";
      std::printf("%3zu %-8s %8s  %s\n", i, finished(runs[i]) ? "done" : "pending", cost.c_str(),
                  shell_line("neurocell", runs[i].argv).c_str());
    }
    std::printf("%zu runs, about %.1f h of single-thread runs here (the wall time per run measured on the project's "
                "2-core machine, see each experiment's seconds_per_run_note)%s\n",
                runs.size(), known / 3600.0,
                unknown > 0 ? (", " + std::to_string(static_cast<long long>(unknown)) + " runs not measured").c_str() : "");
    return 0;
  }
  if (!o.slurm.empty()) {
    std::ostringstream script;
    script << "#!/bin/bash\n# The " << suite.name << " suite" << (budget == "full" ? "" : " (" + budget + ")") << " as a SLURM array: one task per run.\n"
           << "# Submit with `sbatch " << o.slurm << "`; when every task is done, make the table with\n"
           << "#   " << program << " reproduce " << suite.name << budget_flag(budget) << " --out " << out
           << " --table-only\n"
           << "#SBATCH --job-name=neurocell-" << suite.name << "\n#SBATCH --array=0-" << runs.size() - 1 << "\n"
           << "#SBATCH --cpus-per-task=" << o.threads_per_job << "\n#SBATCH --output=" << out
           << "/logs/slurm-%A_%a.out\n"
           << "#SBATCH --requeue\n#SBATCH --open-mode=append\n#SBATCH --signal=B:TERM@120\n"
           << "# A preemption or the time limit sends SIGTERM: the training saves its resume checkpoint and\n"
           << "# stops; the task is requeued and the same command continues it (runs resume, never restart).\n"
           << "cd " << fs::current_path().string() << "\n"
           << program << " reproduce " << (o.suite_file.empty() ? suite.name : "--suite-file " + o.suite_file)
           << budget_flag(budget) << " --out " << out << " --threads-per-job " << o.threads_per_job
           << " --only \"$SLURM_ARRAY_TASK_ID\" &\n"
           << "child=$!\ntrap 'kill -TERM $child' TERM\nwait $child; status=$?\n"
           << "if [ $status -gt 128 ]; then wait $child; status=$?; fi\n"
           << "if [ $status -eq 143 ]; then scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"; fi\n"
           << "exit $status\n";
    ensure_directory(fs::path(o.slurm).parent_path().empty() ? "." : fs::path(o.slurm).parent_path().string());
    write_file_atomic(o.slurm, script.str());
    std::printf("wrote %s: a SLURM array of %zu runs\n", o.slurm.c_str(), runs.size());
    return 0;
  }
  if (!o.table_only) {
    std::vector<const Run*> pending;
    if (o.only >= 0) {
      require(o.only < static_cast<int64_t>(runs.size()),
              "--only " + std::to_string(o.only) + ": the suite has runs 0.." + std::to_string(runs.size() - 1));
      if (!finished(runs[o.only])) pending.push_back(&runs[o.only]);
    } else {
      for (const auto& r : runs)
        if (!finished(r)) pending.push_back(&r);
    }
    const auto done = std::count_if(runs.begin(), runs.end(), finished);
    std::printf("%s: %zu runs, %lld done, %zu to run now, %lld at a time\n", suite.name.c_str(), runs.size(),
                static_cast<long long>(done), pending.size(), static_cast<long long>(o.jobs));
    std::fflush(stdout);
    const auto failed = execute(pending, o.jobs, program);
    if (o.only >= 0) return failed.empty() ? 0 : 1;
    write_results(suite, runs, out, budget);
    if (!failed.empty()) {
      std::fprintf(stderr, "neurocell: error: %zu runs failed (their logs are named above); rerun the same command to retry them\n",
                   failed.size());
      return 1;
    }
    return 0;
  }
  write_results(suite, runs, out, budget);
  return 0;
}

}  // namespace

void register_reproduce(CLI::App& app) {
  auto options = std::make_shared<ReproduceOptions>();
  auto& o = *options;
  auto* reproduce = app.add_subcommand(
      "reproduce", "Run a paper's suite of experiments (configs/suites/NAME.json), resumable, then its table and pictures");
  reproduce->add_option("suite", o.suite, "Suite: a file name of configs/suites without .json (bistable, warmup, mru, src, horizon, nmd)");
  reproduce->add_option("--suite-file", o.suite_file, "A suite file instead of a name");
  reproduce->add_flag("--quick", o.quick, "The suite's small budgets (a smoke test in minutes)");
  reproduce->add_flag("--paper", o.paper,
                      "The papers' own budgets (sizes, updates, batch): hours to days per run, for a cluster (--slurm)");
  reproduce->add_option("--out", o.out, "Folder of the runs and results (default runs/reproduce/NAME[-quick|-paper])");
  reproduce->add_option("--jobs", o.jobs, "Runs at a time (child processes)")->capture_default_str();
  reproduce->add_option("--threads-per-job", o.threads_per_job, "CPU threads of each run")
      ->capture_default_str();
  reproduce->add_option("--only", o.only, "Run only run number I (see --list; a cluster array task)");
  reproduce->add_flag("--list", o.list, "List the runs, their numbers and whether they are done");
  reproduce->add_flag("--table-only", o.table_only, "Only write the table and pictures of finished runs");
  reproduce->add_option("--slurm", o.slurm, "Write a SLURM array job script for the suite to this file");
  reproduce->callback([options] { exit_with(command_reproduce(*options)); });
}

}  // namespace neurocell::cli
