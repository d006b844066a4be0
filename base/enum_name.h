#ifndef SANDBOXD_BASE_ENUM_NAME_H_
#define SANDBOXD_BASE_ENUM_NAME_H_

#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace sandboxd {

// The name of `value` in logs and metrics: its name in the .proto file, lower case,
// without the prefix that all the enum's named values share ("BACKEND_BWRAP" is
// "bwrap", "TIMED_OUT" is "timed_out"); "unknown" for a number the enum does not name.
// One function for every enum, so that no list of names can fall behind the proto.
// The prefix up to the first '_' of the first named value other than 0, where every
// such value has it; "" otherwise.
inline std::string SharedPrefix(const google::protobuf::EnumDescriptor& type) {
  std::string prefix;
  bool first = true;
  for (int i = 0; i < type.value_count(); ++i) {
    const std::string& name = type.value(i)->name();
    if (type.value(i)->number() == 0) continue;
    if (first) prefix = name.substr(0, name.find('_') + 1);  // "" without a '_'.
    first = false;
    if (!absl::StartsWith(name, prefix)) return "";
  }
  return prefix;
}

template <typename E>
std::string LogName(E value) {
  const google::protobuf::EnumDescriptor* type = google::protobuf::GetEnumDescriptor<E>();
  const google::protobuf::EnumValueDescriptor* named = type->FindValueByNumber(value);
  if (named == nullptr) return "unknown";
  static const std::string* prefix = new std::string(SharedPrefix(*type));  // Once a type.
  absl::string_view name = named->name();
  if (!prefix->empty()) absl::ConsumePrefix(&name, *prefix);
  return absl::AsciiStrToLower(name);
}

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_ENUM_NAME_H_
