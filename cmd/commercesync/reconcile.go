package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// reconcileFlags are the settings of `commercesync reconcile`.
type reconcileFlags struct {
	base, company, from, to *string
	accounts, payouts, exc  *bool
	unsettledDays           *int
	asJSON                  *bool
}

func newReconcileFlags(stderr io.Writer) (*flag.FlagSet, *reconcileFlags) {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &reconcileFlags{
		base:          fs.String("url", "http://127.0.0.1:8080", "the gateway's REST address"),
		company:       fs.String("company", "", "the company to reconcile (not needed with -exceptions)"),
		from:          fs.String("from", "", "first business day, YYYY-MM-DD (default: the first of last month)"),
		to:            fs.String("to", "", "last business day, YYYY-MM-DD (default: the last of last month)"),
		accounts:      fs.Bool("accounts", false, "print each day's accounts from the three sources, not only the day"),
		payouts:       fs.Bool("payouts", false, "print the payouts of the range against what they settle"),
		exc:           fs.Bool("exceptions", false, "print what does not reconcile across all of the key's companies"),
		unsettledDays: fs.Int("unsettled-days", 7, "with -exceptions: list unsettled money at least this many days old"),
		asJSON:        fs.Bool("json", false, "print the API's answers as JSON"),
	}
	return fs, f
}

// runReconcile prints a company's reconciliation, its payouts, or the
// tenant's exceptions, from the gateway's API.
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs, f := newReconcileFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key := strings.TrimSpace(os.Getenv("COMMERCESYNC_API_KEY"))
	if key == "" {
		return errors.New("reconcile: set COMMERCESYNC_API_KEY to a key with the read scope (commercesync dev prints one)")
	}
	c := &adminClient{base: strings.TrimRight(*f.base, "/"), token: key, http: &http.Client{Timeout: 60 * time.Second}, who: "reconcile"}
	out := &adminOut{w: stdout, json: *f.asJSON}
	if *f.exc {
		return reconcileExceptions(ctx, c, out, *f.unsettledDays)
	}
	if *f.company == "" {
		return errors.New("reconcile: name the company with -company, or ask for -exceptions")
	}
	from, to := *f.from, *f.to
	if from == "" || to == "" {
		first := time.Date(now().Year(), now().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		if from == "" {
			from = first.Format(time.DateOnly)
		}
		if to == "" {
			to = first.AddDate(0, 1, -1).Format(time.DateOnly)
		}
	}
	q := "?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)
	base := "/v1/companies/" + url.PathEscape(*f.company) + "/reconciliation"
	if *f.payouts {
		var p v1.PayoutReconciliation
		if err := c.call(ctx, http.MethodGet, base+"/payouts"+q, nil, &p); err != nil {
			return err
		}
		return out.print(&p, func(w io.Writer) {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PAYOUT\tDAY\tCUR\tPAID OUT\tPAYMENTS\tREFUNDS\tFEES\tEXPECTED\tDIFFERENCE\tSTATUS\tREASON")
			for _, x := range p.GetPayouts() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.GetPayoutId(), x.GetBusinessDay(), x.GetCurrency(), x.GetPaidOut(),
					x.GetPayments(), x.GetRefunds(), x.GetFees(), x.GetExpected(), x.GetDifference(), x.GetStatus(), x.GetReason())
			}
			tw.Flush()
			if p.GetTruncated() {
				fmt.Fprintln(w, "(more payouts than one answer lists: ask for a shorter range)")
			}
		})
	}
	var r v1.Reconciliation
	if err := c.call(ctx, http.MethodGet, base+q, nil, &r); err != nil {
		return err
	}
	return out.print(&r, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY\tCUR\tLOCATION\tSTATUS\tRECORDS\tREVISIONS\tDOCUMENTS\tREASON")
		for _, d := range r.GetDays() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d confirmed, %d failed, %d waiting\t%s\n", d.GetBusinessDay(), d.GetCurrency(), d.GetLocation(),
				d.GetStatus(), d.GetRecords(), d.GetRevisions(), d.GetDocumentsConfirmed(), d.GetDocumentsFailed(), d.GetDocumentsWaiting(), d.GetReason())
			if *f.accounts {
				for _, l := range d.GetLines() {
					fmt.Fprintf(tw, "\t\t\t  %s %s\trecords %s\tledger %s\tplatform %s\tdifference %s %s\n", l.GetCategory(), l.GetAccount(),
						l.GetCommerce(), l.GetLedger(), l.GetPlatform(), l.GetDifference(), l.GetStatus())
				}
			}
		}
		tw.Flush()
		if len(r.GetDays()) == 0 {
			fmt.Fprintf(w, "no records, ledger or documents from %s to %s\n", from, to)
		}
	})
}

func reconcileExceptions(ctx context.Context, c *adminClient, out *adminOut, days int) error {
	all := &v1.ListReconciliationExceptionsResponse{}
	token := ""
	for range 1000 { // 1,000 pages of 1,000: every kind at its limit
		var page v1.ListReconciliationExceptionsResponse
		q := fmt.Sprintf("?pageSize=1000&unsettledOlderThanDays=%d&pageToken=%s", days, url.QueryEscape(token))
		if err := c.call(ctx, http.MethodGet, "/v1/reconciliation/exceptions"+q, nil, &page); err != nil {
			return err
		}
		all.Exceptions = append(all.Exceptions, page.GetExceptions()...)
		all.Truncated = all.GetTruncated() || page.GetTruncated()
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	return out.print(all, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tCOMPANY\tDAY\tCUR\tRECORD\tDOCUMENT\tAMOUNT\tWHAT")
		for _, e := range all.GetExceptions() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.GetKind(), e.GetCompanyId(), e.GetBusinessDay(), e.GetCurrency(),
				e.GetRecordId(), e.GetDocumentId(), e.GetAmount(), e.GetMessage())
		}
		tw.Flush()
		if len(all.GetExceptions()) == 0 {
			fmt.Fprintln(w, "nothing to reconcile: every record, day and document is accounted for")
		}
		if all.GetTruncated() {
			fmt.Fprintln(w, "(some kind held more exceptions than one answer lists: fix those shown and ask again)")
		}
	})
}
