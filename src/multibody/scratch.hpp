// Scratch objects of the multibody layer borrowed from the caller's maya::Workspace (the tape's in
// a record or backward pass, the caller's or the call's own for the plain functions): a whole
// struct of vectors (TreeScratch, StepScratch, RevTape) on one loan that keeps the vectors'
// capacity when it goes back, so a repeated step allocates nothing in steady state.
#pragma once

#include "maya/core/workspace.hpp"

namespace maya::multibody::detail {

// One T lent by a workspace until this object ends. Its contents are whatever an earlier loan
// left: every user assigns or resizes before it reads.
template <class T>
class Lent {
 public:
  explicit Lent(Workspace& workspace) : loan_(workspace.borrow_unset<T>(1)) {}
  [[nodiscard]] T& operator*() noexcept { return (*loan_)[0]; }
  [[nodiscard]] T* operator->() noexcept { return &(*loan_)[0]; }

 private:
  Workspace::Loan<T> loan_;
};

}  // namespace maya::multibody::detail
