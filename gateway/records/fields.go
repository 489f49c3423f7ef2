package records

import "google.golang.org/protobuf/reflect/protoreflect"

// The tables below describe commerce.proto by field and message name. They are
// switch statements rather than maps so that they are constant by construction.

// decimalKind says how a string field holding a number is checked.
type decimalKind uint8

const (
	notDecimal decimalKind = iota
	// moneyDecimal is an amount: it must be exact at money.Scale places.
	moneyDecimal
	// plainDecimal is a quantity, rate or percentage. Tax rates such as
	// 0.08875 need more places than money keeps, so the scale is finer.
	plainDecimal
)

// decimalKindOf classifies a field by its proto name. The names mean the same
// thing wherever they appear in commerce.proto.
func decimalKindOf(fd protoreflect.FieldDescriptor) decimalKind {
	if fd.Kind() != protoreflect.StringKind {
		return notDecimal
	}
	switch fd.Name() {
	case "amount", "total_amount", "total_refund", "total_tax_amount", "total_discount",
		"total_gratuity", "unit_price", "tax_amount":
		return moneyDecimal
	case "quantity", "tax_percentage", "rate", "vat_percentage":
		return plainDecimal
	}
	return notDecimal
}

// isTimeField reports the timestamp fields: every *_date field in commerce.proto.
func isTimeField(fd protoreflect.FieldDescriptor) bool {
	n := string(fd.Name())
	return fd.Kind() == protoreflect.StringKind && (n == "date" || len(n) > 5 && n[len(n)-5:] == "_date")
}

func isCurrencyField(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.StringKind && fd.Name() == "currency"
}

// Full names of the messages that carry rules.
const (
	nameOrder                = "commercesync.v1.Order"
	namePayment              = "commercesync.v1.Payment"
	nameTransaction          = "commercesync.v1.Transaction"
	namePaymentRef           = "commercesync.v1.PaymentRef"
	nameRef                  = "commercesync.v1.Ref"
	nameTransactionSourceRef = "commercesync.v1.TransactionSourceRef"
	nameServiceCharge        = "commercesync.v1.ServiceCharge"
	nameAddress              = "commercesync.v1.Address"
	nameProductVariant       = "commercesync.v1.ProductVariant"
	namePaymentMethod        = "commercesync.v1.PaymentMethod"
	nameLocation             = "commercesync.v1.Location"
	nameProduct              = "commercesync.v1.Product"
	nameProductCategory      = "commercesync.v1.ProductCategory"
	nameTaxComponent         = "commercesync.v1.TaxComponent"
)

// requiredFields lists, per message, the fields that must be non-empty. Refs
// are optional, but a ref that is sent must say what it refers to.
func requiredFields(msg protoreflect.FullName) []protoreflect.Name {
	switch msg {
	case nameOrder:
		return []protoreflect.Name{"id", "currency", "total_amount", "created_date"}
	case namePayment:
		return []protoreflect.Name{"id", "amount", "currency", "type", "status", "created_date"}
	case nameTransaction:
		// created_date or source_created_date: checked in transactionRules.
		return []protoreflect.Name{"id", "total_amount", "currency", "type"}
	case nameTransactionSourceRef:
		return []protoreflect.Name{"id", "type"}
	case namePaymentRef, nameRef:
		return []protoreflect.Name{"id"}
	case nameLocation, nameProduct, nameProductCategory, nameTaxComponent, namePaymentMethod:
		return []protoreflect.Name{"id", "name"}
	}
	return nil
}

// enumRule is a string field restricted to Codat's exact values.
type enumRule struct {
	noun   string // what a value is, for messages: "a payment type"
	values []string
}

func enumFor(msg protoreflect.FullName, field protoreflect.Name) (enumRule, bool) {
	switch {
	case (msg == namePayment || msg == namePaymentRef) && field == "type":
		return enumRule{"a payment type", []string{"Cash", "Card", "Invoice", "OnlineCard", "Swish", "Vipps",
			"Mobile", "StoreCredit", "Paypal", "Custom", "Prepaid", "Unknown"}}, true
	case (msg == namePayment || msg == namePaymentRef) && field == "status":
		return enumRule{"a payment status", []string{"Pending", "Authorized", "Paid", "Failed", "Cancelled", "Unknown"}}, true
	case msg == nameTransaction && field == "type":
		return enumRule{"a transaction type", []string{"Payment", "Refund", "Payout", "FailedPayout", "Transfer",
			"PaymentFee", "PaymentFeeRefund", "Unknown"}}, true
	case msg == nameTransactionSourceRef && field == "type":
		return enumRule{"a transaction source type", []string{"Fee", "Order", "Payment", "ServiceCharge", "Unknown"}}, true
	case msg == nameServiceCharge && field == "type":
		return enumRule{"a service charge type", []string{"Generic", "Shipping", "Overpayment", "Unknown"}}, true
	case msg == nameAddress && field == "type":
		return enumRule{"an address type", []string{"Billing", "Delivery", "Order", "Inventory", "Unknown"}}, true
	case msg == nameProductVariant && field == "status":
		return enumRule{"a product variant status", []string{"Unknown", "Published", "Unpublished"}}, true
	case msg == namePaymentMethod && field == "status":
		return enumRule{"a payment method status", []string{"Unknown", "Active", "Archived"}}, true
	}
	return enumRule{}, false
}
