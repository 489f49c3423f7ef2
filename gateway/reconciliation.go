package gateway

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commercesync/commercesync/ledger/reconcile"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Reconciler answers reconciliation questions: the reconciliation store.
type Reconciler interface {
	Accounts(ctx context.Context, tenant, company, from, to string) ([]reconcile.DayAccount, error)
	Days(ctx context.Context, tenant, company, from, to string) ([]reconcile.DayFacts, error)
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
	accts, err := r.Accounts(ctx, c.GetTenantId(), c.GetId(), req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	facts, err := r.Days(ctx, c.GetTenantId(), c.GetId(), req.GetFrom(), req.GetTo())
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
