// InProcessWorld: relays, messenger stand-ins and the in-memory network of one test.
#include "proxy/sim/in_process.h"

#include <stdexcept>

namespace veil::sim {

MemorySubmitter::MemorySubmitter(MemoryNetwork& net, const relay::Endpoint& submit) {
  dialer_ = net.dialer(submit, [this](std::shared_ptr<relay::Stream> s) {
    dialer_->stop();  // one connection: a closed one is not replaced
    raw_ = s;
    conn_ = relay::FramedStream::create(std::move(s), 1u << 20);
    conn_->start(
        [this](relay::FramedStream&, Bytes frame) {
          relay::SubmitAnswer a;
          if (a.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
            answers_.push_back(std::move(a));
          }
        },
        nullptr, [this](relay::FramedStream&) { closed_ = true; });
    for (const Bytes& b : queued_) conn_->send_frames(b);
    queued_.clear();
  });
  dialer_->start();
}

void MemorySubmitter::send(const relay::Submission& s) {
  send_raw(relay::frame(as_bytes(s.SerializeAsString())));
}

void MemorySubmitter::send_raw(ByteView bytes) {
  if (conn_) {
    conn_->send_frames(bytes);
  } else {
    queued_.emplace_back(bytes.begin(), bytes.end());
  }
}

void MemorySubmitter::close() {
  if (conn_) conn_->close();
}

void MemorySubmitter::end() {
  if (raw_) MemoryNetwork::shutdown(*raw_);
}

void MemorySubmitter::send_all(const std::vector<relay::Submission>& subs) {
  Bytes all;
  for (const auto& s : subs) append(all, relay::frame(as_bytes(s.SerializeAsString())));
  send_raw(all);
}

std::size_t MemorySubmitter::accepted() const {
  std::size_t n = 0;
  for (const auto& a : answers_) n += a.status() == relay::SubmitAnswer::ACCEPTED;
  return n;
}

MemoryDeliverServer::MemoryDeliverServer(MemoryNetwork& net, const relay::Endpoint& where)
    : net_(net), where_(where) {
  listen();
}

void MemoryDeliverServer::go_down() {
  listener_.reset();
  std::vector<std::shared_ptr<relay::FramedStream>> open = conns_;
  for (auto& c : open) c->close();
  unacked_.clear();  // what it had not acknowledged is lost with it
}

void MemoryDeliverServer::come_back() {
  if (!listener_) listen();
}

void MemoryDeliverServer::listen() {
  listener_ = net_.listen(where_, [this](std::shared_ptr<relay::Stream> s) {
    ++connections_;
    auto conn = relay::FramedStream::create(std::move(s), 1u << 20);
    conns_.push_back(conn);
    relay::FramedStream* raw = conn.get();
    conn->start(
        [this, raw](relay::FramedStream&, Bytes frame) {
          relay::Delivery d;
          if (!d.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) return;
          deliveries_.push_back(d);
          if (withhold_) {
            unacked_.push_back(d.delivery_id());
            return;
          }
          relay::DeliveryAck ack;
          ack.set_delivery_id(d.delivery_id());
          raw->send(as_bytes(ack.SerializeAsString()));
        },
        nullptr,
        [this](relay::FramedStream& closed) {
          std::erase_if(conns_, [&](const auto& c) { return c.get() == &closed; });
        });
  });
}

void MemoryDeliverServer::ack_all() {
  for (uint64_t id : unacked_) {
    relay::DeliveryAck ack;
    ack.set_delivery_id(id);
    for (auto& c : conns_) {
      if (!c->closed()) c->send(as_bytes(ack.SerializeAsString()));
    }
  }
  unacked_.clear();
}

void MemoryDeliverServer::send_frame(ByteView body) {
  for (auto& c : conns_) {
    if (!c->closed()) c->send(body);
  }
}

InProcessWorld::InProcessWorld(uint64_t seed) : clock(1'000'000), net(clock), rng(seed) {}

InProcessWorld::~InProcessWorld() {
  for (auto& n : nodes_) {
    if (n->relay) n->relay->stop();
  }
  settle();
  net.close_all();  // what a test left open (its own streams included)
  settle();
  for (auto& n : nodes_) {
    n->submitter.reset();
    n->relay.reset();
    n->deliver.reset();
  }
  settle();
}

void InProcessWorld::add_relay(const std::string& name, const std::string& provider,
                               std::function<void(relay::RelayConfig&)> tune,
                               relay::Journal* journal) {
  auto n = std::make_unique<Node>();
  n->name = name;
  n->provider = provider;
  n->epoch_key = std::make_shared<crypto::KeyPair>(crypto::KeyPair::generate(rng));
  const std::string host = "10.0.0." + std::to_string(nodes_.size() + 1);
  relay::RelayConfig& c = n->config;
  c.name = name;
  c.id = relay::relay_id(name);
  c.provider = provider;
  c.peer_listen = relay::Endpoint{host, 7401, {}};
  if (!provider.empty()) {
    c.submit_listen = relay::Endpoint{host, 7400, {}};
    c.deliver_to = relay::Endpoint{host, 7500, {}};
  }
  c.packet_size = 2048;
  c.mix.strategy = relay::MixConfig::Strategy::none;
  c.mix_hops = 0;
  if (tune) tune(c);
  if (journal == nullptr) {
    n->null_journal = std::make_unique<relay::NullJournal>();
    journal = n->null_journal.get();
  }
  n->journal = journal;
  nodes_.push_back(std::move(n));
}

Provider& InProcessWorld::add_provider(const std::string& provider, std::size_t users) {
  auto [it, fresh] = providers_.emplace(
      provider, Provider::create(provider, users, 4'102'444'800'000ULL, rng));
  if (!fresh) throw std::runtime_error("provider declared twice: " + provider);
  return it->second;
}

void InProcessWorld::use_epochs(const relay::EpochTiming& timing, uint64_t epochs) {
  for (auto& n : nodes_) {
    n->config.epoch_timing = timing;
    for (uint64_t e = 0; e < epochs; ++e) {
      n->epoch_keys[e] = std::make_shared<crypto::KeyPair>(crypto::KeyPair::generate(rng));
    }
  }
}

void InProcessWorld::start() {
  // The directory: every declared relay.
  std::vector<relay::PeerConfig> directory;
  for (const auto& n : nodes_) {
    relay::PeerConfig p;
    p.name = n->name;
    p.id = n->config.id;
    p.host = n->config.peer_listen.host;
    p.port = n->config.peer_listen.port;
    if (n->epoch_keys.empty()) p.epoch_keys.emplace(n->config.epoch, n->epoch_key->pub);
    for (const auto& [e, k] : n->epoch_keys) p.epoch_keys.emplace(e, k->pub);
    if (!n->provider.empty()) p.providers = {n->provider};
    directory.push_back(p);
  }
  for (auto& n : nodes_) {
    n->config.directory = directory;
    if (!n->provider.empty()) {
      if (auto it = providers_.find(n->provider); it != providers_.end()) {
        for (const Account& a : it->second.accounts) {
          relay::RecipientAccess access;
          access.access_key = a.access_key;
          n->config.recipients.emplace(a.uuid, access);
        }
      }
      n->deliver = std::make_unique<MemoryDeliverServer>(net, n->config.deliver_to);
    }
    build(*n);
  }
  for (auto& n : nodes_) {
    if (!n->provider.empty()) {
      n->submitter = std::make_unique<MemorySubmitter>(net, n->config.submit_listen);
    }
  }
  settle();
}

void InProcessWorld::build(Node& n) {
  n.security = std::make_unique<relay::NullSecurity>(n.name);
  n.keys = std::make_unique<relay::MemoryEpochKeys>();
  if (n.epoch_keys.empty()) n.keys->add(n.config.epoch, *n.epoch_key);
  for (const auto& [e, k] : n.epoch_keys) n.keys->add(e, *k);
  n.relay = std::make_unique<relay::Relay>(
      n.config, relay::RelayEnv{relay_clock != nullptr ? *relay_clock : clock, executor, net, *n.security, *n.journal, rng, *n.keys});
  n.relay->start();
}

void InProcessWorld::stop_relay(const std::string& name) {
  Node& n = node(name);
  n.relay->stop();
  settle();
  n.relay.reset();
  settle();
}

void InProcessWorld::restart_relay(const std::string& name) {
  Node& n = node(name);
  build(n);
  if (!n.provider.empty()) n.submitter = std::make_unique<MemorySubmitter>(net, n.config.submit_listen);
  settle();
}

void InProcessWorld::settle() {
  for (;;) {
    std::size_t n = net.run() + executor.run_all();
    if (clock.next_deadline() <= clock.now()) {
      clock.set(clock.now());
      ++n;
    }
    if (n == 0) return;
  }
}

void InProcessWorld::settle_network() {
  for (;;) {
    std::size_t n = net.run();
    if (clock.next_deadline() <= clock.now()) {
      clock.set(clock.now());
      ++n;
    }
    if (n == 0) return;
  }
}

void InProcessWorld::advance(Micros d) {
  settle();
  clock.advance(d, [this] { settle(); });
  settle();
}

InProcessWorld::Node& InProcessWorld::node(const std::string& name) {
  for (auto& n : nodes_) {
    if (n->name == name) return *n;
  }
  throw std::runtime_error("no relay named " + name);
}


}  // namespace veil::sim
