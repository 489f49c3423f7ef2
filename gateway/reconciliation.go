package gateway

import (
	"context"
	"errors"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/reconcile"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Reconciler answers reconciliation questions: the reconciliation store.
// Month returns, for a company's range of days, the sums per day and
// account from each source and what each says of the day apart from money.
type Reconciler interface {
	Month(ctx context.Context, tenant, company, from, to string) ([]reconcile.DayAccount, []reconcile.DayFacts, error)
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

// GetReconciliation compares the records, the ledger and the platform day
// by day.
func (s *Server) GetReconciliation(ctx context.Context, req *v1.GetReconciliationRequest) (*v1.Reconciliation, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	if err := reconcile.CheckRange(req.GetFrom(), req.GetTo()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	r, err := s.reconciler()
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

// ExceptionsLister lists what does not reconcile across a tenant's
// companies; a Reconciler that also lists them serves
// ListReconciliationExceptions.
type ExceptionsLister interface {
	Exceptions(ctx context.Context, tenant, unsettledBefore string) ([]reconcile.Exception, bool, error)
}

// Limits of ListReconciliationExceptions.
const (
	defaultExceptionsPage = 100
	maxExceptionsPage     = 1000
	defaultUnsettledDays  = 7
	maxUnsettledDays      = 3650
)

// ListReconciliationExceptions lists, a page at a time, what does not
// reconcile across the caller's companies.
func (s *Server) ListReconciliationExceptions(ctx context.Context, req *v1.ListReconciliationExceptionsRequest) (*v1.ListReconciliationExceptionsResponse, error) {
	size := int(req.GetPageSize())
	switch {
	case size == 0:
		size = defaultExceptionsPage
	case size < 0 || size > maxExceptionsPage:
		return nil, status.Errorf(codes.InvalidArgument, "pageSize %d: use 1 to %d", size, maxExceptionsPage)
	}
	age := int(req.GetUnsettledOlderThanDays())
	switch {
	case age == 0:
		age = defaultUnsettledDays
	case age < 0 || age > maxUnsettledDays:
		return nil, status.Errorf(codes.InvalidArgument, "unsettledOlderThanDays %d: use 1 to %d", age, maxUnsettledDays)
	}
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "pageToken %q: send back the nextPageToken of the previous page", tok)
		}
		start = n
	}
	r, err := s.reconciler()
	if err != nil {
		return nil, err
	}
	lister, ok := r.(ExceptionsLister)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this reconciliation store lists no exceptions")
	}
	before := s.now().UTC().AddDate(0, 0, -age+1).Format(day.DayLayout)
	all, cut, err := lister.Exceptions(ctx, tenantFrom(ctx), before)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	out := &v1.ListReconciliationExceptionsResponse{Truncated: cut}
	end := min(start+size, len(all))
	for _, e := range all[min(start, len(all)):end] {
		pe := &v1.ReconciliationException{Kind: string(e.Kind), CompanyId: e.CompanyID, BusinessDay: e.Day, Currency: e.Currency,
			Location: e.Location, RecordId: e.RecordID, DocumentId: e.DocumentID, Revision: e.Revision, Message: e.Message}
		if e.Kind == reconcile.UnsettledBalance {
			pe.Amount = e.Amount.String()
		}
		out.Exceptions = append(out.Exceptions, pe)
	}
	if end < len(all) {
		out.NextPageToken = strconv.Itoa(end)
	}
	return out, nil
}

// PayoutReconciler compares payouts with what they settle; a Reconciler
// that also does serves GetPayoutReconciliation.
type PayoutReconciler interface {
	Payouts(ctx context.Context, tenant, company, from, to string) ([]reconcile.Payout, bool, error)
}

// GetPayoutReconciliation compares each payout of a range with the
// payments, refunds and fees it settles.
func (s *Server) GetPayoutReconciliation(ctx context.Context, req *v1.GetPayoutReconciliationRequest) (*v1.PayoutReconciliation, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	if err := reconcile.CheckRange(req.GetFrom(), req.GetTo()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	r, err := s.reconciler()
	if err != nil {
		return nil, err
	}
	pr, ok := r.(PayoutReconciler)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this reconciliation store compares no payouts")
	}
	ps, cut, err := pr.Payouts(ctx, c.GetTenantId(), c.GetId(), req.GetFrom(), req.GetTo())
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
