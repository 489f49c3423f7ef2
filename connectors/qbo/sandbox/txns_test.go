package sandbox_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/commercesync/commercesync/connectors/qbo/sandbox"
)

// Request bodies for the invoice-mode routes (§2.2).

func salesBody(customer, currency, date string, lines ...string) string {
	return `{"TxnDate":"` + date + `","CustomerRef":{"value":"` + customer + `"},"CurrencyRef":{"value":"` + currency + `"},"Line":[` + strings.Join(lines, ",") + `]}`
}

func itemLine(item, amount string) string {
	return `{"Amount":` + amount + `,"DetailType":"SalesItemLineDetail","SalesItemLineDetail":{"ItemRef":{"value":"` + item + `"}}}`
}

func expenseLine(acct, amount string) string {
	return `{"Amount":` + amount + `,"DetailType":"AccountBasedExpenseLineDetail","AccountBasedExpenseLineDetail":{"AccountRef":{"value":"` + acct + `"}}}`
}

func linked(amount, id, typ string) string {
	return `{"Amount":` + amount + `,"LinkedTxn":[{"TxnId":"` + id + `","TxnType":"` + typ + `"}]}`
}

// idOf reads the Id of a created entity from its {"<Entity>":{…}} answer.
func idOf(t *testing.T, r result) string {
	t.Helper()
	var out map[string]json.RawMessage
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("create: %d %s", r.status, r)
	}
	for k, v := range out {
		var ent struct {
			ID string `json:"Id"`
		}
		if k != "time" && json.Unmarshal(v, &ent) == nil && ent.ID != "" {
			return ent.ID
		}
	}
	t.Fatalf("no Id in %s", r)
	return ""
}

// TestTransactionsPostSettleAndQuery: an invoice, its payment, a bill and
// its payment post to the trial balance, settle what they apply, answer
// in QuickBooks' envelope and are found by DocNumber or by TxnDate.
func TestTransactionsPostSettleAndQuery(t *testing.T) {
	e := newEnv(t, many).login()
	inv := idOf(t, e.api("POST", "/invoice?minorversion=75&requestid=r-1",
		strings.Replace(salesBody("2", "USD", "2026-07-14", itemLine("1", "100.00"), itemLine("3", "8.50")), `{"TxnDate"`, `{"DocNumber":"INV-1","TxnDate"`, 1)))
	pay := e.api("POST", "/payment", `{"TxnDate":"2026-07-14","CustomerRef":{"value":"2"},"CurrencyRef":{"value":"USD"},"DepositToAccountRef":{"value":"87"},`+
		`"TotalAmt":108.50,"Line":[`+linked("108.50", inv, "Invoice")+`]}`)
	payID := idOf(t, pay)
	bill := idOf(t, e.api("POST", "/bill", `{"DocNumber":"B-1","TxnDate":"2026-07-15","VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"Line":[`+expenseLine("54", "3.10")+`]}`))
	idOf(t, e.api("POST", "/billpayment", `{"TxnDate":"2026-07-15","VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"PayType":"Check",`+
		`"CheckPayment":{"BankAccountRef":{"value":"35"}},"TotalAmt":3.10,"Line":[`+linked("3.10", bill, "Bill")+`]}`))

	want := map[string]string{"1010": "108.5", "4000": "-100", "4010": "-8.5", "6000": "3.1", "1000": "-3.1"}
	got := e.sb.Balances(realm, "")
	if len(got) != len(want) {
		t.Errorf("balances %v, want %v", got, want)
	}
	for num, w := range want {
		if got[num].String() != w {
			t.Errorf("account %s moved %s, want %s", num, got[num], w)
		}
	}
	if day := e.sb.Balances(realm, "2026-07-15"); len(day) != 2 || day["6000"].String() != "3.1" {
		t.Errorf("balances of 2026-07-15: %v", day)
	}
	// Account balances read back include the transactions; Accounts
	// Receivable is settled.
	if r := e.query("select * from Account where Id = '87'"); !strings.Contains(r.String(), `"CurrentBalance":108.50`) {
		t.Errorf("card clearing: %s", r)
	}
	if r := e.query("select * from Account where Id = '84'"); !strings.Contains(r.String(), `"CurrentBalance":0.00`) {
		t.Errorf("receivable: %s", r)
	}
	r := e.api("GET", "/invoice/"+inv, "")
	if r.status != 200 || !strings.HasPrefix(r.String(), `{"Invoice":{`) || !strings.Contains(r.String(), `"Balance":0.00`) ||
		!strings.Contains(r.String(), `"LinkedTxn":[{"TxnId":"`+payID+`","TxnType":"Payment"}]`) || !strings.Contains(r.String(), `"time":"`+at+`"`) {
		t.Errorf("read the invoice back: %s", r)
	}
	if r := e.query("select * from Invoice where DocNumber = 'INV-1'"); !strings.Contains(r.String(), `"Id":"`+inv+`"`) {
		t.Errorf("invoice by number: %s", r)
	}
	if r := e.query("select * from Payment where TxnDate = '2026-07-14'"); !strings.Contains(r.String(), `"Id":"`+payID+`"`) {
		t.Errorf("payment by date: %s", r)
	}
	// Intuit does not filter payments by DocNumber.
	if r := e.query("select * from Payment where DocNumber = 'x'"); r.status != 400 || !strings.Contains(r.String(), `"code":"4001"`) {
		t.Errorf("payment by number: %s", r)
	}
	// The same requestid replays the first answer (§2.4).
	again := e.api("POST", "/invoice?minorversion=75&requestid=r-1", salesBody("2", "USD", "2026-07-14", itemLine("1", "1.00")))
	if idOf(t, again) != inv || len(e.sb.Transactions(realm)) != 4 {
		t.Errorf("replay: %s", again)
	}
}

