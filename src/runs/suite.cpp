#include "runs/suite.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/strict_json.h"
#include "io/files.h"

namespace neurocell::suites {

bool is_safe_folder_name(const std::string& name) {
  return !name.empty() && name.size() <= 100 && name != "." && name != ".." &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             std::string::npos;
}

nlohmann::json merged(nlohmann::json base, const nlohmann::json& over) {
  if (over.is_object())
    for (auto it = over.begin(); it != over.end(); ++it) base[it.key()] = it.value();
  return base;
}

std::string flag_value(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  std::ostringstream text;
  text << v.get<double>();
  return text.str();
}

namespace {

// Typed access to one JSON object, errors naming `where` and the key.
struct Reader {
  const nlohmann::json& j;
  std::string where;

  void fail(const std::string& key, const std::string& why) const {
    throw Error(where + ": \"" + key + "\" " + why);
  }
  const nlohmann::json* find(const std::string& key) const {
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  }
  std::string string(const std::string& key, const std::string& fallback, bool required = false) const {
    const auto* v = find(key);
    if (!v) {
      if (required) throw Error(where + " needs \"" + key + "\"");
      return fallback;
    }
    if (!v->is_string()) fail(key, "must be a string (got " + v->dump().substr(0, 60) + ")");
    return v->get<std::string>();
  }
  std::vector<std::string> strings(const std::string& key) const {
    std::vector<std::string> out;
    const auto* v = find(key);
    if (!v) return out;
    if (!v->is_array()) fail(key, "must be a list of strings");
    for (const auto& s : *v) {
      if (!s.is_string()) fail(key, "must be a list of strings (got " + s.dump().substr(0, 60) + ")");
      out.push_back(s.get<std::string>());
    }
    return out;
  }
  std::vector<int64_t> seeds(const std::vector<int64_t>& fallback) const {
    const auto* v = find("seeds");
    if (!v) return fallback;
    if (!v->is_array() || v->empty()) fail("seeds", "must be a non-empty list of whole numbers");
    std::vector<int64_t> out;
    for (const auto& s : *v) {
      if (!s.is_number_integer() || (s.is_number_unsigned() && s.get<uint64_t>() > uint64_t{1} << 62))
        fail("seeds", "must be a non-empty list of whole numbers (got " + s.dump().substr(0, 60) + ")");
      if (std::find(out.begin(), out.end(), s.get<int64_t>()) != out.end())
        fail("seeds", "lists seed " + s.dump() + " twice (both runs would share one folder)");
      out.push_back(s.get<int64_t>());
    }
    return out;
  }
  const nlohmann::json& object(const std::string& key, const nlohmann::json& empty) const {
    const auto* v = find(key);
    if (!v) return empty;
    if (!v->is_object()) fail(key, "must be an object");
    return *v;
  }
};

const nlohmann::json kEmptyObject = nlohmann::json::object();

// args: {"--flag": value}; reproduce adds --out, --seed, --threads and --quiet itself.
void check_args(const nlohmann::json& args, const std::string& where, const std::vector<std::string>& known_cells) {
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& flag = it.key();
    const auto& value = it.value();
    const bool flag_like = flag.size() > 2 && flag.compare(0, 2, "--") == 0 &&
                           flag.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-", 2) == std::string::npos &&
                           flag[2] != '-';
    require(flag_like, where + ": args key '" + flag + "' is not a --flag of neurocell train, tmaze or meta-rl");
    require(flag != "--out" && flag != "--seed" && flag != "--threads" && flag != "--quiet",
            where + ": args may not set " + flag + " (reproduce sets it for every run)");
    const bool number = value.is_number() && (!value.is_number_float() || std::isfinite(value.get<double>()));
    require(value.is_string() || value.is_boolean() || number,
            where + ": args \"" + flag + "\" must be a string, a number or true/false (got " +
                value.dump().substr(0, 60) + ")");
    if (flag == "--cell") {
      require(value.is_string() &&
                  std::find(known_cells.begin(), known_cells.end(), value.get<std::string>()) != known_cells.end(),
              where + ": unknown cell " + value.dump().substr(0, 60) + " in args \"--cell\"");
    }
  }
}

}  // namespace

const std::vector<std::string>& budget_names() {
  static const std::vector<std::string> names = {"full", "quick", "paper"};
  return names;
}

