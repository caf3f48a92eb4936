#include "core/strict_json.h"

#include <cstdint>
#include <limits>

#include "core/error.h"

namespace neurocell {

std::string json_error_text(const std::exception& e) {
  std::string text = e.what();
  for (size_t at = text.find("[json.exception."); at != std::string::npos; at = text.find("[json.exception.", at)) {
    const size_t close = text.find(']', at);
    if (close == std::string::npos) break;
    size_t end = close + 1;
    if (end < text.size() && text[end] == ' ') ++end;
    text.erase(at, end - at);
  }
  return text;
}

nlohmann::json parse_json_strict(const std::string& text, const std::string& what) {
  const size_t nul = text.find('\0');
  require(nul == std::string::npos,
          what + " is not valid JSON: a NUL byte at offset " + std::to_string(nul) + " (corrupt file?)");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + " is not valid JSON: " + json_error_text(e));
  }
}

namespace {

const char* kind_name(const nlohmann::json& j) {
  if (j.is_number_integer()) return "a whole number";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_boolean()) return "true or false";
  if (j.is_object()) return "an object";
  if (j.is_array()) return "a list";
  return "null";
}

void check_at(const nlohmann::json& given, const nlohmann::json& reference, const std::string& what,
              const std::string& key) {
  if (reference.is_null()) return;
  auto fail = [&](const std::string& why) {
    throw Error(what + ": \"" + key + "\" " + why + " (got " + given.dump().substr(0, 60) + ")");
  };
  if (reference.is_number_integer()) {  // number_unsigned counts as integer too
    if (!given.is_number_integer()) fail("must be a whole number");
    if (given.is_number_unsigned() &&
        given.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("is out of range");
  } else if (reference.is_number()) {
    if (!given.is_number()) fail("must be a number");
  } else if (reference.is_string() || reference.is_boolean() || reference.is_array()) {
    if (std::string(kind_name(given)) != kind_name(reference)) fail(std::string("must be ") + kind_name(reference));
  } else if (reference.is_object()) {
    if (!given.is_object()) fail("must be an object");
    for (const auto& [name, value] : given.items())
      if (reference.contains(name)) check_at(value, reference.at(name), what, key.empty() ? name : key + "." + name);
  }
}

}  // namespace

void check_json_types(const nlohmann::json& given, const nlohmann::json& reference, const std::string& what) {
  if (reference.is_object() && given.is_object()) {
    for (const auto& [name, value] : given.items())
      if (reference.contains(name)) check_at(value, reference.at(name), what, name);
  } else {
    check_at(given, reference, what, "(top level)");
  }
}

}  // namespace neurocell