// TestTransactionValidation checks each invoice-mode refusal's exact
// envelope.
func TestTransactionValidation(t *testing.T) {
	const biz = "A business validation error has occurred while processing your request"
	const inactive = "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees."
	required := func(name string) string {
		return fault("Required param missing, need to supply the required value for the API", "Required parameter "+name+" is missing in the request", "2020", name)
	}
	bizFault := func(detail string) string { return fault(biz, "Business Validation Error: "+detail, "6000", "") }
	e := newEnv(t, many).login()
	if err := e.sb.UpdateCompany(realm, func(c *sandbox.Company) { c.BookCloseDate = "2026-06-30" }); err != nil {
		t.Fatal(err)
	}
	inv := idOf(t, e.api("POST", "/invoice", salesBody("2", "USD", "2026-07-14", itemLine("1", "10.00"))))
	idOf(t, e.api("POST", "/bill", `{"DocNumber":"B-1","TxnDate":"2026-07-14","VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"Line":[`+expenseLine("54", "1")+`]}`))
	payment := func(deposit, total string, lines ...string) string {
		return `{"TxnDate":"2026-07-14","CustomerRef":{"value":"2"},"CurrencyRef":{"value":"USD"},"DepositToAccountRef":{"value":"` + deposit + `"},"TotalAmt":` + total +
			`,"Line":[` + strings.Join(lines, ",") + `]}`
	}
	cases := []struct {
		name, path, body, want string
	}{
		{"property of another entity", "/invoice", `{"VendorRef":{"value":"30"}}`,
			fault("Request has invalid or unsupported property", "Property Name:VendorRef specified is unsupported or invalid", "2010", "VendorRef")},
		{"no customer", "/invoice", `{"TxnDate":"2026-07-14","CurrencyRef":{"value":"USD"},"Line":[` + itemLine("1", "1") + `]}`, required("CustomerRef")},
		{"inactive customer", "/invoice", salesBody("4", "USD", "2026-07-14", itemLine("1", "1")), fault("Object Not Found", inactive, "610", "")},
		{"unknown item", "/invoice", salesBody("2", "USD", "2026-07-14", itemLine("99", "1")),
			fault("Invalid Reference Id", "Invalid Reference Id : Item element id 99 not found", "2500", "")},
		{"inactive item", "/invoice", salesBody("2", "USD", "2026-07-14", itemLine("6", "1")), fault("Object Not Found", inactive, "610", "")},
		{"amount is not qty times price", "/invoice", salesBody("2", "USD", "2026-07-14",
			`{"Amount":25,"DetailType":"SalesItemLineDetail","SalesItemLineDetail":{"ItemRef":{"value":"1"},"Qty":2,"UnitPrice":10}}`),
			fault("Amount is not equal to UnitPrice * Qty", "Amount is not equal to UnitPrice * Qty. Supplied value:25", "6070", "")},
		{"negative total", "/creditmemo", salesBody("2", "USD", "2026-07-14", itemLine("1", "-5")), bizFault("Transaction total -5.00 cannot be negative.")},
		{"another line type", "/invoice", salesBody("2", "USD", "2026-07-14", `{"Amount":1,"DetailType":"DiscountLineDetail"}`),
			fault("Invalid Enumeration", "Invalid Enumeration : DiscountLineDetail for Line.DetailType", "2170", "Line.DetailType")},
		{"closed period", "/invoice", salesBody("2", "USD", "2026-06-30", itemLine("1", "1")),
			fault("Account Period Closed, Cannot Update Through Services API", "The account period has closed and the account books cannot be updated through the QBO Services API. Please use the QBO website to make these changes.", "6210", "")},
		{"currency not enabled", "/invoice", salesBody("2", "JPY", "2026-07-14", itemLine("1", "1")),
			bizFault("The currency JPY is not enabled for this company.")},
		{"customer in another currency", "/invoice", salesBody("2", "EUR", "2026-07-14", itemLine("1", "1")),
			bizFault("Customer Commerce provider is in USD; a transaction with it must be in USD, not EUR.")},
		{"payment over the open balance", "/payment", payment("87", "10.01", linked("10.01", inv, "Invoice")),
			bizFault("The amount applied to Invoice " + inv + " (10.01) is more than its open balance (10.00).")},
		{"payment applying a bill", "/payment", payment("87", "1", linked("1", inv, "Bill")),
			fault("Invalid Enumeration", "Invalid Enumeration : Bill for Line.LinkedTxn.TxnType", "2170", "Line.LinkedTxn.TxnType")},
		{"payment of an unknown invoice", "/payment", payment("87", "1", linked("1", "999", "Invoice")),
			fault("Invalid Reference Id", "Invalid Reference Id : Invoice element id 999 not found", "2500", "")},
		{"payment total short of what it applies", "/payment", payment("87", "5", linked("10", inv, "Invoice")),
			bizFault("TotalAmt 5.00 does not match the amount applied, 10.00.")},
		{"payment into an expense account", "/payment", payment("54", "1", linked("1", inv, "Invoice")),
			bizFault("A payment is deposited into a bank or other current asset account; Bank fees is not one.")},
		{"payment into an inactive account", "/payment", payment("92", "1", linked("1", inv, "Invoice")), fault("Object Not Found", inactive, "610", "")},
		{"bill payment without PayType", "/billpayment", `{"VendorRef":{"value":"30"},"TotalAmt":1,"Line":[]}`, required("PayType")},
		{"bill payment from a clearing account", "/billpayment", `{"TxnDate":"2026-07-14","VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"PayType":"Check",` +
			`"CheckPayment":{"BankAccountRef":{"value":"87"}},"TotalAmt":1,"Line":[]}`,
			bizFault("A bill paid by Check is paid from a Bank account; Card clearing is of type Other Current Asset.")},
		{"inactive vendor", "/bill", `{"TxnDate":"2026-07-14","VendorRef":{"value":"32"},"CurrencyRef":{"value":"USD"},"Line":[` + expenseLine("54", "1") + `]}`,
			fault("Object Not Found", inactive, "610", "")},
		{"bill line on receivables", "/bill", `{"TxnDate":"2026-07-14","VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"Line":[` + expenseLine("84", "1") + `]}`,
			bizFault("The account Accounts Receivable (A/R) cannot be used on an expense line.")},
		{"duplicate bill number", "/bill", `{"DocNumber":"B-1","TxnDate":"2026-07-14","VendorRef":{"value":"30"},"CurrencyRef":{"value":"USD"},"Line":[` + expenseLine("54", "1") + `]}`,
			fault("Duplicate Document Number Error", "Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=B-1 is assigned to TxnType=Bill with TxnId=142", "6140", "")},
		{"card purchase from a bank account", "/purchase", `{"TxnDate":"2026-07-14","PaymentType":"CreditCard","AccountRef":{"value":"35"},"CurrencyRef":{"value":"USD"},"Line":[` + expenseLine("54", "1") + `]}`,
			bizFault("A credit card purchase needs a credit card account; Checking is not one.")},
		{"deposit into an expense account", "/deposit", `{"TxnDate":"2026-07-14","DepositToAccountRef":{"value":"54"},"CurrencyRef":{"value":"USD"},"Line":[]}`,
			bizFault("Money is deposited into a bank or other current asset account; Bank fees is not one.")},
		{"deposit line on payables without a vendor", "/deposit", `{"TxnDate":"2026-07-14","DepositToAccountRef":{"value":"87"},"CurrencyRef":{"value":"USD"},"Line":[` +
			`{"Amount":1,"DetailType":"DepositLineDetail","DepositLineDetail":{"AccountRef":{"value":"33"}}}]}`,
			bizFault("When you use Accounts Payable, you must select a vendor in the Name field.")},
		{"transfer to an income account", "/transfer", `{"TxnDate":"2026-07-14","FromAccountRef":{"value":"87"},"ToAccountRef":{"value":"79"},"Amount":1}`,
			bizFault("A transfer moves money between asset accounts; Card clearing (Asset) and Sales (Revenue) are not both assets.")},
		{"transfer without an amount", "/transfer", `{"TxnDate":"2026-07-14","FromAccountRef":{"value":"87"},"ToAccountRef":{"value":"35"}}`, required("Amount")},
		{"update", "/invoice", `{"Id":"` + inv + `","SyncToken":"0"}`,
			fault("Unsupported Operation", "Operation update invoice is not supported.", "500", "")},
	}
	for _, c := range cases {
		r := e.api("POST", c.path, c.body)
		if r.status != 400 || r.String() != c.want {
			t.Errorf("%s: %d\n%s\nwant\n%s", c.name, r.status, r, c.want)
		}
	}
	if n := len(e.sb.Transactions(realm)); n != 2 {
		t.Fatalf("%d transactions stored, want the invoice and the bill", n)
	}
}