Suite parse_suite_text(const std::string& text, const std::string& what, const std::string& budget,
                       const std::vector<std::string>& known_cells) {
  require(std::find(budget_names().begin(), budget_names().end(), budget) != budget_names().end(),
          "unknown suite budget '" + budget + "' (valid: full, quick, paper)");
  const nlohmann::json j = parse_json_strict(text, what);
  require(j.is_object(), what + " must hold a JSON object with \"name\" and \"experiments\"");
  const Reader top{j, what};
  Suite s;
  s.name = top.string("name", "", true);
  require(is_safe_folder_name(s.name),
          what + ": \"name\" '" + s.name + "' must be a folder name (letters, digits, '.', '_', '-')");
  s.title = top.string("title", s.name);
  s.paper = top.string("paper", "");
  s.claims = top.strings("claims");
  if (const auto* cell_args = top.find("cell_args")) {
    require(cell_args->is_object(), what + ": \"cell_args\" must be an object {cell: {\"--flag\": value}}");
    for (auto it = cell_args->begin(); it != cell_args->end(); ++it) {
      require(std::find(known_cells.begin(), known_cells.end(), it.key()) != known_cells.end(),
              what + ": unknown cell '" + it.key().substr(0, 60) + "' in \"cell_args\"");
      require(it.value().is_object(), what + ": \"cell_args\".\"" + it.key() + "\" must be an object of --flags");
      require(!it.value().contains("--cell"), what + ": \"cell_args\".\"" + it.key() + "\" may not set --cell");
      check_args(it.value(), what + ", \"cell_args\".\"" + it.key() + "\"", known_cells);
    }
    s.cell_args = *cell_args;
  }
  const auto* experiments = top.find("experiments");
  require(experiments && experiments->is_array() && !experiments->empty(),
          what + " needs \"experiments\": a non-empty list");
  std::set<std::string> ids;
  for (const auto& e : *experiments) {
    require(e.is_object(), what + ": every experiment must be an object");
    Experiment x;
    const Reader r0{e, what + ", an experiment"};
    x.id = r0.string("id", "", true);
    const std::string where = what + ", experiment '" + x.id.substr(0, 100) + "'";
    // The id is a folder under --out (and the stem of its pictures): "../x" would write outside.
    require(is_safe_folder_name(x.id),
            where + ": \"id\" must be a folder name (letters, digits, '.', '_', '-'; not empty, '.' or '..')");
    require(ids.insert(x.id).second, where + ": two experiments have this id (they would share one folder)");
    const Reader r{e, where};
    x.title = r.string("title", x.id);
    x.command = r.string("command", "train");
    x.metric = r.string("metric", "", true);
    require(x.metric == "mse" || x.metric == "accuracy" || x.metric == "success" || x.metric == "mean_return",
            where + ": metric must be mse, accuracy, success or mean_return");
    require(x.command == "train" || x.command == "tmaze" || x.command == "meta-rl",
            where + ": command must be train, tmaze or meta-rl");
    x.args = r.object("args", kEmptyObject);
    check_args(x.args, where, known_cells);
    x.seeds = r.seeds({1});
    for (const auto& cell : r.strings("cells")) {
      require(std::find(known_cells.begin(), known_cells.end(), cell) != known_cells.end(),
              where + ": unknown cell '" + cell.substr(0, 60) + "' in \"cells\"");
      x.variants.push_back({cell, {{"--cell", cell}}});
    }
    if (const auto* variants = r.find("variants")) {
      require(variants->is_array(), where + ": \"variants\" must be a list of {\"name\", \"args\"}");
      for (const auto& v : *variants) {
        require(v.is_object(), where + ": \"variants\" must be a list of {\"name\", \"args\"}");
        const Reader rv{v, where + ", a variant"};
        Variant variant{rv.string("name", "", true), rv.object("args", kEmptyObject)};
        check_args(variant.args, where + ", variant '" + variant.name.substr(0, 100) + "'", known_cells);
        x.variants.push_back(std::move(variant));
      }
    }
    std::set<std::string> names;
    for (const auto& v : x.variants) {
      // NAME-sSEED is a run folder.
      require(is_safe_folder_name(v.name), where + ": variant name '" + v.name.substr(0, 100) +
                                               "' must be a folder name (letters, digits, '.', '_', '-')");
      require(names.insert(v.name).second, where + ": two variants are named '" + v.name + "'");
    }
    // The wall time of a run, per budget (checked for every budget, kept for the chosen one).
    if (const auto* s = r.find("seconds_per_run")) {
      require(s->is_object(), where + ": \"seconds_per_run\" must be an object {budget: seconds}");
      for (auto it = s->begin(); it != s->end(); ++it) {
        require(std::find(budget_names().begin(), budget_names().end(), it.key()) != budget_names().end(),
                where + ": \"seconds_per_run\" names an unknown budget '" + it.key().substr(0, 40) +
                    "' (valid: full, quick, paper)");
        require(it.value().is_number() && it.value().get<double>() > 0 && std::isfinite(it.value().get<double>()),
                where + ": \"seconds_per_run\".\"" + it.key() + "\" must be a positive number of seconds");
      }
      if (s->contains(budget)) x.seconds_per_run = s->at(budget).get<double>();
    }
    x.seconds_note = r.string("seconds_per_run_note", "");
    const std::string paper_note = r.string("paper_note", "");
    bool found = budget != "paper";  // an experiment without "quick" runs its full budget there
    for (const std::string name : {"quick", "paper"}) {
      const auto* q = r.find(name);
      if (!q) continue;
      require(q->is_object(), where + ": \"" + name + "\" must be an object");
      const Reader rq{*q, where + ", \"" + name + "\""};
      const auto& budget_args = rq.object("args", kEmptyObject);
      check_args(budget_args, where + ", \"" + name + "\"", known_cells);
      const std::string budget_title = rq.string("title", x.title);
      const auto budget_seeds = rq.seeds(x.seeds);
      const auto keep = rq.strings("only_variants");
      for (const auto& v : keep)
        require(names.count(v), where + ": \"" + name + "\".\"only_variants\" names no variant '" + v + "'");
      if (budget != name) continue;
      found = true;
      x.title = budget_title;
      x.args = merged(x.args, budget_args);
      x.seeds = budget_seeds;
      if (q->contains("only_variants"))
        x.variants.erase(std::remove_if(x.variants.begin(), x.variants.end(),
                                        [&](const Variant& v) {
                                          return std::find(keep.begin(), keep.end(), v.name) == keep.end();
                                        }),
                         x.variants.end());
    }
    require(found, where + " has no \"" + budget + "\" budget" +
                       (budget == "paper" && !paper_note.empty() ? ": " + paper_note : ""));
    require(!x.variants.empty(), where + ": needs \"cells\" or \"variants\"");
    s.experiments.push_back(std::move(x));
  }
  return s;
}

