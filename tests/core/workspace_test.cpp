// The workspace lends vectors that keep their memory between loans, so steady stepping allocates
// nothing, and keeps per-owner vectors for warm starts.
#include "maya/core/workspace.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using maya::Workspace;

TEST(Workspace, LoansAreSizedAndZeroed) {
  Workspace work;
  auto empty = work.borrow<double>();
  EXPECT_TRUE(empty->empty());
  auto zeros = work.borrow<double>(5);
  ASSERT_EQ(zeros->size(), 5u);
  for (double z : *zeros) EXPECT_EQ(z, 0.0);
}

TEST(Workspace, ReturnedMemoryIsLentAgain) {
  Workspace work;
  const double* first = nullptr;
  {
    auto loan = work.borrow<double>(1000);
    (*loan)[999] = 7.0;
    first = loan->data();
  }
  auto again = work.borrow<double>(1000);
  EXPECT_EQ(again->data(), first);  // the same memory, no new allocation
  EXPECT_EQ((*again)[999], 0.0);    // but zeroed for a sized loan
  auto unset = work.borrow_unset<double>(10);
  EXPECT_GE(unset->size(), 10u);
}

TEST(Workspace, SimultaneousLoansAreDistinct) {
  Workspace work;
  auto a = work.borrow<double>(8);
  auto b = work.borrow<double>(8);
  auto c = work.borrow<std::int64_t>(8);
  EXPECT_NE(a->data(), b->data());
  (*a)[0] = 1.0;
  (*b)[0] = 2.0;
  (*c)[0] = 3;
  EXPECT_EQ((*a)[0], 1.0);
  EXPECT_EQ((*b)[0], 2.0);
}

TEST(Workspace, KeptVectorsPersistPerOwnerAndType) {
  Workspace work;
  const int owner_a = 0;
  const int owner_b = 0;
  work.kept<std::int32_t>(&owner_a) = {3, 1, 2};
  EXPECT_EQ(work.kept<std::int32_t>(&owner_a).size(), 3u);
  EXPECT_TRUE(work.kept<std::int32_t>(&owner_b).empty());
  EXPECT_TRUE(work.kept<double>(&owner_a).empty());
}

TEST(Workspace, MovedLoanReturnsOnce) {
  Workspace work;
  const double* data = nullptr;
  {
    auto loan = work.borrow<double>(16);
    data = loan->data();
    auto moved = std::move(loan);
    EXPECT_EQ(moved->data(), data);
  }
  auto one = work.borrow<double>(16);
  auto two = work.borrow<double>(16);
  EXPECT_TRUE(one->data() == data || two->data() == data);
  EXPECT_NE(one->data(), two->data());
}

}  // namespace
