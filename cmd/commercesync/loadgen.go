package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	xerosandbox "github.com/commercesync/commercesync/connectors/xero/sandbox"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/loadgen"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// loadgenFlags are the settings of `commercesync loadgen`.
type loadgenFlags struct {
	url, grpcAddr, via, start, platform, brokers *string
	merchants, days, orders, workers             *int
	seed                                         *uint64
	late, updated, deleted, rate                 *float64
	grace, orgs, orgOffset                       *int
	wait                                         *time.Duration
	baseline                                     *bool
	kafka                                        *kafkaFlags
}

func newLoadgenFlags(stderr io.Writer) (*flag.FlagSet, *loadgenFlags) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &loadgenFlags{
		url:       fs.String("url", "http://127.0.0.1:8080", "the gateway's REST address (companies and configuration go there whatever -via says)"),
		grpcAddr:  fs.String("grpc", "127.0.0.1:9090", "the gateway's gRPC address, for -via grpc"),
		via:       fs.String("via", "rest", "how records go: rest (the data routes), grpc (the PushRecords stream) or kafka (straight to commerce.events, as a trusted producer would; needs -brokers)"),
		merchants: fs.Int("merchants", 100, "merchants, spread across six time zones"),
		days:      fs.Int("days", 2, "business days per merchant, sent one after another"),
		orders:    fs.Int("orders", 50, "orders per merchant and day, each with its payment, and card fees and a payout"),
		start:     fs.String("start", "", "the first business day, YYYY-MM-DD (default: -days days before today)"),
		seed:      fs.Uint64("seed", 1, "what every record is made from: the same seed makes the same records"),
		late:      fs.Float64("late", 0.02, "share of orders that arrive a day late"),
		updated:   fs.Float64("updated", 0.02, "share of orders sent again changed a day later"),
		deleted:   fs.Float64("deleted", 0.01, "share of orders deleted a day later"),
		rate:      fs.Float64("rate", 0, "records per second to send at (0: as fast as the gateway takes them)"),
		workers:   fs.Int("workers", 8, "requests in flight"),
		platform:  fs.String("platform", "none", "connect each merchant to this sandbox platform (xero) to measure to confirmed documents, or none"),
		orgs:      fs.Int("organisations", 1, "with -platform xero: spread the merchants over this many of the sandbox's organisations (as many as it holds), since Xero's limits are per organisation"),
		orgOffset: fs.Int("organisation-offset", 0, "with -platform xero: merchant i takes organisation (offset + i) mod -organisations, so runs one after another can each have organisations of their own"),
		grace:     fs.Int("grace", 60, "each merchant's grace in minutes: how long after its end a day waits for late records before it seals"),
		brokers:   fs.String("brokers", "", "Kafka brokers, to time days sealed and documents confirmed (without them only ingest is measured)"),
		wait:      fs.Duration("wait", 5*time.Minute, "how long to wait, after the last record, for every day to seal (and post)"),
		baseline:  fs.Bool("baseline", false, "after the run, produce as many records of the same sizes with plain franz-go to the same brokers, and report the run against it (needs -brokers)"),
	}
	f.kafka = newKafkaFlags(fs)
	return fs, f
}

