// Scratch memory passed in: a step's working vectors are lent by a Workspace that the caller
// owns (the tensor tape owns one and hands it to every record and backward pass), not kept in
// hidden per-thread state. A batched or GPU runner gives each world or stream its own.
// A loan is a std::vector<T> that keeps its capacity when returned, so a step repeated on one
// workspace allocates nothing in steady state.
#pragma once

#include <memory>
#include <tuple>
#include <utility>
#include <vector>

namespace maya {

class Workspace {
  struct Pool {
    virtual ~Pool() = default;
  };
  template <class T>
  struct TypedPool final : Pool {
    std::vector<std::vector<T>> idle;
  };
  template <class T>
  struct Kept final : Pool {
    std::vector<T> vector;
  };

 public:
  // A vector on loan; its memory goes back to the workspace when the loan ends.
  // Loans end in the reverse order of borrowing or any other; a workspace must outlive them.
  template <class T>
  class Loan {
   public:
    explicit Loan(TypedPool<T>& pool) : pool_(&pool) {
      if (!pool.idle.empty()) {
        vector_ = std::move(pool.idle.back());
        pool.idle.pop_back();
      }
    }
    Loan(Loan&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), vector_(std::move(other.vector_)) {}
    Loan(const Loan&) = delete;
    Loan& operator=(const Loan&) = delete;
    Loan& operator=(Loan&&) = delete;
    ~Loan() {
      if (pool_ == nullptr) return;
      try {
        pool_->idle.push_back(std::move(vector_));
      } catch (...) {  // out of memory while returning: the vector is simply freed
      }
    }
    [[nodiscard]] std::vector<T>& operator*() noexcept { return vector_; }
    [[nodiscard]] std::vector<T>* operator->() noexcept { return &vector_; }

   private:
    TypedPool<T>* pool_;
    std::vector<T> vector_;
  };

  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  Workspace(Workspace&&) noexcept = default;
  Workspace& operator=(Workspace&&) noexcept = default;

  // Lends an empty vector.
  template <class T>
  [[nodiscard]] Loan<T> borrow() {
    Loan<T> loan(pool<T>());
    loan->clear();
    return loan;
  }

  // Lends a vector of `size` value-initialized elements (zeros for numbers).
  template <class T>
  [[nodiscard]] Loan<T> borrow(std::size_t size) {
    Loan<T> loan = borrow<T>();
    loan->resize(size);
    return loan;
  }

  // Lends a vector of at least `size` elements whose values are whatever an earlier loan left:
  // for kernels that write before they read, and would otherwise pay for a fill.
  template <class T>
  [[nodiscard]] Loan<T> borrow_unset(std::size_t size) {
    Loan<T> loan(pool<T>());
    if (loan->size() < size) loan->resize(size);
    return loan;
  }

  // A vector that stays in this workspace between calls, one per owner and element type, for
  // warm starts (a broad phase's sort order, say) whose contents must not decide correctness.
  template <class T>
  [[nodiscard]] std::vector<T>& kept(const void* owner) {
    for (auto& [k, o, p] : kept_) {
      if (k == key<T>() && o == owner) return static_cast<Kept<T>&>(*p).vector;
    }
    kept_.emplace_back(key<T>(), owner, std::make_unique<Kept<T>>());
    return static_cast<Kept<T>&>(*std::get<2>(kept_.back())).vector;
  }

 private:
  template <class T>
  static const void* key() noexcept {
    static const char tag = 0;  // one address per element type
    return &tag;
  }
  template <class T>
  TypedPool<T>& pool() {
    for (auto& [k, p] : pools_) {
      if (k == key<T>()) return static_cast<TypedPool<T>&>(*p);
    }
    pools_.emplace_back(key<T>(), std::make_unique<TypedPool<T>>());
    return static_cast<TypedPool<T>&>(*pools_.back().second);
  }

  std::vector<std::pair<const void*, std::unique_ptr<Pool>>> pools_;
  std::vector<std::tuple<const void*, const void*, std::unique_ptr<Pool>>> kept_;
};

}  // namespace maya
