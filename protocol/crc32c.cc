// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): SSE4.2 crc32 instruction when the CPU
// has it, slicing-by-8 tables otherwise. Only the hardware function is compiled for SSE4.2, so
// the library still runs on any x86-64 (and builds on other architectures).
//
// The crc32 instruction takes 3 cycles but can start one every cycle, so one dependent chain
// runs at a third of its speed. The hardware path therefore runs three chains over three
// adjacent blocks and joins them: the CRC register is linear over GF(2), so the register after
// blocks A then B is shift_|B|(register after A) ^ (register of B started from 0), where
// shift_n is the effect of n zero bytes, a fixed 32x32 bit matrix applied here by table.
#include "protocol/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace gregor::protocol {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[k][b] is the CRC of byte b followed by k zero bytes, which lets the loop fold eight
// input bytes with eight independent lookups.
constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? kPolynomial : 0);
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}

constexpr Tables kTables = make_tables();

// A linear map on the 32-bit register: column i is the image of bit i.
using BitMatrix = std::array<uint32_t, 32>;

constexpr uint32_t apply(const BitMatrix& m, uint32_t x) {
  uint32_t out = 0;
  for (int i = 0; i < 32; ++i) {
    if (x & (uint32_t{1} << i)) out ^= m[static_cast<size_t>(i)];
  }
  return out;
}

// `a` after `b`.
constexpr BitMatrix compose(const BitMatrix& a, const BitMatrix& b) {
  BitMatrix out{};
  for (size_t i = 0; i < 32; ++i) out[i] = apply(a, b[i]);
  return out;
}

// The effect on the register of `n` zero bytes.
constexpr BitMatrix zero_bytes(size_t n) {
  BitMatrix bit{};  // one zero bit: the register shifts right, folding in the polynomial
  bit[0] = kPolynomial;
  for (size_t i = 1; i < 32; ++i) bit[i] = uint32_t{1} << (i - 1);
  BitMatrix power = bit;
  BitMatrix result{};
  for (size_t i = 0; i < 32; ++i) result[i] = uint32_t{1} << i;
  for (size_t bits = n * 8; bits > 0; bits >>= 1) {
    if (bits & 1) result = compose(power, result);
    power = compose(power, power);
  }
  return result;
}

// zero_bytes(n) applied a byte of the register at a time.
using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

constexpr ShiftTable make_shift_table(size_t n) {
  const BitMatrix m = zero_bytes(n);
  ShiftTable t{};
  for (size_t k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = apply(m, b << (8 * k));
  }
  return t;
}

[[maybe_unused]] uint32_t shift(const ShiftTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// `crc` is the running register (already inverted).
uint32_t extend_portable(uint32_t crc, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint64_t v = load_le64(p) ^ crc;
    crc = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
          kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^
          kTables[2][(v >> 40) & 0xff] ^ kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
// Record batches run from tens of bytes to a megabyte: long blocks for the bulk, short ones so
// that a few hundred bytes still use three chains.
constexpr size_t kLongBlock = 2048;
constexpr size_t kShortBlock = 128;
constexpr ShiftTable kShiftLong = make_shift_table(kLongBlock);
constexpr ShiftTable kShiftShort = make_shift_table(kShortBlock);

__attribute__((target("sse4.2"))) inline uint64_t crc_word(uint64_t c, const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // x86 is little-endian, the order the instruction expects
  return _mm_crc32_u64(c, v);
}

template <size_t kBlock>
__attribute__((target("sse4.2"))) void extend_three_way(uint64_t& c, const uint8_t*& p, size_t& n,
                                                        const ShiftTable& shift_block) {
  while (n >= 3 * kBlock) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      c = crc_word(c, p + i);
      c1 = crc_word(c1, p + kBlock + i);
      c2 = crc_word(c2, p + 2 * kBlock + i);
    }
    uint32_t joined = shift(shift_block, static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1);
    c = shift(shift_block, joined) ^ static_cast<uint32_t>(c2);
    p += 3 * kBlock;
    n -= 3 * kBlock;
  }
}

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  extend_three_way<kLongBlock>(c, p, n, kShiftLong);
  extend_three_way<kShortBlock>(c, p, n, kShiftShort);
  while (n >= 8) {
    c = crc_word(c, p);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

bool cpu_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (cpu_has_sse42()) return ~extend_sse42(~crc, p, size);
#endif
  return ~extend_portable(~crc, p, size);
}

namespace internal {
uint32_t crc32c_portable(const void* data, size_t size, uint32_t crc) {
  return ~extend_portable(~crc, static_cast<const uint8_t*>(data), size);
}

bool crc32c_hardware_available() {
#if defined(__x86_64__)
  return cpu_has_sse42();
#else
  return false;
#endif
}
}  // namespace internal

}  // namespace gregor::protocol
