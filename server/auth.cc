#include "server/auth.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/constant_time.h"

namespace sandboxd {

absl::StatusOr<Authenticator> Authenticator::Create(const std::string& tokens_file,
                                                    bool mutual_tls) {
  Authenticator auth;
  auth.mutual_tls_ = mutual_tls;
  if (tokens_file.empty()) return auth;
  std::ifstream in(tokens_file);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read tokens file ", tokens_file));
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    std::vector<std::string> parts = absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          tokens_file, ":", number, ": expected \"IDENTITY TOKEN\""));
    }
    auth.tokens_.emplace_back(parts[0], parts[1]);
  }
  if (auth.tokens_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("tokens file ", tokens_file, " has no tokens"));
  }
  return auth;
}

absl::StatusOr<std::string> Authenticator::Authenticate(const grpc::ServerContextBase& context) const {
  if (!tokens_.empty()) {
    auto header = context.client_metadata().find("authorization");
    if (header == context.client_metadata().end()) {
      return absl::UnauthenticatedError(
          "this server needs a token: send the metadata \"authorization: Bearer TOKEN\"");
    }
    std::string value(header->second.data(), header->second.size());
    std::string token = absl::StartsWith(value, "Bearer ") ? value.substr(7) : "";
    // Every token is compared, so the time taken does not tell which one came close.
    const std::string* identity = nullptr;
    for (const auto& [name, known] : tokens_) {
      if (ConstantTimeEquals(token, known)) identity = &name;
    }
    if (identity == nullptr) return absl::UnauthenticatedError("the bearer token is not valid");
    return *identity;
  }
  if (mutual_tls_) {
    // The TLS layer already refused clients without a certificate from the trusted CA.
    std::vector<grpc::string_ref> names =
        context.auth_context()->FindPropertyValues("x509_common_name");
    if (names.empty()) return absl::UnauthenticatedError("no client certificate");
    return std::string(names[0].data(), names[0].size());
  }
  return std::string("local");
}

}  // namespace sandboxd
