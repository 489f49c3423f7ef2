package gateway

import (
	"context"
	"errors"
	"io"
	"math"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway/records"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// StreamLimits bounds one PushRecords stream. What a single message may hold
// is the unary push's limit (records.Limits.BatchRecords records, and
// records.Limits.BodyBytes as gRPC's largest message).
type StreamLimits struct {
	// InFlightMessages bounds the messages of a stream that the server has
	// read and not yet answered. At the bound it stops reading, and gRPC's
	// flow control then stops the client: a client that sends faster than
	// the broker takes records waits instead of growing the server's heap.
	InFlightMessages int
	// InFlightBytes bounds the encoded size of those messages. A message
	// larger than the bound (possible only when it is set below BodyBytes)
	// is taken alone.
	InFlightBytes int64
	// Records bounds the records of one stream: an answer names a record by
	// its index in the stream, an int32 as in every push answer. Past it the
	// stream ends with ResourceExhausted, every earlier record answered; the
	// client opens a new stream.
	Records int64
}

// DefaultStreamLimits are the bounds a stream runs with unless configured:
// eight messages keep the broker and both cores busy while the answers of
// earlier ones travel back, and 64 MiB is one largest message.
func DefaultStreamLimits() StreamLimits {
	return StreamLimits{InFlightMessages: 8, InFlightBytes: 64 << 20, Records: math.MaxInt32}
}

// WithStreamLimits bounds PushRecords streams; a zero field keeps its
// default (DefaultStreamLimits), and Records is at most math.MaxInt32.
func WithStreamLimits(l StreamLimits) Option {
	return func(s *Server) { s.streamLimits = l }
}

func (l StreamLimits) withDefaults() StreamLimits {
	d := DefaultStreamLimits()
	if l.InFlightMessages <= 0 {
		l.InFlightMessages = d.InFlightMessages
	}
	if l.InFlightBytes <= 0 {
		l.InFlightBytes = d.InFlightBytes
	}
	if l.Records <= 0 || l.Records > math.MaxInt32 {
		l.Records = d.Records
	}
	return l
}

// streamAuthInterceptor authenticates streams as authInterceptor does unary
// calls: the tenant of the API key in the metadata, or Unauthenticated
// before the handler reads anything.
func streamAuthInterceptor(s *Server) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		tenant, err := s.authorize(ss.Context(), authorization(ss.Context()), s.scopes[info.FullMethod])
		if err != nil {
			return err
		}
		return handler(srv, tenantStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), tenantKey{}, tenant)})
	}
}

type tenantStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (t tenantStream) Context() context.Context { return t.ctx }

// streamBatch is one message of a stream on its way through: read, ingested
// by its own goroutine, answered in turn.
type streamBatch struct {
	company *v1.Company
	records []*v1.StreamRecord
	wire    [][]byte // per record, its encoding as ingest writes it, or nil
	first   int      // the stream index of its first record
	weight  int64
	// prev is the company's batch read before this one; this one is
	// ingested only after it, so a company's records reach commerce.events
	// in the order they were sent, as the window's sealing by watermark
	// expects of one sender.
	prev *streamBatch
	done chan struct{} // closed when resp is set
	resp *v1.PushResponse
}

// PushRecords takes records as a stream and answers each message with a
// PushResponse, in order. Three parts run at once: this goroutine reads
// messages, one goroutine per message checks and writes its records
// (through ingest, as the unary and REST pushes do), and one answers. The
// semaphores bound what is read and not yet answered; messages of different
// companies are ingested side by side, a company's own in order.
func (s *Server) PushRecords(stream v1.DataService_PushRecordsServer) error {
	lim := s.streamLimits.withDefaults()
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	st := &pushStream{
		s: s, lim: lim,
		slots: semaphore.NewWeighted(int64(lim.InFlightMessages)),
		bytes: semaphore.NewWeighted(lim.InFlightBytes),
		queue: make(chan *streamBatch, lim.InFlightMessages),
	}
	answered := make(chan error, 1)
	go func() { answered <- st.answer(ctx, cancel, stream) }()
	err := st.receive(ctx, stream)
	close(st.queue)
	sendErr := <-answered
	if err == nil {
		err = sendErr
	}
	return err
}

type pushStream struct {
	s            *Server
	lim          StreamLimits
	slots, bytes *semaphore.Weighted
	queue        chan *streamBatch
}

