// Node features and sbatch's -C/--constraint over them. A node's features
// are words its agent reports (--features a100,ib); a constraint names the
// features a job's nodes must have: NAME, AND (&), OR (|), parentheses, and
// Slurm's matching OR in brackets ("[rack1|rack2]": every node of the job
// has the same one). Node counts (NAME*N) are refused: cadre's gangs have
// one kind of node. Pure; thread-safe.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre {

// A feature name: letters, digits, '_', '.', '-', '+', ':' and '=' (so a
// "key=value" label reads as one), at most 64 bytes.
Status check_feature_name(std::string_view name);
// "a100,ib" (commas, blanks around them ignored): at most 64 distinct names.
Result<std::vector<std::string>> parse_feature_list(std::string_view text);

struct ConstraintNode;

// A parsed constraint: a node qualifies when it satisfies the expression;
// with a matching OR, `alternatives` has one expression per bracketed
// choice and all of a job's nodes must satisfy the same one.
class Constraint {
 public:
  // The number of choices every node must agree on (1 without brackets).
  size_t choices() const { return alternatives_.size(); }
  // Whether a node with `features` satisfies choice `i`.
  bool matches(size_t i, const std::set<std::string, std::less<>>& features) const;
  // Every feature the constraint names.
  const std::set<std::string, std::less<>>& names() const { return names_; }

 private:
  friend Result<Constraint> parse_constraint(std::string_view text);
  std::vector<std::shared_ptr<const ConstraintNode>> alternatives_;
  std::set<std::string, std::less<>> names_;
};

// Errors quote the text and say where it went wrong.
Result<Constraint> parse_constraint(std::string_view text);

}  // namespace cadre
