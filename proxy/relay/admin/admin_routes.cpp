// /livez, /readyz and /metrics of a running relay (admin_routes.h).
#include "proxy/relay/admin/admin_routes.h"

#include "proxy/relay/admin/process_stats.h"

namespace veil::relay {

namespace {

constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kExposition = "text/plain; version=0.0.4; charset=utf-8";

std::string metrics_page(const Relay& relay, const AdminContext& context, bool ready) {
  ExpositionInput in;
  in.metrics = &relay.metrics();
  in.version = context.version;
  in.role = relay.role() == Role::provider ? "provider" : "mix";
  in.ready = ready;
  in.peers = relay.peer_links();
  if (relay.role() == Role::provider) in.deliver = relay.deliver_link();
  in.directory_serial = context.directory_serial;
  in.directory_valid_until = relay.directory_valid_until();
  in.epoch_keys_published_until = relay.epoch_keys_published_until();
  in.reloads = context.reloads;
  in.process = read_process_stats();
  return render_exposition(in);
}

}  // namespace

AdminAnswer answer_admin(std::string_view path, const Relay& relay, const AdminContext& context) {
  // The query string is not part of the route ("/metrics?x=1" is /metrics).
  path = path.substr(0, path.find('?'));
  if (path == "/livez") return {200, kText, "ok\n"};
  if (path == "/readyz") {
    const std::vector<std::string> why = relay.not_ready();
    if (why.empty()) return {200, kText, "ready\n"};
    std::string body;
    for (const std::string& w : why) body += w + "\n";
    return {503, kText, body};
  }
  if (path == "/metrics") return {200, kExposition, metrics_page(relay, context, relay.not_ready().empty())};
  if (path == "/") return {200, kText, "veil-relay admin endpoint: /livez /readyz /metrics\n"};
  return {404, kText, "not found; pages: /livez /readyz /metrics\n"};
}

}  // namespace veil::relay
