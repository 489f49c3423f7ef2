package qbo

import (
	"context"
	"fmt"
	"strings"

	"github.com/commercesync/commercesync/connectors"
	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Tracking: a document's DocumentTracking names the categories Setup
// returns (classCategory, departmentCategory) and, as options, class and
// department ids. Where QuickBooks takes each (§2.2, §2.3):
//
//   - JournalEntry: ClassRef and DepartmentRef on every
//     JournalEntryLineDetail (§2.2's example).
//   - Invoice, CreditMemo: ClassRef on every SalesItemLineDetail (§2.2's
//     SalesReceipt line), DepartmentRef on the transaction. That sales
//     forms take the department once per transaction, and that a company
//     assigning one class per transaction takes the class there too, are
//     not in the reference.
//   - Bill, VendorCredit, Purchase: ClassRef on every
//     AccountBasedExpenseLineDetail (§2.2's Purchase line), DepartmentRef
//     on the transaction (not in the reference).
//   - Deposit: ClassRef on every DepositLineDetail and DepartmentRef on
//     the transaction (neither in the reference).
//   - Payment, BillPayment, Transfer: nothing. Their lines only link other
//     transactions (or, for a Transfer, there are none), and §2.2 gives
//     them no ClassRef or DepartmentRef; they move money between balance
//     sheet accounts, while what the location earned and spent is tracked
//     on the transactions they settle. A route that sends a journal entry
//     instead (refund, bill paid from clearing, transfer outside assets)
//     tracks its lines.
const (
	classCategory      = "Class"
	departmentCategory = "Department"
)

// lineTracking is the class and department a document's transactions
// carry; ids are "" when the document names none.
type lineTracking struct {
	class, department string
	// classPerTxn: the company assigns one class to each transaction, not
	// one per line (ClassTrackingPerTxn without ClassTrackingPerTxnLine,
	// §2.3), so sales forms carry the class in their header.
	classPerTxn bool
	// departmentWord is what the merchant calls departments, for messages.
	departmentWord string
}

func optionalRef(id string) *refJSON {
	if id == "" {
		return nil
	}
	return &refJSON{Value: id}
}

func (t lineTracking) classRef() *refJSON      { return optionalRef(t.class) }
func (t lineTracking) departmentRef() *refJSON { return optionalRef(t.department) }

// lineClassRef is the class a sales line carries: none when the company
// takes it in the header (headerClassRef).
func (t lineTracking) lineClassRef() *refJSON {
	if t.classPerTxn {
		return nil
	}
	return t.classRef()
}

func (t lineTracking) headerClassRef() *refJSON {
	if !t.classPerTxn {
		return nil
	}
	return t.classRef()
}

// track sets the class and department on journal entry lines.
func (t lineTracking) track(lines []lineJSON) {
	for i := range lines {
		lines[i].JournalEntryLineDetail.ClassRef = t.classRef()
		lines[i].JournalEntryLineDetail.DepartmentRef = t.departmentRef()
	}
}

// tracking reads the document's tracking. The checks here are about the
// merchant's configuration against the company, so their refusals are
// merchant-actionable: a category QuickBooks does not have, two options
// of one category (a QuickBooks line has one ClassRef and one
// DepartmentRef), an id QuickBooks cannot have issued (ids are digits),
// and a dimension the company has turned off. For the last, the company's
// preferences are read (§2.3: classes are used "if
// ClassTrackingPerTxn(Line)", departments "if TrackDepartments"): sent
// anyway, the class or location would be lost from the merchant's
// reports without an error. Whether QuickBooks accepts or drops them then
// is not in the reference.
func (c *Connector) tracking(ctx context.Context, s connectors.Session, doc *commercesyncv1.Document) (lineTracking, error) {
	var t lineTracking
	for i, tr := range doc.GetTracking() {
		field := fmt.Sprintf("Tracking[%d]", i)
		var slot *string
		noun, nouns := "", ""
		switch tr.GetCategoryId() {
		case classCategory:
			slot, noun, nouns = &t.class, "class", "classes"
		case departmentCategory:
			slot, noun, nouns = &t.department, "location", "locations"
		default:
			return lineTracking{}, trackingError(field, fmt.Sprintf(
				"QuickBooks tracks lines by class and by location (department), and the location tracking names the category %q, which QuickBooks does not have; "+
					"choose a QuickBooks class or location in the location tracking", tr.GetCategoryId()))
		}
		id := tr.GetOptionId()
		if !numericID(id) {
			return lineTracking{}, trackingError(field, fmt.Sprintf("QuickBooks has no %s with id %q; choose another %s in the location tracking", noun, id, noun))
		}
		if *slot != "" && *slot != id {
			return lineTracking{}, trackingError(field, fmt.Sprintf(
				"the location tracking gives two QuickBooks %s (ids %s and %s), but a QuickBooks line takes one %s; keep one in the location tracking", nouns, *slot, id, noun))
		}
		*slot = id
	}
	if t.class == "" && t.department == "" {
		return t, nil
	}
	var out struct{ Preferences preferences }
	if err := c.getJSON(ctx, s, "preferences", nil, &out); err != nil {
		return lineTracking{}, fmt.Errorf("qbo: read preferences for tracking: %w", err)
	}
	p := out.Preferences
	t.departmentWord = p.departmentName()
	if t.class != "" && !p.tracksClasses() {
		return lineTracking{}, trackingError("Tracking", fmt.Sprintf(
			"the location tracking names QuickBooks class id %s, but class tracking is turned off in QuickBooks; "+
				"turn on class tracking in QuickBooks' advanced settings, or remove the class from the location tracking", t.class))
	}
	if t.department != "" && !p.AccountingInfoPrefs.TrackDepartments {
		return lineTracking{}, trackingError("Tracking", fmt.Sprintf(
			"the location tracking names QuickBooks %s id %s, but %s tracking is turned off in QuickBooks; "+
				"turn on %s tracking in QuickBooks' advanced settings, or remove it from the location tracking",
			strings.ToLower(t.departmentWord), t.department, strings.ToLower(t.departmentWord), strings.ToLower(t.departmentWord)))
	}
	t.classPerTxn = p.AccountingInfoPrefs.ClassTrackingPerTxn && !p.AccountingInfoPrefs.ClassTrackingPerTxnLine
	return t, nil
}

func trackingError(field, msg string) error {
	return &connectors.Error{Class: connectors.MerchantActionable, Field: field, Message: msg}
}
