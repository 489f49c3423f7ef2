package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/commercesync/commercesync/connectors/sage/sandbox"
)

// Setup reads the currencies a business trades in from GET
// /business_exchange_rates (apis.md §3.7), paged like every list.
func TestBusinessExchangeRatesPaged(t *testing.T) {
	biz := sandbox.Business{ID: "5d40342d0287cd6b13555c54afca6c95", Name: "Rates", BaseCurrency: "EUR", MultiCurrencyEnabled: true,
		ExchangeRates: map[string]string{"USD": "1.0850", "GBP": "0.8550", "CHF": "0.9400"}}
	e := newEnv(t, sandbox.WithBusiness(biz))
	items, pages := e.all("/business_exchange_rates?items_per_page=2&attributes=currency", "X-Business", biz.ID)
	if len(items) != 3 || len(pages) != 2 || pages[0].Total != 3 || *pages[0].Next != "/business_exchange_rates?attributes=currency&items_per_page=2&page=2" {
		t.Fatalf("%d rates on %d pages: %+v", len(items), len(pages), pages[0])
	}
	if want := `{"id":"CHF","displayed_as":"CHF","$path":"/business_exchange_rates/CHF","currency":{"id":"CHF","displayed_as":"Swiss Franc (CHF)","$path":"/currencies/CHF"}}`; string(items[0]) != want {
		t.Fatalf("first rate %s\nwant %s", items[0], want)
	}
	e.expect(e.api(http.MethodGet, "/business_exchange_rates?items_per_page=x", "", "X-Business", biz.ID), 422,
		`[{"$severity":"error","$dataCode":"RecordInvalid","$message":"This field is not a valid integer.","$source":"items_per_page"}]`)
}
