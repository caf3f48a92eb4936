#pragma once
// Strict JSON for the files a user can hand us (run configs, suite files): nlohmann's parser
// plus what it lets through, and error texts without nlohmann's "[json.exception...]" tags.
// No LibTorch, so tests/fuzz builds it quickly.
#include <nlohmann/json.hpp>

#include <exception>
#include <string>

namespace neurocell {

// `text` parsed; throws Error "<what> is not valid JSON: <where>" on a syntax error or a NUL
// byte (nlohmann ends the input at a NUL, so anything after one would pass unseen).
nlohmann::json parse_json_strict(const std::string& text, const std::string& what);

// An exception's message with nlohmann's "[json.exception.type_error.302] " tags removed.
std::string json_error_text(const std::exception& e);

// Checks `given` against `reference`, the JSON a writer emits for a default value of the same
// type: at every key present in both, a reference integer needs a whole number in int64's
// range (8.5 and 2^63 are refused instead of truncated or wrapped), a float a number, a
// string a string, a bool a bool, an object an object (recursively), a list a list. Keys
// absent from either side are left to the reader. Throws Error naming `what` and the key.
void check_json_types(const nlohmann::json& given, const nlohmann::json& reference, const std::string& what);

}  // namespace neurocell
