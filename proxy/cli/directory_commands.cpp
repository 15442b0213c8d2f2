// The `veil relay-keys` and `veil directory` subcommands: a relay's key directory and descriptor,
// directory authority keys, and signing and verifying the relay directory (docs/directory.md).
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "proxy/cli/commands.h"
#include "proxy/cli/files.h"
#include "proxy/relay/core/descriptor.h"
#include "proxy/relay/core/directory.h"
#include "proxy/relay/core/relay_keys.h"

namespace veil::cli {
namespace {

namespace r = veil::relay;
namespace c = veil::crypto;

constexpr std::string_view kAuthoritySeedTag = "veil-authority-seed/1";
constexpr std::string_view kAuthorityKeyTag = "veil-authority-key/1";

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "what: reason_code: detail" (the code's own message when there is no detail).
[[noreturn]] void refuse(const std::string& what, Error e, const std::string& detail) {
  throw CliError(what + ": " + std::string(error_name(e)) + ": " +
                 (detail.empty() ? std::string(error_message(e)) : detail));
}

// The file at `path` as text; unreadable or oversized files are refused with a reason code.
std::string read_text(const std::string& path) {
  try {
    Bytes b = read_file(path);
    std::string text(b.begin(), b.end());
    wipe(b);  // it may be a key
    return text;
  } catch (const CliError&) {
    refuse(path, Error::io_error, "cannot read it, or it is larger than 64 MiB");
  }
}

// write_file with a reason code on failure.
void write_text(const std::string& path, std::string_view text, bool secret = false) {
  try {
    write_file(path, as_bytes(text), secret);
  } catch (const CliError&) {
    refuse(path, Error::io_error, "cannot write it");
  }
}

r::EpochSchedule schedule_of(int64_t genesis, int64_t length) {
  const r::EpochSchedule s{genesis, length};
  if (r::validate(s) != Error::ok) {
    refuse("--genesis/--epoch-length", Error::invalid_argument,
           "genesis must be within 0..253402300799 and the epoch length within 60..604800 seconds");
  }
  return s;
}

// "<tag> <hex>\n" as the authority key files hold it.
Bytes tagged_hex(const std::string& path, std::string_view tag, std::size_t size) {
  std::string text = read_text(path);
  const std::string prefix = std::string(tag) + " ";
  std::optional<Bytes> b;
  if (text.starts_with(prefix)) {
    std::string_view hex = std::string_view(text).substr(prefix.size());
    if (hex.ends_with('\n')) hex.remove_suffix(1);
    b = from_hex(hex);
  }
  wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  if (!b || b->size() != size) {
    refuse(path, Error::invalid_key,
           "not a \"" + std::string(tag) + " <" + std::to_string(2 * size) + " hex digits>\" file");
  }
  return std::move(*b);
}

c::IdentityKey read_authority_key(const std::string& path) {
  Bytes seed = tagged_hex(path, kAuthoritySeedTag, c::kIdentitySeedSize);
  auto key = c::IdentityKey::from_seed(seed);
  wipe(seed);
  return std::move(*key);
}

c::IdentityPublicKey read_authority_public(const std::string& path) {
  return *c::IdentityPublicKey::parse(tagged_hex(path, kAuthorityKeyTag, c::kIdentityKeySize));
}


void cmd_relay_keys(CLI::App& app) {
  auto* group = app.add_subcommand("relay-keys", "a relay's key directory and its signed descriptor");
  group->require_subcommand(1);

  struct Init { std::string dir, name; };
  auto init = std::make_shared<Init>();
  auto* ci = group->add_subcommand(
      "init", "create DIR (0700) with a new identity key and the relay's name; epoch keys come "
              "with `descriptor`");
  ci->add_option("dir", init->dir, "key directory (created if missing; must be empty)")->required();
  ci->add_option("--name", init->name, "relay name, 1..255 bytes")->required();
  ci->callback([init] {
    std::string detail;
    if (Error e = r::init_relay_keys(init->dir, init->name, system_rng(), &detail); e != Error::ok) {
      refuse("relay-keys", e, detail);
    }
    auto id = r::load_relay_identity(init->dir, &detail);
    if (!id) refuse("relay-keys", id.error(), detail);
    std::cout << "relay " << id->name << ": identity key " << to_hex(id->key.public_key().raw())
              << "\n";
  });

  struct Desc {
    std::string dir, out = "-";
    std::vector<std::string> addresses, providers;
    int64_t genesis = 0, length = 0;
    uint64_t epochs = 24;
    std::optional<int64_t> now;
  };
  auto desc = std::make_shared<Desc>();
  auto* cd = group->add_subcommand(
      "descriptor", "make missing epoch keys and write the relay's signed descriptor");
  cd->add_option("dir", desc->dir, "key directory (relay-keys init)")->required();
  cd->add_option("--address", desc->addresses, "HOST:PORT of the peer listener (repeatable)")
      ->required();
  cd->add_option("--provider", desc->providers, "provider this relay delivers for (repeatable; none: a mix)");
  cd->add_option("--genesis", desc->genesis, "start of epoch 0, unix seconds")->required();
  cd->add_option("--epoch-length", desc->length, "epoch length, seconds (60..604800)")->required();
  cd->add_option("--epochs", desc->epochs, "epochs to publish keys for, from the current one (1..256)");
  cd->add_option("--now", desc->now, "the time, unix seconds (default: now)");
  cd->add_option("-o,--out", desc->out, "output file (default: stdout)");
  cd->callback([desc] {
    const r::EpochSchedule schedule = schedule_of(desc->genesis, desc->length);
    if (desc->epochs < 1 || desc->epochs > r::kMaxDescriptorEpochs) {
      refuse("--epochs", Error::invalid_argument, "must be within 1..256");
    }
    const int64_t now = desc->now.value_or(now_s());
    // Before genesis the descriptor starts at epoch 0.
    const uint64_t first = r::epoch_at_s(schedule, now).value_or(0);
    if (first > UINT64_MAX - desc->epochs) refuse("--now", Error::invalid_argument, "epoch overflow");
    std::string detail;
    auto id = r::load_relay_identity(desc->dir, &detail);
    if (!id) refuse("relay-keys", id.error(), detail);
    r::Descriptor d;
    d.name = id->name;
    d.identity_key = id->key.public_key();
    d.addresses = desc->addresses;
    d.providers = desc->providers;
    d.published_unix_s = now;
    for (uint64_t n = first; n < first + desc->epochs; ++n) {
      auto kp = r::load_or_create_epoch_key(desc->dir, n, system_rng(), &detail);
      if (!kp) refuse("relay-keys", kp.error(), detail);
      d.epoch_keys.push_back({n, kp->pub});
    }
    auto text = r::sign_descriptor(d, id->key, &detail);
    if (!text) refuse("descriptor", text.error(), detail);
    write_text(desc->out, *text);
  });

  struct Wipe { std::string dir; uint64_t before = 0; };
  auto wipe_o = std::make_shared<Wipe>();
  auto* cw = group->add_subcommand("wipe", "overwrite and delete the keys of epochs before N");
  cw->add_option("dir", wipe_o->dir, "key directory")->required();
  cw->add_option("--before", wipe_o->before, "first epoch to keep")->required();
  cw->callback([wipe_o] {
    std::string detail;
    auto n = r::wipe_epoch_keys_before(wipe_o->dir, wipe_o->before, &detail);
    if (!n) refuse("relay-keys", n.error(), detail);
    std::cout << "wiped " << *n << " epoch key" << (*n == 1 ? "" : "s") << "\n";
  });
}

void print_summary(const r::Directory& d, std::size_t authorities, std::size_t threshold, int64_t now) {
  std::cout << "network " << d.network << ", serial " << d.serial << "\n";
  std::cout << "valid " << d.valid_after_unix_s << " .. " << d.valid_until_unix_s
            << " (unix seconds; now " << now << ")\n";
  std::cout << "epochs: genesis " << d.schedule.genesis_unix_s << ", length " << d.schedule.length_s
            << " s; keys for epochs " << d.first_epoch << ".." << d.last_epoch << "\n";
  std::cout << "signatures: " << d.signed_by.size() << " counted of " << d.signature_entries
            << " in the file; threshold " << threshold << " of " << authorities << " authorities\n";
  std::cout << "relays: " << d.relays.size() << "\n";
  for (const r::Descriptor& rel : d.relays) {
    std::string role = "mix";
    if (!rel.is_mix()) {
      role = "provider";
      for (const std::string& p : rel.providers) role += " " + p;
    }
    std::string addresses;
    for (const std::string& a : rel.addresses) addresses += (addresses.empty() ? "" : ",") + a;
    std::cout << "  " << rel.name << "  " << role << "  " << addresses << "  identity "
              << to_hex(rel.identity_key.raw()) << "\n";
  }
}

void cmd_directory(CLI::App& app) {
  auto* group = app.add_subcommand("directory", "directory authority keys; sign and verify the relay directory");
  group->require_subcommand(1);

  struct Keygen { std::string priv, pub; };
  auto kg = std::make_shared<Keygen>();
  auto* ck = group->add_subcommand("keygen", "generate a directory authority key pair (Ed25519)");
  ck->add_option("-o,--out", kg->priv, "private key file (written 0600)")->required();
  ck->add_option("--public", kg->pub, "public key file")->required();
  ck->callback([kg] {
    const c::IdentityKey key = c::IdentityKey::generate(system_rng());
    std::string priv = std::string(kAuthoritySeedTag) + " " + to_hex(key.seed()) + "\n";
    write_text(kg->priv, priv, true);
    wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(priv.data()), priv.size()));
    const std::string pub = std::string(kAuthorityKeyTag) + " " + to_hex(key.public_key().raw()) + "\n";
    write_text(kg->pub, pub);
  });

