// Package ops is what operators watch of a process: Prometheus metrics on
// /metrics, fed by what each stage tells of itself (its observers, counts
// and views), and /healthz and /readyz. Every process has a registry of
// its own; nothing is registered globally.
package ops

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/commercesync/commercesync/pipeline/push"
	"github.com/commercesync/commercesync/pipeline/sink"
	"github.com/commercesync/commercesync/pipeline/view"
	"github.com/commercesync/commercesync/pipeline/window"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Metrics holds a process's registry and the metrics the stages feed.
type Metrics struct {
	reg            *prometheus.Registry
	gatewayRecords *prometheus.CounterVec
	windowLag      *prometheus.GaugeVec
	sealDelay      prometheus.Histogram
	liveDays       prometheus.Gauge
	pushOutcomes   *prometheus.CounterVec
	rateWaits      *prometheus.HistogramVec
}

// NewMetrics makes a registry with the Go runtime's and the process's
// own collectors, and the stages' metrics.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) prometheus.Collector { reg.MustRegister(c); return c }
	return &Metrics{
		reg: reg,
		gatewayRecords: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commercesync_gateway_records_total",
			Help: "Records pushed on any route, by what the gateway answered each (accepted or rejected).",
		}, []string{"result"})).(*prometheus.CounterVec),
		windowLag: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "commercesync_window_consumer_lag",
			Help: "Records of commerce.events not yet read, per partition this process owns, as of its last poll.",
		}, []string{"partition"})).(*prometheus.GaugeVec),
		sealDelay: f(prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "commercesync_window_seal_delay_seconds",
			Help: "Time from a day's end to its first summary's commit.",
			// From a sync/latest seconds after the day to a grace of hours.
			Buckets: []float64{1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800},
		})).(prometheus.Histogram),
		liveDays: f(prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "commercesync_window_live_days",
			Help: "Days the window holds live: open, or sealed with a revision due.",
		})).(prometheus.Gauge),
		pushOutcomes: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commercesync_push_outcomes_total",
			Help: "Push attempts by platform and how they ended: confirmed, retried, paused, failed or deauthorized.",
		}, []string{"platform", "outcome"})).(*prometheus.CounterVec),
		rateWaits: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "commercesync_push_rate_limit_wait_seconds",
			Help:    "Time each request to a platform waited for its connection's rate limits.",
			Buckets: []float64{0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300},
		}, []string{"platform"})).(*prometheus.HistogramVec),
	}
}

// Registry is the process's registry, to serve and to add clients' hooks to.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// GatewayRecords counts one push's answers (gateway.WithRecordsObserver).
func (m *Metrics) GatewayRecords(accepted, rejected int) {
	m.gatewayRecords.WithLabelValues("accepted").Add(float64(accepted))
	m.gatewayRecords.WithLabelValues("rejected").Add(float64(rejected))
}

// Window is the window job's observer.
func (m *Metrics) Window() window.Observer { return windowObserver{m} }

type windowObserver struct{ m *Metrics }

func (o windowObserver) Lag(partition int32, lag int64) {
	p := fmt.Sprint(partition)
	if lag < 0 {
		o.m.windowLag.DeleteLabelValues(p)
		return
	}
	o.m.windowLag.WithLabelValues(p).Set(float64(lag))
}

func (o windowObserver) Sealed(d time.Duration) { o.m.sealDelay.Observe(max(d, 0).Seconds()) }
func (o windowObserver) LiveDays(n int)         { o.m.liveDays.Set(float64(n)) }

// Push is the push worker's observer.
func (m *Metrics) Push() push.Observer { return pushObserver{m} }

type pushObserver struct{ m *Metrics }

func (o pushObserver) Outcome(platform, outcome string) {
	o.m.pushOutcomes.WithLabelValues(platform, outcome).Inc()
}

func (o pushObserver) Waited(platform string, d time.Duration) {
	o.m.rateWaits.WithLabelValues(platform).Observe(d.Seconds())
}

// WatchJob adds the window job's counts, read at each scrape.
func (m *Metrics) WatchJob(j *window.Job) {
	m.reg.MustRegister(&jobCollector{j: j})
}

// WatchSink exports the reconciliation sink's counts.
func (m *Metrics) WatchSink(j *sink.Job) {
	m.reg.MustRegister(&sinkCollector{j: j})
}

var (
	sinkRecordsDesc = prometheus.NewDesc("commercesync_sink_records_total",
		"Records the reconciliation sink read, by what became of them (stored, or rejected into sink_rejects).", []string{"result"}, nil)
	sinkRowsDesc = prometheus.NewDesc("commercesync_sink_rows_total",
		"Rows the reconciliation sink stored in ClickHouse.", nil, nil)
	sinkFailuresDesc = prometheus.NewDesc("commercesync_sink_write_failures_total",
		"Batches ClickHouse did not store at the first try (each is written again until it is).", nil, nil)
)