// run is one loadgen run's state.
type loadRun struct {
	f       *loadgenFlags
	spec    loadgen.Spec
	key     string
	hc      *http.Client
	limiter *rate.Limiter
	out     io.Writer
	// companies[i] is merchant i's company id; index maps back.
	companies []string
	index     map[string]int
	tenants   map[string]string // company id → tenant id
	producer  *kgo.Client       // -via kafka
	cluster   kafka.Cluster     // -brokers

	sent, accepted, rejected atomic.Int64
	mu                       sync.Mutex
	// done[merchant][day] is when the day's own records were all accepted.
	done [][]time.Time
	// sealed and posted are when a day's first summary was committed and
	// its first document confirmed, by company and business day.
	sealed, posted map[string]time.Time
}

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newLoadgenFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key := strings.TrimSpace(os.Getenv("COMMERCESYNC_API_KEY"))
	if key == "" {
		return errors.New("loadgen: set COMMERCESYNC_API_KEY to a key with the configure and ingest scopes (commercesync dev prints one)")
	}
	start := time.Now().UTC().AddDate(0, 0, -*f.days)
	if *f.start != "" {
		var err error
		if start, err = time.Parse(time.DateOnly, *f.start); err != nil {
			return fmt.Errorf("-start %q: write the first business day as YYYY-MM-DD", *f.start)
		}
	}
	spec := loadgen.Spec{Merchants: *f.merchants, Days: *f.days, OrdersPerDay: *f.orders, Start: start, Seed: *f.seed,
		Late: *f.late, Updated: *f.updated, Deleted: *f.deleted}
	if err := spec.Check(); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	switch {
	case *f.via != "rest" && *f.via != "grpc" && *f.via != "kafka":
		return fmt.Errorf("-via %q: use rest, grpc or kafka", *f.via)
	case *f.via == "kafka" && *f.brokers == "":
		return errors.New("-via kafka: give -brokers, the Kafka brokers to produce to")
	case *f.baseline && *f.brokers == "":
		return errors.New("-baseline: give -brokers, the Kafka brokers the baseline produces to")
	case *f.platform != "none" && *f.platform != "xero":
		return fmt.Errorf("-platform %q: use xero or none", *f.platform)
	case *f.workers < 1 || *f.workers > 1024:
		return errors.New("-workers: between 1 and 1024")
	case *f.rate < 0:
		return errors.New("-rate: 0 (as fast as taken) or more")
	case *f.orgs < 1 || *f.orgs > 10000:
		return errors.New("-organisations: between 1 and 10000, and no more than the sandbox holds")
	case *f.orgOffset < 0 || *f.orgOffset > 1_000_000:
		return errors.New("-organisation-offset: between 0 and 1000000")
	}
	jar, _ := cookiejar.New(nil)
	r := &loadRun{f: f, spec: spec, key: key, out: stdout, hc: &http.Client{Timeout: time.Minute, Jar: jar},
		limiter: rate.NewLimiter(rate.Inf, 0), index: map[string]int{}, tenants: map[string]string{}, sealed: map[string]time.Time{}, posted: map[string]time.Time{}}
	if *f.brokers != "" {
		var err error
		if r.cluster, err = f.kafka.cluster(*f.brokers); err != nil {
			return err
		}
	}
	if *f.rate > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(*f.rate), max(int(*f.rate), 5000))
	}
	r.done = make([][]time.Time, spec.Merchants)
	for i := range r.done {
		r.done[i] = make([]time.Time, spec.Days)
	}

	fmt.Fprintf(stdout, "loadgen: %d merchants × %d days × %d orders via %s, from %s, seed %d\n",
		spec.Merchants, spec.Days, spec.OrdersPerDay, *f.via, start.Format(time.DateOnly), spec.Seed)
	setupStart := time.Now()
	if err := r.setup(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadgen: %d companies ready in %s\n", spec.Merchants, time.Since(setupStart).Round(time.Millisecond))

	var watchErr error
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var watch sync.WaitGroup
	if *f.brokers != "" {
		brokers := r.cluster
		from, err := endOffsets(ctx, brokers)
		if err != nil {
			return err
		}
		watch.Go(func() { watchErr = r.watch(watchCtx, brokers, from) })
	}

	progress := r.startProgress(ctx, stderr)
	began := time.Now()
	err := r.send(ctx)
	elapsed := time.Since(began)
	if err == nil {
		err = r.syncAll(ctx)
	}
	if err == nil && *f.brokers != "" {
		r.waitDays(ctx)
	}
	progress()
	stopWatch()
	watch.Wait()
	if err != nil {
		return err
	}
	if watchErr != nil && !errors.Is(watchErr, context.Canceled) {
		return watchErr
	}
	r.report(began, elapsed)
	if *f.baseline {
		return r.baseline(ctx, began, elapsed)
	}
	return nil
}

