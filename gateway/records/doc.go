// Package records turns pushed commerce records into checked protobuf messages.
//
// The REST routes decode a JSON array element by element (DecodeBatch), so that
// one bad record gets its own answer instead of failing the whole request, and
// so that amounts sent as JSON numbers keep their exact text instead of passing
// through a float. The gRPC routes receive typed messages; both paths share the
// same validation (Validate, ValidateOrder, …), which therefore works on
// messages, never on JSON.
//
// The commerce records have plans (plan.go): per message, built once from its
// descriptor and the rule tables, they decode, validate, check dates, encode
// and hash the generated Go types without protoreflect, in one pass over a
// REST body. The reflective code remains for any other message and as the
// reference the tests hold the plans to, answer for answer.
//
// Every error is a FieldError whose Field is a JSON path inside the record
// ("orderLineItems[2].taxes[0].taxAmount") and whose Message says what is wrong
// and what to send instead.
package records
