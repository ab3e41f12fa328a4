// Small helpers shared by the GroupCoordinator's .cc files (not part of its API).
#pragma once

#include <string>
#include <utility>

#include "coordinator/group_types.h"

namespace gregor::coordinator::internal {

// Moves a callback out, leaving it empty, so that it can be invoked exactly once.
template <typename F>
F take(F& f) {
  F out = std::move(f);
  f = nullptr;
  return out;
}

inline JoinGroupResult join_error(const std::string& member_id, ErrorCode error) {
  JoinGroupResult r;
  r.error = error;
  r.member_id = member_id;
  return r;
}

}  // namespace gregor::coordinator::internal
