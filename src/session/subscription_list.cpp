// SubscriptionList: a vector, with an index by filter once it is long
// (subscription_list.h says why).
#include "session/subscription_list.h"

namespace stellwerk::session {

std::optional<size_t> SubscriptionList::position(std::string_view filter) const {
  if (index_) {
    auto it = index_->find(filter);
    if (it == index_->end()) return std::nullopt;
    return it->second;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first == filter) return i;
  }
  return std::nullopt;
}

void SubscriptionList::build_index() {
  index_ = std::make_unique<Index>();
  index_->reserve(entries_.size() * 2);
  for (size_t i = 0; i < entries_.size(); ++i) index_->emplace(entries_[i].first, i);
}

bool SubscriptionList::insert_or_assign(const std::string& filter, const Subscription& subscription) {
  if (auto at = position(filter)) {
    entries_[*at].second = subscription;
    return false;
  }
  entries_.emplace_back(filter, subscription);
  if (index_) {
    index_->emplace(filter, entries_.size() - 1);
  } else if (entries_.size() > kIndexFrom) {
    build_index();
  }
  return true;
}

bool SubscriptionList::erase(std::string_view filter) {
  const std::optional<size_t> at = position(filter);
  if (!at) return false;
  if (index_) index_->erase(index_->find(filter));
  const size_t last = entries_.size() - 1;
  if (*at != last) {
    entries_[*at] = std::move(entries_[last]);
    if (index_) (*index_)[entries_[*at].first] = *at;
  }
  entries_.pop_back();
  // An emptied list gives its memory back: the session may stay for long.
  if (entries_.empty()) {
    std::vector<Entry>().swap(entries_);
    index_.reset();
  }
  return true;
}

const Subscription* SubscriptionList::find(std::string_view filter) const {
  const std::optional<size_t> at = position(filter);
  return at ? &entries_[*at].second : nullptr;
}

}  // namespace stellwerk::session
