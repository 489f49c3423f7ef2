package gateway

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/reconcile"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Reconciler answers reconciliation questions: the reconciliation store.
type Reconciler interface {
	// Month returns, for a company's range of days, the sums per day and
	// account from each source and what each says of the day apart from
	// money.
	Month(ctx context.Context, tenant, company, from, to string) ([]reconcile.DayAccount, []reconcile.DayFacts, error)
	// Payouts compares the range's payouts with what they settle; cut says
	// the range held more than one answer lists.
	Payouts(ctx context.Context, tenant, company, from, to string) ([]reconcile.Payout, bool, error)
	// DayRecords lists the records a day counts now.
	DayRecords(ctx context.Context, tenant, company, day, currency, location string) ([]reconcile.DayRecord, bool, error)
	// Exceptions lists what does not reconcile across a tenant's companies.
	Exceptions(ctx context.Context, tenant, unsettledBefore string) ([]reconcile.Exception, bool, error)
}

// WithReconciliation answers reconciliation from r. With r nil the routes
// answer Unavailable with off, the reason there is none.
func WithReconciliation(r Reconciler, off string) Option {
	return func(s *Server) { s.recon, s.reconOff = r, off }
}

func (s *Server) reconciler() (Reconciler, error) {
	if s.recon != nil {
		return s.recon, nil
	}
	off := s.reconOff
	if off == "" {
		off = "reconciliation is off: this deployment runs no reconciliation store (set CLICKHOUSE_ADDR)"
	}
	return nil, status.Error(codes.Unavailable, off)
}

// companyRange resolves the caller's company, checks a range of its days
// and finds the store: what every company question asks first.
func (s *Server) companyRange(ctx context.Context, id, from, to string) (*v1.Company, Reconciler, error) {
	c, err := company(ctx, s.store, id)
	if err != nil {
		return nil, nil, err
	}
	if err := reconcile.CheckRange(from, to); err != nil {
		return nil, nil, status.Error(codes.InvalidArgument, err.Error())
	}
	r, err := s.reconciler()
	if err != nil {
		return nil, nil, err
	}
	return c, r, nil
}

