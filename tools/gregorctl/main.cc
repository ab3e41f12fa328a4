// gregorctl: the admin CLI, in the shape of kafka-topics.sh, that speaks the Kafka protocol.
#include <cstdio>

#include "tools/gregorctl/cli_args.h"
#include "tools/gregorctl/commands.h"

int main(int argc, char** argv) {
  using namespace gregor::tools;
  ParseOutcome parsed = parse_command_line(argc, argv);
  Report report;
  if (parsed.command) {
    report = run_command(*parsed.command);
  } else {
    report = {parsed.out, parsed.err, parsed.exit_code};
  }
  std::fwrite(report.out.data(), 1, report.out.size(), stdout);
  std::fwrite(report.err.data(), 1, report.err.size(), stderr);
  return report.exit_code;
}