type sinkCollector struct{ j *sink.Job }

func (c *sinkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sinkRecordsDesc
	ch <- sinkRowsDesc
	ch <- sinkFailuresDesc
}

func (c *sinkCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.j.Stats()
	ch <- prometheus.MustNewConstMetric(sinkRecordsDesc, prometheus.CounterValue, float64(s.Records-s.Rejected), "stored")
	ch <- prometheus.MustNewConstMetric(sinkRecordsDesc, prometheus.CounterValue, float64(s.Rejected), "rejected")
	ch <- prometheus.MustNewConstMetric(sinkRowsDesc, prometheus.CounterValue, float64(s.Rows))
	ch <- prometheus.MustNewConstMetric(sinkFailuresDesc, prometheus.CounterValue, float64(s.WriteFailures))
}

var (
	windowRecordsDesc = prometheus.NewDesc("commercesync_window_records_total",
		"Input records the window read, by what became of them (applied or quarantined).", []string{"result"}, nil)
	windowTxnDesc = prometheus.NewDesc("commercesync_window_transactions_total",
		"Window transactions by how they ended (committed or aborted).", []string{"result"}, nil)
	windowRestoredDesc = prometheus.NewDesc("commercesync_window_restored_entries_total",
		"Changelog entries read to restore partitions taken over.", nil, nil)
	outboxDesc = prometheus.NewDesc("commercesync_outbox_documents",
		"Documents in the outbox by state.", []string{"state"}, nil)
	quarantineDesc = prometheus.NewDesc("commercesync_quarantine_entries",
		"Records and days quarantined, by the stage that could not process them.", []string{"stage"}, nil)
)

type jobCollector struct{ j *window.Job }

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- windowRecordsDesc
	ch <- windowTxnDesc
	ch <- windowRestoredDesc
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.j.Stats()
	ch <- prometheus.MustNewConstMetric(windowRecordsDesc, prometheus.CounterValue, float64(s.Applied), "applied")
	ch <- prometheus.MustNewConstMetric(windowRecordsDesc, prometheus.CounterValue, float64(s.Quarantined), "quarantined")
	ch <- prometheus.MustNewConstMetric(windowTxnDesc, prometheus.CounterValue, float64(s.Committed), "committed")
	ch <- prometheus.MustNewConstMetric(windowTxnDesc, prometheus.CounterValue, float64(s.Aborted), "aborted")
	ch <- prometheus.MustNewConstMetric(windowRestoredDesc, prometheus.CounterValue, float64(s.RestoredEntries))
}

// WatchViews adds the outbox's documents by state and the quarantine's
// entries by stage, read from the process's views at each scrape.
func (m *Metrics) WatchViews(o *view.Outbox, q *view.Quarantine) {
	m.reg.MustRegister(&viewCollector{o: o, q: q})
}

type viewCollector struct {
	o *view.Outbox
	q *view.Quarantine
}

func (c *viewCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- quarantineDesc
}

// quarantineStages are the stages that quarantine, each reported even at
// zero so that an alert on the metric has a series from the start.
var quarantineStages = []string{"window", "plan", "push", "view"}

func (c *viewCollector) Collect(ch chan<- prometheus.Metric) {
	states := c.o.ByState()
	for v := range v1.OutboxState_name {
		st := v1.OutboxState(v)
		if st == v1.OutboxState_OUTBOX_STATE_UNSPECIFIED {
			continue
		}
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(states[st]), stateName(st))
	}
	stages := c.q.ByStage()
	for _, s := range quarantineStages {
		ch <- prometheus.MustNewConstMetric(quarantineDesc, prometheus.GaugeValue, float64(stages[s]), s)
	}
	for s, n := range stages {
		if !slices.Contains(quarantineStages, s) {
			ch <- prometheus.MustNewConstMetric(quarantineDesc, prometheus.GaugeValue, float64(n), s)
		}
	}
}

// stateName is an outbox state as the API writes it: "confirmed".
func stateName(s v1.OutboxState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "OUTBOX_STATE_"))
}

// Ready says whether a process serves: set once it has started, cleared
// when it begins to stop.
type Ready struct{ v atomic.Pointer[string] }

// NewReady is not ready, for why.
func NewReady(why string) *Ready {
	r := &Ready{}
	r.NotReady(why)
	return r
}

// Set marks the process ready.
func (r *Ready) Set() { r.v.Store(nil) }

// NotReady marks the process not ready, for why.
func (r *Ready) NotReady(why string) { r.v.Store(&why) }

// Handler serves /metrics from m, /healthz (the process answers) and
// /readyz (503 with the reason until ready says it serves).
func Handler(m *Metrics, ready *Ready) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if why := ready.v.Load(); why != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+*why+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	return mux
}
