package records

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The plans of commerce.proto, one per message, every field listed. The
// rules come from the tables in fields.go and limits.go through each field's
// descriptor; the accessors here only say where the Go value lives. A field
// added to commerce.proto without an accessor here stops the package at
// start (newPlan), so no test can pass with it missing.

var refPlan = newPlan(
	str("id", func(m *v1.Ref) *string { return &m.Id }),
	str("name", func(m *v1.Ref) *string { return &m.Name }),
)

var transactionSourceRefPlan = newPlan(
	str("id", func(m *v1.TransactionSourceRef) *string { return &m.Id }),
	str("type", func(m *v1.TransactionSourceRef) *string { return &m.Type }),
)

var supplementalDataPlan = newPlan(
	freeForm("content", func(m *v1.SupplementalData) **structpb.Struct { return &m.Content }),
)

var taxLinePlan = newPlan(
	message("taxComponentRef", func(m *v1.TaxLine) **v1.Ref { return &m.TaxComponentRef }, refPlan),
	str("rate", func(m *v1.TaxLine) *string { return &m.Rate }),
	str("taxAmount", func(m *v1.TaxLine) *string { return &m.TaxAmount }),
)

var discountAllocationPlan = newPlan(
	str("name", func(m *v1.DiscountAllocation) *string { return &m.Name }),
	str("totalAmount", func(m *v1.DiscountAllocation) *string { return &m.TotalAmount }),
)

var orderLineItemPlan = newPlan(
	str("id", func(m *v1.OrderLineItem) *string { return &m.Id }),
	str("quantity", func(m *v1.OrderLineItem) *string { return &m.Quantity }),
	str("taxPercentage", func(m *v1.OrderLineItem) *string { return &m.TaxPercentage }),
	str("totalAmount", func(m *v1.OrderLineItem) *string { return &m.TotalAmount }),
	str("totalTaxAmount", func(m *v1.OrderLineItem) *string { return &m.TotalTaxAmount }),
	str("unitPrice", func(m *v1.OrderLineItem) *string { return &m.UnitPrice }),
	list("taxes", func(m *v1.OrderLineItem) *[]*v1.TaxLine { return &m.Taxes }, taxLinePlan),
	message("productRef", func(m *v1.OrderLineItem) **v1.Ref { return &m.ProductRef }, refPlan),
	message("productVariantRef", func(m *v1.OrderLineItem) **v1.Ref { return &m.ProductVariantRef }, refPlan),
	list("discountAllocations", func(m *v1.OrderLineItem) *[]*v1.DiscountAllocation { return &m.DiscountAllocations }, discountAllocationPlan),
)

var paymentRefPlan = newPlan(
	str("id", func(m *v1.PaymentRef) *string { return &m.Id }),
	str("amount", func(m *v1.PaymentRef) *string { return &m.Amount }),
	str("currency", func(m *v1.PaymentRef) *string { return &m.Currency }),
	str("type", func(m *v1.PaymentRef) *string { return &m.Type }),
	str("status", func(m *v1.PaymentRef) *string { return &m.Status }),
	str("paymentProvider", func(m *v1.PaymentRef) *string { return &m.PaymentProvider }),
	str("dueDate", func(m *v1.PaymentRef) *string { return &m.DueDate }),
	str("createdDate", func(m *v1.PaymentRef) *string { return &m.CreatedDate }),
	str("modifiedDate", func(m *v1.PaymentRef) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.PaymentRef) *string { return &m.SourceModifiedDate }),
)

var serviceChargePlan = newPlan(
	str("description", func(m *v1.ServiceCharge) *string { return &m.Description }),
	str("totalAmount", func(m *v1.ServiceCharge) *string { return &m.TotalAmount }),
	str("taxPercentage", func(m *v1.ServiceCharge) *string { return &m.TaxPercentage }),
	str("taxAmount", func(m *v1.ServiceCharge) *string { return &m.TaxAmount }),
	list("taxes", func(m *v1.ServiceCharge) *[]*v1.TaxLine { return &m.Taxes }, taxLinePlan),
	str("quantity", func(m *v1.ServiceCharge) *string { return &m.Quantity }),
	str("type", func(m *v1.ServiceCharge) *string { return &m.Type }),
)