// api calls the REST API with the key; out, when not nil, takes the JSON
// answer.
func (r *loadRun) api(ctx context.Context, method, path string, body any, header map[string]string, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(*r.f.url, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("loadgen: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("loadgen: %s %s: HTTP %d: %.500s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// setup makes (or finds again, by idempotency key) each merchant's company
// and saves its configuration, connecting it first when asked.
func (r *loadRun) setup(ctx context.Context) error {
	r.companies = make([]string, r.spec.Merchants)
	g, gctx := errgroup.WithContext(ctx)
	// Setting up is mostly waiting: for the platform's consent and for the
	// push worker to read the new connection's chart at the pace its
	// limits allow, one connection's calls after another's. So many more
	// merchants are set up at once than requests are sent.
	g.SetLimit(max(*r.f.workers, min(r.spec.Merchants, 256)))
	for i := range r.spec.Merchants {
		g.Go(func() error {
			m := r.spec.Merchant(i)
			var c struct{ ID, TenantID string }
			if err := r.api(gctx, "POST", "/v1/companies", map[string]any{"name": m.Name},
				map[string]string{"Idempotency-Key": fmt.Sprintf("loadgen-%d-%d", r.spec.Seed, i)}, &c); err != nil {
				return err
			}
			r.companies[i] = c.ID
			r.mu.Lock()
			r.tenants[c.ID] = c.TenantID
			r.mu.Unlock()
			cfg := map[string]any{
				"schedule":      map[string]any{"timeZone": m.Zone, "graceMinutes": *r.f.grace},
				"configuration": map[string]any{"mapSettings": map[string]any{"outputFormat": "JournalEntry"}},
			}
			if *r.f.platform == "xero" {
				var err error
				if cfg, err = r.connectXero(gctx, c.ID, m); err != nil {
					return fmt.Errorf("merchant %d: %w", i, err)
				}
			}
			return r.api(gctx, "PUT", "/v1/companies/"+c.ID+"/sync/commerce/config", cfg, nil, nil)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, id := range r.companies {
		r.index[id] = i
	}
	return nil
}

// connectXero links the company to the Xero sandbox as a merchant would,
// and returns a configuration posting to the sandbox's demo chart.
func (r *loadRun) connectXero(ctx context.Context, company string, m loadgen.Merchant) (map[string]any, error) {
	var conn struct{ ID, Status, LinkURL string }
	if err := r.api(ctx, "POST", "/v1/companies/"+company+"/connections", map[string]any{"platformKey": "xero"}, nil, &conn); err != nil {
		return nil, err
	}
	if conn.Status != "Linked" {
		back, err := xerosandbox.Approve(ctx, r.hc, conn.LinkURL, xerosandbox.TenantID((*r.f.orgOffset+m.Index)%max(*r.f.orgs, 1)))
		if err != nil {
			return nil, fmt.Errorf("consent: %w", err)
		}
		resp, err := r.hc.Get(back.String())
		if err != nil {
			return nil, fmt.Errorf("oauth callback: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Every slot's options, by the account's code: the chart as the
	// platform showed it.
	type option struct{ ID, NominalCode string }
	type slotView struct{ AccountOptions []option }
	var view struct {
		Configuration map[string]json.RawMessage
	}
	ids := map[string]string{}
	deadline := time.Now().Add(time.Minute)
	for len(ids) == 0 {
		if err := r.api(ctx, "GET", "/v1/companies/"+company+"/sync/commerce/config", nil, nil, &view); err != nil {
			return nil, err
		}
		for _, raw := range view.Configuration {
			var section struct{ Accounts map[string]slotView }
			if json.Unmarshal(raw, &section) != nil {
				continue // not a section with accounts
			}
			for _, sv := range section.Accounts {
				for _, o := range sv.AccountOptions {
					ids[o.NominalCode] = o.ID
				}
			}
		}
		if len(ids) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the platform's accounts did not arrive within a minute")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	slot := func(code string) map[string]any { return map[string]any{"selectedAccountId": ids[code]} }
	// A payout into a bank account goes as a bank transaction, which
	// names a contact: the first customer the platform offers.
	var sales struct {
		SalesCustomer struct{ CustomerOptions []struct{ ID string } }
	}
	_ = json.Unmarshal(view.Configuration["sales"], &sales)
	customer := map[string]any{}
	if opts := sales.SalesCustomer.CustomerOptions; len(opts) > 0 {
		customer["selectedCustomerId"] = opts[0].ID
	}
	return map[string]any{
		"schedule": map[string]any{"syncHour": 0, "timeZone": m.Zone, "graceMinutes": *r.f.grace},
		"configuration": map[string]any{
			"mapSettings": map[string]any{"outputFormat": "JournalEntry"},
			// The sandbox's organisation keeps its books in USD.
			"exchangeRates": map[string]any{"GBP": "1.27", "EUR": "1.08", "AUD": "0.66"},
			"sales": map[string]any{"syncSales": true, "salesCustomer": customer, "accounts": map[string]any{
				"sales": slot("200"), "tax": slot("820"), "gratuity": slot("801"), "refund": slot("210"), "fx": slot("260")}},
			"payments": map[string]any{"syncPayments": true, "accounts": map[string]any{
				"card": slot("610"), "cash": slot("611"), "unsettled": slot("612"), "payout": slot("090")}},
			"fees": map[string]any{"syncFees": true, "accounts": map[string]any{"paymentFee": slot("404")}},
		},
	}, nil
}

// send pushes every merchant's days in order: all merchants' day 0, then
// day 1 with day 0's late records, and so on.
func (r *loadRun) send(ctx context.Context) error {
	var streams chan v1.DataService_PushRecordsClient
	if *r.f.via == "kafka" {
		cl, err := kgo.NewClient(kafka.ClientOpts(r.cluster, nil)...)
		if err != nil {
			return fmt.Errorf("loadgen: Kafka producer: %w", err)
		}
		defer cl.Close()
		r.producer = cl
	}
	if *r.f.via == "grpc" {
		cc, err := grpc.NewClient(*r.f.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20), grpc.MaxCallRecvMsgSize(64<<20)))
		if err != nil {
			return fmt.Errorf("loadgen: gRPC %s: %w", *r.f.grpcAddr, err)
		}
		defer cc.Close()
		data := v1.NewDataServiceClient(cc)
		streams = make(chan v1.DataService_PushRecordsClient, *r.f.workers)
		sctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+r.key)
		for range *r.f.workers {
			st, err := data.PushRecords(sctx)
			if err != nil {
				return fmt.Errorf("loadgen: open a PushRecords stream: %w", err)
			}
			streams <- st
		}
		defer func() {
			for range *r.f.workers {
				_ = (<-streams).CloseSend()
			}
		}()
	}
	for d := range r.spec.Days {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(*r.f.workers)
		for i := range r.spec.Merchants {
			g.Go(func() error {
				day := r.spec.Day(r.spec.Merchant(i), d)
				company := r.companies[i]
				push := r.pushREST
				if r.producer != nil {
					push = r.pushKafka
				}
				if streams != nil {
					push = func(ctx context.Context, company string, recs loadgen.Records) error {
						st := <-streams
						defer func() { streams <- st }()
						return r.pushStream(st, company, recs)
					}
				}
				if err := push(gctx, company, day.On); err != nil {
					return err
				}
				r.mu.Lock()
				r.done[i][d] = time.Now()
				r.mu.Unlock()
				return push(gctx, company, day.Late)
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// pushREST sends records on the data routes, each kind in requests of at
// most 5,000.
func (r *loadRun) pushREST(ctx context.Context, company string, recs loadgen.Records) error {
	deletes := map[v1.RecordKind][]any{}
	for _, d := range recs.Deletes {
		deletes[d.Kind] = append(deletes[d.Kind], map[string]string{"id": d.ID})
	}
	for _, route := range []struct {
		path string
		kind v1.RecordKind
		msgs []proto.Message
	}{
		{"commerce-orders", v1.RecordKind_RECORD_KIND_ORDER, asMessages(recs.Orders)},
		{"commerce-payments", v1.RecordKind_RECORD_KIND_PAYMENT, asMessages(recs.Payments)},
		{"commerce-transactions", v1.RecordKind_RECORD_KIND_TRANSACTION, asMessages(recs.Transactions)},
	} {
		items := make([]any, 0, len(route.msgs)+len(deletes[route.kind]))
		for _, m := range route.msgs {
			b, err := protojson.Marshal(m)
			if err != nil {
				return err
			}
			items = append(items, json.RawMessage(b))
		}
		items = append(items, deletes[route.kind]...)
		for start := 0; start < len(items); start += 5000 {
			batch := items[start:min(start+5000, len(items))]
			if err := r.limiter.WaitN(ctx, min(len(batch), r.limiter.Burst())); err != nil && r.limiter.Limit() != rate.Inf {
				return err
			}
			var ans struct{ Accepted, Rejected int64 }
			if err := r.api(ctx, "POST", "/v1/companies/"+company+"/data/"+route.path, batch, nil, &ans); err != nil {
				return err
			}
			r.sent.Add(int64(len(batch)))
			r.accepted.Add(ans.Accepted)
			r.rejected.Add(ans.Rejected)
		}
	}
	return nil
}

func asMessages[T proto.Message](xs []T) []proto.Message {
	out := make([]proto.Message, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// pushStream sends records as one PushRecords message and waits for its
// answer.
func (r *loadRun) pushStream(st v1.DataService_PushRecordsClient, company string, recs loadgen.Records) error {
	if recs.Len() == 0 {
		return nil
	}
	msg := &v1.PushRecordsRequest{CompanyId: company}
	for _, o := range recs.Orders {
		msg.Records = append(msg.Records, &v1.StreamRecord{Record: &v1.StreamRecord_Order{Order: o}})
	}
	for _, p := range recs.Payments {
		msg.Records = append(msg.Records, &v1.StreamRecord{Record: &v1.StreamRecord_Payment{Payment: p}})
	}
	for _, t := range recs.Transactions {
		msg.Records = append(msg.Records, &v1.StreamRecord{Record: &v1.StreamRecord_Transaction{Transaction: t}})
	}
	for _, d := range recs.Deletes {
		msg.Records = append(msg.Records, &v1.StreamRecord{Record: &v1.StreamRecord_Delete{Delete: &v1.RecordDelete{Kind: d.Kind, Id: d.ID}}})
	}
	if r.limiter.Limit() != rate.Inf {
		if err := r.limiter.WaitN(st.Context(), min(len(msg.Records), r.limiter.Burst())); err != nil {
			return err
		}
	}
	if err := st.Send(msg); err != nil {
		return fmt.Errorf("loadgen: stream send: %w", err)
	}
	ans, err := st.Recv()
	if err != nil {
		return fmt.Errorf("loadgen: stream answer: %w", err)
	}
	r.sent.Add(int64(len(msg.Records)))
	r.accepted.Add(int64(ans.GetAccepted()))
	r.rejected.Add(int64(ans.GetRejected()))
	return nil
}

// syncAll asks every merchant to seal its days up to the end of the last
// one in every zone, as a platform does at the end of a run.
func (r *loadRun) syncAll(ctx context.Context) error {
	last := time.Date(r.spec.Start.Year(), r.spec.Start.Month(), r.spec.Start.Day()+r.spec.Days, 14, 0, 0, 0, time.UTC)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*r.f.workers)
	for _, c := range r.companies {
		g.Go(func() error {
			return r.api(gctx, "POST", "/v1/companies/"+c+"/sync/commerce/latest", map[string]any{"syncTo": last.Format(time.RFC3339)}, nil, nil)
		})
	}
	return g.Wait()
}

// endOffsets are where ledger.days and push.outbox end now: what comes
// after is this run's.
func endOffsets(ctx context.Context, brokers kafka.Cluster) (map[string]map[int32]kgo.Offset, error) {
	cl, err := kgo.NewClient(kafka.ClientOpts(brokers, nil)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	t := kafka.DefaultTopics()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, t.Ledger, t.Outbox)
	if err != nil {
		return nil, fmt.Errorf("loadgen: read where %s and %s end: %w", t.Ledger, t.Outbox, err)
	}
	out := map[string]map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]kgo.Offset{}
		}
		out[o.Topic][o.Partition] = kgo.NewOffset().At(o.Offset)
	})
	return out, nil
}

// watch reads this run's summaries and outbox entries, and notes when each
// day first sealed and first posted (the broker's timestamps).
func (r *loadRun) watch(ctx context.Context, brokers kafka.Cluster, from map[string]map[int32]kgo.Offset) error {
	cl, err := kgo.NewClient(append(kafka.ClientOpts(brokers, nil), kgo.ConsumePartitions(from))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	t := kafka.DefaultTopics()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fs.EachRecord(func(rec *kgo.Record) {
			switch rec.Topic {
			case t.Ledger:
				var s v1.DaySummary
				if proto.Unmarshal(rec.Value, &s) != nil || s.GetRevision() != 1 {
					return
				}
				r.note(r.sealed, s.GetCompanyId()+"/"+s.GetBusinessDay(), rec.Timestamp)
			case t.Outbox:
				var e v1.OutboxEntry
				if proto.Unmarshal(rec.Value, &e) != nil || e.GetState() != v1.OutboxState_OUTBOX_STATE_CONFIRMED || e.GetRevision() != 1 {
					return
				}
				r.note(r.posted, e.GetCompanyId()+"/"+e.GetBusinessDay(), rec.Timestamp)
			}
		})
	}
}

func (r *loadRun) note(m map[string]time.Time, key string, at time.Time) {
	company, _, _ := strings.Cut(key, "/")
	if _, ok := r.index[company]; !ok {
		return // another run's company
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := m[key]; !ok {
		m[key] = at
	}
}

// waitDays waits until every day has sealed (and posted, with a platform),
// or -wait passes.
func (r *loadRun) waitDays(ctx context.Context) {
	want := r.spec.Merchants * r.spec.Days
	deadline := time.Now().Add(*r.f.wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r.mu.Lock()
		done := len(r.sealed) >= want && (*r.f.platform == "none" || len(r.posted) >= want)
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startProgress shows a live line on a terminal (plain lines, less often,
// when piped) until the returned function is called.
func (r *loadRun) startProgress(ctx context.Context, w io.Writer) func() {
	tty := isTerminal(w)
	every := 5 * time.Second
	if tty {
		every = 500 * time.Millisecond
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	began := time.Now()
	want := r.spec.Merchants * r.spec.Days
	line := func() string {
		r.mu.Lock()
		sealed, posted := len(r.sealed), len(r.posted)
		r.mu.Unlock()
		s := r.sent.Load()
		out := fmt.Sprintf("sent %d records (%.0f/s), %d rejected", s, float64(s)/max(time.Since(began).Seconds(), 0.001), r.rejected.Load())
		if *r.f.brokers != "" {
			out += fmt.Sprintf("; days sealed %d/%d", sealed, want)
			if *r.f.platform != "none" {
				out += fmt.Sprintf(", posted %d/%d", posted, want)
			}
		}
		return out
	}
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if tty {
					fmt.Fprintf(w, "\r\033[K%s\n", line())
				}
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if tty {
					fmt.Fprintf(w, "\r\033[K%s", line())
				} else {
					fmt.Fprintln(w, line())
				}
			}
		}
	})
	return func() { close(stop); wg.Wait() }
}

// report prints throughput and latency percentiles.
func (r *loadRun) report(began time.Time, elapsed time.Duration) {
	s := r.sent.Load()
	fmt.Fprintf(r.out, "ingest: %d records in %s: %.0f records/s (%d accepted, %d rejected)\n",
		s, elapsed.Round(time.Millisecond), float64(s)/elapsed.Seconds(), r.accepted.Load(), r.rejected.Load())
	if *r.f.brokers == "" {
		fmt.Fprintln(r.out, "latency: not measured (give -brokers to time days sealed and documents posted)")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	want := r.spec.Merchants * r.spec.Days
	if e2e, ok := r.endToEnd(began); ok {
		fmt.Fprintf(r.out, "end to end: %d records, first sent → every day sealed in %s: %.0f records/s\n",
			s, e2e.Round(time.Millisecond), float64(s)/e2e.Seconds())
	}
	for _, m := range []struct {
		what  string
		times map[string]time.Time
	}{{"accepted → sealed summary", r.sealed}, {"accepted → confirmed document", r.posted}} {
		if m.what == "accepted → confirmed document" && *r.f.platform == "none" {
			continue
		}
		var lat []time.Duration
		for i, c := range r.companies {
			for d := range r.spec.Days {
				date := time.Date(r.spec.Start.Year(), r.spec.Start.Month(), r.spec.Start.Day()+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
				if at, ok := m.times[c+"/"+date]; ok && !r.done[i][d].IsZero() {
					lat = append(lat, max(at.Sub(r.done[i][d]), 0))
				}
			}
		}
		if len(lat) == 0 {
			fmt.Fprintf(r.out, "%s: no day of %d (within -wait %s)\n", m.what, want, *r.f.wait)
			continue
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration {
			return lat[min(int(p*float64(len(lat))), len(lat)-1)].Round(time.Millisecond)
		}
		fmt.Fprintf(r.out, "%s: %d of %d days; p50 %s, p95 %s, p99 %s\n", m.what, len(lat), want, pct(0.50), pct(0.95), pct(0.99))
	}
}

// endToEnd is how long from the first record sent until the last day
// sealed, once every day has; caller holds r.mu.
func (r *loadRun) endToEnd(began time.Time) (time.Duration, bool) {
	if len(r.sealed) < r.spec.Merchants*r.spec.Days {
		return 0, false
	}
	var last time.Time
	for _, at := range r.sealed {
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(began), true
}

// baseline produces as many records as the run sent, of the sizes their
// events have in commerce.events, with plain franz-go to the same brokers,
// and prints the run's figures against it.
func (r *loadRun) baseline(ctx context.Context, began time.Time, elapsed time.Duration) error {
	var sizes []int
	for i := range r.spec.Merchants {
		m := r.spec.Merchant(i)
		for d := range r.spec.Days {
			day := r.spec.Day(m, d)
			for _, recs := range []loadgen.Records{day.On, day.Late} {
				evs, err := kafkaEvents(kafka.DefaultTopics().Events, r.companies[i], r.tenants[r.companies[i]], began, recs)
				if err != nil {
					return err
				}
				for _, ev := range evs {
					sizes = append(sizes, len(ev.Key)+len(ev.Value))
				}
			}
		}
	}
	took, err := rawProduce(ctx, r.cluster, sizes, r.spec.Merchants, *r.f.workers, max(r.spec.OrdersPerDay*2, 1))
	if err != nil {
		return err
	}
	raw := float64(len(sizes)) / took.Seconds()
	total := 0
	for _, n := range sizes {
		total += n
	}
	fmt.Fprintf(r.out, "baseline: raw franz-go produce of %d records (%d bytes on average) to the same brokers in %s: %.0f records/s\n",
		len(sizes), total/max(len(sizes), 1), took.Round(time.Millisecond), raw)
	fmt.Fprintf(r.out, "ratio: ingest %.2f of the baseline", float64(r.sent.Load())/elapsed.Seconds()/raw)
	r.mu.Lock()
	e2e, ok := r.endToEnd(began)
	r.mu.Unlock()
	if ok {
		fmt.Fprintf(r.out, ", end to end %.2f", float64(r.sent.Load())/e2e.Seconds()/raw)
	}
	fmt.Fprintln(r.out)
	return nil
}
