#ifndef SANDBOXD_CLIENT_ARGS_H_
#define SANDBOXD_CLIENT_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sandboxd {

// One option a subcommand accepts.
struct OptionSpec {
  std::string name;       // Without dashes: "mode" is written --mode=X or --mode X.
  std::string value;      // What the value is called in help ("PATH"); empty for a switch.
  std::string help;
  bool repeated = false;  // May be given more than once; values accumulate.
  // A switch that may also take a value, written --name=VALUE only ("" without).
  bool optional_value = false;
  // A one-letter form, written -t (a switch; several may share a word: -rf) or -d 2 /
  // -d2 (with a value); 0 for none.
  char short_name = 0;
};

// A parsed command line: option values by name, and what followed them.
struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> options;
  // The words after the options (after "--", or from the first word not an option on).
  // With interspersed parsing: every word that is not an option, and all after "--".
  std::vector<std::string> rest;

  bool Has(const std::string& name) const { return options.count(name) > 0; }
  // The last value given for `name`, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& name) const;
};

// Parses `args` against `specs`. Options end at "--" and, unless `interspersed`, at the
// first word that is not one ("-" alone is a word: stdin or stdout, as for cp); with
// `interspersed`, options and words mix (`read ID --wait 5s`). INVALID_ARGUMENT names
// the unknown option, the missing value or the repeated one.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs,
                                     bool interspersed = false);

// Help text listing `specs`, one option a line.
std::string OptionsHelp(const std::vector<OptionSpec>& specs);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_ARGS_H_