  struct Sign {
    std::string key, add_to, out, network;
    std::vector<std::string> descriptors;
    uint64_t serial = 0;
    int64_t genesis = 0, length = 0, valid_for = 0;
    std::optional<int64_t> valid_after, now;
  };
  auto s = std::make_shared<Sign>();
  auto* cs = group->add_subcommand(
      "sign", "sign a new directory of DESCRIPTORS, or add a signature to one (--add-to)");
  cs->add_option("--key", s->key, "directory authority private key (directory keygen)")->required();
  auto* descriptors = cs->add_option("descriptors", s->descriptors, "descriptor files");
  auto* add_to = cs->add_option("--add-to", s->add_to, "existing directory to add this signature to");
  auto* network = cs->add_option("--network", s->network, "network name");
  auto* serial = cs->add_option("--serial", s->serial, "serial number, larger in every new directory");
  auto* genesis = cs->add_option("--genesis", s->genesis, "start of epoch 0, unix seconds");
  auto* length = cs->add_option("--epoch-length", s->length, "epoch length, seconds (60..604800)");
  auto* valid_for = cs->add_option("--valid-for", s->valid_for, "validity, seconds from --valid-after");
  auto* valid_after = cs->add_option("--valid-after", s->valid_after, "start of validity, unix seconds (default: now)");
  cs->add_option("--now", s->now, "the time, unix seconds (default: now)");
  cs->add_option("-o,--out", s->out, "output file")->required();
  for (CLI::Option* o : {descriptors, network, serial, genesis, length, valid_for, valid_after}) {
    add_to->excludes(o);
  }
  const std::vector<CLI::Option*> needed = {network, serial, genesis, length, valid_for};
  cs->callback([s, add_to, needed] {
    const c::IdentityKey key = read_authority_key(s->key);
    std::string detail;
    if (add_to->count() > 0) {
      auto text = r::add_signature(read_text(s->add_to), key, &detail);
      if (!text) refuse("directory", text.error(), detail);
      write_text(s->out, *text);
      return;
    }
    bool missing = s->descriptors.empty() || s->valid_for <= 0;
    for (const CLI::Option* o : needed) missing = missing || o->count() == 0;
    if (missing) {
      refuse("directory sign", Error::invalid_argument,
             "a new directory needs DESCRIPTORS, --network, --serial, --genesis, --epoch-length "
             "and --valid-for > 0 (or --add-to DIRECTORY)");
    }
    r::DirectoryContents contents;
    contents.network = s->network;
    contents.serial = s->serial;
    contents.schedule = schedule_of(s->genesis, s->length);
    contents.valid_after_unix_s = s->valid_after.value_or(s->now.value_or(now_s()));
    if (contents.valid_after_unix_s < 0 || contents.valid_after_unix_s > r::kMaxUnixS ||
        s->valid_for > r::kMaxUnixS - contents.valid_after_unix_s) {
      refuse("--valid-after/--valid-for", Error::invalid_argument, "validity ends after 9999-12-31");
    }
    contents.valid_until_unix_s = contents.valid_after_unix_s + s->valid_for;
    for (const std::string& path : s->descriptors) contents.descriptors.push_back(read_text(path));
    auto text = r::create_directory(contents, key, &detail);
    if (!text) refuse("directory", text.error(), detail);
    write_text(s->out, *text);
  });

