package gateway

import (
	"fmt"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// codatPaymentTypes are Codat's payment types, each a tender slot.
var codatPaymentTypes = []string{"Card", "Cash", "Invoice", "OnlineCard", "Swish", "Vipps", "Mobile", "StoreCredit", "Paypal", "Custom", "Prepaid", "Unknown"}

// required slots must be mapped before a sync can run.
var requiredSlots = map[string]bool{"sales/sales": true, "payments/card": true, "payments/unsettled": true}

// templateSlots lists every account a journal-mode day can post to.
func templateSlots() []mapping.Slot {
	accts := []day.Account{day.Sales, day.Tax, day.Gratuity, day.Unsettled, day.PaymentFees, day.PaymentFeeRefunds}
	for _, t := range codatPaymentTypes {
		accts = append(accts, day.Tender(t))
	}
	var out []mapping.Slot
	for _, a := range accts {
		if s, err := mapping.SlotOf(a); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// configView is the configuration as GET shows it: the saved selections (or
// a template), with every account slot present and every *Options list
// refreshed from what the platform offers, as Codat's Sync Flow did.
func configView(companyID string, saved *v1.SyncConfiguration, setup *v1.PlatformSetup) *v1.SyncConfiguration {
	var cfg *v1.SyncConfiguration
	if saved != nil {
		cfg = proto.Clone(saved).(*v1.SyncConfiguration)
	} else {
		cfg = &v1.SyncConfiguration{
			CompanyId: companyID,
			Schedule:  &v1.Schedule{SelectedFrequency: "Daily", FrequencyOptions: []string{"Daily"}, TimeZone: "Etc/UTC"},
			Configuration: &v1.CommerceConfiguration{
				MapSettings: &v1.MapSettings{OutputFormat: "JournalEntry"},
			},
		}
	}
	if setup != nil {
		cfg.AccountingSoftwareCompanyName = cfg.GetAccountingSoftwareCompanyName()
	}
	conf := cfg.Configuration
	if conf == nil {
		conf = &v1.CommerceConfiguration{}
		cfg.Configuration = conf
	}
	if conf.Sales == nil {
		conf.Sales = &v1.SalesConfiguration{SyncSales: true}
	}
	if conf.Payments == nil {
		conf.Payments = &v1.PaymentsConfiguration{SyncPayments: true}
	}
	if conf.Fees == nil {
		conf.Fees = &v1.FeesConfiguration{SyncFees: true}
	}
	section := func(name string) map[string]*v1.AccountConfiguration {
		switch name {
		case "sales":
			if conf.Sales.Accounts == nil {
				conf.Sales.Accounts = map[string]*v1.AccountConfiguration{}
			}
			return conf.Sales.Accounts
		case "payments":
			if conf.Payments.Accounts == nil {
				conf.Payments.Accounts = map[string]*v1.AccountConfiguration{}
			}
			return conf.Payments.Accounts
		default:
			if conf.Fees.Accounts == nil {
				conf.Fees.Accounts = map[string]*v1.AccountConfiguration{}
			}
			return conf.Fees.Accounts
		}
	}
	for _, slot := range templateSlots() {
		m := section(slot.Section)
		ac, ok := m[slot.Key]
		if !ok {
			ac = &v1.AccountConfiguration{}
			m[slot.Key] = ac
		}
		if ac.LabelText == nil {
			label := slot.Label
			ac.LabelText = &label
		}
		ac.Required = ac.GetRequired() || requiredSlots[slot.Section+"/"+slot.Key]
		if setup != nil {
			ac.AccountOptions = setup.GetAccounts()
		}
	}
	if setup != nil && conf.GetNewPayments() != nil {
		for _, ac := range conf.NewPayments.GetAccounts() {
			ac.AccountOptions = setup.GetAccounts()
		}
	}
	if setup != nil {
		conf.TrackingOptions = setup.GetTracking()
	}
	if len(setup.GetCustomers()) > 0 {
		if conf.Sales.SalesCustomer == nil {
			conf.Sales.SalesCustomer = &v1.SalesCustomer{}
		}
		conf.Sales.SalesCustomer.CustomerOptions = setup.GetCustomers()
	}
	if len(setup.GetSuppliers()) > 0 {
		if conf.Fees.FeesSupplier == nil {
			conf.Fees.FeesSupplier = &v1.FeesSupplier{}
		}
		conf.Fees.FeesSupplier.SupplierOptions = setup.GetSuppliers()
	}
	if conf.Sales.InvoiceStatus == nil {
		conf.Sales.InvoiceStatus = &v1.InvoiceStatus{SelectedInvoiceStatus: "Submitted"}
	}
	conf.Sales.InvoiceStatus.InvoiceStatusOptions = []string{"Draft", "Submitted"}
	g := conf.Sales.Grouping
	if g == nil {
		g = &v1.Grouping{}
		conf.Sales.Grouping = g
	}
	g.GroupingPeriod = &v1.GroupingPeriod{SelectedGroupingPeriod: "Daily", GroupingPeriodOptions: []string{"Daily"}}
	if g.GroupingLevels == nil {
		g.GroupingLevels = &v1.GroupingLevels{}
	}
	for _, l := range []struct {
		key string
		dst **v1.GroupingLevel
	}{{"invoiceLevel", &g.GroupingLevels.InvoiceLevel}, {"invoiceLineLevel", &g.GroupingLevels.InvoiceLineLevel}} {
		if *l.dst == nil {
			*l.dst = &v1.GroupingLevel{}
		}
		(*l.dst).GroupByOptions = groupByOptions[l.key]
	}
	return cfg
}

// checkAgainstSetup refuses selections the platform does not offer (an
// unknown or archived account).
func checkAgainstSetup(cfg *v1.SyncConfiguration, setup *v1.PlatformSetup) []string {
	offered := map[string]bool{}
	for _, a := range setup.GetAccounts() {
		offered[a.GetId()] = true
	}
	var msgs []string
	conf := cfg.GetConfiguration()
	for _, sec := range []struct {
		name string
		m    map[string]*v1.AccountConfiguration
	}{{"sales", conf.GetSales().GetAccounts()}, {"payments", conf.GetPayments().GetAccounts()},
		{"newPayments", conf.GetNewPayments().GetAccounts()}, {"fees", conf.GetFees().GetAccounts()}} {
		keys := make([]string, 0, len(sec.m))
		for k := range sec.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sel := sec.m[k].GetSelectedAccountId()
			if sel != "" && !offered[sel] {
				msgs = append(msgs, fmt.Sprintf("configuration.%s.accounts.%s.selectedAccountId: Selected Account is not a valid option. "+
					"%q is not an active account of the connected organisation; GET the configuration for the accountOptions.", sec.name, k, sel))
			}
		}
	}
	contact := func(path, sel, what string, options []*v1.Option) {
		if sel == "" || len(options) == 0 {
			return
		}
		for _, o := range options {
			if o.GetId() == sel {
				return
			}
		}
		msgs = append(msgs, fmt.Sprintf("%s: Selected %s is not a valid option. %q is not a %s of the connected organisation; "+
			"GET the configuration for the options.", path, what, sel, what))
	}
	contact(mapping.CustomerPath, conf.GetSales().GetSalesCustomer().GetSelectedCustomerId(), "customer", setup.GetCustomers())
	msgs = append(msgs, checkTracking(conf.GetLocationTracking(), setup.GetTracking())...)
	contact(mapping.SupplierPath, conf.GetFees().GetFeesSupplier().GetSelectedSupplierId(), "supplier", setup.GetSuppliers())
	return msgs
}

// checkTracking refuses a location's tracking the platform does not offer:
// an unknown category or option, or two options of one category.
func checkTracking(byLocation map[string]*v1.LocationTracking, offered []*v1.TrackingCategory) []string {
	var msgs []string
	locations := make([]string, 0, len(byLocation))
	for l := range byLocation {
		locations = append(locations, l)
	}
	sort.Strings(locations)
	for _, l := range locations {
		seen := map[string]bool{}
		for i, r := range byLocation[l].GetTracking() {
			path := fmt.Sprintf("configuration.locationTracking.%s.tracking[%d]", l, i)
			var cat *v1.TrackingCategory
			for _, c := range offered {
				if c.GetId() == r.GetCategoryId() {
					cat = c
				}
			}
			switch {
			case cat == nil:
				msgs = append(msgs, fmt.Sprintf("%s.categoryId: %q is not a tracking category of the connected organisation; GET the configuration for the trackingOptions", path, r.GetCategoryId()))
			case seen[cat.GetId()]:
				msgs = append(msgs, fmt.Sprintf("%s.categoryId: a location takes one option of each tracking category, and %q is named twice", path, cat.GetName()))
			case !slices.ContainsFunc(cat.GetOptions(), func(o *v1.Option) bool { return o.GetId() == r.GetOptionId() }):
				msgs = append(msgs, fmt.Sprintf("%s.optionId: %q is not an active option of %q", path, r.GetOptionId(), cat.GetName()))
			}
			seen[r.GetCategoryId()] = true
		}
	}
	return msgs
}
