// Subcommand definitions and their implementations on top of the crypto library.
#include "proxy/cli/commands.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "crypto/sealed_sender.h"
#include "proxy/cli/describe.h"
#include "proxy/cli/files.h"

namespace veil::cli {
namespace {

using nlohmann::json;
namespace c = veil::crypto;

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

struct MessageOptions {
  std::string type = "message";
  uint32_t hint = 0;
  std::string group_hex;
};

void add_message_options(CLI::App* cmd, MessageOptions& o) {
  cmd->add_option("--type", o.type, "inner content type")
      ->check(CLI::IsMember({"prekey", "message", "senderkey", "plaintext"}));
  cmd->add_option("--hint", o.hint, "content hint (0 default, 1 resendable, 2 implicit)");
  cmd->add_option("--group", o.group_hex, "group id in hex");
}

// Builds the USMC for the sender certificate at cert_path.
Bytes build_usmc(const std::string& cert_path, const MessageOptions& o, ByteView content) {
  const c::SenderCertificate cert = read_sender_certificate(cert_path);
  auto group = from_hex(o.group_hex);
  if (!group) throw CliError("--group: not hex");
  return c::MessageContent::serialize(*c::parse_content_type(o.type), cert.serialized, content,
                                      o.hint, *group);
}

c::KeyPair sender_keys(const std::string& cert_path, const std::string& key_path) {
  c::KeyPair kp = c::KeyPair::from_private(read_private_key(key_path));
  const c::SenderCertificate cert = read_sender_certificate(cert_path);
  if (!(cert.identity_key == kp.pub)) {
    throw CliError(key_path + ": does not match the identity key in " + cert_path);
  }
  return kp;
}

void cmd_keygen(CLI::App& app) {
  auto prefix = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("keygen", "generate an X25519 key pair: PREFIX.priv, PREFIX.pub");
  cmd->add_option("prefix", *prefix, "output path prefix")->required();
  cmd->callback([prefix] {
    const c::KeyPair kp = c::KeyPair::generate(system_rng());
    write_file(*prefix + ".priv", kp.priv.raw(), true);
    write_file(*prefix + ".pub", kp.pub.serialize());
  });
}

void cmd_cert_server(CLI::App& app) {
  struct O { std::string root, key, out; uint32_t id = 0; };
  auto o = std::make_shared<O>();
  auto* cmd = app.add_subcommand("cert-server", "issue a server certificate signed by a trust root");
  cmd->add_option("--root", o->root, "trust root private key")->required();
  cmd->add_option("--id", o->id, "key id")->required();
  cmd->add_option("--key", o->key, "server public key")->required();
  cmd->add_option("-o,--out", o->out, "output file")->required();
  cmd->callback([o] {
    const auto root = read_private_key(o->root);
    const auto cert = c::ServerCertificate::issue(o->id, read_public_key(o->key), root, system_rng());
    write_file(o->out, cert.serialized);
  });
}

void cmd_cert_sender(CLI::App& app) {
  struct O {
    std::string signer, signer_key, uuid, e164, identity, out;
    uint32_t device = 1;
    uint64_t expires = 0;
    bool uuid_bytes = false;
    std::optional<uint32_t> signer_id;
  };
  auto o = std::make_shared<O>();
  auto* cmd = app.add_subcommand("cert-sender", "issue a sender certificate signed by a server key");
  cmd->add_option("--signer", o->signer, "server certificate to embed")->required();
  cmd->add_option("--signer-key", o->signer_key, "server private key")->required();
  cmd->add_option("--uuid", o->uuid, "sender ACI uuid")->required();
  cmd->add_option("--e164", o->e164, "sender phone number");
  cmd->add_option("--device", o->device, "sender device id (1..127)")->required();
  cmd->add_option("--identity", o->identity, "sender identity public key")->required();
  cmd->add_option("--expires", o->expires, "expiry, ms since the epoch")->required();
  cmd->add_option("-o,--out", o->out, "output file")->required();
  cmd->add_flag("--uuid-bytes", o->uuid_bytes, "encode the uuid as 16 bytes (Signal-Server form)");
  cmd->add_option("--signer-id", o->signer_id,
                  "refer to the signer by this id instead of embedding it");
  cmd->callback([o] {
    const auto signer = read_server_certificate(o->signer);
    const auto key = read_private_key(o->signer_key);
    if (!(key.public_key() == signer.key)) {
      throw CliError(o->signer_key + ": does not match the key in " + o->signer);
    }
    c::SenderCertificate::Fields f;
    f.sender_uuid = o->uuid;
    f.uuid_as_bytes = o->uuid_bytes;
    if (!o->e164.empty()) f.sender_e164 = o->e164;
    f.sender_device = o->device;
    f.expires_ms = o->expires;
    f.identity_key = read_public_key(o->identity);
    auto cert = c::SenderCertificate::issue(f, o->signer_id ? nullptr : &signer, o->signer_id,
                                            key, system_rng());
    if (!cert) fail("cert-sender", cert.error());
    write_file(o->out, cert->serialized);
  });
}

void cmd_seal(CLI::App& app) {
  struct O { std::string cert, key, to, in, out; MessageOptions msg; };
  auto o = std::make_shared<O>();
  auto* cmd = app.add_subcommand("seal", "seal content for one recipient (sealed sender v1)");
  cmd->add_option("--cert", o->cert, "sender certificate")->required();
  cmd->add_option("--key", o->key, "sender identity private key")->required();
  cmd->add_option("--to", o->to, "recipient identity public key")->required();
  cmd->add_option("-i,--in", o->in, "inner content (opaque bytes)")->required();
  cmd->add_option("-o,--out", o->out, "output file")->required();
  add_message_options(cmd, o->msg);
  cmd->callback([o] {
    const c::KeyPair sender = sender_keys(o->cert, o->key);
    const Bytes usmc = build_usmc(o->cert, o->msg, read_file(o->in));
    auto sealed = c::seal_v1(usmc, sender, read_public_key(o->to), system_rng());
    if (!sealed) fail("seal", sealed.error());
    write_file(o->out, *sealed);
  });
}

void cmd_open(CLI::App& app) {
  struct O {
    std::string key, in = "-", self;
    std::vector<std::string> roots;
    std::optional<uint64_t> now;
  };
  auto o = std::make_shared<O>();
  auto* cmd = app.add_subcommand("open", "open a v1 or v2 (received) message and print JSON");
  cmd->add_option("--key", o->key, "recipient identity private key")->required();
  cmd->add_option("--root", o->roots, "trust root public key (repeatable)")->required();
  cmd->add_option("--now", o->now, "validation time, ms since the epoch (default: now)");
  cmd->add_option("--self", o->self, "UUID:DEVICE of the opening device (self-send rule)");
  cmd->add_option("-i,--in", o->in, "message file");
  cmd->callback([o] {
    c::TrustPolicy policy;
    for (const auto& r : o->roots) policy.roots.push_back(read_public_key(r));
    c::CertificateValidator validator(std::move(policy));
    std::optional<c::LocalAddress> self;
    if (!o->self.empty()) {
      const auto colon = o->self.rfind(':');
      if (colon == std::string::npos) throw CliError("--self: expected UUID:DEVICE");
      self = c::LocalAddress{o->self.substr(0, colon), std::nullopt,
                             static_cast<uint32_t>(std::stoul(o->self.substr(colon + 1)))};
    }
    const c::KeyPair recipient = c::KeyPair::from_private(read_private_key(o->key));
    auto opened = c::open_sealed(read_file(o->in), recipient, validator,
                                 o->now.value_or(now_ms()), self);
    if (!opened) fail("open", opened.error());
    std::cout << describe(*opened).dump() << "\n";
  });
}

std::vector<c::SealRecipient> read_recipients(const std::string& path) {
  const Bytes raw = read_file(path);
  const json j = json::parse(raw.begin(), raw.end(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) throw CliError(path + ": expected a JSON array");
  std::vector<c::SealRecipient> out;
  try {
    for (const json& r : j) {
      c::SealRecipient rec;
      auto sid = c::ServiceId::parse(r.at("service_id").get<std::string>());
      if (!sid) fail(path, sid.error());
      rec.service_id = *sid;
      for (const json& d : r.at("devices")) {
        const auto id = d.at("id").get<uint32_t>();
        const auto reg = d.at("registration_id").get<uint32_t>();
        if (id < 1 || id > 127) fail(path, Error::invalid_device_id);
        if (reg > c::kMaxRegistrationId) fail(path, Error::invalid_registration_id);
        rec.devices.push_back(
            c::Device{static_cast<uint8_t>(id), static_cast<uint16_t>(reg)});
      }
      rec.identity_key = read_public_key(r.at("identity_key").get<std::string>());
      out.push_back(std::move(rec));
    }
  } catch (const json::exception& e) {
    throw CliError(path + ": " + e.what());
  }
  return out;
}

void cmd_seal_multi(CLI::App& app) {
  struct O {
    std::string cert, key, recipients, in, out;
    std::vector<std::string> exclude;
    MessageOptions msg;
  };
  auto o = std::make_shared<O>();
  auto* cmd = app.add_subcommand("seal-multi", "seal content for many recipients (sealed sender v2)");
  cmd->add_option("--cert", o->cert, "sender certificate")->required();
  cmd->add_option("--key", o->key, "sender identity private key")->required();
  cmd->add_option("--recipients", o->recipients, "recipients JSON")->required();
  cmd->add_option("--exclude", o->exclude, "service id to list as excluded (repeatable)");
  cmd->add_option("-i,--in", o->in, "inner content (opaque bytes)")->required();
  cmd->add_option("-o,--out", o->out, "output file")->required();
  add_message_options(cmd, o->msg);
  cmd->callback([o] {
    const c::KeyPair sender = sender_keys(o->cert, o->key);
    const auto recipients = read_recipients(o->recipients);
    std::vector<c::ServiceId> excluded;
    for (const auto& x : o->exclude) {
      auto sid = c::ServiceId::parse(x);
      if (!sid) fail("--exclude " + x, sid.error());
      excluded.push_back(*sid);
    }
    const Bytes usmc = build_usmc(o->cert, o->msg, read_file(o->in));
    auto sealed = c::seal_v2(usmc, sender, recipients, excluded, system_rng());
    if (!sealed) fail("seal-multi", sealed.error());
    write_file(o->out, *sealed);
  });
}

void cmd_fanout(CLI::App& app) {
  struct O { std::string in, out; };
  auto o = std::make_shared<O>();
  auto* cmd = app.add_subcommand("fanout", "split a v2 sent message into per-recipient messages");
  cmd->add_option("-i,--in", o->in, "v2 sent message")->required();
  cmd->add_option("-o,--out", o->out, "output directory")->required();
  cmd->callback([o] {
    const Bytes sent = read_file(o->in);
    auto parsed = c::SentMessage::parse(sent);
    if (!parsed) fail("fanout", parsed.error());
    std::filesystem::create_directories(o->out);
    json recipients = json::array();
    for (std::size_t i = 0; i < parsed->recipients.size(); ++i) {
      const auto& r = parsed->recipients[i];
      write_file(o->out + "/" + r.service_id.to_string() + ".bin", parsed->received_message(i));
      json devices = json::array();
      for (const auto& d : r.devices) {
        devices.push_back({{"id", d.id}, {"registration_id", d.registration_id}});
      }
      recipients.push_back({{"service_id", r.service_id.to_string()}, {"devices", devices}});
    }
    json excluded = json::array();
    for (const auto& x : parsed->excluded) excluded.push_back(x.to_string());
    std::cout << json{{"recipients", recipients}, {"excluded", excluded}}.dump() << "\n";
  });
}

void cmd_inspect(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("inspect", "describe a key, certificate or message as JSON");
  cmd->add_option("file", *path, "file to describe")->required();
  cmd->callback([path] {
    auto j = inspect(read_file(*path));
    if (!j) throw CliError(*path + ": not a key, certificate or sealed-sender message");
    std::cout << j->dump(2) << "\n";
  });
}

}  // namespace

void register_commands(CLI::App& app) {
  cmd_keygen(app);
  cmd_cert_server(app);
  cmd_cert_sender(app);
  cmd_seal(app);
  cmd_open(app);
  cmd_seal_multi(app);
  cmd_fanout(app);
  cmd_inspect(app);
  register_directory_commands(app);
}

}  // namespace veil::cli