var orderPlan = newPlan(
	str("id", func(m *v1.Order) *string { return &m.Id }),
	str("orderNumber", func(m *v1.Order) *string { return &m.OrderNumber }),
	str("country", func(m *v1.Order) *string { return &m.Country }),
	str("currency", func(m *v1.Order) *string { return &m.Currency }),
	str("createdDate", func(m *v1.Order) *string { return &m.CreatedDate }),
	str("closedDate", func(m *v1.Order) *string { return &m.ClosedDate }),
	str("modifiedDate", func(m *v1.Order) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.Order) *string { return &m.SourceModifiedDate }),
	str("totalAmount", func(m *v1.Order) *string { return &m.TotalAmount }),
	str("totalRefund", func(m *v1.Order) *string { return &m.TotalRefund }),
	str("totalTaxAmount", func(m *v1.Order) *string { return &m.TotalTaxAmount }),
	str("totalDiscount", func(m *v1.Order) *string { return &m.TotalDiscount }),
	str("totalGratuity", func(m *v1.Order) *string { return &m.TotalGratuity }),
	list("orderLineItems", func(m *v1.Order) *[]*v1.OrderLineItem { return &m.OrderLineItems }, orderLineItemPlan),
	list("payments", func(m *v1.Order) *[]*v1.PaymentRef { return &m.Payments }, paymentRefPlan),
	list("serviceCharges", func(m *v1.Order) *[]*v1.ServiceCharge { return &m.ServiceCharges }, serviceChargePlan),
	message("locationRef", func(m *v1.Order) **v1.Ref { return &m.LocationRef }, refPlan),
	message("customerRef", func(m *v1.Order) **v1.Ref { return &m.CustomerRef }, refPlan),
	message("supplementalData", func(m *v1.Order) **v1.SupplementalData { return &m.SupplementalData }, supplementalDataPlan),
)

var paymentPlan = newPlan(
	str("id", func(m *v1.Payment) *string { return &m.Id }),
	str("amount", func(m *v1.Payment) *string { return &m.Amount }),
	str("currency", func(m *v1.Payment) *string { return &m.Currency }),
	str("type", func(m *v1.Payment) *string { return &m.Type }),
	str("status", func(m *v1.Payment) *string { return &m.Status }),
	message("paymentMethodRef", func(m *v1.Payment) **v1.Ref { return &m.PaymentMethodRef }, refPlan),
	str("paymentProvider", func(m *v1.Payment) *string { return &m.PaymentProvider }),
	str("dueDate", func(m *v1.Payment) *string { return &m.DueDate }),
	str("createdDate", func(m *v1.Payment) *string { return &m.CreatedDate }),
	str("modifiedDate", func(m *v1.Payment) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.Payment) *string { return &m.SourceModifiedDate }),
	message("supplementalData", func(m *v1.Payment) **v1.SupplementalData { return &m.SupplementalData }, supplementalDataPlan),
)

var transactionPlan = withRules(newPlan(
	str("id", func(m *v1.Transaction) *string { return &m.Id }),
	str("totalAmount", func(m *v1.Transaction) *string { return &m.TotalAmount }),
	str("currency", func(m *v1.Transaction) *string { return &m.Currency }),
	str("type", func(m *v1.Transaction) *string { return &m.Type }),
	str("subType", func(m *v1.Transaction) *string { return &m.SubType }),
	message("transactionSourceRef", func(m *v1.Transaction) **v1.TransactionSourceRef { return &m.TransactionSourceRef }, transactionSourceRefPlan),
	str("createdDate", func(m *v1.Transaction) *string { return &m.CreatedDate }),
	str("sourceCreatedDate", func(m *v1.Transaction) *string { return &m.SourceCreatedDate }),
	str("modifiedDate", func(m *v1.Transaction) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.Transaction) *string { return &m.SourceModifiedDate }),
	strList("settledTransactionIds", func(m *v1.Transaction) *[]string { return &m.SettledTransactionIds }),
	message("supplementalData", func(m *v1.Transaction) **v1.SupplementalData { return &m.SupplementalData }, supplementalDataPlan),
), transactionRules)

