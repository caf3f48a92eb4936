// Nothing lost, nothing wrong (issue 19): runs killed with SIGKILL at random points and resumed
// end bit-identical to uninterrupted ones (weights, report numbers, metrics lines); SIGTERM
// saves a checkpoint and exits 143 with the resume command; a second writer of a run folder is
// refused; --overwrite removes the old run before writing; unfinished runs are marked by eval
// and export; divergence is reported; `kill -9` of reproduce leaves no child training and its
// rerun gives the table of an uninterrupted suite. The trainings are real child processes of
// the built `neurocell` (NEUROCELL_BINARY), killed as a user or a cluster would.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "io/files.h"
#include "io/npz.h"
#include "test_util.h"
#include "train/checkpoint.h"

namespace neurocell {
namespace {

using testing::cli;
using testing::TempDir;
namespace fs = std::filesystem;

// A child `neurocell` with stdout and stderr to files; killed and reaped when it goes out of
// scope unwaited (a failed assertion never leaves a trainer writing into a removed folder).
struct Child {
  pid_t pid = -1;
  std::string out, err;
  mutable bool reaped = false;
  Child(pid_t p, std::string o, std::string e) : pid(p), out(std::move(o)), err(std::move(e)) {}
  Child(Child&& other) noexcept : pid(other.pid), out(std::move(other.out)), err(std::move(other.err)), reaped(other.reaped) {
    other.reaped = true;
  }
  Child(const Child&) = delete;
  ~Child() {
    if (reaped || pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

Child spawn(const std::vector<std::string>& args, const std::string& log_prefix,
            const std::string& program = NEUROCELL_BINARY) {
  Child c(-1, log_prefix + ".out", log_prefix + ".err");
  std::vector<std::string> words = {program};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  c.pid = ::fork();
  if (c.pid == 0) {
    ::setpgid(0, 0);  // its own group: a signal to it never reaches the test
    const int out = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return c;
}

// The exit status as a shell reports it (128 + signal for a killed process).
int wait_for(const Child& c) {
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  c.reaped = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool wait_until(const std::function<bool()>& condition, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

// metrics.jsonl without the wall-clock fields: what must be identical after a resume.
std::string metrics_without_times(const std::string& dir) {
  std::istringstream lines(read_file(metrics_path(dir), "metrics"));
  std::string line, out;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    for (const char* key : {"elapsed_s", "train_images_per_s", "wall_time_s", "seconds"}) j.erase(key);
    out += j.dump() + "\n";
  }
  return out;
}

// The numbers of a report.json that a resume must reproduce.
nlohmann::json report_numbers(const std::string& dir) {
  const auto r = nlohmann::json::parse(read_file(report_path(dir), "report"));
  return {{"steps_done", r.at("steps_done")}, {"skipped", r.at("skipped_updates")}, {"best_step", r.at("best_step")},
          {"validation", r.at("validation")}, {"test", r.at("test")}};
}

// Whether a process holds the run folder's lock (a trainer is writing it).
bool folder_locked(const std::string& dir) {
  const int fd = ::open(lock_path(dir).c_str(), O_RDWR);
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return locked;
}

// A regression run of a few seconds with a checkpoint every 7 updates (not a multiple of the
// validation period, so resumes start between validations too).
std::vector<std::string> copy_run(const std::string& out, const std::string& steps = "600") {
  return {"train", "--task", "copy-first-input", "--cell", "nbrc", "--layers", "2", "--hidden", "24", "--length", "30",
          "--batch", "16", "--steps", steps, "--eval-every", "50", "--val-size", "64", "--test-size", "128",
          "--checkpoint-every", "7", "--threads", "1", "--quiet", "--out", out};
}

std::vector<std::string> with(std::vector<std::string> args, const std::string& flag) {
  args.push_back(flag);
  return args;
}

TEST(Resume, RunsKilledAtRandomPointsEndBitIdentical) {
  TempDir dir;
  const auto reference = dir.path("reference");
  ASSERT_EQ(wait_for(spawn(copy_run(reference), dir.path("reference"))), 0) << read_file(dir.path("reference.err"), "err");
  const std::string weights = read_file(weights_path(reference), "weights");
  ASSERT_FALSE(file_exists(resume_path(reference)));  // a finished run keeps no resume state

  std::mt19937 random(20261201);
  int interrupted = 0;
  for (int trial = 0; trial < 3; ++trial) {
    const auto run = dir.path("killed" + std::to_string(trial));
    // Killed once or twice at random moments after its first checkpoint, resumed each time.
    for (int kill = 0; kill <= trial % 2; ++kill) {
      const auto child = spawn(kill == 0 ? copy_run(run) : with(copy_run(run), "--resume"), run + "-" + std::to_string(kill));
      ASSERT_TRUE(wait_until([&] { return file_exists(resume_path(run)) || file_exists(report_path(run)); }, 60));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(random)));
      ::kill(child.pid, SIGKILL);
      wait_for(child);
      if (!file_exists(report_path(run))) ++interrupted;
    }
    const auto resumed = spawn(with(copy_run(run), "--resume"), run + "-resume");
    ASSERT_EQ(wait_for(resumed), 0) << read_file(run + "-resume.err", "err");
    EXPECT_EQ(read_file(weights_path(run), "weights"), weights) << "trial " << trial;
    EXPECT_EQ(report_numbers(run), report_numbers(reference)) << "trial " << trial;
    EXPECT_EQ(metrics_without_times(run), metrics_without_times(reference)) << "trial " << trial;
    EXPECT_FALSE(file_exists(resume_path(run)));
  }
  EXPECT_GE(interrupted, 3) << "the kills came too late to interrupt the runs: make the run longer";
}

TEST(Resume, SigtermSavesTheStateAndPrintsTheResumeCommand) {
  TempDir dir;
  const auto run = dir.path("run");
  const auto child = spawn(copy_run(run, "100000"), dir.path("term"));
  ASSERT_TRUE(wait_until([&] { return file_exists(resume_path(run)) && file_exists(weights_path(run)); }, 60));
  ::kill(child.pid, SIGTERM);
  EXPECT_EQ(wait_for(child), 143);
  const auto err = read_file(dir.path("term.err"), "err");
  EXPECT_NE(err.find("interrupted by SIGTERM after update"), std::string::npos) << err;
  EXPECT_NE(err.find("resume: neurocell train --task copy-first-input"), std::string::npos) << err;
  EXPECT_NE(err.find(" --resume"), std::string::npos) << err;
  EXPECT_TRUE(file_exists(resume_path(run)));
  EXPECT_FALSE(file_exists(report_path(run)));

  // An unfinished run: eval and export work on its best weights so far, and say so.
  const auto eval = cli({"eval", "--checkpoint", run});
  ASSERT_EQ(eval.code, 0) << eval.err;
  // Stopped before its first validation, a run has no weights yet: said so.
  std::filesystem::copy(run, dir.path("early"));
  std::filesystem::remove(weights_path(dir.path("early")));  // as before the first validation
  const auto early = cli({"eval", "--checkpoint", dir.path("early")});
  EXPECT_NE(early.err.find("stopped before its first validation"), std::string::npos) << early.err;
  EXPECT_NE(eval.err.find("warning: '" + run + "' is an unfinished run"), std::string::npos) << eval.err;
  EXPECT_NE(eval.err.find("--resume"), std::string::npos) << eval.err;
  EXPECT_NE(eval.out.find("(unfinished run)"), std::string::npos) << eval.out;
  const auto exported = cli({"export", "--checkpoint", run, "--out", dir.path("m.ncm")});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.err.find("unfinished run"), std::string::npos) << exported.err;

  // Resuming with other flags is refused, naming the difference.
  auto other = with(copy_run(run, "100000"), "--resume");
  other[std::find(other.begin(), other.end(), "--hidden") - other.begin() + 1] = "16";
  const auto refused = cli(other);
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("model.hidden_size: 16 here, 24 in the run"), std::string::npos) << refused.err;
  // --resume and --overwrite together make no sense.
  EXPECT_NE(cli(with(with(copy_run(run), "--resume"), "--overwrite")).err.find("exclude each other"), std::string::npos);
}

TEST(RunLock, ASecondTrainerOfTheSameFolderIsRefused) {
  TempDir dir;
  const auto run = dir.path("run");
  const auto first = spawn(copy_run(run, "100000"), dir.path("first"));
  ASSERT_TRUE(wait_until([&] { return file_exists(config_path(run)); }, 60));
  for (const auto& flag : {std::string("--resume"), std::string("--overwrite")}) {
    const auto second = cli(with(copy_run(run, "100000"), flag));
    EXPECT_EQ(second.code, 1) << flag;
    EXPECT_NE(second.err.find("is in use: another neurocell process (pid " + std::to_string(first.pid) + ")"),
              std::string::npos)
        << second.err;
  }
  ::kill(first.pid, SIGKILL);
  wait_for(first);
  EXPECT_FALSE(folder_locked(run));  // the kernel released the lock of the killed process
  EXPECT_EQ(cli(with(copy_run(run, "20"), "--overwrite")).code, 0);
}

TEST(Overwrite, TheOldRunIsRemovedBeforeAnythingIsWritten) {
  TempDir dir;
  const auto run = dir.path("run");
  ASSERT_EQ(cli(copy_run(run, "20")).code, 0);
  const std::string old_weights = read_file(weights_path(run), "weights");
  // The review's K1: an overwrite killed early must not leave the old weights and report
  // beside the new config.
  auto longer = with(copy_run(run, "100000"), "--overwrite");
  longer.insert(longer.end(), {"--seed", "3"});
  const auto child = spawn(longer, dir.path("overwrite"));
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          return read_file(config_path(run), "config").find("100000") != std::string::npos;
        } catch (const Error&) {
          return false;  // between the removal of the old run and the new config
        }
      },
      60));
  ::kill(child.pid, SIGKILL);
  wait_for(child);
  EXPECT_FALSE(file_exists(report_path(run)));
  if (file_exists(weights_path(run))) EXPECT_NE(read_file(weights_path(run), "weights"), old_weights);
  const auto eval = cli({"eval", "--checkpoint", run});
  if (eval.code == 0) EXPECT_NE(eval.out.find("(unfinished run)"), std::string::npos) << eval.out;
  // A finished run has nothing to resume.
  ASSERT_EQ(cli(with(copy_run(dir.path("done"), "20"), "--resume")).code, 0);  // no run yet: starts it
  const auto again = cli(with(copy_run(dir.path("done"), "20"), "--resume"));
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("nothing to resume"), std::string::npos) << again.err;
}

