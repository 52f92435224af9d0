#include "plot.h"

#include "process.h"
#include "setup.h"

#include <sys/wait.h>

namespace buildlock::bench {
namespace {

std::string data_file(const std::vector<PlotPoint>& points) {
  std::string text = "# P  buildlock_handoff_median_ms buildlock_handoff_p99_ms "
                     "flock_handoff_median_ms flock_handoff_p99_ms buildlock_acq_per_s "
                     "flock_acq_per_s\n";
  for (const PlotPoint& point : points) {
    char line[256];
    std::snprintf(line, sizeof line, "%d %.4f %.4f %.4f %.4f %.1f %.1f\n", point.processes,
                  point.handoff_ms[0].median, point.handoff_ms[0].p99, point.handoff_ms[1].median,
                  point.handoff_ms[1].p99, point.rate[0], point.rate[1]);
    text += line;
  }
  return text;
}

std::string script(const std::string& directory, const std::vector<PlotPoint>& points,
                   const std::string& terminal, const std::string& subtitle) {
  std::string tics;
  for (const PlotPoint& point : points) {
    tics += (tics.empty() ? "" : ", ") + std::to_string(point.processes);
  }
  // Room on both sides of the first and last P (and no "empty x range" with a single P).
  const std::string xrange = "set xrange [" + std::to_string(points.front().processes / 1.5) + ":" +
                             std::to_string(points.back().processes * 1.5) + "]\n";
  const std::string data = "'" + directory + "/performance.dat'";
  return "set terminal " + terminal +
         " size 800,480\n"
         "set grid\nset key top left opaque box\nset logscale x 2\nset xtics (" +
         tics +
         ")\n"
         "set xlabel 'processes contending for one lock (P)'\nset yrange [0:*]\n" +
         xrange + "set output '" + directory +
         "/performance-handoff.png'\n"
         "set title \"Handoff latency: holder's command ends -> next command starts\\n" +
         subtitle +
         "\"\nset ylabel 'milliseconds'\n"
         "plot " +
         data +
         " using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'buildlock median', \\\n"
         "  '' using 1:3 with linespoints lw 1 pt 6 dt 2 lc rgb '#1f77b4' title 'buildlock p99', "
         "\\\n"
         "  '' using 1:4 with linespoints lw 2 pt 5 lc rgb '#d62728' title 'flock(1) median', \\\n"
         "  '' using 1:5 with linespoints lw 1 pt 4 dt 2 lc rgb '#d62728' title 'flock(1) p99'\n"
         "set output '" +
         directory +
         "/performance-throughput.png'\n"
         "set title \"Contended throughput: P processes acquiring one lock (command: true)\\n" +
         subtitle +
         "\"\nset ylabel 'acquisitions per second'\nset key bottom right opaque box\n"
         "plot " +
         data +
         " using 1:6 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'buildlock', \\\n"
         "  '' using 1:7 with linespoints lw 2 pt 5 lc rgb '#d62728' title 'flock(1)'\n";
}

bool run_gnuplot(const std::string& gnuplot, const std::string& script_path) {
  SpawnOptions quiet;
  quiet.stdout_path = "/dev/null";
  quiet.stderr_path = script_path + ".log";
  const Finished finished = wait_for(spawn({gnuplot, script_path}, quiet));
  return WIFEXITED(finished.status) && WEXITSTATUS(finished.status) == 0;
}

} // namespace

std::vector<std::string> write_plots(const std::string& directory,
                                     const std::vector<PlotPoint>& points,
                                     const std::string& gnuplot, const std::string& subtitle) {
  std::vector<std::string> written = {directory + "/performance.dat"};
  write_file(written.back(), data_file(points));
  if (gnuplot.empty() || points.empty()) {
    return written;
  }
  const std::string script_path = directory + "/performance.gnuplot";
  // pngcairo draws nicer lines; gnuplot-nox builds without it fall back to libgd's png.
  write_file(script_path, script(directory, points, "pngcairo", subtitle));
  if (!run_gnuplot(gnuplot, script_path)) {
    write_file(script_path, script(directory, points, "png", subtitle));
    if (!run_gnuplot(gnuplot, script_path)) {
      throw BenchError("gnuplot failed on `" + script_path +
                       "`: " + read_file(script_path + ".log"));
    }
  }
  written.push_back(directory + "/performance-handoff.png");
  written.push_back(directory + "/performance-throughput.png");
  return written;
}

} // namespace buildlock::bench