// receive reads messages until the client closes its side, a message must
// end the stream, or the stream fails. It returns nil at the client's end.
func (st *pushStream) receive(ctx context.Context, stream v1.DataService_PushRecordsServer) error {
	var next int64
	// last holds each company's newest batch, for the next to wait on. It
	// is pruned of finished batches whenever it passes twice
	// InFlightMessages entries, so it stays that small on a stream that
	// names many companies.
	last := map[string]*streamBatch{}
	for {
		req := &sizedRequest{PushRecordsRequest: new(v1.PushRecordsRequest), size: -1}
		err := stream.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		c, err := st.companyOf(ctx, req.GetCompanyId())
		if err != nil {
			return err
		}
		n := len(req.GetRecords())
		if n > st.s.limits.BatchRecords {
			return status.Errorf(codes.InvalidArgument,
				"the message at record %d holds %d records; a message takes at most %d; split it into several messages (none of its records was taken)",
				next, n, st.s.limits.BatchRecords)
		}
		if next+int64(n) > st.lim.Records {
			return status.Errorf(codes.ResourceExhausted,
				"this stream has taken %d records and the next message holds %d; a stream takes at most %d (answers index records with an int32); open a new stream for the rest",
				next, n, st.lim.Records)
		}
		b := &streamBatch{company: c, records: req.GetRecords(), wire: req.wire, first: int(next), done: make(chan struct{})}
		size := req.size
		if size < 0 {
			size = proto.Size(req.PushRecordsRequest)
		}
		b.weight = min(int64(size), st.lim.InFlightBytes)
		if err := st.slots.Acquire(ctx, 1); err != nil {
			return streamEnded(err)
		}
		if err := st.bytes.Acquire(ctx, b.weight); err != nil {
			st.slots.Release(1)
			return streamEnded(err)
		}
		b.prev = last[c.GetId()]
		last[c.GetId()] = b
		if len(last) > 2*st.lim.InFlightMessages {
			pruneDone(last)
		}
		next += int64(n)
		// Never blocks: the queue holds as many batches as there are slots.
		st.queue <- b
		go st.ingest(ctx, b)
	}
}

// streamEnded is the status a stream ends with when waiting for room was cut
// short: the client's cancellation, or a failed answer.
func streamEnded(err error) error {
	return status.FromContextError(err).Err()
}

func pruneDone(last map[string]*streamBatch) {
	for id, b := range last {
		select {
		case <-b.done:
			delete(last, id)
		default:
		}
	}
}

// companyOf is the caller's company named by a message, or the status that
// ends the stream: NotFound for an unknown company or another tenant's.
func (st *pushStream) companyOf(ctx context.Context, id string) (*v1.Company, error) {
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "company_id: is required in every message; send the id of the company the message's records belong to")
	}
	return company(ctx, st.s.store, id)
}

// answer sends each batch's answer in the order the batches were read and
// gives their room back. After a failed send it goes on draining, so that
// nothing waits on it, and cancels the stream's context to stop the rest.
func (st *pushStream) answer(ctx context.Context, cancel context.CancelFunc, stream v1.DataService_PushRecordsServer) error {
	var err error
	for b := range st.queue {
		<-b.done
		if err == nil && ctx.Err() == nil {
			if err = stream.Send(b.resp); err != nil {
				cancel()
			}
		}
		// The receive loop may still hold b as its company's newest batch;
		// what it no longer needs is let go now rather than then.
		b.records, b.wire, b.resp = nil, nil, nil
		st.bytes.Release(b.weight)
		st.slots.Release(1)
	}
	return err
}