TEST(Divergence, IsReportedAndARunWithoutAnyUpdateFails) {
  TempDir dir;
  const std::vector<std::string> base = {"train", "--task", "copy-first-input", "--layers", "1", "--hidden", "16",
                                         "--length", "20", "--batch", "16", "--steps", "40", "--eval-every", "20",
                                         "--val-size", "64", "--test-size", "64", "--quiet"};
  auto skipped = base;
  skipped.insert(skipped.end(), {"--cell", "gru", "--lr", "1e20", "--out", dir.path("skipped")});
  const auto none = cli(skipped);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("of the 40 updates were skipped (NaN/Inf loss or gradients) at --lr 1e+20"), std::string::npos)
      << none.err;
  auto wild = base;
  wild.insert(wild.end(), {"--cell", "lstm", "--lr", "1000", "--no-skip-nonfinite", "--out", dir.path("wild")});
  const auto diverged = cli(wild);
  ASSERT_EQ(diverged.code, 0) << diverged.err;
  EXPECT_NE(diverged.err.find("warning: the run diverged"), std::string::npos) << diverged.err;
  const auto report = nlohmann::json::parse(read_file(report_path(dir.path("wild")), "report"));
  ASSERT_TRUE(report.contains("diverged")) << report.dump();
  EXPECT_NE(read_file(metrics_path(dir.path("wild")), "metrics").find("\"diverged\""), std::string::npos);
}

