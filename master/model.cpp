#include "master/model.hpp"

#include <algorithm>
#include <cctype>

namespace cadre {

std::vector<std::string> Job::node_list() const {
  std::vector<std::string> out;
  for (const Task& t : tasks)
    if (std::find(out.begin(), out.end(), t.node) == out.end()) out.push_back(t.node);
  return out;
}

bool Job::holds_resources() const {
  return std::any_of(tasks.begin(), tasks.end(), [](const Task& t) { return cadre::holds_resources(t.state); });
}

std::string_view to_string(NodeState s) {
  switch (s) {
    case NodeState::up: return "UP";
    case NodeState::drain: return "DRAIN";
    case NodeState::down: return "DOWN";
  }
  return "UNKNOWN";
}

std::optional<NodeState> parse_node_state(std::string_view s) {
  if (s == "UP") return NodeState::up;
  if (s == "DRAIN") return NodeState::drain;
  if (s == "DOWN") return NodeState::down;
  return std::nullopt;
}

std::vector<uint32_t> Node::free_gpus() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < gpu_busy.size(); ++i)
    if (!gpu_busy[i]) out.push_back(i);
  return out;
}

}  // namespace cadre

namespace cadre {

bool gpu_model_matches(std::string_view requested, std::string_view model) {
  if (requested.empty()) return true;
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  return lower(model).find(lower(requested)) != std::string::npos;
}

std::string Node::gpu_model() const {
  if (gpus.empty()) return "";
  for (const NodeGpu& g : gpus)
    if (g.model != gpus.front().model) return "";
  return gpus.front().model;
}

bool Step::done() const {
  return std::none_of(ranks.begin(), ranks.end(), [](const StepRank& r) { return holds_resources(r.state); });
}

int32_t Step::exit_code() const {
  int32_t worst = 0;
  for (const StepRank& r : ranks) worst = std::max(worst, r.exit_code);
  return worst;
}

}  // namespace cadre
