#include "core/trace_timeline.h"

#include "core/trace_summary.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace buildlock::core {
namespace {

constexpr double label_width = 180; // the lane names
constexpr double plot_width = 1000; // the time axis
constexpr double axis_height = 30;  // the time labels on top
constexpr double hold_row = 22;     // one row of hold bars
constexpr double wait_row = 8;      // one row of wait bars
constexpr double lane_gap = 14;
constexpr double min_bar = 1.5; // a hold of a few microseconds still shows

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      // XML 1.0 allows no C0 control but tab, newline and return.
      out += static_cast<unsigned char>(c) < 0x20 && c != '\t' ? '?' : c;
    }
  }
  return out;
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

// "1.5s", "0.25s", "0.002s": as many decimals as the value needs, at most six.
std::string seconds_text(std::int64_t us) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6f", static_cast<double>(us) / 1e6);
  std::string text = buffer;
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') {
    text.pop_back();
  }
  return text + "s";
}

// Rows for intervals, packed: each goes into the first row free at its start.
std::vector<std::size_t> pack(const std::vector<const TraceEvent*>& events, std::size_t& rows) {
  std::vector<std::int64_t> row_end;
  std::vector<std::size_t> row_of;
  for (const TraceEvent* event : events) {
    std::size_t row = 0;
    while (row < row_end.size() && row_end[row] > event->ts_us) {
      ++row;
    }
    if (row == row_end.size()) {
      row_end.push_back(0);
    }
    row_end[row] = event->ts_us + std::max<std::int64_t>(event->dur_us, 1);
    row_of.push_back(row);
  }
  rows = row_end.size();
  return row_of;
}

struct Lane {
  std::string lock;
  std::string store;
  std::vector<const TraceEvent*> holds;
  std::vector<const TraceEvent*> waits;
  std::vector<const TraceEvent*> losts;
};

std::string data_attributes(const TraceEvent& event, const char* kind) {
  return std::string(" data-kind=\"") + kind + "\" data-lock=\"" + escaped(event.lock) +
         "\" data-run=\"" + std::to_string(event.run) + "\" data-ts=\"" +
         std::to_string(event.ts_us) + "\" data-dur=\"" + std::to_string(event.dur_us) + "\"";
}

} // namespace