// Runs args(reference) uninterrupted, then args(killed) killed with SIGKILL `delay_ms` after its
// first checkpoint and resumed with --resume; the test compares the two folders.
void run_reference_and_killed_resumed(const std::function<std::vector<std::string>(const std::string&)>& args,
                                      const TempDir& dir, int delay_ms) {
  ASSERT_EQ(wait_for(spawn(args(dir.path("reference")), dir.path("reference"))), 0)
      << read_file(dir.path("reference.err"), "err");
  const auto run = dir.path("killed");
  const auto child = spawn(args(run), dir.path("killed"));
  ASSERT_TRUE(wait_until([&] { return file_exists(resume_path(run)) || file_exists(report_path(run)); }, 60));
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  ::kill(child.pid, SIGKILL);
  wait_for(child);
  EXPECT_FALSE(file_exists(report_path(run))) << "the kill came too late";
  ASSERT_EQ(wait_for(spawn(with(args(run), "--resume"), dir.path("resumed"))), 0)
      << read_file(dir.path("resumed.err"), "err");
  EXPECT_EQ(read_file(weights_path(run), "w"), read_file(weights_path(dir.path("reference")), "w"));
  EXPECT_EQ(metrics_without_times(run), metrics_without_times(dir.path("reference")));
}

TEST(Resume, AClassifierOnYourOwnDataEndsBitIdentical) {
  // The classifier loop (its epoch order and cursor in the checkpoint), through train --data.
  TempDir dir;
  torch::manual_seed(5);
  const auto inputs = torch::randn({300, 12, 3}, torch::TensorOptions().dtype(torch::kFloat32));
  const auto labels = (inputs.sum({1, 2}) > 0).to(torch::kInt64) + (inputs.select(2, 0).sum(1) > 0).to(torch::kInt64);
  write_npz(dir.path("data.npz"), {{"inputs", inputs}, {"labels", labels}});
  const auto args = [&](const std::string& out) {
    return std::vector<std::string>{"train", "--data", dir.path("data.npz"), "--cell", "gru", "--layers", "1",
                                    "--hidden", "16", "--batch", "8", "--steps", "3000", "--eval-every", "400",
                                    "--checkpoint-every", "11", "--threads", "1", "--quiet", "--out", out};
  };
  // 3000 updates take about a second here: 300 were done within the 150 ms before the kill.
  run_reference_and_killed_resumed(args, dir, 150);
  EXPECT_EQ(report_numbers(dir.path("killed")), report_numbers(dir.path("reference")));
}

