package records

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Limits bounds what one push may hold. Every string and list of the pushed
// model has a maximum here, and every maximum is checked with an answer that
// names the field and the limit; a record past one is rejected on its own and
// the records beside it are still taken. The README's "Limits" table lists
// the same values; change both together.
type Limits struct {
	// IDBytes bounds every id: a record's id, the id of every ref in it,
	// line item, payment and variant ids, and each of a payout's
	// settledTransactionIds. Platforms' ids are UUIDs or shorter; 255 is
	// the usual bound of a database key column.
	IDBytes int
	// CodeBytes bounds short text a platform uses as a code: orderNumber,
	// country, paymentProvider, subType, sku, barcode, unitOfMeasure,
	// postalCode, a product's status, and any string field not named below.
	CodeBytes int
	// NameBytes bounds names: every name, a product's categorization, an
	// address's city and region.
	NameBytes int
	// TextBytes bounds free text: descriptions and address lines.
	TextBytes int

	// LineItems bounds an order's orderLineItems.
	LineItems int
	// TaxesPerLine bounds the taxes of a line item or a service charge.
	TaxesPerLine int
	// DiscountsPerLine bounds a line item's discountAllocations.
	DiscountsPerLine int
	// ServiceCharges bounds an order's serviceCharges.
	ServiceCharges int
	// Payments bounds an order's payments.
	Payments int
	// SettledTransactions bounds a payout's settledTransactionIds.
	SettledTransactions int
	// Variants bounds a product's variants.
	Variants int
	// PricesPerVariant bounds a product variant's prices.
	PricesPerVariant int
	// CategoryRefs bounds a product's productCategoryRefs and a category's
	// ancestorRefs.
	CategoryRefs int

	// RecordBytes bounds one record as the gateway encodes it for
	// commerce.events (key and value). Kafka's default max.message.bytes is
	// about 1 MB per batch; half of that leaves room for the batch's own
	// framing and for the window's state entry of the same record.
	RecordBytes int
	// BatchRecords bounds the records of one push (Codat's limit).
	BatchRecords int
	// BodyBytes bounds a push's request body, REST or gRPC; it is checked
	// before anything is decoded.
	BodyBytes int64
}

// MaxRecordBytes is the largest RecordBytes a configuration may set: what
// franz-go's producer sends in one batch by default, less the batch's
// framing.
const MaxRecordBytes = 1_000_000 - 4096

// DefaultLimits are the limits the gateway runs with unless configured.
func DefaultLimits() Limits {
	return Limits{
		IDBytes:             255,
		CodeBytes:           255,
		NameBytes:           500,
		TextBytes:           2000,
		LineItems:           1000,
		TaxesPerLine:        50,
		DiscountsPerLine:    50,
		ServiceCharges:      100,
		Payments:            100,
		SettledTransactions: 10000,
		Variants:            2000,
		PricesPerVariant:    100,
		CategoryRefs:        100,
		RecordBytes:         512 << 10,
		BatchRecords:        DefaultMaxBatch,
		BodyBytes:           64 << 20,
	}
}

// WithDefaults returns l with every unset (zero) limit taken from
// DefaultLimits, so that a partial configuration never means "unlimited".
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	for _, p := range []struct{ v, def *int }{
		{&l.IDBytes, &d.IDBytes}, {&l.CodeBytes, &d.CodeBytes}, {&l.NameBytes, &d.NameBytes}, {&l.TextBytes, &d.TextBytes},
		{&l.LineItems, &d.LineItems}, {&l.TaxesPerLine, &d.TaxesPerLine}, {&l.DiscountsPerLine, &d.DiscountsPerLine},
		{&l.ServiceCharges, &d.ServiceCharges}, {&l.Payments, &d.Payments}, {&l.SettledTransactions, &d.SettledTransactions},
		{&l.Variants, &d.Variants}, {&l.PricesPerVariant, &d.PricesPerVariant}, {&l.CategoryRefs, &d.CategoryRefs},
		{&l.RecordBytes, &d.RecordBytes}, {&l.BatchRecords, &d.BatchRecords},
	} {
		if *p.v == 0 {
			*p.v = *p.def
		}
	}
	if l.BodyBytes == 0 {
		l.BodyBytes = d.BodyBytes
	}
	return l
}

