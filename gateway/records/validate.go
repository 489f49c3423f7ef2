package records

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/commercesync/commercesync/ledger/money"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// ValidateOrder checks an order: id, currency, totalAmount and createdDate are
// required, and every amount, currency, enum and timestamp it carries,
// including line items, taxes, payments and service charges, must be valid.
func ValidateOrder(o *commercesyncv1.Order) []*commercesyncv1.FieldError { return Validate(o) }

// ValidatePayment checks a payment: id, amount, currency, type, status and
// createdDate are required.
func ValidatePayment(p *commercesyncv1.Payment) []*commercesyncv1.FieldError { return Validate(p) }

// ValidateTransaction checks a transaction: id, totalAmount, currency, type,
// and createdDate or sourceCreatedDate are required.
func ValidateTransaction(t *commercesyncv1.Transaction) []*commercesyncv1.FieldError {
	return Validate(t)
}

// Validate checks m within DefaultLimits; see Limits.Validate.
func Validate(m proto.Message) []*commercesyncv1.FieldError { return DefaultLimits().Validate(m) }

// Validate checks any commerce record the same way, whether it came from JSON
// or from gRPC: required fields, then every populated field at any depth
// (sizes, ids, decimals, currencies, Codat's enum strings, timestamps), the
// length of every list and the size of the whole record. It does not change
// m; call Normalize first. A delete (IsDelete) needs only CheckID.
func (l Limits) Validate(m proto.Message) []*commercesyncv1.FieldError { return l.validate(m, 0) }

// validate is Validate, told that m encodes to at most bound bytes (when
// bound > 0): a record whose bound is within RecordBytes is not measured.
func (l Limits) validate(m proto.Message, bound int) []*commercesyncv1.FieldError {
	if m == nil {
		return nil
	}
	if rp := planOf(m); rp != nil {
		v := &checker{lim: l.WithDefaults()}
		v.path = v.pathBuf[:0]
		rp.validateRecord(v, m)
		if bound <= 0 || bound > v.lim.RecordBytes {
			if e := v.lim.TooLarge(m, rp.sizeOf(m)); e != nil {
				v.errs.add(e.Field, e.Message)
			}
		}
		return v.errs.errs
	}
	return l.validateReflect(m)
}

// validateReflect is Validate through protoreflect, for any message.
func (l Limits) validateReflect(m proto.Message) []*commercesyncv1.FieldError {
	v := validator{lim: l.WithDefaults()}
	v.message(m.ProtoReflect(), "")
	if e := v.lim.TooLarge(m, proto.Size(m)); e != nil {
		v.errs.add(e.Field, e.Message)
	}
	return v.errs.errs
}

type validator struct {
	lim  Limits
	errs errList
}

func (v *validator) message(m protoreflect.Message, path string) {
	md := m.Descriptor()
	fields := md.Fields()
	for _, name := range requiredFields(md.FullName()) {
		if fd := fields.ByName(name); fd != nil && !present(m, fd) {
			v.errs.add(join(path, fd.JSONName()), requiredMessage(md, fd))
		}
	}
	if md.FullName() == nameTransaction {
		v.transaction(m, path)
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) || fd.IsMap() {
			continue
		}
		switch {
		case fd.IsList():
			list := m.Get(fd).List()
			at := join(path, fd.JSONName())
			if limit, advice := v.lim.listLimit(md, fd); list.Len() > limit {
				// Its elements are not looked at: past the limit the record is
				// refused whatever they hold, and checking them costs time.
				v.errs.add(at, fmt.Sprintf("has %d elements; the limit is %d; %s", list.Len(), limit, advice))
				continue
			}
			for j := range list.Len() {
				v.value(md, fd, list.Get(j), index(at, j))
			}
		case fd.Message() != nil:
			v.value(md, fd, m.Get(fd), join(path, fd.JSONName()))
		case fd.Kind() == protoreflect.StringKind:
			// The path is built only for an error: most fields have none.
			if problem := v.stringProblem(md, fd, m.Get(fd).String(), false); problem != "" {
				v.errs.add(join(path, fd.JSONName()), problem)
			}
		}
	}
}

// value checks one value of field fd: a nested message or a list element.
func (v *validator) value(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor, val protoreflect.Value, at string) {
	switch {
	case fd.Message() != nil:
		if !isStructType(fd.Message()) {
			v.message(val.Message(), at)
		}
	case fd.Kind() == protoreflect.StringKind:
		if problem := v.stringProblem(md, fd, val.String(), fd.IsList()); problem != "" {
			v.errs.add(at, problem)
		}
	}
}

