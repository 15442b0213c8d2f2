// The admin endpoint's pages, computed on the loop thread from the running relay:
//   /livez    200 "ok" (the loop answered)
//   /readyz   200 "ready", or 503 with Relay::not_ready()'s reasons, one per line
//   /metrics  the Prometheus text exposition (core/exposition.h), process metrics included
//   /         the list of pages
// anything else 404.
#pragma once

#include <string>
#include <string_view>

#include "proxy/relay/admin/admin_server.h"
#include "proxy/relay/core/exposition.h"
#include "proxy/relay/core/relay.h"

namespace veil::relay {

// What the daemon knows beyond the relay itself.
struct AdminContext {
  std::string version;
  uint64_t directory_serial = 0;
  ReloadStats reloads;
};

AdminAnswer answer_admin(std::string_view path, const Relay& relay, const AdminContext& context);

}  // namespace veil::relay