TEST(Resume, ATmazeAgentEndsBitIdentical) {
  // The DRQN loop: its target network, replay and std::mt19937_64 are in the checkpoint.
  TempDir dir;
  const auto args = [&](const std::string& out) {
    return std::vector<std::string>{"tmaze", "--length", "3", "--eval-lengths", "3,5", "--episodes", "1500",
                                    "--eval-every", "100", "--hidden", "16", "--checkpoint-every", "13", "--threads",
                                    "1", "--quiet", "--out", out};
  };
  run_reference_and_killed_resumed(args, dir, 300);
  const auto numbers = [](const std::string& d) {
    const auto r = nlohmann::json::parse(read_file(report_path(d), "report"));
    return nlohmann::json{{"episodes", r.at("episodes_done")}, {"updates", r.at("updates")}, {"test", r.at("test")}};
  };
  EXPECT_EQ(numbers(dir.path("killed")), numbers(dir.path("reference")));
}

TEST(DrqnResume, AWarmupPaperAgentEndsBitIdentical) {
  // The warmup-paper protocol: its transition replay (slots sharing episodes), target network,
  // std::mt19937_64 and LibTorch's generator (the VAA measures' inputs) are in the checkpoint;
  // a stochastic corridor draws from the same generator.
  TempDir dir;
  const auto args = [&](const std::string& out) {
    return std::vector<std::string>{"tmaze", "--protocol", "warmup-paper", "--length", "3", "--eval-lengths", "3,5",
                                    "--episodes", "300", "--replay-transitions", "600", "--stochasticity", "0.05",
                                    "--hidden", "16", "--checkpoint-every", "13", "--threads", "1", "--quiet",
                                    "--out", out};
  };
  run_reference_and_killed_resumed(args, dir, 300);
  const auto numbers = [](const std::string& d) {
    const auto r = nlohmann::json::parse(read_file(report_path(d), "report"));
    return nlohmann::json{{"episodes", r.at("episodes_done")}, {"updates", r.at("updates")}, {"test", r.at("test")},
                          {"episode_optimality", r.at("episode_optimality")}, {"resumed", r.at("resumed_from") != 0}};
  };
  auto killed = numbers(dir.path("killed")), reference = numbers(dir.path("reference"));
  EXPECT_TRUE(killed.at("resumed").get<bool>()) << "the resumed run did not start from a checkpoint";
  killed.erase("resumed");
  reference.erase("resumed");
  EXPECT_EQ(killed, reference);
}

