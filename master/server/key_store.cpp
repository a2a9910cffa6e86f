#include "master/server/key_store.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/curve_keys.hpp"
#include "common/limits.hpp"

namespace cadre {
namespace {

constexpr const char* kAgentPrefix = "agent:";
constexpr const char* kUserPrefix = "user:";

// Reports `problem` about `what` (a file or a folder) once: again only
// when it changes, so a rescan every second does not repeat it.
void note(std::map<std::string, std::string>& reported, std::vector<std::string>* problems, const std::string& what,
          const std::string& problem) {
  if (problems && reported[what] != problem) problems->push_back(problem);
  reported[what] = problem;
}

struct KeyFile {
  std::string key;   // Z85
  std::string path;  // the .pub file it came from
};

// The readable, well-named <name>.pub files of `dir`, by name.
std::map<std::string, KeyFile> scan(const std::string& dir, std::map<std::string, std::string>& reported,
                                    std::vector<std::string>* problems) {
  std::map<std::string, KeyFile> out;
  if (dir.empty()) return out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::filesystem::path& p = it->path();
    if (p.extension() != ".pub") continue;
    const std::string name = p.stem().string();
    auto keys = read_key_file(p.string());
    std::string problem = !keys ? keys.error() : !check_key_name(name) ? check_key_name(name).error() : "";
    if (!problem.empty()) {
      note(reported, problems, p.string(), problem);
      continue;
    }
    out[name] = KeyFile{keys->public_key, p.string()};
  }
  // A folder not made yet just has no keys in it (enroll_key makes it).
  if (ec && ec != std::errc::no_such_file_or_directory)
    note(reported, problems, dir, "cannot read key folder " + dir + ": " + ec.message());
  return out;
}

const char* kind_name(PeerKind kind) { return kind == PeerKind::agent ? "agent" : "user"; }

// One key, one identity: keeps each key in the first file that holds it
// (agents are passed before users, each in name order) and skips the rest.
// `holders` maps a key to its keeper, "agent n1 (DIR/n1.pub)".
std::map<std::string, std::string> keep_first(const std::map<std::string, KeyFile>& files, PeerKind kind,
                                              std::map<std::string, std::string>& holders,
                                              std::map<std::string, std::string>& reported,
                                              std::vector<std::string>* problems) {
  std::map<std::string, std::string> out;
  for (const auto& [name, file] : files) {
    const std::string me = std::string(kind_name(kind)) + " " + name + " (" + file.path + ")";
    auto [holder, fresh] = holders.try_emplace(file.key, me);
    if (!fresh) {
      note(reported, problems, file.path,
           file.path + " holds the same key as " + holder->second + "; skipped, since one key is one identity: " +
               "remove one of the two files");
      continue;
    }
    reported.erase(file.path);
    out[name] = file.key;
  }
  return out;
}

}  // namespace

std::vector<std::string> KeyStore::reload(std::vector<std::string>* problems) {
  std::map<std::string, std::string> holders;
  std::map<std::string, std::string> agents =
      keep_first(scan(agents_dir_, reported_, problems), PeerKind::agent, holders, reported_, problems);
  std::map<std::string, std::string> users =
      keep_first(scan(users_dir_, reported_, problems), PeerKind::user, holders, reported_, problems);
  std::vector<std::string> revoked;
  for (const auto& [name, key] : agents_) {
    auto now = agents.find(name);
    if (now == agents.end() || now->second != key) revoked.push_back(name);
  }
  agents_ = std::move(agents);
  users_ = std::move(users);
  return revoked;
}

std::optional<Peer> KeyStore::find(const std::string& z85_key) const {
  for (const auto& [name, key] : agents_)
    if (key == z85_key) return Peer{PeerKind::agent, name, key};
  for (const auto& [name, key] : users_)
    if (key == z85_key) return Peer{PeerKind::user, name, key};
  return std::nullopt;
}

std::optional<Peer> KeyStore::check(const std::string& user_id) const {
  const bool agent = user_id.starts_with(kAgentPrefix), user = user_id.starts_with(kUserPrefix);
  if (!agent && !user) return std::nullopt;
  const size_t start = agent ? std::strlen(kAgentPrefix) : std::strlen(kUserPrefix);
  const size_t space = user_id.find(' ', start);
  if (space == std::string::npos) return std::nullopt;
  Peer p{agent ? PeerKind::agent : PeerKind::user, user_id.substr(start, space - start), user_id.substr(space + 1)};
  const auto& known = agent ? agents_ : users_;
  auto it = known.find(p.name);
  if (it == known.end() || it->second != p.key) return std::nullopt;
  return p;
}

