package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Invoices (POST /v2/invoices, apis.md §5.2): the document in which a
// FreeAgent company names the currency it sells in ("Invoices take
// currency + exchange_rate", §5.7), so that is where a currency the company
// does not invoice in is refused (§6.4). New invoices are Draft (§5.2).

// Contact is a customer or supplier of the company; FreeAgent does not
// type contacts, so one contact can be either (GET /v2/contacts, see
// contacts.go).
type Contact struct {
	ID int // numbered from 1 when zero
	// Organisation is organisation_name; a person without one is named by
	// FirstName and LastName. The attribute names come from FreeAgent's
	// contacts page and are not in the reference (apis.md §5.2 shows only a
	// contact's URL).
	Organisation        string
	FirstName, LastName string
}

// Invoice is a stored invoice.
type Invoice struct {
	ID                                   int
	ContactID                            int
	DatedOn, Reference, Currency, Status string
	Items                                []InvoiceItem
	NetValue                             decimal.Decimal
	CreatedAt                            time.Time
}

// InvoiceItem is one item of an invoice.
type InvoiceItem struct {
	Description, Category string
	Quantity, Price       decimal.Decimal
}

type invoiceIn struct {
	Invoice *struct {
		Contact      string `json:"contact"`
		DatedOn      string `json:"dated_on"`
		Reference    string `json:"reference"`
		Currency     string `json:"currency"`
		InvoiceItems []struct {
			ItemType    string      `json:"item_type"`
			Description string      `json:"description"`
			Quantity    decimalText `json:"quantity"`
			Price       decimalText `json:"price"`
			Category    string      `json:"category"`
		} `json:"invoice_items"`
	} `json:"invoice"`
}

// createInvoice is POST /v2/invoices. Validation answers the 422 list form
// of apis.md §5.5 ("Contact is required", "Dated on can't be blank"); a
// contact or category that does not exist is "Resource not found".
func (s *Server) createInvoice(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[req.subdomain]
	if !s.allowed(req, levelAccounting) {
		return s.forbidden()
	}
	var in invoiceIn
	if err := json.Unmarshal(req.body, &in); err != nil {
		return jsonResponse(http.StatusBadRequest, nested("The request body is not valid JSON: "+err.Error()))
	}
	if in.Invoice == nil {
		return jsonResponse(http.StatusBadRequest, nested(s.msg.MissingInvoiceRoot))
	}
	iv := in.Invoice
	inv := &Invoice{DatedOn: iv.DatedOn, Reference: iv.Reference, Currency: c.Currency, Status: "Draft"}
	var errs []string
	if strings.TrimSpace(iv.Contact) == "" {
		errs = append(errs, s.msg.ContactRequired)
	} else {
		id, ok := refID(iv.Contact, "/v2/contacts/")
		if !ok || c.contact(id) == nil {
			return s.notFound()
		}
		inv.ContactID = id
	}
	if iv.DatedOn == "" {
		errs = append(errs, s.msg.DatedOnBlank)
	} else if d, err := time.Parse(time.DateOnly, iv.DatedOn); err != nil {
		return jsonResponse(http.StatusUnprocessableEntity, keyedErrors{Errors: map[string][]string{"dated_on": {s.msg.DatedOnInvalid}}})
	} else if lock := c.lockedTo(); lock != "" && d.Format(time.DateOnly) <= lock {
		errs = append(errs, s.msg.LockedPeriod)
	}
	if cur := strings.ToUpper(iv.Currency); cur != "" && cur != c.Currency {
		if !c.invoices(cur) {
			errs = append(errs, fmt.Sprintf(s.msg.CurrencyNotEnabled, cur))
		}
		inv.Currency = cur
	}
	if len(iv.InvoiceItems) == 0 {
		errs = append(errs, s.msg.InvoiceItemsBlank)
	}
	for _, it := range iv.InvoiceItems {
		item := InvoiceItem{Description: it.Description, Quantity: decimal.NewFromInt(1)}
		if it.Category != "" {
			code, ok := categoryCode(it.Category)
			if cat := c.category(code); !ok || cat == nil || cat.Hidden {
				return s.notFound()
			}
			item.Category = code
		}
		if it.Quantity.set && it.Quantity.text != "" {
			q, err := decimal.NewFromString(it.Quantity.text)
			if err != nil {
				errs = append(errs, fmt.Sprintf(s.msg.ValueInvalid, "quantity", strconv.Quote(it.Quantity.text)))
				continue
			}
			item.Quantity = q
		}
		p, err := decimal.NewFromString(it.Price.text)
		switch {
		case !it.Price.set || it.Price.text == "":
			errs = append(errs, s.msg.PriceBlank)
		case err != nil:
			errs = append(errs, fmt.Sprintf(s.msg.ValueInvalid, "price", strconv.Quote(it.Price.text)))
		case !p.Equal(p.Round(2)):
			errs = append(errs, fmt.Sprintf(s.msg.DecimalPlaces, it.Price.text))
		default:
			item.Price = p
		}
		inv.NetValue = inv.NetValue.Add(item.Quantity.Mul(item.Price).Round(2))
		inv.Items = append(inv.Items, item)
	}
	if len(errs) > 0 {
		out := listErrors{Errors: make([]errorMessage, len(errs))}
		for i, e := range errs {
			out.Errors[i] = errorMessage{e}
		}
		return jsonResponse(http.StatusUnprocessableEntity, out)
	}
	c.nextInvoice++
	inv.ID, inv.CreatedAt = c.nextInvoice, req.now
	c.invoiceList = append(c.invoiceList, inv)
	resp := jsonResponse(http.StatusCreated, map[string]any{"invoice": map[string]any{
		"url": fmt.Sprintf("%s/invoices/%d", req.base, inv.ID), "contact": fmt.Sprintf("%s/contacts/%d", req.base, inv.ContactID),
		"dated_on": inv.DatedOn, "reference": inv.Reference, "currency": inv.Currency, "status": inv.Status,
		"net_value": inv.NetValue.StringFixed(2), "created_at": inv.CreatedAt.UTC().Format(time.RFC3339),
	}})
	resp.header.Set("Location", fmt.Sprintf("%s/invoices/%d", req.base, inv.ID))
	return resp
}

// refID reads the numeric id at the end of a resource URL such as
// https://api.freeagent.com/v2/contacts/123 (apis.md §5.2: references are
// full resource URLs).
func refID(ref, prefix string) (int, bool) {
	i := strings.LastIndex(ref, prefix)
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(ref[i+len(prefix):])
	return n, err == nil && n > 0
}

func (c *company) contact(id int) *Contact {
	for i := range c.Contacts {
		if c.Contacts[i].ID == id {
			return &c.Contacts[i]
		}
	}
	return nil
}

// invoices reports whether the company invoices in a foreign currency.
func (c *company) invoices(cur string) bool {
	for _, x := range c.InvoiceCurrencies {
		if strings.EqualFold(x, cur) {
			return true
		}
	}
	return false
}

// Invoices returns copies of a company's invoices, for tests.
func (s *Server) Invoices(subdomain string) []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	if c := s.companies[subdomain]; c != nil {
		for _, inv := range c.invoiceList {
			cp := *inv
			cp.Items = append([]InvoiceItem(nil), inv.Items...)
			out = append(out, cp)
		}
	}
	return out
}
