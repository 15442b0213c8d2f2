// Relay construction, lifecycle, the mix stage and metrics output.
#include "proxy/relay/relay.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "proxy/relay/relay_internal.h"

namespace veil::relay {

Relay::Relay(uv_loop_t* loop, RelayConfig config, crypto::KeyPair epoch_key, Clock& clock,
             Rng& rng, Journal& journal, std::function<int64_t()> wall_ms)
    : loop_(loop),
      config_(std::move(config)),
      epoch_key_(std::move(epoch_key)),
      clock_(clock),
      rng_(rng),
      journal_(journal),
      wall_ms_(std::move(wall_ms)),
      replay_(config_.max_replay_entries, rng),
      drop_schedule_(config_.cover.drop_rate, rng, clock.now()),
      loop_schedule_(config_.cover.loop_rate, rng, clock.now()),
      loops_(config_.cover.loop_timeout, std::max<Micros>(config_.cover.loop_timeout * 3, 30'000'000)) {
  auto mix = make_mix(config_.mix, rng_);
  if (!mix) throw std::runtime_error("config: mix: parameters out of range");
  mix_ = std::move(*mix);
  for (const PeerConfig& pc : config_.directory) {
    if (pc.id == config_.id) continue;  // this relay's own entry
    auto p = std::make_unique<Peer>();
    p->config = pc;
    auto send = crypto::derive_pairwise_key(epoch_key_, pc.epoch_key, true, config_.epoch);
    auto recv = crypto::derive_pairwise_key(epoch_key_, pc.epoch_key, false, config_.epoch);
    if (send && recv) {
      p->send_key = *send;
      p->recv_key = *recv;
    }
    peers_.push_back(std::move(p));
  }
  uv_timer_init(loop_, &mix_timer_);
  mix_timer_.data = this;
  uv_timer_init(loop_, &deliver_timer_);
  deliver_timer_.data = this;
  uv_timer_init(loop_, &cover_timer_);
  cover_timer_.data = this;
  uv_timer_init(loop_, &metrics_timer_);
  metrics_timer_.data = this;
}

Relay::~Relay() = default;

void Relay::start() {
  started_ = true;
  peer_listener_ = std::make_unique<Listener>(
      loop_, config_.peer_listen, config_.packet_size + 64,
      [this](std::shared_ptr<Connection> c) { on_inbound_connection(std::move(c)); });
  if (config_.submit_listen.enabled()) {
    submit_listener_ = std::make_unique<Listener>(
        loop_, config_.submit_listen, kMaxSubmitFrame,
        [this](std::shared_ptr<Connection> c) { on_submit_connection(std::move(c)); });
  }
  for (auto& p : peers_) {
    Peer* peer = p.get();
    peer->dialer = std::make_unique<Dialer>(
        loop_, peer->config.host, peer->config.port, 64,
        [this, peer](std::shared_ptr<Connection> c) { on_peer_connected(*peer, std::move(c)); });
    peer->dialer->start();
  }
  if (!config_.provider.empty()) {
    deliver_dialer_ = std::make_unique<Dialer>(
        loop_, config_.deliver_to.host, config_.deliver_to.port, 64,
        [this](std::shared_ptr<Connection> c) { on_deliver_connected(std::move(c)); },
        config_.deliver_to.unix_path);
    deliver_dialer_->start();
    const auto period = static_cast<uint64_t>(std::max<Micros>(config_.deliver_retry / 1000, 10));
    uv_timer_start(&deliver_timer_, [](uv_timer_t* t) {
      static_cast<Relay*>(t->data)->on_deliver_retry();
    }, period, period);
  }
  arm_cover_timer();
  if (!config_.metrics_file.empty()) {
    const auto period = static_cast<uint64_t>(std::max<Micros>(config_.metrics_interval / 1000, 10));
    uv_timer_start(&metrics_timer_, [](uv_timer_t* t) {
      static_cast<Relay*>(t->data)->write_metrics();
    }, period, period);
  }
}

void Relay::stop() {
  if (stopped_) return;
  stopped_ = true;
  write_metrics();
  if (peer_listener_) peer_listener_->close();
  if (submit_listener_) submit_listener_->close();
  for (auto& p : peers_) {
    if (p->dialer) p->dialer->stop();
    if (p->conn) p->conn->close();
  }
  for (auto& l : inbound_) {
    if (l->conn) l->conn->close();
  }
  for (auto& w : submitters_) {
    if (auto c = w.lock()) c->close();
  }
  if (deliver_dialer_) deliver_dialer_->stop();
  if (deliver_conn_) deliver_conn_->close();
  for (uv_timer_t* t : {&mix_timer_, &deliver_timer_, &cover_timer_, &metrics_timer_}) {
    uv_timer_stop(t);
    uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
  }
}

uint16_t Relay::peer_port() const { return peer_listener_ ? peer_listener_->port() : 0; }
uint16_t Relay::submit_port() const { return submit_listener_ ? submit_listener_->port() : 0; }

void Relay::write_metrics() const {
  if (config_.metrics_file.empty()) return;
  const std::string tmp = config_.metrics_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << metrics_.to_json() << "\n";
  }
  std::rename(tmp.c_str(), config_.metrics_file.c_str());
}

void Relay::mix_add(Peer* next, Bytes packet, Micros arrived) {
  const uint64_t id = next_item_++;
  journal_.record(id, packet);
  ++next->in_pool;
  pool_.emplace(id, PoolItem{std::move(packet), next, arrived, id});
  mix_->add(id, clock_.now());
  metrics_.pool_now = mix_->size();
  arm_mix_timer();
}

void Relay::arm_mix_timer() {
  if (stopped_) return;
  const Micros deadline = mix_->next_deadline();
  if (deadline == kNever) {
    if (mix_armed_for_ != kNever) uv_timer_stop(&mix_timer_);
    mix_armed_for_ = kNever;
    return;
  }
  if (deadline == mix_armed_for_ && uv_is_active(reinterpret_cast<uv_handle_t*>(&mix_timer_))) {
    return;
  }
  mix_armed_for_ = deadline;
  const Micros now = clock_.now();
  const uint64_t delay_ms =
      deadline <= now ? 0 : static_cast<uint64_t>((deadline - now + 999) / 1000);
  uv_timer_start(&mix_timer_, [](uv_timer_t* t) { static_cast<Relay*>(t->data)->on_mix_timer(); },
                 delay_ms, 0);
}

void Relay::on_mix_timer() {
  mix_armed_for_ = kNever;
  const Micros now = clock_.now();
  const std::size_t before = mix_->size();
  std::vector<uint64_t> out = mix_->release(now);
  if (!out.empty()) metrics_.pool_size.observe(static_cast<double>(before));
  for (uint64_t id : out) {
    auto it = pool_.find(id);
    if (it == pool_.end()) continue;
    PoolItem item = std::move(it->second);
    pool_.erase(it);
    --item.next->in_pool;
    metrics_.relay_latency_us.observe(static_cast<double>(now - item.arrived));
    send_to_peer(*item.next, std::move(item.packet), item.journal_item);
  }
  metrics_.pool_now = mix_->size();
  arm_mix_timer();
}

}  // namespace veil::relay