  struct Verify {
    std::string file;
    std::vector<std::string> authorities;
    std::size_t threshold = 0;
    std::optional<int64_t> now;
  };
  auto v = std::make_shared<Verify>();
  auto* cv = group->add_subcommand("verify", "verify a directory against k of n authority keys");
  cv->add_option("directory", v->file, "directory file")->required();
  cv->add_option("--authority", v->authorities, "authority public key file (repeatable)")->required();
  cv->add_option("--threshold", v->threshold, "signatures needed from distinct authorities (k)")->required();
  cv->add_option("--now", v->now, "the time, unix seconds (default: now)");
  cv->callback([v] {
    std::vector<c::IdentityPublicKey> keys;
    for (const std::string& path : v->authorities) keys.push_back(read_authority_public(path));
    const int64_t now = v->now.value_or(now_s());
    std::string detail;
    auto d = r::verify_directory(read_text(v->file), keys, v->threshold, now, &detail);
    if (!d) refuse("directory", d.error(), detail);
    std::set<c::IdentityPublicKey> distinct(keys.begin(), keys.end());
    print_summary(*d, distinct.size(), v->threshold, now);
  });
}

}  // namespace

void register_directory_commands(CLI::App& app) {
  cmd_relay_keys(app);
  cmd_directory(app);
}

}  // namespace veil::cli
