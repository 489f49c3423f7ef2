package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Batch limits (§2.4, §2.6).
const (
	// MaxBatchItems: "Batch POST /batch: ≤30 items per request" (§2.6).
	MaxBatchItems = 30
	// MaxBatchRequestIDLen and MaxBatchIDLen: "batch: max 36 chars, and
	// each bId ≤10 chars when a RequestID is used" (§2.4).
	MaxBatchRequestIDLen = 36
	MaxBatchIDLen        = 10
)

// batchItemIn is one BatchItemRequest entry: a bId and a Query, or an
// operation on an entity (§2.6), which the sandbox does not serve.
type batchItemIn struct {
	bID   string
	query *string
	op    string   // operation: create, update, delete
	other []string // entity properties (JournalEntry, ...)
}

// batchItemOut is one BatchItemResponse entry: {"bId":…,"QueryResponse":{…}}
// or {"bId":…,"Fault":{…}} (§2.6 shows the Fault form and an entity form;
// that a query answers with the /query QueryResponse object is not in the
// reference).
type batchItemOut struct {
	BID           string          `json:"bId"`
	QueryResponse json.RawMessage `json:"QueryResponse,omitempty"`
	Fault         *faultBody      `json:"Fault,omitempty"`
}

// runBatch answers POST /batch (§2.6): each item is answered on its own,
// so one bad query faults its item and not the batch. A batch that cannot
// be read, or breaks the item limits, is refused whole. Caller holds s.mu.
func (s *Server) runBatch(co *company, req *apiRequest) apiResponse {
	items, fe := decodeBatch(req.body, req.query.Get("requestid") != "")
	if fe != nil {
		return validationFault(co, req.now, *fe)
	}
	out := make([]batchItemOut, len(items))
	for i, it := range items {
		o, err := answerBatchItem(co, it, req.now)
		if err != nil {
			return systemFault(http.StatusInternalServerError, co, req.now)
		}
		out[i] = o
	}
	return jsonResponse(http.StatusOK, struct {
		BatchItemResponse []batchItemOut `json:"BatchItemResponse"`
		Time              string         `json:"time"`
	}{out, companyTime(co, req.now)})
}

func answerBatchItem(co *company, it batchItemIn, now time.Time) (batchItemOut, error) {
	out := batchItemOut{BID: it.bID}
	switch {
	case it.op != "" || len(it.other) > 0:
		// The sandbox's batch serves queries only; the wording follows the
		// sandbox's other unsupported routes (not in the reference).
		what := strings.TrimSpace(it.op + " " + strings.Join(it.other, ", "))
		out.Fault = &faultBody{Type: "ValidationFault", Error: []faultError{{
			Message: "Unsupported Operation", Detail: fmt.Sprintf("Batch operation %s is not supported.", what), Code: "500",
		}}}
		return out, nil
	case it.query == nil:
		out.Fault = &faultBody{Type: "ValidationFault", Error: []faultError{requiredParam("Query")}}
		return out, nil
	}
	qr, fe, err := evalQuery(co, *it.query, now)
	if err != nil {
		return out, err
	}
	if fe != nil {
		out.Fault = &faultBody{Type: "ValidationFault", Error: []faultError{*fe}}
		return out, nil
	}
	out.QueryResponse = qr
	return out, nil
}

// decodeBatch reads {"BatchItemRequest":[…]} and checks the item limits
// of §2.4 and §2.6. withRequestID applies the bId length limit, which
// holds "when a RequestID is used".
func decodeBatch(body []byte, withRequestID bool) ([]batchItemIn, *faultError) {
	var in struct {
		BatchItemRequest []map[string]json.RawMessage `json:"BatchItemRequest"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
		fe := invalidProperty(decodeProblem(err))
		return nil, &fe
	}
	if len(in.BatchItemRequest) == 0 {
		fe := requiredParam("BatchItemRequest")
		return nil, &fe
	}
	if n := len(in.BatchItemRequest); n > MaxBatchItems {
		// The limit is §2.6's; the fault's code and wording are not in the
		// reference (QBO's 2010 for an unsupported property value).
		return nil, &faultError{Message: "Request has invalid or unsupported property",
			Detail: fmt.Sprintf("BatchItemRequest: at most %d items are supported; supplied %d", MaxBatchItems, n), Code: "2010", Element: "BatchItemRequest"}
	}
	items := make([]batchItemIn, 0, len(in.BatchItemRequest))
	for _, raw := range in.BatchItemRequest {
		it, fe := batchItem(raw, withRequestID)
		if fe != nil {
			return nil, fe
		}
		if slices.ContainsFunc(items, func(x batchItemIn) bool { return x.bID == it.bID }) {
			// bIds pair answers with requests; a repeat is refused (the
			// fault is not in the reference).
			return nil, &faultError{Message: "Request has invalid or unsupported property",
				Detail: "bId " + it.bID + " is used by more than one BatchItemRequest", Code: "2010", Element: "bId"}
		}
		items = append(items, it)
	}
	return items, nil
}

func batchItem(raw map[string]json.RawMessage, withRequestID bool) (batchItemIn, *faultError) {
	var it batchItemIn
	if json.Unmarshal(raw["bId"], &it.bID) != nil || it.bID == "" {
		fe := requiredParam("bId")
		return it, &fe
	}
	if withRequestID && len(it.bID) > MaxBatchIDLen {
		fe := stringLength("bId", MaxBatchIDLen, len(it.bID))
		return it, &fe
	}
	for k, v := range raw {
		switch k {
		case "bId":
		case "operation":
			if json.Unmarshal(v, &it.op) != nil {
				fe := invalidProperty("operation")
				return it, &fe
			}
		case "Query":
			var q string
			if json.Unmarshal(v, &q) != nil {
				fe := invalidProperty("Query")
				return it, &fe
			}
			it.query = &q
		default:
			it.other = append(it.other, k)
		}
	}
	slices.Sort(it.other)
	return it, nil
}
