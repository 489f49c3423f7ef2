package gateway

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// WithQuarantine serves the quarantine route and names quarantined records
// and days in the sync status.
func WithQuarantine(q *view.Quarantine) Option { return func(s *Server) { s.quarantine = q } }

// WithExceptions serves the list of every record a day counts without its
// money.
func WithExceptions(x *view.Exceptions) Option { return func(s *Server) { s.exceptions = x } }

// Page sizes of the list routes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
	// statusErrors is how many quarantine entries the status names.
	statusErrors = 10
)

// page cuts one page out of n items: the start index and the token of the
// next page ("" at the end).
func page(n int, size int32, token string) (int, int, string, error) {
	if size < 0 || size > maxPageSize {
		return 0, 0, "", status.Errorf(codes.InvalidArgument, "pageSize: %d is out of range; use 1 to %d (default %d)", size, maxPageSize, defaultPageSize)
	}
	if size == 0 {
		size = defaultPageSize
	}
	start := 0
	if token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 || v > n {
			return 0, 0, "", status.Errorf(codes.InvalidArgument, "pageToken: %q is not a token this list gave; start again without it", token)
		}
		start = v
	}
	end := min(start+int(size), n)
	next := ""
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

// ListQuarantine lists what of the company could not be processed, oldest
// first.
func (s *Server) ListQuarantine(ctx context.Context, req *v1.ListQuarantineRequest) (*v1.ListQuarantineResponse, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	out := &v1.ListQuarantineResponse{}
	if s.quarantine == nil {
		return out, nil
	}
	entries, _ := s.quarantine.Company(c.GetId())
	start, end, next, err := page(len(entries), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out.Entries, out.NextPageToken = entries[start:end], next
	return out, nil
}

// ListDayExceptions lists every record of a business day counted without
// its money, beyond the first ones its summary names.
func (s *Server) ListDayExceptions(ctx context.Context, req *v1.ListDayExceptionsRequest) (*v1.ListDayExceptionsResponse, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	if _, err := time.Parse(day.DayLayout, req.GetBusinessDay()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "businessDay: %q is not a date; use YYYY-MM-DD", req.GetBusinessDay())
	}
	out := &v1.ListDayExceptionsResponse{}
	if s.exceptions == nil {
		return out, nil
	}
	all := s.exceptions.Day(c.GetId(), req.GetBusinessDay())
	start, end, next, err := page(len(all), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out.Exceptions, out.NextPageToken = all[start:end], next
	return out, nil
}

// quarantineStatus names the company's newest quarantine entries in the
// status, in Codat's error shape, and returns the message of the newest.
func (s *Server) quarantineStatus(companyID string, st *v1.SyncStatus) string {
	if s.quarantine == nil {
		return ""
	}
	entries, total := s.quarantine.Company(companyID)
	st.Quarantined = int32(total)
	for i := len(entries) - 1; i >= 0 && len(st.Errors) < statusErrors; i-- {
		e := entries[i]
		st.Errors = append(st.Errors, &v1.SyncError{
			StatusCode: 5120, StatusText: "DataProcessingError", ErrorMessage: e.GetReason(),
			ErroredOnUtc: time.UnixMilli(e.GetQuarantinedUnixMs()).UTC().Format(time.RFC3339),
			Stage:        e.GetStage(), RecordId: e.GetRecordId(), BusinessDay: e.GetBusinessDay(), QuarantineId: e.GetId(),
		})
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%d record(s) or day(s) could not be processed and are held in quarantine; GET /v1/companies/%s/quarantine lists them. Newest: %s",
		total, companyID, entries[len(entries)-1].GetReason())
}