// stringProblem checks a string's size first, so that a huge value is
// answered with its size rather than parsed. A blank value is left to the
// required-field check unless blankIsError: a blank list element, or the id
// of a delete, is an error of its own.
func (v *validator) stringProblem(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor, s string, blankIsError bool) string {
	class := classOf(md, fd)
	if limit, advice := v.lim.bytesFor(class); limit > 0 && len(s) > limit {
		return fmt.Sprintf("is %d bytes; the limit is %d; "+advice, len(s), limit, limit)
	}
	if strings.TrimSpace(s) == "" && !blankIsError {
		return ""
	}
	if class == classID {
		return idProblem(fd.Name() == "settled_transaction_ids", s)
	}
	return stringProblem(md, fd, s)
}

// transaction holds the rules a field table cannot express.
func (v *validator) transaction(m protoreflect.Message, path string) {
	fields := m.Descriptor().Fields()
	created, sourceCreated := fields.ByName("created_date"), fields.ByName("source_created_date")
	if !present(m, created) && !present(m, sourceCreated) {
		v.errs.add(join(path, created.JSONName()), msgCreatedOrSourceCreated)
	}
	settledFd := fields.ByName("settled_transaction_ids")
	settled := m.Get(settledFd).List()
	if settled.Len() == 0 {
		return
	}
	at := join(path, settledFd.JSONName())
	if typ := m.Get(fields.ByName("type")).String(); typ != "Payout" && typ != "FailedPayout" {
		v.errs.add(at, fmt.Sprintf(msgOnlyPayoutsSettle, quote(typ)))
	}
}

// present reports whether a required field was sent with a non-blank value.
func present(m protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() == protoreflect.StringKind && !fd.IsList() {
		return strings.TrimSpace(m.Get(fd).String()) != ""
	}
	return m.Has(fd)
}

func requiredMessage(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) string {
	name := fd.JSONName()
	if rule, ok := enumFor(md.FullName(), fd.Name()); ok {
		return fmt.Sprintf("%s is required; send one of %s", name, strings.Join(rule.values, ", "))
	}
	switch {
	case fd.Name() == "id" && (md.FullName() == nameRef || md.FullName() == nameTransactionSourceRef):
		return "id is required in a reference; send the id of the record it refers to"
	case fd.Name() == "id":
		return "id is required; send the record's id on your platform"
	case decimalKindOf(fd) != notDecimal:
		return name + " is required; send a decimal such as 12.34"
	case isCurrencyField(fd):
		return name + " is required; send an ISO 4217 currency code such as GBP"
	case isTimeField(fd):
		return name + ` is required; send a timestamp such as "2022-02-14T15:46:18Z"`
	}
	return name + " is required"
}

// stringProblem checks one string value by what its field holds, and returns
// what is wrong and what to send, or "".
func stringProblem(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor, s string) string {
	if k := decimalKindOf(fd); k != notDecimal {
		return decimalProblem(s, k)
	}
	if isTimeField(fd) {
		// The zone only moves a local time; whether it is valid does not
		// depend on it, so UTC serves for checking.
		if _, err := ParseTime(s, time.UTC); err != nil {
			return err.Error()
		}
		return ""
	}
	if isCurrencyField(fd) {
		return currencyProblem(s)
	}
	if rule, ok := enumFor(md.FullName(), fd.Name()); ok {
		return enumProblem(rule, s)
	}
	return ""
}

func currencyProblem(s string) string {
	if money.CheckCurrency(s) == nil {
		return ""
	}
	if up := strings.ToUpper(strings.TrimSpace(s)); money.CheckCurrency(up) == nil {
		return fmt.Sprintf("%s is not an ISO 4217 currency code; did you mean %q? Codes are three upper-case letters", quote(s), up)
	}
	if len(s) != 3 {
		return fmt.Sprintf("%s is not an ISO 4217 currency code; send three upper-case letters such as GBP", quote(s))
	}
	return fmt.Sprintf("%s is not an active ISO 4217 currency code; send one such as GBP, EUR or USD", quote(s))
}

// enumProblem holds values to Codat's exact spelling: a near miss such as
// "card" is refused with a suggestion rather than guessed, because the
// stored record must mean the same to every later reader.
func enumProblem(rule enumRule, s string) string {
	if slices.Contains(rule.values, s) {
		return ""
	}
	if near := closest(s, rule.values); near != "" {
		return fmt.Sprintf("%s is not %s; did you mean %q?", quote(s), rule.noun, near)
	}
	return fmt.Sprintf("%s is not %s; send one of %s", quote(s), rule.noun, strings.Join(rule.values, ", "))
}
