// Stand-in messenger server: deliver endpoint and submit client over blocking sockets.
#include "proxy/sim/messenger.h"

#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace veil::sim {

DeliverServer::DeliverServer(uint16_t port, Handler on_delivery)
    : loop_(port), on_delivery_(std::move(on_delivery)) {
  loop_.start([this](Socket s) {
    auto sock = std::make_shared<Socket>(std::move(s));
    loop_.spawn({sock}, [this, sock] { serve(*sock); });
  });
}

DeliverServer::~DeliverServer() { stop(); }

void DeliverServer::stop() { loop_.stop(); }

void DeliverServer::serve(Socket& s) {
  while (auto frame = s.recv_frame()) {
    veil::relay::Delivery d;
    if (!d.ParseFromArray(frame->data(), static_cast<int>(frame->size()))) continue;
    ++frames_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      on_delivery_(d);
    }
    if (withhold_) continue;
    veil::relay::DeliveryAck ack;
    ack.set_delivery_id(d.delivery_id());
    const std::string a = ack.SerializeAsString();
    if (!s.send_frame(as_bytes(a))) break;
  }
}

SubmitClient::SubmitClient(uint16_t port, AnswerHandler on_answer)
    : sock_(Socket::connect_tcp(port)), on_answer_(std::move(on_answer)) {
  reader_ = std::thread([this] {
    while (auto frame = sock_.recv_frame()) {
      veil::relay::SubmitAnswer a;
      if (a.ParseFromArray(frame->data(), static_cast<int>(frame->size()))) {
        if (on_answer_) on_answer_(a);
      }
      ++answers_;
    }
  });
}

SubmitClient::~SubmitClient() {
  sock_.shutdown_write();
  ::shutdown(sock_.fd(), SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
}

bool SubmitClient::send(const veil::relay::Submission& s) {
  const std::string body = s.SerializeAsString();
  ++sent_;
  return sock_.send_frame(as_bytes(body));
}

void SubmitClient::finish(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (answers_ < sent_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

veil::relay::SubmitAnswer submit_once(uint16_t port, const veil::relay::Submission& s) {
  Socket sock = Socket::connect_tcp(port);
  const std::string body = s.SerializeAsString();
  if (!sock.send_frame(as_bytes(body))) throw std::runtime_error("submit: send failed");
  auto frame = sock.recv_frame();
  if (!frame) throw std::runtime_error("submit: no answer");
  veil::relay::SubmitAnswer a;
  a.ParseFromArray(frame->data(), static_cast<int>(frame->size()));
  return a;
}

}  // namespace veil::sim
