#include "client/args.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sandboxd {
namespace {

const OptionSpec* Find(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const OptionSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string ParsedArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::All(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs) {
  ParsedArgs parsed;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (!absl::StartsWith(arg, "--")) break;
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const OptionSpec* spec = Find(specs, name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option --", name));
    }
    if (spec->value.empty() && has_value) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    }
    if (!spec->value.empty() && !has_value && !spec->optional_value) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a ", spec->value));
      }
      value = args[++i];
    }
    if (!spec->repeated && parsed.Has(name)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " is given twice"));
    }
    parsed.options[name].push_back(value);
  }
  parsed.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return parsed;
}

std::string OptionsHelp(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const OptionSpec& spec : specs) {
    std::string left = absl::StrCat("--", spec.name);
    if (!spec.value.empty()) {
      absl::StrAppend(&left, spec.optional_value ? "[=" : "=", spec.value,
                      spec.optional_value ? "]" : "");
    }
    absl::StrAppendFormat(&out, "  %-24s %s%s\n", left, spec.help,
                          spec.repeated ? " (repeatable)" : "");
  }
  return out;
}

}  // namespace sandboxd
