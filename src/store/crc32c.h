// CRC-32C (Castagnoli), the checksum of every log and snapshot record. It
// uses the SSE4.2 crc32 instruction when the CPU has it and a table-driven
// slicing-by-8 loop otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stellwerk::store::crc32c {

// The CRC of `data` continued from `crc`, the CRC of the bytes before it
// (0 for none): value(a + b) == extend(value(a), b).
uint32_t extend(uint32_t crc, const void* data, size_t size);

inline uint32_t value(std::string_view data) { return extend(0, data.data(), data.size()); }

// extend() of three inputs from the same `crc` at once: out[i] =
// extend(crc, inputs[i]). Each CRC is a chain of dependent instructions;
// three chains side by side keep the CPU busy where one leaves it waiting
// (sealing a batch of short records).
void extend3(uint32_t crc, const std::string_view (&inputs)[3], uint32_t (&out)[3]);
inline void values3(const std::string_view (&inputs)[3], uint32_t (&out)[3]) { extend3(0, inputs, out); }

// The table-driven loop alone, whatever the CPU; tests compare it with extend().
uint32_t extend_portable(uint32_t crc, const void* data, size_t size);

// True when extend() runs on the SSE4.2 instruction.
bool hardware_accelerated();

}  // namespace stellwerk::store::crc32c