// GetReconciliation compares the records, the ledger and the platform day
// by day.
func (s *Server) GetReconciliation(ctx context.Context, req *v1.GetReconciliationRequest) (*v1.Reconciliation, error) {
	c, r, err := s.companyRange(ctx, req.GetCompanyId(), req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	accts, facts, err := r.Month(ctx, c.GetTenantId(), c.GetId(), req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	out := &v1.Reconciliation{CompanyId: c.GetId(), From: req.GetFrom(), To: req.GetTo()}
	for _, d := range reconcile.Report(accts, facts) {
		pd := &v1.ReconciliationDay{BusinessDay: d.Day, Currency: d.Currency, Location: d.Location, Status: string(d.Status), Reason: d.Reason,
			Records: d.Facts.Records, LedgerRecords: d.Facts.LedgerRecords, Revisions: d.Facts.Revisions, ExceptionCount: d.Facts.ExceptionCount,
			DocumentsConfirmed: d.Facts.Confirmed, DocumentsFailed: d.Facts.Failed, DocumentsWaiting: d.Facts.Waiting}
		for _, l := range d.Lines {
			pd.Lines = append(pd.Lines, &v1.ReconciliationLine{Category: string(l.Category), Account: l.Account,
				Commerce: l.Commerce.String(), Ledger: l.Ledger.String(), Platform: l.Platform.String(),
				Difference: l.Difference.String(), Status: string(l.Status)})
		}
		out.Days = append(out.Days, pd)
	}
	return out, nil
}

// storeError hides the store's own words from callers, logging them.
func (s *Server) storeError(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(ctx.Err()).Err()
	}
	s.log.Error("reconciliation store", "err", err)
	return status.Error(codes.Unavailable, "the reconciliation store did not answer; try again shortly")
}

// Limits of ListReconciliationExceptions.
const (
	defaultUnsettledDays = 7
	maxUnsettledDays     = 3650
)

// ListReconciliationExceptions lists, a page at a time, what does not
// reconcile across the caller's companies.
func (s *Server) ListReconciliationExceptions(ctx context.Context, req *v1.ListReconciliationExceptionsRequest) (*v1.ListReconciliationExceptionsResponse, error) {
	// Checked before the store is asked; the page is cut once the list is in.
	if _, _, _, err := page(math.MaxInt32, req.GetPageSize(), req.GetPageToken()); err != nil {
		return nil, err
	}
	age := int(req.GetUnsettledOlderThanDays())
	switch {
	case age == 0:
		age = defaultUnsettledDays
	case age < 0 || age > maxUnsettledDays:
		return nil, status.Errorf(codes.InvalidArgument, "unsettledOlderThanDays %d: use 1 to %d", age, maxUnsettledDays)
	}
	r, err := s.reconciler()
	if err != nil {
		return nil, err
	}
	before := s.now().UTC().AddDate(0, 0, -age+1).Format(day.DayLayout)
	all, cut, err := r.Exceptions(ctx, tenantFrom(ctx), before)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	start, end, next, err := page(len(all), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &v1.ListReconciliationExceptionsResponse{Truncated: cut, NextPageToken: next}
	for _, e := range all[start:end] {
		pe := &v1.ReconciliationException{Kind: string(e.Kind), CompanyId: e.CompanyID, BusinessDay: e.Day, Currency: e.Currency,
			Location: e.Location, RecordId: e.RecordID, DocumentId: e.DocumentID, Revision: e.Revision, Message: e.Message}
		if e.Kind == reconcile.UnsettledBalance {
			pe.Amount = e.Amount.String()
		}
		out.Exceptions = append(out.Exceptions, pe)
	}
	return out, nil
}

// GetPayoutReconciliation compares each payout of a range with the
// payments, refunds and fees it settles.
func (s *Server) GetPayoutReconciliation(ctx context.Context, req *v1.GetPayoutReconciliationRequest) (*v1.PayoutReconciliation, error) {
	c, r, err := s.companyRange(ctx, req.GetCompanyId(), req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	ps, cut, err := r.Payouts(ctx, c.GetTenantId(), c.GetId(), req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	out := &v1.PayoutReconciliation{CompanyId: c.GetId(), From: req.GetFrom(), To: req.GetTo(), Truncated: cut}
	for _, p := range ps {
		out.Payouts = append(out.Payouts, &v1.ReconciledPayout{PayoutId: p.PayoutID, BusinessDay: p.Day, Currency: p.Currency,
			PaidOut: p.PaidOut.String(), Payments: p.Payments.String(), Refunds: p.Refunds.String(), Fees: p.Fees.String(),
			Expected: p.Expected.String(), Difference: p.Difference.String(), Settled: int32(p.Settled), MissingPayments: p.Missing,
			Status: string(p.Status), Reason: p.Reason})
	}
	return out, nil
}

// ListReconciliationRecords lists, a page at a time, the records a day
// counts now with what each moves on each account.
func (s *Server) ListReconciliationRecords(ctx context.Context, req *v1.ListReconciliationRecordsRequest) (*v1.ListReconciliationRecordsResponse, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	if err := reconcile.CheckRange(req.GetBusinessDay(), req.GetBusinessDay()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "businessDay %q: send a date as YYYY-MM-DD", req.GetBusinessDay())
	}
	if req.GetCurrency() == "" {
		return nil, status.Error(codes.InvalidArgument, "currency: name the day's currency (as the reconciliation lists it), e.g. ?currency=USD")
	}
	if _, _, _, err := page(math.MaxInt32, req.GetPageSize(), req.GetPageToken()); err != nil {
		return nil, err
	}
	r, err := s.reconciler()
	if err != nil {
		return nil, err
	}
	recs, cut, err := r.DayRecords(ctx, c.GetTenantId(), c.GetId(), req.GetBusinessDay(), req.GetCurrency(), req.GetLocation())
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	start, end, next, err := page(len(recs), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &v1.ListReconciliationRecordsResponse{Truncated: cut, NextPageToken: next}
	for _, rec := range recs[start:end] {
		pr := &v1.ReconciledRecord{Kind: rec.Kind, TransactionType: rec.Type, RecordId: rec.RecordID, Exception: rec.Exception}
		for _, l := range rec.Lines {
			cat := reconcile.Classify(l.Account)
			pr.Lines = append(pr.Lines, &v1.ReconciledRecordLine{Category: string(cat), Account: l.Account, Amount: reconcile.Reported(cat, l.Amount).String()})
		}
		out.Records = append(out.Records, pr)
	}
	return out, nil
}

// reconciliationCSVPath serves a company's reconciliation as CSV, one row
// per day and account, for a spreadsheet.
const reconciliationCSVPath = "/v1/companies/{companyId}/reconciliation.csv"

// reconciliationCSV answers GET …/reconciliation.csv?from=&to= with what
// GetReconciliation answers, flattened. It needs the read scope.
func (s *Server) reconciliationCSV(w http.ResponseWriter, r *http.Request) {
	tenant, err := s.authorize(r.Context(), r.Header.Get("Authorization"), v1.Scope_SCOPE_READ)
	if err != nil {
		restError(w, httpStatus(err), err)
		return
	}
	ctx := context.WithValue(r.Context(), tenantKey{}, tenant)
	q := r.URL.Query()
	rec, err := s.GetReconciliation(ctx, &v1.GetReconciliationRequest{CompanyId: r.PathValue("companyId"), From: q.Get("from"), To: q.Get("to")})
	if err != nil {
		restError(w, httpStatus(err), err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="reconciliation-%s-%s.csv"`, rec.GetFrom(), rec.GetTo()))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"business_day", "currency", "location", "day_status", "day_reason", "category", "account",
		"records", "ledger", "platform", "difference", "status"})
	for _, d := range rec.GetDays() {
		if len(d.GetLines()) == 0 {
			_ = cw.Write([]string{d.GetBusinessDay(), d.GetCurrency(), cell(d.GetLocation()), d.GetStatus(), cell(d.GetReason()), "", "", "", "", "", "", ""})
		}
		for _, l := range d.GetLines() {
			_ = cw.Write([]string{d.GetBusinessDay(), d.GetCurrency(), cell(d.GetLocation()), d.GetStatus(), cell(d.GetReason()),
				l.GetCategory(), cell(l.GetAccount()), l.GetCommerce(), l.GetLedger(), l.GetPlatform(), l.GetDifference(), l.GetStatus()})
		}
	}
	cw.Flush()
}

// cell keeps text a spreadsheet would run as a formula (a category named
// "=HYPERLINK(…)") as text.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