Suite parse_suite(const std::string& path, const std::string& budget, const std::vector<std::string>& known_cells) {
  return parse_suite_text(read_file(path, "suite file"), "suite file '" + path + "'", budget, known_cells);
}

std::vector<Run> plan(const Suite& suite, const std::string& out, int64_t threads) {
  std::vector<Run> runs;
  for (size_t e = 0; e < suite.experiments.size(); ++e) {
    const auto& x = suite.experiments[e];
    for (size_t v = 0; v < x.variants.size(); ++v)
      for (int64_t seed : x.seeds) {
        Run r;
        r.experiment = e, r.variant = v, r.seed = seed;
        const std::string name = x.variants[v].name + "-s" + std::to_string(seed);
        r.dir = out + "/" + x.id + "/" + name;
        r.log = out + "/logs/" + x.id + "-" + name + ".log";
        r.argv.push_back(x.command);
        auto args = merged(x.args, x.variants[v].args);
        if (args.contains("--cell") && args["--cell"].is_string() && suite.cell_args.contains(args["--cell"].get<std::string>()))
          args = merged(merged(x.args, suite.cell_args[args["--cell"].get<std::string>()]), x.variants[v].args);
        for (auto it = args.begin(); it != args.end(); ++it) {
          if (it.value().is_boolean()) {
            if (it.value().get<bool>()) r.argv.push_back(it.key());
            continue;
          }
          r.argv.push_back(it.key());
          r.argv.push_back(flag_value(it.value()));
        }
        for (const std::string& s : {std::string("--seed"), std::to_string(seed), std::string("--threads"),
                                     std::to_string(threads), std::string("--quiet"), std::string("--out"), r.dir})
          r.argv.push_back(s);
        runs.push_back(std::move(r));
      }
  }
  return runs;
}

}  // namespace neurocell::suites