std::string user_id_of(const Peer& p) {
  return std::string(p.kind == PeerKind::agent ? kAgentPrefix : kUserPrefix) + p.name + " " + p.key;
}

ZapAnswer answer_zap(const Frames& request, const KeyStore& keys) {
  ZapAnswer a;
  const std::string request_id = request.size() > 1 ? request[1] : "";
  auto reply = [&](const char* code, const std::string& text, const std::string& user_id) {
    a.reply = Frames{"1.0", request_id, code, text, user_id, ""};
  };
  if (request.size() < 6 || request[0] != "1.0") {
    reply("500", "malformed ZAP request", "");
    a.who = "a malformed ZAP request";
    return a;
  }
  const std::string& address = request[3];
  const std::string& mechanism = request[5];
  if (mechanism != "CURVE" || request.size() < 7 || request[6].size() != 32) {
    reply("400", "CURVE required", "");
    a.who = "a " + mechanism + " client from " + address + " (CURVE required)";
    return a;
  }
  char z85[41] = {};
  zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(request[6].data()), 32);
  auto peer = keys.find(z85);
  if (!peer) {
    reply("400", "unknown key", "");
    a.who = "an unknown key " + std::string(z85) + " from " + address;
    return a;
  }
  reply("200", "OK", user_id_of(*peer));
  a.accepted = true;
  a.who = std::string(peer->kind == PeerKind::agent ? "agent " : "user ") + peer->name;
  return a;
}

Status check_key_name(const std::string& name) {
  if (name.empty() || name.size() > limits::kMaxNodeNameBytes ||
      !std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }) ||
      name[0] == '.')
    return make_error("'" + name + "' is not a usable name for a key (letters, digits, '_', '.', '-'; 1-" +
                      std::to_string(limits::kMaxNodeNameBytes) + ")");
  return {};
}

Status enroll_key(const KeyFolders& folders, PeerKind kind, const std::string& name, const std::string& pub_file) {
  if (Status s = check_key_name(name); !s) return s;
  const std::string& folder = folders.of(kind);
  if (folder.empty()) return make_error(std::string("no folder for ") + kind_name(kind) + " keys");
  auto keys = read_key_file(pub_file);
  if (!keys) return make_error(keys.error());
  const std::string target = folder + "/" + name + ".pub";
  // The same scan the master makes, so its answer is what the master sees.
  // Who holds the key is asked first: a key of someone else's is refused
  // as such, whatever this name holds.
  KeyStore enrolled(folders.agents, folders.users);
  enrolled.reload();
  auto holder = enrolled.find(keys->public_key);
  if (holder && holder->kind == kind && holder->name == name) return {};  // enrolled already: nothing to do
  if (holder) {
    const char* kind_held = kind_name(holder->kind);
    return make_error("this key is already enrolled as " + std::string(kind_held) + " " + holder->name + " (" +
                      folders.of(holder->kind) + "/" + holder->name + ".pub); one key is one identity: give " +
                      name + " a key of its own, or revoke-" + kind_held + " " + holder->name + " first");
  }
  if (auto existing = read_key_file(target)) {
    if (existing->public_key == keys->public_key) return {};
    return make_error(name + " already has another key (" + target + "); revoke it first");
  }
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return make_error("cannot create " + folder + ": " + ec.message());
  const std::string tmp = target + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# enrolled with cadre-master\npublic-key = \"" << keys->public_key << "\"\n";
    if (!out.flush()) return make_error("cannot write " + tmp);
  }
  // A public key: readable by the master's user whatever the admin's umask.
  if (::chmod(tmp.c_str(), 0644) != 0) return make_error("cannot chmod " + tmp + ": " + std::strerror(errno));
  if (std::rename(tmp.c_str(), target.c_str()) != 0) return make_error("cannot write " + target + ": " + std::strerror(errno));
  return {};
}

Status revoke_key(const std::string& folder, const std::string& name) {
  if (Status s = check_key_name(name); !s) return s;
  const std::string target = folder + "/" + name + ".pub";
  if (unlink(target.c_str()) != 0) {
    if (errno == ENOENT) return make_error("no key enrolled for " + name + " in " + folder);
    return make_error("cannot remove " + target + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace cadre
