// An optional value kept on the heap: the interface of std::optional, the
// footprint of one pointer. For members that are large and usually absent
// (a session's will is 560 bytes inline; most sessions have none), so that
// thousands of idle objects do not each carry the space. Copies are deep.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace stellwerk {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}  // NOLINT: as std::optional
  Boxed(const std::optional<T>& value) { *this = value; }  // NOLINT: as std::optional
  Boxed(const Boxed& other) { *this = other; }
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(T value) {
    value_ = std::make_unique<T>(std::move(value));
    return *this;
  }
  Boxed& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  Boxed& operator=(const std::optional<T>& value) {
    value_ = value ? std::make_unique<T>(*value) : nullptr;
    return *this;
  }
  Boxed& operator=(std::optional<T>&& value) {
    value_ = value ? std::make_unique<T>(std::move(*value)) : nullptr;
    return *this;
  }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  void reset() { value_.reset(); }
  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  operator std::optional<T>() const {  // NOLINT: hands the value to code that stores optionals
    return value_ ? std::optional<T>(*value_) : std::nullopt;
  }

  bool operator==(const Boxed& other) const {
    if (!value_ || !other.value_) return value_ == other.value_;
    return *value_ == *other.value_;
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace stellwerk
