#include "master/server/outbox.hpp"

#include "common/codec.hpp"

namespace cadre {

void Outbox::open(const std::string& peer, uint64_t request_id) { requests_[{peer, request_id}] = Stage::open; }

void Outbox::answer(const std::string& peer, uint64_t request_id, std::string bytes) {
  if (auto it = requests_.find({peer, request_id}); it != requests_.end()) it->second = Stage::answered;
  queued_.push_back(Frames{peer, std::move(bytes)});
}

void Outbox::send(const std::string& peer, std::string bytes) { queued_.push_back(Frames{peer, std::move(bytes)}); }

void Outbox::defer(const std::string& peer, uint64_t request_id) {
  if (auto it = requests_.find({peer, request_id}); it != requests_.end() && it->second != Stage::under_way)
    it->second = Stage::deferred;
}

std::vector<Frames> Outbox::take(const std::string& unanswered_error) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second == Stage::deferred || it->second == Stage::under_way) {
      it->second = Stage::under_way;
      ++it;
      continue;
    }
    if (it->second == Stage::open) {
      queued_.push_back(Frames{it->first.first, encode_error(it->first.second, unanswered_error)});
      ++unanswered_;
    }
    it = requests_.erase(it);
  }
  return std::exchange(queued_, {});
}

std::vector<Frames> Outbox::fail(const std::string& error, const std::string& partly_done_error) {
  queued_.clear();
  std::vector<Frames> out;
  for (const auto& [key, stage] : requests_)
    out.push_back(Frames{key.first, encode_error(key.second, stage == Stage::under_way ? partly_done_error : error)});
  requests_.clear();
  return out;
}

}  // namespace cadre
