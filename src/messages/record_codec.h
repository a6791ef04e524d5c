// Binary form of business records and receipts, for the archive under the clearance core
// (src/archive/). Every field of kFields<T> is written in table order, so a record decodes to
// exactly the struct that was encoded (operator== holds; tests/archive_test.cc checks every
// type). Not a wire format: the archive is rebuilt from the command log, so a format change
// only needs a version bump here, never a migration.
#pragma once

#include "common/bytes.h"
#include "messages/ceb.h"
#include "messages/receipt.h"

namespace cbec::ceb {

void encode_record(ByteWriter& w, const Order& r);
void encode_record(ByteWriter& w, const Payment& r);
void encode_record(ByteWriter& w, const Logistics& r);
void encode_record(ByteWriter& w, const LogisticsStatus& r);
void encode_record(ByteWriter& w, const Inventory& r);
void encode_record(ByteWriter& w, const InvtCancel& r);
void encode_record(ByteWriter& w, const InvtRefund& r);
void encode_record(ByteWriter& w, const Delivery& r);
// Each fills *r completely; the reader's ok() tells whether the bytes were well formed.
void decode_record(ByteReader& in, Order* r);
void decode_record(ByteReader& in, Payment* r);
void decode_record(ByteReader& in, Logistics* r);
void decode_record(ByteReader& in, LogisticsStatus* r);
void decode_record(ByteReader& in, Inventory* r);
void decode_record(ByteReader& in, InvtCancel* r);
void decode_record(ByteReader& in, InvtRefund* r);
void decode_record(ByteReader& in, Delivery* r);

void encode_finding(ByteWriter& w, const Finding& f);
void decode_finding(ByteReader& in, Finding* f);
void encode_receipt(ByteWriter& w, const Receipt& r);
void decode_receipt(ByteReader& in, Receipt* r);
// A kept receipt: none is written as an empty Receipt, and an empty Receipt reads back as none
// (the format is the one of a Receipt).
void encode_receipt(ByteWriter& w, const ReceiptPtr& r);
void decode_receipt(ByteReader& in, ReceiptPtr* r);

}  // namespace cbec::ceb
