#include "sandbox/net/test_origin.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sandboxd {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Text(boost::beast::string_view text) { return std::string(text.data(), text.size()); }

}  // namespace

TestOrigin::TestOrigin(const std::string& address)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address(address), 0)) {
  thread_ = std::thread([this] { Serve(); });
}

TestOrigin::~TestOrigin() {
  stopping_ = true;
  boost::system::error_code ignored;
  tcp::socket poke(io_);
  poke.connect(acceptor_.local_endpoint(), ignored);
  thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& socket : sockets_) socket->shutdown(tcp::socket::shutdown_both, ignored);
  }
  for (std::thread& answering : answering_) answering.join();  // None is added now.
}

void TestOrigin::Serve() {
  while (!stopping_) {
    auto socket = std::make_shared<tcp::socket>(io_);
    boost::system::error_code e;
    acceptor_.accept(*socket, e);
    if (e || stopping_) continue;
    std::lock_guard<std::mutex> lock(mu_);
    sockets_.push_back(socket);
    answering_.emplace_back([this, socket] {
      Answer(*socket);
      std::lock_guard<std::mutex> lock(mu_);
      boost::system::error_code ignored;
      socket->close(ignored);  // The answer said "Connection: close".
    });
  }
}

void TestOrigin::Answer(tcp::socket& socket) {
  boost::beast::flat_buffer buffer;
  http::request<http::string_body> request;
  boost::system::error_code e;
  http::read(socket, buffer, request, e);
  if (e) return;
  std::string target = Text(request.target());
  if (target == "/hold") {
    asio::write(socket, asio::buffer(std::string("HTTP/1.1 200 OK\r\n\r\nholding\n")), e);
    char byte;
    socket.read_some(asio::buffer(&byte, 1), e);
    ++holds_ended_;
    return;
  }
  uint64_t size = 0;
  if (!absl::SimpleAtoi(absl::StripPrefix(target, "/bytes/"), &size)) {
    http::response<http::string_body> echo{http::status::ok, 11};
    echo.keep_alive(false);
    echo.body() = absl::StrCat(Text(request.method_string()), " ", target,
                               " host=", Text(request[http::field::host]),
                               " proxy-auth=", Text(request["Proxy-Authorization"]));
    echo.prepare_payload();
    http::write(socket, echo, e);
    return;
  }
  http::response<http::empty_body> response{http::status::ok, 11};
  response.content_length(size);
  response.keep_alive(false);
  http::response_serializer<http::empty_body> header{response};
  http::write_header(socket, header, e);
  for (uint64_t sent = 0; sent < size && !e;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_.size(), size - sent));
    asio::write(socket, asio::buffer(chunk_.data(), n), e);
    sent += n;
  }
}

}  // namespace sandboxd