var addressPlan = newPlan(
	str("type", func(m *v1.Address) *string { return &m.Type }),
	str("line1", func(m *v1.Address) *string { return &m.Line1 }),
	str("line2", func(m *v1.Address) *string { return &m.Line2 }),
	str("city", func(m *v1.Address) *string { return &m.City }),
	str("region", func(m *v1.Address) *string { return &m.Region }),
	str("country", func(m *v1.Address) *string { return &m.Country }),
	str("postalCode", func(m *v1.Address) *string { return &m.PostalCode }),
)

var locationPlan = newPlan(
	str("id", func(m *v1.Location) *string { return &m.Id }),
	str("name", func(m *v1.Location) *string { return &m.Name }),
	message("address", func(m *v1.Location) **v1.Address { return &m.Address }, addressPlan),
	str("modifiedDate", func(m *v1.Location) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.Location) *string { return &m.SourceModifiedDate }),
)

var productPricePlan = newPlan(
	str("currency", func(m *v1.ProductPrice) *string { return &m.Currency }),
	str("unitPrice", func(m *v1.ProductPrice) *string { return &m.UnitPrice }),
)

var productVariantPlan = newPlan(
	str("id", func(m *v1.ProductVariant) *string { return &m.Id }),
	str("name", func(m *v1.ProductVariant) *string { return &m.Name }),
	boolean("isTaxEnabled", func(m *v1.ProductVariant) *bool { return &m.IsTaxEnabled }),
	str("sku", func(m *v1.ProductVariant) *string { return &m.Sku }),
	str("barcode", func(m *v1.ProductVariant) *string { return &m.Barcode }),
	str("unitOfMeasure", func(m *v1.ProductVariant) *string { return &m.UnitOfMeasure }),
	str("vatPercentage", func(m *v1.ProductVariant) *string { return &m.VatPercentage }),
	list("prices", func(m *v1.ProductVariant) *[]*v1.ProductPrice { return &m.Prices }, productPricePlan),
	boolean("shippingRequired", func(m *v1.ProductVariant) *bool { return &m.ShippingRequired }),
	str("status", func(m *v1.ProductVariant) *string { return &m.Status }),
	str("createdDate", func(m *v1.ProductVariant) *string { return &m.CreatedDate }),
	str("modifiedDate", func(m *v1.ProductVariant) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.ProductVariant) *string { return &m.SourceModifiedDate }),
)

var productPlan = newPlan(
	str("id", func(m *v1.Product) *string { return &m.Id }),
	str("name", func(m *v1.Product) *string { return &m.Name }),
	str("description", func(m *v1.Product) *string { return &m.Description }),
	str("categorization", func(m *v1.Product) *string { return &m.Categorization }),
	list("productCategoryRefs", func(m *v1.Product) *[]*v1.Ref { return &m.ProductCategoryRefs }, refPlan),
	boolean("isGiftCard", func(m *v1.Product) *bool { return &m.IsGiftCard }),
	list("variants", func(m *v1.Product) *[]*v1.ProductVariant { return &m.Variants }, productVariantPlan),
	str("status", func(m *v1.Product) *string { return &m.Status }),
	str("createdDate", func(m *v1.Product) *string { return &m.CreatedDate }),
	str("modifiedDate", func(m *v1.Product) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.Product) *string { return &m.SourceModifiedDate }),
)

var productCategoryPlan = newPlan(
	str("id", func(m *v1.ProductCategory) *string { return &m.Id }),
	str("name", func(m *v1.ProductCategory) *string { return &m.Name }),
	list("ancestorRefs", func(m *v1.ProductCategory) *[]*v1.Ref { return &m.AncestorRefs }, refPlan),
	boolean("hasChildren", func(m *v1.ProductCategory) *bool { return &m.HasChildren }),
	str("modifiedDate", func(m *v1.ProductCategory) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.ProductCategory) *string { return &m.SourceModifiedDate }),
)

var taxComponentPlan = newPlan(
	str("id", func(m *v1.TaxComponent) *string { return &m.Id }),
	str("name", func(m *v1.TaxComponent) *string { return &m.Name }),
	str("rate", func(m *v1.TaxComponent) *string { return &m.Rate }),
	boolean("isCompound", func(m *v1.TaxComponent) *bool { return &m.IsCompound }),
	str("modifiedDate", func(m *v1.TaxComponent) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.TaxComponent) *string { return &m.SourceModifiedDate }),
)

