// SPDX-License-Identifier: MIT
// What a mail attempt or a monitoring ping run in a child process hands back to the copier
// over a pipe (sys/forked_transport.h), as bytes. Anything the decoder does not recognise
// whole, a cut-off answer included, is nullopt: the caller treats it as no answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ports/mail_transport.h"

namespace ubc {

std::string encode_transmit_result(const TransmitResult& result);
std::optional<TransmitResult> decode_transmit_result(std::string_view bytes);

// A Pinger's answer: nullopt for success, otherwise why not.
std::string encode_ping_result(const std::optional<std::string>& error);
std::optional<std::optional<std::string>> decode_ping_result(std::string_view bytes);

}  // namespace ubc