// A journal entry debiting receivables for a customer is what a payment
// may apply against a credit memo (Codat's refund, codat-sync-for-commerce.md
// §3.2), and a bill payment of zero applies a journal entry debiting
// payables against a bill.
func TestPaymentsApplyJournalEntries(t *testing.T) {
	e := newEnv(t, many).login()
	memo := idOf(t, e.api("POST", "/creditmemo", salesBody("2", "USD", "2026-07-14", itemLine("5", "80.00"))))
	je := func(control, entity, id, money string) string {
		return idOf(t, e.api("POST", "/journalentry", `{"TxnDate":"2026-07-14","CurrencyRef":{"value":"USD"},"Line":[`+
			`{"Amount":30,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit","AccountRef":{"value":"`+control+`"},"Entity":{"Type":"`+entity+`","EntityRef":{"value":"`+id+`"}}}},`+
			`{"Amount":30,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"`+money+`"}}}]}`))
	}
	refund := je("84", "Customer", "2", "89")
	link := `{"TxnDate":"2026-07-14","CustomerRef":{"value":"2"},"CurrencyRef":{"value":"USD"},"TotalAmt":0,"Line":[` +
		linked("30", refund, "JournalEntry") + `,` + linked("30", memo, "CreditMemo") + `]}`
	idOf(t, e.api("POST", "/payment", link))
	// The journal entry is used up.
	if r := e.api("POST", "/payment", link); r.status != 400 || !strings.Contains(r.String(), "is more than its open balance (0.00)") {
		t.Errorf("applied twice: %s", r)
	}
	// Another customer's journal entry has nothing open for this one.
	other := je("84", "Customer", "1", "89")
	if r := e.api("POST", "/payment", strings.Replace(link, refund, other, 1)); r.status != 400 || !strings.Contains(r.String(), "Journal Entry "+other+" has nothing open for Customer 2.") {
		t.Errorf("another customer's entry: %s", r)
	}
	bill := idOf(t, e.api("POST", "/bill", `{"TxnDate":"2026-07-14","VendorRef":{"value":"31"},"CurrencyRef":{"value":"USD"},"Line":[`+expenseLine("54", "30")+`]}`))
	paid := je("33", "Vendor", "31", "87")
	idOf(t, e.api("POST", "/billpayment", `{"TxnDate":"2026-07-14","VendorRef":{"value":"31"},"CurrencyRef":{"value":"USD"},"PayType":"Check",`+
		`"CheckPayment":{"BankAccountRef":{"value":"35"}},"TotalAmt":0,"Line":[`+linked("30", bill, "Bill")+`,`+linked("30", paid, "JournalEntry")+`]}`))
	open := map[string]string{}
	for _, tx := range e.sb.Transactions(realm) {
		open[tx.Type] = tx.Open.String()
	}
	if open["CreditMemo"] != "50" || open["Bill"] != "0" {
		t.Errorf("open balances %v, want the credit memo at 50 and the bill settled", open)
	}
	got := e.sb.Balances(realm, "")
	if _, payables := got["2000"]; got["1030"].String() != "-60" || got["1010"].String() != "-30" || payables {
		t.Errorf("balances %v, want 1030 -60, 1010 -30 and payables at zero", got)
	}
}