// Check reports a configuration that cannot be enforced: a negative limit,
// or records larger than the producer can send.
func (l Limits) Check() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"IDBytes", l.IDBytes}, {"CodeBytes", l.CodeBytes}, {"NameBytes", l.NameBytes}, {"TextBytes", l.TextBytes},
		{"LineItems", l.LineItems}, {"TaxesPerLine", l.TaxesPerLine}, {"DiscountsPerLine", l.DiscountsPerLine},
		{"ServiceCharges", l.ServiceCharges}, {"Payments", l.Payments}, {"SettledTransactions", l.SettledTransactions},
		{"Variants", l.Variants}, {"PricesPerVariant", l.PricesPerVariant}, {"CategoryRefs", l.CategoryRefs},
		{"RecordBytes", l.RecordBytes}, {"BatchRecords", l.BatchRecords},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("limits: %s is %d; use a positive value, or 0 for the default", f.name, f.v))
		}
	}
	if l.BodyBytes < 0 {
		errs = append(errs, fmt.Errorf("limits: BodyBytes is %d; use a positive value, or 0 for the default", l.BodyBytes))
	}
	if l.RecordBytes > MaxRecordBytes {
		errs = append(errs, fmt.Errorf("limits: RecordBytes is %d; the producer sends at most %d in one record", l.RecordBytes, MaxRecordBytes))
	}
	return errors.Join(errs...)
}

// textClass is what a string field holds, which decides its limit.
type textClass uint8

const (
	// classFormatted fields are bounded by their grammar: amounts (64
	// characters), timestamps, currencies and Codat's enum strings.
	classFormatted textClass = iota
	classID
	classCode
	className
	classText
)

// classOf classifies a string field by its proto name, the way the other
// rule tables do. Anything not named falls to classCode, so a field added to
// commerce.proto is bounded before anyone thinks of it.
func classOf(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) textClass {
	if decimalKindOf(fd) != notDecimal || isTimeField(fd) || isCurrencyField(fd) {
		return classFormatted
	}
	if _, ok := enumFor(md.FullName(), fd.Name()); ok {
		return classFormatted
	}
	switch fd.Name() {
	case "id", "settled_transaction_ids":
		return classID
	case "name", "categorization", "city", "region":
		return className
	case "description", "line1", "line2":
		return classText
	}
	return classCode
}

func (l Limits) bytesFor(c textClass) (int, string) {
	switch c {
	case classID:
		return l.IDBytes, "send the id your platform keeps, at most %d bytes"
	case className:
		return l.NameBytes, "shorten it to at most %d bytes"
	case classText:
		return l.TextBytes, "shorten it to at most %d bytes"
	case classCode:
		return l.CodeBytes, "shorten it to at most %d bytes"
	}
	return 0, ""
}

// listLimit is the most elements a repeated field may hold, with the advice
// given past it. Every repeated field of commerce.proto is named (a test
// checks it); one added later is held to LineItems until it is.
func (l Limits) listLimit(_ protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) (int, string) {
	return l.listLimitOf(fd.Name())
}

// listLimitOf is listLimit by the field's proto name.
func (l Limits) listLimitOf(name protoreflect.Name) (int, string) {
	switch name {
	case "order_line_items":
		return l.LineItems, "split the sale into several orders"
	case "taxes":
		return l.TaxesPerLine, "combine taxes of the same component"
	case "discount_allocations":
		return l.DiscountsPerLine, "combine discounts of the same name"
	case "service_charges":
		return l.ServiceCharges, "combine charges of the same kind"
	case "payments":
		return l.Payments, "an order's payments are links only (the money is counted from Payment records), so send fewer of them, or none"
	case "settled_transaction_ids":
		return l.SettledTransactions, "split the payout into several Payout transactions, each with its share of the amount"
	case "variants":
		return l.Variants, "push the variants as products of their own"
	case "prices":
		return l.PricesPerVariant, "send one price per currency"
	case "product_category_refs", "ancestor_refs":
		return l.CategoryRefs, "send the nearest categories only"
	}
	return l.LineItems, "send fewer elements"
}

// TooLarge answers a record whose encoding, size bytes as the caller writes
// it, is over RecordBytes, naming the field that takes most of it; nil when
// the record fits.
func (l Limits) TooLarge(m proto.Message, size int) *commercesyncv1.FieldError {
	if size <= l.RecordBytes || m == nil {
		return nil
	}
	field, most := "", 0
	r := m.ProtoReflect()
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		one := r.New()
		one.Set(fd, r.Get(fd))
		if n := proto.Size(one.Interface()); n > most {
			field, most = fd.JSONName(), n
		}
		return true
	})
	msg := fmt.Sprintf("the record is %d bytes encoded and the limit for one record is %d", size, l.RecordBytes)
	if field != "" {
		msg += fmt.Sprintf("; %s takes %d of them: send less of it", field, most)
	}
	return &commercesyncv1.FieldError{Field: field, Message: msg}
}