// ingest checks one batch's records and writes them after the company's
// previous batch, grouped by kind for ingest, and answers each record in
// the place it was sent.
func (st *pushStream) ingest(ctx context.Context, b *streamBatch) {
	defer close(b.done)
	s := st.s
	resp := &v1.PushResponse{Results: make([]*v1.RecordResult, len(b.records))}
	var (
		orders       []records.Item[*v1.Order]
		payments     []records.Item[*v1.Payment]
		transactions []records.Item[*v1.Transaction]
	)
	for i, r := range b.records {
		at := b.first + i
		var wire []byte
		if b.wire != nil {
			wire = b.wire[i]
		}
		switch x := r.GetRecord().(type) {
		case *v1.StreamRecord_Order:
			orders = append(orders, streamItem(at, x.Order, x.Order.GetId(), wire))
		case *v1.StreamRecord_Payment:
			payments = append(payments, streamItem(at, x.Payment, x.Payment.GetId(), wire))
		case *v1.StreamRecord_Transaction:
			transactions = append(transactions, streamItem(at, x.Transaction, x.Transaction.GetId(), wire))
		case *v1.StreamRecord_Delete:
			id := x.Delete.GetId()
			if fe := deleteProblem(x.Delete); fe != nil {
				resp.Results[i] = rejected(at, s.echoID(id), fe)
				continue
			}
			switch x.Delete.GetKind() {
			case v1.RecordKind_RECORD_KIND_ORDER:
				orders = append(orders, records.Item[*v1.Order]{Index: at, ID: id, Msg: &v1.Order{Id: id}, Delete: true})
			case v1.RecordKind_RECORD_KIND_PAYMENT:
				payments = append(payments, records.Item[*v1.Payment]{Index: at, ID: id, Msg: &v1.Payment{Id: id}, Delete: true})
			default:
				transactions = append(transactions, records.Item[*v1.Transaction]{Index: at, ID: id, Msg: &v1.Transaction{Id: id}, Delete: true})
			}
		default:
			resp.Results[i] = rejected(at, "", fieldErr("", "the record is empty; set one of order, payment, transaction or delete"))
		}
	}
	// Checking each record, the larger part of the work, waits for nothing;
	// writing waits for the company's previous batch to be written. Within
	// a message, each kind's records keep their order.
	records.ValidateItemsWithin(orders, s.limits)
	records.ValidateItemsWithin(payments, s.limits)
	records.ValidateItemsWithin(transactions, s.limits)
	if b.prev != nil {
		<-b.prev.done
		b.prev = nil // the chain is not kept alive by its newest batch
	}
	st.write(ctx, b, resp, [...]kindItems{
		{v1.RecordKind_RECORD_KIND_ORDER, pendingOf(orders)},
		{v1.RecordKind_RECORD_KIND_PAYMENT, pendingOf(payments)},
		{v1.RecordKind_RECORD_KIND_TRANSACTION, pendingOf(transactions)},
	})
	for _, r := range resp.Results {
		if r.GetStatus() == "Accepted" {
			resp.Accepted++
		} else {
			resp.Rejected++
		}
	}
	b.resp = resp
}

// kindItems are the validated records of one kind in a batch.
type kindItems struct {
	kind  v1.RecordKind
	items []pending
}

// write writes a batch's validated records as ingest does, each kind's as
// one push, but in one produce: orders, then payments, then transactions,
// all with the company's key and so in that order on its partition. Each
// answer goes in the place of its record.
func (st *pushStream) write(ctx context.Context, b *streamBatch, resp *v1.PushResponse, kinds [3]kindItems) {
	s := st.s
	var prepared [len(kinds)]*batch
	n := 0
	for _, g := range kinds {
		n += len(g.items)
	}
	out := make([]*kgo.Record, 0, n)
	for k, g := range kinds {
		if len(g.items) == 0 {
			continue
		}
		pb, err := s.prepare(b.company, g.kind, g.items)
		if err != nil {
			// Nothing of this kind is written: prepare fails before any of
			// it is produced.
			s.log.Error("stream records not ingested", "company", b.company.GetId(), "kind", g.kind.String(), "err", err)
			for _, it := range g.items {
				resp.Results[it.index-b.first] = rejected(it.index, it.id,
					fieldErr("", "the record could not be written (%v); send it again", err))
			}
			continue
		}
		prepared[k] = pb
		out = append(out, pb.out...)
	}
	results := s.prod.ProduceSync(ctx, out...)
	for _, pb := range prepared {
		if pb == nil {
			continue
		}
		s.settle(b.company, pb.resp, pb.outIdx, results[:len(pb.out)])
		results = results[len(pb.out):]
		for _, r := range pb.resp.GetResults() {
			resp.Results[int(r.GetIndex())-b.first] = r
		}
		pb.recycle()
	}
}

func streamItem[T proto.Message](at int, m T, id string, wire []byte) records.Item[T] {
	return records.Item[T]{Index: at, ID: id, Msg: m, Delete: records.IsDelete(m), Wire: wire}
}

// deleteProblem says what an explicit delete lacks; its id is then checked
// as every delete's is.
func deleteProblem(d *v1.RecordDelete) *v1.FieldError {
	switch d.GetKind() {
	case v1.RecordKind_RECORD_KIND_ORDER, v1.RecordKind_RECORD_KIND_PAYMENT, v1.RecordKind_RECORD_KIND_TRANSACTION:
	default:
		return fieldErr("kind", "%s is not a record kind to delete; send RECORD_KIND_ORDER, RECORD_KIND_PAYMENT or RECORD_KIND_TRANSACTION", d.GetKind())
	}
	if d.GetId() == "" {
		return fieldErr("id", "id is required; send the id of the record to delete")
	}
	return nil
}

// echoID is id as an answer repeats it: not at all past the id limit, so
// that the answer stays small (the index names the record), as
// records.ValidateItemsWithin does for the records it checks.
func (s *Server) echoID(id string) string {
	if len(id) > s.limits.IDBytes {
		return ""
	}
	return id
}

func rejected(at int, id string, errs ...*v1.FieldError) *v1.RecordResult {
	return &v1.RecordResult{Index: int32(at), Id: id, Status: "Rejected", Errors: errs}
}
