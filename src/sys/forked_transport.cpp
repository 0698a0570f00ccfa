// SPDX-License-Identifier: MIT
#include "sys/forked_transport.h"

#include <exception>

#include "core/transmit_codec.h"
#include "sys/child_call.h"

namespace ubc {

using Kind = TransmitResult::Kind;

TransmitResult ForkedMailTransport::transmit(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                                             const std::function<bool()>& give_up) {
  constexpr const char* kWhat = "the child process sending the mail ";
  try {
    // In the child the parent's give_up cannot be asked (its stop flag is the parent's):
    // the parent asks it and kills the child instead.
    const ChildResult child = call_in_child(
        [&] { return encode_transmit_result(inner_.transmit(mail, time_limit, [] { return false; })); },
        give_up, time_limit + grace_);
    switch (child.end) {
      case ChildResult::End::answered:
        if (auto result = decode_transmit_result(child.answer)) return std::move(*result);
        return {Kind::temporary, kWhat + std::string("gave an answer that cannot be read (") +
                                     std::to_string(child.answer.size()) + " bytes)", {}, {}};
      case ChildResult::End::given_up:
        return {Kind::stopped, kWhat + child.error, {}, {}};
      case ChildResult::End::timed_out:
      case ChildResult::End::no_answer:
        break;
    }
    return {Kind::temporary, kWhat + child.error, {}, {}};
  } catch (const std::exception& e) {
    return {Kind::temporary, std::string("cannot start a child process for the mail: ") + e.what(), {}, {}};
  }
}

std::optional<std::string> ForkedPinger::ping(const std::string& url) {
  constexpr const char* kWhat = "the child process sending the ping ";
  try {
    const ChildResult child =
        call_in_child([&] { return encode_ping_result(inner_.ping(url)); }, {}, time_limit_);
    if (child.end != ChildResult::End::answered) return kWhat + child.error;
    if (auto result = decode_ping_result(child.answer)) return std::move(*result);
    return kWhat + std::string("gave an answer that cannot be read (") + std::to_string(child.answer.size()) +
           " bytes)";
  } catch (const std::exception& e) {
    return std::string("cannot start a child process for the ping: ") + e.what();
  }
}

}  // namespace ubc
