#include "etcd/json_fields.h"

#include <charconv>

namespace buildlock::etcd {

std::int64_t integer_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return 0;
  }
  const auto it = object.find(name);
  if (it == object.end()) {
    return 0;
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc{} && end == text.data() + text.size()) {
      return value;
    }
  }
  return 0;
}

std::string string_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return "";
  }
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

} // namespace buildlock::etcd
