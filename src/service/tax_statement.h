// The per-guarantor tax statement (GET /api/v1/tax/statement) as JSON and CSV.
//
// Amounts are RMB strings with two decimals ("55.15"); times yyyyMMddHHmmss Beijing; dates
// yyyy-MM-dd. The running balance is what the guarantor owes after each entry:
//   closing = opening + bills + reinstated − reductions − voids − payments.
// CSV (RFC 4180, UTF-8, CRLF) has one header line and these records, in this order:
//   opening; per journal entry of the period: bill (followed by one bill_line per list line,
//   CEB816 shape), reduction, reinstatement, void, payment, deposit; closing; guarantee.
// Columns: record,time,invtNo,taxNo,gnum,gcode,taxPrice,customsTax,consumptionTax,
//          valueAddedTax,amount,balance,reference
#pragma once

#include <string>

#include "clearance/clearance.h"

namespace cbec::service {

std::string tax_statement_json(const clearance::TaxStatement& st);
std::string tax_statement_csv(const clearance::TaxStatement& st);

}  // namespace cbec::service