std::string timeline_svg(const std::vector<TraceEvent>& events) {
  std::map<std::pair<std::string, std::string>, Lane> by_lock;
  std::int64_t start = INT64_MAX;
  std::int64_t end = INT64_MIN;
  for (const TraceEvent& event : events) {
    Lane& lane = by_lock[{event.lock, event.store}];
    lane.lock = event.lock;
    lane.store = event.store;
    (event.kind == TraceEvent::Kind::hold   ? lane.holds
     : event.kind == TraceEvent::Kind::wait ? lane.waits
                                            : lane.losts)
        .push_back(&event);
    start = std::min(start, event.ts_us);
    end = std::max(end, event.ts_us + event.dur_us);
  }
  if (events.empty()) {
    start = end = 0;
  }
  const double span = static_cast<double>(std::max<std::int64_t>(end - start, 1));
  const auto x_of = [&](std::int64_t us) {
    return label_width + plot_width * static_cast<double>(us - start) / span;
  };
  const auto by_start = [](const TraceEvent* a, const TraceEvent* b) {
    return a->ts_us < b->ts_us;
  };

  std::string body;
  double y = axis_height;
  // Where each run's hold bar is, for the waits that point at it: (host, run) -> lock, y, ts, end.
  struct Placed {
    double y;
    std::int64_t from;
    std::int64_t to;
  };
  std::map<std::pair<std::string, std::int64_t>, std::vector<Placed>> hold_bars;
  struct PendingWait {
    const TraceEvent* wait;
    double y;
  };
  std::vector<PendingWait> pending;

  for (auto& [key, lane] : by_lock) {
    std::sort(lane.holds.begin(), lane.holds.end(), by_start);
    std::sort(lane.waits.begin(), lane.waits.end(), by_start);
    std::size_t hold_rows = 0;
    std::size_t wait_rows = 0;
    const std::vector<std::size_t> hold_row_of = pack(lane.holds, hold_rows);
    const std::vector<std::size_t> wait_row_of = pack(lane.waits, wait_rows);
    const double height = static_cast<double>(std::max<std::size_t>(hold_rows, 1)) * hold_row +
                          static_cast<double>(wait_rows) * wait_row + 6;
    body += "<g class=\"lane\" data-lock=\"" + escaped(lane.lock) + "\" data-store=\"" +
            escaped(lane.store) + "\">\n";
    body += "<rect class=\"lane-bg\" x=\"0\" y=\"" + number(y) + "\" width=\"" +
            number(label_width + plot_width + 10) + "\" height=\"" + number(height) + "\"/>\n";
    body += "<text class=\"lane-label\" x=\"6\" y=\"" + number(y + 15) + "\">lock " +
            escaped(lane.lock) + "<title>" + escaped(lane.store) + "</title></text>\n";
    for (std::size_t i = 0; i < lane.holds.size(); ++i) {
      const TraceEvent& hold = *lane.holds[i];
      const double top = y + 2 + static_cast<double>(hold_row_of[i]) * hold_row;
      const double left = x_of(hold.ts_us);
      const double width = std::max(x_of(hold.ts_us + hold.dur_us) - left, min_bar);
      const std::string ending = hold.signaled ? "signal " + std::to_string(hold.code)
                                               : "exit " + std::to_string(hold.code);
      body += "<rect class=\"hold" + std::string(hold.lost ? " lost" : "") + "\"" +
              data_attributes(hold, "hold") + " x=\"" + number(left) + "\" y=\"" + number(top) +
              "\" width=\"" + number(width) + "\" height=\"" + number(hold_row - 4) +
              "\"><title>hold of pid " + std::to_string(hold.run) + " on " + escaped(hold.host) +
              " for " + seconds_text(hold.dur_us) + ": " + escaped(hold.command) + " (" + ending +
              ")</title></rect>\n";
      const std::string label =
          "pid " + std::to_string(hold.run) + " " + short_command(hold.command);
      if (width > 40) {
        // Clipped to its bar by its length: about 6 px a character at this size.
        const std::size_t fits = static_cast<std::size_t>((width - 6) / 6);
        body += "<text class=\"bar-label\" x=\"" + number(left + 3) + "\" y=\"" + number(top + 13) +
                "\">" + escaped(label.size() > fits ? label.substr(0, fits) : label) + "</text>\n";
      }
      hold_bars[{hold.host, hold.run}].push_back(Placed{top, hold.ts_us, hold.ts_us + hold.dur_us});
    }
    for (const TraceEvent* lost : lane.losts) {
      const double x = x_of(lost->ts_us);
      body += "<path class=\"lost-mark\"" + data_attributes(*lost, "lost") + " d=\"M" + number(x) +
              " " + number(y) + " l-5 -8 h10 z\"><title>LOCK LOST (pid " +
              std::to_string(lost->run) + ")</title></path>\n";
    }
    const double waits_top =
        y + static_cast<double>(std::max<std::size_t>(hold_rows, 1)) * hold_row;
    for (std::size_t i = 0; i < lane.waits.size(); ++i) {
      const TraceEvent& wait = *lane.waits[i];
      const double top = waits_top + static_cast<double>(wait_row_of[i]) * wait_row;
      std::string behind;
      for (const TraceEvent::Blocker& blocker : wait.behind) {
        behind += "; behind " + (blocker.pid != 0 ? "pid " + std::to_string(blocker.pid) + " (" +
                                                        blocker.command + ")"
                                                  : blocker.text);
      }
      const std::string cls = wait.outcome == "acquired" ? "wait" : "wait failed";
      body += "<rect class=\"" + cls + "\"" + data_attributes(wait, "wait") + " x=\"" +
              number(x_of(wait.ts_us)) + "\" y=\"" + number(top + 1) + "\" width=\"" +
              number(std::max(x_of(wait.ts_us + wait.dur_us) - x_of(wait.ts_us), min_bar)) +
              "\" height=\"" + number(wait_row - 3) + "\"><title>wait of pid " +
              std::to_string(wait.run) + " for " + seconds_text(wait.dur_us) + " (" +
              escaped(wait.outcome) + ")" + escaped(behind) + "</title></rect>\n";
      pending.push_back(PendingWait{&wait, top + wait_row / 2});
      for (const std::string& reclaim : wait.reclaimed) {
        const double x = x_of(wait.ts_us + wait.dur_us);
        body += "<path class=\"reclaim\"" + data_attributes(wait, "reclaim") + " d=\"M" +
                number(x - 4) + " " + number(top - 3) + " l8 8 m0 -8 l-8 8\"><title>reclaimed " +
                escaped(reclaim) + "</title></path>\n";
      }
    }
    body += "</g>\n";
    y += height + lane_gap;
  }

  // Each wait points at the hold of whom it waited behind last: of the holds of its blockers
  // that overlap it, the one ending nearest to its end (the handoff), from the wait's end.
  std::string arrows;
  for (const PendingWait& item : pending) {
    const TraceEvent& wait = *item.wait;
    const std::int64_t wait_end = wait.ts_us + wait.dur_us;
    const Placed* nearest = nullptr;
    std::int64_t nearest_at = 0;
    std::int64_t nearest_distance = 0;
    std::int64_t nearest_pid = 0;
    for (const TraceEvent::Blocker& blocker : wait.behind) {
      auto bars = hold_bars.find({blocker.host, blocker.pid});
      if (blocker.pid == 0 || bars == hold_bars.end()) {
        continue;
      }
      for (const Placed& bar : bars->second) {
        if (bar.to < wait.ts_us || bar.from > wait_end) {
          continue; // another hold of that pid
        }
        // The release that let the wait end is the hold ending nearest to that moment.
        const std::int64_t distance = bar.to > wait_end ? bar.to - wait_end : wait_end - bar.to;
        if (nearest == nullptr || distance < nearest_distance) {
          nearest = &bar;
          nearest_distance = distance;
          nearest_at = std::clamp(wait_end, bar.from, bar.to);
          nearest_pid = blocker.pid;
        }
      }
    }
    if (nearest != nullptr) {
      arrows += "<line class=\"blocker\" data-run=\"" + std::to_string(wait.run) +
                "\" data-blocker=\"" + std::to_string(nearest_pid) + "\" x1=\"" +
                number(x_of(wait_end)) + "\" y1=\"" + number(item.y) + "\" x2=\"" +
                number(x_of(nearest_at)) + "\" y2=\"" + number(nearest->y + hold_row - 4) +
                "\" marker-end=\"url(#arrow)\"/>\n";
    }
  }

  // Ticks at round times: 1, 2 or 5 times a power of ten microseconds, about ten of them.
  std::int64_t step = 1;
  while (span / static_cast<double>(step) > 10) {
    const std::int64_t digit = step;
    while (step % 10 == 0) {
      step /= 10;
    }
    const std::int64_t mantissa = step;
    step = digit / mantissa * (mantissa == 1 ? 2 : mantissa == 2 ? 5 : 10);
  }
  std::string axis;
  for (std::int64_t at = 0; static_cast<double>(at) <= span; at += step) {
    const double x = label_width + plot_width * static_cast<double>(at) / span;
    axis += "<line class=\"tick\" x1=\"" + number(x) + "\" y1=\"" + number(axis_height - 6) +
            "\" x2=\"" + number(x) + "\" y2=\"" + number(y) +
            "\"/>\n<text class=\"tick-label\" x=\"" + number(x) + "\" y=\"" +
            number(axis_height - 10) + "\">" + seconds_text(at) + "</text>\n";
  }

  const double width = label_width + plot_width + 40;
  std::string svg =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
      number(width) + "\" height=\"" + number(y + 10) + "\" viewBox=\"0 0 " + number(width) + " " +
      number(y + 10) +
      "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<title>buildlock: waits and holds per lock</title>\n"
      "<style>\n"
      ".lane-bg{fill:#f6f6f6}.lane-label{font-weight:bold;fill:#222}"
      ".hold{fill:#4a7fc1}.hold.lost{stroke:#d00;stroke-width:2}"
      ".bar-label{fill:#fff;font-size:10px}"
      ".wait{fill:#9a9a9a}.wait.failed{fill:#e8901c}"
      ".blocker{stroke:#666;stroke-width:0.8;stroke-dasharray:3 2}"
      ".reclaim{stroke:#d00;stroke-width:2;fill:none}.lost-mark{fill:#d00}"
      ".tick{stroke:#ddd}.tick-label{fill:#555;font-size:10px;text-anchor:middle}\n"
      "</style>\n"
      "<defs><marker id=\"arrow\" viewBox=\"0 0 6 6\" refX=\"5\" refY=\"3\" markerWidth=\"6\" "
      "markerHeight=\"6\" orient=\"auto\"><path d=\"M0 0 L6 3 L0 6 z\" fill=\"#666\"/></marker>"
      "</defs>\n" +
      axis + body + arrows + "</svg>\n";
  return svg;
}

} // namespace buildlock::core
