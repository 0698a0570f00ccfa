// SPDX-License-Identifier: MIT
// What a fuzz target asserts beyond "no crash": a property that must hold for every input
// (a round trip, a bound). A failed check aborts, and libFuzzer keeps the input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define UBC_FUZZ_CHECK(condition)                                                           \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);  \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)

namespace ubc::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ubc::fuzz
