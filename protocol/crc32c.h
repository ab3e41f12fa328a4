// CRC-32C (Castagnoli), the checksum of record batch v2. Uses the SSE4.2 crc32 instruction
// when the CPU has it (checked once at run time), a table-driven loop otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gregor::protocol {

// Extends `crc` (0 to start) over data[0..size).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);

namespace internal {
// The table-driven path alone, so tests can compare it with the hardware path.
uint32_t crc32c_portable(const void* data, size_t size, uint32_t crc = 0);
// True when crc32c() uses the SSE4.2 instruction on this machine.
bool crc32c_hardware_available();
}  // namespace internal

}  // namespace gregor::protocol
