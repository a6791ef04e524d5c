// Decimal and date formatting: the allocation-free formatters give exactly the texts of the
// straightforward definitions (printf-style digits, rounding half away from zero, no "-0").
#include <gtest/gtest.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <pthread.h>

#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/decimal.h"
#include "common/money.h"
#include "common/thread_name.h"
#include "common/time.h"

namespace cbec {
namespace {

// The definition, written the slow and obvious way with 128-bit arithmetic.
std::string reference_fixed(int64_t units, int digits) {
  bool negative = units < 0;
  unsigned __int128 v = negative ? -static_cast<__int128>(units) : units;
  unsigned __int128 step = 1;
  for (int i = digits; i < kDecimalFractionDigits; ++i) step *= 10;
  v = (v + step / 2) / step;
  std::string frac;
  for (int i = 0; i < digits; ++i) {
    frac.insert(frac.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::string whole;
  do {
    whole.insert(whole.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  bool is_zero = whole == "0" && frac.find_first_not_of('0') == std::string::npos;
  std::string out = negative && !is_zero ? "-" : "";
  out += whole;
  if (digits > 0) out += "." + frac;
  return out;
}

std::string reference_canonical(int64_t units) {
  std::string s = reference_fixed(units, kDecimalFractionDigits);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::vector<int64_t> sample_units() {
  std::vector<int64_t> v = {0,
                            1,
                            -1,
                            4,
                            5,
                            -5,
                            499,
                            500,
                            -500,
                            999,
                            1000,
                            12345,
                            100000,
                            -100000,
                            150000,
                            1234567,
                            99999999,
                            std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::min() + 1,
                            std::numeric_limits<int64_t>::max() - 4999};
  uint64_t x = 88172645463325252ull;  // xorshift64: a fixed spread of magnitudes and signs
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int shift = static_cast<int>(x % 63);
    v.push_back(static_cast<int64_t>(x >> shift) * ((x & 1) ? -1 : 1));
  }
  return v;
}

TEST(Decimal, FormatMatchesDefinition) {
  for (int64_t u : sample_units()) {
    Decimal d = Decimal::of_units(u);
    ASSERT_EQ(format_decimal(d), reference_canonical(u)) << u;
    ASSERT_EQ(decimal_text(d).view(), reference_canonical(u)) << u;
    for (int digits = 0; digits <= kDecimalFractionDigits; ++digits) {
      ASSERT_EQ(format_decimal_fixed(d, digits), reference_fixed(u, digits)) << u << " " << digits;
    }
  }
}

TEST(Decimal, Examples) {
  EXPECT_EQ(format_decimal(Decimal::of_units(1250000)), "12.5");
  EXPECT_EQ(format_decimal(Decimal::of_units(-1)), "-0.00001");
  EXPECT_EQ(format_decimal(Decimal::of_units(0)), "0");
  EXPECT_EQ(format_decimal_fixed(Decimal::of_units(-400), 2), "0.00");  // no "-0.00"
  EXPECT_EQ(format_decimal_fixed(Decimal::of_units(-500), 2), "-0.01");
  EXPECT_EQ(format_decimal(Decimal::of_units(std::numeric_limits<int64_t>::min())),
            "-92233720368547.75808");
  EXPECT_EQ(format_fen(123450), "1234.50");
  EXPECT_EQ(format_fen(-7), "-0.07");
}

TEST(Time, FormatDate8MatchesPrintf) {
  for (CivilDate d : {CivilDate{2025, 6, 18}, CivilDate{1900, 1, 1}, CivilDate{9999, 12, 31},
                      CivilDate{0, 1, 1}, CivilDate{10000, 1, 1}, CivilDate{-1, 3, 4},
                      CivilDate{2024, 2, 29}}) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", d.year, d.month, d.day);
    EXPECT_EQ(format_date8(d), std::string(buf)) << d.year;
  }
}

TEST(Time, FormatReturnTimeMatchesPrintf) {
  // Proves: the hand-written digits give printf's yyyyMMddHHmmssSSS in Beijing time for every
  // part at its bounds, before 1970, and outside years 0..9999 (printf's own form there).
  auto printf_form = [](TimeMs t) {
    TimeMs local = t + kBeijingOffsetMs;
    int64_t days = local >= 0 ? local / kMsPerDay : -((-local + kMsPerDay - 1) / kMsPerDay);
    int64_t ms = local - days * kMsPerDay;
    CivilDate d = civil_from_days(days);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%03d", d.year, d.month, d.day,
                  static_cast<int>(ms / kMsPerHour), static_cast<int>(ms / 60000 % 60),
                  static_cast<int>(ms / 1000 % 60), static_cast<int>(ms % 1000));
    return std::string(buf);
  };
  const TimeMs day = beijing_midnight(CivilDate{2025, 6, 18});
  for (TimeMs t : {TimeMs{0}, TimeMs{-1}, day, day - 1, day + 9 * kMsPerHour + 61'001,
                   beijing_midnight(CivilDate{9999, 12, 31}) + kMsPerDay - 1,
                   beijing_midnight(CivilDate{10000, 1, 1}), beijing_midnight(CivilDate{0, 1, 1}),
                   beijing_midnight(CivilDate{-1, 12, 31}) + 5, TimeMs{253402300799999}}) {
    EXPECT_EQ(format_return_time(t), printf_form(t)) << t;
  }
  EXPECT_EQ(format_return_time(day + 23 * kMsPerHour + 59 * 60'000 + 59'999), "20250618235959999");
  EXPECT_EQ(format_datetime14(day + 9 * kMsPerHour + 61'001), "20250618090101");
  for (TimeMs t = -3 * kMsPerDay; t < 3 * kMsPerDay; t += 977 * kMsPerSecond + 13)
    ASSERT_EQ(format_return_time(t), printf_form(t)) << t;
}

TEST(Time, DayStartIsTheMidnightOfTheDate) {
  const TimeMs day = beijing_midnight(CivilDate{2025, 6, 18});
  const TimeMs old_day = beijing_midnight(CivilDate{1900, 3, 1});
  for (TimeMs t : {TimeMs{0}, TimeMs{-1}, kBeijingOffsetMs, -kBeijingOffsetMs,
                   -kBeijingOffsetMs - 1, day, day - 1, old_day + 12345, TimeMs{253402300799999}}) {
    EXPECT_EQ(beijing_day_start(t), beijing_midnight(beijing_date(t))) << t;
  }
  for (TimeMs t = -3 * kMsPerDay; t < 3 * kMsPerDay; t += 977 * kMsPerSecond + 13) {
    ASSERT_EQ(beijing_day_start(t), beijing_midnight(beijing_date(t))) << t;
  }
}

// The keyed HMAC gives the one-shot HMAC's bytes for keys shorter than, equal to and longer than
// the 64-byte block, and for messages of every length around it; one key serves many messages.
TEST(Crypto, KeyedHmacMatchesOneShot) {
  for (size_t key_len : {0, 1, 32, 63, 64, 65, 100}) {
    std::string key;
    for (size_t i = 0; i < key_len; ++i) key.push_back(static_cast<char>(i * 37 + 11));
    HmacSha256 h(key);
    for (size_t msg_len : {0, 1, 23, 55, 56, 64, 119, 200}) {
      std::string msg;
      for (size_t i = 0; i < msg_len; ++i) msg.push_back(static_cast<char>(i * 13 + key_len));
      HmacSha256::Mac mac = h.mac(msg);
      std::string bytes(reinterpret_cast<const char*>(mac.data()), mac.size());
      EXPECT_EQ(hex_encode(bytes), hmac_sha256_hex(key, msg)) << key_len << "/" << msg_len;
    }
  }
  // RFC 4231 test case 2.
  HmacSha256 jefe("Jefe");
  HmacSha256::Mac mac = jefe.mac("what do ya want for nothing?");
  EXPECT_EQ(hex_encode(std::string(reinterpret_cast<const char*>(mac.data()), mac.size())),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace cbec

TEST(ThreadName, NamesTheThreadAndCutsAtFifteenBytes) {
  // Proves: the name reaches the kernel (what top and perf show) as soon as name_thread returns,
  // before the thread has run a line, and a longer name keeps its first 15 bytes instead of
  // being refused.
  std::atomic<bool> go{false};
  auto wait = [&] {
    while (!go.load()) std::this_thread::yield();
  };
  auto name_of = [](std::thread& t) {
    char buf[32] = {};
    EXPECT_EQ(pthread_getname_np(t.native_handle(), buf, sizeof buf), 0);
    return std::string(buf);
  };
  std::thread a(wait), b(wait);
  cbec::name_thread(a, "cbec-apply");
  cbec::name_thread(b, "cbec-a-much-longer-name");
  EXPECT_EQ(name_of(a), "cbec-apply");
  EXPECT_EQ(name_of(b), "cbec-a-much-lon");
  EXPECT_EQ(name_of(b).size(), cbec::kMaxThreadNameBytes);
  go = true;
  a.join();
  b.join();
}
