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

const OptionSpec* FindShort(const std::vector<OptionSpec>& specs, char letter) {
  for (const OptionSpec& spec : specs) {
    if (spec.short_name != 0 && spec.short_name == letter) return &spec;
  }
  return nullptr;
}

absl::Status Add(const OptionSpec& spec, const std::string& written, std::string value,
                 ParsedArgs& parsed) {
  if (!spec.repeated && parsed.Has(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat(written, " is given twice"));
  }
  parsed.options[spec.name].push_back(std::move(value));
  return absl::OkStatus();
}

// Parses the word at args[i] ("-t", "-rf", "-d 2", "-d2"), which starts with one dash;
// advances `i` past a value taken from the next word.
absl::Status ParseShort(const std::vector<std::string>& args, size_t& i,
                        const std::vector<OptionSpec>& specs, ParsedArgs& parsed) {
  const std::string& arg = args[i];
  for (size_t at = 1; at < arg.size(); ++at) {
    const OptionSpec* spec = FindShort(specs, arg[at]);
    std::string written = absl::StrCat("-", std::string(1, arg[at]));
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown option ", written));
    if (spec->value.empty() || spec->optional_value) {
      if (absl::Status s = Add(*spec, written, "", parsed); !s.ok()) return s;
      continue;
    }
    std::string value = arg.substr(at + 1);
    if (value.empty()) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(written, " needs a ", spec->value));
      }
      value = args[++i];
    }
    return Add(*spec, written, std::move(value), parsed);
  }
  return absl::OkStatus();
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
                                     const std::vector<OptionSpec>& specs, bool interspersed) {
  ParsedArgs parsed;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      if (!interspersed) break;
      parsed.rest.push_back(arg);
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      if (absl::Status s = ParseShort(args, i, specs, parsed); !s.ok()) return s;
      continue;
    }
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
    if (absl::Status s = Add(*spec, absl::StrCat("--", name), std::move(value), parsed); !s.ok()) {
      return s;
    }
  }
  parsed.rest.insert(parsed.rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return parsed;
}

std::string OptionsHelp(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const OptionSpec& spec : specs) {
    std::string left = spec.short_name != 0 ? absl::StrCat("-", std::string(1, spec.short_name), ", ")
                                            : std::string();
    absl::StrAppend(&left, "--", spec.name);
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