TEST(Resume, AMetaRlAgentEndsBitIdentical) {
  // PPO: the agent, both Adam optimisers (policy and value), beta, LibTorch's generator (the
  // action noise) and the environment's std::mt19937_64 (the tasks) are in the checkpoint.
  TempDir dir;
  const auto args = [&](const std::string& out) {
    return std::vector<std::string>{"meta-rl", "--env", "moving-target", "--iterations", "120", "--episodes", "4",
                                    "--episode-length", "30", "--unroll", "10", "--policy-epochs", "2",
                                    "--value-epochs", "1", "--eval-episodes", "4", "--checkpoint-every", "3",
                                    "--threads", "1", "--quiet", "--out", out};
  };
  run_reference_and_killed_resumed(args, dir, 300);
  const auto numbers = [](const std::string& d) {
    const auto r = nlohmann::json::parse(read_file(report_path(d), "report"));
    return nlohmann::json{{"iterations", r.at("iterations")}, {"reverts", r.at("reverts")}, {"train", r.at("train")},
                          {"test", r.at("test")}, {"test_sampled", r.at("test_sampled")},
                          {"resumed", r.at("resumed_from") != 0}};
  };
  auto killed = numbers(dir.path("killed")), reference = numbers(dir.path("reference"));
  EXPECT_TRUE(killed.at("resumed").get<bool>()) << "the resumed run did not start from a checkpoint";
  killed.erase("resumed");
  reference.erase("resumed");
  EXPECT_EQ(killed, reference);
}

// The test metric of every run of a results.json (dir names differ between two --out).
std::vector<double> suite_values(const std::string& out) {
  const auto json = nlohmann::json::parse(read_file(out + "/results.json", "results"));
  std::vector<double> values;
  for (const auto& x : json.at("experiments"))
    for (const auto& r : x.at("runs")) values.push_back(r.at("mse").get<double>());
  return values;
}

TEST(ReproduceKill, KillNineLeavesNoChildAndTheRerunMatches) {
  TempDir dir;
  ::setenv("NEUROCELL_EXECUTABLE", NEUROCELL_BINARY, 1);
  std::ofstream(dir.path("suite.json")) << R"({"name": "kill", "title": "kill -9", "experiments": [
    {"id": "copy", "title": "copy T=30", "metric": "mse",
     "args": {"--task": "copy-first-input", "--length": 30, "--layers": 2, "--hidden": 24, "--steps": 400,
              "--batch": 16, "--eval-every": 50, "--val-size": 64, "--test-size": 128, "--checkpoint-every": 7},
     "cells": ["nbrc"], "seeds": [1, 2]}]})";
  const auto reference = cli({"reproduce", "--suite-file", dir.path("suite.json"), "--out", dir.path("reference")});
  ASSERT_EQ(reference.code, 0) << reference.out << reference.err;

  const auto out = dir.path("killed");
  const auto parent = spawn({"reproduce", "--suite-file", dir.path("suite.json"), "--out", out}, dir.path("parent"));
  const auto first = out + "/copy/nbrc-s1";
  ASSERT_TRUE(wait_until([&] { return file_exists(resume_path(first)); }, 60));
  ::kill(parent.pid, SIGKILL);
  wait_for(parent);
  // The child got SIGTERM from the kernel (parent death): it saves its state and ends.
  EXPECT_TRUE(wait_until([&] { return !folder_locked(first); }, 20)) << "the child outlived its parent";
  EXPECT_FALSE(file_exists(report_path(first)));
  const auto log = read_file(out + "/logs/copy-nbrc-s1.log", "log");
  EXPECT_NE(log.find("interrupted by SIGTERM"), std::string::npos) << log;

  const auto rerun = cli({"reproduce", "--suite-file", dir.path("suite.json"), "--out", out});
  ASSERT_EQ(rerun.code, 0) << rerun.out << rerun.err;
  EXPECT_NE(rerun.out.find("started " + first + " (resumed)"), std::string::npos) << rerun.out;
  EXPECT_EQ(suite_values(out), suite_values(dir.path("reference")));
  EXPECT_EQ(read_file(weights_path(first), "w"), read_file(weights_path(dir.path("reference") + "/copy/nbrc-s1"), "w"));
}

