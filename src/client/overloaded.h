// Builds one visitor for std::visit from several lambdas, one per alternative.
#pragma once

namespace stellwerk::client {

template <typename... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <typename... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

}  // namespace stellwerk::client
