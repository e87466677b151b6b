// Every misuse of the scalar tape is a maya::Error with a message naming the problem, never
// undefined behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <optional>
#include <string>

namespace {

using maya::Var;

// Runs `op`, expects a maya::TapeError and returns its message.
template <class Op>
std::string tape_error_message(Op op) {
  try {
    op();
  } catch (const maya::TapeError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no maya::TapeError thrown";
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(TapeErrors, MixingVarsOfTwoTapesThrows) {
  maya::Tape first;
  maya::Tape second;
  const Var a = first.var(1.0);
  const Var b = second.var(2.0);
  const std::string message = tape_error_message([&] { (void)(a + b); });
  EXPECT_TRUE(contains(message, "two different tapes")) << message;
  EXPECT_TRUE(contains(message, "+")) << message;
  EXPECT_THROW((void)(a * b), maya::TapeError);
  EXPECT_THROW((void)pow(a, b), maya::TapeError);
  EXPECT_THROW((void)atan2(a, b), maya::TapeError);
  EXPECT_THROW((void)hypot(a, b), maya::TapeError);
  EXPECT_THROW((void)min(a, b), maya::TapeError);
  EXPECT_THROW((void)max(b, a), maya::TapeError);
  Var accumulated = a;
  EXPECT_THROW(accumulated += b, maya::TapeError);
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(second.size(), 1u);
}

TEST(TapeErrors, VarOfAClearedTapeThrows) {
  maya::Tape tape;
  const Var old = tape.var(1.0);
  tape.clear();
  const Var fresh = tape.var(2.0);
  EXPECT_FALSE(old.valid());
  EXPECT_TRUE(fresh.valid());
  const std::string message = tape_error_message([&] { (void)old.value(); });
  EXPECT_TRUE(contains(message, "cleared or destroyed")) << message;
  EXPECT_THROW((void)sin(old), maya::TapeError);
  EXPECT_THROW((void)(old * 2.0), maya::TapeError);
  EXPECT_THROW((void)(old + fresh), maya::TapeError);
  EXPECT_THROW((void)tape.grad(old), maya::TapeError);
  EXPECT_THROW(tape.set_value(old, 3.0), maya::TapeError);
}

TEST(TapeErrors, VarOfADestroyedTapeThrows) {
  std::optional<Var> orphan;
  {
    maya::Tape scoped;
    orphan = scoped.var(1.0) * 2.0;
  }
  EXPECT_FALSE(orphan->valid());
  const std::string message = tape_error_message([&] { (void)orphan->value(); });
  EXPECT_TRUE(contains(message, "cleared or destroyed")) << message;
  EXPECT_THROW((void)exp(*orphan), maya::TapeError);

  // A new tape may take over the dead tape's registry slot; the old handle must still be refused.
  maya::Tape successor;
  const Var alive = successor.var(3.0);
  EXPECT_FALSE(orphan->valid());
  EXPECT_THROW((void)(alive + *orphan), maya::TapeError);
  EXPECT_THROW((void)successor.grad(*orphan), maya::TapeError);
}

TEST(TapeErrors, DefaultConstructedVarThrows) {
  const Var unbound;
  EXPECT_FALSE(unbound.valid());
  const std::string message = tape_error_message([&] { (void)unbound.value(); });
  EXPECT_TRUE(contains(message, "unbound")) << message;
  EXPECT_THROW((void)sqrt(unbound), maya::TapeError);
  EXPECT_THROW((void)(1.0 - unbound), maya::TapeError);
  maya::Tape tape;
  const Var x = tape.var(1.0);
  EXPECT_THROW((void)(x / unbound), maya::TapeError);
  EXPECT_THROW((void)tape.grad(unbound), maya::TapeError);
}

TEST(TapeErrors, GradOfAVarFromAnotherTapeThrows) {
  maya::Tape first;
  maya::Tape second;
  const Var x = first.var(1.0);
  const std::string message = tape_error_message([&] { (void)second.grad(x); });
  EXPECT_TRUE(contains(message, "grad")) << message;
  EXPECT_TRUE(contains(message, "another tape")) << message;
  maya::Gradients out;
  EXPECT_THROW(second.grad(x, out), maya::TapeError);
}

TEST(TapeErrors, GradientsIndexedByAVarOfAnotherTapeThrows) {
  maya::Tape first;
  maya::Tape second;
  const Var x = first.var(1.0);
  const Var y = second.var(1.0);
  const maya::Gradients g = first.grad(x * 2.0);
  const std::string message = tape_error_message([&] { (void)g[y]; });
  EXPECT_TRUE(contains(message, "Gradients")) << message;
}

TEST(TapeErrors, GradientsFromBeforeAClearRejectVarsRecordedAfterIt) {
  maya::Tape tape;
  const Var x = tape.var(1.0);
  const maya::Gradients g = tape.grad(x * 2.0);
  tape.clear();
  const Var later = tape.var(1.0);
  EXPECT_THROW((void)g[later], maya::TapeError);
  EXPECT_EQ(g[x], 2.0);  // the old Var still indexes the gradients it was swept with
}

TEST(TapeErrors, GradientsIndexOutOfRangeThrows) {
  maya::Tape tape;
  const Var x = tape.var(1.0);
  const maya::Gradients g = tape.grad(sin(x));
  EXPECT_EQ(g[1], 1.0);
  const std::string message = tape_error_message([&] { (void)g[2]; });
  EXPECT_TRUE(contains(message, "out of range")) << message;
  EXPECT_TRUE(contains(message, "2 nodes")) << message;
  const maya::Gradients empty;
  EXPECT_THROW((void)empty[0], maya::TapeError);
  EXPECT_THROW((void)empty[Var()], maya::TapeError);
}

TEST(TapeErrors, SetValueOnANonLeafThrows) {
  maya::Tape tape;
  const Var x = tape.var(1.0);
  const Var y = sin(x);
  const std::string message = tape_error_message([&] { tape.set_value(y, 2.0); });
  EXPECT_TRUE(contains(message, "set_value")) << message;
  EXPECT_TRUE(contains(message, "sin")) << message;
  EXPECT_EQ(y.value(), std::sin(1.0));
}

TEST(TapeErrors, SetValueWithAVarOfAnotherTapeThrows) {
  maya::Tape first;
  maya::Tape second;
  const Var x = first.var(1.0);
  EXPECT_THROW(second.set_value(x, 2.0), maya::TapeError);
  EXPECT_EQ(x.value(), 1.0);
}

TEST(TapeErrors, ClampWithLowerBoundAboveUpperBoundThrows) {
  maya::Tape tape;
  const Var x = tape.var(1.0);
  std::string message;
  try {
    (void)clamp(x, 2.0, 1.0);
  } catch (const maya::ValueError& error) {
    message = error.what();
  }
  EXPECT_TRUE(contains(message, "clamp")) << message;
  EXPECT_TRUE(contains(message, "2")) << message;
  EXPECT_THROW((void)x.clamp(0.5, -0.5), maya::ValueError);
  EXPECT_EQ(tape.size(), 1u);
}

TEST(TapeErrors, AllErrorsShareTheMayaHierarchy) {
  maya::Tape tape;
  const Var x = tape.var(-1.0);
  tape.set_finite_check(true);
  EXPECT_THROW((void)Var().value(), maya::Error);
  EXPECT_THROW((void)clamp(x, 1.0, 0.0), maya::Error);
  EXPECT_THROW((void)log(x), maya::Error);
  EXPECT_THROW((void)tape.grad(Var()), std::runtime_error);
}

}  // namespace