TEST(ReproduceKill, TheSlurmScriptSavesTheRunOnSigtermAndRequeuesItself) {
  // The script as SLURM runs it: SIGTERM to the batch shell (--signal=B:TERM, or a preemption),
  // then the requeued task runs the same script again. scontrol is a stand-in that logs.
  TempDir dir;
  ::setenv("NEUROCELL_EXECUTABLE", NEUROCELL_BINARY, 1);
  std::ofstream(dir.path("suite.json")) << R"({"name": "slurm", "title": "slurm", "experiments": [
    {"id": "copy", "title": "copy T=30", "metric": "mse",
     "args": {"--task": "copy-first-input", "--length": 30, "--layers": 2, "--hidden": 24, "--steps": 400,
              "--batch": 16, "--eval-every": 50, "--val-size": 64, "--test-size": 128, "--checkpoint-every": 7},
     "cells": ["nbrc"], "seeds": [1]}]})";
  const auto out = dir.path("out"), script = dir.path("array.sh");
  ASSERT_EQ(cli({"reproduce", "--suite-file", dir.path("suite.json"), "--out", out, "--slurm", script}).code, 0);
  fs::create_directories(dir.path("bin"));
  std::ofstream(dir.path("bin/scontrol")) << "#!/bin/sh\necho \"$@\" >> " << dir.path("scontrol.log") << "\n";
  fs::permissions(dir.path("bin/scontrol"), fs::perms::owner_all);
  const std::string env = "PATH=" + dir.path("bin") + ":/usr/bin:/bin SLURM_ARRAY_JOB_ID=77 SLURM_ARRAY_TASK_ID=0";
  const auto run = out + "/copy/nbrc-s1";
  const auto job = spawn({"-c", "exec env " + env + " /bin/bash " + script}, dir.path("job"), "/bin/bash");
  ASSERT_TRUE(wait_until([&] { return file_exists(resume_path(run)); }, 60)) << read_file(dir.path("job.err"), "err");
  ::kill(job.pid, SIGTERM);  // the batch shell only, as --signal=B:TERM does
  EXPECT_EQ(wait_for(job), 143) << read_file(dir.path("job.err"), "err");
  EXPECT_EQ(read_file(dir.path("scontrol.log"), "scontrol"), "requeue 77_0\n");
  EXPECT_TRUE(file_exists(resume_path(run)));
  EXPECT_FALSE(file_exists(report_path(run)));

  const auto requeued = spawn({"-c", "exec env " + env + " /bin/bash " + script}, dir.path("again"), "/bin/bash");
  ASSERT_EQ(wait_for(requeued), 0) << read_file(dir.path("again.err"), "err");
  EXPECT_TRUE(file_exists(report_path(run)));
  const auto reference = cli({"reproduce", "--suite-file", dir.path("suite.json"), "--out", dir.path("reference")});
  ASSERT_EQ(reference.code, 0) << reference.err;
  EXPECT_EQ(read_file(weights_path(run), "w"), read_file(weights_path(dir.path("reference") + "/copy/nbrc-s1"), "w"));
}

}  // namespace
}  // namespace neurocell
