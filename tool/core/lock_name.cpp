#include "core/lock_name.h"

#include "os/random.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

namespace buildlock::core {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_name_char(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

constexpr std::size_t random_token_length = 16;

std::string printable(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '\0') {
      out += "\\0";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
    if (out.size() > 40) {
      out += "...";
      break;
    }
  }
  return out;
}

} // namespace

Status validate_lock_name(std::string_view name) {
  auto invalid = [&](const std::string& why) -> Status {
    return Error{ErrorKind::usage, "invalid lock name `" + printable(name) + "`: " + why +
                                       " (allowed: a letter or digit, then up to 127 of "
                                       "letters, digits, `.`, `_`, `-`)"};
  };
  if (name.empty()) {
    return invalid("it is empty");
  }
  if (name.size() > max_lock_name_length) {
    return invalid("it is " + std::to_string(name.size()) + " characters long");
  }
  if (!is_alnum(name.front())) {
    return invalid("it must start with a letter or digit");
  }
  for (char c : name) {
    if (!is_name_char(c)) {
      return invalid(c == '/'    ? "it contains `/`"
                     : c == '\0' ? "it contains NUL"
                                 : "it contains a forbidden character");
    }
  }
  return ok_status();
}

std::string lock_file_name(std::string_view name) {
  return std::string(name) + std::string(lock_file_suffix);
}

std::string temp_file_name(std::string_view name, std::string_view random_part) {
  return "." + std::string(name) + "." + std::string(random_part) + std::string(temp_file_suffix);
}

std::optional<std::string> lock_name_of_lock_file(std::string_view file_name) {
  if (!file_name.ends_with(lock_file_suffix)) {
    return std::nullopt;
  }
  std::string_view name = file_name.substr(0, file_name.size() - lock_file_suffix.size());
  if (!validate_lock_name(name).ok()) {
    return std::nullopt;
  }
  return std::string(name);
}

namespace {

// "." + name + "." + 16 hex + suffix: the lock name, if the name has that form.
std::optional<std::string> lock_name_of_hidden_file(std::string_view file_name,
                                                    std::string_view suffix) {
  const std::size_t fixed = 1 + 1 + random_token_length + suffix.size();
  if (file_name.size() <= fixed || file_name.front() != '.' || !file_name.ends_with(suffix)) {
    return std::nullopt;
  }
  std::string_view token =
      file_name.substr(file_name.size() - suffix.size() - random_token_length, random_token_length);
  for (char c : token) {
    if (!is_hex(c)) {
      return std::nullopt;
    }
  }
  std::string_view name = file_name.substr(1, file_name.size() - fixed);
  if (file_name[1 + name.size()] != '.' || !validate_lock_name(name).ok()) {
    return std::nullopt;
  }
  return std::string(name);
}

} // namespace

std::optional<std::string> lock_name_of_temp_file(std::string_view file_name) {
  return lock_name_of_hidden_file(file_name, temp_file_suffix);
}

std::optional<std::string> lock_name_of_claim_file(std::string_view file_name) {
  return lock_name_of_hidden_file(file_name, claim_file_suffix);
}

std::string shared_holder_file_name(std::string_view name, std::string_view random_part) {
  return lock_file_name(name) + std::string(holder_file_separator) + "shared." +
         std::string(random_part);
}

std::string slot_file_name(std::string_view name, int slot) {
  return lock_file_name(name) + std::string(holder_file_separator) + "slot." + std::to_string(slot);
}

std::string writer_file_name(std::string_view name) {
  return lock_file_name(name) + std::string(holder_file_separator) + "writer";
}

std::optional<HolderFile> parse_holder_file_name(std::string_view file_name) {
  const auto separator = file_name.find(holder_file_separator);
  if (separator == std::string_view::npos) {
    return std::nullopt;
  }
  auto name = lock_name_of_lock_file(file_name.substr(0, separator));
  if (!name) {
    return std::nullopt;
  }
  HolderFile holder{std::move(*name)};
  std::string_view rest = file_name.substr(separator + holder_file_separator.size());
  if (rest == "writer") {
    holder.kind = HolderFileKind::writer;
    return holder;
  }
  if (rest.starts_with("shared.")) {
    std::string_view token = rest.substr(7);
    if (token.size() != random_token_length || !std::all_of(token.begin(), token.end(), is_hex)) {
      return std::nullopt;
    }
    holder.kind = HolderFileKind::shared;
    return holder;
  }
  if (rest.starts_with("slot.")) {
    std::string_view digits = rest.substr(5);
    int slot = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), slot);
    // Canonical decimal only: "slot.01" is not slot 1.
    if (error != std::errc() || end != digits.data() + digits.size() || slot < 1 ||
        slot > max_slots || digits.front() == '0') {
      return std::nullopt;
    }
    holder.kind = HolderFileKind::slot;
    holder.slot = slot;
    return holder;
  }
  return std::nullopt;
}

std::string claim_file_name(std::string_view name, std::uint64_t inode) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(inode));
  return "." + std::string(name) + "." + hex + std::string(claim_file_suffix);
}

std::string random_token() {
  static std::mt19937_64 generator(os::random_seed());
  static constexpr char digits[] = "0123456789abcdef";
  std::uint64_t bits = generator();
  std::string token(random_token_length, '0');
  for (char& c : token) {
    c = digits[bits & 0xf];
    bits >>= 4;
  }
  return token;
}

} // namespace buildlock::core
