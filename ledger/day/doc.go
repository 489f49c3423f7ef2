// Package day is the daily summary of the ledger: the money of one company's
// business day, in one currency, posted to semantic accounts, and the hash
// chain that makes each company's days an append-only, verifiable log.
//
// It is pure domain code: no Kafka, HTTP, ClickHouse or protobuf.
//
// # One source per money flow
//
// Codat's model repeats money: a payment appears in Order.payments[], as a
// Payment record and as a Payment-type Transaction. The contribution rules
// below are the single place that decides which record carries which flow,
// so that every amount is counted once. Every rule returns balanced postings
// (a positive amount is a debit, a negative one a credit) and omits zero
// postings. Negative inputs flip sides naturally, so a refund or a reversal
// needs no special case.
//
//   - Order: Dr unsettled (total + gratuity), then its lines say where the
//     money goes (OrderPostings): each sold line's category sales gross of its
//     discount and discounts, refunds for a refunded line, tax by component or
//     rate, service charges or shipping, gift cards sold as a liability,
//     gratuity, and rounding within a bound. An order without lines posts
//     Cr sales (total - tax) and Cr tax. Order.payments[] carries no money:
//     the Payment record is authoritative.
//   - Payment with status "Paid": Dr tender:<type> amount; Cr unsettled amount.
//     A negative (refund) payment reverses itself. Any other status
//     (Pending, Authorized, Failed, Cancelled, Unknown) contributes nothing,
//     so a status change moves the money into or out of the day.
//   - Transaction "Payment": a link only, no money.
//   - Transaction "PaymentFee" (negative, e.g. -1.49): Dr payment_fees 1.49;
//     Cr tender:<type of the linked payment> 1.49.
//   - Transaction "PaymentFeeRefund" (positive): Dr tender:<type>;
//     Cr payment_fee_refunds.
//   - Transaction "Payout": Dr payouts; Cr tender:<type the settled payments
//     share>, or payout_clearing. "FailedPayout" the reverse. Either sign.
//   - Transaction Refund (the negative Payment is authoritative), Transfer,
//     Unknown: no money. A type outside Codat's enum is an error rather than a
//     silent zero.
//
// Every record's postings are rounded to its currency's minor units, the
// remainder on rounding (RoundPostings), so days sum amounts records really
// come to.
//
// Unsettled is what makes every day balance on its own: an order paid on
// another day leaves a debit (or credit) there until the payment arrives.
//
// # Business days
//
// A Calendar maps instants to business days in the merchant's IANA zone with
// a cutoff hour: day D spans [D at cutoffHour local, D+1 at cutoffHour local),
// so a day is 23, 24 or 25 hours long. Precisely, D starts at the first
// instant at which the local clock reads D cutoffHour:00 or later. That one
// rule settles both daylight-saving edge cases:
//
//   - a cutoff wall time that does not exist (spring-forward gap) resolves to
//     the first instant after the gap: 02:00 in America/New_York on
//     2026-03-08 is 03:00 EDT;
//   - a cutoff wall time that occurs twice (fall back) resolves to its first
//     occurrence: 01:00 in America/New_York on 2026-11-01 is 01:00 EDT.
//
// Kafka time and wall-clock time never decide a day; only the event time does.
//
// # Summaries and the chain
//
// A Summary is one revision of one company's day in one currency. Revision 1
// carries the day's totals; a later revision carries the difference a late
// record made (Totals.Diff). A Summary that does not balance cannot be built.
//
// Each company's summaries form a hash chain: Hash = hex(sha256(PrevHash ||
// Canonical())). Canonical is a versioned text encoding, not protobuf bytes,
// because protobuf serialisation is not guaranteed stable across library
// versions, and a hash chain must outlive them. Version 1 is UTF-8 text, one
// field per line, each line "<name> <value>\n", in this order:
//
//	commercesync.day.summary v1
//	id <quoted>
//	company <quoted>
//	tenant <quoted>
//	day <quoted>
//	currency <quoted>
//	revision <decimal>
//	location <quoted>                          (only when the day is grouped by location)
//	zone <quoted>
//	cutoff_hour <decimal>
//	start <RFC 3339 in UTC, nanoseconds, quoted>
//	end <same>
//	sealed_by <quoted>
//	config_version <decimal>
//	record_count <decimal>
//	sequence <decimal>
//	prev_hash <quoted>
//	lines <count>
//	line <quoted account> <debit> <credit>    (once per line, in slice order)
//	exceptions <count>                         (only when there are any)
//	exception <quoted record id> <quoted message>   (once each, sorted by id)
//	exception_count <decimal>                  (only when more than those named)
//	end_summary
//
// Strings are quoted with Go's strconv.QuoteToASCII (all non-ASCII escaped, so
// the bytes do not shift with Unicode versions), and no value can forge a field
// separator. Amounts are written with exactly four decimals ("1000.0000",
// "0.0000"), independent of money.Amount's display format. Any change to this
// layout must bump the version line and keep the old encoder for old links.
//
// ID is the first 32 hex characters of sha256 over a separate versioned
// encoding of (company, day, currency, location when there is one,
// revision), so that replaying the same input yields the same id.
package day
