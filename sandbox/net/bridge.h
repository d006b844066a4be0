#ifndef SANDBOXD_SANDBOX_NET_BRIDGE_H_
#define SANDBOXD_SANDBOX_NET_BRIDGE_H_

namespace sandboxd {

// Where a proxy-routed command finds the proxy, in its own network namespace.
inline constexpr const char* kProxyAddress = "127.0.0.1";
inline constexpr int kProxyPort = 3128;
// The same, as HTTP clients are told it (HTTP_PROXY, ...).
inline constexpr const char* kProxyUrl = "http://127.0.0.1:3128";

// The launcher's side of the managed network: in the command's network namespace
// (private_netns.h), listens on kProxyAddress:kProxyPort and sends the listener over
// the Unix socket `channel` to the server's proxy (proxy.h), which accepts from it
// directly, then closes both here. Nothing of the proxy is left in the command's
// processes, and nothing but the proxy listens on its port, which the command cannot
// take over (the listener has no SO_REUSEPORT). System calls only: it runs in the
// static sandboxd-launch. Null on success, else what failed, with errno set.
const char* SendProxyListener(int channel);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_BRIDGE_H_
