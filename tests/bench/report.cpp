#include "report.h"

#include <algorithm>
#include <cstdio>

namespace buildlock::bench {
namespace {

std::string format(double value, const std::string& unit) {
  char text[64];
  if (unit == "acq/s" || unit == "runs") {
    std::snprintf(text, sizeof text, "%.0f", value);
  } else if (value >= 100) {
    std::snprintf(text, sizeof text, "%.1f", value);
  } else if (value >= 10) {
    std::snprintf(text, sizeof text, "%.2f", value);
  } else {
    std::snprintf(text, sizeof text, "%.3f", value);
  }
  return text;
}

std::string with_unit(double value, const std::string& unit) {
  return format(value, unit) + " " + unit;
}

// Limits are round numbers: "8 MiB", "1 ms", not "8.000 MiB".
std::string limit_text(double limit, const std::string& unit) {
  char text[64];
  std::snprintf(text, sizeof text, "%g %s", limit, unit.c_str());
  return text;
}

std::string ratio_text(const Row& row) {
  if (!row.flock || *row.flock <= 0 || row.unit == "runs") {
    return ""; // a count of runs is compared by its target, not by a ratio
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", row.buildlock / *row.flock);
  return text;
}

std::string target_text(const Row& row) {
  char text[64];
  switch (row.target.goal) {
  case Goal::none:
    return "";
  case Goal::ratio_at_most:
    std::snprintf(text, sizeof text, "<= %gx", row.target.limit);
    return text;
  case Goal::ratio_at_least:
    std::snprintf(text, sizeof text, ">= %gx", row.target.limit);
    return text;
  case Goal::plus_at_most:
    return "<= flock(1) + " + limit_text(row.target.limit, row.unit);
  case Goal::at_most:
    return "<= " + limit_text(row.target.limit, row.unit);
  case Goal::below:
    return "< " + limit_text(row.target.limit, row.unit);
  }
  return "";
}

std::optional<bool> met(const Row& row) {
  const double value = row.buildlock;
  switch (row.target.goal) {
  case Goal::none:
    return std::nullopt;
  case Goal::at_most:
    return value <= row.target.limit;
  case Goal::below:
    return value < row.target.limit;
  default:
    break;
  }
  if (!row.flock) {
    return std::nullopt;
  }
  switch (row.target.goal) {
  case Goal::ratio_at_most:
    return value <= row.target.limit * *row.flock;
  case Goal::ratio_at_least:
    return value >= row.target.limit * *row.flock;
  case Goal::plus_at_most:
    return value <= *row.flock + row.target.limit;
  default:
    return std::nullopt;
  }
}

std::string verdict(const Row& row) {
  const auto result = met(row);
  return result ? (*result ? "PASS" : "MISS") : "";
}

std::vector<std::string> cells(const Row& row) {
  return {row.figure,
          with_unit(row.buildlock, row.unit),
          row.flock ? with_unit(*row.flock, row.unit) : "-",
          ratio_text(row),
          target_text(row),
          verdict(row)};
}

const std::vector<std::string> headings = {"figure", "buildlock", "flock(1)",
                                           "ratio",  "target",    "verdict"};

} // namespace

void Report::section(const std::string& title) {
  entries_.push_back({title, {}});
}

void Report::add(Row row) {
  entries_.push_back({"", std::move(row)});
}

std::string Report::text() const {
  std::vector<std::size_t> widths;
  widths.reserve(headings.size());
  for (const auto& heading : headings) {
    widths.push_back(heading.size());
  }
  for (const Entry& entry : entries_) {
    if (entry.section.empty()) {
      const auto row = cells(entry.row);
      for (std::size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], row[i].size());
      }
    }
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      cell.resize(widths[i], ' ');
      text += (i == 0 ? "" : "  ") + cell;
    }
    while (!text.empty() && text.back() == ' ') {
      text.pop_back();
    }
    return text + "\n";
  };
  std::string text = line(headings);
  for (const Entry& entry : entries_) {
    text += entry.section.empty() ? line(cells(entry.row)) : "\n" + entry.section + "\n";
  }
  return text;
}

std::string Report::markdown() const {
  std::string text = "| figure | buildlock | flock(1) | ratio | target | verdict |\n"
                     "|---|--:|--:|--:|---|---|\n";
  for (const Entry& entry : entries_) {
    if (!entry.section.empty()) {
      text += "| **" + entry.section + "** | | | | | |\n";
      continue;
    }
    const auto row = cells(entry.row);
    text += "|";
    for (const auto& cell : row) {
      text += " " + cell + " |";
    }
    text += "\n";
  }
  return text;
}

std::string Report::tsv() const {
  std::string text = "section\tfigure\tunit\tbuildlock\tflock\ttarget\tverdict\n";
  std::string section;
  for (const Entry& entry : entries_) {
    if (!entry.section.empty()) {
      section = entry.section;
      continue;
    }
    const Row& row = entry.row;
    char values[96];
    std::snprintf(values, sizeof values, "%.6g\t%s", row.buildlock,
                  row.flock ? std::to_string(*row.flock).c_str() : "");
    text += section + "\t" + row.figure + "\t" + row.unit + "\t" + values + "\t" +
            target_text(row) + "\t" + verdict(row) + "\n";
  }
  return text;
}

int Report::misses() const {
  return int(std::count_if(entries_.begin(), entries_.end(), [](const Entry& entry) {
    return entry.section.empty() && met(entry.row) == false;
  }));
}

int Report::checked() const {
  return int(std::count_if(entries_.begin(), entries_.end(), [](const Entry& entry) {
    return entry.section.empty() && met(entry.row).has_value();
  }));
}

} // namespace buildlock::bench
