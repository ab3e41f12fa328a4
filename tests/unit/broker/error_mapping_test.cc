// error_for: what a client hears for each storage failure.
#include "broker/error_mapping.h"

#include <cerrno>

#include "gtest/gtest.h"
#include "storage/file.h"
#include "storage/kafka_error.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;

TEST(ErrorMapping, AFullDiskIsAStorageErrorNotATooLargeMessage) {
  for (int err : {ENOSPC, EDQUOT}) {
    errno = err;
    absl::Status s = storage::errno_status("pwrite", "/data/t-0/00000000000000000000.log");
    EXPECT_EQ(error_for(s), ErrorCode::kKafkaStorageError) << s;
    EXPECT_NE(s.message().find("/data/t-0/00000000000000000000.log"), std::string_view::npos);
  }
}

TEST(ErrorMapping, StatusCodesAndPreciseCodes) {
  EXPECT_EQ(error_for(absl::OkStatus()), ErrorCode::kNone);
  EXPECT_EQ(error_for(absl::ResourceExhaustedError("batch too big")), ErrorCode::kMessageTooLarge);
  EXPECT_EQ(error_for(absl::DataLossError("crc")), ErrorCode::kCorruptMessage);
  EXPECT_EQ(error_for(absl::UnavailableError("eio")), ErrorCode::kKafkaStorageError);
  EXPECT_EQ(error_for(storage::kafka_error(ErrorCode::kOutOfOrderSequenceNumber, "gap")),
            ErrorCode::kOutOfOrderSequenceNumber);
}

}  // namespace
}  // namespace gregor::broker
