package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Sales invoices (spec postSalesInvoices; apis.md §3.2): the document in
// which a Sage business names the currency it sells in, so that is where a
// currency the business has not enabled is refused (apis.md §3.7: foreign
// currencies need financial_settings.multi_currency_enabled; the business
// trades in those it has an exchange rate for, GET /business_exchange_rates).

// SalesInvoice is a stored sales invoice.
type SalesInvoice struct {
	ID, ContactID, Date, Reference, Currency string
	Lines                                    []SalesInvoiceLine
	Total                                    decimal.Decimal
	CreatedAt                                time.Time
}

// SalesInvoiceLine is one line of a sales invoice.
type SalesInvoiceLine struct {
	Description, LedgerAccountID string
	Quantity, UnitPrice, Total   decimal.Decimal
}

type postSalesInvoicesIn struct {
	SalesInvoice *salesInvoiceIn `json:"sales_invoice"`
}

type salesInvoiceIn struct {
	ContactID    *string          `json:"contact_id"`
	Date         *string          `json:"date"`
	DueDate      *string          `json:"due_date"`
	Reference    *string          `json:"reference"`
	CurrencyID   *string          `json:"currency_id"`
	InvoiceLines *[]invoiceLineIn `json:"invoice_lines"`
}

type invoiceLineIn struct {
	Description     *string `json:"description"`
	LedgerAccountID *string `json:"ledger_account_id"`
	Quantity        *amount `json:"quantity"`
	UnitPrice       *amount `json:"unit_price"`
	TaxRateID       *string `json:"tax_rate_id"`
	TaxAmount       *amount `json:"tax_amount"`
}

// createSalesInvoice handles POST /sales_invoices: required contact_id,
// date and invoice_lines[].{description, ledger_account_id, unit_price}
// (apis.md §3.2), the lockdown date, active ledger accounts, 2 decimal
// places, and a currency the business has enabled. Every problem is
// reported at once in the 422 array of apis.md §3.5.
func (s *Server) createSalesInvoice(req *apiRequest) apiResponse {
	var in postSalesInvoicesIn
	if err := json.NewDecoder(bytes.NewReader(req.body)).Decode(&in); err != nil {
		return invalid(sageError{Severity: "error", DataCode: "ValidationError", Message: "The request body is not valid JSON: " + err.Error(), Source: "base"})
	}
	if in.SalesInvoice == nil {
		return invalid(required("sales_invoice"))
	}
	si := in.SalesInvoice
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.businesses[req.businessID]
	m := s.rules.Messages
	var errs []sageError
	inv := SalesInvoice{Reference: deref(si.Reference), Currency: b.BaseCurrency}

	if si.ContactID == nil || *si.ContactID == "" {
		errs = append(errs, required("contact_id"))
	} else if c := b.contact(*si.ContactID); c == nil {
		// apis.md §3.5: [{"$severity":"error","$message":"Contact not found","$dataCode":"ResourceNotFound"}].
		return notFound("Contact not found")
	} else {
		inv.ContactID = c.ID
	}
	if si.Date == nil || *si.Date == "" {
		errs = append(errs, required("date"))
	} else if d, err := time.Parse(time.DateOnly, *si.Date); err != nil {
		errs = append(errs, recordInvalid("date", m.InvalidDate))
	} else {
		inv.Date = d.Format(time.DateOnly)
		if lock, err := time.Parse(time.DateOnly, b.YearEndLockdownDate); err == nil && !d.After(lock) {
			errs = append(errs, recordInvalid("date", expand(m.LockedDate, "{date}", *si.Date, "{lock_date}", b.YearEndLockdownDate)))
		}
	}
	if c := deref(si.CurrencyID); c != "" && c != b.BaseCurrency {
		// apis.md §3.7: foreign currencies need multi_currency_enabled; the
		// business trades in those with an exchange rate. Text [UNVERIFIED] §3.5.
		if _, rated := b.ExchangeRates[c]; !b.MultiCurrencyEnabled || !rated {
			errs = append(errs, recordInvalid("currency_id", expand(m.CurrencyNotEnabled, "{currency}", c)))
		}
		inv.Currency = c
	}
	if si.InvoiceLines == nil || len(*si.InvoiceLines) == 0 {
		errs = append(errs, required("invoice_lines"))
	} else {
		for _, l := range *si.InvoiceLines {
			line := SalesInvoiceLine{Description: deref(l.Description), Quantity: decimal.NewFromInt(1)}
			if line.Description == "" {
				errs = append(errs, required("invoice_lines.description"))
			}
			if l.Quantity != nil && l.Quantity.ok {
				line.Quantity = decimal.RequireFromString(l.Quantity.text)
			}
			switch {
			case l.UnitPrice == nil || l.UnitPrice.text == "":
				errs = append(errs, required("invoice_lines.unit_price"))
			case !l.UnitPrice.ok:
				errs = append(errs, recordInvalid("invoice_lines.unit_price", "This field is not a valid number."))
			default:
				line.UnitPrice = decimal.RequireFromString(l.UnitPrice.text)
				if !line.UnitPrice.Equal(line.UnitPrice.Round(2)) {
					errs = append(errs, recordInvalid("invoice_lines.unit_price", m.DecimalPlaces))
				}
			}
			switch a := b.ledgerAccount(deref(l.LedgerAccountID)); {
			case deref(l.LedgerAccountID) == "":
				errs = append(errs, required("invoice_lines.ledger_account_id"))
			case a == nil:
				return notFound(m.UnknownAccount)
			case a.Inactive:
				errs = append(errs, recordInvalid("invoice_lines.ledger_account_id",
					expand(m.InactiveAccount, "{ledger_account}", a.Name, "{nominal_code}", strconv.Itoa(a.NominalCode))))
			default:
				line.LedgerAccountID = a.ID
			}
			line.Total = line.Quantity.Mul(line.UnitPrice).Round(2)
			inv.Total = inv.Total.Add(line.Total)
			inv.Lines = append(inv.Lines, line)
		}
	}
	if len(errs) > 0 {
		return invalid(errs...)
	}
	inv.ID, inv.CreatedAt = newID(), req.now
	b.invoices = append(b.invoices, &inv)
	return jsonResponse(http.StatusCreated, object{
		{"id", inv.ID}, {"displayed_as", inv.Reference}, {"$path", "/sales_invoices/" + inv.ID},
		{"date", inv.Date}, {"reference", inv.Reference}, {"currency", currencyRef(inv.Currency)},
		{"total_amount", json.RawMessage(inv.Total.StringFixed(2))}, {"outstanding_amount", json.RawMessage(inv.Total.StringFixed(2))},
		{"created_at", timestamp(inv.CreatedAt)},
	})
}

func (b *business) contact(id string) *Contact {
	for i := range b.Contacts {
		if b.Contacts[i].ID == id {
			return &b.Contacts[i]
		}
	}
	return nil
}

// SalesInvoices returns copies of a business's sales invoices, for tests.
func (s *Server) SalesInvoices(businessID string) []SalesInvoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SalesInvoice
	if b := s.businesses[businessID]; b != nil {
		for _, inv := range b.invoices {
			c := *inv
			c.Lines = append([]SalesInvoiceLine(nil), inv.Lines...)
			out = append(out, c)
		}
	}
	return out
}