var paymentMethodPlan = newPlan(
	str("id", func(m *v1.PaymentMethod) *string { return &m.Id }),
	str("name", func(m *v1.PaymentMethod) *string { return &m.Name }),
	str("status", func(m *v1.PaymentMethod) *string { return &m.Status }),
	str("modifiedDate", func(m *v1.PaymentMethod) *string { return &m.ModifiedDate }),
	str("sourceModifiedDate", func(m *v1.PaymentMethod) *string { return &m.SourceModifiedDate }),
)

func withRules[M any](p *plan[M], rules func(v *checker, m *M)) *plan[M] {
	p.extra = rules
	return p
}

// Messages of the rules a field table cannot express; the reflective
// validator (validator.transaction) says the same.
const (
	msgCreatedOrSourceCreated = "createdDate is required (or sourceCreatedDate); " +
		`send when the transaction happened, such as "2022-02-14T15:46:18Z"`
	msgOnlyPayoutsSettle = "only Payout and FailedPayout transactions settle other transactions, and this one is %s; " +
		"remove settledTransactionIds or correct the type"
)

func transactionRules(v *checker, m *v1.Transaction) {
	if isBlank(m.CreatedDate) && isBlank(m.SourceCreatedDate) {
		v.add("createdDate", msgCreatedOrSourceCreated)
	}
	if len(m.SettledTransactionIds) == 0 {
		return
	}
	if typ := m.Type; typ != "Payout" && typ != "FailedPayout" {
		v.add("settledTransactionIds", fmt.Sprintf(msgOnlyPayoutsSettle, quote(typ)))
	}
}

// planOf is the plan of m's type, or nil for a message without one (or a nil
// pointer), which takes the reflective path.
func planOf(m proto.Message) recordPlan {
	switch m := m.(type) {
	case *v1.Ref:
		if m != nil {
			return record[v1.Ref]{refPlan}
		}
	case *v1.TransactionSourceRef:
		if m != nil {
			return record[v1.TransactionSourceRef]{transactionSourceRefPlan}
		}
	case *v1.SupplementalData:
		if m != nil {
			return record[v1.SupplementalData]{supplementalDataPlan}
		}
	case *v1.TaxLine:
		if m != nil {
			return record[v1.TaxLine]{taxLinePlan}
		}
	case *v1.DiscountAllocation:
		if m != nil {
			return record[v1.DiscountAllocation]{discountAllocationPlan}
		}
	case *v1.OrderLineItem:
		if m != nil {
			return record[v1.OrderLineItem]{orderLineItemPlan}
		}
	case *v1.PaymentRef:
		if m != nil {
			return record[v1.PaymentRef]{paymentRefPlan}
		}
	case *v1.ServiceCharge:
		if m != nil {
			return record[v1.ServiceCharge]{serviceChargePlan}
		}
	case *v1.Order:
		if m != nil {
			return record[v1.Order]{orderPlan}
		}
	case *v1.Payment:
		if m != nil {
			return record[v1.Payment]{paymentPlan}
		}
	case *v1.Transaction:
		if m != nil {
			return record[v1.Transaction]{transactionPlan}
		}
	case *v1.Address:
		if m != nil {
			return record[v1.Address]{addressPlan}
		}
	case *v1.Location:
		if m != nil {
			return record[v1.Location]{locationPlan}
		}
	case *v1.ProductPrice:
		if m != nil {
			return record[v1.ProductPrice]{productPricePlan}
		}
	case *v1.ProductVariant:
		if m != nil {
			return record[v1.ProductVariant]{productVariantPlan}
		}
	case *v1.Product:
		if m != nil {
			return record[v1.Product]{productPlan}
		}
	case *v1.ProductCategory:
		if m != nil {
			return record[v1.ProductCategory]{productCategoryPlan}
		}
	case *v1.TaxComponent:
		if m != nil {
			return record[v1.TaxComponent]{taxComponentPlan}
		}
	case *v1.PaymentMethod:
		if m != nil {
			return record[v1.PaymentMethod]{paymentMethodPlan}
		}
	}
	return nil
}
