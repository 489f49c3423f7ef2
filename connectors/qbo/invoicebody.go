package qbo

import "encoding/json"

// Request bodies (§2.2). Structs marshal in declaration order, so a
// document always gives the same bytes; amounts are decimal text.

// salesJSON's ClassRef is set when the company classes whole
// transactions, its lines' otherwise (tracking.go).
type salesJSON struct {
	TxnDate              string          `json:"TxnDate"`
	DocNumber            string          `json:"DocNumber"`
	PrivateNote          string          `json:"PrivateNote"`
	CustomerRef          refJSON         `json:"CustomerRef"`
	CurrencyRef          refJSON         `json:"CurrencyRef"`
	GlobalTaxCalculation string          `json:"GlobalTaxCalculation,omitempty"`
	ClassRef             *refJSON        `json:"ClassRef,omitempty"`
	DepartmentRef        *refJSON        `json:"DepartmentRef,omitempty"`
	Line                 []salesLineJSON `json:"Line"`
}

type salesLineJSON struct {
	Description         string          `json:"Description,omitempty"`
	Amount              json.RawMessage `json:"Amount"`
	DetailType          string          `json:"DetailType"`
	SalesItemLineDetail salesItemJSON   `json:"SalesItemLineDetail"`
}

// salesItemJSON sends Qty 1 at the line's amount, so QuickBooks takes the
// amount as given rather than the item's price (§2.7: it rejects
// Amount ≠ round(Qty × UnitPrice)).
type salesItemJSON struct {
	ItemRef   refJSON         `json:"ItemRef"`
	Qty       json.RawMessage `json:"Qty"`
	UnitPrice json.RawMessage `json:"UnitPrice"`
	ClassRef  *refJSON        `json:"ClassRef,omitempty"`
}

type paymentJSON struct {
	TxnDate             string          `json:"TxnDate"`
	PaymentRefNum       string          `json:"PaymentRefNum"`
	PrivateNote         string          `json:"PrivateNote"`
	CustomerRef         refJSON         `json:"CustomerRef"`
	CurrencyRef         refJSON         `json:"CurrencyRef"`
	DepositToAccountRef *refJSON        `json:"DepositToAccountRef,omitempty"`
	TotalAmt            json.RawMessage `json:"TotalAmt"`
	Line                []linkLineJSON  `json:"Line"`
}

type linkLineJSON struct {
	Amount    json.RawMessage `json:"Amount"`
	LinkedTxn []linkedJSON    `json:"LinkedTxn"`
}

type linkedJSON struct {
	TxnID   string `json:"TxnId"`
	TxnType string `json:"TxnType"`
}

type billJSON struct {
	TxnDate              string            `json:"TxnDate"`
	DocNumber            string            `json:"DocNumber"`
	PrivateNote          string            `json:"PrivateNote"`
	VendorRef            refJSON           `json:"VendorRef"`
	CurrencyRef          refJSON           `json:"CurrencyRef"`
	GlobalTaxCalculation string            `json:"GlobalTaxCalculation,omitempty"`
	DepartmentRef        *refJSON          `json:"DepartmentRef,omitempty"`
	Line                 []expenseLineJSON `json:"Line"`
}

type expenseLineJSON struct {
	Description                   string            `json:"Description,omitempty"`
	Amount                        json.RawMessage   `json:"Amount"`
	DetailType                    string            `json:"DetailType"`
	AccountBasedExpenseLineDetail expenseDetailJSON `json:"AccountBasedExpenseLineDetail"`
}

type expenseDetailJSON struct {
	AccountRef refJSON  `json:"AccountRef"`
	ClassRef   *refJSON `json:"ClassRef,omitempty"`
}

type billPaymentJSON struct {
	TxnDate           string          `json:"TxnDate"`
	DocNumber         string          `json:"DocNumber,omitempty"`
	PrivateNote       string          `json:"PrivateNote"`
	VendorRef         refJSON         `json:"VendorRef"`
	CurrencyRef       refJSON         `json:"CurrencyRef"`
	PayType           string          `json:"PayType"`
	CheckPayment      *checkJSON      `json:"CheckPayment,omitempty"`
	CreditCardPayment *cardJSON       `json:"CreditCardPayment,omitempty"`
	TotalAmt          json.RawMessage `json:"TotalAmt"`
	Line              []linkLineJSON  `json:"Line"`
}

type checkJSON struct {
	BankAccountRef refJSON `json:"BankAccountRef"`
}

type cardJSON struct {
	CCAccountRef refJSON `json:"CCAccountRef"`
}

// typedRefJSON is a name reference with its type, as Purchase.EntityRef
// and DepositLineDetail.Entity take it (§2.2).
type typedRefJSON struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type purchaseJSON struct {
	TxnDate              string            `json:"TxnDate"`
	DocNumber            string            `json:"DocNumber"`
	PrivateNote          string            `json:"PrivateNote"`
	PaymentType          string            `json:"PaymentType"`
	AccountRef           refJSON           `json:"AccountRef"`
	EntityRef            *typedRefJSON     `json:"EntityRef,omitempty"`
	CurrencyRef          refJSON           `json:"CurrencyRef"`
	GlobalTaxCalculation string            `json:"GlobalTaxCalculation,omitempty"`
	DepartmentRef        *refJSON          `json:"DepartmentRef,omitempty"`
	Line                 []expenseLineJSON `json:"Line"`
}

type depositJSON struct {
	TxnDate              string            `json:"TxnDate"`
	PrivateNote          string            `json:"PrivateNote"`
	DepositToAccountRef  refJSON           `json:"DepositToAccountRef"`
	CurrencyRef          refJSON           `json:"CurrencyRef"`
	GlobalTaxCalculation string            `json:"GlobalTaxCalculation,omitempty"`
	DepartmentRef        *refJSON          `json:"DepartmentRef,omitempty"`
	Line                 []depositLineJSON `json:"Line"`
}

type depositLineJSON struct {
	Description       string            `json:"Description,omitempty"`
	Amount            json.RawMessage   `json:"Amount"`
	DetailType        string            `json:"DetailType"`
	DepositLineDetail depositDetailJSON `json:"DepositLineDetail"`
}

type depositDetailJSON struct {
	AccountRef refJSON       `json:"AccountRef"`
	Entity     *typedRefJSON `json:"Entity,omitempty"`
	ClassRef   *refJSON      `json:"ClassRef,omitempty"`
}

type transferJSON struct {
	TxnDate        string          `json:"TxnDate"`
	PrivateNote    string          `json:"PrivateNote"`
	FromAccountRef refJSON         `json:"FromAccountRef"`
	ToAccountRef   refJSON         `json:"ToAccountRef"`
	Amount         json.RawMessage `json:"Amount"`
}
