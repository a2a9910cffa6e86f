#include "common/constraint.hpp"

#include <cctype>

#include "common/escape.hpp"

namespace cadre {

// An expression: a feature (leaf), or AND / OR of its children.
struct ConstraintNode {
  enum class Kind { feature, all, any } kind = Kind::feature;
  std::string name;
  std::vector<std::shared_ptr<const ConstraintNode>> children;

  bool matches(const std::set<std::string, std::less<>>& features) const {
    switch (kind) {
      case Kind::feature: return features.count(name) > 0;
      case Kind::all:
        for (const auto& c : children)
          if (!c->matches(features)) return false;
        return true;
      case Kind::any:
        for (const auto& c : children)
          if (c->matches(features)) return true;
        return false;
    }
    return false;
  }
};

namespace {

constexpr size_t kMaxFeatureBytes = 64;
constexpr size_t kMaxFeatures = 64;
constexpr size_t kMaxConstraintBytes = 1024;
constexpr int kMaxDepth = 16;

bool feature_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '+' || c == ':' ||
         c == '=';
}

using Node = std::shared_ptr<const ConstraintNode>;

// Recursive descent over: expr := term ('|' term)*; term := factor ('&'
// factor)*; factor := NAME | '(' expr ')'.
class Parser {
 public:
  Parser(std::string_view text, std::set<std::string, std::less<>>& names) : s_(text), names_(names) {}

  Result<Node> expr(int depth) {
    if (depth > kMaxDepth) return fail("parentheses nested too deep");
    std::vector<Node> terms;
    while (true) {
      auto t = term(depth);
      if (!t) return t;
      terms.push_back(std::move(*t));
      if (peek() != '|') break;
      ++at_;
    }
    return combine(ConstraintNode::Kind::any, std::move(terms));
  }

  // The top-level choices of a bracketed matching OR.
  Result<std::vector<Node>> choices() {
    std::vector<Node> out;
    while (true) {
      auto t = term(1);
      if (!t) return make_error(t.error());
      out.push_back(std::move(*t));
      if (peek() != '|') break;
      ++at_;
    }
    return out;
  }

  char peek() const { return at_ < s_.size() ? s_[at_] : '\0'; }
  size_t at() const { return at_; }
  void skip() { ++at_; }

  Error fail(const std::string& why) const {
    return Error{"-C/--constraint " + quoted(s_, 80) + ": " + why + " (at character " + std::to_string(at_ + 1) +
                 "; give feature names joined by & (and), | (or), (...) and [a|b] (all nodes alike))"};
  }

 private:
  Result<Node> term(int depth) {
    std::vector<Node> factors;
    while (true) {
      auto f = factor(depth);
      if (!f) return f;
      factors.push_back(std::move(*f));
      if (peek() != '&' && peek() != ',') break;  // Slurm reads ',' as AND too
      ++at_;
    }
    return combine(ConstraintNode::Kind::all, std::move(factors));
  }

  Result<Node> factor(int depth) {
    if (peek() == '(') {
      ++at_;
      auto e = expr(depth + 1);
      if (!e) return e;
      if (peek() != ')') return fail("a '(' is not closed");
      ++at_;
      return e;
    }
    const size_t start = at_;
    while (at_ < s_.size() && feature_char(s_[at_])) ++at_;
    if (at_ == start) {
      if (peek() == '[') return fail("brackets go around the whole constraint, as [a|b]");
      return fail(at_ >= s_.size() ? "a feature name is missing at the end" : "expected a feature name");
    }
    std::string name(s_.substr(start, at_ - start));
    if (peek() == '*')
      return fail("node counts (" + name + "*N) are not supported: cadre gives every node of a job the same "
                  "features; give the feature alone");
    if (name.size() > kMaxFeatureBytes) return fail("a feature name is over 64 bytes");
    names_.insert(name);
    auto leaf = std::make_shared<ConstraintNode>();
    leaf->name = std::move(name);
    return Node(std::move(leaf));
  }

  static Node combine(ConstraintNode::Kind kind, std::vector<Node> parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    auto n = std::make_shared<ConstraintNode>();
    n->kind = kind;
    n->children = std::move(parts);
    return n;
  }

  std::string_view s_;
  size_t at_ = 0;
  std::set<std::string, std::less<>>& names_;
};

}  // namespace

Status check_feature_name(std::string_view name) {
  if (name.empty()) return make_error("a feature name is empty");
  if (name.size() > kMaxFeatureBytes)
    return make_error("feature " + quoted(name, 80) + " is over " + std::to_string(kMaxFeatureBytes) + " bytes");
  for (char c : name)
    if (!feature_char(c))
      return make_error("feature " + quoted(name, 80) +
                        " holds a character other than letters, digits, '_', '.', '-', '+', ':' and '='");
  return {};
}

Result<std::vector<std::string>> parse_feature_list(std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    start = comma + 1;
    if (item.empty()) {
      if (text.find_first_not_of(" \t,") == std::string_view::npos) break;  // "" is no features
      return make_error("an empty feature name in " + quoted(text, 80) + " (features are separated by one ',')");
    }
    if (Status s = check_feature_name(item); !s) return make_error(s.error());
    if (seen.insert(std::string(item)).second) out.emplace_back(item);
    if (out.size() > kMaxFeatures)
      return make_error("more than " + std::to_string(kMaxFeatures) + " features in " + quoted(text, 80));
  }
  return out;
}

bool Constraint::matches(size_t i, const std::set<std::string, std::less<>>& features) const {
  return i < alternatives_.size() && alternatives_[i]->matches(features);
}

Result<Constraint> parse_constraint(std::string_view text) {
  Constraint c;
  if (text.size() > kMaxConstraintBytes)
    return make_error("-C/--constraint is " + std::to_string(text.size()) + " bytes; at most " +
                      std::to_string(kMaxConstraintBytes) + " are allowed");
  Parser p(text, c.names_);
  if (text.empty()) return Error{p.fail("give a feature name").message};
  if (p.peek() == '[') {
    p.skip();
    auto choices = p.choices();
    if (!choices) return make_error(choices.error());
    if (p.peek() != ']') return Error{p.fail("a '[' is not closed, or holds more than choices joined by |").message};
    p.skip();
    c.alternatives_ = std::move(*choices);
  } else {
    auto e = p.expr(0);
    if (!e) return make_error(e.error());
    c.alternatives_.push_back(std::move(*e));
  }
  if (p.at() != text.size()) return Error{p.fail(p.peek() == ')' ? "a ')' closes nothing" : "unexpected text").message};
  return c;
}

}  // namespace cadre
