// Authentication: bearer tokens, and mutual TLS on a TCP port.

#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/read_file.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "sandbox/exec/worker.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

std::string Scratch(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& token) {
  return CallExec(*v1::SandboxService::NewStub(channel), Command({"true"}), absl::Seconds(20),
                  token);
}

class TokenTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    std::ofstream(Scratch("tokens")) << "# identity token\nalice s3cret-alice\nbob s3cret-bob\n";
    SandboxdProcess::Options options;
    options.flags = {"--auth_tokens_file=" + Scratch("tokens")};
    StartServer(options);
  }
};

TEST_F(TokenTest, ValidTokensRun) {
  EXPECT_TRUE(Call(server_->channel(), "s3cret-alice").ok());
  EXPECT_TRUE(Call(server_->channel(), "s3cret-bob").ok());
}

TEST_F(TokenTest, MissingOrWrongTokensAreUnauthenticated) {
  grpc::Status missing = Call(server_->channel(), "");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(missing.error_message(), HasSubstr("authorization: Bearer"));
  for (const char* wrong : {"s3cret-alicf", "s3cret", "s3cret-alice-and-more", "bob"}) {
    EXPECT_EQ(Call(server_->channel(), wrong).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << wrong;
  }
}

TEST_F(TokenTest, EveryMethodNeedsIt) {
  auto stub = v1::SandboxService::NewStub(server_->channel());
  grpc::ClientContext explain_context;
  v1::ExecRequest request = Command({"true"});
  v1::ExplainResponse explanation;
  EXPECT_EQ(stub->Explain(&explain_context, request, &explanation).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext caps_context;
  v1::GetCapabilitiesResponse caps;
  EXPECT_EQ(stub->GetCapabilities(&caps_context, v1::GetCapabilitiesRequest(), &caps).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext stream_context;
  auto stream = stub->ExecStream(&stream_context);
  v1::ExecStreamRequest start;
  start.mutable_start()->add_argv("true");
  stream->Write(start);
  stream->WritesDone();
  v1::ExecStreamResponse ignored;
  while (stream->Read(&ignored)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// Kubernetes probes carry no token.
TEST_F(TokenTest, HealthStaysOpen) {
  auto stub = grpc::health::v1::Health::NewStub(server_->channel());
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response).ok());
}

TEST_F(TokenTest, SandboxctlSendsTheToken) {
  std::ofstream(Scratch("alice.token")) << "s3cret-alice\n";
  Launch launch = SandboxctlLaunch(
      {"--token-file=" + Scratch("alice.token"), "exec", "--", "echo", "in"}, server_->address());
  absl::StatusOr<RunResult> with = RunWorker(launch);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->exit_code, 0) << with->stderr_data.Contents();
  EXPECT_EQ(with->stdout_data.Contents(), "in\n");
  launch.argv.erase(launch.argv.begin() + 1);
  absl::StatusOr<RunResult> without = RunWorker(launch);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->exit_code, 125);
  EXPECT_THAT(without->stderr_data.Contents(), HasSubstr("needs a token"));
}

// Per-client rules, with identities from tokens.
TEST(PolicyFileTest, RulesFollowTheCallersIdentity) {
  std::ofstream(Scratch("policy-tokens")) << "alice token-a\nbob token-b\n";
  std::ofstream(Scratch("policy.textproto"))
      << "client { identity: \"alice\" allow_network: true }\n"
      << "client { identity: \"bob\" }\n";
  SandboxdProcess::Options options;
  options.flags = {"--auth_tokens_file=" + Scratch("policy-tokens"),
                   "--policy_file=" + Scratch("policy.textproto")};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  auto run = [&](const std::string& token) {
    v1::ExecRequest request = Command({"true"});
    request.mutable_policy()->set_network(v1::NETWORK_ENABLED);
    return CallExec(*stub, request, absl::Seconds(60), token);
  };
  EXPECT_TRUE(run("token-a").ok());
  grpc::Status bob = run("token-b");
  EXPECT_EQ(bob.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(bob.error_message(), HasSubstr("rule for client bob does not allow NETWORK_ENABLED"));
}

// A CA, a server certificate for 127.0.0.1 and a client certificate for "agent-7",
// made with openssl in the test's scratch directory.
void MakeCertificates() {
  std::string dir = Scratch("pki");
  std::string script = absl::StrCat(
      "set -e; mkdir -p ", dir, "; cd ", dir, "; ",
      "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; ",
      "openssl req -x509 $K -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca 2>/dev/null; ",
      "openssl req $K -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null; ",
      "echo 'subjectAltName=IP:127.0.0.1' > san; ",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 ",
      "-extfile san -out server.pem 2>/dev/null; ",
      "openssl req $K -keyout client.key -out client.csr -subj /CN=agent-7 2>/dev/null; ",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 ",
      "-out client.pem 2>/dev/null");
  ASSERT_EQ(std::system(script.c_str()), 0);
}

std::shared_ptr<grpc::ChannelCredentials> Tls(bool with_client_certificate) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFileOrEmpty(Scratch("pki/ca.pem"));
  if (with_client_certificate) {
    options.pem_cert_chain = ReadFileOrEmpty(Scratch("pki/client.pem"));
    options.pem_private_key = ReadFileOrEmpty(Scratch("pki/client.key"));
  }
  return grpc::SslCredentials(options);
}

TEST(MutualTlsTest, OnlyClientsWithACertificateGetIn) {
  MakeCertificates();
  std::string address = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  SandboxdProcess::Options options;
  options.listen = address;
  options.credentials = Tls(true);
  options.flags = {"--tls_cert=" + Scratch("pki/server.pem"),
                   "--tls_key=" + Scratch("pki/server.key"),
                   "--tls_client_ca=" + Scratch("pki/ca.pem")};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Call((*server)->channel(), "").ok());
  EXPECT_FALSE(Call(grpc::CreateChannel(address, Tls(false)), "").ok());
  EXPECT_FALSE(
      Call(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()), "").ok());
}

}  // namespace
}  // namespace sandboxd::testing
