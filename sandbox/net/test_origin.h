#ifndef SANDBOXD_SANDBOX_NET_TEST_ORIGIN_H_
#define SANDBOXD_SANDBOX_NET_TEST_ORIGIN_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

namespace sandboxd {

// An origin server for the proxy's tests and its benchmark, listening on `address` in
// this process, a thread per connection, each answer closing its connection:
//   GET /bytes/N  N bytes, written from one 1 MiB buffer (faster than the proxy relays)
//   GET /hold     a line, then waits for the client to go, and counts it
//   anything else "METHOD TARGET host=HOST proxy-auth=PROXY-AUTHORIZATION"
class TestOrigin {
 public:
  explicit TestOrigin(const std::string& address);
  ~TestOrigin();
  TestOrigin(const TestOrigin&) = delete;
  TestOrigin& operator=(const TestOrigin&) = delete;

  int port() const { return acceptor_.local_endpoint().port(); }
  // The /hold requests whose client went away.
  int holds_ended() const { return holds_ended_; }

 private:
  void Serve();
  void Answer(boost::asio::ip::tcp::socket& socket);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Each connection's socket and thread, shut down and joined when the origin goes.
  std::mutex mu_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> answering_;
  std::atomic<int> holds_ended_{0};
  const std::string chunk_ = std::string(size_t{1} << 20, 'x');
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_TEST_ORIGIN_H_
