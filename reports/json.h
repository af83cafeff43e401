// JSON values that the service answers with, and their one encoder: a tree
// of Json built in memory, copied into Cap'n Proto's JsonValue and encoded
// by its JSON codec (escapes, UTF-8 as is). Never built as text by hand.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tally {

class Json {
 public:
  enum class Kind { kNull, kBool, kInteger, kString, kArray, kObject };

  Json() = default;  // null
  static Json Bool(bool value);
  // An integer of at most 2^53 in magnitude (JSON readers take numbers as
  // doubles); amounts are strings, never numbers.
  static Json Integer(int64_t value);
  static Json String(std::string value);
  static Json Array();
  static Json Object();

  // Adds a member to an object (in order; names are unique by the caller).
  Json& Add(std::string name, Json value);
  // Appends an item to an array.
  Json& Push(Json value);

  Kind kind() const { return kind_; }
  bool boolean() const { return bool_; }
  int64_t integer() const { return integer_; }
  const std::string& string() const { return string_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t integer_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// `value` as compact JSON text.
std::string Encode(const Json& value);

}  // namespace tally
